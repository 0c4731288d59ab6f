"""The main job, step by step: raw → SDTM → gate → ADaM → gate → XPT, Dataset-JSON, define.xml,
tables and a run manifest, all into one staging folder that replaces ``out/`` only on success.

The CLI and the benchmarks call these functions; each step reports progress through a callback
so the terminal shows one line per dataset.
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from datetime import datetime
from pathlib import Path

from . import __version__
from .outputs import check_target, count_files, failed_path, staged_output
from .sdtm.engine import build_sdtm
from .specs.ct import load_ct
from .specs.study import Study, load_study
from .submission.xpt import write_xpt
from .validation.findings import Finding
from .validation.report import write_reports
from .validation.runner import validate_datasets

EXAMPLES = Path(__file__).resolve().parent / "examples"
DEFAULT_STUDY = EXAMPLES / "cd70-cart"
SDTM_IG, ADAM_IG = "SDTMIG 3.4", "ADaMIG 1.3"
GATE: dict = {}    # the gate runs the column rules directly (pandera schemas of the same checks: --show-schema,
                   # options={"pandera": True}; same findings, pandera's per-check overhead cost ~4 s at 1,000 subjects)


@dataclass
class RunResult:
    out_dir: Path
    sdtm: dict = field(default_factory=dict)
    adam: dict = field(default_factory=dict)
    reports: dict = field(default_factory=dict)     # "sdtm"/"adam" -> ValidationReport
    written: list = field(default_factory=list)     # the datasets, define.xml, tables (paths in out_dir)
    published: Path | None = None                   # where the run's folder went: out_dir, or out_dir.failed
    files: int = 0                                  # every file now in the published folder
    warnings: list = field(default_factory=list)    # one line per value changed (study.yaml ascii: transliterate)
    not_produced: list = field(default_factory=list)  # one line per CSR output not produced (number, title, reason)
    jobs: int = 1                                   # processes the run used (--jobs / TRIALFORGE_JOBS)

    @property
    def has_errors(self) -> bool:
        return any(r.has_errors for r in self.reports.values())


def created_timestamp(study: Study) -> datetime:
    """The creation date written into files: study.yaml `created`, else SOURCE_DATE_EPOCH; never the clock.

    A bad ``created:`` is named with its file and key (checked before any work, not after the mapping).
    """
    from .errors import SpecError
    from .submission.created import creation_datetime
    try:
        return datetime.fromisoformat(creation_datetime(study.raw.get("created")))
    except SpecError as exc:
        if exc.file is not None or study.raw.get("created") in (None, ""):
            raise
        raise SpecError(exc.cause, file=study.config_file, column="created", value=exc.value) from None


def study_info(study: Study) -> dict:
    """What define.xml and Dataset-JSON say about the study."""
    ident = study.identity
    info = {"id": study.id, "name": str(ident.get("title", study.id)).strip(),
            "description": str(ident.get("title", study.id)).strip(), "protocol": str(ident.get("protocol", study.id)),
            "originator": str(ident.get("sponsor", "")) or None,
            "created": created_timestamp(study).isoformat()}
    if getattr(study, "define_spec", None):        # a define spec workbook's Study sheet wins
        from .specs.define_workbook import read_define_workbook
        stated = read_define_workbook(study.define_spec).study
        for key, attribute in (("name", "StudyName"), ("description", "StudyDescription"),
                               ("protocol", "ProtocolName")):
            if stated.get(attribute):
                info[key] = stated[attribute]
    return info


def write_package(datasets: dict, folder: Path, *, created: datetime, progress=None) -> list[Path]:
    """One XPT per dataset, lower-case file names as FDA expects."""
    paths = []
    for name, ds in sorted(datasets.items()):
        paths.append(write_one_xpt(name, ds, folder, created=created))
        if progress:
            progress("xpt", name, len(ds.frame))
    return paths


def write_one_xpt(name: str, ds, folder: Path, *, created: datetime) -> Path:
    """``folder/<name>.xpt`` (one file of ``write_package``; a worker may write some of a package's files)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name.lower()}.xpt"
    write_xpt(ds, path, created=created)
    return path


def write_dataset_jsons(datasets: dict, folder: Path, *, study: dict, standard: str) -> list[Path]:
    return [write_one_dataset_json(name, ds, folder, study=study) for name, ds in sorted(datasets.items())]


def write_one_dataset_json(name: str, ds, folder: Path, *, study: dict) -> Path:
    """``folder/<name>.json`` (one file of ``write_dataset_jsons``)."""
    from .submission.datasetjson import write_dataset_json
    folder.mkdir(parents=True, exist_ok=True)
    return write_dataset_json(ds, folder / f"{name.lower()}.json", study=study, created=study["created"],
                              tool_version=__version__)


def build_adam_stage(study: Study, sdtm: dict):
    """ADaM from the in-memory SDTM when the study has an ADaM spec (specs/adam.yaml)."""
    spec = study.specs_dir / "adam.yaml"
    if not spec.is_file():
        return {}, {}
    from .adam import build_adam, load_adam_config
    datasets = build_adam(sdtm, load_adam_config(spec))
    sdtm_extra = {k: v for k, v in datasets.items() if not k.startswith("AD")}     # PP belongs to SDTM
    adam = {k: v for k, v in datasets.items() if k.startswith("AD")}
    return adam, sdtm_extra


@contextmanager
def _timed(hook, stage: str):
    """Report a stage's wall and CPU seconds to ``hook(stage, wall, cpu)``; nothing when hook is None.

    Only the clock is read: the hook sees durations, never the data, so outputs cannot change.
    """
    if hook is None:
        yield
        return
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        yield
    finally:
        hook(stage, time.perf_counter() - wall, time.process_time() - cpu)


class _TablesJob:
    """The tables stage of a run: started before the package is written when the run has several jobs
    (forked workers build the outputs meanwhile), after it otherwise. Reports one ``tables`` stage to the
    stage timer: wall seconds from start to finish (overlapping xpt/dataset_json/define when jobs > 1) and
    CPU seconds of this process plus its workers."""

    def __init__(self, hook, jobs: int):
        self.hook, self.jobs = hook, jobs
        self.report = None                  # tables.build (its plotting libraries) is imported when the stage starts
        self.build = None
        self.wall = self.cpu = 0.0
        self.began = None

    def _clock(self):
        import resource
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return time.perf_counter(), time.process_time() + children.ru_utime + children.ru_stime

    def start(self, study, adam, folder, info) -> None:
        self.began = self._clock()
        from .jobs import background_pools
        from .tables.build import BuildReport, start_study_tables
        self.report = BuildReport()
        with background_pools():        # this process writes the packages meanwhile: its chain ends the run
            self.build = start_study_tables(study, adam, folder, {"title": info["name"]}, report=self.report,
                                            jobs=self.jobs)
        self.cpu += self._clock()[1] - self.began[1]

    def finish(self) -> list:
        cpu = self._clock()[1]
        try:
            return self.build.finish()
        finally:
            self.build.close()                      # workers reaped: their CPU is in RUSAGE_CHILDREN now
            end = self._clock()
            if self.hook is not None:
                self.hook("tables", end[0] - self.began[0], self.cpu + end[1] - cpu)

    def close(self) -> None:
        if self.build is not None:
            self.build.close()


def use_system_allocator() -> None:
    """Arrow buffers from the C library's allocator (unless ``ARROW_DEFAULT_MEMORY_POOL`` says otherwise).

    Why: with Arrow's bundled mimalloc the freed buffers of one stage stayed resident; with the system
    allocator (and ``release_freed_memory``) the 1,000-subject run peaked at 707 MB instead of 835 MB, with
    the same CPU seconds. Process-wide, like the environment variable; it never changes data.
    """
    import os
    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return
    try:
        import pyarrow as pa
        pool = pa.system_memory_pool()
        if pa.default_memory_pool().backend_name != pool.backend_name:
            pa.set_memory_pool(pool)
    except (ImportError, AttributeError, NotImplementedError):
        pass


def release_freed_memory(*, gate: bool = False) -> None:
    """Give the memory freed by a finished stage back to the system (gc, then glibc ``malloc_trim``).

    ``gate=True`` after a validation gate: the gate keeps a distinct-value profile of every column it read
    (integer codes per row) until the next gate starts; the findings are made, so they are dropped here
    rather than carried through the ADaM build, the run's memory peak.

    Why: the engines work on Python strings and temporary frames; once a stage ends, most of that heap is
    free but stays mapped (measured at 1,000 subjects: ~170 MB after ADaM), so every later stage, and each
    forked tables worker, starts from a larger footprint. Changes no data; a no-op where glibc is absent.
    """
    import gc
    if gate:
        from .validation import context
        forget = getattr(context, "clear_profiles", None)
        if forget is not None:
            forget()
    gc.collect()
    try:
        import ctypes
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def input_files(study: Study) -> tuple[list[Path], list[Path]]:
    raw = sorted(p for p in study.raw_dir.rglob("*") if p.is_file())
    specs = sorted([study.config_file] + [p for p in study.specs_dir.rglob("*") if p.is_file()])
    return raw, specs


def run_study(study_dir=None, *, out_dir=None, progress=None, adam: bool = True, tables: bool = True,
              command=None, stage_timer=None, only=None, jobs=None) -> RunResult:
    """Map, validate and write a study; all outputs appear together or not at all.

    ``adam=False`` stops after SDTM (``trialforge sdtm``); ``tables=False`` stops after the submission
    package (``trialforge define``, ``trialforge run --no-tables``). ``only`` (``trialforge sdtm --only AE``)
    maps just those domains and the domains they read, e.g. DM for --DY and EPOCH (it replaces study.yaml's
    ``domains:``); a name no spec builds is a SpecError naming it. ``stage_timer(stage, wall_s, cpu_s)`` is
    called once per stage run (sdtm, sdtm_gate, adam, adam_gate, reports, xpt, dataset_json, define, tables,
    manifest; xpt, dataset_json and define once per package; with several jobs a worker's stages when its result
    is taken, with the worker's CPU seconds, and manifest twice when the inputs are hashed while the tables
    finish): the benchmark's view of the same code path.
    ``jobs`` (``--jobs``; None: ``TRIALFORGE_JOBS``, else every available core) > 1 runs the steps after the
    mapping over forked processes (``pipeline_overlap.run_overlapped``: the SDTM gate beside the ADaM build, the SDTM package
    and the CSR outputs, in that many workers, beside the ADaM gate and package); 1 runs every step here, one
    after the other (``_run_sequential``). The result, the files and the errors are the same either way.
    """
    from .jobs import long_lived_frozen, resolve_jobs
    from .validation.collector import fewer_collections
    jobs = resolve_jobs(jobs)
    use_system_allocator()
    with long_lived_frozen(), fewer_collections(RUN_FIRST_GENERATION):
        return _run_study(study_dir, out_dir, progress, adam, tables, command, stage_timer, only, jobs)


# the collector's youngest generation during a run (``fewer_collections``; 700 by default): a run allocates
# millions of short-lived containers beside ~100,000 live ones; at 1,000 subjects the main process's collections
# went from ~690 (0.68 s CPU, 0.41 s of it full collections) to ~90 (0.46 s) at 5,000, its peak memory unchanged
RUN_FIRST_GENERATION = 20_000


def _run_study(study_dir, out_dir, progress, adam, tables, command, stage_timer, only, jobs) -> RunResult:
    """``run_study`` inside its ``long_lived_frozen`` block."""
    timed = partial(_timed, stage_timer)
    build_analysis = adam
    study = load_study(study_dir or DEFAULT_STUDY)
    if only:
        study = replace(study, domains=tuple(dict.fromkeys(str(d).strip().upper() for d in only)))
    out_dir = Path(out_dir) if out_dir else (Path("out").resolve() if study_dir is None else study.out_dir)
    guard = protected_inputs(study)
    check_target(out_dir, **guard)      # refuse a folder we may not replace before any work is done
    check_target(failed_path(check_target(out_dir)))
    created = created_timestamp(study)
    ct = load_ct(list(study.ct_files) or None)
    say = progress or (lambda *a: None)
    notes: list = []
    with timed("sdtm"):
        sdtm = build_sdtm(study, ct=ct, notes=notes, progress=lambda name, n: say("sdtm", name, n), jobs=jobs)
        sdtm, changed = _to_ascii(study, sdtm)
        release_freed_memory()
    run = _Run(study=study, ct=ct, created=created, say=say, timed=timed, hook=stage_timer, jobs=jobs,
               guard=guard, out_dir=out_dir, command=command, tables=tables, analysis=build_analysis,
               notes=notes, changed=changed)
    if jobs > 1 and workers_for_memory_now(jobs):
        from .pipeline_overlap import run_overlapped
        return run_overlapped(run, sdtm)
    return _run_sequential(run, sdtm)


@dataclass
class _Run:
    """What every step after the SDTM mapping needs (one run's settings and callbacks)."""
    study: Study
    ct: object
    created: datetime
    say: object
    timed: object
    hook: object
    jobs: int
    guard: dict
    out_dir: Path
    command: object
    tables: bool
    analysis: bool
    notes: list
    changed: list

    def info(self) -> dict:
        return study_info(self.study)


def workers_for_memory_now(jobs: int) -> bool:
    """True when free memory holds one more process beside this one (see ``jobs.workers_for_memory``)."""
    from .jobs import can_fork, workers_for_memory
    return can_fork() and workers_for_memory(jobs) >= 1


def _gate_sdtm(run: _Run, sdtm: dict):
    """The SDTM gate with the mapping notes (warnings such as a result that is not a number) added."""
    with run.timed("sdtm_gate"):
        report = validate_datasets(sdtm, ct=run.ct, scope="SDTM", options=GATE)
        if run.study.domains:                # a subset build gates what it built, not the domains it left out
            report.findings = [f for f in report.findings if not f.dataset or f.dataset in sdtm]
        release_freed_memory(gate=True)
    if run.notes:                            # mapping warnings (e.g. a result that is not a number)
        report.extend(Finding(**n) for n in run.notes)
        report.sort()
    return report


def _derive_adam(run: _Run, sdtm: dict):
    """ADaM (and the SDTM the ADaM stage makes, PP) with ``ascii: transliterate`` applied: (adam, extra, changed)."""
    with run.timed("adam"):
        adam, sdtm_extra = build_adam_stage(run.study, sdtm)
        adam, changed_adam = _to_ascii(run.study, adam)
        sdtm_extra, changed_extra = _to_ascii(run.study, sdtm_extra)
        release_freed_memory()
    return adam, sdtm_extra, changed_extra + changed_adam


def _gate_extra(run: _Run, sdtm: dict, sdtm_extra: dict):
    """The gate of the SDTM made by the ADaM stage (PP), beside DM: its findings, or None when there is none."""
    if not sdtm_extra:
        return None
    with run.timed("sdtm_gate"):
        extra = validate_datasets({"DM": sdtm["DM"], **sdtm_extra}, ct=run.ct, scope="SDTM",
                                  options=dict(GATE, datasets=sorted(sdtm_extra)))     # DM: its findings are the gate's
        release_freed_memory(gate=True)
    return extra


def _merge_extra(run: _Run, sdtm_report, sdtm: dict, sdtm_extra: dict, extra, adam: dict) -> None:
    """Add the extra SDTM (PP) and its findings to the SDTM of the run, and say what was built."""
    if extra is not None:
        sdtm_report.extend(f for f in extra.findings if f.dataset in sdtm_extra)
        sdtm_report.datasets.update({k: len(v.frame) for k, v in sdtm_extra.items()})
        sdtm_report.sort()
    for name, ds in sorted(sdtm_extra.items()):
        sdtm[name] = ds
        run.say("sdtm", name, len(ds.frame))
    for name, ds in sorted(adam.items()):
        run.say("adam", name, len(ds.frame))


def _gate_adam(run: _Run, adam: dict):
    with run.timed("adam_gate"):
        report = validate_datasets(adam, ct=run.ct, scope="ADaM", options=GATE)
        release_freed_memory(gate=True)
    return report


def _write_validation(run: _Run, staging: Path, result: RunResult, sdtm: dict) -> None:
    with run.timed("reports"):
        for name, report in result.reports.items():
            write_reports(report, staging / "validation" / name, package=f"{run.study.id} {name.upper()}")
        if sdtm:                              # which CT release each codelist in use came from
            from .specs.ct import write_codelist_releases
            write_codelist_releases(staging / "validation" / "ct_releases.csv", run.ct, list(sdtm.values()))
        release_freed_memory()


def _write_one_package(run: _Run, name: str, datasets: dict, staging: Path, info: dict, say) -> list:
    """XPT, Dataset-JSON and the define bundle of one package (sdtm or adam) into ``staging/name``."""
    standard = SDTM_IG if name == "sdtm" else ADAM_IG
    written = []
    with run.timed("xpt"):
        written += write_package(datasets, staging / name, created=run.created, progress=say)
    with run.timed("dataset_json"):
        written += write_dataset_jsons(datasets, staging / name / "json", study=info, standard=standard)
    with run.timed("define"):
        written += _write_define_bundle(datasets, staging / name, info, standard, run.ct, run.study, name)
    say("define", name.upper(), len(datasets))
    release_freed_memory()
    return written


def _finish(run: _Run, staging: Path, result: RunResult, digests=None) -> RunResult:
    with run.timed("manifest"):
        _write_manifest(staging, run.study, result, run.command, run.ct, digests)
    return result


def _published(result: RunResult, stage, staging: Path) -> RunResult:
    result.published = stage.destination
    result.written = [stage.destination / p.relative_to(staging) for p in result.written]
    result.files = count_files(stage.destination)
    return result


def _run_sequential(run: _Run, sdtm: dict) -> RunResult:
    """Every step in this process, one after the other (``--jobs 1``, or no memory for a worker)."""
    sdtm_report = _gate_sdtm(run, sdtm)
    adam = {}
    changed = list(run.changed)
    if run.analysis and not sdtm_report.has_errors:   # analyses are built only from SDTM that passed the gate
        adam, sdtm_extra, changed_adam = _derive_adam(run, sdtm)
        changed += changed_adam
        extra = _gate_extra(run, sdtm, sdtm_extra)
        _merge_extra(run, sdtm_report, sdtm, sdtm_extra, extra, adam)
    result = RunResult(out_dir=run.out_dir, sdtm=sdtm, adam=adam, warnings=[str(c) for c in changed], jobs=run.jobs)
    result.reports["sdtm"] = sdtm_report
    run.say("validate", "SDTM", sdtm_report.size)
    if adam:
        result.reports["adam"] = _gate_adam(run, adam)
        run.say("validate", "ADaM", result.reports["adam"].size)
    info = run.info()
    with staged_output(run.out_dir, **run.guard) as stage:
        staging = stage.path
        stage.failed = result.has_errors
        _write_validation(run, staging, result, sdtm)
        if not result.has_errors:
            written = []
            tables_job = _TablesJob(run.hook, run.jobs) if adam and run.tables else None
            try:
                if tables_job and run.jobs > 1:      # the tables need ADaM only: built beside the package
                    tables_job.start(run.study, adam, staging / "tables", info)
                for name, datasets in (("sdtm", sdtm), ("adam", adam)):
                    if datasets:
                        written += _write_one_package(run, name, datasets, staging, info, run.say)
                if tables_job:
                    if tables_job.build is None:
                        tables_job.start(run.study, adam, staging / "tables", info)
                    written += tables_job.finish()       # TablesFailed: out/ left as it was
                    result.not_produced = tables_job.report.not_produced_lines()
                    run.say("tables", "CSR", len(written))
            finally:
                if tables_job:
                    tables_job.close()
            result.written = written
        _finish(run, staging, result)
    return _published(result, stage, staging)


def _to_ascii(study: Study, datasets: dict):
    """study.yaml ``ascii: transliterate``: typographic characters to ASCII before the gate, else unchanged."""
    if study.ascii != "transliterate" or not datasets:
        return datasets, []
    from .submission.ascii import transliterate_datasets
    return transliterate_datasets(datasets)


def protected_inputs(study: Study) -> dict:
    """What an output folder may not replace or enter: the study folder, its raw/ and specs/, CT files."""
    ct_paths = [getattr(c, "path", c) for c in study.ct_files]          # CTSource or a plain path
    return {"inputs": [study.root, study.config_file, *ct_paths, *study.plugins],
            "input_dirs": [study.raw_dir, study.specs_dir]}


def _write_define(datasets, path, info, standard, ct):
    from .submission.define import write_define
    return write_define(list(datasets.values()), path, study=info, standard=standard, ct=ct, created=info["created"])


def _write_manifest(staging: Path, study: Study, result: RunResult, command, ct, digests=None):
    from .submission.manifest import build_manifest, write_manifest
    raw, specs = input_files(study)
    summary = {name: {"errors": r.count("error"), "warnings": r.count("warning"), "notices": r.count("notice")}
               for name, r in sorted(result.reports.items())}
    manifest = build_manifest(staging, inputs=raw, specs=specs, command=list(command or ["trialforge", "run"]),
                              tool_version=__version__,
                              standards={"sdtmig": "3.4", "adamig": "1.3", "ct": ct.version},
                              validation_summary=summary, inputs_root=study.root, digests=digests)
    write_manifest(staging, manifest)


def _write_define_bundle(datasets, folder, info, standard, ct, study, package):
    """define.xml with its stylesheet, define.html and documents (ADaM: with ARM of the key displays)."""
    from .submission.define_study import key_displays, write_define_bundle
    arm = key_displays(study, datasets) if package == "adam" else None
    return write_define_bundle(datasets, folder, study=study, info=info, standard=standard, ct=ct,
                               package=package, arm=arm, tool_version=__version__)
