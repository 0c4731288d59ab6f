"""Spec functions for trial-design derivations the expression language cannot say yet.

SE needs element boundaries such as "the day after the CAR-T infusion" (the start of follow-up when
the FOLLOW-UP epoch starts the day after RFXENDTC): a date shifted by whole days. Requested as an
expression function in /work/notes/engine_requests.md; until then specs call ``iso_date_shift``.
"""
from __future__ import annotations

import pandas as pd

from ..errors import SpecError
from .dates import iso_date_part
from .functions import register


@register("iso_date_shift")
def iso_date_shift(frame: pd.DataFrame, date: str, days: int = 0) -> pd.Series:
    """The complete date part of an ISO 8601 --DTC column moved by ``days`` (YYYY-MM-DD); partial → blank."""
    if date not in frame.columns:
        raise SpecError(f"iso_date_shift: column {date!r} is not in the raw data or assigned yet", column=date)
    shifted = iso_date_part(frame[date]) + pd.to_timedelta(int(days), unit="D")
    return shifted.dt.strftime("%Y-%m-%d").where(shifted.notna(), "").astype(object)
