"""Medidata-Rave-like text formatting for the CD7 study export.

Dates are ``DD/MM/YYYY`` with ``UN``/``UNK`` for parts the site did not know (``UN/06/2019``,
``UN/UNK/1985``); times are ``HH:MM``; checkboxes are ``1``/``0``. The vendor transfers use their own
styles (ISO 8601 dates, ``DD-MON-YYYY``) and scientific-notation results such as ``1.52E+05``.
Dates inside the generator are integer day numbers (days since 1970-01-01).
"""
from __future__ import annotations

import numpy as np

EPOCH = np.datetime64("1970-01-01")
MON = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]


def day(iso: str) -> int:
    """Day number of an ISO date."""
    return int((np.datetime64(iso, "D") - EPOCH).astype(int))


def _parts(d: int) -> tuple[str, str, str]:
    iso = str(EPOCH + np.timedelta64(int(d), "D"))
    return iso[:4], iso[5:7], iso[8:10]


def rave_date(d, precision: int = 0) -> str:
    """'04/03/2025' (DD/MM/YYYY); precision 1 -> 'UN/03/2025', 2 -> 'UN/UNK/2025'; None -> ''."""
    if d is None:
        return ""
    y, m, dd = _parts(d)
    if precision == 2:
        return f"UN/UNK/{y}"
    if precision == 1:
        return f"UN/{m}/{y}"
    return f"{dd}/{m}/{y}"


def iso_date(d) -> str:
    """'2025-03-04' (lab vendor style); None -> ''."""
    if d is None:
        return ""
    y, m, dd = _parts(d)
    return f"{y}-{m}-{dd}"


def iso_datetime(d, minutes) -> str:
    """'2025-03-04T07:30' (flow/PK vendor style)."""
    return f"{iso_date(d)}T{hhmm(minutes)}"


def vendor_date(d) -> str:
    """'04-MAR-2025' (immunogenicity lab style)."""
    y, m, dd = _parts(d)
    return f"{dd}-{MON[int(m) - 1]}-{y}"


def hhmm(minutes) -> str:
    """'HH:MM' from minutes after midnight; None -> ''."""
    if minutes is None:
        return ""
    m = int(round(minutes))
    return f"{(m // 60) % 24:02d}:{m % 60:02d}"


def sci(value: float, digits: int = 3) -> str:
    """Vendor scientific notation with ``digits`` significant figures: 152000 -> '1.52E+05'."""
    return f"{value:.{digits - 1}E}"


def box(flag) -> str:
    """Rave checkbox value."""
    return "1" if flag else "0"
