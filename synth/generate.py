"""Orchestration: build every raw form from one seed and write one CSV per form.

Each builder draws from its own random stream (``default_rng([seed, k])``) so adding or changing
one form never shifts the values of another.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import TrialforgeError
from . import forms as F
from .adverse_events import build_ae_events, format_ae
from .labs import build_cytokines, build_safety_labs
from .rawfmt import write_form
from .subjects import build_subjects, build_visits
from .tumour import build_tumour, format_rs, format_tr, format_tu

DEFAULT_N = 46
DEFAULT_SEED = 20250930
MAX_SUBJECTS = 1_000_000

#: Form file stem -> EDC form title, in the order the files are written.
FORMS = {
    "dm": "Enrolment and Demography",
    "ie": "Eligibility Criteria",
    "ihc": "CD70 Immunohistochemistry",
    "mh": "Medical History",
    "prior_tx": "Prior Anticancer Therapy",
    "sv": "Visit Log",
    "ecog": "ECOG Performance Status",
    "ex_ld": "Lymphodepletion Administration",
    "ex_cart": "CAR-T Infusion",
    "ae": "Adverse Events",
    "lb": "Local Laboratory - Haematology and Chemistry",
    "cyto": "Cytokines and Inflammatory Markers",
    "pc": "CAR-T Cellular Kinetics (Central Lab)",
    "ada": "Anti-CAR Antibodies (Central Lab)",
    "tu": "Tumour Lesion Identification",
    "tr": "Tumour Lesion Measurements",
    "rs": "Investigator Response Assessment (RECIST 1.1)",
    "subseq_tx": "Subsequent Anticancer Therapy",
    "ds": "Disposition",
    "death": "Death Report",
}


def _check(subjects, seed) -> tuple[int, int]:
    if isinstance(subjects, bool) or not isinstance(subjects, int) or not 1 <= subjects <= MAX_SUBJECTS:
        raise TrialforgeError(f"number of subjects must be an integer from 1 to {MAX_SUBJECTS}", value=subjects)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise TrialforgeError("seed must be a non-negative integer", value=seed)
    return subjects, seed


def build_forms(subjects: int = DEFAULT_N, seed: int = DEFAULT_SEED) -> dict[str, pd.DataFrame]:
    """All raw forms in memory, keyed by file stem (see ``FORMS``); every cell is text."""
    n, seed = _check(subjects, seed)
    s = build_subjects(n, seed)
    v = build_visits(s, seed)
    _sub, tu, tr, rs, course = build_tumour(s, v, seed)
    lab, lab_ae = build_safety_labs(s, v, seed)
    cy = build_cytokines(s, v, seed)
    ae_events = build_ae_events(s, lab_ae, seed)
    out = {
        "dm": F.build_dm(s, seed), "ie": F.build_ie(s), "ihc": F.build_ihc(s, seed), "mh": F.build_mh(s, seed),
        "prior_tx": F.build_prior_therapy(s, seed), "sv": F.build_sv(s, v, seed),
        "ecog": F.build_ecog(s, v, course, seed), "ex_ld": F.build_ex_ld(s, seed), "ex_cart": F.build_ex_cart(s, seed),
        "ae": format_ae(ae_events, s, seed), "lb": F.build_lb(s, lab), "cyto": F.build_cyto(s, cy),
        "pc": F.build_pc(s, v, seed), "ada": F.build_ada(s, v, seed),
        "tu": format_tu(s, tu), "tr": format_tr(s, tr), "rs": format_rs(s, rs),
        "subseq_tx": F.build_subsequent_therapy(s, course, seed), "ds": F.build_ds(s),
        "death": F.build_death(s, ae_events, seed),
    }
    return {k: out[k].reset_index(drop=True) for k in FORMS}


def generate(subjects: int = DEFAULT_N, seed: int = DEFAULT_SEED, *, out_dir) -> list[Path]:
    """Write one CSV per raw CRF form into ``out_dir``; return the paths in ``FORMS`` order.

    Same (subjects, seed) -> byte-identical files.
    """
    forms = build_forms(subjects, seed)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise TrialforgeError("output path exists and is not a directory", file=out)
    return [write_form(frame, out / f"{name}.csv") for name, frame in forms.items()]
