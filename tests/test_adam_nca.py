"""NCA on worked examples: trapezoid arithmetic written out, BLQ rules, Tmax ties, partial-AUC coverage."""
from math import exp, isnan, log

import pytest

from trialforge.adam.nca import NcaRules, nca_profile

T = [0, 1, 7, 14, 28, 56, 90]
C = [None, 100, 1000, 500, 100, 20, None]
BLQ = [True, False, False, False, False, False, True]


def conc():
    return [float("nan") if c is None else c for c in C]


def test_cmax_tmax_clast_tlast():
    r = nca_profile(T, conc(), BLQ, intervals=[])
    assert (r["CMAX"], r["TMAX"], r["CLST"], r["TLST"]) == (1000.0, 7.0, 20.0, 56.0)


def test_auc_0_28_linear_up_log_down():
    r = nca_profile(T, conc(), BLQ, intervals=[(0, 28)])
    expected = ((0 + 100) / 2 * 1          # 0→1 rising: linear (BLQ at 0 counts as 0)
                + (100 + 1000) / 2 * 6     # 1→7 rising: linear
                + (1000 - 500) / log(1000 / 500) * 7   # 7→14 falling: log
                + (500 - 100) / log(500 / 100) * 14)   # 14→28 falling: log
    assert r["AUC0-28"] == pytest.approx(expected, rel=1e-12)  # ≈ 11878.76


def test_auc_0_90_missing_when_trailing_blq_excluded_and_present_when_zero():
    assert isnan(nca_profile(T, conc(), BLQ, intervals=[(0, 90)])["AUC0-90"])
    r = nca_profile(T, conc(), BLQ, intervals=[(0, 90)], rules=NcaRules(blq_after="zero"))
    expected = (50 + 3300 + 500 / log(2) * 7 + 400 / log(5) * 14
                + (100 - 20) / log(100 / 20) * 28   # 28→56 falling: log
                + (20 + 0) / 2 * 34)                # 56→90 to zero: linear (log undefined at 0)
    assert r["AUC0-90"] == pytest.approx(expected, rel=1e-12)


def test_partial_auc_interpolates_inside_a_falling_segment():
    r = nca_profile(T, conc(), BLQ, intervals=[(0, 20)])
    c20 = 500 * exp(log(100 / 500) * (20 - 14) / (28 - 14))   # log-linear interpolation at day 20
    expected = 50 + 3300 + 500 / log(2) * 7 + (500 - c20) / log(500 / c20) * 6
    assert r["AUC0-20"] == pytest.approx(expected, rel=1e-12)


def test_tmax_first_of_tied_maxima():
    r = nca_profile([0, 1, 2, 3], [0, 50, 50, 10], [False] * 4, intervals=[])
    assert r["TMAX"] == 1.0


@pytest.mark.parametrize("rule, expected", [
    ("missing", 10 / 2 * 1 + (10 - 5) / log(2) * 2),   # BLQ at t2 dropped: 1→3 log-down
    ("zero", 10 / 2 + (10 + 0) / 2 + (0 + 5) / 2),     # BLQ at t2 = 0: linear 1→2 and 2→3
])
def test_blq_between_measurable_values(rule, expected):
    r = nca_profile([0, 1, 2, 3], [float("nan"), 10, float("nan"), 5], [True, False, True, False],
                    intervals=[(0, 3)], rules=NcaRules(blq_between=rule))
    assert r["AUC0-3"] == pytest.approx(expected, rel=1e-12)


def test_missing_sample_is_dropped_and_zero_at_dose_added():
    # no sample at 0 (added as 0), a missing (not BLQ) sample at 2 is dropped
    r = nca_profile([1, 2, 3], [10, float("nan"), 10], [False, False, False], intervals=[(0, 3)])
    assert r["AUC0-3"] == pytest.approx(10 / 2 + 10 * 2)


def test_all_blq_profile_has_no_parameters():
    r = nca_profile([0, 7], [float("nan")] * 2, [True, True], intervals=[(0, 7)])
    assert isnan(r["CMAX"]) and isnan(r["TLST"]) and r["AUC0-7"] == 0.0
