"""Shift-table counts over every parameter in one pass (layouts._shift_counts), expected values by hand."""
from __future__ import annotations

import numpy as np
import pandas as pd

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
