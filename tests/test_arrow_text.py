"""The writers' set-wise helpers (submission/arrow_text.py), against values worked out by hand."""
from __future__ import annotations

import numpy as np
import pandas as pd

from trialforge.submission.arrow_text import distinct_frame, first_positions, longest_utf8
from trialforge.submission.define_attrs import item_attrs, text_length
from trialforge.specs.metadata import NUM, VariableMeta


def test_longest_utf8_counts_bytes_not_characters():
    s = pd.Series(["ab", "\u00e9\u00e9\u00e9", None, ""], dtype="str")     # é is 2 bytes in UTF-8
    assert longest_utf8(s) == 6
    assert longest_utf8(pd.Series([None, ""], dtype="str")) == 0
    assert longest_utf8(pd.Series([], dtype="str")) == 0
    assert longest_utf8(pd.Series(["abc"], dtype=object)) is None            # not Arrow text
    assert text_length(pd.Series([None, ""], dtype="str")) == 1             # define: 1 for an empty column


def test_first_positions_of_distinct_rows_missing_values_alike():
    a = pd.Series(["x", "y", "x", None, "x", None], dtype="str")
    b = pd.Series([1.0, 1.0, 1.0, np.nan, 2.0, np.nan])
    assert first_positions(a, b).tolist() == [0, 1, 3, 4]
    assert first_positions(a).tolist() == [0, 1, 3]
    assert first_positions(pd.Series([], dtype="str")).tolist() == []


def test_distinct_frame_keeps_values_and_dtypes():
    frame = distinct_frame(k=pd.Series(["a", "a", "b"], dtype="str"), v=pd.Series([np.nan, np.nan, 3.5]))
    assert frame["k"].tolist() == ["a", "b"]
    assert np.isnan(frame["v"][0]) and frame["v"][1] == 3.5
    assert str(frame["k"].dtype) == "str" and frame["v"].dtype == np.float64


def test_item_attrs_on_many_rows_equal_the_attrs_of_their_values():
    """Computed on distinct values: 10,000 copies of three numbers read as the three numbers."""
    var = VariableMeta("LBSTRESN", "Result", NUM)
    attrs = item_attrs(var, pd.Series([12.25, -3.5, 100.0] * 10_000))
    assert (attrs.data_type, attrs.length, attrs.significant_digits) == ("float", 5, 2)   # 100 + .25


# ---- text_codes: one dictionary encoding per column, shared by the XPT, Dataset-JSON and define writers ----

def test_text_codes_by_hand():
    from trialforge.submission.arrow_text import forget_text_codes, text_codes
    forget_text_codes()
    s = pd.Series(["b", None, "a", "b", "", None], dtype="str")
    found = text_codes(s)
    assert found.dictionary.to_pylist() == ["b", "a", ""]          # first appearance; "" is a value
    assert found.codes.tolist() == [0, 3, 1, 0, 2, 3]              # missing: len(dictionary)
    assert found.missing == 3 and found.codes.dtype == np.uint8
    assert found.longest == 1
    assert text_codes(pd.Series(["x"], dtype=object)) is None      # not Arrow text
    wide = pd.Series([f"v{i}" for i in range(300)] + [None], dtype="str")
    assert text_codes(wide).codes.dtype == np.uint16 and text_codes(wide).codes[-1] == 300


def test_text_codes_shared_until_forgotten_and_never_stale():
    from trialforge.submission.arrow_text import _CODES, forget_text_codes, text_codes
    forget_text_codes()
    frame = pd.DataFrame({"A": pd.Series(["x", "y", "x"], dtype="str")})
    first = text_codes(frame["A"])
    assert text_codes(frame["A"]) is first                          # each frame[name] is the same column
    assert longest_utf8(frame["A"]) == 1
    frame.loc[0, "A"] = "zzz"                                       # new Arrow data: its own codes
    assert text_codes(frame["A"]).dictionary.to_pylist() == ["zzz", "y", "x"]
    assert longest_utf8(frame["A"]) == 3
    forget_text_codes()
    assert not _CODES
    s = pd.Series(["q"], dtype="str")
    text_codes(s)
    del s
    import gc
    gc.collect()
    assert not _CODES                                               # dropped with its column


def test_byte_lengths_from_offsets_equal_arrow_binary_length():
    import pyarrow as pa
    import pyarrow.compute as pc
    from trialforge.submission.arrow_text import byte_lengths
    for typ in (pa.string(), pa.large_string()):
        arr = pa.array(["", "ab", "\u00e9\u2265", None, "xyz"], typ)
        expected = [0, 2, 5, 0, 3]                                         # é 2 bytes, ≥ 3 bytes; null 0
        assert byte_lengths(arr).tolist() == expected
        assert byte_lengths(arr.slice(2, 2)).tolist() == [5, 0]           # an offset into the buffers
        assert byte_lengths(arr.slice(1, 3)).tolist() == pc.fill_null(pc.binary_length(arr.slice(1, 3)), 0).to_pylist()
        assert byte_lengths(arr.slice(0, 0)).tolist() == []
