"""Fast paths by object identity (seventh session, adam/_frame.py, _join.py, metadata.py): ``factorize`` must give
exactly ``pd.factorize``'s codes and uniques, ``distinct_objects`` the distinct objects in first-appearance order,
``one_object`` say whether every element is the very same object, the Arrow text of ``make_dataset`` hold the
values ``pyarrow.array`` gives, and ``sort_rows`` on frames of any size the order of ``sort_values``. The
references are pandas / pyarrow / plain Python, computed independently of the fast paths."""
import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from trialforge.adam._frame import distinct_objects, factorize, one_object, sort_rows
from trialforge.adam._join import _one_value, join
from trialforge.adam.metadata import _as_text_dtype
from trialforge.objstrings import object_strings


def _shared(seed: int, n: int, values: list, *, copies: int = 1) -> np.ndarray:
    """``n`` values drawn from ``values``; each value held by up to ``copies`` distinct str objects (equal text
    in different objects, as two normalised SDTM columns give), so identity and value differ."""
    rng = np.random.default_rng(seed)
    pool = [[v if not isinstance(v, str) else "".join(list(v)) for _ in range(copies)] for v in values]
    out = np.empty(n, dtype=object)
    for i, (k, c) in enumerate(zip(rng.integers(0, len(values), n), rng.integers(0, copies, n))):
        out[i] = pool[k][c]
    return out


def _same_factorization(got, want):
    assert got[0].tolist() == want[0].tolist()
    g, w = list(got[1]), list(want[1])
    assert len(g) == len(w)
    for a, b in zip(g, w):
        assert (a == b) or (a is None and b is None) or (isinstance(a, float) and math.isnan(a) and isinstance(b, float)
                                                       and math.isnan(b))


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("sentinel", [True, False])
@pytest.mark.parametrize("copies", [1, 3])
def test_factorize_equals_pandas(seed, sentinel, copies):
    values = ["HGB", "ALT", "", "alt", "Z9", None, float("nan"), "S1-001"]
    arr = _shared(seed, 5000, values, copies=copies)
    _same_factorization(factorize(arr, use_na_sentinel=sentinel), pd.factorize(arr, use_na_sentinel=sentinel))


def test_factorize_other_arrays_go_to_pandas():
    rng = np.random.default_rng(3)
    floats = rng.integers(0, 5, 4000).astype(float)
    _same_factorization(factorize(floats), pd.factorize(floats))
    distinct = np.array([f"v{i}" for i in range(4000)], dtype=object)       # every object distinct
    _same_factorization(factorize(distinct), pd.factorize(distinct))
    short = np.array(["b", "a", "b"], dtype=object)
    _same_factorization(factorize(short), pd.factorize(short))
    strided = _shared(1, 8000, ["x", "y", None])[::2]                       # a non-contiguous view
    _same_factorization(factorize(strided), pd.factorize(strided))


def test_distinct_objects_by_hand():
    a, b, c = "AB", "".join(["A", "B"]), "C"     # a and b: equal text, different objects
    assert a == b and a is not b
    arr = np.array([a, c, b, a, c] * 1000, dtype=object)
    codes, objects = distinct_objects(arr)
    assert len(objects) == 3 and objects[0] is a and objects[1] is c and objects[2] is b
    assert codes[:5].tolist() == [0, 1, 2, 0, 1]
    assert all(arr[i] is objects[codes[i]] for i in range(len(arr)))
    assert distinct_objects(arr[:10]) is None                              # short: the plain path
    assert distinct_objects(np.array([str(i) for i in range(5000)], dtype=object)) is None   # mostly distinct


def test_one_object():
    s = "STUDY1"
    same = np.array([s] * 3000, dtype=object)
    assert one_object(same) and one_object(same[::3])
    other = same.copy()
    other[1500] = "".join(["STUDY", "1"])                                  # equal value, another object
    assert not one_object(other)
    assert not one_object(np.array([], dtype=object)) and not one_object(np.zeros(3))


def test_one_value_key_identity_and_values():
    s = "S1"
    a = np.array([s] * 50, dtype=object)
    b = np.array(["".join(["S", "1"])] * 7, dtype=object)                  # the same text, other objects
    assert _one_value(a, b) and _one_value(b, a)
    c = b.copy()
    c[3] = "S2"
    assert not _one_value(a, c) and not _one_value(c, a)
    # a join on a one-object key column still gives merge's result
    with object_strings():
        left = pd.DataFrame({"STUDYID": a, "USUBJID": np.array([f"S1-{i % 5}" for i in range(50)], dtype=object)})
        right = pd.DataFrame({"STUDYID": b[:5], "USUBJID": np.array([f"S1-{i}" for i in range(5)], dtype=object),
                              "V": np.arange(5.0)})
        got = join(left, right, ["STUDYID", "USUBJID"], "left")
        want = left.merge(right, on=["STUDYID", "USUBJID"], how="left")
    pd.testing.assert_frame_equal(got, want)


@pytest.mark.parametrize("copies", [1, 2])
def test_arrow_text_equals_pyarrow_array(copies):
    arr = _shared(5, 6000, ["HGB", "", "Alanine Aminotransferase (U/L)", "é ü", "S1-0001"], copies=copies)
    got = _as_text_dtype(arr)
    want = pa.array(arr, type=pa.large_string())
    assert got.tolist() == want.to_pylist() == arr.tolist()
    chunked = got.array._pa_array
    assert chunked.type == pa.large_string() and chunked.null_count == 0
    short = np.array(["a", "b"], dtype=object)
    assert _as_text_dtype(short).tolist() == ["a", "b"]


@pytest.mark.parametrize("seed", range(3))
def test_sort_rows_large_frames_equal_pandas(seed):
    rng = np.random.default_rng(seed)
    n = 30_000                                   # above the former 2,000-row limit
    dates = rng.integers(0, 400, n).astype(float)
    dates[rng.random(n) < 0.1] = np.nan
    with object_strings():
        df = pd.DataFrame({
            "STUDYID": _shared(seed, n, ["S1"]),
            "USUBJID": _shared(seed + 1, n, [f"S1-{i:04d}" for i in range(900)], copies=2),
            "PARAMCD": _shared(seed + 2, n, ["HGB", "ALT", "", "alt", "Z9"]),
            "ADT": dates,
            "SEQ": rng.permutation(n).astype(float),
        }, index=rng.permutation(n) + 7)
        for by in (["STUDYID", "USUBJID", "PARAMCD", "ADT", "SEQ"], ["PARAMCD", "ADT"], ["ADT"]):
            pd.testing.assert_frame_equal(sort_rows(df, by), df.sort_values(by, kind="mergesort"))
