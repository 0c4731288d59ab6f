"""Raw export of the NKG2D CAR-T (KD-025) study in advanced NKG2DL+ solid tumours.

The layout is a REDCap project's per-instrument CSV export (lower_snake_case fields, event names such
as ``m3_arm_1``, ISO dates with ``UNK`` parts, checkbox fields ``name___k`` as 1/0, coded radio
fields) plus two vendor transfers in scientific notation: the central lab and the cellular-kinetics
lab. ``trialforge synth --study nkg2d-solid`` calls :func:`generate`.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ...errors import TrialforgeError
from ..rawfmt import write_form
from . import edc, vendors
from .course import build_subjects

DEFAULT_N = 20
DEFAULT_SEED = 20250600
MAX_SUBJECTS = 100_000

#: File stem -> builder, in the order the files are written.
FORMS = {
    "enrolment": edc.enrolment,
    "medical_history": edc.medical_history,
    "prior_cancer_therapy": edc.prior_therapy,
    "lymphodepletion": edc.lymphodepletion,
    "car_t_infusion": edc.car_t_infusion,
    "adverse_events": edc.adverse_events,
    "concomitant_medications": edc.concomitant_meds,
    "tumour_lesions": edc.tumour_lesions,
    "tumour_measurements": edc.tumour_measurements,
    "recist_response": edc.recist_response,
    "subject_status": edc.subject_status,
    "central_lab_transfer": vendors.lab_transfer,
    "cell_kinetics_transfer": vendors.pk_transfer,
}


def _check(subjects, seed) -> None:
    if isinstance(subjects, bool) or not isinstance(subjects, int) or not 1 <= subjects <= MAX_SUBJECTS:
        raise TrialforgeError(f"number of subjects must be an integer from 1 to {MAX_SUBJECTS}", value=subjects)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise TrialforgeError("seed must be a non-negative integer", value=seed)


def build_forms(subjects: int = DEFAULT_N, seed: int = DEFAULT_SEED) -> dict[str, pd.DataFrame]:
    """Every raw file in memory, keyed by file stem; every cell is text."""
    _check(subjects, seed)
    course = build_subjects(subjects, seed)
    return {name: build(course) for name, build in FORMS.items()}


def generate(subjects: int = DEFAULT_N, seed: int = DEFAULT_SEED, *, out_dir) -> list[Path]:
    """Write one CSV per instrument / transfer into ``out_dir``; same (subjects, seed) -> same bytes."""
    forms = build_forms(subjects, seed)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise TrialforgeError("output path exists and is not a directory", file=out)
    return [write_form(frame, out / f"{name}.csv") for name, frame in forms.items()]
