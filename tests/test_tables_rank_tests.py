"""The tables' statistics without scipy.stats, against scipy.stats itself (the independent oracle):
the rank-sum p-value (exact and normal branches, ties), Clopper-Pearson limits and the KM z quantile must be
the same floats, so every printed p-value and interval is unchanged."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from scipy import stats

from trialforge.tables.km import kaplan_meier
from trialforge.tables.rank_tests import wilcoxon_rank_sum_p
from trialforge.tables.stats import clopper_pearson


def _samples():
    rng = np.random.default_rng(15)
    out = [([1.0], [2.0]), ([3.0], [3.0]), ([1, 2, 3], [4, 5, 6]), ([4, 5, 6], [1, 2, 3]),
           ([1, 2, 2, 3], [2, 3, 3, 9]), ([0.5] * 5, [0.5] * 7)]
    for n1, n2 in [(2, 3), (5, 8), (8, 8), (8, 40), (3, 200), (9, 9), (12, 30), (40, 37), (300, 700)]:
        out.append((rng.normal(size=n1), rng.normal(0.3, 1, size=n2)))             # no ties: exact if min <= 8
        out.append((rng.integers(0, 6, n1).astype(float), rng.integers(0, 9, n2).astype(float)))   # ties
        out.append((np.round(rng.uniform(0, 100, n1), 0), np.round(rng.uniform(0, 100, n2), 0)))
    return out


@pytest.mark.parametrize("x,y", _samples())
def test_rank_sum_p_equals_scipy(x, y):
    want = float(stats.mannwhitneyu(x, y, alternative="two-sided", method="auto").pvalue)
    assert wilcoxon_rank_sum_p(x, y) == want


def test_rank_sum_by_hand():
    # x = {1, 2}, y = {3, 4, 5}: U1 = 0, U = 6 = n1 n2; exact: 2 * P(U <= 0) = 2 / C(5, 2) = 0.2
    assert wilcoxon_rank_sum_p([1, 2], [3, 4, 5]) == pytest.approx(0.2, abs=1e-15)
    with pytest.raises(ValueError):
        wilcoxon_rank_sum_p([], [1.0])


@pytest.mark.parametrize("n", [1, 2, 7, 40, 99, 1000])
def test_clopper_pearson_equals_scipy_beta(n):
    for x in range(0, n + 1, max(1, n // 25)):
        lo = 0.0 if x == 0 else float(stats.beta.ppf(0.025, x, n - x + 1))
        hi = 1.0 if x == n else float(stats.beta.ppf(0.975, x + 1, n - x))
        assert clopper_pearson(x, n) == (lo, hi)


def test_clopper_pearson_by_hand():
    # x = 0: the upper limit solves (1 - p)^n = alpha / 2 -> 1 - 0.025^(1/n)
    assert clopper_pearson(0, 10)[1] == pytest.approx(1 - 0.025 ** 0.1, rel=1e-12)


def test_km_interval_uses_the_normal_quantile():
    fit = kaplan_meier([1, 2, 3, 4, 5, 6, 7, 8], [1, 0, 1, 1, 0, 1, 0, 1])
    z = float(stats.norm.ppf(0.975))
    s, se = fit.table["surv"].to_numpy()[1:], fit.table["se"].to_numpy()[1:]
    # the log-log interval of the first step, from z, S and SE(S) (Kalbfleisch-Prentice)
    with np.errstate(divide="ignore", invalid="ignore"):
        lo = s ** np.exp(z * se / (s * np.abs(np.log(s))))
    assert fit.table["lower"].to_numpy()[1] == pytest.approx(lo[0], rel=1e-12)


def test_tables_do_not_import_scipy_stats_or_rtflite():
    """Importing the tables stage and measuring a text width loads neither scipy.stats (~2 s) nor rtflite
    with its pydantic and polars (~0.5 s)."""
    code = ("import sys, trialforge.tables.build, trialforge.tables.figures; "
            "from trialforge.tables.rtf_metrics import string_width_in; string_width_in('x'); "
            "print(sorted(m for m in ('scipy.stats', 'rtflite', 'polars', 'pydantic') if m in sys.modules))")
    got = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert got.stdout.strip() == "[]"
