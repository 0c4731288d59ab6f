"""Build every declared output: RTF + HTML + JSON per table, PNG + SVG + RTF + HTML + JSON per figure,
and one index.html linking them all. Outputs whose datasets were not supplied are listed, not built."""
from __future__ import annotations

import json
import os
import time
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from dataclasses import dataclass, field

from ..errors import DatasetReadError, SpecError, TrialforgeError
from .catalogue import Catalogue, default_catalogue
from .engine import MissingVariable, compute_by_columns
from .facts import Facts
from .tabledata import TableData, frame_of
from .typography import typeset, typeset_result
from .figures import render_figure, save_figure
from .json_text import Records, dumps_indent1
from .layouts import (compute_dose_escalation, compute_listing, compute_parameter_by_group,
                      compute_parameter_by_visit, compute_shift_table)
from .render import figure_to_html, figure_to_rtf, index_html, join_rtf, table_to_html, table_to_rtf
from .spec import (ByColumns, DoseEscalation, FigureSpec, Listing, ParameterByGroup, ParameterByVisit,
                   ShiftTable, TableSpec)

LAYOUTS = {ByColumns: compute_by_columns, DoseEscalation: compute_dose_escalation,
           ParameterByGroup: compute_parameter_by_group, Listing: compute_listing, ShiftTable: compute_shift_table,
           ParameterByVisit: compute_parameter_by_visit}


class TablesFailed(TrialforgeError):
    """One or more outputs could not be built; every other output was built and the failures are
    listed by number and reason. The caller (run/tables) leaves the earlier output folder untouched."""


@dataclass
class BuildReport:
    written: list = field(default_factory=list)
    produced: list = field(default_factory=list)     # output labels ("Table 14.1.1")
    skipped: list = field(default_factory=list)      # (label, reason): dataset or variable not supplied
    failed: list = field(default_factory=list)       # (label, reason)
    seconds: dict = field(default_factory=dict)      # label -> CPU seconds spent on that output
    titles: dict = field(default_factory=dict)       # label -> title (for the console lines)

    def not_produced_lines(self) -> list[str]:
        """One console line per output not produced: number, title and reason."""
        return [f"not produced: {' '.join(filter(None, (label, self.titles.get(label))))}: {why}"
                for label, why in self.skipped]


def compute_table(spec: TableSpec, adam, facts: Facts | None = None):
    """The cells of one table or listing. `adam` maps dataset names to datasets, or is the build's
    `TableData` (prepared once and shared by every output of a build: filters, populations and columns
    are then evaluated once)."""
    if not isinstance(adam, TableData):
        adam = TableData(adam)
    try:
        fn = LAYOUTS[type(spec.layout)]
    except KeyError:
        raise SpecError(f"output {spec.id}: unknown layout {type(spec.layout).__name__}") from None
    if facts is not None:
        spec = facts.apply(spec)
    return typeset_result(fn(spec, adam))


def _selected(spec, only) -> bool:
    if not only:
        return True
    return any(spec.id == o or spec.id.startswith(o.rstrip(".") + ".") or spec.stem == o for o in only)


def _write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8"))   # bytes: no platform newline translation
    return path


def select_outputs(catalogue: Catalogue, only) -> list:
    """The outputs `only` names (ids or id prefixes); an id that matches nothing is a usage error."""
    specs = [s for s in catalogue.outputs if _selected(s, only)]
    for o in only or ():
        if not any(_selected(s, [o]) for s in catalogue.outputs):
            raise SpecError(f"--only {o}: no output with this number in the catalogue "
                            f"({', '.join(catalogue.sources) or 'default'})", value=o)
    return specs


def build_tables(adam: dict, out_dir, only: list[str] | None = None, study: dict | None = None,
                 catalogue: Catalogue | None = None, adam_config: dict | None = None,
                 report: BuildReport | None = None, tables=None, figures=None, jobs: int = 1) -> list[Path]:
    """Write the selected outputs to `out_dir`; returns every file written (index.html last).

    `adam` maps dataset names (ADSL, ADAE, ...) to Dataset objects (or frames); `only` holds output ids
    or id prefixes ("14.3.1" selects 14.3.1.x); `study` may carry "title"/"studyid"/"protocol"/
    "data_cutoff" for the index and the running header; `adam_config` is the study's adam.yaml as a
    mapping (footnotes such as the TEAE window are generated from it). An output whose dataset or
    variable is absent is listed as not produced; an output that fails is reported by number and
    reason after every other output was built (TablesFailed). `jobs` > 1 builds the outputs in that many
    forked processes (same files, byte for byte: each output depends only on its spec and the ADaM).
    """
    build = start_tables(adam, out_dir, only=only, study=study, catalogue=catalogue, adam_config=adam_config,
                         report=report, tables=tables, figures=figures, jobs=jobs)
    try:
        return build.finish()
    finally:
        build.close()


def start_tables(adam: dict, out_dir, only: list[str] | None = None, study: dict | None = None,
                 catalogue: Catalogue | None = None, adam_config: dict | None = None,
                 report: BuildReport | None = None, tables=None, figures=None, jobs: int = 1) -> "TablesBuild":
    """`build_tables` in two steps: with `jobs` > 1 the workers start now and the caller may do other work
    (the pipeline writes the submission package) before `finish()`; with `jobs` 1 all the work is done
    by `finish()`. Always `close()` it (stops the workers on an error)."""
    catalogue = catalogue or default_catalogue()
    if tables is not None or figures is not None:      # explicit spec lists (tests, scripts)
        keep = [o for o in catalogue.outputs if (o.kind != "Figure" and tables is None)
                or (o.kind == "Figure" and figures is None)]
        catalogue = Catalogue(keep + list(tables or []) + list(figures or []), catalogue.settings,
                              catalogue.defs, catalogue.sources)
    specs = select_outputs(catalogue, only)
    adam = {k.upper(): v for k, v in adam.items()}
    if "ADSL" not in adam:
        raise DatasetReadError("no ADSL among the ADaM datasets: every table needs the subject-level "
                               "dataset (adsl.xpt)", file="ADSL")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    study = study or {}
    facts = Facts(adam, adam_config, catalogue.defs)
    page = page_settings(catalogue.settings, study, adam)
    report = report if report is not None else BuildReport()
    data = TableData(adam)                 # shared by the tables of this build
    # shared by the figures: their frames as given (the pictures depend on the frames' own dtypes), with
    # each population, filter mask and subject look-up computed once per build instead of once per figure
    figure_data = TableData(adam, prepare=False, shared=data)
    entries: list[dict] = []
    todo: list = []                        # (spec, entry, label) of the outputs to build
    for spec in specs:
        label = f"{spec.kind} {spec.id}"
        missing = [d for d in spec.requires if d.upper() not in adam]
        entry = {"id": spec.id, "kind": spec.kind, "title": _safe_text(facts, spec.title),
                 "population": spec.population.label,
                 "files": {}}
        entries.append(entry)
        report.titles[label] = entry["title"]
        if missing:
            entry["note"] = f"not produced: {', '.join(missing)} not supplied"
            report.skipped.append((label, entry["note"][14:]))
            continue
        todo.append((spec, entry, label))
    title = study.get("title") or study.get("studyid") or _studyid(adam) or "Study"
    one = partial(_build_output, facts=facts, data=data, figure_data=figure_data, out=out, page=page)
    return TablesBuild(one, todo, entries, report, out, str(title), len(specs), jobs)


@dataclass
class Outcome:
    """What building one output gave: its files, or why it was not produced or failed."""
    status: str                                 # "produced", "skipped" or "failed"
    written: list = field(default_factory=list)
    files: dict = field(default_factory=dict)
    note: str = ""
    seconds: float | None = None


def _build_output(spec, *, facts, data, figure_data, out, page) -> Outcome:
    """One table, listing or figure into `out`; its failure is its own outcome, never the build's."""
    stem = out / spec.stem
    here = {**page, "program": f"trialforge tables, output {spec.stem}",
            "source": "ADaM " + ", ".join(d.upper() for d in spec.requires)}
    started = time.process_time()
    try:
        if isinstance(spec, TableSpec):
            res = compute_table(spec, data, facts)
            files = {"RTF": f"{spec.stem}.rtf", "JSON": f"{spec.stem}.json"}
            texts = [(".rtf", table_to_rtf(res, here)), (".json", res.to_json()),
                     (".html", table_to_html(res, {"Index": "index.html", **files}))]
            written = [_write(stem.with_suffix(ext), text) for ext, text in texts]
        else:
            written, files = _build_figure(_typeset_figure(facts.apply(spec)), figure_data, stem, here)
    except MissingVariable as exc:
        return Outcome("skipped", note=f"not produced: {exc.cause.split(': ', 1)[-1]}",
                       seconds=time.process_time() - started)
    except TrialforgeError as exc:
        return Outcome("failed", note=exc.message)
    except Exception as exc:  # noqa: BLE001 - one output's defect must not stop the others
        if os.environ.get("TRIALFORGE_DEBUG"):
            raise
        return Outcome("failed", note=f"internal error {type(exc).__name__}: {exc}")
    return Outcome("produced", written=written, files=files, seconds=time.process_time() - started)


class TablesBuild:
    """The outputs of one build in progress (see `start_tables`)."""

    def __init__(self, one, todo, entries, report, out, title, n_specs, jobs):
        self.one, self.todo, self.entries, self.report = one, todo, entries, report
        self.out, self.title, self.n_specs = out, title, n_specs
        self.pool = None
        if jobs > 1 and len(todo) > 1:
            from ..jobs import workers_for_memory
            jobs = workers_for_memory(jobs)
        if jobs > 1 and len(todo) > 1:
            from ..jobs import ForkPool
            _warm_tables(one.keywords["data"], [spec for spec, _, _ in todo])
            self._tasks = dispatch_tasks([spec for spec, _, _ in todo], one.keywords["data"])
            self.pool = ForkPool(self._run, range(len(self._tasks)), jobs)

    def _run(self, k: int) -> list:
        try:
            return [self.one(self.todo[i][0]) for i in self._tasks[k]]
        finally:
            self.one.keywords["data"].memo.clear()     # what a group's outputs shared is not kept by the worker

    def finish(self) -> list[Path]:
        """Gather (or, with one job, build) every output in catalogue order, write index.html; TablesFailed
        when any output failed."""
        if self.pool is not None:
            got = {i: outcome for task, outcomes in zip(self._tasks, self.pool.results())
                   for i, outcome in zip(task, outcomes)}
            outcomes = [got[i] for i in range(len(self.todo))]
        else:
            outcomes = [self.one(spec) for spec, _, _ in self.todo]
        report = self.report
        for (spec, entry, label), outcome in zip(self.todo, outcomes):
            if outcome.status == "skipped":
                report.seconds[label] = outcome.seconds
                entry["note"] = outcome.note
                report.skipped.append((label, entry["note"][14:]))
            elif outcome.status == "failed":
                entry["note"] = f"failed: {outcome.note}"
                report.failed.append((label, outcome.note))
            else:
                report.written += outcome.written
                report.seconds[label] = outcome.seconds
                report.produced.append(label)
                entry["html"] = f"{spec.stem}.html"
                entry["files"] = {"HTML": entry["html"], **outcome.files}
        report.written.append(_write(self.out / "index.html", index_html(self.title, self.entries)))
        if report.failed:
            lines = "; ".join(f"{lab}: {why}" for lab, why in report.failed)
            raise TablesFailed(f"{len(report.failed)} of {self.n_specs} outputs failed ({lines}); the other "
                               f"outputs were built")
        return report.written

    def close(self) -> None:
        """Stop and reap the workers (after an error elsewhere); nothing when they are done or never ran."""
        if self.pool is not None:
            self.pool.close()


def dispatch_tasks(specs: list, data: TableData) -> list[list[int]]:
    """The outputs (positions in `specs`) grouped into the tasks the workers take, in the order they take them.

    Figures are a task each, first (the costliest outputs: they draw pages), in catalogue order. Listings are a
    task each next, the longest first (rows of the datasets they read). The other tables are grouped by
    population and the first dataset they read besides the population's: a group shares its first-time work
    (the population's columns, filter masks and subject positions of its datasets, word widths), which each
    worker did again for its own tables when every table was a task of its own (~0.4 s of CPU at 1,000
    subjects); groups follow, the largest first, so the last tasks are small and the workers end together."""
    figures, listings, groups = [], [], {}
    for i, spec in enumerate(specs):
        if not isinstance(spec, TableSpec):
            figures.append([i])
        elif isinstance(spec.layout, Listing):
            listings.append([i])
        else:
            own = [d.upper() for d in spec.requires if d.upper() != spec.population.dataset.upper()]
            groups.setdefault((repr(spec.population), own[0] if own else ""), []).append(i)
    def rows(task):
        return max((len(data.source[d.upper()]) for d in specs[task[0]].requires if d.upper() in data), default=0)
    listings.sort(key=rows, reverse=True)
    return figures + listings + sorted(groups.values(), key=len, reverse=True)


def _warm_tables(data: TableData, specs) -> None:
    """Prepare the datasets the tables read once, before the workers fork, so they share one copy; their
    text columns' codes are left for the ADaM package's writers, which a run with several jobs runs next
    in this process (`as_object_strings`)."""
    for name in sorted({d.upper() for s in specs if isinstance(s, TableSpec) for d in s.requires}):
        if name in data:
            data.frame(name, share_codes=True)


def _typeset_figure(spec: FigureSpec) -> FigureSpec:
    import dataclasses
    return dataclasses.replace(spec, title=typeset(spec.title), footnotes=tuple(typeset(f) for f in spec.footnotes))


def _studyid(adam: dict) -> str | None:
    adsl = adam.get("ADSL")
    if adsl is None:
        return None
    f = frame_of(adsl)
    return str(f["STUDYID"].iloc[0]) if "STUDYID" in f and len(f) else None


def _build_figure(spec: FigureSpec, adam, stem: Path, page: dict) -> tuple[list[Path], dict]:
    """PNG + SVG per page, one RTF (a page per figure page), one HTML and one JSON; returns the
    files written and the index links. `adam`: the datasets, or the build's `TableData` of the figures. A figure of several pages ("page k of n", per-subject figures
    capped at `per_page` subjects) names its pictures <stem>_p<k>."""
    pages = render_figure(spec, adam)
    n = pages.count
    names = [stem.name] if n == 1 else [f"{stem.name}_p{k + 1:0{len(str(n))}d}" for k in range(n)]
    paths, datas, rtfs = [], [], []
    try:
        for k, name in enumerate(names):
            fig, data = pages.draw(k)
            pic = stem.with_name(name)
            paths += save_figure(fig, pic)
            datas.append(data)
            fid = spec.id if n == 1 else f"{spec.id} (page {k + 1} of {n})"
            rtfs.append(figure_to_rtf(spec.kind, fid, spec.title, spec.population.label, pic.with_suffix(".png"),
                                      list(spec.footnotes), page))
    finally:
        pages.close()
    data = datas[0] if n == 1 else _paged(datas)
    payload = {"id": spec.id, "kind": spec.kind, "title": spec.title, "population": spec.population.label,
               "footnotes": list(spec.footnotes), "data": _frame_records(data)}
    if n > 1:
        payload["pages"] = n
    paths.append(_write(stem.with_suffix(".json"), dumps_indent1(payload) + "\n"))
    paths.append(_write(stem.with_suffix(".rtf"), join_rtf(rtfs)))
    if n == 1:
        pics = {"PNG": f"{names[0]}.png", "SVG": f"{names[0]}.svg"}
    else:
        pics = {f"{ext} {k + 1}": f"{name}.{ext.lower()}" for k, name in enumerate(names) for ext in ("PNG", "SVG")}
    files = {**pics, "RTF": f"{stem.name}.rtf", "JSON": f"{stem.name}.json"}
    svgs = [f"{name}.svg" for name in names]
    paths.append(_write(stem.with_suffix(".html"), figure_to_html(spec.kind, spec.id, spec.title,
                                                                   spec.population.label,
                                                                   svgs[0] if n == 1 else svgs,
                                                                   list(spec.footnotes),
                                                                   {"Index": "index.html", **files})))
    return paths, files


def _paged(datas: list) -> pd.DataFrame:
    """The pages' plotted frames one after another with their page number last:
    `pd.concat([d.assign(page=k + 1) for k, d in enumerate(datas)], ignore_index=True)`, numbered once
    after joining rather than by a copy of every page's frame."""
    data = pd.concat(datas, ignore_index=True)
    data["page"] = np.repeat(np.arange(1, len(datas) + 1, dtype=np.int64), [len(d) for d in datas])
    return data


def _frame_json(df: pd.DataFrame) -> str:
    df = df.copy()
    for c in df.columns:
        if pd.api.types.is_float_dtype(df[c]):
            df[c] = df[c].round(6)
    return df.to_json(orient="records", double_precision=10)


def _frame_records(df: pd.DataFrame):
    """The plotted frame's rows as `json.loads(_frame_json(df))` gives them, as `json_text.Records` (columns):
    floats still read back from pandas' number text (rounded to 6 places, 10 digits: "-0.0" becomes 0.0, big
    values exponent text), a column at a time; integers and text taken as they are (text reads back
    unchanged, a missing value as None). No text of whole rows is parsed and no dict is made per row.
    Frames with other columns (or names that are not distinct strings) keep the records."""
    if len(df) < 2 or not df.columns.is_unique or any(type(c) is not str for c in df.columns):
        return json.loads(_frame_json(df))
    cols = []
    for name, dtype in df.dtypes.items():
        s = df[name]
        kind = dtype.kind if isinstance(dtype, np.dtype) else None
        if kind == "f":
            cols.append(json.loads(s.round(6).to_json(orient="records", double_precision=10)))
        elif kind == "i":
            cols.append(s.tolist())
        elif kind == "O" or isinstance(dtype, pd.StringDtype):
            values = s.to_numpy(dtype=object)
            missing = pd.isna(values)
            if missing.any():
                values = values.copy()
                values[missing] = None
            if any(type(v) is not str for v in values[~missing]):
                return json.loads(_frame_json(df))
            cols.append(values.tolist())
        else:
            return json.loads(_frame_json(df))
    return Records(list(df.columns), cols)


def page_settings(settings: dict, study: dict, adam: dict) -> dict:
    """Running header/footer texts: protocol, data cut-off, program and data source."""
    return {"protocol": str(settings.get("protocol") or study.get("protocol") or study.get("studyid")
                            or _studyid(adam) or ""),
            "cutoff": str(settings.get("data_cutoff") or study.get("data_cutoff") or ""),
            "program": str(settings.get("program") or "trialforge tables"),
            "source": str(settings.get("source") or "ADaM")}


def build_study_tables(study, adam: dict, out_dir, info: dict | None = None, only=None,
                       report: BuildReport | None = None, jobs: int = 1) -> list[Path]:
    """The tables of a study folder: its catalogue (study.yaml `tables`), its adam.yaml for footnote
    facts and its identity for the running header. Used by `run` and `tables STUDY_DIR`; `report`
    collects what was produced and what was not (printed by the CLI)."""
    build = start_study_tables(study, adam, out_dir, info, only=only, report=report, jobs=jobs)
    try:
        return build.finish()
    finally:
        build.close()


def start_study_tables(study, adam: dict, out_dir, info: dict | None = None, only=None,
                       report: BuildReport | None = None, jobs: int = 1) -> TablesBuild:
    """`build_study_tables` in two steps (see `start_tables`)."""
    from .catalogue import study_catalogue
    adam_config = None
    spec = Path(study.specs_dir) / "adam.yaml"
    if spec.is_file():
        import yaml
        from .catalogue import _SAFE_LOADER          # libyaml when present: same document, ~8x faster
        adam_config = yaml.load(spec.read_text(encoding="utf-8"), Loader=_SAFE_LOADER) or {}
    info = dict(info or {})
    info.setdefault("studyid", study.id)
    info.setdefault("protocol", str(study.identity.get("protocol", study.id)))
    if study.raw.get("data_cutoff"):
        info.setdefault("data_cutoff", str(study.raw["data_cutoff"]))
    return start_tables(adam, out_dir, only=only, study=info, catalogue=study_catalogue(study),
                        adam_config=adam_config, report=report, jobs=jobs)


def _safe_text(facts: Facts, text: str) -> str:
    """A title for the index with its @{facts} filled in; an unknown fact is the output's own failure, not
    the index's, so the raw text stays there."""
    try:
        return facts.text(text)
    except TrialforgeError:
        return text
