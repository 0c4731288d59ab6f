"""Two-sided Wilcoxon rank-sum (Mann-Whitney U) p-value without importing `scipy.stats`.

Why: `scipy.stats` costs ~2 s of CPU to import (every distribution is built at import), more than the
whole tables stage of a small study, and this test is its only use by a shipped catalogue. The p-value is
computed as `scipy.stats.mannwhitneyu(x, y, alternative="two-sided", method="auto")` computes it
(scipy 1.17; compared with it in tests/test_tables_rank_tests.py), with the same floating-point operations
in the same order, so the printed p-values are the same:

- U = max(U1, U2), U1 = R1 - n1 (n1 + 1) / 2 from mid-ranks (ties share the average rank);
- "auto": the exact null distribution when no value is tied and one sample has at most 8 values, else
  the normal approximation with tie correction and continuity correction (0.5 subtracted);
- exact: the frequencies of U from the recurrence of Harding (1984) / Loeffler (1983) on the divisor
  sums sigma(k) (scipy's `_MWU`), p = 2 P(U' <= n1 n2 - U); both p-values are clipped to [0, 1].
"""
from __future__ import annotations

import numpy as np
from scipy import special


def wilcoxon_rank_sum_p(x, y) -> float:
    """Two-sided p-value of the rank-sum test of samples `x` and `y` (no missing values, both non-empty)."""
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    n1, n2 = x.size, y.size
    if not n1 or not n2 or np.isnan(x).any() or np.isnan(y).any():
        raise ValueError("both samples need at least one value and no missing values")
    xy = np.concatenate([x, y])
    ranks, ties = _mid_ranks(xy)
    u1 = np.sum(ranks[:n1]) - n1 * (n1 + 1) / 2
    u = np.maximum(u1, n1 * n2 - u1)
    if (n1 > 8 and n2 > 8) or (ties > 1).any():
        n = n1 + n2
        tie_term = np.sum(ties ** 3 - ties)
        s = np.sqrt(n1 * n2 / 12 * ((n + 1) - tie_term / (n * (n - 1))))
        numerator = u - n1 * n2 / 2
        numerator -= 0.5
        with np.errstate(divide="ignore", invalid="ignore"):
            p = special.ndtr(-(numerator / s))
    else:
        p = _exact_sf(int(u), min(n1, n2), max(n1, n2))
    return float(np.clip(p * 2, 0.0, 1.0))


def _mid_ranks(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """1-based ranks with ties at their average rank, and the size of each group of equal values."""
    order = np.argsort(values, kind="mergesort")
    ordered = values[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    sizes = np.diff(np.r_[starts, ordered.size])
    mid = starts + (sizes + 1) / 2.0                     # average of ranks start+1 .. start+size
    ranks = np.empty(values.size, dtype=np.float64)
    ranks[order] = np.repeat(mid, sizes)
    return ranks, sizes.astype(np.float64)


def _exact_sf(u: int, n1: int, n2: int) -> float:
    """P(U' >= u) under the null for samples of n1 <= n2 values, u >= n1 n2 / 2: by symmetry the
    cumulative probability at n1 n2 - u."""
    k = n1 * n2 - u
    freqs = _u_frequencies(k, n1, n2)
    return float(np.cumsum(freqs / special.binom(n1 + n2, n1))[k])


def _u_frequencies(maxu: int, n1: int, n2: int) -> np.ndarray:
    """Number of rank configurations giving U = 0..maxu (unsigned integers while they fit, then floats)."""
    sigma = np.zeros(maxu + 1, dtype=int)
    for d in np.arange(1, n1 + 1):
        sigma[np.arange(d, maxu + 1, d)] += d
    for d in np.arange(n2 + 1, n2 + n1 + 1):
        sigma[np.arange(d, maxu + 1, d)] -= d
    sigma = sigma[1:]
    freqs = np.zeros(maxu + 1, dtype=np.uint64)
    is_uint, uint_max = True, np.iinfo(np.uint64).max
    freqs[0] = 1
    for v in np.arange(1, maxu + 1):
        new = np.dot(freqs[:v], sigma[v - 1::-1]) / v
        if new > uint_max and is_uint:
            freqs = freqs.astype(float)
            is_uint = False
        freqs[v] = new
    return freqs


__all__ = ["wilcoxon_rank_sum_p"]
