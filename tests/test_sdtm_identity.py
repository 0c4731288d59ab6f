"""Fast paths that hash objects by identity (sdtm/uniques.py ``object_identities``) and read raw CSV from bytes:
each is compared with the plain pandas / pyarrow call it replaces, on arrays built to trip them (the same
value as several str objects, None and NaN, numbers beside text, long and short arrays)."""
from __future__ import annotations

import io
import random

import numpy as np
import pandas as pd
import pytest

from trialforge.sdtm import uniques
from trialforge.sdtm.uniques import factorize, missing_mask, object_identities


def _objects(n: int, distinct: int, seed: int, *, missing=False, numbers=False, copies=True) -> np.ndarray:
    """n values drawn from ``distinct`` texts; with ``copies`` one value appears as several str objects."""
    rng = random.Random(seed)
    pool = [f"V{i:03d}" for i in range(distinct)]
    twins = ["".join(list(p)) for p in pool]          # equal values, other objects
    out = np.empty(n, dtype=object)
    for i in range(n):
        k = rng.randrange(distinct)
        value = twins[k] if copies and rng.random() < 0.3 else pool[k]
        r = rng.random()
        if missing and r < 0.05:
            value = None
        elif missing and r < 0.1:
            value = float("nan")
        elif numbers and r < 0.15:
            value = rng.choice([1, 1.0, 2.5, True])
        out[i] = value
    return out


CASES = [dict(n=5000, distinct=1), dict(n=5000, distinct=40), dict(n=9000, distinct=3000),
         dict(n=5000, distinct=40, missing=True), dict(n=6000, distinct=7, missing=True, numbers=True),
         dict(n=100, distinct=5, missing=True), dict(n=4000, distinct=4000, copies=False)]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("sentinel", [True, False])
def test_factorize_equals_pandas(case, sentinel):
    values = _objects(seed=len(str(case)), **case)
    codes, uniq = factorize(values, use_na_sentinel=sentinel)
    want_codes, want_uniq = pd.factorize(values, use_na_sentinel=sentinel)
    np.testing.assert_array_equal(codes, want_codes)
    assert codes.dtype == want_codes.dtype
    assert type(uniq) is type(want_uniq) and uniq.dtype == want_uniq.dtype
    assert len(uniq) == len(want_uniq)
    assert all((a is b) or (a == b) or (pd.isna(a) and pd.isna(b)) for a, b in zip(uniq.tolist(), want_uniq.tolist()))
    assert [type(a) for a in uniq.tolist()] == [type(b) for b in want_uniq.tolist()]


@pytest.mark.parametrize("case", CASES)
def test_missing_mask_equals_isna(case):
    values = _objects(seed=7, **case)
    np.testing.assert_array_equal(missing_mask(values), pd.isna(values))


def test_object_identities_are_the_objects():
    values = _objects(8000, 30, seed=3, missing=True)
    codes, objects = object_identities(values)
    assert all(values[i] is objects[c] for i, c in enumerate(codes.tolist()))
    assert len({id(o) for o in objects}) == len(objects)                 # each object once
    first = [codes.tolist().index(c) for c in range(len(objects))]       # in order of first appearance
    assert first == sorted(first)
    view = values[::2]                                                   # not contiguous: still right
    codes, objects = object_identities(view)
    assert all(view[i] is objects[c] for i, c in enumerate(codes.tolist()))


def test_object_identities_declines():
    assert object_identities(np.array(["a"] * 10, dtype=object)) is None                  # short
    assert object_identities(np.arange(10000)) is None                                       # not objects
    assert object_identities(np.array([str(i) for i in range(10000)], dtype=object)) is None  # all distinct


def test_identity_paths_do_not_depend_on_the_threshold(monkeypatch):
    values = _objects(300, 12, seed=11, missing=True)
    want = pd.factorize(values)
    monkeypatch.setattr(uniques, "IDENTITY_MIN", 1)
    got = factorize(values)
    np.testing.assert_array_equal(got[0], want[0])
    assert got[1].tolist() == want[1].tolist()


def test_arrow_text_equals_pyarrow():
    pa = pytest.importorskip("pyarrow")
    from trialforge.sdtm.working import _arrow_text
    for case in CASES[:4] + [dict(n=3000, distinct=3000, copies=False)]:
        values = _objects(seed=5, **{**case, "missing": False})
        got = _arrow_text(values)
        want = pa.array(values, type=pa.large_string(), from_pandas=True)
        assert got.type == want.type and got.equals(want) and got.null_count == 0
    values = _objects(6000, 9, seed=2, missing=True)
    got, want = _arrow_text(values), pa.array(values, type=pa.large_string(), from_pandas=True)
    assert got.equals(want) and got.null_count == want.null_count > 0


def test_template_distinct_equals_concatenation():
    from trialforge.sdtm.algorithms import _template_distinct
    n = 12000
    study = np.array(["S1"] * n, dtype=object)
    site = _objects(n, 12, seed=1)
    subject = _objects(n, 300, seed=2)
    fields = [study, "-", site, "", "-", subject, "/x"]
    got = _template_distinct(fields, n)
    want = np.array([a + "-" + b + "-" + c + "/x" for a, b, c in zip(study, site, subject)], dtype=object)
    np.testing.assert_array_equal(got, want)
    assert len({id(v) for v in got}) <= 12 * 300                         # one object per distinct result
    assert _template_distinct([np.array([str(i) for i in range(n)], dtype=object)], n) is None   # all distinct


@pytest.mark.parametrize("text", [
    "A,B,C\n1, x ,\n2,\"q,\"\"r\"\"\",z\n,,\n",
    "ID,NAME\n1,Émile\n2,Zoë\n3,\n",
    "ID,V\r\n1,NA\r\n2,null\r\n3,nan\r\n4,#N/A\r\n",
    "ID,V\n",
    "A,B,C\nx, y ,\n,,\nz,1.0,NA\n",                     # split in Python: short, no quotes
    "A,B\n1,2",                                        # no final line feed
    "A,,C\n1,2,3\n",                                    # a blank name: pandas names it
    "A, ,C\n1,2,3\n",
    "A\n1\n \n2\n",                                    # one column: blank lines
    "A,B\n1,2\n\n3,4\n",                               # an empty line
    "A,B\n",                                           # no data line
    "A,B\n  ,\t\n",
    "ID,NAME\n1,Émile\n2,Zoë\n",
    " A ,B\n1,2\n",
])
def test_raw_csv_parse_equals_text_parse(text):
    from trialforge.objstrings import object_strings
    from trialforge.sdtm.raw_csv import _parse_text
    data = text.encode("utf-8")
    raw = np.frombuffer(data, dtype=np.uint8) if text.isascii() else None
    for context in (object_strings, _nothing):
        with context():
            want = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
            got = _parse_text(text, raw)
            pd.testing.assert_frame_equal(got, want)
            assert list(got.dtypes) == list(want.dtypes)


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.mark.parametrize("case", CASES)
def test_on_objects_equals_the_whole_column(case):
    from trialforge.sdtm.uniques import on_objects
    series = pd.Series(_objects(seed=13, **case), index=np.arange(case["n"]) * 3, name="X")
    functions = [lambda v: v.notna() & (v.astype(str).str.strip() != "") & (v.astype(str) != "nan"),
                 lambda v: v.isna() | (v.astype(str).str.strip() == ""),
                 lambda v: pd.to_numeric(v, errors="coerce"),
                 lambda v: v.astype(str).str.lower()]
    for fn in functions:
        pd.testing.assert_series_equal(on_objects(series, fn), fn(series))


def test_numbers_of_mixed_objects_equal_the_vectorised_path():
    from trialforge.sdtm.algorithms import _numbers_by_object, to_number
    from trialforge.specs.spec import Rule
    rng = random.Random(21)
    pool = [50.0, 25.0, "", " 7 ", "1e3", None, float("nan"), 3]
    values = pd.Series([rng.choice(pool) for _ in range(9000)], dtype=object)
    text = values.where(values.notna(), "").astype(str).str.strip()
    want = pd.to_numeric(text.where(text != ""), errors="coerce").astype(float)
    got = _numbers_by_object(values)
    pd.testing.assert_series_equal(got, want, check_names=False)
    rule = Rule(variable="X", kind="from", value="X", options={}, file="x.yaml")
    pd.testing.assert_series_equal(to_number(values, rule, pd.DataFrame(index=values.index)), want, check_names=False)
    values[4000] = "12 mg"                                   # no number: the vectorised path names the row
    assert _numbers_by_object(values) is None


@pytest.mark.parametrize("how", ["left", "inner"])
@pytest.mark.parametrize("keys", [["SUBJ"], ["SUBJ", "VISIT"]])
def test_join_by_position_equals_pandas_merge(how, keys):
    from trialforge.objstrings import object_strings
    with object_strings():                      # as read_raw builds them: object text, object column names
        _check_join(how, keys, random.Random(len(keys) * 7 + len(how)))


def _check_join(how, keys, rng):
    from trialforge.sdtm.sources import _join_by_position
    n = 3000
    left = pd.DataFrame({"SUBJ": [f"S{rng.randint(1, 60)}" for _ in range(n)],
                         "VISIT": [rng.choice(["V1", "V2", "V3", ""]) for _ in range(n)],
                         "X": [rng.choice(["a", "b", " c"]) for _ in range(n)],
                         "_ROW": np.arange(2, n + 2)}, dtype=object).astype({"_ROW": np.int64})
    pairs = sorted({(f"S{rng.randint(1, 80)}", rng.choice(["V1", "V2", "V3", ""])) for _ in range(150)})
    if keys == ["SUBJ"]:
        pairs = sorted({s for s, _ in pairs})
        right = pd.DataFrame({"SUBJ": pairs}, dtype=object)
    else:
        right = pd.DataFrame({"SUBJ": [s for s, _ in pairs], "VISIT": [v for _, v in pairs]}, dtype=object)
    right["R_A"] = pd.Series([f"a{i % 7}" for i in range(len(right))], dtype=object)
    right["R_B"] = pd.Series([rng.choice(["", "x"]) for _ in range(len(right))], dtype=object)
    right = right[keys + ["R_A", "R_B"]]
    want = left.merge(right, how=how, on=keys, sort=False).fillna({"R_A": "", "R_B": ""})
    got = _join_by_position(left, right, keys, ["R_A", "R_B"], how)
    assert got is not None and got.columns.dtype == object
    pd.testing.assert_frame_equal(got, want)
    assert (got["R_A"] == "").any() == (how == "left")                 # unmatched rows exist and are blank


def test_join_by_position_declines_what_it_does_not_know():
    from trialforge.sdtm.sources import _join_by_position
    left = pd.DataFrame({"K": pd.Series(["a", "b"], dtype=object), "V": pd.Series(["1", "2"], dtype=object)})
    right = pd.DataFrame({"K": pd.Series(["a"], dtype=object), "V": pd.Series(["x"], dtype=object)})
    assert _join_by_position(left, right, ["K"], ["V"], "left") is None                     # clashing names
    right = pd.DataFrame({"K": pd.Series([1.0]), "W": pd.Series(["x"], dtype=object)})
    assert _join_by_position(left, right, ["K"], ["W"], "left") is None                     # a key is no text
    right = pd.DataFrame({"K": pd.Series(["a"], dtype=object), "W": pd.Series(["x"], dtype=object)})
    assert _join_by_position(left, right, ["K"], ["W"], "outer") is None


def test_plain_split_equals_pandas_on_random_exports():
    from trialforge.objstrings import object_strings
    from trialforge.sdtm.raw_csv import _parse_plain
    rng = random.Random(17)
    alphabet = ["a", "B", " ", "1", ".", "-", "é", "\t", "NA", "nan", "#", "'", "=", "x y"]
    used = 0
    with object_strings():
        for _ in range(300):
            width = rng.randint(1, 6)
            names = [f"C{i}" + rng.choice(["", " ", "_x"]) for i in range(width)]
            lines = [",".join(names)]
            for _ in range(rng.randint(0, 40)):
                if rng.random() < 0.03:
                    lines.append(rng.choice(["", " "]))
                else:
                    lines.append(",".join("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 3)))
                                          for _ in range(width)))
            text = "\n".join(lines) + rng.choice(["", "\n"])
            got = _parse_plain(text)
            if got is None:
                continue
            used += 1
            want = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
            pd.testing.assert_frame_equal(got, want)
    assert used > 100
