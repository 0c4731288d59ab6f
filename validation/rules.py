"""Imports every rule module once, so the catalogue (``registry.RULES``) is complete."""
from . import package, rules_adam, rules_core, rules_relations, rules_structure, rules_timing, rules_trial  # noqa: F401
