"""Fast paths of the ninth session's tables work, each checked against the way it replaced (kept here as the
reference) or against values written out by hand."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from trialforge.submission.arrow_text import _CODES, forget_text_codes, known_text_codes, text_codes
from trialforge.tables.tabledata import as_object_strings, string_objects


def _factorised(values: pd.Series) -> np.ndarray:
    """The way `as_object_strings` made a column's objects before it read the shared text codes."""
    codes, uniques = pd.factorize(values)
    return np.append(np.asarray(uniques, dtype=object), np.nan)[codes]


def _same_objects(got: np.ndarray, want: np.ndarray) -> None:
    assert got.dtype == object and len(got) == len(want)
    for a, b in zip(got, want):
        assert type(a) is type(b)
        assert (a != a and b != b) or a == b


def _columns():
    chunked = pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([["b", None], ["a", "", "b"]])), dtype="str") \
        if hasattr(pd.arrays, "ArrowStringArray") else pd.Series(["b", None, "a", "", "b"], dtype="str")
    return [pd.Series(["b", None, "a", "b", "", None, "µg/L", "≥ 3"], dtype="str"),
            pd.Series([None, None], dtype="str"),
            pd.Series([], dtype="str"),
            pd.Series([f"v{i % 300}" for i in range(1000)] + [None], dtype="str"),
            pd.Series(["x", None, "y", "x"], dtype=object),
            chunked]


def test_string_objects_equal_the_factorised_objects():
    forget_text_codes()
    for values in _columns():
        _same_objects(string_objects(values), _factorised(values))
        out = np.empty(len(values), dtype=object)
        string_objects(values, out=out)
        _same_objects(out, _factorised(values))


def test_as_object_strings_by_hand_and_codes_left_for_the_writers():
    forget_text_codes()
    frame = pd.DataFrame({"USUBJID": pd.Series(["S2", "S1", "S2", None], dtype="str"),
                          "AVAL": [1.5, np.nan, 3.0, 4.0],
                          "PARAMCD": pd.Series(["ALT", "ALT", "AST", "ALT"], dtype="str")})
    got = as_object_strings(frame)
    assert got["USUBJID"].tolist()[:3] == ["S2", "S1", "S2"] and got["USUBJID"].iloc[3] != got["USUBJID"].iloc[3]
    assert got["PARAMCD"].tolist() == ["ALT", "ALT", "AST", "ALT"] and got["PARAMCD"].dtype == object
    assert got["AVAL"].equals(frame["AVAL"])
    known = known_text_codes(frame["PARAMCD"])                     # the package writers take these, no encoding
    assert known is not None and known.dictionary.to_pylist() == ["ALT", "AST"]
    assert known.codes.tolist() == [0, 0, 1, 0]
    assert text_codes(frame["USUBJID"]).codes.tolist() == [0, 1, 0, 2]


def test_forget_text_codes_of_some_frames_keeps_the_others():
    forget_text_codes()
    sdtm = pd.DataFrame({"A": pd.Series(["x", "y"], dtype="str"), "N": [1, 2]})
    adam = pd.DataFrame({"B": pd.Series(["p", None], dtype="str")})
    text_codes(sdtm["A"])
    kept = text_codes(adam["B"])
    forget_text_codes([sdtm])
    assert known_text_codes(sdtm["A"]) is None
    assert known_text_codes(adam["B"]) is kept
    forget_text_codes()
    assert not _CODES
