"""All profiles at once (``nca_by_subject``) against numpy.trapezoid by hand and, on random profiles under every
rule combination, against ``nca_profile`` run on each profile's rows alone (the per-profile reading)."""
import itertools

import numpy as np
import pandas as pd
import pytest

from trialforge.adam.nca import NcaRules, interval_key, nca_by_subject, nca_profile


def test_linear_auc_and_peaks_by_hand():
    # A: samples 0..4 days, BLQ at 0 -> 0; B: no sample at 0 -> (0, 0) added; C: all BLQ -> nothing
    pc = pd.DataFrame({"USUBJID": ["A"] * 5 + ["B"] * 3 + ["C"] * 2,
                       "AFRLT": [0, 1, 2, 3, 4, 1, 2, 5, 1, 2.0],
                       "AVAL": [np.nan, 10, 30, 30, 5, 8, 4, 2, np.nan, np.nan],
                       "BLQFL": ["Y", "", "", "", "", "", "", "", "Y", "Y"]})
    out = nca_by_subject(pc, by_vars=["USUBJID"], intervals=[(0, 4), (1, 2.5)],
                         rules=NcaRules(auc_method="linear")).set_index("USUBJID")
    assert out.loc["A", "AUC0-4"] == np.trapezoid([0, 10, 30, 30, 5], [0, 1, 2, 3, 4])
    # B over 0-4: points 0,1,2 then C(4) interpolated on 2 -> 5 days: 4 + (2 - 4) * 2/3
    c4 = 4 + (2 - 4) * (4 - 2) / (5 - 2)
    assert out.loc["B", "AUC0-4"] == pytest.approx(np.trapezoid([0, 8, 4, c4], [0, 1, 2, 4]), rel=1e-15)
    # A over 1-2.5: C(2.5) halfway between 30 and 30
    assert out.loc["A", "AUC1-2.5"] == pytest.approx(np.trapezoid([10, 30, 30], [1, 2, 2.5]), rel=1e-15)
    assert (out.loc["A", ["CMAX", "TMAX", "CLST", "TLST"]].tolist()) == [30.0, 2.0, 5.0, 4.0]     # first max
    assert (out.loc["B", ["CMAX", "TMAX", "CLST", "TLST"]].tolist()) == [8.0, 1.0, 2.0, 5.0]
    assert out.loc["C"].isna().all()


def test_log_down_segment_by_hand():
    pc = pd.DataFrame({"USUBJID": "A", "AFRLT": [0.0, 1.0, 3.0], "AVAL": [0.0, 40.0, 10.0], "BLQFL": ""})
    got = nca_by_subject(pc, by_vars=["USUBJID"], intervals=[(0, 3)])["AUC0-3"].iloc[0]
    assert got == pytest.approx(20.0 + (40 - 10) / np.log(4) * 2, rel=1e-15)


def _random_frame(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(60):
        n = int(rng.integers(0, 9))
        times = rng.choice([-1.0, 0.0, 0.5, 1.0, 2.0, 3.0, 7.0, 14.0, 28.0, 29.0, 60.0, 90.0, np.nan], n)
        for t in times:
            blq = rng.random() < 0.3
            value = np.nan if blq or rng.random() < 0.1 else float(rng.choice([0.0, rng.uniform(0.1, 500)]))
            rows.append({"USUBJID": f"S{s % 23:02d}" if rng.random() > 0.02 else None,
                         "PARCAT": ["BLOOD", "MARROW"][s % 2], "AFRLT": t, "AVAL": value,
                         "BLQFL": "Y" if blq else ""})
    return pd.DataFrame(rows, columns=["USUBJID", "PARCAT", "AFRLT", "AVAL", "BLQFL"])


RULES = [NcaRules(blq_between=b, blq_after=a, zero_at_dose=z, auc_method=m, interval_tolerance=tol)
         for b, a, z, m, tol in itertools.product(["missing", "zero"], ["exclude", "zero"], [True, False],
                                                  ["linear-up/log-down", "linear"], [0.0, 2.0])]


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("rules", RULES, ids=range(len(RULES)))
def test_all_profiles_at_once_equal_each_profile_alone(seed, rules):
    frame = _random_frame(seed)
    intervals = [(0.0, 28.0), (0.0, 90.0), (1.0, 7.5), (0.5, 29.0)]
    got = nca_by_subject(frame, by_vars=["USUBJID", "PARCAT"], intervals=intervals, rules=rules)
    expected = []
    for (subject, cat), grp in frame.dropna(subset=["USUBJID"]).groupby(["USUBJID", "PARCAT"], sort=True):
        res = nca_profile(grp["AFRLT"], grp["AVAL"], grp["BLQFL"].eq("Y"), intervals=intervals, rules=rules)
        expected.append({"USUBJID": subject, "PARCAT": cat, **res})
    expected = pd.DataFrame(expected, columns=got.columns)
    assert len(got) == len(expected) > 20
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert got[[interval_key(*i) for i in intervals]].notna().any().all()     # the AUCs are exercised
