"""The per-subject figures read their records once per figure (`figure_pages.FigureRows`, `page_columns`); each
page's plotted frame and values must be what the page's own frame gave before: `frame.take(rows)`, its columns
selected, renamed and sorted by subject then time with a stable sort (the old way, kept here as reference)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trialforge.tables import figure_pages as fp


def _frame(seed: int, arrow: bool) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 400
    keys = np.array([f"S-{k:03d}" for k in rng.integers(0, 60, n)], dtype=object)
    keys[::37] = "S-\u00e9\u00df"                        # a non-ASCII key sorts by code point as pandas sorts it
    t = rng.choice([0.0, 1.5, 3.0, 7.25, 28.0, 90.0], n)  # many ties: the sort must keep frame order among them
    t[::53] = -0.0
    unit = np.array(["ng/mL"] * n, dtype=object)
    unit[:150] = None
    dtype = "string[pyarrow]" if arrow else object
    return pd.DataFrame({"USUBJID": pd.array(keys, dtype=dtype), "_GROUP": pd.array(rng.choice(["A", "B"], n), dtype=dtype),
                         "t": t, "v": rng.normal(size=n), "PCSTRESU": pd.array(unit, dtype=dtype),
                         "other": rng.normal(size=n)}, index=np.arange(1000, 1000 + n))


@pytest.mark.parametrize("arrow", [False, True])
def test_plotted_rows_equal_the_page_frame_sorted(arrow):
    frame = _frame(3, arrow)
    rename = {"_GROUP": "group", "t": "time", "v": "value"}
    got = fp.FigureRows(frame, "USUBJID", "_GROUP", ["t", "v"], rename, extra=["PCSTRESU"])
    rng = np.random.default_rng(5)
    pages = [np.arange(len(frame)), np.sort(rng.choice(len(frame), 90, replace=False)), np.arange(0, 140, 3),
             np.array([], dtype=int)]
    for rows in pages:
        page = frame.take(rows)
        want = page[["USUBJID", "_GROUP", "t", "v"]].rename(columns=rename).sort_values(["USUBJID", "time"],
                                                                                         kind="mergesort")
        have = got.plotted(rows, "time")
        pd.testing.assert_frame_equal(have, want)
        assert list(have.index) == list(want.index)
        unit = str(page["PCSTRESU"].dropna().iloc[0]) if page["PCSTRESU"].notna().any() else ""
        assert got.first("PCSTRESU", rows) == unit
        for name, col in (("key", "USUBJID"), ("group", "_GROUP"), ("t", "t"), ("v", "v")):
            assert list(got.arrays[name][rows]) == list(page[col].to_numpy(dtype=float if name in "tv" else None))
    assert got.first("PCSTRESU", np.arange(150)) == ""
    assert got.first("PCSTRESU", np.arange(140, 160)) == "ng/mL"
    assert got.first(None, np.arange(10)) == "" and got.first("NOPE", np.arange(10)) == ""


def test_page_columns_equal_the_page_frames_columns():
    frame = _frame(4, True).assign(g=lambda d: (d["v"] > 0).astype(int))
    cols = fp.page_columns(frame, ["t", "v"], ["USUBJID", "g"])
    for at in (slice(0, 50), slice(350, 450), slice(10, 10)):
        page = frame.iloc[at]
        assert np.array_equal(cols["v"][at], page["v"].to_numpy(dtype=float))
        assert cols["USUBJID"][at] == list(page["USUBJID"]) and cols["g"][at] == list(page["g"])


def test_paged_frames_equal_each_page_numbered_then_joined():
    from trialforge.tables.build import _paged
    frame = _frame(6, True)
    datas = [frame.iloc[:40], frame.iloc[40:41], frame.iloc[41:41], frame.iloc[41:120].assign(v=lambda d: d["v"].round(1))]
    want = pd.concat([d.assign(page=k + 1) for k, d in enumerate(datas)], ignore_index=True)
    got = _paged(datas)
    pd.testing.assert_frame_equal(got, want)
    assert list(got["page"].unique()) == [1, 2, 4] and got["page"].dtype == want["page"].dtype


@pytest.mark.parametrize("arrow", [False, True])
def test_mean_series_equal_the_frame_selections(arrow):
    """`mean_series` against the selection per panel and group it replaces (kept here as reference)."""
    rng = np.random.default_rng(8)
    n = 120
    dtype = "string[pyarrow]" if arrow else object
    summ = pd.DataFrame({"_PANEL": pd.array(rng.choice(["", "Day 1", "Day 8"], n), dtype=dtype),
                         "_GROUP": pd.array(rng.choice(["DL1", "DL2", "DL3"], n), dtype=dtype),
                         "NFRLT": rng.choice([0.0, 0.5, 1.0, 24.0, 168.0], n),
                         "mean": rng.choice([-1.0, 0.0, np.nan, 3.5, 12.25, 0.01], n),
                         "std": rng.choice([np.nan, 0.0, 1.5, 2.25], n)})
    panels, groups = ["Day 8", "", "Day 1", "none"], ["DL3", "DL1", "DL2", "DL9"]
    want = []
    for panel in panels:
        got = []
        for i, g in enumerate(groups):
            s = summ[(summ["_PANEL"] == panel) & (summ["_GROUP"] == g) & (summ["mean"] > 0)]
            if len(s):
                got.append((i, g, s["NFRLT"].to_numpy(dtype=float), s["mean"].to_numpy(dtype=float),
                            s["std"].fillna(0).to_numpy(dtype=float)))
        want.append(got)
    have = fp.mean_series(summ, panels, groups, "_GROUP", "NFRLT")
    assert len(have) == len(want) and sum(map(len, want)) > 5
    for h, w in zip(have, want):
        assert len(h) == len(w)
        for (i, g, t, m, sd), (wi, wg, wt, wm, wsd) in zip(h, w):
            assert (i, g) == (wi, wg)
            for a, b in ((t, wt), (m, wm), (sd, wsd)):
                assert a.dtype == b.dtype and a.tobytes() == b.tobytes()
