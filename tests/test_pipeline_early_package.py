"""Two jobs: the SDTM gate's worker writes SDTM XPT and Dataset-JSON files ahead while ADaM is derived
(``pipeline_overlap._EarlyPackage``). The files, progress lines, errors and failed-run folders must be those
of one job, whichever process wrote which file."""
from __future__ import annotations

import hashlib
import os
import shutil
import time
from pathlib import Path

import pytest

from trialforge.jobs import ForkTask, Handover
from live_processes import children

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "cd70-cart"


def _digests(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(Path(folder).rglob("*")) if p.is_file()}


def _copy_example(tmp_path: Path) -> Path:
    study = tmp_path / "study"
    shutil.copytree(EXAMPLE, study, ignore=shutil.ignore_patterns("out", "out.failed"))
    return study


def _record(log: Path, fn, fail: set):
    """``fn`` that appends "pid package.kind/name" (e.g. sdtm.xpt/ae) to ``log`` first and raises for the ones
    in ``fail``."""
    def write(name, ds, folder, **kw):
        label = (f"{folder.parent.name}.json" if folder.name == "json" else f"{folder.name}.xpt") + f"/{name.lower()}"
        with open(log, "a") as fh:
            fh.write(f"{os.getpid()} {label}\n")
        if label in fail:
            from trialforge.errors import RawDataError
            raise RawDataError(f"cannot write {name.lower()}", file=f"{name.lower()}.{folder.name}")
        return fn(name, ds, folder, **kw)
    return write


def _logged(log: Path) -> list[tuple[str, str]]:
    return [tuple(line.split()) for line in log.read_text().splitlines()] if log.exists() else []


def _slow_adam(log: Path, until):
    """``build_adam_stage`` that first waits (up to 60 s) until ``until(lines of log, sdtm)``: the gate's worker
    then has written (or failed to write) its files before ADaM exists, whatever the machine's load."""
    import trialforge.pipeline as pipeline
    real = pipeline.build_adam_stage

    def build(study, sdtm):
        deadline = time.monotonic() + 60
        while not until(_logged(log), sdtm) and time.monotonic() < deadline:
            time.sleep(0.02)
        return real(study, sdtm)
    return build


def _run(study, out, jobs, monkeypatch, log, *, fail=(), until=None, gate=None):
    import trialforge.pipeline as pipeline
    from trialforge.pipeline import run_study
    with monkeypatch.context() as m:
        m.setattr(pipeline, "write_one_xpt", _record(log, pipeline.write_one_xpt, set(fail)))
        m.setattr(pipeline, "write_one_dataset_json", _record(log, pipeline.write_one_dataset_json, set(fail)))
        if until is not None:
            m.setattr(pipeline, "build_adam_stage", _slow_adam(log, until))
        if gate is not None:
            m.setattr(pipeline, "validate_datasets", gate(pipeline.validate_datasets))
        lines = []
        try:
            result = run_study(study, out_dir=out, jobs=jobs, progress=lambda *a: lines.append(a),
                               stage_timer=lambda stage, wall, cpu: lines.append(("timed", stage)))
            return result, lines, None
        except Exception as exc:  # noqa: BLE001 - compared between the job counts
            return None, lines, exc


def _all_ahead(lines, sdtm) -> bool:
    """Every SDTM file the gate's worker may write (XPT and JSON of each mapped dataset) is in the log."""
    return len({name for _, name in lines}) >= 2 * len(sdtm)


@pytest.mark.slow
def test_the_gate_worker_writes_the_mapped_sdtm_files_and_the_folder_is_the_one_job_folder(tmp_path, monkeypatch):
    study = _copy_example(tmp_path)
    got = {}
    for jobs in (1, 2):
        log = tmp_path / f"log{jobs}"
        result, lines, error = _run(study, tmp_path / str(jobs) / "out", jobs, monkeypatch, log,
                                    until=_all_ahead if jobs == 2 else None)
        assert error is None, error
        got[jobs] = (_digests(result.published), lines, result.written, _logged(log))
    (files1, lines1, written1, log1), (files2, lines2, written2, log2) = got[1], got[2]
    assert files1 == files2 and "sdtm/ae.xpt" in files1 and "sdtm/json/lb.json" in files1
    assert len(log1) == len([k for k in files1 if k.endswith((".xpt", ".json")) and k.startswith(("sdtm/", "adam/"))])
    # progress lines and timed stages in the same order (a worker's stages when its result is taken)
    assert [x for x in lines1 if x[0] != "timed"] == [x for x in lines2 if x[0] != "timed"]
    # the same stages, once per run as with one job (xpt, dataset_json, define once per package), and the
    # manifest twice with two jobs (the inputs and packages hashed while the tables finish)
    from collections import Counter
    stages1, stages2 = (Counter(x[1] for x in lines if x[0] == "timed") for lines in (lines1, lines2))
    assert stages2 == stages1 + Counter({"manifest": 1})
    assert stages1["xpt"] == stages1["dataset_json"] == stages1["define"] == 2 and stages1["manifest"] == 1
    assert [x[1] for x in lines1 if x[0] == "timed"].count("xpt") == 2             # once per package
    assert [p.relative_to(tmp_path / "1") for p in written1] == [p.relative_to(tmp_path / "2") for p in written2]
    me = str(os.getpid())
    assert {pid for pid, _ in log1} == {me}
    sdtm_files = {name for _, name in log1 if name.startswith("sdtm.")}
    by = {name: pid for pid, name in log2}
    ahead = {name for name, pid in by.items() if pid != me}
    # PP is made by the ADaM stage: written here; every other SDTM file by the gate's worker, once each
    assert ahead == sdtm_files - {"sdtm.xpt/pp", "sdtm.json/pp"} and len(ahead) > 40
    assert by["sdtm.xpt/pp"] == by["sdtm.json/pp"] == by["adam.xpt/adsl"] == me
    assert sorted(n for _, n in log2) == sorted(n for _, n in log1)          # no file written twice
    assert children() == []


def _first_failure(names):
    """Wait until the worker has tried one of ``names`` (it then fails and writes no more)."""
    return lambda lines, sdtm: any(n in names for _, n in lines)


@pytest.mark.slow
@pytest.mark.parametrize("fail, expected, last_xpt", [
    # the worker fails at AE's Dataset-JSON before this process writes PP's XPT, which fails: the XPT comes
    # first in the one-job order (every XPT, then every Dataset-JSON), so PP's error is the run's error
    ({"sdtm.json/ae", "sdtm.xpt/pp"}, "cannot write pp (file pp.sdtm)", "PC"),
    # only the worker's LB XPT fails: the XPT lines of the datasets before LB, then LB's error
    ({"sdtm.xpt/lb"}, "cannot write lb (file lb.sdtm)", "IS"),
])
def test_a_file_failing_ahead_or_here_is_the_one_job_error(tmp_path, monkeypatch, fail, expected, last_xpt):
    study = _copy_example(tmp_path)
    got = {}
    for jobs in (1, 2):
        log = tmp_path / f"log{jobs}"
        until = _first_failure(fail) if jobs == 2 else None
        result, lines, error = _run(study, tmp_path / str(jobs) / "out", jobs, monkeypatch, log, fail=fail,
                                    until=until)
        assert result is None and error is not None
        got[jobs] = (type(error), str(error), [x for x in lines if x[0] != "timed"])
        assert not [p.name for p in (tmp_path / str(jobs)).iterdir() if p.name != ".out.lock"]
    assert got[1] == got[2]
    assert got[1][1] == expected
    xpt_lines = [name for stage, name, _ in got[1][2] if stage == "xpt"]
    # the one-job order by hand: XPT files in name order up to the failing one (the example's SDTM before
    # PP ends with PC, before LB with IS)
    assert xpt_lines[0] == "AE" and xpt_lines == sorted(xpt_lines) and xpt_lines[-1] == last_xpt
    assert children() == []


def _failing_adam_gate(real):
    def gate(datasets, *args, scope=None, **kwargs):
        report = real(datasets, *args, scope=scope, **kwargs)
        if scope == "ADaM":
            from trialforge.validation.findings import Finding
            report.extend([Finding("TF-TEST-001", "error", "ADSL", "an error the test adds")])
            report.findings = report.sorted()
        return report
    return gate


@pytest.mark.slow
def test_files_written_ahead_are_discarded_when_the_adam_gate_fails(tmp_path, monkeypatch):
    study = _copy_example(tmp_path)
    got = {}
    for jobs in (1, 2):
        log = tmp_path / f"log{jobs}"
        result, lines, error = _run(study, tmp_path / str(jobs) / "out", jobs, monkeypatch, log,
                                    until=_all_ahead if jobs == 2 else None, gate=_failing_adam_gate)
        assert error is None and result.has_errors
        assert result.published == tmp_path / str(jobs) / "out.failed"
        got[jobs] = (_digests(result.published), lines, len(_logged(log)))
    assert got[1][0] == got[2][0]
    assert [x for x in got[1][1] if x[0] != "timed"] == [x for x in got[2][1] if x[0] != "timed"]
    assert not any(k.startswith(("sdtm/", "adam/", "tables/")) for k in got[2][0])
    assert "validation/adam/validation.json" in got[2][0]
    assert got[1][2] == 0 and got[2][2] > 40          # two jobs did write ahead, then threw it away
    assert children() == []


# ------------------------------------------------------------------------ the parts, one by one

def _send_back(handover: Handover, value):
    handover.worker_side()
    assert handover.send(value)
    time.sleep(0.3)                  # still running when the parent takes the value
    return "done"


def test_a_handover_to_the_parent_arrives_before_the_worker_ends():
    handover = Handover("a value", to_parent=True)
    try:
        task = ForkTask(lambda: _send_back(handover, {"report": [1, 2, 3]}), "a test")
        handover.parent_side()
        assert handover.receive() == {"report": [1, 2, 3]}
        assert not task.done()               # the worker sleeps after sending
        assert task.result() == "done"
    finally:
        handover.close()


def test_a_worker_ending_without_sending_gives_missing_or_a_clear_error():
    for missing in (None, "nothing"):
        handover = Handover("a value", to_parent=True)
        try:
            task = ForkTask(lambda: handover.worker_side(), "a test")
            handover.parent_side()
            assert handover.receive(missing=missing) == missing
            assert handover.ready()
            task.result()
        finally:
            handover.close()
    handover = Handover("the report", to_parent=True)
    try:
        task = ForkTask(lambda: handover.worker_side(), "a test")
        handover.parent_side()
        with pytest.raises(RuntimeError, match="the worker process ended before it sent the report"):
            handover.receive()
        task.result()
    finally:
        handover.close()


def _claim_all(early) -> list:
    got = []
    while (i := early.claim()) is not None:
        got.append(i)
        time.sleep(0.001)
    return got


def test_every_unit_is_taken_by_exactly_one_process_in_order():
    from trialforge.pipeline_overlap import _EarlyPackage
    names = [f"D{k:03d}" for k in range(300)]
    early = _EarlyPackage(names)
    try:
        assert early.units[:3] == [("xpt", "D000"), ("json", "D000"), ("xpt", "D001")]
        assert early.units[599] == ("json", "D299")
        task = ForkTask(lambda: _claim_all(early), "a test")
        time.sleep(0.05)
        mine = _claim_all(early)
        theirs = task.result()
        assert sorted(mine + theirs) == list(range(600))          # every unit once
        assert mine == sorted(mine) and theirs == sorted(theirs)  # each side in the sequential order
        assert theirs                                             # the worker took some
        early.stop()                                              # nothing left: returns at once
    finally:
        early.close()


def test_stop_takes_every_unit_left_and_the_worker_then_ends():
    from trialforge.pipeline_overlap import _EarlyPackage
    early = _EarlyPackage(["AE", "CM", "DM"])
    try:
        assert early.claim() == 0
        early.stop()
        assert early.claim() is None
    finally:
        early.close()
