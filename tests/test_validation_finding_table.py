"""Findings as columns (``validation.finding_table``, eighth speed pass of issue 15) against the objects' own
answers: the report order against ``sorted(key=Finding.sort_key)``, groups and counts against dict grouping,
the pickled report against its findings, and every report format against the old writers kept in
``tests/validation_report_reference.py`` (they read one ``Finding`` object at a time)."""
from __future__ import annotations

import pickle
import sys
from pathlib import Path

import numpy as np
import pytest

from trialforge.validation import report as report_mod
from trialforge.validation import report_formats, xlsx_book
from trialforge.validation.finding_table import DATASET, RULE, SEVERITY, FindingTable
from trialforge.validation.findings import FIELDS, Finding, ValidationReport, merge_reports
from trialforge.validation.xlsx_rows import all_plain

sys.path.insert(0, str(Path(__file__).parent))
import validation_report_reference as ref  # noqa: E402

_SEQS = [None, "", "1", "1.0", "01", "2", "10", "x", "3a", " 3", "2e1", "-1", "inf"]
_TEXTS = ["x", " lead", "trail ", "a & b < c > d", "caf\u00e9 \u00b5g", "quote \" and '", "", "#N/A", "=A1",
          "tab\there", "line\nbreak", "cr\rhere", "2020-01-01"]


def _findings(n: int, seed: int) -> list:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        pick = lambda seq: seq[int(rng.integers(len(seq)))]     # noqa: E731
        out.append(Finding(rule_id=pick(["TF-VAL-001", "TF-CT-002", "TF-KEY-002", "TF-NOT-REGISTERED"]),
                           severity=pick(["error", "warning", "notice"]), dataset=pick(["AE", "LB", "DM", "SUPPAE"]),
                           message=pick(_TEXTS) or "m", variable=pick([None, "", "AETERM", "LBORRES"]),
                           usubjid=pick([None, "", "S-1", "S-10", "S-2"]), seq=pick(_SEQS),
                           row=pick([None, 0, 1, 2, 17, 1000]), value=pick([None] + _TEXTS)))
    return out


def _report(n: int, seed: int = 0) -> ValidationReport:
    return ValidationReport(findings=_findings(n, seed), datasets={"AE": 10, "DM": 3, "LB": 99, "EX": 0},
                            rules_run=7, rule_ids=["TF-CT-002", "TF-KEY-002", "TF-VAL-001"], standard="SDTMIG 3.4")


def _fields(f) -> tuple:
    return tuple(getattr(f, name) for name in FIELDS)


# ---- the table -------------------------------------------------------------------------------------------

def test_table_round_trip_keeps_values_and_types():
    odd = [Finding("R", "error", "AE", "m", row=1, value="1"), Finding("R", "error", "AE", "m", row=True, value=1),
           Finding("R", "error", "AE", "m", row=1.0, value=1.0), Finding("R", "error", "AE", "m", value=["a", 1]),
           Finding("R", "error", "AE", "m", value=float("nan")), Finding("R", "error", "AE", "m", value=None)]
    back = FindingTable.of(odd).findings()
    assert [_fields(f) for f in back][:4] == [_fields(f) for f in odd][:4]
    assert [type(f.row) for f in back] == [type(f.row) for f in odd]        # 1, True and 1.0 kept apart
    assert [type(f.value) for f in back] == [type(f.value) for f in odd]
    assert back[4].value != back[4].value and back[5].value is None
    assert all(type(f) is Finding for f in back)


@pytest.mark.parametrize("seed", range(12))
def test_report_order_is_the_objects_sort(seed):
    found = _findings(300, seed)
    table = FindingTable.of(found)
    order = table.report_order()
    assert order is not None
    expected = sorted(found, key=lambda f: f.sort_key)
    assert [_fields(f) for f in table.take(order).findings()] == [_fields(f) for f in expected]


def test_report_order_by_hand():
    found = [Finding("B", "warning", "AE", "m", seq="10"), Finding("A", "warning", "AE", "m", seq="9"),
             Finding("A", "warning", "AE", "m", seq="x"), Finding("A", "error", "LB", "m"),
             Finding("A", "warning", "AE", "m", seq="9.0", row=2), Finding("A", "warning", "AE", "m", seq="9", row=1)]
    # error first; then AE/A by --SEQ numerically (9 = 9.0, then by row, no row first), text after numbers;
    # rule B last
    assert FindingTable.of(found).report_order().tolist() == [3, 1, 5, 4, 2, 0]


def test_report_order_declines_what_it_cannot_rank():
    nan_seq = [Finding("R", "error", "AE", "m", seq="nan"), Finding("R", "error", "AE", "m", seq="1")]
    assert FindingTable.of(nan_seq).report_order() is None
    mixed = [Finding("R", "error", "AE", "m", usubjid="S1"), Finding("R", "error", "AE", "m", usubjid=3)]
    assert FindingTable.of(mixed).report_order() is None
    report = ValidationReport(findings=nan_seq[::-1])
    assert [f.seq for f in report.sorted()] == [f.seq for f in sorted(nan_seq[::-1], key=lambda f: f.sort_key)]


@pytest.mark.parametrize("fields", [(DATASET, RULE, SEVERITY), (SEVERITY,), (RULE, DATASET)])
def test_groups_are_dict_grouping(fields):
    found = _findings(400, 5)
    table = FindingTable.of(found)
    expected: dict = {}
    for i, f in enumerate(found):
        expected.setdefault(tuple(_fields(f)[j] for j in fields), []).append(i)
    got = table.groups(fields)
    assert [(key, rows.tolist()) for key, rows in got] == list(expected.items())
    assert table.group_counts(fields) == [(key, len(rows)) for key, rows in expected.items()]


def test_concat_and_where():
    a, b = _findings(50, 1), _findings(70, 2)
    joined = FindingTable.of(a).concat(FindingTable.of(b))
    assert [_fields(f) for f in joined.findings()] == [_fields(f) for f in a + b]
    kept = joined.where(DATASET, lambda ds: ds in ("AE", "DM"))
    assert [_fields(f) for f in kept.findings()] == [_fields(f) for f in a + b if f.dataset in ("AE", "DM")]


# ---- the report's two forms ------------------------------------------------------------------------------

def test_report_counts_without_objects_and_pickle():
    found = _findings(500, 7)
    plain = ValidationReport(findings=list(found), datasets={"AE": 1})
    columns = pickle.loads(pickle.dumps(plain))
    assert columns._list is None                                     # sent as columns, no objects rebuilt
    assert columns.size == 500
    for severity in ("error", "warning", "notice", "fatal"):
        assert columns.count(severity) == sum(f.severity == severity for f in found)
    assert columns.has_errors == any(f.severity == "error" for f in found)
    assert columns._list is None
    assert [_fields(f) for f in columns.findings] == [_fields(f) for f in found]
    only_warnings = ValidationReport(findings=[f for f in found if f.severity != "error"])
    assert pickle.loads(pickle.dumps(only_warnings)).has_errors is False


def test_sort_extend_sort_is_the_objects_sort():
    a, b = _findings(200, 3), _findings(100, 4)
    report = ValidationReport(findings=list(a))
    report.sort()
    report.extend(b)
    assert report._list is None and report.size == 300
    report.sort()
    expected = sorted(a + b, key=lambda f: f.sort_key)
    assert [_fields(f) for f in report.findings] == [_fields(f) for f in expected]
    report.findings.append(a[0])                 # the list handed out is the report's from then on
    assert report.size == 301


def test_merge_reports_order():
    r1, r2 = _report(40, 1), _report(60, 2)
    merged = merge_reports([r1, r2])
    assert [_fields(f) for f in merged.findings] == \
        [_fields(f) for f in sorted(r1.findings + r2.findings, key=lambda f: f.sort_key)]


# ---- every report format against the old writers --------------------------------------------------------

@pytest.mark.parametrize("n, seed", [(0, 0), (1, 1), (40, 2), (2600, 3)])
def test_report_formats_equal_the_old_writers(tmp_path, n, seed):
    report = _report(n, seed)
    if n == 2600:            # one group over the HTML's 2,000 rows and the JUnit's 200 lines
        report.extend(Finding("TF-VAL-001", "error", "LB", "big", variable="LBORRES", usubjid=f"S-{i}", seq=str(i),
                              row=i + 1, value="v") for i in range(2100))
    old = ref.OldReport(report)
    columns = pickle.loads(pickle.dumps(report))
    assert report_mod.report_json(columns, package="P") == ref.report_json(old, package="P")
    assert report_mod.summary_lines(columns) == ref.summary_lines(old)
    report_formats.write_html(columns, tmp_path / "new.html", package="P")
    ref.write_html(old, tmp_path / "old.html", package="P")
    assert (tmp_path / "new.html").read_text() == (tmp_path / "old.html").read_text()
    for fail_on in ("error", "notice"):
        report_formats.write_junit(columns, tmp_path / "new.xml", package="P", fail_on=fail_on)
        ref.write_junit(old, tmp_path / "old.xml", package="P", fail_on=fail_on)
        assert (tmp_path / "new.xml").read_text() == (tmp_path / "old.xml").read_text()
    sheets = ref.excel_sheets(old)
    assert [list(rows) for *_x, rows, _w in report_formats.excel_sheets(columns)] == [list(rows) for *_x, rows, _w in sheets]
    for package in ("P", "R&D"):          # "R&D": a title openpyxl writes (escaped), rows put in as text
        report_formats.write_excel(columns, tmp_path / "new.xlsx", package=package)
        ref.write_excel(old, tmp_path / "old.xlsx", package=package)
        assert (tmp_path / "new.xlsx").read_bytes() == (tmp_path / "old.xlsx").read_bytes()
    plain = ValidationReport(findings=[f for f in report.findings if not {"=A1", "#N/A"} & set(_fields(f))],
                             standard="SDTMIG 3.4")
    if plain.size:           # every value plain: the template workbook, rows laid out over whole columns
        assert all(all_plain(rows) for *_x, rows, _w in report_formats.excel_sheets(plain))
        report_formats.write_excel(pickle.loads(pickle.dumps(plain)), tmp_path / "new.xlsx", package="P")
        old_bytes = xlsx_book.workbook_bytes(ref.excel_sheets(ref.OldReport(plain)), creator="trialforge",
                                             title="Validation P SDTMIG 3.4")
        assert (tmp_path / "new.xlsx").read_bytes() == old_bytes


def test_report_formats_with_values_that_are_not_plain(tmp_path):
    """Numbers and bools as values, a None message cell row: the general paths, same text as the old ones."""
    found = _findings(30, 9) + [Finding("TF-VAL-001", "warning", "AE", "m", value=1.5, row=3),
                                Finding("TF-VAL-001", "warning", "AE", "m", value=True, seq=None)]
    report = ValidationReport(findings=found, datasets={"AE": 3}, standard="SDTMIG 3.4")
    old = ref.OldReport(report)
    assert report_mod.report_json(report, package="P") == ref.report_json(old, package="P")
    report_formats.write_excel(report, tmp_path / "new.xlsx", package="P")
    ref.write_excel(old, tmp_path / "old.xlsx", package="P")
    assert (tmp_path / "new.xlsx").read_bytes() == (tmp_path / "old.xlsx").read_bytes()


# ---- text() compared with one text, per distinct value ----------------------------------------------------

def test_text_series_compares_like_a_plain_series():
    import operator

    import pandas as pd

    from trialforge.validation.context import TextSeries, clear_profiles, text
    clear_profiles()
    raw = pd.Series(pd.array([" Y", "N", None, "Y ", "", "x", "Y"] * 40, dtype="str"), index=range(5, 285))
    got_text = text(raw)
    assert type(got_text) is TextSeries
    plain = pd.Series([v.strip() if isinstance(v, str) else "" for v in raw.tolist()], index=raw.index, dtype=object)
    assert got_text.tolist() == plain.tolist()
    for op in (operator.eq, operator.ne, operator.lt, operator.ge):
        for other in ("Y", "", "N", "z"):
            got, expected = op(got_text, other), op(plain, other)
            assert type(got) is pd.Series and got.dtype == bool and got.name == expected.name
            assert got.index.equals(expected.index) and got.tolist() == expected.tolist()
    # by hand: records 0, 3 and 6 of each group of seven hold "Y" once trimmed
    assert np.flatnonzero((got_text == "Y").to_numpy())[:6].tolist() == [0, 3, 6, 7, 10, 13]
    # anything else is pandas' own, and what is derived from the text is a plain Series
    assert (got_text == got_text).all()
    assert type(got_text.where(got_text != "")) is pd.Series and type(got_text.iloc[:3]) is pd.Series


@pytest.mark.parametrize("values", [[1.0, 2.0, np.nan, 10.0, -3.0, 0.0, -0.0, 2.0 ** 52], [1.5, 2.0, np.nan],
                                    [1.0, np.inf], [np.nan, np.nan], []])
def test_seq_texts_is_seq_text_per_value(values):
    import pandas as pd

    from trialforge.validation.context import _seq_text, seq_texts
    column = pd.Series(values, dtype=float)
    assert seq_texts(column) == [_seq_text(v) for v in column.tolist()]
    as_text = pd.Series(["1", None, "x"], dtype=object)
    assert seq_texts(as_text) == ["1", None, "x"]


def test_seq_texts_by_hand():
    import pandas as pd

    from trialforge.validation.context import seq_texts
    assert seq_texts(pd.Series([3.0, np.nan, 12.0, -0.0])) == ["3", None, "12", "0"]


# ---- TF-ADSL-004: ADSL copies compared along runs of one subject ------------------------------------------

@pytest.mark.parametrize("seed", range(30))
def test_same_by_runs_is_same_by_take(seed):
    import pyarrow as pa

    from trialforge.validation import rules_adam
    rng = np.random.default_rng(seed)
    n_subjects = int(rng.integers(1, 30))
    values = [None, "A", "B", "A ", ""]
    adsl = [values[int(rng.integers(len(values)))] for _ in range(n_subjects)]
    first = np.arange(n_subjects)
    pos = np.sort(rng.integers(0, n_subjects, size=int(rng.integers(1, 400))))
    if seed % 5 == 0:
        pos = rng.permutation(pos)                        # not grouped: the runs path declines
    mine = [adsl[p] for p in pos]
    if seed % 2:                                          # plant one difference (or a null for a value)
        k = int(rng.integers(len(mine)))
        mine[k] = values[(values.index(mine[k]) + 1) % len(values)]
    data = pa.array(mine, type=pa.string())
    if seed % 3 == 0 and len(mine) > 2:
        data = pa.chunked_array([data.slice(0, len(mine) // 2), data.slice(len(mine) // 2)])
    ref = pa.array(adsl, type=pa.string())
    known = np.ones(len(pos), dtype=bool)
    expected = all((m == adsl[p]) for m, p in zip(mine, pos))          # by hand: None == None, "A" != "A "
    rows = pa.array(first[pos])
    assert rules_adam._same_by_take(data, ref, known, rows) == expected
    runs = rules_adam._subject_runs(pos, known)
    if seed % 5:
        assert runs is not None or len(np.unique(pos)) * 4 > len(pos)
    if runs is not None:
        assert rules_adam._same_by_runs(data, ref, first, pos, runs) == expected


def test_subject_runs_by_hand():
    from trialforge.validation import rules_adam
    starts, continues = rules_adam._subject_runs(np.array([0, 0, 0, 0, 2, 2, 2, 2, 1, 1, 1, 1]), np.ones(12, dtype=bool))
    assert starts.tolist() == [0, 4, 8]
    assert continues.tolist() == [True, True, True, False, True, True, True, False, True, True, True]
    assert rules_adam._subject_runs(np.array([0, 0, 0, 2, 2, 2, 2, 1]), np.ones(8, dtype=bool)) is None   # 3 runs of 8
    assert rules_adam._subject_runs(np.array([0, 1, 0, 1]), np.ones(4, dtype=bool)) is None
    assert rules_adam._subject_runs(np.array([0, 0, 0, 0]), np.array([True, True, False, True])) is None


def test_report_pickled_as_a_list_still_loads():
    """A report pickled by the previous release (its findings a plain attribute) loads with those findings."""
    found = _findings(20, 11)
    report = ValidationReport.__new__(ValidationReport)
    report.__setstate__({"findings": list(found), "datasets": {"AE": 2}, "rules_run": 3, "rule_ids": ["R"],
                         "standard": "SDTMIG 3.4"})
    assert report.size == 20 and [_fields(f) for f in report.findings] == [_fields(f) for f in found]
    assert report.datasets == {"AE": 2} and report.has_errors == any(f.severity == "error" for f in found)
    report.sort()
    assert [_fields(f) for f in report.findings] == [_fields(f) for f in sorted(found, key=lambda f: f.sort_key)]
