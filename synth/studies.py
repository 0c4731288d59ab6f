"""Which generator writes which bundled study's raw export (`trialforge synth --study NAME`).

Each entry names a module with ``generate(subjects, seed, *, out_dir) -> list[Path]`` and the
module-level ``DEFAULT_N`` / ``DEFAULT_SEED`` that reproduce the study's bundled raw/ folder. Modules
are imported only when chosen, so one study's generator never slows another's.
"""
from __future__ import annotations

import importlib

from ..errors import TrialforgeError

STUDIES: dict[str, str] = {
    "cd70-cart": "trialforge.synth.generate",
    "nkg2d-solid": "trialforge.synth.nkg2d_solid",
    "cd7-heme": "trialforge.synth.cd7_heme",
}
DEFAULT_STUDY = "cd70-cart"


def generator(name: str):
    """The generator module of a bundled study, or a clear error listing the known names."""
    if name not in STUDIES:
        raise TrialforgeError(f"unknown study {name!r}; known: {', '.join(sorted(STUDIES))}", value=name)
    return importlib.import_module(STUDIES[name])
