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

from trialforge.adam._frame import distinct_objects, one_object, sort_rows
from trialforge.sdtm.uniques import factorize
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


def _supp_case(seed: int):
    """A parent domain and SUPP-- records at random: subject-level and --SEQ-level qualifiers (IDVARVAL as text
    of the number, sometimes padded), QNAMs shared between IDVARs and one that is already a parent column."""
    rng = np.random.default_rng(seed)
    n = 60
    parent = pd.DataFrame({
        "USUBJID": np.array([f"S-{v}" for v in rng.integers(0, 12, n)], dtype=object),
        "AESEQ": rng.permutation(n).astype(float) + 1,
        "AETERM": np.array(rng.choice(["A", "B", "C"], n), dtype=object),
        "AEX": np.array(["old"] * n, dtype=object),
    })
    rows = []
    for i in rng.choice(n, 25, replace=False):
        for q in rng.choice(["AEDLT", "AETOCI", "AEX"], rng.integers(1, 3), replace=False):
            rows.append((parent["USUBJID"][i], "AESEQ", f" {int(parent['AESEQ'][i])}" if rng.random() < 0.3
                         else f"{parent['AESEQ'][i]:.1f}" if rng.random() < 0.3 else str(int(parent["AESEQ"][i])),
                         q, str(rng.choice(["Y", "N", " Y", ""]))))
    for u in sorted(set(parent["USUBJID"]))[:7]:
        rows.append((u, "", "", "AEDLT" if rng.random() < 0.5 else "SUBJQ", str(rng.integers(0, 3))))
    rows.append(("S-99", "AESEQ", "1", "AEDLT", "Y"))                  # no parent record
    order = rng.permutation(len(rows))
    supp = pd.DataFrame([rows[i] for i in order], columns=["USUBJID", "IDVAR", "IDVARVAL", "QNAM", "QVAL"])
    return parent, supp.astype(object)


@pytest.mark.parametrize("seed", range(6))
def test_merge_supp_equals_pivot_and_join(seed):
    from trialforge.adam.recipes.sdtm_input import _merge_supp_frames, _supp_text, merge_supp
    from trialforge.adam._frame import char
    with object_strings():
        parent, supp = _supp_case(seed)
        got = merge_supp(parent, supp, "AE")
        want = _merge_supp_frames(parent, _supp_text(supp, "AE", char), "AE")
    pd.testing.assert_frame_equal(got, want)
    assert list(got.columns)[:3] == ["USUBJID", "AESEQ", "AETERM"]


def test_merge_supp_by_hand_and_errors():
    from trialforge.adam.recipes.sdtm_input import merge_supp
    from trialforge.errors import DatasetReadError
    with object_strings():
        ae = pd.DataFrame({"USUBJID": np.array(["1", "1", "2"], dtype=object), "AESEQ": [1.0, 2.0, 1.0]})
        supp = pd.DataFrame({"USUBJID": ["1", "2", "1"], "IDVAR": ["AESEQ", "AESEQ", ""],
                             "IDVARVAL": ["2", "1.0", ""], "QNAM": ["AEDLT", "AEDLT", "SUBJ"],
                             "QVAL": [" Y", "N", "x"]}, dtype=object)
        got = merge_supp(ae, supp, "AE")
        assert got["AEDLT"].tolist() == ["", "Y", "N"] and got["SUBJ"].tolist() == ["x", "x", ""]
        assert list(got.columns) == ["USUBJID", "AESEQ", "SUBJ", "AEDLT"]    # IDVAR "" first, then AESEQ
        twice = pd.concat([supp, supp.iloc[:1]], ignore_index=True)
        with pytest.raises(DatasetReadError, match="same QNAM twice"):
            merge_supp(ae, twice, "AE")
        bad = supp.assign(IDVAR=["AENOPE", "AENOPE", ""])
        with pytest.raises(DatasetReadError, match="IDVAR names a variable the parent lacks"):
            merge_supp(ae, bad, "AE")


def test_sdtm_source_columns_on_demand():
    """``SdtmSource.get(name, columns=...)``: exactly those columns of what ``normalize_sdtm`` gives the whole
    domain (values, dtypes, order), the others not normalised; the full frame afterwards is still
    ``normalize_sdtm``'s."""
    from trialforge.adam._frame import normalize_sdtm
    from trialforge.adam.recipes.sdtm_input import SdtmSource
    with object_strings():
        lb = pd.DataFrame({"usubjid": [" S-1", "S-2", None], "LBTESTCD": ["HGB", "ALT ", "HGB"],
                           "LBSEQ": [1, 2, 3], "LBORRES": ["1", " 2", "x"], "LBDTC": ["2024-01-01", "", None]},
                          index=[5, 9, 2])
        want = normalize_sdtm(lb)
        src = SdtmSource({"lb": lb})
        assert src.columns("LB") == ["USUBJID", "LBTESTCD", "LBSEQ", "LBORRES", "LBDTC"]
        part = src.get("LB", columns=["LBDTC", "USUBJID", "NOPE", None])
        assert list(part.columns) == ["USUBJID", "LBDTC"] and part.attrs["name"] == "LB"
        pd.testing.assert_frame_equal(part, want[["USUBJID", "LBDTC"]])
        assert set(src._columns["LB"]) == {"USUBJID", "LBDTC"}            # LBORRES etc. not converted
        full = src.get("LB")
        pd.testing.assert_frame_equal(full, want)
        assert full.attrs["name"] == "LB" and src.get("LB") is full
        assert src.get("LB", columns=["LBSEQ"])["LBSEQ"].tolist() == [1.0, 2.0, 3.0]
