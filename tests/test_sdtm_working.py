"""The SDTM engine's working set and its distinct-value paths (issue 15): expected values written out by hand.

Domains are mapped in a ``WorkingFrame`` (a dict of columns, row subsets taken lazily) and finished into
one DataFrame; ``when`` branches run on their rows only; text min/max aggregates, baseline eligibility
and unit standardisation work on distinct values. These tests check values, dtypes, alignment and
that errors still name file, row and value.
"""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trialforge.errors import RawDataError, TerminologyError
from trialforge.objstrings import TEXT_DTYPE, object_strings
from trialforge.sdtm.algorithms import MappingContext, assign_condition
from trialforge.sdtm.derive import _text_extreme
from trialforge.sdtm.findings import _on_or_before
from trialforge.sdtm.raw_csv import check_header, check_records
from trialforge.sdtm.uniques import distinct_rows
from trialforge.sdtm.working import WorkingFrame, boundary_text
from trialforge.specs.ct import load_ct
from trialforge.specs.spec import Rule


def _frame():
    return pd.DataFrame({"_FILE": ["ae.csv"] * 5, "_ROW": [2, 3, 4, 5, 6],
                         "SEV": ["Mild", "Severe", "", "Mild", "Bad"], "N": [1.0, 2.0, np.nan, 4.0, 5.0]},
                        index=[10, 11, 12, 13, 14])


def test_working_frame_reads_writes_and_takes_rows_lazily():
    with object_strings():
        work = WorkingFrame.from_frame(_frame())
        work["X"] = pd.Series(["e", "d", "c", "b", "a"], index=[14, 13, 12, 11, 10])   # aligned by label
        assert work["X"].tolist() == ["a", "b", "c", "d", "e"] and work["X"].name == "X"
        part = work[work["N"] > 1.5]
        assert list(part.index) == [11, 13, 14] and list(part.columns) == ["_FILE", "_ROW", "SEV", "N", "X"]
        assert part["SEV"].tolist() == ["Severe", "Mild", "Bad"] and part.at[13, "_ROW"] == 5
        part["Y"] = "k"
        assert part["Y"].tolist() == ["k"] * 3 and "Y" not in work
        assert work.loc[work["SEV"] == "Mild", ["_ROW", "X"]].to_dict("list") == {"_ROW": [2, 5], "X": ["a", "d"]}
        whole = work.to_frame()
    assert list(whole.columns) == ["_FILE", "_ROW", "SEV", "N", "X"] and whole["N"].dtype == np.float64
    assert len(work) == 5 and work.shape == (5, 5) and not work.empty


class _Study:
    @staticmethod
    def substitutions():
        return {}


class _Ctx(MappingContext):
    def __init__(self):
        super().__init__(study=_Study(), ct=load_ct())


def _when_rule():
    then_ct = Rule(variable="AESEV", kind="from", value="SEV", options={"ct": "AESEV"}, file="ae.yaml")
    return Rule(variable="AESEV", kind="when", value=[("N >= 4", then_ct), ("N >= 2", Rule(
        variable="AESEV", kind="constant", value="MODERATE", options={}, file="ae.yaml"))],
        options={"else": Rule(variable="AESEV", kind="constant", value="", options={}, file="ae.yaml")},
        file="ae.yaml")


def test_when_branches_on_a_working_frame_and_on_a_dataframe_agree():
    frame = _frame()
    frame.loc[14, "SEV"] = "Severe"
    with object_strings():
        on_frame = assign_condition(frame, _when_rule(), _Ctx())
        on_work = assign_condition(WorkingFrame.from_frame(frame), _when_rule(), _Ctx())
    expected = ["", "MODERATE", "", "MILD", "SEVERE"]
    assert on_frame.tolist() == expected and on_work.tolist() == expected
    assert list(on_work.index) == [10, 11, 12, 13, 14] and on_work.dtype == object


def test_error_inside_a_when_branch_names_the_branch_row():
    with object_strings():
        for frame in (_frame(), WorkingFrame.from_frame(_frame())):
            with pytest.raises(TerminologyError) as err:
                assign_condition(frame, _when_rule(), _Ctx())
            assert err.value.row == 6 and err.value.value == "Bad" and err.value.column == "SEV"


def test_boundary_text_is_what_astype_str_gives():
    text = boundary_text(pd.Series(["a", None, np.nan, "b"], dtype=object, index=[3, 4, 5, 6]))
    assert text.tolist() == ["a", "", "", "b"] and text.dtype == TEXT_DTYPE and list(text.index) == [3, 4, 5, 6]
    mixed = boundary_text(pd.Series(["a", 1.5, np.nan], dtype=object))        # not text: pandas' own path
    assert mixed.tolist() == ["a", "1.5", ""] and mixed.dtype == TEXT_DTYPE
    assert boundary_text(pd.Series([], dtype=object)).dtype == TEXT_DTYPE


def test_text_min_and_max_per_subject():
    vals = pd.DataFrame({"USUBJID": ["S2", "S1", "S2", "S1", "S3"],
                         "EXSTDTC": ["2025-03-04", "2025-01-10T09:00", "2025-02-28", "2025-01-10", "2024-12-31"]},
                        dtype=object)
    low, high = _text_extreme(vals, "EXSTDTC", "min"), _text_extreme(vals, "EXSTDTC", "max")
    assert low.to_dict() == {"S1": "2025-01-10", "S2": "2025-02-28", "S3": "2024-12-31"}
    assert high.to_dict() == {"S1": "2025-01-10T09:00", "S2": "2025-03-04", "S3": "2024-12-31"}
    assert _text_extreme(vals.assign(EXSTDTC=[1.0, 2.0, 3.0, 4.0, 5.0]), "EXSTDTC", "min") is None


def test_on_or_before_compares_times_only_when_both_have_one():
    when = pd.Series(["2025-03-04T10:00", "2025-03-04T10:00", "2025-03-04", "2025-03", "2025-03-05"] * 3,
                     dtype=object)
    ref = pd.Series(["2025-03-04T09:00", "2025-03-04", "2025-03-04T08:00", "2025-03-04", "2025-03-04"] * 3,
                    dtype=object)
    assert _on_or_before(when, ref).tolist() == [False, True, True, False, False] * 3


def test_raw_csv_line_endings_and_short_rows(tmp_path: Path):
    crlf = "A,B,C\r\n1,2,3\r\n4,5\r\n"
    with pytest.raises(RawDataError) as err:
        check_records(crlf, tmp_path / "x.csv")
    assert err.value.row == 3 and err.value.value == "4,5" and "2 fields" in err.value.cause
    check_records("A,B\r1,2\r3,4", tmp_path / "x.csv")                         # CR alone ends a line too
    with pytest.raises(RawDataError) as err:
        check_records("A,B\r1,2\r3\r", tmp_path / "x.csv")
    assert err.value.row == 3
    long_file = "\n" * 70 + "A;B\n1;2\n"                                     # header after the first 64 lines
    with pytest.raises(RawDataError) as err:
        check_header(long_file, tmp_path / "x.csv")
    assert "semicolon" in err.value.cause
    name = '"A\n' + "x\n" * 70 + '"'                                        # a quoted name over 71 lines, twice
    with pytest.raises(RawDataError) as err:
        check_header(f"{name},B,{name}\n1,2,3\n", tmp_path / "x.csv")
    assert "appears twice in the header (columns 1 and 3)" in err.value.cause


def test_stable_order_matches_a_hand_sorted_multi_key_order():
    from trialforge.sdtm.uniques import stable_order
    subject = pd.Series(["S2", "S1", "S2", "S1", "S1", "S10"], dtype=object)
    visit = pd.Series([2.0, np.nan, 1.0, 1.0, 1.0, 0.5])                 # missing sorts last
    test = pd.Series(["b", "a", "a", "b", "B", "a"], dtype=object)        # code point order: "B" < "a" < "b"
    # by subject (S1 < S10 < S2), then visit, then test; rows 3 and 4 tie on subject and visit
    assert stable_order([subject, visit, test]).tolist() == [4, 3, 1, 5, 2, 0]
    assert stable_order([subject, visit]).tolist() == [3, 4, 1, 5, 2, 0]    # a full tie keeps row order
    assert stable_order([pd.Series(["a", None], dtype=object)]) is None       # not all text: pandas sorts


@pytest.mark.parametrize("limit", [2 ** 62, 50, 2])
def test_stable_order_with_packed_keys_is_pandas_stable_sort(monkeypatch, limit):
    """The ranks packed into one int64 (or, with a small pack limit, several) order rows exactly as pandas'
    stable ``sort_values`` does (the reference), missing numbers last, constant keys and full ties included."""
    from trialforge.sdtm import uniques
    monkeypatch.setattr(uniques, "_PACK_LIMIT", limit)
    rng = np.random.default_rng(7)
    n = 3000
    frame = pd.DataFrame({
        "study": pd.Series(["S"] * n, dtype=object),
        "subject": pd.Series([f"P{i:03d}" for i in rng.integers(0, 300, n)], dtype=object),
        "test": pd.Series(rng.choice(["b", "a", "B", "ab", ""], n), dtype=object),
        "visit": pd.Series(np.where(rng.random(n) < 0.1, np.nan, rng.integers(-3, 9, n).astype(float))),
        "day": pd.Series(rng.integers(-50, 50, n), dtype=np.int64),
        "date": pd.Series([f"2024-0{m}-1{d}" for m, d in zip(rng.integers(1, 9, n), rng.integers(0, 9, n))],
                          dtype=object),
    })
    for keys in (["study", "subject", "test", "visit", "date"], ["subject", "day"], ["visit"], ["study"],
                 ["test", "study", "visit", "day", "subject", "date"]):
        expected = frame.sort_values(keys, kind="stable").index.to_numpy()
        got = uniques.stable_order([frame[k] for k in keys])
        assert got.tolist() == expected.tolist(), keys


def test_packed_keys_combine_while_the_widths_fit(monkeypatch):
    from trialforge.sdtm import uniques
    a, b, c = np.array([1, 0, 1]), np.array([2, 2, 0]), np.array([0, 1, 1])
    packed = uniques.packed_keys([(a, 2), (b, 3), (c, 2)])
    assert [p.tolist() for p in packed] == [[10, 5, 7]]                   # (a * 3 + b) * 2 + c
    monkeypatch.setattr(uniques, "_PACK_LIMIT", 7)                       # 2 * 3 fits, 2 * 3 * 2 does not
    packed = uniques.packed_keys([(a, 2), (b, 3), (c, 2)])
    assert [p.tolist() for p in packed] == [[5, 2, 3], [0, 1, 1]]
    assert [p.tolist() for p in uniques.packed_keys([(a * 0, 1)])] == [[0, 0, 0]]   # constant: identity order


def test_study_day_and_epoch_once_per_distinct_subject_and_date(monkeypatch):
    from types import SimpleNamespace
    from trialforge.sdtm import derive
    monkeypatch.setattr(derive, "DISTINCT_ROWS_MIN", 0)                  # the distinct-row path on 16 rows
    taken = []
    monkeypatch.setattr(derive, "distinct_rows", lambda *a: taken.append(len(a)) or distinct_rows(*a))
    dm = WorkingFrame.from_frame(pd.DataFrame({"USUBJID": ["S1", "S2"], "RFSTDTC": ["2025-03-10", "2025-01-01"],
                                               "RFXENDTC": ["2025-03-20", "2025-01-05"]}, dtype=object))
    frame = WorkingFrame.from_frame(pd.DataFrame({
        "USUBJID": ["S1", "S1", "S1", "S2", "S2", "S1", "S1", "S2"] * 2,
        "LBDTC": ["2025-03-09", "2025-03-10T08:00", "2025-03-09", "2024-12-31", "2025-01-07", "2025-03",
                  "2025-03-09", "2024-12-31"] * 2}, dtype=object))
    epochs = [SimpleNamespace(epoch="SCREENING", start="DM.RFSTDTC", offset_days=-30),
              SimpleNamespace(epoch="TREATMENT", start="DM.RFSTDTC", offset_days=0),
              SimpleNamespace(epoch="FOLLOW-UP", start="DM.RFXENDTC", offset_days=1)]
    ctx = SimpleNamespace(domains={"DM": dm}, current=SimpleNamespace(domain="LB", sort=()),
                          study=SimpleNamespace(epochs=epochs))
    with object_strings():
        days = derive.derive_study_day(frame, Rule(variable="LBDY", kind="study_day", value="LBDTC", options={},
                                                   file="lb.yaml"), ctx)
        epoch = derive.derive_epoch(frame, Rule(variable="EPOCH", kind="epoch", value="LBDTC", options={},
                                                file="lb.yaml"), ctx)
    assert [None if np.isnan(d) else d for d in days.tolist()] == [-1.0, 1.0, -1.0, -1.0, 7.0, None, -1.0, -1.0] * 2
    assert days.dtype == np.float64 and taken == [2]       # EPOCH reuses --DY's distinct rows (same columns)
    assert epoch.tolist() == ["SCREENING", "TREATMENT", "SCREENING", "SCREENING", "FOLLOW-UP", "", "SCREENING",
                              "SCREENING"] * 2
    with object_strings():                                  # a column assigned again: its rows are found again
        frame["LBDTC"] = pd.Series(["2025-03-20"] * 16, dtype=object)
        again = derive.derive_study_day(frame, Rule(variable="LBDY", kind="study_day", value="LBDTC", options={},
                                                    file="lb.yaml"), ctx)
    assert taken == [2, 2] and again.tolist() == [11.0, 11.0, 11.0, 79.0, 79.0, 11.0, 11.0, 79.0] * 2


def test_whitespace_list_is_what_str_strip_removes():
    from trialforge.sdtm.raw_csv import WHITESPACE
    assert WHITESPACE == "".join(chr(c) for c in range(0x110000) if chr(c).isspace())


def test_outer_blanks_never_missed_on_random_exports():
    """No false 'nothing to strip': for random CSV texts (quoted values with commas, quotes and line breaks,
    blanks of several kinds anywhere) whenever pandas' parse holds a value with outer whitespace, the text
    check says so; and a clean export is recognised as clean."""
    import io
    from trialforge.sdtm.raw_csv import outer_blanks_possible
    rng = np.random.default_rng(11)
    pieces = ["a", "b", "7", "x y", " ", "\t", "\xa0", "\u3000", ",", '"', "\n", "z"]
    missed = checked = 0
    for _ in range(3000):
        rows = []
        for _ in range(rng.integers(1, 4)):
            fields = []
            for _ in range(3):
                value = "".join(rng.choice(pieces, rng.integers(0, 4)))
                if any(ch in value for ch in ',"\n') or rng.random() < 0.3:
                    value = '"' + value.replace('"', '""') + '"'
                fields.append(value)
            rows.append(",".join(fields))
        text = "A,B,C\n" + "\n".join(rows) + ("\n" if rng.random() < 0.5 else "")
        try:
            frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
        except Exception:  # noqa: BLE001 - a malformed random text: nothing to compare
            continue
        checked += 1
        blanks = any(v != v.strip() for col in frame.columns for v in frame[col].tolist())
        if blanks and not outer_blanks_possible(text):
            missed += 1
    assert checked > 1000
    assert missed == 0
    clean = 'A,B,C\n1,"x, y",White blood cell count\n2,"a""b""",b\n'
    assert not outer_blanks_possible(clean)
    assert outer_blanks_possible(clean.replace("b\n", "b \n"))
    assert outer_blanks_possible(clean.replace('"x, y"', '"x, y "'))
    assert outer_blanks_possible(clean.replace("1,", "1,\xa0"))
    assert outer_blanks_possible(clean.replace("\n", "\r\n"))


def test_read_raw_strips_values_only_where_blanks_are(tmp_path):
    from trialforge.sdtm.sources import read_raw
    path = tmp_path / "x.csv"
    path.write_text('A,B\n1,"x, y"\n2,b\n')
    assert read_raw(path)["B"].tolist() == ["x, y", "b"]
    path.write_text('A,B\n1," x, y"\n2,b\u3000\n')
    assert read_raw(path)["B"].tolist() == ["x, y", "b"]


def _union_reference(parts):
    """The engine's former union: pandas' concat of the parts' frames (the reference for WorkingFrame.union)."""
    return pd.concat([p.to_frame() for p in parts], ignore_index=True, sort=False)


@pytest.mark.parametrize("case", ["same", "missing_text", "missing_number", "mixed", "empty", "reordered"])
def test_union_of_sources_is_pandas_concat(case):
    from trialforge.sdtm.working import WorkingFrame
    with object_strings():
        a = pd.DataFrame({"T": pd.Series(["x", None, "y"], dtype=object), "N": [1.0, np.nan, 3.0],
                          "I": np.array([1, 2, 3], dtype=np.int64), "B": [True, False, True],
                          "R": pd.Series(["r1", "r2", "r3"], dtype=object)})
        b = pd.DataFrame({"T": pd.Series(["z", "w"], dtype=object), "N": [5.0, 6.0],
                          "I": np.array([7, 8], dtype=np.int64), "B": [False, False]})
        if case == "same":
            b["R"] = pd.Series(["q", "p"], dtype=object)
        elif case == "missing_number":
            a["X"] = [0.5, 1.5, 2.5]
        elif case == "mixed":
            b["I"] = [7.5, 8.5]
        elif case == "empty":
            b = b.iloc[:0]
        elif case == "reordered":
            b = b[["B", "I", "N", "T"]]
            b["S"] = pd.Series(["s", "t"], dtype=object)
        parts = [WorkingFrame.from_frame(a), WorkingFrame.from_frame(b.reset_index(drop=True))]
        got = WorkingFrame.union(parts).to_frame()
        expected = _union_reference(parts)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert list(got.columns) == list(expected.columns)
    for name in expected.columns:                                  # the same kind of missing value (NaN / None)
        assert [type(v) for v in got[name].tolist()] == [type(v) for v in expected[name].tolist()], name


def test_line_shape_matches_the_per_line_python_reference():
    """numpy's comma counts, quoted lines and offsets per line equal ``str.split`` and ``str.count`` line by
    line (the former check), across chunk borders (a tiny chunk) and with or without a final line feed."""
    from trialforge.sdtm import raw_csv
    rng = np.random.default_rng(5)
    for chunk in (3, 1 << 20):
        raw_csv._SHAPE_CHUNK, saved = chunk, raw_csv._SHAPE_CHUNK
        try:
            for _ in range(300):
                text = "".join(rng.choice(["a", ",", '"', "\n", " ", "bb"], rng.integers(0, 60)))
                lines = raw_csv._unquoted_lines(text)
                commas, has_quote, starts, ends = raw_csv._line_shape(text)
                assert commas.tolist() == [line.count(",") for line in lines]
                assert has_quote.tolist() == ['"' in line for line in lines]
                assert [text[a:b] for a, b in zip(starts, ends)] == lines
        finally:
            raw_csv._SHAPE_CHUNK = saved
    assert raw_csv._line_shape("a,b\r\n1,2\r\n") is None                  # carriage returns: the Python path


@pytest.mark.parametrize("quoted", [False, True])
def test_check_records_names_the_first_short_row_on_the_numpy_path(tmp_path, quoted):
    text = 'A,B,C\n1,2,3\n\n4,5\n6,7,8,9\n' + ('7,"x, y",z\n' if quoted else "")
    with pytest.raises(RawDataError) as err:
        check_records(text, tmp_path / "x.csv")
    assert err.value.row == 4 and "row has 2 fields, the header has 3" in err.value.cause
    assert err.value.value == "4,5"


def test_finished_sort_reuses_the_seq_ranks_and_matches_pandas(monkeypatch):
    """--SEQ ranks the sort keys of the working columns; finishing the domain sorts by the same columns and
    reuses those ranks (one ranking per column), and the record order equals pandas' stable sort."""
    from trialforge.sdtm import uniques
    ranked = []
    real = uniques._ranks
    monkeypatch.setattr(uniques, "_ranks", lambda column: ranked.append(column.name) or real(column))
    rng = np.random.default_rng(3)
    n = 500
    with object_strings():
        frame = WorkingFrame.from_frame(pd.DataFrame({
            "USUBJID": pd.Series([f"S{i}" for i in rng.integers(0, 40, n)], dtype=object),
            "TESTCD": pd.Series(rng.choice(["B", "A", "C"], n), dtype=object),
            "VISITNUM": rng.integers(1, 5, n).astype(float)}))
        memo_order = uniques.stable_order([frame[c] for c in ("USUBJID", "TESTCD", "VISITNUM")], memo=frame)
        again = uniques.stable_order([frame[c] for c in ("USUBJID", "TESTCD", "VISITNUM")], memo=frame)
        expected = frame.to_frame().sort_values(["USUBJID", "TESTCD", "VISITNUM"], kind="stable").index.to_numpy()
    assert memo_order.tolist() == expected.tolist() == again.tolist()
    assert ranked == ["USUBJID", "TESTCD", "VISITNUM"]        # the second sort ranked nothing again
