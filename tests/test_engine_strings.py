"""The speed helpers of issue 15: one string representation inside the engines, distinct-value evaluation,
and the NCA loop over numpy slices. Expected values are written by hand."""
from __future__ import annotations

import numpy as np
import pandas as pd

from trialforge.adam._frame import char
from trialforge.adam.nca import nca_by_subject
from trialforge.objstrings import TEXT_DTYPE, object_strings
from trialforge.sdtm.uniques import on_distinct


def test_object_strings_keeps_python_strings_inside_and_restores_inference():
    before = pd.Series(["a", "b"]).dtype
    with object_strings():
        assert pd.Series(["a", "b"]).dtype == object
        assert pd.Series(["a"]).astype(str).dtype == object
    assert pd.Series(["a", "b"]).dtype == before
    assert pd.Series(["a"], dtype=object).astype(str).dtype == TEXT_DTYPE


def test_on_distinct_keeps_the_result_dtype_and_sees_missing_values():
    series = pd.Series(["2020-01-02", None, "2020-01-02", "bad", None, "2020-01-02"], index=[5, 6, 7, 8, 9, 10])
    seen = []

    def parse(u):
        seen.append(len(u))
        return pd.to_datetime(u, format="%Y-%m-%d", errors="coerce")

    out = on_distinct(series, parse)
    assert seen == [3]                                   # once per distinct value, missing included
    assert out.index.tolist() == [5, 6, 7, 8, 9, 10]
    assert str(out.dtype).startswith("datetime64")
    day = pd.Timestamp("2020-01-02")
    assert [x if pd.notna(x) else None for x in out] == [day, None, day, None, None, day]


def test_on_distinct_bool_result():
    out = on_distinct(pd.Series([" ", "a", " ", None, "a", " "]), lambda u: u.isna() | (u.astype(str).str.strip() == ""))
    assert out.dtype == bool and out.tolist() == [True, False, True, True, False, True]


def test_char_short_text_and_mixed_columns():
    short = char(pd.Series([" a", "b ", ""], index=[3, 4, 5], name="X"))
    assert short.tolist() == ["a", "b", ""] and short.dtype == object and short.index.tolist() == [3, 4, 5]
    assert short.name == "X"
    assert char(pd.Series([" a", None, 2.0, float("nan"), 2.5])).tolist() == ["a", "", "2", "", "2.5"]
    arrow = char(pd.Series([" a", None, "b"], dtype=TEXT_DTYPE))
    assert arrow.tolist() == ["a", "", "b"] and arrow.dtype == object


def test_nca_profiles_in_key_order_rows_in_frame_order_missing_keys_dropped():
    pc = pd.DataFrame({"USUBJID": ["B", "A", "B", "A", None],
                       "AFRLT": [0.0, 0.0, 1.0, 2.0, 1.0],
                       "AVAL": [2.0, 4.0, 6.0, 8.0, 100.0],
                       "BLQFL": ["", "", "", "", ""]})
    out = nca_by_subject(pc, by_vars=["USUBJID"], intervals=[(0, 1)])
    assert out["USUBJID"].tolist() == ["A", "B"]
    assert out["CMAX"].tolist() == [8.0, 6.0] and out["TMAX"].tolist() == [2.0, 1.0]
    # B: linear trapezoid 0-1 h rising (2 -> 6): (2 + 6) / 2 * 1 = 4
    assert np.isclose(out.loc[out["USUBJID"] == "B", "AUC0-1"].iloc[0], 4.0)
