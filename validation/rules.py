"""Imports every rule module once, so the catalogue (``registry.RULES``) is complete."""
from . import (package, rules_adam, rules_adam_tables, rules_core, rules_design, rules_reference_dates,  # noqa: F401
               rules_relations, rules_results, rules_sdtm_tables, rules_structure, rules_subject, rules_timing,
               rules_trial)
