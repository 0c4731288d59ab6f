"""The smaller commands: sdtm, define, xpt, spec (the full run is in test_cli_e2e.py)."""
from click.testing import CliRunner

from trialforge.cli import main

from conftest import add_trial_summary


def _invoke(args):
    return CliRunner().invoke(main, args, catch_exceptions=False)


def _with_ts(mini_study):
    """The mini study plus the trial summary record FDA requires (SSTDTC), so the gate can pass."""
    return add_trial_summary(mini_study, """
        - {TSPARMCD: SSTDTC, TSPARM: Study Start Date, TSVAL: "2025-01-01"}
    """)


def test_sdtm_command_writes_only_sdtm(mini_study, tmp_path):
    out = tmp_path / "out"
    result = _invoke(["sdtm", str(_with_ts(mini_study)), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (out / "sdtm").glob("*.xpt")) == \
        ["ae.xpt", "dm.xpt", "ex.xpt", "suppae.xpt", "suppdm.xpt", "ts.xpt"]
    assert (out / "sdtm" / "define.xml").is_file() and (out / "manifest.json").is_file()
    assert not (out / "adam").exists() and not (out / "tables").exists()


def test_gate_errors_exit_1_and_write_no_datasets(mini_study, tmp_path):
    out = tmp_path / "out"
    result = _invoke(["sdtm", str(mini_study), "--out", str(out)])      # no TS: FDA rejects the package
    assert result.exit_code == 1 and "TF-TS-001" in result.output
    # issue 10: a failed run's reports go beside the output folder (out.failed/), never into it
    failed = tmp_path / "out.failed"
    assert not out.exists() and not (failed / "sdtm").exists() and (failed / "validation").is_dir()
    assert str(failed) in result.output


def test_xpt_and_spec_show_metadata(mini_study, tmp_path):
    out = tmp_path / "out"
    _invoke(["sdtm", str(_with_ts(mini_study)), "--out", str(out)])
    shown = _invoke(["xpt", str(out / "sdtm" / "ae.xpt"), "--rows", "1"])
    assert shown.exit_code == 0 and "AE: 'Adverse Events', 3 records" in shown.output
    assert "AESTDTC  Char" in shown.output
    spec = _invoke(["spec", "AE", str(mini_study)])
    assert spec.exit_code == 0 and "AESTDY   Num  Perm Derived     study_day" in spec.output
    unknown = CliRunner().invoke(main, ["spec", "QS", str(mini_study)])
    assert unknown.exit_code == 2 and "no spec builds QS" in unknown.output


def test_run_prints_the_outputs_not_produced(monkeypatch, tmp_path):
    """issue #17: `run` names each CSR output not produced (number, title, reason) on the console."""
    from trialforge import pipeline
    lines = ["not produced: Table 14.1.4 Study Treatment Exposure: ADEX not supplied",
             "not produced: Table 14.3.5.1 Anti-CAR Antibodies: ADIS not supplied"]
    (tmp_path / "tables").mkdir()
    (tmp_path / "tables" / "index.html").write_text("<html></html>")
    result = pipeline.RunResult(out_dir=tmp_path, published=tmp_path, not_produced=lines)
    monkeypatch.setattr(pipeline, "run_study", lambda *a, **k: result)
    res = _invoke(["run", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert [x.strip() for x in res.output.splitlines() if "not produced" in x] == lines
