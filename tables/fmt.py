"""Cell text formats used by every table: one place decides how a number looks.

Rounding is half away from zero (as SAS's ROUND and PUT with w.d formats), not Python's
round-half-to-even, so a value of 2.25 shows as 2.3 in every output.
"""
from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

NE = "NE"          # not estimable
MISSING = "-"      # statistic not computable (no data)


def num(x, decimals: int = 1) -> str:
    """Fixed decimals, half away from zero; '-' for missing."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return MISSING
    q = Decimal(1).scaleb(-decimals) if decimals > 0 else Decimal(1)
    d = Decimal(repr(float(x))).quantize(q, rounding=ROUND_HALF_UP)
    if d == 0:
        d = abs(d)  # no "-0.0"
    return f"{d:.{decimals}f}"


def sig(x, digits: int = 3) -> str:
    """Significant figures, half away from zero, without exponent notation: 12345 -> '12300'."""
    if _nan(x):
        return MISSING
    if x == 0:
        return "0"
    d = Decimal(repr(float(x)))
    exp = d.adjusted()                       # power of ten of the leading digit
    places = digits - 1 - exp
    q = Decimal(1).scaleb(-places)
    r = d.quantize(q, rounding=ROUND_HALF_UP)
    if r.adjusted() > exp:                   # 9.995 -> 10.0: one digit fewer after the point
        places -= 1
        r = d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return f"{r:.{max(places, 0)}f}"


def n_pct(count: int, denom: int, decimals: int = 1) -> str:
    """'n (x.x)'; zero counts print as '0' (common CSR convention: no '0 (0.0)')."""
    if count == 0 or denom == 0:
        return "0"
    return f"{count} ({num(100.0 * count / denom, decimals)})"


def mean_sd(mean, sd, decimals: int = 1) -> str:
    return f"{num(mean, decimals)} ({num(sd, decimals + 1)})" if not _nan(mean) else MISSING


def range_(lo, hi, decimals: int = 0) -> str:
    return f"{num(lo, decimals)}, {num(hi, decimals)}" if not _nan(lo) else MISSING


def est_ci(est, lo, hi, decimals: int = 1, ne: str = NE) -> str:
    """'est (lo, hi)' with NE for a bound that cannot be estimated."""
    def f(v):
        return ne if _nan(v) else num(v, decimals)
    return f"{f(est)} ({f(lo)}, {f(hi)})"


def median_range(med, lo, hi, decimals: int = 1, range_decimals: int | None = None) -> str:
    """'median (min, max)'; min/max default to the median's decimals."""
    if _nan(med):
        return MISSING
    rd = decimals if range_decimals is None else range_decimals
    return f"{num(med, decimals)} ({num(lo, rd)}, {num(hi, rd)})"


def pvalue(p: float) -> str:
    """p-values to 3 decimals, '<0.001' below."""
    return "<0.001" if p < 0.0005 else num(p, 3)


def _nan(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))
