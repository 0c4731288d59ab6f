"""The steps of a run after the SDTM mapping over several processes (``--jobs`` > 1), with the result,
files and errors of the one-process order (``pipeline._run_sequential``).

Why: on two cores the SDTM gate and the ADaM build, then the SDTM package, the ADaM gate and package and the
tables, do not depend on each other's results, only on the order in which their results count. Each step
here runs as early as its inputs allow, in this process or a forked worker (``jobs.ForkTask``,
``jobs.ForkPool``), and its value or exception is taken back in the sequential order.
"""
from __future__ import annotations

import dataclasses
from functools import partial
from pathlib import Path

from .outputs import staged_output
from .pipeline import (RunResult, _derive_adam, _finish, _gate_adam, _gate_extra, _gate_sdtm, _merge_extra,
                       _published, _Run, _TablesJob, _timed, _write_one_package, _write_validation, input_files,
                       workers_for_memory_now)


class _Attempt:
    """A step run ahead of knowing whether the sequential order would run it: its value, or the exception
    it raised, kept until that order is known (``get()`` raises it then)."""

    def __init__(self, fn, *args):
        try:
            self.value, self.error = fn(*args), None
        except Exception as exc:  # noqa: BLE001 - raised later, by get(), only if the sequential path would
            self.value, self.error = None, exc

    def get(self):
        if self.error is not None:
            raise self.error
        return self.value


class _Forked:
    """A step running in a forked worker (``_in_worker``), read like an ``_Attempt``: ``get()`` waits,
    replays its stage timings and progress lines, and returns its value or raises its error."""

    def __init__(self, run: _Run, task):
        self.run, self.task = run, task

    def get(self):
        value, log = self.task.result()
        _replay(self.run, log)
        return value


def _in_worker(run: _Run, fn, *args):
    """``fn(run, *args)`` in a forked worker: its stage timings and progress lines are recorded, returned
    beside its value and replayed by the parent (``_replay``)."""
    log: list = []
    timed = partial(_timed, lambda stage, wall, cpu: log.append(("time", stage, wall, cpu)))
    say = lambda *a: log.append(("say",) + a)     # noqa: E731
    value = fn(dataclasses.replace(run, timed=timed, say=say, hook=None), *args)
    return value, log


def _replay(run: _Run, log: list) -> None:
    for entry in log:
        if entry[0] == "time":
            if run.hook is not None:
                run.hook(*entry[1:])
        else:
            run.say(*entry[1:])


def _worker_package(run: _Run, sdtm: dict, staging: Path, info: dict) -> list:
    return _write_one_package(run, "sdtm", sdtm, staging, info, run.say)


def run_overlapped(run: _Run, sdtm: dict) -> RunResult:
    """The same steps on several cores, with the same result and files as ``_run_sequential``.

    A forked worker runs the SDTM gate while this process derives ADaM, gates the PP it makes and gates
    ADaM, as if the SDTM gate had passed. The SDTM package (another worker) and the tables (their workers)
    start once ADaM exists and a core is free for them: at once with more than two jobs, else (two jobs) when
    the SDTM gate has passed, waited for if it still runs (then nothing is started that a failed gate throws
    away, and the two gates never hold their working sets at once). The ADaM gate then runs in a worker of
    its own while this process prepares the tables (their catalogue and data: seconds at 10,000 subjects
    that left the other core idle).
    Each step's value or error is then taken in the sequential order: when a gate finds errors, the ADaM
    work, its errors and any files written ahead are discarded (the failed-run folder holds what the
    sequential run writes); any other error is the one the sequential run would have raised first.
    Workers are stopped and reaped before the staging folder is removed or published.
    """
    info = run.info()
    ahead = _Ahead(run, info)
    with staged_output(run.out_dir, **run.guard) as stage:
        staging = stage.path
        ahead.staging = staging
        try:
            gate = ahead.fork(partial(_in_worker, run, _gate_sdtm, sdtm), "the SDTM gate")
            adam = sdtm_extra = {}
            derived = extra = adam_report = None
            if run.analysis:
                derived = _Attempt(_derive_adam, run, sdtm)
            if derived is not None and derived.error is None:
                adam, sdtm_extra, _ = derived.value
                extra = _Attempt(_gate_extra, run, sdtm, sdtm_extra)
                if run.jobs > 2 or _gate_passed(gate, wait=bool(adam)):
                    if adam and workers_for_memory_now(run.jobs):   # the gate on the free core meanwhile
                        adam_report = _Forked(run, ahead.fork(partial(_in_worker, run, _gate_adam, adam),
                                                              "the ADaM gate"))
                    ahead.launch(sdtm, sdtm_extra, adam)
                if adam and adam_report is None:
                    adam_report = _Attempt(_gate_adam, run, adam)
            sdtm_report, log = gate.result()
            _replay(run, log)
            changed = list(run.changed)
            if sdtm_report.has_errors or derived is None:        # as sequential: no ADaM from a failed gate
                adam = {}
                ahead.discard()
            else:
                adam, sdtm_extra, changed_adam = derived.get()
                changed += changed_adam
                _merge_extra(run, sdtm_report, sdtm, sdtm_extra, extra.get(), adam)
            result = RunResult(out_dir=run.out_dir, sdtm=sdtm, adam=adam, warnings=[str(c) for c in changed],
                               jobs=run.jobs)
            result.reports["sdtm"] = sdtm_report
            run.say("validate", "SDTM", len(sdtm_report.findings))
            if adam:
                result.reports["adam"] = adam_report.get()
                run.say("validate", "ADaM", len(result.reports["adam"].findings))
            stage.failed = result.has_errors
            if result.has_errors:
                ahead.discard()
            elif adam and not ahead.launched:
                ahead.launch(sdtm, {}, adam)                    # the extra SDTM is in `sdtm` now
            _write_validation(run, staging, result, sdtm)
            if not result.has_errors:
                result.written = ahead.write_packages(sdtm, adam, result)
            _finish(run, staging, result, ahead.digests)
        finally:
            ahead.close()
    return _published(result, stage, staging)


def _gate_passed(gate, *, wait: bool) -> bool:
    """True when the SDTM gate's worker has ended (waited for when ``wait``) and found no errors; its value
    or error is still taken in its turn by the caller.

    Why wait rather than gate ADaM here beside it: this process's ADaM gate beside a still running SDTM gate
    held both gates' working sets at once (the SDTM gate's worker alone 1.4 GB at 10,000 subjects), and
    the SDTM gate takes about as long as the ADaM build beside it, so little is left to wait for. Why
    check the errors: on two cores nothing is started that a failed gate throws away."""
    if not (wait or gate.done()):
        return False
    try:
        report, _log = gate.result()
    except Exception:  # noqa: BLE001 - raised in its turn, where the sequential run raises it
        return False
    return not report.has_errors


def _validation_files(staging: Path) -> list:
    return sorted(p for p in (staging / "validation").rglob("*") if p.is_file())


def _hash_ahead(run: _Run, written: list) -> dict:
    """SHA-256 of the inputs, specs and finished files for the manifest, taken while the tables workers
    still run (this process would wait for them otherwise); reported under the manifest stage."""
    from .submission.manifest import file_digests
    with run.timed("manifest"):
        raw, specs = input_files(run.study)
        return file_digests([*raw, *specs, *written], threads=1)


class _Ahead:
    """The work a run with several jobs starts before its turn: the SDTM package in a worker and the
    tables in theirs; stopped, reaped and its files removed by ``discard()`` when a gate fails."""

    def __init__(self, run: _Run, info: dict):
        self.run, self.info = run, info
        self.staging = None
        self.tasks: list = []
        self.package = self.tables = self.tables_start = None
        self.launched = False
        self.digests = None                          # files hashed for the manifest while the tables finish

    def fork(self, fn, what: str):
        from .jobs import ForkTask
        task = ForkTask(fn, what)
        self.tasks.append(task)
        return task

    def launch(self, sdtm: dict, sdtm_extra: dict, adam: dict) -> None:
        """Start the tables workers and, when a core is left for it, the SDTM package worker.

        With tables on two cores, the tables workers and this process (reports, ADaM package) already keep
        both cores busy: a package worker there added no speed but its own memory (1.2 GB PSS at 10,000
        subjects), so it runs with more than two jobs, or when there are no tables (``--no-tables``)."""
        run = self.run
        self.launched = True
        full = dict(sdtm)
        full.update(sorted(sdtm_extra.items()))
        with_tables = bool(adam and run.tables)
        if full and (run.jobs > 2 or not with_tables) and workers_for_memory_now(run.jobs):
            self.package = self.fork(partial(_in_worker, run, _worker_package, full, self.staging, self.info),
                                     "the SDTM package")
        if with_tables:
            self.tables = _TablesJob(run.hook, run.jobs)
            self.tables_start = _Attempt(self.tables.start, run.study, adam, self.staging / "tables", self.info)

    def write_packages(self, sdtm: dict, adam: dict, result: RunResult) -> list:
        """Both packages and the tables, in the sequential order of files, lines and errors."""
        run, staging = self.run, self.staging
        if self.tables_start is not None:
            self.tables_start.get()                  # a catalogue that cannot start: raised where it would be
        written: list = []
        later: list = []                             # the ADaM package's lines, said after the SDTM package's
        if self.package is None and sdtm:
            written += _write_one_package(run, "sdtm", sdtm, staging, self.info, run.say)
        adam_written = []
        if adam:
            try:
                adam_written = _write_one_package(run, "adam", adam, staging, self.info,
                                                  lambda *a: later.append(a))
            except Exception:
                if self.package is not None:
                    self.package.result()            # the SDTM package's error comes first, as in order
                raise
        if self.package is not None:
            sdtm_written, log = self.package.result()
            _replay(run, log)
            written += sdtm_written
        for line in later:
            run.say(*line)
        written += adam_written
        if self.tables is not None:
            self.digests = _hash_ahead(run, written + _validation_files(staging))   # while the tables finish
            written += self.tables.finish()          # TablesFailed: out/ left as it was
            result.not_produced = self.tables.report.not_produced_lines()
            run.say("tables", "CSR", len(written))
        return written

    def discard(self) -> None:
        """Stop the work done ahead and remove what it wrote (the failed-run folder is the sequential one)."""
        import shutil
        self.close()
        self.package = self.tables = self.tables_start = None
        for name in ("sdtm", "adam", "tables"):
            shutil.rmtree(self.staging / name, ignore_errors=True)

    def close(self) -> None:
        for task in self.tasks:
            task.close()
        if self.tables is not None:
            self.tables.close()
