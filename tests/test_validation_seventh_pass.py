"""Fast paths of the seventh speed pass (issue 15) against independently computed answers.

Each test computes the expected value another way (the slow path kept here as a reference, pandas' own
string methods, or by hand) on data chosen so that a wrong fast path gives a different answer."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from trialforge.specs.metadata import Dataset, DatasetMeta
from trialforge.validation import dates as dates_mod
from trialforge.validation.context import (_arrow_strings, cached_columns, clear_profiles, findings_at, profile,
                                           series_of, text, text_len, text_match)
from trialforge.validation.registry import RULES, load_all


def _date_texts(seed: int, n: int) -> list:
    """Dates, date-times and partial dates of every precision, valid and not, with odd characters planted."""
    rng = np.random.default_rng(seed)
    out = ["2020-02-29", "2021-02-29", "1900-02-29", "2000-02-29", "2100-02-29", "1700-01-01", "1699-12-31",
           "2200-12-31", "2201-01-01", "0001-01-01", "9999-12-31", "2262-04-12", "1600-02-29", "2020-00-10",
           "2020-13-01", "2020-04-31", "2020-01-01T24:00", "2020-01-01T10:00:00.5", "2020-01-01T10:00Z", "",
           "2020", "2020-01", "2020-01-01T10", "2020---15", "2020-01-01T", "abcdefghij", "\u0661\u0669\u0669\u0669-01-01",
           "2020/01/01", "2020-01-01 10:00", "+020-01-01", "2020-01-01T10:00:00+01:00", "2020-1-01"]
    for _ in range(n):
        y, mo, d = int(rng.integers(1650, 2260)), int(rng.integers(0, 14)), int(rng.integers(0, 33))
        t = f"{y:04d}-{mo:02d}-{d:02d}"
        kind = int(rng.integers(6))
        if kind == 1:
            t += f"T{int(rng.integers(0, 26)):02d}:{int(rng.integers(0, 62)):02d}"
        elif kind == 2:
            t += f"T{int(rng.integers(0, 26)):02d}:{int(rng.integers(0, 62)):02d}:{int(rng.integers(0, 62)):02d}"
        elif kind == 3:
            t = t[:int(rng.choice([4, 7, 13]))] if rng.random() < 0.5 else t + f"T{int(rng.integers(0, 24)):02d}"
        elif kind == 4 and rng.random() < 0.7:
            pos = int(rng.integers(len(t)))
            t = t[:pos] + str(rng.choice(list("x-:T9 ."))) + t[pos + 1:]
        out.append(t)
    return out


# ---- complete dates of distinct texts --------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(3))
def test_complete_dates_match_pandas(seed):
    texts = pd.Series(_date_texts(seed, 4000), dtype=object)
    got = dates_mod._complete_dates_of(texts)
    expected = dates_mod._complete_dates_pandas(texts)
    assert got.dtype == expected.dtype == np.dtype("datetime64[ns]")
    assert got.view("i8").tolist() == expected.view("i8").tolist()


def test_complete_dates_by_hand():
    got = dates_mod._complete_dates_of(pd.Series(["2020-02-29T10:00", "2021-02-29", "2020-1-01", "", "1850-06-30"],
                                                 dtype=object))
    assert got[0] == np.datetime64("2020-02-29") and got[4] == np.datetime64("1850-06-30")
    assert np.isnat(got[1]) and np.isnat(got[2]) and np.isnat(got[3])


# ---- date order on whole numbers cut to the common precision ---------------------------------------------

def _reference_order(start: list, end: list):
    """(after, same) per pair: the components compared one by one up to the precision both have (the
    pre-seventh-pass loop), components read by the pattern with ``re``, independently of the rules' tables."""
    rx = re.compile(dates_mod._PARTS_RX)

    def parts(t):
        t = t.strip()
        if not rx.search(t):
            return []
        return [int(t[a:b]) for a, b in dates_mod._SLICES if len(t) >= b]

    after, same = [], []
    for s, e in zip(start, end):
        a, b = parts(s), parts(e)
        p = min(len(a), len(b))
        after.append(p > 0 and a[:p] > b[:p])
        same.append(p > 0 and a[:p] == b[:p])
    return after, same


@pytest.mark.parametrize("seed", range(4))
def test_after_and_same_at_precision_match_component_loop(seed):
    clear_profiles()
    rng = np.random.default_rng(seed)
    pool = _date_texts(seed, 300)
    n = 3000
    start = [pool[i] for i in rng.integers(0, len(pool), n)]
    end = [pool[i] if rng.random() < 0.7 else start[k][:int(rng.choice([4, 7, 10, 13, 16, 19]))]
           for k, i in enumerate(rng.integers(0, len(pool), n))]
    frame = pd.DataFrame({"S": pd.Series(start, dtype="str"), "E": pd.Series(end, dtype=object)})
    frame.loc[::17, "E"] = None
    ds = cached_columns(Dataset(DatasetMeta(name="XX", label="XX"), frame))
    after = dates_mod.after(ds.frame["S"], ds.frame["E"])
    same = dates_mod.same_at_precision(ds.frame["S"], ds.frame["E"])
    exp_after, exp_same = _reference_order(start, [e if e is not None else "" for e in frame["E"].tolist()])
    assert after.tolist() == exp_after and same.tolist() == exp_same
    assert 0 < sum(exp_after) < n and 0 < sum(exp_same) < n
    assert after.index is ds.frame["S"].index and after.dtype == bool


def test_after_by_hand():
    clear_profiles()
    s = pd.Series(["2012-03", "2012-03-16", "2012-03-15T10:00", "2013", "", "x", "2012-03-15T09:59:59"], dtype="str")
    e = pd.Series(["2012-03-15", "2012-03-15", "2012-03-15", "2012-12-31T23:59", "2012", "2012", "2012-03-15T10"],
                  dtype="str")
    assert dates_mod.after(s, e).tolist() == [False, True, False, True, False, False, False]
    assert dates_mod.same_at_precision(s, e).tolist() == [True, False, True, False, False, False, False]


# ---- ISO 8601 components on a numpy grid -----------------------------------------------------------------

@pytest.mark.parametrize("seed", range(3))
def test_grid_parts_match_the_pattern(seed):
    texts = _date_texts(seed, 3000)
    dates_mod._PARTS_SEEN.clear()
    got = dates_mod._parts(texts)
    one_by_one = np.array([dates_mod._parts_one(t) for t in texts], dtype=float)
    by_arrow = dates_mod._parts_arrow(texts)
    assert np.array_equal(got, one_by_one, equal_nan=True)
    assert np.array_equal(got, by_arrow, equal_nan=True)
    _out, plain = dates_mod._grid_parts(texts)
    assert 0 < plain.sum() < len(texts)        # both the grid and the pattern were used


def test_grid_parts_by_hand():
    out, plain = dates_mod._grid_parts(["2012-03-15T10:30:45", "2012-03", "2012-3-15", "2012-03-15T10:30:45.5"])
    assert plain.tolist() == [True, True, False, False]
    assert out[0].tolist() == [2012, 3, 15, 10, 30, 45]
    assert out[1][:2].tolist() == [2012, 3] and np.isnan(out[1][2:]).all()


# ---- ISO 8601 validity of short columns, batched ---------------------------------------------------------

@pytest.mark.parametrize("seed", range(3))
def test_iso8601_flags_match_one_by_one(seed):
    clear_profiles()
    texts = np.array(sorted(set(_date_texts(seed, 2500))), dtype=object)
    assert len(texts) <= dates_mod.SMALL
    expected = [dates_mod._one_ok(t, True) for t in texts.tolist()]
    assert dates_mod.iso8601_flags(texts).tolist() == expected
    assert dates_mod.iso8601_flags(texts[:10]).tolist() == expected[:10]      # remembered answers
    assert 0 < sum(expected) < len(expected)


# ---- string tests once per distinct text -----------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["str", object])
def test_text_match_and_len_match_pandas(dtype):
    clear_profiles()
    raw = pd.Series([" AB1", "ab", None, "A_B", "9X", "ABCDEFGHI", "", "AB1 ", "É1", "AB\n"] * 7, dtype=dtype)
    t = text(raw)
    reference = pd.Series(t.to_numpy(dtype=object).tolist(), dtype=object)   # a plain copy: pandas' own path
    for pattern in (r"[A-Z_][A-Z0-9_]{0,7}", r"^[+-]?[0-9]+$", r"AB"):
        for full in (False, True):
            expected = reference.str.fullmatch(pattern) if full else reference.str.match(pattern)
            got = text_match(t, pattern, full=full)
            assert got.tolist() == expected.tolist() and got.dtype == bool and got.index is t.index
    assert text_len(t).tolist() == reference.str.len().tolist() and text_len(t).dtype == np.int64
    other = pd.Series(["AB", "1"], dtype=object)                 # not from text(): pandas itself
    assert text_match(other, "[A-Z]+", full=True).tolist() == [True, False]
    assert text_len(other).tolist() == [2, 1]


# ---- columns share the frame's index; findings from masks on equal indexes -------------------------------

def test_cached_columns_share_the_frame_index_and_findings_match_reindex():
    clear_profiles()
    frame = pd.DataFrame({"USUBJID": ["S1", "S2", "S3", "S4"], "XXSEQ": [1.0, 2.0, 3.0, 4.0],
                          "XXORRES": ["a", "b", "c", "d"]}, index=pd.RangeIndex(4))
    ds = cached_columns(Dataset(DatasetMeta(name="XX", label="XX"), frame))
    f = ds.frame
    assert f["XXORRES"].index is f.index and f["USUBJID"].index is f.index
    load_all()
    rule = RULES["TF-RES-004"]
    equal_index = pd.RangeIndex(4)                              # equal labels, another object
    mask = series_of(np.array([False, True, False, True]), equal_index)
    got = findings_at(rule, ds, mask, variable="XXORRES")
    by_reindex = findings_at(rule, ds, f.index[mask.reindex(f.index, fill_value=False).to_numpy()], variable="XXORRES")
    assert [(x.usubjid, x.seq, x.row, x.value) for x in got] == [("S2", "2", 2, "b"), ("S4", "4", 4, "d")]
    assert got == by_reindex
    shuffled = pd.Series([True, False, False, False], index=[3, 2, 1, 0])    # other order: aligned by label
    assert [x.row for x in findings_at(rule, ds, shuffled, variable="XXORRES")] == [4]


# ---- Arrow dictionary encoding of one chunk --------------------------------------------------------------

@pytest.mark.parametrize("chunks", [1, 3])
def test_arrow_strings_match_factorize(chunks):
    values = ["b", "a", None, "b", " c", "a", None, "d"] * 3
    size = len(values) // chunks
    pieces = [pa.array(values[i * size:(i + 1) * size], type=pa.large_string()) for i in range(chunks)]
    series = pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array(pieces)))
    codes, uniques, dictionary = _arrow_strings(series)
    assert dictionary.to_pylist() == uniques
    exp_codes, exp_uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
    assert codes.tolist() == exp_codes.tolist() and uniques == list(exp_uniques)
    clear_profiles()
    prof = profile(series)
    assert prof.codes.dtype == np.int64
    assert [prof.texts[c] for c in prof.codes] == [("" if v is None else v.strip()) for v in values]
    clean = pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([pa.array(["x", "y", "x"], type=pa.large_string())])))
    c2, u2, _ = _arrow_strings(clean)
    assert c2.dtype == np.int64 and c2.tolist() == [0, 1, 0] and u2 == ["x", "y"]


# ---- one value per group (the one-to-one rules' early answer) --------------------------------------------

from trialforge.validation.families import _one_value_per_group, inconsistent  # noqa: E402


@pytest.mark.parametrize("seed", range(30))
def test_one_value_per_group_matches_a_dict(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 300))
    widths = [int(rng.choice([2, 5, 50, 10 ** 6])) for _ in range(int(rng.integers(1, 3)))]
    group = np.zeros(n, dtype=np.int64)
    for w in widths:
        group = group * w + rng.integers(0, w, n)
    value = rng.integers(0, 3, n)
    if seed % 2:                                   # make it consistent: the value a function of the group
        value = (group * 7 + 3) % 5
    held: dict = {}
    expected = all(held.setdefault(g, v) == v for g, v in zip(group.tolist(), value.tolist()))
    assert _one_value_per_group(group, value, widths) == expected
    assert _one_value_per_group(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), [3]) is True


def _inconsistent_reference(frame, key, val, within):
    """Records (positions) whose ``val`` is not the usual one of their (within, key) group: both populated
    after trimming, the most frequent value, ties to the value seen first in the column."""
    def t(v):
        return "" if v is None or (isinstance(v, float) and v != v) else str(v).strip()
    order = {}
    for v in frame[val].tolist():
        order.setdefault(v if not (isinstance(v, float) and v != v) else None, len(order))
    groups: dict = {}
    rows = []
    for i, rec in enumerate(frame.itertuples(index=False)):
        rec = rec._asdict()
        if t(rec[key]) == "" or t(rec[val]) == "":
            continue
        g = tuple(rec[c] for c in within + [key])
        groups.setdefault(g, []).append(rec[val])
        rows.append((i, g, rec[val]))
    usual = {}
    for g, vals in groups.items():
        if len(set(vals)) > 1:
            counts = {v: vals.count(v) for v in vals}
            usual[g] = min(counts, key=lambda v: (-counts[v], order[v]))
    return [i for i, g, v in rows if g in usual and v != usual[g]]


@pytest.mark.parametrize("seed", range(12))
def test_inconsistent_matches_reference(seed):
    clear_profiles()
    load_all()
    rng = np.random.default_rng(seed)
    n = 200
    key = rng.choice(["A", "B", "C", "D", " ", None], n).tolist()
    val = [f"v{k}" if k else "x" for k in key]
    cat = rng.choice(["P", "Q"], n).tolist()
    if seed % 3:
        for i in rng.choice(n, int(rng.integers(1, 8)), replace=False):
            val[i] = str(rng.choice(["other", "v9", "", "vA "]))
    frame = pd.DataFrame({"USUBJID": [f"S{i}" for i in range(n)], "XXTESTCD": pd.Series(key, dtype="str"),
                          "XXTEST": pd.Series(val, dtype="str"), "XXCAT": pd.Series(cat, dtype="str")})
    ds = cached_columns(Dataset(DatasetMeta(name="XX", label="XX"), frame))
    for within in ([], ["XXCAT"]):
        got = inconsistent(ds, "XXTESTCD", "XXTEST", tuple(within), RULES["TF-CON-020"])
        assert [x.row - 1 for x in got] == _inconsistent_reference(frame, "XXTESTCD", "XXTEST", within)


# ---- flags and duplicates on codes -----------------------------------------------------------------------

from trialforge.validation.context import text_in  # noqa: E402
from trialforge.validation.rules_structure import seq_unique  # noqa: E402


def test_text_in_matches_isin():
    clear_profiles()
    s = pd.Series(["Y", " N", None, "", "y", "YES", "N ", "Y"], dtype="str")
    assert text_in(s, ("Y", "N", "")).tolist() == text(s).isin(["Y", "N", ""]).tolist()
    assert text_in(s, ("Y", "N", "")).tolist() == [True, True, True, True, False, False, True, True]


@pytest.mark.parametrize("seed", range(6))
def test_seq_duplicates_match_pandas(seed):
    clear_profiles()
    load_all()
    rng = np.random.default_rng(seed)
    n = 150
    subj = pd.Series(rng.choice(["S1", "S2", "S3", "", None], n).tolist(), dtype="str")
    seq = pd.Series(rng.choice([1.0, 2.0, 3.0, 4.0, np.nan], n))
    frame = pd.DataFrame({"USUBJID": subj, "XXSEQ": seq})
    ds = cached_columns(Dataset(DatasetMeta(name="XX", label="XX"), frame))
    expected = np.flatnonzero((frame.duplicated(["USUBJID", "XXSEQ"], keep="first") & frame["XXSEQ"].notna())
                              .to_numpy())
    assert [f.row - 1 for f in seq_unique(ds, None)] == expected.tolist()


# ---- study days: DM's reference dates parsed once --------------------------------------------------------

from trialforge.validation.rules_timing import NO_DAY, _reference_days, _subject_days  # noqa: E402


def test_subject_days_from_reference_days_match_the_mapped_parse():
    clear_profiles()
    ref = pd.Series(pd.Series([" 2020-01-05", "2020-02", None, "2020-03-01T10:00", "2020-13-01"], dtype="str").tolist(),
                    index=pd.Index(["S1", "S2", "S3", "S4", "S5"], dtype="str"), dtype="str")
    subjects = pd.Series(["S4", "S1", "S9", None, "S2", "S1", "S3", "S5", " S1"], dtype="str")
    expected = _subject_days(subjects, ref)                           # the map-then-parse path
    got = _subject_days(subjects, ref, _reference_days(ref))
    assert got.tolist() == expected.tolist()
    day = (np.datetime64("2020-01-05") - np.datetime64("1970-01-01")).astype(int)
    assert got[1] == day and got[0] == day + 56 and got[2] == NO_DAY and got[4] == NO_DAY and got[8] == NO_DAY


# ---- keys told apart once per dataset --------------------------------------------------------------------

from trialforge.validation.rules_structure import duplicate_records, keys_unique  # noqa: E402


@pytest.mark.parametrize("profiled", [False, True])
@pytest.mark.parametrize("duplicate", [False, True])
def test_key_rules_share_what_told_records_apart(duplicate, profiled):
    clear_profiles()
    load_all()
    frame = pd.DataFrame({"STUDYID": ["X"] * 6, "USUBJID": ["S1", "S1", "S2", "S2", "S3", "S3"],
                          "XXTESTCD": ["A", "B", "A", "B", "A", "B"], "XXSEQ": [1.0, 2.0, 1.0, 2.0, 1.0, 2.0],
                          "XXORRES": ["1", "2", "3", "4", "5", "6"]})
    if duplicate:
        frame.loc[5, ["XXTESTCD", "XXORRES"]] = ["A", "5"]
    meta = DatasetMeta(name="XX", label="XX", keys=["STUDYID", "USUBJID", "XXTESTCD"])
    ds = cached_columns(Dataset(meta, frame))
    for c in ("USUBJID", "XXTESTCD") if profiled else ():
        profile(ds.frame[c])                      # profiled by earlier rules, as in a run
    first = keys_unique(ds, None)
    second = duplicate_records(ds, None)
    fresh = cached_columns(Dataset(meta, frame))  # KEY-002 alone, without KEY-001's memo
    clear_profiles()
    alone = duplicate_records(fresh, None)
    assert [f.row for f in first] == ([6] if duplicate else [])
    assert bool(ds.frame.__dict__.get("_told_apart")) is not duplicate   # remembered only when told apart
    assert [f.row for f in second] == [f.row for f in alone] == ([6] if duplicate else [])


# ---- UTF-8 lengths and printable ASCII from Arrow's buffers ----------------------------------------------

from trialforge.validation.context import _dictionary_bytes  # noqa: E402


@pytest.mark.parametrize("kind", [pa.string(), pa.large_string()])
def test_dictionary_bytes_match_python(kind):
    rng = np.random.default_rng(7)
    alphabet = list("abc XYZ.09~") + ["\x7f", "\x1f", "\t", "\u00e9", "\u20ac", "\U0001f600", "\x00"]
    values = ["", "plain", "x" * 250] + ["".join(rng.choice(alphabet, int(rng.integers(0, 12)))) for _ in range(300)]
    array = pa.array(values, type=kind)
    for arr in (array, array.slice(5, 200)):
        sizes, printable = _dictionary_bytes(arr)
        raw = arr.to_pylist() + [""]
        assert sizes.tolist() == [len(v.encode("utf-8")) for v in raw]
        assert printable.tolist() == [v.isascii() and v.isprintable() for v in raw]
    assert _dictionary_bytes(pa.array(["a", None])) is None and _dictionary_bytes(None) is None
    clear_profiles()
    prof = profile(pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([array.cast(pa.large_string())]))))
    assert prof.nbytes.tolist() == [len(v.encode("utf-8")) for v in prof.raw]
    assert prof.printable_ascii.tolist() == [v.isascii() and v.isprintable() for v in prof.raw]


def test_text_match_on_plain_object_text_matches_pandas():
    values = pd.Series(["1.5", "abc", " 2", "", "1e5", "-3", "+.5"], index=[5, 3, 9, 1, 0, 2, 4], dtype=object)
    for full in (False, True):
        expected = values.str.fullmatch(r"[+-]?[0-9.]+") if full else values.str.match(r"[+-]?[0-9.]+")
        got = text_match(values, r"[+-]?[0-9.]+", full=full)
        assert got.tolist() == expected.tolist() and got.index.equals(values.index) and got.dtype == bool
    mixed = pd.Series(["1", None, 2.0], dtype=object)          # not all text: pandas' own answer (with its NaN)
    assert text_match(mixed, "1").tolist()[0] is True and pd.isna(text_match(mixed, "1").tolist()[1])


def test_literal_patterns_match_by_name():
    from trialforge.validation.families import matches
    frame = pd.DataFrame([[1, 2, 3, 4]], columns=["AETERM", "AESEQ", "AETERM", "XAETERM"])
    ds = Dataset(DatasetMeta(name="AE", label="AE"), frame)
    got = [(c, m.expand("x")) for c, m in matches("--TERM", ds)]
    assert got == [("AETERM", "x"), ("AETERM", "x")]                      # both columns of the name, in order
    assert [c for c, _ in matches("AE(SEQ|TERM)", ds)] == ["AETERM", "AESEQ", "AETERM"]
    assert list(matches("--DECOD", ds)) == []


def test_visit_rules_share_one_visitnum_text_frame():
    from trialforge.validation.context import ValidationContext
    from trialforge.validation.rules_trial import visit_within_visitnum, visitnum_within_visit
    load_all()
    frame = pd.DataFrame({"USUBJID": ["S1"] * 6, "LBSEQ": [1.0, 2, 3, 4, 5, 6],
                          "VISITNUM": [1.0, 1.0, 2.0, 2.0, 3.0, 3.0],
                          "VISIT": ["DAY 1", "DAY 1", "DAY 2", "DAY X", "DAY 3", "DAY 2"]})

    def run(shared: bool):
        clear_profiles()
        ds = cached_columns(Dataset(DatasetMeta(name="LB", label="LB"), frame))
        ctx = ValidationContext(datasets={"LB": ds}, ct=None, standard=None)
        first = visit_within_visitnum(ds, ctx)
        other = ctx if shared else ValidationContext(datasets={"LB": ds}, ct=None, standard=None)
        return [(f.rule_id, f.row, f.value) for f in first + visitnum_within_visit(ds, other)]
    together, apart = run(True), run(False)
    assert together == apart
    assert {r for r, _, _ in together} == {"TF-VIS-001", "TF-VIS-002"}
