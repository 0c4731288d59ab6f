"""Imports every rule module once, so the catalogue (``registry.RULES``) is complete."""
from . import rules_core, rules_structure, rules_timing, rules_relations, rules_trial, rules_adam  # noqa: F401
