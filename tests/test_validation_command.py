"""``trialforge validate`` end to end on a folder of XPT files written here (never the shared pilot)."""
from __future__ import annotations

import json
import zipfile
from dataclasses import replace
from xml.etree import ElementTree

import pytest
from click.testing import CliRunner

from test_validation_packages import adam_package, sdtm_package
from trialforge.submission.xpt import write_xpt
from trialforge.validation.command import validate_command


def _write(package, folder):
    folder.mkdir(parents=True, exist_ok=True)
    for name, ds in package.datasets.items():
        write_xpt(ds, folder / f"{name.lower()}.xpt")
    return folder


@pytest.fixture(scope="module")
def sdtm_dir(tmp_path_factory):
    return _write(sdtm_package(), tmp_path_factory.mktemp("pkg") / "sdtm")


def run(*args):
    return CliRunner().invoke(validate_command, [str(a) for a in args])


def test_conforming_package_exits_0_and_writes_every_format(sdtm_dir, tmp_path):
    result = run(sdtm_dir, "--report-dir", tmp_path)
    assert result.exit_code == 0, result.output
    assert "0 errors, 0 warnings" in result.output
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["validation-junit.xml", "validation.html", "validation.json", "validation.xlsx"]
    doc = json.loads((tmp_path / "validation.json").read_text())
    assert doc["summary"]["datasets"] == 14 and doc["findings"] == [] and doc["standard"] == "SDTMIG 3.4"
    suites = ElementTree.parse(tmp_path / "validation-junit.xml").getroot()
    assert suites.get("failures") == "0" and int(suites.get("tests")) > 100


def test_findings_set_the_exit_code_by_fail_on(tmp_path):
    pkg = sdtm_package()
    ae = pkg.frame("AE").copy()
    ae.loc[0, "AESTDTC"] = "2024-02-30"          # error TF-DT-001
    ae.loc[1, "AESER"] = "Y"                     # warning TF-AE-002 (no criterion is Y)
    pkg.set_frame("AE", ae)
    folder = _write(pkg, tmp_path / "sdtm")
    assert run(folder).exit_code == 1
    pkg.set_frame("AE", ae.assign(AESTDTC=["2024-01-15", "2024-01-20"]))
    _write(pkg, folder)
    assert run(folder).exit_code == 0                          # only a warning left
    assert run(folder, "--fail-on", "warning").exit_code == 1


def test_report_files_are_byte_identical_across_runs(sdtm_dir, tmp_path):
    run(sdtm_dir, "--report-dir", tmp_path / "a")
    run(sdtm_dir, "--report-dir", tmp_path / "b")
    for name in ("validation.json", "validation.html", "validation.xlsx", "validation-junit.xml"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_unusable_input_exits_2(tmp_path):
    assert run(tmp_path / "missing").exit_code == 2
    (tmp_path / "empty").mkdir()
    assert run(tmp_path / "empty").exit_code == 2
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "ae.xpt").write_bytes(b"not an xpt file")
    result = run(tmp_path / "junk")
    assert result.exit_code == 2 and "ae.xpt" in result.output


def test_a_broken_file_beside_good_ones_is_a_finding(sdtm_dir, tmp_path):
    folder = _write(sdtm_package(), tmp_path / "sdtm")
    (folder / "zz.xpt").write_bytes(b"HEADER RECORD" + b" " * 10)
    result = run(folder, "--report-dir", tmp_path / "rep")
    assert result.exit_code == 1
    doc = json.loads((tmp_path / "rep" / "validation.json").read_text())
    assert [f["dataset"] for f in doc["findings"] if f["rule_id"] == "TF-IO-001"] == ["zz.xpt"]


def test_windows_1252_text_is_read_and_reported_not_crashed(tmp_path):
    pkg = sdtm_package()
    ts = pkg.frame("TS").copy()
    ts.loc[ts["TSPARMCD"] == "TITLE", "TSVAL"] = "Patients with Alzheimer's Disease"
    ds = pkg.datasets["TS"]
    pkg.set_frame("TS", ts, variables=tuple(
        replace(v, length=40) if v.name == "TSVAL" else v for v in ds.meta.variables))
    folder = _write(pkg, tmp_path / "sdtm")
    raw = (folder / "ts.xpt").read_bytes()      # as SAS on Windows writes it: a cp1252 right quote
    (folder / "ts.xpt").write_bytes(raw.replace(b"Alzheimer's", b"Alzheimer\x92s"))
    result = run(folder, "--report-dir", tmp_path / "rep")
    doc = json.loads((tmp_path / "rep" / "validation.json").read_text())
    hits = [f for f in doc["findings"] if f["rule_id"] == "TF-XPT-002"]
    assert result.exit_code == 1 and hits and hits[0]["value"].endswith("Alzheimer\u2019s Disease")


def test_mixed_folder_validates_sdtm_and_adam_each_against_its_standard(tmp_path):
    folder = _write(sdtm_package(), tmp_path / "both")
    _write(adam_package(), folder)
    result = run(folder, "--report-dir", tmp_path / "rep")
    assert result.exit_code == 0, result.output
    assert "SDTMIG 3.4; ADaMIG 1.3" in result.output


def test_excel_has_the_familiar_sheets(sdtm_dir, tmp_path):
    from openpyxl import load_workbook
    run(sdtm_dir, "--report-dir", tmp_path, "--format", "xlsx")
    book = load_workbook(tmp_path / "validation.xlsx")
    assert book.sheetnames[:3] == ["Dataset Summary", "Issue Summary", "Details"]
    assert zipfile.is_zipfile(tmp_path / "validation.xlsx")


def test_list_rules_prints_the_catalogue():
    result = run("--list-rules", ".")
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert result.exit_code == 0 and len(rows) >= 90
    assert {"rule_id", "severity", "scope", "p21", "publisher", "message"} <= set(rows[0])


def test_core_json_report_follows_cores_fields(tmp_path):
    pkg = sdtm_package()
    frame = pkg.frame("AE").copy()
    frame.loc[0, "USUBJID"] = "ST1-01-999"
    pkg.set_frame("AE", frame)
    folder = _write(pkg, tmp_path / "pkg")
    result = run(folder, "--report-dir", tmp_path / "rep", "--format", "core-json")
    doc = json.loads((tmp_path / "rep" / "validation-core.json").read_text())
    assert list(doc) == ["Conformance_Details", "Dataset_Details", "Issue_Summary", "Issue_Details", "Rules_Report"]
    assert doc["Conformance_Details"]["Standard"] == "SDTMIG" and doc["Conformance_Details"]["Version"] == "V3.4"
    issue = next(i for i in doc["Issue_Details"] if i["core_id"] == "TF-REF-001")
    assert {k: issue[k] for k in ("dataset", "USUBJID", "SEQ", "row", "variables", "values")} == \
        {"dataset": "ae.xpt", "USUBJID": "ST1-01-999", "SEQ": "1", "row": 1, "variables": ["USUBJID"],
         "values": ["ST1-01-999"]}
    rule = next(r for r in doc["Rules_Report"] if r["core_id"] == "TF-REF-001")
    assert rule["cdisc_rule_id"] == "CG0029" and result.exit_code == 1


def test_compare_core_lists_what_each_tool_alone_reports(tmp_path):
    pkg = sdtm_package()
    frame = pkg.frame("AE").copy()
    frame.loc[0, "USUBJID"] = "ST1-01-999"                 # trialforge TF-REF-001 (CG0029) flags this record
    pkg.set_frame("AE", frame)
    folder = _write(pkg, tmp_path / "pkg")
    core = {"Issue_Details": [
                {"core_id": "CORE-000001", "dataset": "ae.xpt", "USUBJID": "ST1-01-999", "SEQ": 1, "row": 1},
                {"core_id": "CORE-000002", "dataset": "dm.xpt", "USUBJID": "ST1-01-001", "SEQ": "", "row": 1}],
            "Rules_Report": [{"core_id": "CORE-000001", "cdisc_rule_id": "CG0029", "fda_rule_id": ""},
                             {"core_id": "CORE-000002", "cdisc_rule_id": "CG9999", "fda_rule_id": ""}]}
    core_path = tmp_path / "core.json"
    core_path.write_text(json.dumps(core))
    result = run(folder, "--compare-core", core_path, "--report-dir", tmp_path / "rep", "--format", "json")
    diff = json.loads((tmp_path / "rep" / "core-comparison.json").read_text())
    assert diff["only_in_core"] == [{"core_id": "CORE-000002", "dataset": "DM", "issues": 1}]
    assert not [x for x in diff["only_in_trialforge"] if x["rule_id"] == "TF-REF-001"]
    assert "only CORE        CORE-000002" in result.output


def test_compare_core_rejects_a_file_that_is_not_a_core_report(tmp_path, sdtm_dir):
    bad = tmp_path / "x.json"
    bad.write_text("{}")
    result = run(sdtm_dir, "--compare-core", bad)
    assert result.exit_code == 2 and "not a CDISC CORE JSON report" in result.output
