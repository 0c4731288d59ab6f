"""Analysis Results Metadata (Define-XML 2.1 ARM 1.0 extension) from the tables catalogue.

A key display of the CSR (study.yaml `submission.arm` names which, with the analysis purpose and
reason) becomes an arm:ResultDisplay; each analysis block of its table spec becomes one
arm:AnalysisResult naming the ADaM datasets, the variables analysed, the selection as a
def:WhereClauseDef (a conjunction of comparisons; a selection the ARM where-clause cannot say,
such as an `or`, stays in the documentation text), the method in words and the command that
reproduces the display. The table specs are read through a small adapter (`analyses`) keyed by
block kind, so the catalogue's home (package module or study tables.yaml) does not matter.

    submission:
      arm:
        "14.2.1.1": {purpose: SECONDARY OUTCOME MEASURE, reason: SPECIFIED IN SAP}
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

from trialforge.errors import SpecError

ARM_NS = "http://www.cdisc.org/ns/arm/v1.0"
PURPOSES = ("PRIMARY OUTCOME MEASURE", "SECONDARY OUTCOME MEASURE", "EXPLORATORY OUTCOME MEASURE")
REASONS = ("SPECIFIED IN PROTOCOL", "SPECIFIED IN SAP", "DATA DRIVEN", "REQUESTED BY REGULATORY AGENCY")


@dataclass(frozen=True)
class ArmDataset:
    name: str
    where: str | None = None
    variables: tuple[str, ...] = ()


@dataclass(frozen=True)
class ArmResult:
    description: str
    datasets: tuple[ArmDataset, ...]
    documentation: str
    parameter_dataset: str | None = None      # dataset whose PARAMCD the result is about


@dataclass(frozen=True)
class ArmDisplay:
    id: str
    title: str
    purpose: str
    reason: str
    results: tuple[ArmResult, ...]
    code: str

    @property
    def oid(self) -> str:
        return f"RD.{self.id}"


# ---------------------------------------------------------------- selection clauses
_CMP = {ast.Eq: "EQ", ast.NotEq: "NE", ast.Lt: "LT", ast.LtE: "LE", ast.Gt: "GT", ast.GtE: "GE",
        ast.In: "IN", ast.NotIn: "NOTIN"}


def where_checks(text: str | None) -> list[tuple[str, str, list[str]]] | None:
    """"A == 'Y' and B >= 3" -> [("A", "EQ", ["Y"]), ("B", "GE", ["3"])]; None if not a conjunction
    of variable-vs-constant comparisons (then the selection is only said in words)."""
    if not text:
        return []
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError:
        return None
    parts = tree.values if isinstance(tree, ast.BoolOp) and isinstance(tree.op, ast.And) else [tree]
    out = []
    for part in parts:
        if not (isinstance(part, ast.Compare) and len(part.ops) == 1 and isinstance(part.left, ast.Name)):
            return None
        op, right = type(part.ops[0]), part.comparators[0]
        if op not in _CMP:
            return None
        if isinstance(right, ast.Constant):
            values = [right.value]
        elif isinstance(right, (ast.List, ast.Tuple)) and all(isinstance(e, ast.Constant) for e in right.elts):
            values = [e.value for e in right.elts]
        else:
            return None
        out.append((part.left.id, _CMP[op], [_number_text(v) for v in values]))
    return out


def _number_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _names(text: str | None) -> list[str]:
    if not text:
        return []
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        return []
    return list(dict.fromkeys(n.id for n in ast.walk(tree) if isinstance(n, ast.Name)))


def said(where: str | None) -> str:
    """A selection in words: "PARAMCD == 'RSP' and AVALC == 'Y'" -> "PARAMCD is 'RSP' and AVALC is 'Y'"."""
    from .define_methods import say_expression
    return say_expression(where, set(_names(where))) if where else ""


def _and(*parts: str | None) -> str | None:
    kept = [p for p in parts if p]
    if not kept:
        return None
    return " and ".join(f"({p})" if " or " in p else p for p in kept)


# ---------------------------------------------------------------- the adapter: block kind -> results
def _subjects_with(b, pop):
    return [ArmResult(f"{b.label}: number (%) of subjects", (pop, ArmDataset(b.dataset, b.where, ("USUBJID",))),
                      f"Number and percentage of subjects with at least one {b.dataset} record"
                      + (f" where {said(b.where)}" if b.where else "") + "; denominator: subjects in the column.")]


def _categorical(b, pop):
    ds = ArmDataset(b.dataset, b.where, (b.var,))
    return [ArmResult(f"{b.label}: number (%) of subjects by {b.var}",
                      (pop, ds) if b.dataset != pop.name else (ArmDataset(pop.name, _and(pop.where, b.where), (b.var,)),),
                      f"Number and percentage of subjects by {b.dataset}.{b.var}"
                      + (f" ({b.agg} per subject)" if getattr(b, "agg", None) else "") + ".")]


def _continuous(b, pop):
    ds = ArmDataset(b.dataset, b.where, (b.var,))
    return [ArmResult(f"{b.label}: descriptive statistics of {b.var}",
                      (pop, ds) if b.dataset != pop.name else (ArmDataset(pop.name, _and(pop.where, b.where), (b.var,)),),
                      f"Descriptive statistics ({', '.join(b.stats)}) of {b.dataset}.{b.var}"
                      + (" per record" if getattr(b, "per_record", False) else
                         (f" ({b.agg} per subject)" if getattr(b, "agg", None) else "")) + ".")]


def _binomial(b, pop):
    return [ArmResult(b.label, (pop, ArmDataset(b.dataset, b.where, tuple(_names(b.where)))),
                      f"Number and percentage of subjects with a {b.dataset} record where {said(b.where)}, with the "
                      f"exact (Clopper-Pearson) {int(round((1 - b.alpha) * 100))}% confidence interval.",
                      b.dataset if "PARAMCD" in (b.where or "") else None)]


def _time_to_event(b, pop):
    where = f"{b.param_var} == '{b.paramcd}'"
    return [ArmResult(f"{b.label}: Kaplan-Meier estimates",
                      (pop, ArmDataset(b.dataset, where, (b.param_var, b.time_var, b.cnsr_var))),
                      f"Kaplan-Meier estimate of {b.dataset}.{b.time_var} ({b.cnsr_var} = 1 censored) for "
                      f"{b.param_var} = '{b.paramcd}': events, censored, median and quartiles with "
                      f"{int(round((1 - b.alpha) * 100))}% confidence intervals (Brookmeyer-Crowley, log-log), "
                      f"event-free rates at {', '.join(_number_text(x) for x in b.landmarks)} {b.unit}.",
                      b.dataset)]


def _ae_hierarchy(b, pop):
    variables = tuple(v for v in (b.soc, b.term) if v)
    return [ArmResult("Subjects with events by " + " and ".join(variables),
                      (pop, ArmDataset(b.dataset, b.where, variables)),
                      f"Number and percentage of subjects with at least one {b.dataset} record"
                      + (f" where {said(b.where)}" if b.where else "") + f", by {' and '.join(variables)}; "
                      "a subject is counted once per term.")]


def _parameter_by_group(b, pop):
    out = []
    for p in b.params:
        where = _and(f"{b.param_var} == '{p.paramcd}'", b.where)
        out.append(ArmResult(f"{p.label}: {', '.join(p.stats)} by {b.group_var}",
                             (pop, ArmDataset(b.dataset, where, (b.param_var, b.value_var))),
                             f"Statistics ({', '.join(p.stats)}) of {b.dataset}.{b.value_var} for "
                             f"{b.param_var} = '{p.paramcd}' by {b.group_var}.", b.dataset))
    return out


def _dose_escalation(b, pop):
    adsl_where = _and(pop.where, b.escalation_where)
    return [ArmResult("Dose-limiting toxicities by dose level and route",
                      (ArmDataset(pop.name, adsl_where, (b.group_var, b.route_var, "DLTEVLFL")),
                       ArmDataset(b.adae, b.dlt_where, (b.term_var, b.grade_var))),
                      f"Number of subjects with a DLT ({b.adae} where {said(b.dlt_where)}) among subjects where "
                      f"{said(b.evaluable_where)}, per {b.group_var} and {b.route_var}, with the 3+3 decision.")]


ADAPTERS: dict[str, Callable] = {
    "SubjectsWith": _subjects_with, "Categorical": _categorical, "Continuous": _continuous,
    "Binomial": _binomial, "TimeToEvent": _time_to_event, "AEHierarchy": _ae_hierarchy,
    "ParameterByGroup": _parameter_by_group, "DoseEscalation": _dose_escalation,
}


def analyses(spec) -> list[ArmResult]:
    """The analysis results of one table spec (population + layout blocks), by block kind."""
    pop = ArmDataset(spec.population.dataset, spec.population.where, ())
    layout = spec.layout
    blocks = getattr(layout, "blocks", None)
    blocks = list(blocks) if blocks is not None else [layout]
    columns = getattr(layout, "columns", None)
    columns = columns if isinstance(columns, (tuple, list)) else (columns,)      # one column set or several
    col_vars = tuple(dict.fromkeys(v for c in columns for v in (getattr(c, "var", None),) if v))
    pop = ArmDataset(pop.name, pop.where, col_vars)
    out = []
    for block in blocks:
        adapter = ADAPTERS.get(type(block).__name__)
        if adapter is not None:
            out += adapter(block, pop)
    return out


def arm_displays(specs: Sequence, config: Mapping | None, *, command: str = "trialforge tables --only") -> list[ArmDisplay]:
    """ArmDisplays for the displays study.yaml `submission.arm` names, in catalogue order."""
    config = config or {}
    if not isinstance(config, Mapping):
        raise SpecError("submission.arm must map display ids to {purpose, reason}", column="submission.arm")
    by_id = {}
    for spec in specs:
        by_id.setdefault(str(spec.id), spec)
    missing = sorted(set(map(str, config)) - set(by_id))
    if missing:
        raise SpecError("submission.arm names a display the tables catalogue does not have",
                        column="submission.arm", value=missing[0])
    out = []
    for spec in specs:
        key = str(spec.id)
        if key not in config or by_id[key] is not spec:
            continue
        cfg = config[key] or {}
        purpose = str(cfg.get("purpose", "SECONDARY OUTCOME MEASURE")).upper()
        reason = str(cfg.get("reason", "SPECIFIED IN SAP")).upper()
        if purpose not in PURPOSES or reason not in REASONS:
            raise SpecError(f"submission.arm {key}: purpose must be one of {', '.join(PURPOSES)}; reason one of "
                            f"{', '.join(REASONS)}", column="submission.arm", value=f"{purpose} / {reason}")
        results = analyses(spec)
        if not results:
            raise SpecError(f"submission.arm {key}: the display has no analysis block ARM can describe",
                            column="submission.arm", value=key)
        out.append(ArmDisplay(key, f"{getattr(spec, 'kind', 'Table')} {key} {spec.title}", purpose, reason,
                              tuple(results), f"{command} {key}"))
    return out
