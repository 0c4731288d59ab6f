"""How this EDC writes values: ISO dates '2025-03-04' with 'UNK' for unknown parts, 'HH:MM' times,
checkbox fields as 1/0, and the lab/PK vendors' scientific notation ('1.23E+04')."""
from __future__ import annotations

import numpy as np

EPOCH = np.datetime64("1970-01-01")


def iso(day, prec: int = 0) -> str:
    """'2025-03-04'; prec 1 -> '2025-03-UNK', prec 2 -> '2025-UNK-UNK'; None -> ''."""
    if day is None:
        return ""
    text = str(EPOCH + np.timedelta64(int(day), "D"))
    if prec == 2:
        return text[:4] + "-UNK-UNK"
    if prec == 1:
        return text[:7] + "-UNK"
    return text


def hhmm(minutes) -> str:
    if minutes is None:
        return ""
    m = int(round(minutes)) % (24 * 60)
    return f"{m // 60:02d}:{m % 60:02d}"


def sci(value: float, digits: int = 3) -> str:
    """Vendor LIMS style: three significant digits in E-notation, '4.52E+00'."""
    return f"{value:.{digits - 1}E}"


def box(flag) -> str:
    return "1" if flag else "0"
