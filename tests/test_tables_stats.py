"""Statistics, formats and 3+3 rules of the tables layer, against hand-worked numbers and scipy."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import binomtest, norm

from trialforge.tables import fmt
from trialforge.tables.escalation import (DEESCALATE, ESCALATE, EXPAND, FILL3, FILL6, decide, mtd)
from trialforge.tables.km import kaplan_meier, quantile, survival_at
from trialforge.tables.stats import clopper_pearson, describe, geometric

# Hand-worked KM example.
#   time : 2  3  3  5  6  8  9  12
#   event: 1  1  0  1  0  1  1  0
# event time  n at risk  d   S(t)                      Greenwood sum d/(n(n-d))
#   2           8        1   7/8            = 0.875    1/56                 = 0.017857
#   3           7        1   0.875 * 6/7    = 0.75     + 1/42 = 0.041667   (the subject censored at 3 is at risk at 3)
#   5           5        1   0.75 * 4/5     = 0.60     + 1/20 = 0.091667
#   8           3        1   0.60 * 2/3     = 0.40     + 1/6  = 0.258333
#   9           2        1   0.40 * 1/2     = 0.20     + 1/2  = 0.758333
# Median: first time with S <= 0.5 -> 8.
# Brookmeyer-Crowley with g = log(-log S), g(0.5) = -0.366513, statistic (g(S) - g(0.5)) / (sigma / |log S|):
#   t=2: (-2.013369 + 0.366513) / 1.000749 = -1.646    inside |z| <= 1.96
#   t=3: (-1.245899 + 0.366513) / 0.709546 = -1.239    inside
#   t=5: (-0.671727 + 0.366513) / 0.592700 = -0.515    inside
#   t=8: (-0.087422 + 0.366513) / 0.554699 =  0.503    inside
#   t=9: ( 0.475885 + 0.366513) / 0.541072 =  1.557    inside
# -> lower limit 2; no event time after the last one inside -> upper limit not estimable.
HAND_T = [2, 3, 3, 5, 6, 8, 9, 12]
HAND_E = [1, 1, 0, 1, 0, 1, 1, 0]
HAND_S = {2: 0.875, 3: 0.75, 5: 0.6, 8: 0.4, 9: 0.2}
HAND_GW = {2: 1 / 56, 3: 1 / 56 + 1 / 42, 5: 1 / 56 + 1 / 42 + 1 / 20, 8: 1 / 56 + 1 / 42 + 1 / 20 + 1 / 6,
           9: 1 / 56 + 1 / 42 + 1 / 20 + 1 / 6 + 1 / 2}


def test_km_survival_and_greenwood_match_hand_example():
    fit = kaplan_meier(HAND_T, HAND_E)
    tab = fit.table.set_index("time")
    for t, s in HAND_S.items():
        assert tab.loc[t, "surv"] == pytest.approx(s)
        assert tab.loc[t, "se"] == pytest.approx(s * math.sqrt(HAND_GW[t]))
    assert tab.loc[3, "n_risk"] == 7 and tab.loc[3, "n_censor"] == 1
    assert (fit.n_events, fit.n_censored) == (5, 3)


def test_km_loglog_pointwise_ci_by_formula():
    s, gw, z = 0.6, HAND_GW[5], norm.ppf(0.975)
    theta = z * math.sqrt(gw) / math.log(s)          # S^exp(+-theta)
    est, lo, hi = survival_at(kaplan_meier(HAND_T, HAND_E), 5.5)   # step value between 5 and 8
    assert est == pytest.approx(0.6)
    assert lo == pytest.approx(s ** math.exp(-theta))
    assert hi == pytest.approx(s ** math.exp(theta))
    assert 0.19 < lo < 0.20 and 0.85 < hi < 0.86      # 0.1955, 0.8523 by hand


def test_km_median_brookmeyer_crowley_hand_example():
    med, lo, hi = quantile(kaplan_meier(HAND_T, HAND_E), 0.5)
    assert med == 8 and lo == 2 and math.isnan(hi)


def test_km_median_flat_at_half_takes_midpoint():
    # S = 1/2 exactly after t=2 (n=2: events at 2 and 6) -> median = (2 + 6) / 2 = 4
    med, _, _ = quantile(kaplan_meier([2, 6], [1, 1]), 0.5)
    assert med == 4


def test_km_landmark_beyond_follow_up_is_not_estimable():
    assert math.isnan(survival_at(kaplan_meier(HAND_T, HAND_E), 13)[0])


def test_km_agrees_with_lifelines_on_random_data():
    lifelines = pytest.importorskip("lifelines")
    from lifelines.utils import median_survival_times
    rng = np.random.default_rng(7)
    for _ in range(8):
        n = int(rng.integers(10, 60))
        t = np.round(rng.exponential(200, n))
        e = (rng.random(n) < 0.7).astype(int)
        ours = quantile(kaplan_meier(t, e), 0.5)
        kmf = lifelines.KaplanMeierFitter().fit(t, e)
        ref = median_survival_times(kmf.confidence_interval_).to_numpy()[0]
        assert ours[0] == pytest.approx(kmf.median_survival_time_, nan_ok=True)
        assert ours[1] == pytest.approx(ref[0], nan_ok=True) or (math.isnan(ours[1]) and np.isinf(ref[0]))
        assert ours[2] == pytest.approx(ref[1]) or (math.isnan(ours[2]) and np.isinf(ref[1]))


@pytest.mark.parametrize("x,n", [(0, 3), (1, 3), (3, 3), (2, 6), (8, 21), (0, 1), (17, 40)])
def test_clopper_pearson_matches_scipy_binomtest(x, n):
    ref = binomtest(x, n).proportion_ci(confidence_level=0.95, method="exact")
    lo, hi = clopper_pearson(x, n)
    assert lo == pytest.approx(ref.low, abs=1e-12) and hi == pytest.approx(ref.high, abs=1e-12)


def test_geometric_mean_and_cv_by_hand():
    # logs of 10, 20, 40: mean ln 20 -> geometric mean 20; deviations -ln2, 0, ln2 -> s^2 = ln(2)^2
    # CV% = sqrt(exp(ln(2)^2) - 1) * 100 = sqrt(exp(0.480453) - 1) * 100 = sqrt(0.616807) * 100 = 78.54
    g = geometric([10, 20, 40])
    assert g.gmean == pytest.approx(20.0)
    assert g.gcv == pytest.approx(math.sqrt(math.exp(math.log(2) ** 2) - 1) * 100)
    assert round(g.gcv, 2) == 78.54
    assert geometric([0, -1, 5]).n == 1   # non-positive values cannot be logged


def test_describe_uses_n_minus_1_and_sas_quartiles():
    d = describe([1, 2, 3, 4, None])
    assert (d.n, d.mean, d.median, d.min, d.max) == (4, 2.5, 2.5, 1, 4)
    assert d.sd == pytest.approx(math.sqrt(5 / 3))
    assert (d.q1, d.q3) == (1.5, 3.5)      # n*p = 1 and 3 are integers -> average of neighbours


@pytest.mark.parametrize("x,d,text", [(2.25, 1, "2.3"), (0.125, 2, "0.13"), (-0.04, 1, "0.0"), (1e9, 0, "1000000000"),
                                      (float("nan"), 1, "-")])
def test_rounding_is_half_away_from_zero(x, d, text):
    assert fmt.num(x, d) == text


def test_count_formats():
    assert fmt.n_pct(1, 3) == "1 (33.3)" and fmt.n_pct(0, 3) == "0" and fmt.n_pct(3, 3) == "3 (100.0)"
    assert fmt.sig(22931.08, 3) == "22900" and fmt.sig(0.012345, 3) == "0.0123" and fmt.sig(9.995, 3) == "10.0"


@pytest.mark.parametrize("n,d,decision", [
    (3, 0, ESCALATE), (3, 1, EXPAND), (3, 2, DEESCALATE), (3, 3, DEESCALATE),
    (6, 0, ESCALATE), (6, 1, ESCALATE), (6, 2, DEESCALATE), (6, 4, DEESCALATE),
    (2, 0, FILL3), (2, 1, FILL3), (2, 2, DEESCALATE), (5, 1, FILL6), (4, 2, DEESCALATE), (0, 0, FILL3),
])
def test_three_plus_three_rules(n, d, decision):
    assert decide(n, d) == decision


def test_three_plus_three_rejects_more_dlts_than_subjects():
    with pytest.raises(ValueError):
        decide(3, 4)


@pytest.mark.parametrize("levels,text", [
    ([("DL1", 3, 0), ("DL2", 6, 1), ("DL3", 6, 2)], "MTD DL2 (recommended dose)"),
    ([("DL1", 3, 0), ("DL2", 3, 2)], "MTD candidate DL1: expand to 6 to confirm"),
    ([("DL1", 3, 0), ("DL2", 3, 1)], "MTD not reached; highest cleared dose level DL1"),
    ([("DL1", 3, 2)], "MTD not established: lowest dose level DL1 exceeded the MTD"),
    ([("DL1", 3, 0), ("DL2", 6, 1), ("DL3", 3, 0)], "MTD not reached; highest cleared dose level DL3"),
])
def test_mtd_statement(levels, text):
    assert mtd(levels) == text
