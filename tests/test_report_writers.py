"""Validation report files written fast stay the files openpyxl and json.dumps write.

The Excel rows and the JSON findings are written as text (validation/xlsx_rows.py, report.py);
each test writes the same report through the library's own path as well and compares the bytes.
"""
from __future__ import annotations

import json

import pytest

from trialforge.validation import report as report_mod
from trialforge.validation import report_formats, xlsx_rows
from trialforge.validation.findings import Finding, ValidationReport

AWKWARD = ["plain", " leading space", "trailing ", "a & b < c > d", "cr\rlf\n", "tab\tin", "\u00e9\u2265 \U0001F600",
           "", "x" * 40_000, "'quoted\"", "]]>", "#not-an-error"]


def report(values=AWKWARD) -> ValidationReport:
    findings = [Finding("TF-XX-001", "error" if i % 2 else "warning", "AE" if i % 3 else "LB", f"message {i % 4}",
                        variable="AETERM" if i % 2 else None, usubjid=f"S-{i}", seq=str(i) if i % 5 else None,
                        row=i + 1 if i % 7 else None, value=v)
                for i, v in enumerate(values * 3)]
    return ValidationReport(findings=findings, datasets={"AE": 10, "LB": 20}, rules_run=3, standard="SDTMIG 3.4")


def _openpyxl_bytes(rep, path, monkeypatch) -> bytes:
    with monkeypatch.context() as m:
        m.setattr(xlsx_rows, "all_plain", lambda rows: False)      # every row through openpyxl's cells
        return report_formats.write_excel(rep, path, package="P").read_bytes()


def test_excel_rows_as_text_equal_openpyxl_cells(tmp_path, monkeypatch):
    fast = report_formats.write_excel(report(), tmp_path / "fast.xlsx", package="P").read_bytes()
    assert fast == _openpyxl_bytes(report(), tmp_path / "slow.xlsx", monkeypatch)


def test_excel_values_openpyxl_treats_specially_keep_its_path(tmp_path, monkeypatch):
    """A formula-looking text, an error code or a float are left to openpyxl (same file either way)."""
    for odd in (["=SUM(A1)"], ["#N/A"]):
        assert not xlsx_rows.all_plain([odd])
        fast = report_formats.write_excel(report(odd), tmp_path / "f.xlsx", package="P").read_bytes()
        assert fast == _openpyxl_bytes(report(odd), tmp_path / "s.xlsx", monkeypatch)
    assert not xlsx_rows.all_plain([[1.5]]) and not xlsx_rows.all_plain([[True]])
    assert xlsx_rows.all_plain([["=", "a", 3, None]])                  # a lone "=" is text to openpyxl


def test_excel_empty_report(tmp_path, monkeypatch):
    empty = ValidationReport(datasets={"AE": 0})
    fast = report_formats.write_excel(empty, tmp_path / "f.xlsx", package="P").read_bytes()
    assert fast == _openpyxl_bytes(empty, tmp_path / "s.xlsx", monkeypatch)


def test_column_letters_follow_excel():
    letters = xlsx_rows.column_letters(28)
    assert letters[:3] == ["A", "B", "C"] and letters[25:] == ["Z", "AA", "AB"]


def test_json_report_equals_json_dumps(tmp_path):
    rep = report()
    text = report_mod.write_json(rep, tmp_path / "r.json", package="P").read_text(encoding="utf-8")
    expected = json.dumps(report_mod.report_dict(rep, package="P"), indent=1, ensure_ascii=True) + "\n"
    assert text == expected
    assert {f["value"] for f in json.loads(text)["findings"]} == set(AWKWARD)


@pytest.mark.parametrize("items", [[], [{}], [{"a": [1, {"b": None}]}, {"c": 2.5, "d": True}]])
def test_findings_json_lays_out_like_json(items):
    doc = {"k": 1, "findings": items}
    head = '{\n "k": 1,\n "findings": '
    laid = head + ("[\n" + report_mod.findings_json(items, indent=2) + "\n ]\n}" if items else "[]\n}")
    assert laid == json.dumps(doc, indent=1, ensure_ascii=True)
