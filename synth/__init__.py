"""Deterministic generator of a realistic raw EDC export for the bundled CD70 CAR-T example study.

``generate(subjects, seed, out_dir=...)`` writes one CSV per CRF form; ``build_forms`` returns them
in memory. Forms and columns are documented in docs/raw_forms.md.
"""
from .generate import DEFAULT_N, DEFAULT_SEED, FORMS, build_forms, generate

__all__ = ["DEFAULT_N", "DEFAULT_SEED", "FORMS", "build_forms", "generate"]
