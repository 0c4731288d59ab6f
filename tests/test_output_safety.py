"""Issue 10: trialforge never loses a user's files.

Data-loss cases first (each deleted files or an earlier output before the change), then the staging
folder's life cycle (locks, stale folders, signals, SIGKILL while writing) and operating-system errors.
Every run here is `trialforge sdtm` on the three-subject test study (about a second).
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import trialforge
from trialforge.cli import main
from trialforge.errors import OutputFolderError
from trialforge.outputs import MARKER, check_target, clean_leftovers, staged_folder

from conftest import add_trial_summary

PACKAGE_PARENT = str(Path(trialforge.__file__).resolve().parent.parent)


def _invoke(args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def _digests(folder: Path) -> dict:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(Path(folder).rglob("*")) if p.is_file()}


@pytest.fixture
def study(mini_study):
    """The mini study with the TS record the gate requires, so `sdtm` passes (exit 0)."""
    return add_trial_summary(mini_study, """
        - {TSPARMCD: SSTDTC, TSPARM: Study Start Date, TSVAL: "2025-01-01"}
    """)


@pytest.fixture
def earlier(study, tmp_path):
    """A complete earlier output folder and its checksums."""
    out = tmp_path / "out"
    assert _invoke(["sdtm", study, "--out", out]).exit_code == 0
    return out, _digests(out)


def _leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if ".staging-" in p.name or ".old-" in p.name)


def _drop_trial_summary(study: Path) -> None:
    """Take the TS record out again: the gate then finds TF-TS-001 (error) and the run exits 1."""
    (study / "study.yaml").write_text((study / "study.yaml").read_text().split("trial_design:")[0])
    (study / "specs" / "ts.yaml").unlink()


# ------------------------------------------------------------------------------- data loss: refusals

def test_out_equal_to_the_study_folder_is_refused_and_nothing_is_deleted(study):
    before = _digests(study)
    result = _invoke(["sdtm", study, "--out", study])
    assert result.exit_code == 2 and str(study) in result.output and "input" in result.output
    assert _digests(study) == before


def test_out_above_the_study_folder_is_refused(study):
    parent = study.parent
    (parent / "notes.txt").write_text("mine")
    before = _digests(parent)
    result = _invoke(["sdtm", study, "--out", parent])
    assert result.exit_code == 2 and str(parent) in result.output
    assert _digests(parent) == before


def test_out_dot_in_a_folder_of_other_files_is_refused(study, tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    (work / "thesis.docx").write_bytes(b"years of work")
    monkeypatch.chdir(work)
    result = _invoke(["sdtm", study, "--out", "."])
    assert result.exit_code == 2 and "did not write" in result.output and str(work) not in _leftovers(work)
    assert (work / "thesis.docx").read_bytes() == b"years of work" and sorted(os.listdir(work)) == ["thesis.docx"]


@pytest.mark.parametrize("inside", ["raw", "specs", "raw/out"])
def test_out_inside_raw_or_specs_is_refused(study, inside):
    before = _digests(study)
    result = _invoke(["sdtm", study, "--out", study / inside])
    assert result.exit_code == 2 and "input" in result.output
    assert _digests(study) == before


def test_a_non_empty_folder_trialforge_did_not_write_is_refused(study, tmp_path):
    foreign = tmp_path / "results"
    foreign.mkdir()
    (foreign / "analysis.sas").write_text("proc print; run;")
    result = _invoke(["sdtm", study, "--out", foreign])
    assert result.exit_code == 2
    assert f"file {foreign}" in result.output and MARKER in result.output and "Traceback" not in result.output
    assert sorted(os.listdir(foreign)) == ["analysis.sas"]


def test_a_failed_run_leaves_the_earlier_output_untouched_and_reports_beside_it(mini_study, earlier, tmp_path):
    out, before = earlier
    _drop_trial_summary(mini_study)
    result = _invoke(["sdtm", mini_study, "--out", out])          # no TS record: gate error TF-TS-001
    assert result.exit_code == 1 and "TF-TS-001" in result.output
    assert _digests(out) == before                                # every earlier dataset still there, unchanged
    failed = tmp_path / "out.failed"
    assert (failed / "validation" / "sdtm" / "validation.json").is_file() and not (failed / "sdtm").exists()
    assert str(failed) in result.output
    assert json.loads((failed / "manifest.json").read_text())["validation"]["sdtm"]["errors"] >= 1


def test_a_successful_run_replaces_its_own_output_and_removes_a_stale_failed_folder(study, earlier, tmp_path):
    out, _ = earlier
    (out / "sdtm" / "stale.xpt").write_bytes(b"from an older run")
    (tmp_path / "out.failed").mkdir()
    (tmp_path / "out.failed" / MARKER).write_text("x")
    assert _invoke(["sdtm", study, "--out", out]).exit_code == 0
    assert not (out / "sdtm" / "stale.xpt").exists() and (out / MARKER).is_file()
    assert not (tmp_path / "out.failed").exists() and _leftovers(tmp_path) == []


def test_an_empty_folder_and_an_output_of_an_earlier_version_are_replaced(study, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert _invoke(["sdtm", study, "--out", empty]).exit_code == 0 and (empty / "sdtm" / "dm.xpt").is_file()
    legacy = tmp_path / "legacy"               # written before the marker existed: a trialforge manifest
    legacy.mkdir()
    (legacy / "manifest.json").write_text(json.dumps({"manifest_version": 1, "tool": {"name": "trialforge"}}))
    (legacy / "old.xpt").write_bytes(b"x")
    assert _invoke(["sdtm", study, "--out", legacy]).exit_code == 0 and not (legacy / "old.xpt").exists()


def test_a_failed_folder_trialforge_did_not_write_is_refused_before_any_work(mini_study, tmp_path):
    failed = tmp_path / "out.failed"
    failed.mkdir()
    (failed / "mine.txt").write_text("keep")
    result = _invoke(["sdtm", mini_study, "--out", tmp_path / "out"])
    assert result.exit_code == 2 and str(failed) in result.output
    assert (failed / "mine.txt").read_text() == "keep" and not (tmp_path / "out").exists()


def test_out_that_is_a_file_is_refused(study, tmp_path):
    target = tmp_path / "out"
    target.write_text("a file")
    assert _invoke(["sdtm", study, "--out", target]).exit_code == 2
    with pytest.raises(OutputFolderError, match="is a file"):
        check_target(target)
    assert target.read_text() == "a file"


def test_symlinked_out_replaces_the_folder_it_points_to_and_keeps_the_link(study, earlier, tmp_path):
    out, _ = earlier
    link = tmp_path / "link"
    link.symlink_to(out, target_is_directory=True)
    assert _invoke(["sdtm", study, "--out", link]).exit_code == 0
    assert link.is_symlink() and (link / "sdtm" / "dm.xpt").is_file() and _leftovers(tmp_path) == []


def test_symlink_to_a_foreign_folder_or_to_nothing_is_refused(study, tmp_path):
    foreign = tmp_path / "home"
    foreign.mkdir()
    (foreign / "photo.jpg").write_bytes(b"\xff\xd8")
    (tmp_path / "to_home").symlink_to(foreign)
    assert _invoke(["sdtm", study, "--out", tmp_path / "to_home"]).exit_code == 2
    assert sorted(os.listdir(foreign)) == ["photo.jpg"]
    (tmp_path / "dangling").symlink_to(tmp_path / "missing")
    result = _invoke(["sdtm", study, "--out", tmp_path / "dangling"])
    assert result.exit_code == 2 and "symbolic link" in result.output and not (tmp_path / "missing").exists()


def test_adam_out_over_its_own_sdtm_input_is_refused(study, earlier):
    out, before = earlier
    spec = study / "specs" / "adam.yaml"
    spec.write_text("datasets: {}\n")
    result = CliRunner().invoke(main, ["adam", "--sdtm", str(out / "sdtm"), "--spec", str(spec), "--out", str(out)])
    assert result.exit_code == 2 and "input" in result.output
    assert _digests(out) == before


# ---------------------------------------------------------------------- operating-system errors

@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EACCES, errno.EROFS])
def test_os_errors_while_writing_are_one_line_exit_2_naming_the_path(study, earlier, tmp_path, monkeypatch, code):
    out, before = earlier
    import trialforge.pipeline as pipeline

    def failing_write(datasets, folder, **kw):
        raise OSError(code, os.strerror(code), str(folder / "ae.xpt"))
    monkeypatch.setattr(pipeline, "write_package", failing_write)
    result = _invoke(["sdtm", study, "--out", out])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert lines[-1] == f"error: cannot write the output: {os.strerror(code)} [{errno.errorcode[code]}] " \
                        f"(file {out / 'sdtm' / 'ae.xpt'})"
    assert "internal error" not in result.output and "Traceback" not in result.output
    assert _digests(out) == before and _leftovers(tmp_path) == []


def test_out_below_a_file_is_refused_naming_the_file(study, tmp_path):
    (tmp_path / "plain").write_text("x")
    result = _invoke(["sdtm", study, "--out", tmp_path / "plain" / "out"])
    assert result.exit_code == 2 and result.output.splitlines()[-1] == \
        f"error: the output folder cannot be created: a folder above it is a file (file {tmp_path / 'plain'})"


def test_os_error_in_any_command_is_exit_2_not_internal_error(earlier, tmp_path):
    out, _ = earlier
    (tmp_path / "plain").write_text("x")
    result = _invoke(["validate", out / "sdtm", "--report-dir", tmp_path / "plain" / "rep"])
    assert result.exit_code == 2 and "error: " in result.output
    assert "internal error" not in result.output and "plain" in result.output


# ------------------------------------------------------------------------------ staging life cycle

def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_staging_of_a_dead_process_is_removed_and_a_live_ones_kept(study, earlier, tmp_path):
    out, _ = earlier
    dead = tmp_path / f".out.staging-{_dead_pid()}"
    live = tmp_path / f".out.staging-{os.getppid()}"
    for folder in (dead, live):
        (folder / "sdtm").mkdir(parents=True)
        (folder / "sdtm" / "ae.xpt").write_bytes(b"\0" * 1000)
    assert _invoke(["sdtm", study, "--out", out]).exit_code == 0
    assert not dead.exists() and live.is_dir()


def test_a_swap_killed_half_way_gets_the_earlier_output_back(mini_study, earlier, tmp_path):
    out, before = earlier
    old = tmp_path / f".out.old-{_dead_pid()}"
    out.rename(old)                                     # killed between the two renames of a swap
    _drop_trial_summary(mini_study)
    assert _invoke(["sdtm", mini_study, "--out", out]).exit_code == 1      # even a failing next run restores it
    assert _digests(out) == before and not old.exists()


def test_clean_leftovers_ignores_other_folders(tmp_path):
    target = tmp_path / "out"
    for name in (".out.staging-x", ".outer.staging-1", "out.staging-1", ".out.lock"):
        (tmp_path / name).mkdir()
    assert clean_leftovers(target) == []
    odd = tmp_path / "o[1]*"                             # glob characters in the folder name
    stale = tmp_path / f".o[1]*.staging-{_dead_pid()}"
    stale.mkdir()
    assert clean_leftovers(odd) == [stale] and not stale.exists()


CONCURRENT = """
import sys, time
from pathlib import Path
from trialforge.outputs import staged_folder
with staged_folder(Path(sys.argv[1])) as stage:
    for i in range(40):
        (stage / f"f{i:02}.txt").write_text(sys.argv[2] * 1000)
    while time.time() < float(sys.argv[3]):                    # spin: both runs finish at the same instant
        pass
"""


def test_concurrent_runs_on_one_folder_never_collide(tmp_path):
    env = {**os.environ, "PYTHONPATH": PACKAGE_PARENT}
    target = tmp_path / "out"
    for round_ in range(12):
        finish = f"{time.time() + 0.5:.3f}"
        procs = [subprocess.Popen([sys.executable, "-c", CONCURRENT, str(target), tag, finish], env=env,
                                  stderr=subprocess.PIPE, text=True) for tag in "ab"]
        errors = [p.communicate()[1] for p in procs]
        assert [p.returncode for p in procs] == [0, 0], errors
        texts = {p.read_text() for p in target.glob("f*.txt")}
        assert len(list(target.glob("f*.txt"))) == 40 and len(texts) == 1, round_
        assert _leftovers(tmp_path) == [], round_


# A run whose writing is slowed down, so a test can catch it with its staging folder half written.
SLOW_RUN = """
import sys, time
import trialforge.pipeline as pipeline
real = pipeline.write_package
def slow(*args, **kw):
    paths = real(*args, **kw)
    time.sleep(30)
    return paths
pipeline.write_package = slow
from trialforge.cli import main
sys.argv = ["trialforge"] + sys.argv[1:]
main()
"""


def _start_slow_run(study, out):
    env = {**os.environ, "PYTHONPATH": PACKAGE_PARENT}
    return subprocess.Popen([sys.executable, "-c", SLOW_RUN, "sdtm", str(study), "--out", str(out)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_staging(proc, out: Path, before: dict) -> Path:
    """Poll until the run has written XPT files into its staging folder; the earlier output must not move."""
    staging = out.parent / f".{out.name}.staging-{proc.pid}"
    deadline = time.monotonic() + 60
    while not list((staging / "sdtm").glob("*.xpt")):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the run never started writing"
        assert _digests(out) == before
        time.sleep(0.05)
    return staging


def test_fault_sigkill_while_writing_then_a_normal_run(study, earlier, tmp_path):
    out, before = earlier
    proc = _start_slow_run(study, out)
    staging = _wait_for_staging(proc, out, before)
    proc.kill()                                         # SIGKILL: no clean-up code runs
    proc.wait()
    proc.stdout.close(), proc.stderr.close()
    assert staging.is_dir() and _digests(out) == before          # killed mid-write: earlier output intact
    result = _invoke(["sdtm", study, "--out", out])               # the next normal run
    assert result.exit_code == 0
    assert _leftovers(tmp_path) == [] and not staging.exists()
    assert _digests(out) == before                                # same inputs: the same bytes again


@pytest.mark.parametrize("signum,code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_sigterm_and_ctrl_c_clean_up_and_exit_143_130(study, earlier, tmp_path, signum, code):
    out, before = earlier
    proc = _start_slow_run(study, out)
    staging = _wait_for_staging(proc, out, before)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert "Traceback" not in err and "nothing written" in err
    assert not staging.exists() and _leftovers(tmp_path) == [] and _digests(out) == before


def test_staged_folder_keeps_the_target_when_the_body_raises(tmp_path):
    target = tmp_path / "out"
    with staged_folder(target) as stage:
        (stage / "a.txt").write_text("one")
    with pytest.raises(RuntimeError):
        with staged_folder(target) as stage:
            (stage / "a.txt").write_text("two")
            raise RuntimeError("boom")
    assert (target / "a.txt").read_text() == "one" and _leftovers(tmp_path) == []


# ------------------------------------------------------------------------------------------ CLI

def test_the_file_count_matches_the_files_on_disk(study, tmp_path):
    out = tmp_path / "out"
    result = _invoke(["sdtm", study, "--out", out])
    on_disk = sum(1 for p in out.rglob("*") if p.is_file())
    assert f"wrote {on_disk} files to {out}" in result.output
    assert f"validation report: {out / 'validation' / 'sdtm' / 'validation.html'}" in result.output


def test_help_shows_examples_output_layout_and_exit_codes():
    top = _invoke(["--help"]).output
    assert "Examples:" in top and "..." not in top.split("Commands:")[1]      # no truncated descriptions
    run = _invoke(["run", "--help"]).output
    for text in ("Examples:", "OUT/tables/index.html", "OUT.failed/", "130", "143", ".trialforge-output"):
        assert text in run, text
    for command in ("sdtm", "define", "adam", "validate", "tables", "verify", "synth", "xpt", "spec"):
        assert "Example" in _invoke([command, "--help"]).output, command


def test_a_bad_created_date_is_named_before_any_work(study, tmp_path):
    config = study / "study.yaml"
    config.write_text(config.read_text().replace('created: "2026-01-31T00:00:00"', "created: 31/01/2026"))
    result = _invoke(["sdtm", study, "--out", tmp_path / "out"])
    assert result.exit_code == 2 and "  sdtm " not in result.output          # no dataset was mapped first
    assert f"(file {config}, column created, value '31/01/2026')" in result.output.splitlines()[-1]
