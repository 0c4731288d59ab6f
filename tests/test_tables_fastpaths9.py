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
    as_object_strings(frame)
    assert known_text_codes(frame["PARAMCD"]) is None               # not shared unless asked: dropped when done
    got = as_object_strings(frame, share_codes=True)
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


def _old_columns(adsl: pd.DataFrame, var: str, order: str | None):
    """The columns' subjects and membership as `Context._assign_columns`/`_prepare_subjects` found them
    before the codes: a Series comparison per value, then each column's ids located in the keys."""
    from trialforge.tables.engine import _blank
    key = adsl[var].astype(object).where(~_blank(adsl[var]), None)
    by = list(dict.fromkeys(([order] if order else []) + [var]))
    first = adsl.loc[key.notna()].sort_values(by, kind="mergesort").drop_duplicates(var)
    ids = [pd.Index(adsl.loc[key == v, "USUBJID"]) for v in first[var]]
    if key.isna().any():
        ids.append(pd.Index(adsl.loc[key.isna(), "USUBJID"]))
    ids.append(pd.Index(adsl["USUBJID"]))
    keys = pd.Index(adsl["USUBJID"].to_numpy(dtype=object))
    member = np.zeros((len(ids), len(adsl)), dtype=bool)
    for j, i in enumerate(ids):
        pos = keys.get_indexer(i.to_numpy(dtype=object))
        member[j, pos[pos >= 0]] = True
    return ids, member


def test_context_columns_from_codes_equal_the_comparisons_per_value():
    from trialforge.tables.engine import Context
    from trialforge.tables.spec import Columns, Population
    from trialforge.tables.tabledata import TableData
    rng = np.random.default_rng(7)
    n = 200
    arm = rng.choice(np.array(["B", "A", "C", "", " ", None], dtype=object), n)
    grade = rng.choice(np.array([1.0, 2.0, 3.0, -0.0, 0.0, np.nan]), n)
    adsl = pd.DataFrame({"USUBJID": [f"S{i:03d}" for i in range(n)], "SAFFL": rng.choice(["Y", "Y", "N"], n),
                         "ARM": arm, "ARMN": rng.integers(1, 4, n).astype(float), "GRADE": grade})
    for frame in (adsl, adsl.astype({"USUBJID": "str", "SAFFL": "str", "ARM": "str"})):
        for prepare in (True, False):
            data = TableData({"ADSL": frame}, prepare=prepare)
            for var, order in (("ARM", "ARMN"), ("ARM", None), ("GRADE", "GRADE")):
                cols = Columns(var=var, order=order, total="Total", fallback="Missing")
                ctx = Context("9.9", data, Population("Safety", "SAFFL == 'Y'"), cols)
                ids, member = _old_columns(ctx.adsl, var, order)
                assert [len(c.ids) for c in ctx.cols] == [len(i) for i in ids]
                for c, i in zip(ctx.cols, ids):
                    assert c.ids.equals(i) and c.ids.dtype == i.dtype and c.ids.name == i.name
                    assert c.n == len(i)
                assert np.array_equal(ctx._member, member)


def _same_value(a, b) -> bool:
    import struct
    if type(a) is not type(b):
        return False
    if type(a) is float:
        return struct.pack("d", a) == struct.pack("d", b) or (a != a and b != b)
    return a == b


def _figure_frames():
    rng = np.random.default_rng(3)
    n = 400
    x = rng.standard_normal(n) * 10.0 ** rng.integers(-12, 18, n)
    x[::17] = np.nan
    x[:8] = [-0.0, 1e16, 123456789.123456789, 2.675, 5e-7, -5e-7, 0.5e-6, 1e-300]
    text = pd.Series([None if i % 7 == 0 else ("é\"\\\u2028" if i % 3 else f"S{i}") for i in range(n)], dtype="str")
    group = pd.Series([None if i % 5 == 0 else f"g{i % 4}" for i in range(n)], dtype=object)
    return [pd.DataFrame({"USUBJID": text, "group": group, "t": x, "page": np.arange(n) // 50 + 1}),
            pd.DataFrame({"time": [0.0, 1.5], "surv": [1.0, np.nan], "n": [3, 2]}),
            pd.DataFrame({"v": [1.0]}),                                              # one row: the records
            pd.DataFrame({"v": pd.Series([], dtype=float)}),
            pd.DataFrame({"flag": [True, False, True]}),                              # bool: the records
            pd.DataFrame({"u": np.array([1, 2], dtype=np.uint8)}),                  # unsigned: the records
            pd.DataFrame({"o": pd.Series([1, "a", None], dtype=object), "x": [1.0, -0.0, 2.5]}),   # not text
            pd.DataFrame({"o": pd.Series([np.nan, "a", None], dtype=object), "big": [1e17, 1e-7, -0.0]})]


def test_frame_records_equal_the_records_read_back():
    import json
    from trialforge.tables.build import _frame_json, _frame_records
    from trialforge.tables.json_text import Records
    for frame in _figure_frames():
        want = json.loads(_frame_json(frame))
        got = _frame_records(frame)
        plain = got.plain() if isinstance(got, Records) else got
        assert len(plain) == len(want)
        for r, w in zip(plain, want):
            assert list(r) == list(w) and all(_same_value(r[k], w[k]) for k in w)


def test_records_written_as_json_dumps_writes_their_dicts():
    import json
    from trialforge.tables.build import _frame_records
    from trialforge.tables.json_text import Records, dumps_indent1
    docs = [{"data": _frame_records(f), "id": "x"} for f in _figure_frames()]
    docs += [{"data": Records(["a", "b"], [(1, 2.5), ("x", None)])},
             {"data": Records(["a"], [(1,)])},                                       # one row
             {"data": Records(["a", "a"], [(1, 2), (3, 4)])},                         # repeated key: its dicts
             {"data": Records([], [])}]
    for doc in docs:
        plain = {k: (v.plain() if isinstance(v, Records) else v) for k, v in doc.items()}
        assert dumps_indent1(doc) == json.dumps(plain, indent=1, ensure_ascii=False)


def test_figure_and_table_data_share_masks_and_positions_of_the_same_frames():
    from trialforge.tables.tabledata import TableData
    adsl = pd.DataFrame({"USUBJID": pd.Series(["S1", "S2", "S3"], dtype="str"), "SAFFL": ["Y", "N", "Y"]})
    adae = pd.DataFrame({"USUBJID": pd.Series(["S3", "S1", "S9"], dtype="str")})
    data = TableData({"ADSL": adsl, "ADAE": adae})
    figures = TableData({"ADSL": adsl, "ADAE": adae}, prepare=False, shared=data)
    calls = []

    def evaluate(frame, where):
        calls.append(where)
        return (frame["SAFFL"] == "Y").to_numpy()
    assert data.mask("ADSL", "SAFFL == 'Y'", evaluate).tolist() == [True, False, True]
    assert figures.mask("adsl", "SAFFL == 'Y'", evaluate).tolist() == [True, False, True]
    assert calls == ["SAFFL == 'Y'"]                                   # evaluated once for both
    assert figures.positions("ADAE", "ADSL").tolist() == [2, 0, -1]
    assert data.positions("ADAE", "ADSL") is figures.positions("ADAE", "ADSL")
    other = TableData({"ADSL": adsl.copy(), "ADAE": adae}, prepare=False, shared=data)   # other frames: own
    other.mask("ADSL", "SAFFL == 'Y'", evaluate)
    assert calls == ["SAFFL == 'Y'"] * 2


def test_catalogue_read_once_while_its_files_are_unchanged(tmp_path):
    import os
    from trialforge.tables import catalogue as C
    path = tmp_path / "tables.yaml"
    path.write_text("catalogue: 1\ninclude: [default]\nsettings: {protocol: P1}\noutputs:\n"
                    "  - {id: '99.1', title: One, blocks: [{type: continuous, var: AGE, label: Age}]}\n",
                    encoding="utf-8")
    first = C.load_catalogue(path)
    second = C.load_catalogue(path)
    assert [o.id for o in first.outputs] == [o.id for o in second.outputs] and "99.1" in [o.id for o in first.outputs]
    assert first.outputs is not second.outputs and first.settings is not second.settings
    assert first.settings == second.settings == {"protocol": "P1"} and first.sources == second.sources
    reads = []
    real = C._read
    C._read = lambda p: reads.append(p) or real(p)
    try:
        C.load_catalogue(path)
        assert reads == []                                             # remembered
        path.write_text(path.read_text(encoding="utf-8").replace("One", "Two"), encoding="utf-8")
        st = os.stat(path)
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
        again = C.load_catalogue(path)
        assert reads and [o.title for o in again.outputs if o.id == "99.1"] == ["Two"]
    finally:
        C._read = real
