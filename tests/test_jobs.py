"""--jobs / TRIALFORGE_JOBS: the CSR outputs built in forked workers give the same bytes as one process,
a worker's failure is the same one-line error (exit 2, the earlier output kept) and no worker outlives a run."""
from __future__ import annotations

import hashlib
import os
import shutil
import signal
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from trialforge.errors import TrialforgeError
from trialforge.specs.metadata import Dataset
from trialforge.jobs import ENV, ForkPool, JobsError, WorkerStopped, resolve_jobs
from trialforge.tables.build import TablesFailed, build_tables as _build_tables
from trialforge.tables.catalogue import load_catalogue
from trialforge.tables.demo_adam import make_adam
from live_processes import children, live

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "cd70-cart"
SOME = ["14.1.2", "14.3.1.3", "14.2.2.1", "14.2.1.3", "14.2.1.4"]     # tables and figures of several layouts
_CAT = load_catalogue(EXAMPLE / "tables.yaml")


def build_tables(*args, **kw):
    return _build_tables(*args, catalogue=_CAT, **kw)


def _digests(folder: Path) -> dict:
    """Every file under the folder by relative path -> SHA-256 (independent of how it was written)."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(Path(folder).rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def adam():
    return make_adam()


# ------------------------------------------------------------------------------------ how many jobs
def test_jobs_come_from_the_option_then_the_environment_then_the_cores(monkeypatch):
    cores = len(os.sched_getaffinity(0))
    monkeypatch.delenv(ENV, raising=False)
    assert resolve_jobs(None) == cores
    assert resolve_jobs(3) == 3 and resolve_jobs(0) == cores
    monkeypatch.setenv(ENV, "1")
    assert resolve_jobs(None) == 1
    assert resolve_jobs(2) == 2                    # the option wins over the environment


@pytest.mark.parametrize("value", ["two", "-1", "1.5"])
def test_a_bad_jobs_value_is_one_line_naming_it(monkeypatch, value):
    monkeypatch.setenv(ENV, value)
    with pytest.raises(JobsError, match=f"{ENV}: expected a whole number") as err:
        resolve_jobs(None)
    assert isinstance(err.value, TrialforgeError) and repr(value) in err.value.message


def test_a_bad_environment_value_stops_run_with_exit_2_before_any_work(monkeypatch, tmp_path):
    from trialforge.cli import main
    monkeypatch.setenv(ENV, "many")
    result = CliRunner().invoke(main, ["run", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1].startswith("error: ")
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------------------------ the pool
def _square_and_pid(x):
    return x * x, os.getpid()


def test_pool_returns_results_in_item_order_from_other_processes():
    got = ForkPool(_square_and_pid, [5, 1, 4, 2, 3], 2).results()
    assert [r for r, _ in got] == [25, 1, 16, 4, 9]
    assert os.getpid() not in {pid for _, pid in got}
    assert children() == []


def _boom(x):
    if x == 3:
        raise ValueError("three")
    return x


def test_a_task_error_reaches_the_parent_and_every_worker_is_reaped():
    pool = ForkPool(_boom, [1, 2, 3, 4], 2)
    with pytest.raises(ValueError, match="three"):
        pool.results()
    assert children() == []


def _killed(x):
    if x == 2:
        os.kill(os.getpid(), signal.SIGKILL)
    return x


def test_a_worker_killed_by_a_signal_is_one_trialforge_error_and_no_worker_is_left():
    with pytest.raises(WorkerStopped, match="worker process stopped"):
        ForkPool(_killed, [1, 2, 3], 2).results()
    assert children() == []


def test_close_stops_workers_still_running():
    import time
    pool = ForkPool(time.sleep, [30, 30], 2)
    started = time.perf_counter()
    pool.close()
    assert time.perf_counter() - started < 10 and children() == []


# ------------------------------------------------------------------------------------ tables
def test_tables_in_two_processes_are_byte_identical_to_one(adam, tmp_path):
    build_tables(adam, tmp_path / "one", only=SOME, jobs=1)
    build_tables(adam, tmp_path / "two", only=SOME, jobs=2)
    one, two = _digests(tmp_path / "one"), _digests(tmp_path / "two")
    assert len(one) > 15 and any(k.endswith(".png") for k in one)
    assert one == two
    assert children() == []


def test_a_failing_output_in_a_worker_is_named_and_the_others_are_built(adam, tmp_path):
    name = "ADTR" if "ADTR" in adam else "ADRS"
    broken = dict(adam)
    broken[name] = Dataset(adam[name].meta, adam[name].frame.assign(PCHG=np.nan))
    with pytest.raises(TablesFailed, match=r"^1 of \d+ outputs failed \(Figure 14.2.1.3: .*no PCHG") as err:
        build_tables(broken, tmp_path, only=SOME, jobs=2)
    assert "\n" not in err.value.message
    assert (tmp_path / "t_14_1_2.rtf").is_file() and (tmp_path / "f_14_2_1_4.png").is_file()
    assert not list(tmp_path.glob("f_14_2_1_3*"))
    assert children() == []


# ------------------------------------------------------------------------------------ whole runs
def _copy_example(tmp_path: Path) -> Path:
    study = tmp_path / "study"
    shutil.copytree(EXAMPLE, study, ignore=shutil.ignore_patterns("out", "out.failed"))
    return study


@pytest.mark.slow
def test_run_with_one_and_two_jobs_writes_the_same_folder(tmp_path):
    from trialforge.cli import main
    study = _copy_example(tmp_path)
    for jobs in ("1", "2"):
        result = CliRunner().invoke(main, ["run", str(study), "--out", str(tmp_path / jobs), "--jobs", jobs])
        assert result.exit_code == 0, result.output
    one, two = _digests(tmp_path / "1"), _digests(tmp_path / "2")
    assert len(one) > 200 and "manifest.json" in one and "tables/index.html" in one
    assert one == two
    assert children() == []


@pytest.mark.slow
def test_a_bad_catalogue_entry_failing_in_a_worker_exits_2_in_one_line_and_keeps_out(tmp_path):
    from trialforge.cli import main
    study = _copy_example(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / ".trialforge-output").write_text("earlier\n")
    (out / "kept.txt").write_text("the earlier output\n")
    before = _digests(out)
    catalogue = study / "tables.yaml"
    catalogue.write_text(catalogue.read_text(encoding="utf-8") + """
  - id: "99.1"
    title: A table whose filter is not an expression
    blocks:
      - {type: subjects_with, label: Broken, dataset: ADSL, where: "SAFFL == == 'Y'"}
""", encoding="utf-8")
    result = CliRunner().invoke(main, ["run", str(study), "--out", str(out), "--jobs", "2"])
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Table 99.1" in errors[0] and "Traceback" not in result.output
    assert _digests(out) == before
    assert not [p.name for p in tmp_path.iterdir() if ".staging-" in p.name or p.name == "out.failed"]
    assert children() == []


def _session(sid: int) -> list[int]:
    """Processes still alive in session `sid` (the run and any worker it forked)."""
    return live(3, sid)


@pytest.mark.slow
@pytest.mark.parametrize("how,code", [("sigterm", 143), ("ctrl-c", 130), ("sigkill", -9)])
def test_stopping_a_run_while_workers_build_tables_leaves_out_and_no_process(tmp_path, how, code):
    import subprocess
    import sys
    import time
    study = _copy_example(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / ".trialforge-output").write_text("earlier\n")
    before = _digests(out)
    package_parent = str(Path(__file__).resolve().parents[2])
    proc = subprocess.Popen([sys.executable, "-m", "trialforge", "run", str(study), "--out", str(out), "--jobs", "2"],
                            env={**os.environ, "PYTHONPATH": package_parent}, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    tables = tmp_path / f".out.staging-{proc.pid}" / "tables"
    deadline = time.monotonic() + 300
    while not list(tables.glob("*.rtf")):              # workers are writing outputs
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the run never reached the tables"
        time.sleep(0.05)
    if how == "sigterm":
        proc.send_signal(signal.SIGTERM)                # the run only, as `kill PID` does
    elif how == "ctrl-c":
        os.killpg(proc.pid, signal.SIGINT)              # the whole foreground group, as the terminal does
    else:
        proc.kill()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == code, err
    if how != "sigkill":
        assert "Traceback" not in err and "nothing written" in err.strip().splitlines()[-1]
        assert not (tmp_path / f".out.staging-{proc.pid}").exists()
    deadline = time.monotonic() + 10                     # workers die with the run (PR_SET_PDEATHSIG)
    while _session(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _session(proc.pid) == []
    assert _digests(out) == before


@pytest.mark.parametrize("jobs, available, rss, expected", [
    (2, 10_000_000, 3_000_000, 2),     # 80 % of 10 GB holds two copies of a 3 GB parent
    (4, 10_000_000, 3_000_000, 2),     # ... but not four
    (2, 4_000_000, 3_000_000, 1),      # 3.2 GB: one copy
    (2, 2_000_000, 3_000_000, 0),      # not even one: build in the parent
    (1, 1_000, 3_000_000, 1),          # one job never forks, whatever the memory
    (2, None, 3_000_000, 2),           # unknown free memory (not Linux): as asked
])
def test_workers_for_memory_caps_the_pool_by_free_memory(jobs, available, rss, expected):
    from trialforge.jobs import workers_for_memory
    got = workers_for_memory(jobs, available_kib=available, rss_kib=rss) if available is not None else \
        workers_for_memory(jobs, available_kib=0, rss_kib=rss)
    assert got == expected


# ------------------------------------------------------------------------------------ one forked task
def _pid():
    return os.getpid()


def test_a_forked_task_returns_its_value_from_another_process():
    from trialforge.jobs import ForkTask
    task = ForkTask(_pid, "a test")
    try:
        assert task.result() not in (os.getpid(), None)
        assert task.done()
    finally:
        task.close()
    assert children() == []


def _spec_error():
    from trialforge.errors import SpecError
    raise SpecError("no such rule", file="specs/ae.yaml", column="AETERM", value="X")


def test_a_trialforge_error_in_a_task_arrives_as_the_same_error():
    from trialforge.errors import SpecError
    from trialforge.jobs import ForkTask
    task = ForkTask(_spec_error, "a test")
    with pytest.raises(SpecError) as err:
        task.result()
    task.close()
    assert err.value.message == "no such rule (file specs/ae.yaml, column AETERM, value 'X')"
    assert (err.value.file, err.value.column, err.value.value) == ("specs/ae.yaml", "AETERM", "X")
    assert children() == []


def _unpicklable_error():
    class Local(Exception):
        pass
    raise Local("made inside the worker")


def test_an_error_that_cannot_be_pickled_arrives_as_its_text():
    from trialforge.jobs import ForkTask
    task = ForkTask(_unpicklable_error, "a test")
    with pytest.raises(RuntimeError) as err:
        task.result()
    task.close()
    assert str(err.value) == "Local: made inside the worker"
    assert "in the worker process:" in err.value.__notes__[0] and "_unpicklable_error" in err.value.__notes__[0]


def _large_value():
    import numpy as np
    return {"array": np.arange(3_000_000, dtype=np.int64), "text": "x" * 300_000}


def test_a_large_value_arrives_whole():
    import numpy as np
    from trialforge.jobs import ForkTask
    task = ForkTask(_large_value, "a test")
    try:
        got = task.result()
    finally:
        task.close()
    assert np.array_equal(got["array"], np.arange(3_000_000, dtype=np.int64)) and got["text"] == "x" * 300_000


def _unpicklable_after_a_large_part():
    return [b"y" * 1_000_000, lambda: 0]        # the first part is streamed to the file before the lambda fails


def test_a_value_that_fails_to_pickle_midway_arrives_as_its_error_alone():
    from trialforge.jobs import ForkTask
    task = ForkTask(_unpicklable_after_a_large_part, "a test")
    with pytest.raises(Exception) as err:
        task.result()
    task.close()
    assert "lambda" in str(err.value) and not isinstance(err.value, WorkerStopped)
    assert children() == []


def _kill_self():
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_killed_task_is_one_worker_stopped_line_naming_it():
    from trialforge.jobs import ForkTask
    task = ForkTask(_kill_self, "the SDTM gate")
    with pytest.raises(WorkerStopped) as err:
        task.result()
    task.close()
    assert err.value.message.startswith("the worker process for the SDTM gate stopped before finishing "
                                        "(killed by signal 9")
    assert children() == []


def test_closing_a_task_stops_its_worker():
    import time
    from trialforge.jobs import ForkTask
    task = ForkTask(partial_sleep, "a test")
    assert not task.done()
    started = time.perf_counter()
    task.close()
    assert time.perf_counter() - started < 10 and children() == []
    with pytest.raises(WorkerStopped):
        task.result()


def partial_sleep():
    import time
    time.sleep(30)


# ------------------------------------------------------------------------------------ stages run ahead
_TS = """
        - {TSPARMCD: SSTDTC, TSPARM: Study Start Date, TSVAL: "2025-01-01"}
"""
_BAD_ADAM = "datasets: 5\n"        # load_adam_config: SpecError (required key adsl.product_extrt is missing)


def _run_cli(study: Path, out: Path, jobs: str):
    from trialforge.cli import main
    return CliRunner().invoke(main, ["run", str(study), "--out", str(out), "--jobs", jobs])


def _error_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("error:")]


def _nothing_written(parent: Path) -> bool:
    """No output, failed-run or staging folder beside OUT (two jobs enter the staging step earlier, so the
    parent of OUT and the swap's lock file .out.lock may exist)."""
    return not parent.exists() or not [p.name for p in parent.iterdir()
                                       if p.name.startswith((".out", "out")) and p.name != ".out.lock"]


def test_a_failed_gate_discards_the_adam_run_ahead_and_its_error(mini_study, tmp_path):
    """The mini study fails the SDTM gate (no TS); its ADaM spec would raise. One job never derives ADaM;
    two jobs derive it beside the gate and must throw the error away: the same failed-run folder."""
    (mini_study / "specs" / "adam.yaml").write_text(_BAD_ADAM, encoding="utf-8")
    folders = {}
    for jobs in ("1", "2"):
        result = _run_cli(mini_study, tmp_path / jobs / "out", jobs)
        assert result.exit_code == 1, result.output
        assert _error_lines(result.output) == []
        folders[jobs] = _digests(tmp_path / jobs / "out.failed")
        assert not (tmp_path / jobs / "out").exists()
    assert folders["1"] == folders["2"]
    assert sorted(folders["1"]) == [".trialforge-output", "manifest.json", "validation/ct_releases.csv",
                                    "validation/sdtm/validation-junit.xml", "validation/sdtm/validation.html",
                                    "validation/sdtm/validation.json", "validation/sdtm/validation.xlsx"]
    assert children() == []


def test_an_adam_error_after_a_passed_gate_is_raised_with_both_job_counts(mini_study, tmp_path):
    from conftest import add_trial_summary
    add_trial_summary(mini_study, _TS)
    (mini_study / "specs" / "adam.yaml").write_text(_BAD_ADAM, encoding="utf-8")
    lines = {}
    for jobs in ("1", "2"):
        result = _run_cli(mini_study, tmp_path / jobs / "out", jobs)
        assert result.exit_code == 2, result.output
        lines[jobs] = _error_lines(result.output)
        assert len(lines[jobs]) == 1 and "adsl.product_extrt" in lines[jobs][0]
        assert _nothing_written(tmp_path / jobs)
    assert lines["1"] == lines["2"]
    assert children() == []


def _gate_that_fails(log: Path):
    """A stand-in for validate_datasets that records the process it ran in and raises a TrialforgeError."""
    def gate(*args, **kwargs):
        from trialforge.errors import SpecError
        with open(log, "a") as fh:
            fh.write(f"{os.getpid()}\n")
        raise SpecError("the gate cannot read its rules", file="rules.yaml", column="TF-X-001")
    return gate


def test_an_error_in_the_gate_worker_is_one_line_exit_2_and_no_output(mini_study, tmp_path, monkeypatch):
    from conftest import add_trial_summary
    import trialforge.pipeline as pipeline
    add_trial_summary(mini_study, _TS)
    log = tmp_path / "gate-pids.txt"
    monkeypatch.setattr(pipeline, "validate_datasets", _gate_that_fails(log))
    lines = {}
    for jobs in ("1", "2"):
        result = _run_cli(mini_study, tmp_path / jobs / "out", jobs)
        assert result.exit_code == 2, result.output
        lines[jobs] = _error_lines(result.output)
        assert "Traceback" not in result.output and _nothing_written(tmp_path / jobs)
    assert lines["1"] == lines["2"] == ["error: the gate cannot read its rules (file rules.yaml, column TF-X-001)"]
    pids = log.read_text().split()
    assert pids[0] == str(os.getpid()) and pids[1] != str(os.getpid())     # jobs 2: the gate ran in a worker
    assert children() == []


def _gate_killed(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_gate_worker_killed_is_a_clear_error_exit_2_and_no_output(mini_study, tmp_path, monkeypatch):
    import trialforge.pipeline as pipeline
    monkeypatch.setattr(pipeline, "validate_datasets", _gate_killed)
    result = _run_cli(mini_study, tmp_path / "out", "2")
    assert result.exit_code == 2, result.output
    assert _error_lines(result.output) == [
        "error: the worker process for the SDTM gate stopped before finishing (killed by signal 9, e.g. out of "
        "memory; try --jobs 1)"]
    assert _nothing_written(tmp_path)
    assert children() == []


def _broken_xpt(ds, path, **kwargs):
    from trialforge.errors import RawDataError
    with open(path.parents[2] / f"xpt-{path.name}.pid", "a") as fh:      # beside the staging folder
        fh.write(f"{os.getpid()}\n")
    raise RawDataError("value too long for XPT", file=path.name, column="AETERM")


@pytest.mark.slow
def test_an_error_in_the_package_worker_is_the_sequential_error(tmp_path, monkeypatch):
    """Every XPT fails. One job stops at the SDTM package's first dataset; two jobs write the SDTM package in
    a worker (no tables: it has a core) while this process writes the ADaM package, whose error comes first
    in time: the SDTM package's error must still be the one raised."""
    import trialforge.pipeline as pipeline
    study = _copy_example(tmp_path)
    monkeypatch.setattr(pipeline, "write_xpt", _broken_xpt)
    lines = {}
    for jobs in ("1", "2"):
        from trialforge.cli import main
        result = CliRunner().invoke(main, ["run", str(study), "--out", str(tmp_path / jobs / "out"), "--jobs", jobs,
                                           "--no-tables"])
        assert result.exit_code == 2, result.output
        lines[jobs] = _error_lines(result.output)
        assert _nothing_written(tmp_path / jobs)
        pids = {n.name: n.read_text().split() for n in (tmp_path / jobs).glob("xpt-*.pid")}
        if jobs == "2":                  # ADaM's first XPT here, the SDTM package's in a worker
            assert pids["xpt-ae.xpt.pid"] != [str(os.getpid())] and len(pids) == 2
            assert [v for k, v in pids.items() if k != "xpt-ae.xpt.pid"] == [[str(os.getpid())]]
        else:
            assert pids == {"xpt-ae.xpt.pid": [str(os.getpid())]}
        for n in (tmp_path / jobs).glob("xpt-*.pid"):
            n.unlink()
    assert lines["1"] == lines["2"] == ["error: value too long for XPT (file ae.xpt, column AETERM)"]
    assert children() == []


@pytest.mark.slow
def test_a_failed_gate_of_the_example_gives_the_same_result_and_files_with_two_jobs(tmp_path):
    """The bundled study without its TS spec fails the SDTM gate (TF-TS-001). Two jobs derive and gate ADaM
    beside the gate (the stage timer shows it); the result and the failed-run folder are those of one job."""
    from trialforge.pipeline import run_study
    study = _copy_example(tmp_path)
    (study / "specs" / "ts.yaml").unlink()
    got = {}
    for jobs in (1, 2):
        stages = []
        result = run_study(study, out_dir=tmp_path / str(jobs) / "out", jobs=jobs,
                           stage_timer=lambda stage, wall, cpu: stages.append(stage))
        assert result.has_errors and result.published == tmp_path / str(jobs) / "out.failed"
        got[jobs] = (stages, result, _digests(result.published))
    (stages1, one, files1), (stages2, two, files2) = got[1], got[2]
    assert "adam" not in stages1 and "adam" in stages2           # two jobs did derive ADaM ahead
    assert files1 == files2 and "validation/sdtm/validation.json" in files1
    assert not any(k.startswith(("sdtm/", "adam/", "tables/", "validation/adam/")) for k in files2)
    assert (sorted(one.sdtm), one.adam, sorted(one.reports), one.warnings, one.written, one.files) == \
        (sorted(two.sdtm), two.adam, sorted(two.reports), two.warnings, two.written, two.files)
    assert [f.rule_id for f in one.reports["sdtm"].findings] == [f.rule_id for f in two.reports["sdtm"].findings]
    assert "TF-TS-001" in {f.rule_id for f in one.reports["sdtm"].errors}
    assert children() == []


def test_each_stage_is_timed_as_with_one_job_and_the_gate_with_the_workers_cpu(mini_study, tmp_path):
    """Two jobs report the same stages as one (the gate's from its worker, with the worker's CPU seconds)."""
    from conftest import add_trial_summary
    from trialforge.pipeline import run_study
    add_trial_summary(mini_study, _TS)
    seen = {}
    for jobs in (1, 2):
        stages = []
        run_study(mini_study, out_dir=tmp_path / str(jobs), jobs=jobs,
                  stage_timer=lambda stage, wall, cpu: stages.append((stage, wall, cpu)))
        seen[jobs] = stages
    assert sorted(s for s, _, _ in seen[1]) == sorted(s for s, _, _ in seen[2]) == sorted(
        ["sdtm", "sdtm_gate", "adam", "reports", "xpt", "dataset_json", "define", "manifest"])   # adam: no spec, timed
    gate = next((wall, cpu) for s, wall, cpu in seen[2] if s == "sdtm_gate")
    assert 0 < gate[1] and 0 < gate[0]
    assert _digests(tmp_path / "1") == _digests(tmp_path / "2")


def _niceness(_item):
    return os.nice(0)


def test_background_pools_lower_the_workers_priority_only():
    """Workers of a pool made inside ``background_pools`` run niced; the parent and later pools are not."""
    from trialforge.jobs import BACKGROUND_NICE, background_pools
    mine = os.nice(0)
    with background_pools():
        niced = ForkPool(_niceness, [1, 2], 2).results()
    plain = ForkPool(_niceness, [1, 2], 2).results()
    assert niced == [min(19, mine + BACKGROUND_NICE)] * 2
    assert plain == [mine] * 2
    assert os.nice(0) == mine


def _delayed(fn, seconds: float):
    def slow(*args, **kw):
        import time
        time.sleep(seconds)
        return fn(*args, **kw)
    return slow


@pytest.mark.slow
@pytest.mark.parametrize("late", ["sdtm_gate", "adam"])
def test_two_jobs_give_the_same_folder_whichever_of_the_sdtm_gate_and_adam_ends_first(tmp_path, monkeypatch, late):
    """After ADaM two jobs start the ADaM gate and tables workers before the PP gate when the SDTM gate has
    ended, after it (waiting for the gate) when it still runs: both orders write the one-job folder."""
    from trialforge import pipeline_overlap
    study = _copy_example(tmp_path)
    assert _run_cli(study, tmp_path / "1", "1").exit_code == 0
    if late == "sdtm_gate":            # the gate's worker inherits the slow gate
        monkeypatch.setattr(pipeline_overlap, "_gate_sdtm", _delayed(pipeline_overlap._gate_sdtm, 4.0))
    else:
        monkeypatch.setattr(pipeline_overlap, "_derive_adam", _delayed(pipeline_overlap._derive_adam, 4.0))
    seen = []
    monkeypatch.setattr(pipeline_overlap, "_gate_passed",
                        lambda gate, wait, _f=pipeline_overlap._gate_passed: seen.append(wait) or _f(gate, wait=wait))
    result = _run_cli(study, tmp_path / "2", "2")
    assert result.exit_code == 0, result.output
    assert seen == ([True] if late == "sdtm_gate" else [False])        # waited for the gate / found it ended
    assert _digests(tmp_path / "1") == _digests(tmp_path / "2")
    assert children() == []
