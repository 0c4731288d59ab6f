"""Summary statistics for CSR tables: counts, descriptive and exact binomial statistics.

Each function takes plain numbers or a numeric Series and returns numbers; formatting to cell text
lives in `fmt.py`, so tests can check the arithmetic apart from the layout.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special as _sp     # not scipy.stats: its import alone costs ~2 s of CPU


@dataclass(frozen=True)
class Descriptive:
    """n, mean, SD, median, min, max of the non-missing values (SD uses n-1, as PROC MEANS)."""

    n: int
    mean: float
    sd: float
    median: float
    min: float
    max: float
    q1: float
    q3: float


def _finite_floats(values) -> np.ndarray:
    """The non-missing values as float64, in order (a float array is used as it is)."""
    raw = values.to_numpy() if isinstance(values, pd.Series) else values
    if isinstance(raw, np.ndarray) and raw.dtype == np.float64:
        return raw[~np.isnan(raw)]
    return pd.to_numeric(pd.Series(values, dtype="float64"), errors="coerce").dropna().to_numpy()


def describe(values) -> Descriptive:
    """Descriptive statistics; NaN for statistics that need more values than there are."""
    x = _finite_floats(values)
    n = int(x.size)
    if n == 0:
        nan = float("nan")
        return Descriptive(0, nan, nan, nan, nan, nan, nan, nan)
    sd = float(np.std(x, ddof=1)) if n > 1 else float("nan")
    # SAS default quantile definition (QNTLDEF=5): empirical distribution with averaging
    q1, q3 = (_sas_pctl5(x, p) for p in (0.25, 0.75))
    return Descriptive(n, float(np.mean(x)), sd, float(np.median(x)), float(x.min()), float(x.max()), q1, q3)


def _sas_pctl5(x: np.ndarray, p: float) -> float:
    """Percentile by SAS definition 5 (the PROC MEANS/UNIVARIATE default)."""
    s = np.sort(x)
    n = s.size
    np_ = n * p
    j = int(math.floor(np_))
    if np_ == j:
        return float((s[j - 1] + s[j]) / 2) if j >= 1 else float(s[0])
    return float(s[j])


@dataclass(frozen=True)
class Geometric:
    """Geometric mean and geometric CV% of the positive values (non-positive values are excluded)."""

    n: int
    gmean: float
    gcv: float


def geometric(values) -> Geometric:
    """Geometric mean exp(mean(log x)) and geometric CV% = sqrt(exp(s^2) - 1) * 100, s = SD(log x)."""
    x = _finite_floats(values)
    x = x[x > 0]
    n = int(x.size)
    if n == 0:
        return Geometric(0, float("nan"), float("nan"))
    logs = np.log(x)
    gmean = float(np.exp(np.mean(logs)))
    gcv = float(np.sqrt(np.exp(np.var(logs, ddof=1)) - 1.0) * 100.0) if n > 1 else float("nan")
    return Geometric(n, gmean, gcv)


def clopper_pearson(x: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    """Exact (Clopper-Pearson) confidence interval for a binomial proportion, from beta quantiles
    (the inverse regularised incomplete beta function: what `scipy.stats.beta.ppf` evaluates)."""
    if n <= 0:
        return float("nan"), float("nan")
    lower = 0.0 if x == 0 else float(_sp.betaincinv(x, n - x + 1, alpha / 2))
    upper = 1.0 if x == n else float(_sp.betaincinv(x + 1, n - x, 1 - alpha / 2))
    return lower, upper


def percent(count: int, denom: int) -> float:
    """Percentage, NaN when the denominator is zero."""
    return float("nan") if denom == 0 else 100.0 * count / denom
