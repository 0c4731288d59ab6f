"""Shift-table counts over every parameter in one pass (layouts._shift_counts), expected values by hand."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trialforge.tables.layouts import _shift_counts


def _series(rows):
    idx = pd.MultiIndex.from_tuples([(p, s) for p, s, _ in rows], names=["PARAMCD", "USUBJID"])
    return pd.Series([v for _, _, v in rows], index=idx, dtype=object)


def test_shift_counts_by_hand():
    base = _series([("ALT", "S1", "NORMAL"), ("ALT", "S2", "NORMAL"), ("ALT", "S3", "HIGH"),
                    ("ALT", "S4", "LOW"),                     # S4: no post-baseline value -> not counted
                    ("HGB", "S1", "LOW"), ("HGB", "S2", "NORMAL")])
    worst = _series([("ALT", "S1", "HIGH"), ("ALT", "S2", "NORMAL"), ("ALT", "S3", "HIGH"),
                     ("ALT", "S5", "HIGH"),                   # S5: no baseline -> not counted
                     ("HGB", "S1", "LOW"), ("HGB", "S2", np.nan)])   # S2: worst missing -> not counted
    n, cells = _shift_counts(base, worst)
    assert n == {"ALT": 3, "HGB": 1}
    assert cells[("ALT", "NORMAL")] == 2 and cells[("ALT", "HIGH")] == 1
    assert cells[("ALT", "NORMAL", "HIGH")] == 1 and cells[("ALT", "NORMAL", "NORMAL")] == 1
    assert cells[("ALT", "HIGH", "HIGH")] == 1 and ("ALT", "LOW") not in cells
    assert cells[("HGB", "LOW")] == 1 and cells[("HGB", "LOW", "LOW")] == 1 and ("HGB", "NORMAL") not in cells


def test_shift_counts_empty():
    empty = _series([])
    assert _shift_counts(empty, empty) == ({}, {})
    assert _shift_counts(_series([("ALT", "S1", "LOW")]), empty) == ({}, {})


def test_worst_category_by_hand():
    from trialforge.tables.layouts import _worst_category
    post = pd.DataFrame({"PARAMCD": ["ALT", "ALT", "ALT", "ALT", "HGB", "HGB", "HGB", "ALT"],
                         "USUBJID": ["S1", "S1", "S2", "S2", "S1", "S1", "S3", "S3"],
                         "V": ["NORMAL", "HIGH", "LOW", "NORMAL", "LOW", None, "LOW", None]}, dtype=object)
    got = _worst_category(post, "V", "HIGH", by=("PARAMCD", "USUBJID"))
    # ALT/S1: any HIGH -> HIGH; ALT/S2: no HIGH, a NORMAL -> NORMAL; ALT/S3: only missing -> missing;
    # HGB/S1: LOW (first non-missing); HGB/S3: LOW
    assert got.index.tolist() == [("ALT", "S1"), ("ALT", "S2"), ("ALT", "S3"), ("HGB", "S1"), ("HGB", "S3")]
    assert [None if pd.isna(v) else v for v in got.tolist()] == ["HIGH", "NORMAL", None, "LOW", "LOW"]


@pytest.mark.parametrize("seed", range(8))
def test_shift_tallies_are_the_grouped_counts(seed):
    """layouts._shift_tallies (factorised codes, one pass) against the pandas way it replaced in
    compute_shift_table: baseline = first filled value per (PARAMCD, USUBJID), worst = _worst_category,
    counted by _shift_counts. Odd values on purpose: spaces, lower case, missing keys and categories."""
    import numpy as np
    from trialforge.tables.layouts import _per_distinct, _shift_counts, _shift_tallies, _worst_category
    rng = np.random.default_rng(seed)
    m = [0, 1, 5, 40, 200, 600, 900, 1500][seed]
    cats = np.array(["LOW", "NORMAL", "HIGH", " HIGH", "normal", "", " ", None, np.nan], dtype=object)
    recs = pd.DataFrame({
        "PARAMCD": rng.choice(np.array(["ALT", "AST", "BILI", None], dtype=object), m, p=[.4, .3, .25, .05]),
        "USUBJID": rng.choice(np.array([f"S{i}" for i in range(30)] + [None], dtype=object), m),
        "BNRIND": rng.choice(cats, m), "ANRIND": rng.choice(cats, m),
        "POST": rng.random(m) < 0.7})
    levels = {"LOW": "Low", "NORMAL": "Normal", "HIGH": "High"}
    for target in ("HIGH", "LOW"):
        filled = (recs["BNRIND"].astype(str).str.strip() != "").to_numpy()
        has_base = filled & recs["BNRIND"].notna().to_numpy()
        base_all = recs[has_base].groupby(["PARAMCD", "USUBJID"])["BNRIND"].first()
        post_ok = recs["POST"].to_numpy() & recs["ANRIND"].astype(str).str.strip().isin(levels).to_numpy()
        worst_all = _worst_category(recs[post_ok], "ANRIND", target, by=("PARAMCD", "USUBJID"))
        want = _shift_counts(base_all, worst_all)
        base, value = recs["BNRIND"].to_numpy(dtype=object), recs["ANRIND"].to_numpy(dtype=object)
        assert np.array_equal(_per_distinct(base, lambda v: pd.isna(v) or str(v).strip() != ""), filled)
        ok2 = _per_distinct(value, lambda v: not pd.isna(v) and str(v).strip() in levels)
        assert np.array_equal(recs["POST"].to_numpy() & ok2, post_ok)
        codes, values = pd.factorize(recs["PARAMCD"].to_numpy(dtype=object))
        got = _shift_tallies(codes, values, recs["USUBJID"].to_numpy(dtype=object), base,
                             filled & ~pd.isna(base), value, post_ok, target)
        assert got == want
        if m >= 200:
            assert want[0] and len(want[1]) > 5
