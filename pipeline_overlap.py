"""The steps of a run after the SDTM mapping over several processes (``--jobs`` > 1), with the result,
files and errors of the one-process order (``pipeline._run_sequential``).

Why: on two cores the SDTM gate and the ADaM build, then the SDTM package, the ADaM gate and package and the
tables, do not depend on each other's results, only on the order in which their results count. Each step
here runs as early as its inputs allow, in this process or a forked worker (``jobs.ForkTask``,
``jobs.ForkPool``), and its value or exception is taken back in the sequential order.
"""
from __future__ import annotations

import dataclasses
import os
import time
from functools import partial
from pathlib import Path

from .outputs import staged_output
from .pipeline import (RunResult, _derive_adam, _finish, _gate_adam, _gate_extra, _gate_sdtm, _merge_extra,
                       _published, _Run, _TablesJob, _timed, _write_define_bundle, _write_one_package,
                       _write_validation, input_files, release_freed_memory, workers_for_memory_now)


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


class _EarlyPackage:
    """The SDTM package's XPT and Dataset-JSON files written ahead by the SDTM gate's worker, once its gate
    has passed, while this process still derives ADaM (two jobs, with tables).

    Why: the SDTM gate ends before the ADaM build beside it (0.6 s at the example and at 1,000 subjects,
    ~4 s at 10,000), and the core it ran on sat idle until ADaM existed. The files of the SDTM mapping
    are final then (PP, made by the ADaM stage, and define.xml, which lists PP, are written later here).

    The files are units (per dataset in name order, its XPT then its Dataset-JSON, so both files of a dataset
    are mostly written by one process, which encodes its text columns once), taken
    one at a time through a pipe holding their numbers: a pipe read of two bytes is atomic, so each unit
    is taken by one process only. When ADaM is derived this process takes every unit left (``stop()``),
    so the worker ends after the file it is writing, and writes those itself in its turn
    (``finish_sdtm_package``)."""

    def __init__(self, names: list):
        from .jobs import Handover
        self.units = [(kind, n) for n in names for kind in ("xpt", "json")]
        self.channel = Handover("the SDTM gate's report", to_parent=True)
        self._claims, write = os.pipe()
        try:
            os.write(write, b"".join(i.to_bytes(2, "little") for i in range(len(self.units))))
        finally:
            os.close(write)           # every reader sees the end of the pipe once the numbers are taken

    #: The unit numbers are written into the pipe before the fork, so they must fit its buffer (64 KiB).
    MAX_DATASETS = 8_000

    @staticmethod
    def wanted(run: _Run, sdtm: dict) -> bool:
        """Two jobs with tables and ADaM: the SDTM package is then written by this process (a package worker
        writes it with more jobs or without tables, ``_Ahead.launch``), after ADaM, on a core the gate left."""
        return (run.jobs == 2 and run.tables and run.analysis and 0 < len(sdtm) <= _EarlyPackage.MAX_DATASETS
                and (run.study.specs_dir / "adam.yaml").is_file())

    def claim(self):
        """The next unit's number, or None when none is left."""
        got = os.read(self._claims, 2)
        return int.from_bytes(got, "little") if len(got) == 2 else None

    def stop(self) -> None:
        """Take every unit not yet taken (this process writes them in its turn); the worker stops."""
        while self.claim() is not None:
            pass

    def write(self, run: _Run, sdtm: dict, staging: Path, info: dict) -> list:
        """In the worker: write units until none is left or one fails; per unit (number, path, wall, cpu,
        portable error or None)."""
        from .jobs import _portable_error
        done = []
        while (i := self.claim()) is not None:
            kind, name = self.units[i]
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                path, error = _write_unit(run, kind, name, sdtm[name], staging, info), None
            except Exception as exc:  # noqa: BLE001 - raised by the parent in its sequential turn
                path, error = None, _portable_error(exc)
            done.append((i, path, time.perf_counter() - wall, time.process_time() - cpu, error))
            if error is not None:
                break
        return done

    def close(self) -> None:
        if self._claims is not None:
            os.close(self._claims)
            self._claims = None
        self.channel.close()


def _write_unit(run: _Run, kind: str, name: str, ds, staging: Path, info: dict) -> Path:
    """One file of the SDTM package, as ``pipeline.write_package`` / ``write_dataset_jsons`` write it."""
    from . import pipeline
    if kind == "xpt":
        return pipeline.write_one_xpt(name, ds, staging / "sdtm", created=run.created)
    return pipeline.write_one_dataset_json(name, ds, staging / "sdtm" / "json", study=info)


def _gate_worker(run: _Run, sdtm: dict, early, staging: Path, info: dict):
    """The SDTM gate in its worker; with ``early`` its report goes to the parent at once and, when it passed,
    the worker writes SDTM package files ahead (``_EarlyPackage``). Returns (the gate's (report, log) unless
    it was sent, the units written)."""
    gated = _in_worker(run, _gate_sdtm, sdtm)
    if early is None:
        return gated
    early.channel.worker_side()
    if not early.channel.send(gated):
        return gated, []                      # cannot be pickled: the task's own result says why
    if gated[0].has_errors:
        return None, []
    return None, early.write(run, sdtm, staging, info)


class _SdtmGate:
    """The SDTM gate's worker, read like a ``ForkTask``: ``result()`` is its (report, log), taken as soon as
    the worker sends it (``_EarlyPackage``) or from the worker's end; ``written()`` the units it wrote after."""

    def __init__(self, task, early):
        self.task, self.early = task, early
        self._gated = None

    def done(self) -> bool:
        if self._gated is not None:
            return True
        if self.early is not None and self.early.channel.ready():
            return True
        return self.task.done()

    def result(self):
        if self._gated is None:
            if self.early is None:
                self._gated = self.task.result()
            else:
                gated = self.early.channel.receive(missing=None)
                self._gated = gated if gated is not None else self.task.result()[0]
        return self._gated

    def written(self) -> list:
        """The units the worker wrote ahead (waits for its end; a worker that stopped raises here)."""
        return self.task.result()[1]


def finish_sdtm_package(run: _Run, sdtm: dict, staging: Path, info: dict, early: _EarlyPackage,
                        theirs: list) -> list:
    """The SDTM package with the files the gate's worker wrote ahead (``theirs``): the other files written
    here, then define.xml; the paths, progress lines, stage timings and first error of the sequential order
    (``pipeline._write_one_package``)."""
    from .jobs import _rebuild_error
    names = sorted(sdtm)
    order = [("xpt", n) for n in names] + [("json", n) for n in names]
    position = {unit: k for k, unit in enumerate(order)}
    done: dict = {}
    failed = None                                   # (position, exception) of the sequentially first error
    for i, path, wall, cpu, error in theirs:
        at = position[early.units[i]]
        if error is not None:
            failed = (at, _rebuild_error(*error))
        else:
            done[at] = (path, wall, cpu)
    spent = {"xpt": [0.0, 0.0], "json": [0.0, 0.0]}
    paths = []
    for at, (kind, name) in enumerate(order):
        if failed is not None and at >= failed[0]:
            break
        if at in done:
            path, wall, cpu = done[at]
        else:
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                path = _write_unit(run, kind, name, sdtm[name], staging, info)
            except Exception as exc:  # noqa: BLE001 - the first error in the sequential order is raised below
                failed = (at, exc)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        spent[kind][0] += wall
        spent[kind][1] += cpu
        if failed is not None and failed[0] == at:
            break
        paths.append(path)
        if kind == "xpt":
            run.say("xpt", name, len(sdtm[name].frame))
    if run.hook is not None:
        run.hook("xpt", *spent["xpt"])
        if failed is None or failed[0] >= len(names):
            run.hook("dataset_json", *spent["json"])
    if failed is not None:
        raise failed[1]
    from .pipeline import SDTM_IG
    with run.timed("define"):
        paths += _write_define_bundle(sdtm, staging / "sdtm", info, SDTM_IG, run.ct, run.study, "sdtm")
    run.say("define", "SDTM", len(sdtm))
    release_freed_memory()
    return paths


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
            early = ahead.early = _EarlyPackage(sorted(sdtm)) if _EarlyPackage.wanted(run, sdtm) else None
            gate = _SdtmGate(ahead.fork(partial(_gate_worker, run, sdtm, early, staging, info), "the SDTM gate"),
                             early)
            if early is not None:
                early.channel.parent_side()
            ahead.gate = gate
            adam = sdtm_extra = {}
            derived = extra = adam_report = None
            if run.analysis:
                derived = _Attempt(_derive_adam, run, sdtm)
            if derived is not None and derived.error is None:
                adam, sdtm_extra, _ = derived.value
                if early is not None:
                    early.stop()                 # ADaM is derived: the rest of the SDTM package is written here

                def start_ahead():
                    nonlocal adam_report
                    if adam and workers_for_memory_now(run.jobs):   # the gate on the free core meanwhile
                        adam_report = _Forked(run, ahead.fork(partial(_in_worker, run, _gate_adam, adam),
                                                              "the ADaM gate"))
                    ahead.launch(sdtm, sdtm_extra, adam)

                # Workers first when the SDTM gate has ended (as a rule it ends before ADaM): the PP gate here
                # then runs beside them, not while the gate's core sits idle; else the PP gate fills the wait.
                decided = run.jobs > 2 or gate.done()
                if decided and (run.jobs > 2 or _gate_passed(gate, wait=False)):
                    start_ahead()
                extra = _Attempt(_gate_extra, run, sdtm, sdtm_extra)
                if not decided and _gate_passed(gate, wait=bool(adam)):
                    start_ahead()
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
            run.say("validate", "SDTM", sdtm_report.size)
            if adam:
                result.reports["adam"] = adam_report.get()
                run.say("validate", "ADaM", result.reports["adam"].size)
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
        self.early = self.gate = None                # SDTM package files written ahead by the gate's worker

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
            if self.early is not None:
                written += finish_sdtm_package(run, sdtm, staging, self.info, self.early, self.gate.written())
            else:
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
        if self.early is not None:
            self.early.close()
