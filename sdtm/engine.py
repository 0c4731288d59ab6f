"""The SDTM mapping engine: domain specs + raw exports → SDTM Datasets (frames with metadata).

Two phases keep cross-domain derivations acyclic without the user ordering anything:
phase 1 maps every source of every domain (raw columns → variables); phase 2 derives what needs
whole domains or other domains (--SEQ, --DY, EPOCH, aggregates such as DM.RFXSTDTC from EX),
domain by domain in dependency order. SUPP-- datasets are assembled last, once --SEQ exists.
"""
from __future__ import annotations

import gc
from dataclasses import dataclass, field, replace
from graphlib import CycleError, TopologicalSorter

import numpy as np
import pandas as pd

from ..errors import SpecError
from ..specs.ct import load_ct
from ..specs.metadata import CHAR, NUM, Dataset, DatasetMeta, VariableMeta
from ..specs.define_workbook import apply_workbook, read_define_workbook
from ..specs.model import merge_in_model_order, model_layout, model_variable
from ..specs.spec import DomainSpec, Rule, load_domain_specs
from ..specs.standards import load_standard
from ..specs.yamlio import did_you_mean
from . import dates, expressions, functions
from .algorithms import _TEMPLATE_FIELD, MappingContext, evaluate_rule
from .derive import _SUBJECT_TABLES, PHASE2, split_ref
from .sources import SOURCE_COL, load_source
from .relrec import build_relrec
from .supp import SUPP_PREFIX, build_supp
from .steps import FINISH, MAP1, Step, domain_costs, sequential_steps, split_plan
from .uniques import stable_order
from .working import WorkingFrame, boundary_text, finished_text, text_to_boundary
from ..objstrings import object_strings

SDTMIG = "SDTMIG 3.4"


def rule_references(rule: Rule) -> set[str]:
    """Names a rule reads from the working frame (for ordering variables inside a domain)."""
    kind, value = rule.kind, rule.value
    refs: set[str] = set()
    if kind in ("from", "visit", "visitnum", "visitdy", "study_day", "epoch"):
        refs.add(str(value))
        if kind in ("visit", "visitnum") and rule.get("date"):
            refs.add(str(rule.get("date")))
    elif kind == "template":
        refs |= {f for f in _TEMPLATE_FIELD.findall(str(value)) if not f.startswith("raw.")}
    elif kind == "expr":
        refs |= expressions.names(str(value))
    elif kind == "when":
        for condition, then in value:
            refs |= expressions.names(condition) | rule_references(then)
        if rule.get("else") is not None:
            refs |= rule_references(rule.get("else"))
    elif kind == "datetime":
        refs |= {value["date"]} | ({value["time"]} if value.get("time") else set())
    elif kind == "elapsed":
        refs |= {value["start"], value["end"]}
    elif kind == "function":
        refs |= {v for v in (rule.get("args") or {}).values() if isinstance(v, str) and v.isidentifier()}
    elif kind == "seq" and isinstance(value, dict):
        refs |= set(value.get("by") or [])
    elif kind == "standardize":
        refs |= {value[k] for k in ("result", "unit", "test") if value.get(k)}
    elif kind == "baseline":
        refs |= {value["date"], value.get("value", value["date"])} | set(value.get("by") or [])
        if value.get("where"):
            refs |= expressions.names(value["where"])
    return refs


def _is_phase2(rule: Rule, phase2: set[str]) -> bool:
    """Phase 2: the kind needs whole domains, or the rule reads a phase-2 variable.

    ``visit``/``visitnum`` with ``date:`` number unscheduled visits from the subject's other visits,
    so they need the whole domain too.
    """
    whole_domain = rule.kind in ("visit", "visitnum") and bool(rule.get("date"))
    return rule.kind in PHASE2 or whole_domain or bool(rule_references(rule) & phase2)


def variable_order(spec: DomainSpec) -> tuple[list[str], list[str]]:
    """Phase-1 and phase-2 variables, each in dependency order (spec order where free)."""
    names = list(spec.variables)
    phase2: set[str] = set()
    changed = True
    while changed:
        changed = False
        for name in names:
            if name not in phase2 and _is_phase2(spec.variables[name], phase2):
                phase2.add(name)
                changed = True
    graph = {}
    for name in names:
        deps = {r for r in rule_references(spec.variables[name]) if r in spec.variables and r != name}
        for src in spec.sources:
            if name in src.variables:
                deps |= {r for r in rule_references(src.variables[name]) if r in spec.variables and r != name}
        if spec.variables[name].kind == "seq":
            deps |= {k for k in spec.sort if k in spec.variables and k != name}
        graph[name] = deps
    try:
        ordered = _stable_toposort(names, graph)
    except CycleError as exc:
        cycle = exc.args[1]
        raise SpecError(f"variables depend on each other in a cycle: {' -> '.join(cycle)}. Inside a rule a name "
                        f"means this domain's variable once the spec assigns it; if a raw column has the same name "
                        f"as a variable (e.g. {cycle[-1]}), write raw.{cycle[-1]} for the raw column",
                        file=spec.file, column=cycle[0]) from None
    return [n for n in ordered if n not in phase2], [n for n in ordered if n in phase2]


def _stable_toposort(names, graph):
    sorter = TopologicalSorter({n: graph[n] for n in names})
    sorter.prepare()
    position = {n: i for i, n in enumerate(names)}
    out = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=position.get)
        for n in ready:
            out.append(n)
            sorter.done(n)
    return out


def domain_dependencies(spec: DomainSpec, phase2_vars: dict[str, set[str]]) -> set[str]:
    """Domains whose phase-2 results this domain's phase 2 reads."""
    deps = set(spec.depends_on)
    for rule in list(spec.variables.values()) + [s.rule for s in spec.supp]:
        if rule.kind == "study_day":
            domain, var = split_ref(rule.get("ref", "DM.RFSTDTC"))
            deps.add(domain)
        elif rule.kind == "epoch":
            deps.add("DM")
        elif rule.kind == "baseline":
            deps.add(split_ref(rule.value.get("ref", "DM.RFXSTDTC"))[0])
        elif rule.kind == "aggregate" and str(rule.value["domain"]).upper() != spec.dataset:
            domain = str(rule.value["domain"]).upper()
            if rule.value["value"] in phase2_vars.get(domain, set()):
                deps.add(domain)
    deps.discard(spec.dataset)
    return deps


def referenced_domains(spec: DomainSpec) -> set[str]:
    """Every other domain a spec reads (aggregates, reference dates, epochs), phase 1 or 2."""
    found = set(spec.depends_on)
    rules = list(spec.variables.values()) + [r for src in spec.sources for r in src.variables.values()] + \
        [s.rule for s in spec.supp]
    for rule in rules:
        if rule.kind == "aggregate":
            found.add(str(rule.value["domain"]).upper())
        elif rule.kind in ("study_day", "baseline"):
            default = "DM.RFSTDTC" if rule.kind == "study_day" else "DM.RFXSTDTC"
            ref = rule.get("ref") if rule.kind == "study_day" else rule.value.get("ref")
            found.add(split_ref(ref or default)[0])
        elif rule.kind == "epoch":
            found.add("DM")
    found.discard(spec.dataset)
    return found


def with_dependencies(specs: list[DomainSpec], wanted) -> list[DomainSpec]:
    """The wanted domains plus, transitively, the domains they read (a subset build still works)."""
    by_name = {s.dataset: s for s in specs}
    keep, todo = set(), [str(w).upper() for w in wanted]
    while todo:
        name = todo.pop()
        if name in keep or name not in by_name:
            continue
        keep.add(name)
        todo.extend(referenced_domains(by_name[name]))
    return [s for s in specs if s.dataset in keep]


def standard_metadata(spec: DomainSpec, standard) -> DatasetMeta:
    """Dataset metadata: the SDTMIG domain (order, labels, types, core) narrowed to the spec's variables.

    A variable the standard does not define for the domain belongs in SUPP--; for a custom domain
    (not in the standard) the spec must give every label.
    """
    try:
        std = standard.dataset(spec.dataset)
    except SpecError:
        std = None
    vars_out = []
    if std is not None:
        known = {v.name for v in std.variables}
        extra = []
        for name in spec.output_variables:
            if name in known:
                continue
            model_var = model_variable(spec.dataset, std.cls, name)
            if model_var is None:
                where = "the SDTM model's" if model_layout(spec.dataset, std.cls) else "any"
                hint = did_you_mean(name, known | {v.name for v in model_layout(spec.dataset, std.cls)})
                raise SpecError(f"{name} is not an {standard.name} {spec.dataset} variable nor {where} "
                                f"{std.cls or ''} class variable{hint}; map it to SUPP{spec.domain} (supp:) instead",
                                file=spec.file, column=name)
            extra.append(model_var)
        for v in merge_in_model_order(std.variables, extra, spec.dataset, std.cls):
            if v.name in spec.variables:
                vars_out.append(_override(v, spec.variables[v.name]))
        return DatasetMeta(name=spec.dataset, label=spec.label or std.label, cls=spec.cls or std.cls,
                           structure=spec.structure or std.structure, keys=spec.keys, variables=tuple(vars_out),
                           standard=standard.name, comment=spec.comment)
    if not spec.label or not spec.cls:
        raise SpecError(f"{spec.dataset} is not an {standard.name} domain: a custom domain needs label and class",
                        file=spec.file)
    for name in spec.output_variables:
        rule = spec.variables[name]
        if not rule.get("label"):
            raise SpecError(f"custom domain variable {name} needs a label", file=spec.file, column=name)
        base = VariableMeta(name=name, label=str(rule.get("label")),
                            type=NUM if str(rule.get("type", "")).lower().startswith("num") else CHAR)
        vars_out.append(_override(base, rule))
    return DatasetMeta(name=spec.dataset, label=spec.label, cls=spec.cls, structure=spec.structure, keys=spec.keys,
                       variables=tuple(vars_out), standard=standard.name, comment=spec.comment)


def _override(var: VariableMeta, rule: Rule) -> VariableMeta:
    changes = {"origin": rule.origin}
    if rule.get("label"):
        changes["label"] = str(rule.get("label"))
    if rule.get("length") is not None:
        changes["length"] = int(rule.get("length"))
    if rule.get("format"):
        changes["format"] = str(rule.get("format"))
    if rule.get("significant_digits") is not None:
        changes["significant_digits"] = int(rule.get("significant_digits"))
    if rule.kind == "from":
        changes["origin_detail"] = str(rule.value)          # the raw column it comes from
    if rule.get("method"):
        changes["method"] = str(rule.get("method"))
        changes["method_type"] = str(rule.get("method_type") or "Computation")
    elif changes["origin"] == "Derived":
        changes["method"] = derived_method_text(rule)
        changes["method_type"] = "Computation"
    if rule.get("crf_page") is not None:
        pages = rule.get("crf_page")
        changes["crf_pages"] = tuple(int(p) for p in (pages if isinstance(pages, list) else [pages]))
    if rule.get("origin_source"):
        changes["origin_source"] = str(rule.get("origin_source"))
    elif changes["origin"] == "Collected":
        changes["origin_source"] = "Investigator"
    if rule.get("comment"):
        changes["comment"] = str(rule.get("comment"))
    if rule.get("dictionary"):
        d = rule.get("dictionary")
        changes["dictionary"] = tuple(str(x) for x in (d if isinstance(d, list) else [d, ""]))[:2]
    if rule.get("type"):
        changes["type"] = NUM if str(rule.get("type")).lower().startswith("num") else CHAR
    return replace(var, **changes)


def _where(v) -> str:
    return f" where {v['where']}" if v.get("where") else ""


# Derivation text per rule kind, for define.xml when the spec gives no `method:` (said from the rule itself).
METHOD_TEXT = {
    "seq": lambda r, v: "Sequence number 1..n within USUBJID in the order of the dataset keys",
    "study_day": lambda r, v: (lambda ref: f"{v} minus {ref} plus 1 on or after {ref}, {v} minus {ref} before "
                                           f"(no day 0)")(r.get("ref", "DM.RFSTDTC")),
    "epoch": lambda r, v: f"Epoch of {v} from the subject's DM reference dates (study epochs)",
    "aggregate": lambda r, v: f"{v.get('fn', 'one')} of {v['domain']}.{v['value']} per subject{_where(v)}",
    "template": lambda r, v: f"Concatenation: {v}",
    "expr": lambda r, v: f"Computed: {v}",
    "when": lambda r, v: "Conditional: " + "; ".join(f"if {c}" for c, _ in v) + "; otherwise as specified",
    "standardize": lambda r, v: f"{v['result']} converted to the standard unit of the test (unit table)",
    "baseline": lambda r, v: f"Y on the last non-missing {v.get('value', v['date'])} on or before "
                             f"{v.get('ref', 'DM.RFXSTDTC')}",
    "elapsed": lambda r, v: f"ISO 8601 duration from {v['start']} to {v['end']}",
    "function": lambda r, v: f"Function {v}",
}


def derived_method_text(rule: Rule) -> str:
    """A readable derivation for define.xml when the spec gives none."""
    text = METHOD_TEXT.get(rule.kind)
    return text(rule, rule.value) if text else f"Derived ({rule.kind})"


def phase2_supp(spec: DomainSpec, phase2_vars: set[str]) -> frozenset:
    """QNAMs whose values need the whole domain or other domains (computed after phase 2)."""
    return frozenset(s.qnam for s in spec.supp
                     if _is_phase2(s.rule, phase2_vars) or bool(s.when and expressions.names(s.when) & phase2_vars))


def supp_values(supp, frame: pd.DataFrame, ctx) -> pd.Series:
    """One SUPP entry's value per record: its rule, blanked outside its ``when`` and its ``source``."""
    value = evaluate_rule(supp.rule, frame, ctx)
    keep = pd.Series(True, index=frame.index)
    if supp.when:
        keep &= expressions.evaluate_mask(supp.when, frame)
    if supp.source and SOURCE_COL in frame.columns:
        keep &= frame[SOURCE_COL] == supp.source
    return value.where(keep, "")


def spec_expressions(spec: DomainSpec):
    """(variable or key, expression text) for every expression a spec holds."""
    def of_rule(rule: Rule):
        if rule.kind == "expr":
            yield rule.variable, str(rule.value)
        elif rule.kind == "when":
            for condition, then in rule.value:
                yield rule.variable, condition
                yield from of_rule(then)
            if rule.get("else") is not None:
                yield from of_rule(rule.get("else"))
        elif rule.kind in ("aggregate", "baseline") and rule.value.get("where"):
            yield rule.variable, str(rule.value["where"])
    for rule in spec.variables.values():
        yield from of_rule(rule)
    for src in spec.sources:
        if src.filter:
            yield f"source {src.name} filter", str(src.filter)
        for join in src.joins:
            if join.filter:
                yield f"source {src.name} join {join.file} filter", str(join.filter)
        for test in (src.melt.tests if src.melt else ()):
            if test.get("when"):
                yield f"source {src.name} melt when", str(test["when"])
        for rule in src.variables.values():
            yield from of_rule(rule)
    for supp in spec.supp:
        yield from of_rule(supp.rule)
        if supp.when:
            yield f"supp {supp.qnam} when", str(supp.when)


def check_expressions(spec: DomainSpec) -> None:
    """Parse every expression and date layout before mapping: a mistake names the spec file, the variable
    and the text, and says what would be valid."""
    for where, text in spec_expressions(spec):
        try:
            expressions.parse(text)
        except SpecError as exc:
            raise SpecError(f"{where}: {exc.cause}", file=spec.file, column=where, value=text) from None
    rules = list(spec.variables.values()) + [s.rule for s in spec.supp] + \
        [r for src in spec.sources for r in src.variables.values()]
    for rule in rules:
        if rule.kind != "datetime":
            continue
        formats = rule.value.get("format", "DD MON YYYY")
        for fmt in (formats if isinstance(formats, list) else [formats]):
            if str(fmt).upper() in ("ISO8601", "ISO 8601"):
                continue
            try:
                dates.compile_pattern(str(fmt), ())
            except SpecError as exc:
                raise SpecError(f"{rule.variable}: {exc.cause}; a format is built from YYYY, MM or MON, DD with "
                                f"any separators (e.g. DD MON YYYY, MM/DD/YYYY, YYYY), or ISO8601",
                                file=spec.file, column=rule.variable, value=str(fmt)) from None


class SdtmBuilder:
    """Builds every domain a study's specs declare."""

    def __init__(self, study, *, ct=None, standard=None, specs=None, progress=None, jobs: int = 1):
        self.study = study
        self.ct = ct if ct is not None else load_ct(list(study.ct_files) or None)
        self.standard = standard or load_standard(study.standards.get("sdtmig", SDTMIG)
                                                  if "sdtmig" not in study.standards
                                                  else f"SDTMIG {study.standards['sdtmig']}")
        self.specs = specs if specs is not None else load_domain_specs(study.specs_dir)
        if study.domains:
            unknown = sorted(set(study.domains) - {s.dataset for s in self.specs})
            if unknown:
                raise SpecError(f"no spec builds {', '.join(unknown)} (asked for by domains / --only); specs build: "
                                f"{', '.join(sorted(s.dataset for s in self.specs))}", file=study.specs_dir,
                                value=unknown[0])
            self.specs = with_dependencies(self.specs, study.domains)
        if not self.specs:
            raise SpecError("no domain specs found", file=study.specs_dir)
        self.progress = progress or (lambda *a: None)
        self.jobs = jobs
        functions.load_plugins(study.plugins)

    def build(self) -> dict[str, Dataset]:
        """Every domain, its SUPP-- and RELREC. With more than one job the domains no other domain reads may
        be mapped in a forked worker (``steps.split_plan``); the datasets, notes and errors are the same."""
        workbook = read_define_workbook(self.study.define_spec) if getattr(self.study, "define_spec", None) else None
        metas = {s.dataset: apply_workbook(standard_metadata(s, self.standard), workbook, spec_file=s.file)
                 for s in self.specs}
        ctx = MappingContext(self.study, self.ct)
        self.notes = ctx.notes
        for s in self.specs:
            check_expressions(s)
        orders = {s.dataset: variable_order(s) for s in self.specs}
        late_supps = {s.dataset: phase2_supp(s, set(orders[s.dataset][1])) for s in self.specs}
        self._state = _BuildState(ctx, metas, orders, late_supps, workbook, {s.dataset: s for s in self.specs})
        order = [s.dataset for s in self.specs]
        all_steps = sequential_steps(order, [s.dataset for s in self._phase2_order(orders)])
        try:
            plan = self._split(all_steps) if self.jobs > 1 else None
            if plan is None:
                self._run_steps(all_steps, emit=True)
            else:
                self._run_split(all_steps, *plan)
        finally:
            _SUBJECT_TABLES.clear()         # the working frames' lookup tables live for one build
        out: dict[str, Dataset] = {}
        for name in order:
            dataset, supp = self._state.finished[name]
            out[dataset.name] = dataset
            if supp is not None:
                out[supp.name] = supp
        self._state = None
        relrec = build_relrec(self.study.specs_dir / "relrec.yaml", self.study.id, out, self.standard,
                              subset=bool(self.study.domains))
        if relrec is not None:
            relrec.meta = apply_workbook(relrec.meta, workbook)
            out[relrec.name] = relrec
            self.progress(relrec.name, len(relrec.frame))
        return dict(sorted(out.items()))

    def _run_step(self, step: Step) -> None:
        """One step of the build (steps.py): a domain's phase 1, its phase 2, or finishing it with its SUPP--."""
        state = self._state
        ctx, spec = state.ctx, state.specs[step.domain]
        if step.kind == FINISH:
            dataset = self._finish(spec, state.frames[spec.dataset], state.metas[spec.dataset])
            supp = None
            if spec.supp:
                supp = build_supp(spec, state.frames[spec.dataset], self.standard)
                if supp is not None:
                    supp.meta = apply_workbook(supp.meta, state.workbook, spec_file=spec.file)
                    supp.frame = supp.frame[supp.meta.variable_names]
            state.finished[spec.dataset] = (dataset, supp)
            # every phase-2 step comes before the first finish: nothing reads this working frame again
            del state.frames[spec.dataset]
            ctx.domains.pop(spec.dataset, None)
            return
        ctx.current = spec
        ctx.variable_types = {v.name: v.type for v in state.metas[spec.dataset].variables}
        with object_strings():                  # one string representation while mapping (objstrings.py)
            if step.kind == MAP1:
                frame = self._phase1(spec, state.orders[spec.dataset][0], ctx,
                                     late_supp=state.late_supps[spec.dataset])
                state.frames[spec.dataset] = frame
            else:
                frame = state.frames[spec.dataset]
                for name in state.orders[spec.dataset][1]:
                    frame[name] = evaluate_rule(spec.variables[name], frame, ctx)
                for supp in spec.supp:
                    if supp.qnam in state.late_supps[spec.dataset]:
                        frame[SUPP_PREFIX + supp.qnam] = supp_values(supp, frame, ctx).fillna("")
        ctx.domains[spec.dataset] = frame

    def _emit(self, domain: str) -> None:
        dataset, supp = self._state.finished[domain]
        self.progress(dataset.name, len(dataset.frame))
        if supp is not None:
            self.progress(supp.name, len(supp.frame))

    def _run_steps(self, steps, *, emit=False, catch=False, stop=None):
        """Run ``steps`` in order. ``catch``: return (position, exception) of the first failing step instead of
        raising, and skip the steps from ``stop`` on (an earlier failure's position). Each step's notes are
        kept apart (``_BuildState.step_notes``) so that a split build can put them back in sequential order."""
        state = self._state
        notes = state.ctx.notes
        for step in steps:
            if stop is not None and step.pos >= stop:
                break
            first = len(notes)
            try:
                self._run_step(step)
            except Exception as exc:  # noqa: BLE001 - the caller raises the sequentially first error
                if not catch:
                    raise
                return step.pos, exc
            finally:
                state.step_notes[step.pos] = notes[first:]
            if emit and step.kind == FINISH:
                self._emit(step.domain)
        return None

    def _split(self, all_steps):
        """The split of the steps between this process and a forked worker, or None (one process)."""
        from ..jobs import can_fork, workers_for_memory
        if not can_fork() or workers_for_memory(self.jobs) < 1:
            return None
        reads = {s.dataset: referenced_domains(s) & set(self._state.specs) for s in self.specs}
        return split_plan(all_steps, reads, domain_costs(self.specs, self.study.raw_dir))

    def _run_split(self, all_steps, prefix, worker_domains) -> None:
        """The worker's domains in a forked worker beside the rest here. The worker maps its domains' phase 1
        at once; the prefix (what their phase 2 reads, e.g. DM) runs here meanwhile and the domains it made are
        handed over (``jobs.Handover``). The first error of the sequential order is raised, after the progress
        lines the sequential build would have shown."""
        from ..jobs import ForkTask, Handover, _rebuild_error, thaw
        state = self._state
        first = set(prefix)
        worker = [s for s in all_steps if s.domain in worker_domains]
        here = [s for s in all_steps if s not in first and s.domain not in worker_domains]
        wanted = sorted({d for w in worker_domains for d in referenced_domains(state.specs[w])} - worker_domains)
        handover = Handover("the SDTM mapping's prefix")
        gc.freeze()         # this process's collector keeps off the objects shared with the worker (no page copies)
        try:
            task = ForkTask(lambda: self._worker_part(worker, handover),
                            f"the SDTM mapping of {', '.join(sorted(worker_domains))}")
            try:
                handover.parent_side()
                failed = self._run_steps(prefix, catch=True)
                handed = handover.send((None, failed[0]) if failed is not None else
                                       ({d: state.ctx.domains[d] for d in wanted if d in state.ctx.domains}, None))
                if not handed:          # cannot be pickled (e.g. a plugin's value): the worker stops before its
                    handover.send((None, 0))                    # first step and its part runs here
                    here = sorted(here + worker)
                failed = self._run_steps(here, catch=True, stop=None if failed is None else failed[0]) or failed
                got = task.result()
                if not handed:          # the worker's steps ran here; what it did before stopping is not used
                    got = {"finished": {}, "notes": {}, "error": None}
            finally:
                task.close()
        finally:
            handover.close()
            thaw()
        state.finished.update(got["finished"])
        state.step_notes.update(got["notes"])
        if got["error"] is not None and (failed is None or got["error"][0] < failed[0]):
            failed = got["error"][0], _rebuild_error(*got["error"][1])
        for step in all_steps:
            if failed is not None and step.pos >= failed[0]:
                break
            if step.kind == FINISH:
                self._emit(step.domain)
        state.ctx.notes[:] = [n for pos in sorted(state.step_notes) for n in state.step_notes[pos]]
        if failed is not None:
            raise failed[1]

    def _worker_part(self, steps, handover) -> dict:
        """In the forked worker: its domains' phase 1, then (once the prefix's domains arrive) the rest of its
        steps; returns the finished datasets, the notes per step and the first error (position, portable
        exception)."""
        from ..jobs import _portable_error
        state = self._state
        state.step_notes.clear()
        handover.worker_side()
        failed = self._run_steps([s for s in steps if s.kind == MAP1], catch=True)
        domains, stop = handover.receive()
        state.ctx.domains.update(domains or {})
        if failed is None:
            failed = self._run_steps([s for s in steps if s.kind != MAP1], catch=True, stop=stop)
        finished = {s.domain for s in steps if s.kind == FINISH}
        return {"finished": {d: state.finished[d] for d in finished if d in state.finished},
                "notes": dict(state.step_notes),
                "error": None if failed is None else (failed[0], _portable_error(failed[1]))}

    def _phase1(self, spec: DomainSpec, order: list[str], ctx, late_supp=frozenset()) -> pd.DataFrame:
        parts = []
        for source in spec.sources:
            work = WorkingFrame.from_frame(load_source(source, self.study.raw_dir, self.study))
            for name in order:
                rule = source.variables.get(name, spec.variables[name])
                if name in work.columns and f"raw.{name}" not in work.columns:
                    work[f"raw.{name}"] = work[name]      # keep the raw column reachable as raw.NAME
                work[name] = evaluate_rule(rule, work, ctx)
            for supp in spec.supp:
                if supp.source and supp.source != source.name:
                    continue
                if supp.qnam in late_supp:
                    continue
                work[SUPP_PREFIX + supp.qnam] = supp_values(supp, work, ctx)
            parts.append(work)
        if len(parts) > 1:                      # sources unioned as pandas unions them (dtypes, missing columns)
            frame = WorkingFrame.union(parts)
        else:
            frame = parts[0]
        for col in list(frame.columns):
            if col.startswith(SUPP_PREFIX):
                frame[col] = frame[col].fillna("")
        return frame

    def _phase2_order(self, orders) -> list[DomainSpec]:
        phase2_vars = {d: set(o[1]) for d, o in orders.items()}
        by_name = {s.dataset: s for s in self.specs}
        graph = {s.dataset: {d for d in domain_dependencies(s, phase2_vars) if d in by_name} for s in self.specs}
        try:
            names = _stable_toposort([s.dataset for s in self.specs], graph)
        except CycleError as exc:
            raise SpecError(f"domains depend on each other in a cycle: {' -> '.join(exc.args[1])}") from None
        return [by_name[n] for n in names]

    def _finish(self, spec: DomainSpec, frame, meta: DatasetMeta) -> Dataset:
        """The domain's DataFrame, built once: typed columns in metadata order, records in sort order.

        Columns are ordered as numpy arrays (a pointer copy per cell) before text goes to the boundary
        dtype: taking rows of Arrow strings copies their bytes, and was the larger part of finishing a domain.
        """
        columns = {}
        unchanged = set()                       # finished columns holding the working column's own values
        for var in meta.variables:
            values = frame[var.name]
            if var.type == NUM:
                columns[var.name] = pd.to_numeric(values, errors="coerce").astype(float).to_numpy()
                if values.dtype == np.float64:
                    unchanged.add(var.name)
                continue
            texts = finished_text(values)
            columns[var.name] = texts if texts is not None else boundary_text(values)
            if texts is not None and _same_memory(texts, values.to_numpy()):
                unchanged.add(var.name)
        helpers = {k: frame[k] for k in spec.sort if k not in columns and k in spec.working and k in frame.columns}
        sort = [k for k in spec.sort if k in columns or k in helpers]
        order = None
        if sort:                                # a working variable may order the records
            keys = [columns[k] if k in columns else helpers[k].to_numpy() for k in sort]
            keys = [pd.Series(k, dtype=k.dtype) if isinstance(k, np.ndarray) else k.reset_index(drop=True)
                    for k in keys]
            if isinstance(frame, WorkingFrame):     # the working columns themselves: --SEQ ranked them already
                order = stable_order([frame[k] if k in unchanged else key for k, key in zip(sort, keys)],
                                     memo=frame)
            else:
                order = stable_order(keys)
            if order is None:
                table = pd.DataFrame(dict(zip(sort, keys)))
                order = table.sort_values(sort, kind="stable").index.to_numpy()
        arrays = {}
        for name, values in columns.items():
            if isinstance(values, np.ndarray):
                taken = values if order is None else values.take(order)
                arrays[name] = taken if taken.dtype != object else text_to_boundary(taken)
            else:
                arrays[name] = values.array if order is None else values.array.take(order)
        data = pd.DataFrame(arrays, index=pd.RangeIndex(len(frame)))
        data.columns = pd.Index(list(columns), dtype=object)
        return Dataset(meta, data)


def _same_memory(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two arrays are views of the very same memory (so the same values), without comparing them."""
    return a.dtype == b.dtype and a.shape == b.shape and a.strides == b.strides and \
        a.__array_interface__["data"][0] == b.__array_interface__["data"][0]


@dataclass
class _BuildState:
    """One build's working state, shared by its steps (and inherited by a forked worker)."""
    ctx: MappingContext
    metas: dict
    orders: dict
    late_supps: dict
    workbook: object
    specs: dict                                         # dataset -> DomainSpec
    frames: dict = field(default_factory=dict)          # dataset -> WorkingFrame
    finished: dict = field(default_factory=dict)        # dataset -> (Dataset, SUPP-- Dataset or None)
    step_notes: dict = field(default_factory=dict)      # step position -> the notes it added


def build_sdtm(study, *, notes: list | None = None, **kwargs) -> dict[str, Dataset]:
    """Map a study's raw exports to SDTM datasets (including SUPP--), in memory.

    ``jobs`` > 1 may map the domains no other domain reads in a forked worker (same datasets, notes, errors).

    ``notes``, if given, receives the mapping warnings (dicts shaped like validation findings).
    """
    builder = SdtmBuilder(study, **kwargs)
    out = builder.build()
    if notes is not None:
        notes.extend(builder.notes)
    return out
