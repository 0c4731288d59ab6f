"""End-to-end: the CLI on the bundled example study, read back with an independent XPT reader."""
import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
from click.testing import CliRunner

from trialforge.cli import main
from trialforge.pipeline import DEFAULT_STUDY
from trialforge.sdtm.dates import is_iso8601


def _run(args):
    return CliRunner().invoke(main, args, catch_exceptions=False)


@pytest.fixture(scope="module")
def example_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("run1") / "out"
    result = _run(["run", "--out", str(out)])
    assert result.exit_code == 0, result.output
    RUN_OUTPUT.append(result.output)
    return out


RUN_OUTPUT: list[str] = []


def test_run_ends_pointing_to_tables_and_reports_with_the_true_file_count(example_out):
    lines = RUN_OUTPUT[0].strip().splitlines()
    on_disk = sum(1 for p in example_out.rglob("*") if p.is_file())
    assert f"wrote {on_disk} files to {example_out}" in lines
    assert lines[-3:] == [f"  tables:            {example_out / 'tables' / 'index.html'}",
                          f"  validation report: {example_out / 'validation' / 'sdtm' / 'validation.html'}",
                          f"  validation report: {example_out / 'validation' / 'adam' / 'validation.html'}"]


def _digests(folder: Path) -> dict:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_run_writes_the_skeleton_datasets_readable_by_pyreadstat(example_out):
    sdtm = example_out / "sdtm"
    for name in ("dm", "ae", "suppae", "ex", "suppdm"):
        assert (sdtm / f"{name}.xpt").is_file(), name
    df, meta = pyreadstat.read_xport(str(sdtm / "ae.xpt"))
    assert meta.table_name == "AE" and meta.file_label == "Adverse Events"
    assert meta.column_names_to_labels["AEDECOD"] == "Dictionary-Derived Term"
    assert meta.column_names_to_labels["AESTDTC"] == "Start Date/Time of Adverse Event"
    dm, dm_meta = pyreadstat.read_xport(str(sdtm / "dm.xpt"))
    assert dm_meta.file_label == "Demographics"
    assert dm["USUBJID"].is_unique
    raw_dm = pd.read_csv(DEFAULT_STUDY / "raw" / "dm.csv", dtype=str)
    assert len(dm) == len(raw_dm)                       # one row per screened subject


def test_no_study_day_zero_and_every_dtc_is_iso8601(example_out):
    for path in sorted((example_out / "sdtm").glob("*.xpt")):
        df, _ = pyreadstat.read_xport(str(path))
        for col in df.columns:
            if col.endswith("DY") and pd.api.types.is_numeric_dtype(df[col]):
                assert not (df[col] == 0).any(), f"{path.name} {col} has day 0"
            if col.endswith("DTC"):
                bad = df.loc[~is_iso8601(df[col]), col]
                assert bad.empty, f"{path.name} {col}: {bad.tolist()[:3]}"


def test_validate_reports_no_errors_on_own_output(example_out):
    result = _run(["validate", str(example_out / "sdtm")])
    assert result.exit_code == 0, result.output
    assert " 0 errors" in result.output


def test_validate_names_each_seeded_defect(example_out, tmp_path):
    from trialforge.submission.xpt import read_xpt, write_xpt
    broken = tmp_path / "sdtm"
    shutil.copytree(example_out / "sdtm", broken)
    ae = read_xpt(broken / "ae.xpt")
    frame = ae.frame
    frame.loc[1, "AESEQ"] = frame.loc[0, "AESEQ"]
    frame.loc[1, "USUBJID"] = frame.loc[0, "USUBJID"]          # duplicate AESEQ within a subject
    frame.loc[2, "USUBJID"] = "CD70-CART-101-999-999"          # a subject missing from DM
    frame.loc[3, "AESTDTC"] = "2024-02-30"                     # not a calendar date
    write_xpt(ae, broken / "ae.xpt")
    result = _run(["validate", str(broken), "--report-dir", str(tmp_path / "rep")])
    assert result.exit_code == 1, result.output
    for rule_id in ("TF-SEQ-001", "TF-REF-001", "TF-DT-001"):
        assert rule_id in result.output, rule_id


@pytest.mark.slow
def test_rerun_is_byte_identical(example_out, tmp_path):
    again = tmp_path / "out"
    assert _run(["run", "--out", str(again)]).exit_code == 0
    assert _digests(again) == _digests(example_out)


def test_bad_input_exits_2_with_location_and_leaves_no_output(tmp_path):
    study = tmp_path / "study"
    shutil.copytree(DEFAULT_STUDY, study, ignore=shutil.ignore_patterns("out"))
    ae = study / "raw" / "ae.csv"
    text = ae.read_text().replace("Recovered/Resolved", "All better", 1)
    ae.write_text(text)
    proc = subprocess.run([sys.executable, "-m", "trialforge.cli", "run", str(study)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "ae.csv" in proc.stderr and "AEOUT" in proc.stderr and "All better" in proc.stderr and "row" in proc.stderr
    assert not (study / "out").exists()
    assert not list(study.glob(".out.*"))


def test_missing_study_folder_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(main, ["run", str(tmp_path / "nope")])
    assert result.exit_code == 2 and "not found" in result.output
