"""Raw export of the bundled CD7 CAR-T haematology study (``trialforge synth --study cd7-heme``).

A phase I, single-arm, open-label dose escalation of autologous CD7-targeted CAR-T cells in
relapsed/refractory CD7+ T-ALL, T-LBL and AML at one site: Medidata-Rave-like site forms plus three
vendor transfers (central lab, cellular kinetics / flow cytometry, immunogenicity). The same
(subjects, seed) give byte-identical files; ``DEFAULT_N``/``DEFAULT_SEED`` give ``examples/cd7-heme/raw``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ...errors import TrialforgeError
from ..rawfmt import write_form
from . import forms as F
from . import vendor as V
from .course import build_subjects
from .events import build_aes, build_meds

DEFAULT_N = 11          # 9 treated + 2 screen failures
DEFAULT_SEED = 20260514
MAX_SUBJECTS = 100_000

#: File stem -> (form title, row builder). Site forms take (subject, rng); vendor files take (subject, seed).
SITE_FORMS = {
    "DM": F.dm, "ENR": F.enr, "DX": F.dx, "MH": F.mh, "PRIORTX": F.priortx,
    "LD": F.ld, "CART": F.cart, "AE": None, "CM": None, "SUBTX": F.subtx, "HSCT": F.hsct,
    "BMA": None, "RESP": None, "EOS": F.eos, "DD": F.dd, "SURV": F.surv,
}
TREATED_ONLY = {"LD", "CART", "AE", "CM", "SUBTX", "HSCT", "RESP", "SURV"}
VENDOR_FILES = {"LAB_CENTRAL": V.lab, "CK_FLOW": V.flow, "ADA_RESULTS": V.ada}
FORMS = list(SITE_FORMS) + list(VENDOR_FILES)


def _check(subjects, seed) -> None:
    if isinstance(subjects, bool) or not isinstance(subjects, int) or not 1 <= subjects <= MAX_SUBJECTS:
        raise TrialforgeError(f"number of subjects must be an integer from 1 to {MAX_SUBJECTS}", value=subjects)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise TrialforgeError("seed must be a non-negative integer", value=seed)


def build_forms(subjects: int = DEFAULT_N, seed: int = DEFAULT_SEED) -> dict[str, pd.DataFrame]:
    """All raw files in memory, keyed by file stem (``FORMS`` order); every cell is text."""
    _check(subjects, seed)
    rows: dict[str, list[dict]] = {name: [] for name in FORMS}
    for s in build_subjects(subjects, seed):
        rng = np.random.default_rng([seed, 6, s.index])
        for name, build in SITE_FORMS.items():
            if name in TREATED_ONLY and not s.treated:
                continue
            if name == "AE":
                aes = build_aes(s, seed)
                rows["AE"] += F.ae(s, aes, rng)
                rows["CM"] += F.cm(s, build_meds(s, aes), rng)
            elif name == "BMA":
                bm, rs = F.bma_and_resp(s, rng) if s.treated else ([], [])
                rows["BMA"] += bm
                rows["RESP"] += rs
            elif build is not None:
                rows[name] += build(s, rng)
        for name, build in VENDOR_FILES.items():
            rows[name] += build(s, seed)
    return {name: pd.DataFrame(rows[name], dtype=object) for name in FORMS}


def generate(subjects: int = DEFAULT_N, seed: int = DEFAULT_SEED, *, out_dir) -> list[Path]:
    """Write one CSV per raw form / vendor transfer into ``out_dir``; return the paths in ``FORMS`` order."""
    frames = build_forms(subjects, seed)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise TrialforgeError("output path exists and is not a directory", file=out)
    return [write_form(frame, out / f"{name}.csv") for name, frame in frames.items()]
