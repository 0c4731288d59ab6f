"""Layouts other than subjects-in-columns: the DLT/3+3 table and parameter-by-group tables."""
from __future__ import annotations

import pandas as pd

from . import fmt, labels
from .engine import KEY, Context, need, query
from ..errors import SpecError
from .escalation import decide, mtd
from .result import Row, TableResult
from .spec import DoseEscalation, ParameterByGroup
from .stats import describe, geometric


def compute_dose_escalation(spec, adam: dict) -> TableResult:
    lay: DoseEscalation = spec.layout
    ctx = Context(spec.id, adam, spec.population, None)
    adsl = query(ctx.adsl, lay.escalation_where, output=spec.id, dataset="ADSL")   # escalation cohorts only
    templates = [lay.label, lay.route_label] + [t for _, t in lay.describe]
    need(adsl, [lay.group_var, lay.group_order, lay.route_var, lay.dose_var]
         + [f for t in templates for f in labels.fields(t)], output=spec.id, dataset="ADSL")
    evaluable = query(adsl, lay.evaluable_where, output=spec.id, dataset="ADSL")[KEY]
    dlt = ctx.data(lay.adae, lay.dlt_where)
    dlt = dlt[dlt[KEY].isin(evaluable)]
    need(dlt, [lay.term_var, lay.grade_var], output=spec.id, dataset=lay.adae)
    groups = adsl.sort_values([lay.group_order], kind="mergesort").drop_duplicates(lay.group_var)
    groups = groups.assign(_label=labels.render_frame(lay.label, groups),
                           _route=labels.render_frame(lay.route_label, groups),
                           **{f"_d{i}": labels.render_frame(t, groups) for i, (_, t) in enumerate(lay.describe)})
    rows: list[Row] = []
    per_route: dict[str, list] = {}
    for _, g in groups.iterrows():   # loop over dose cohorts (a handful), not over data rows
        ids = adsl.loc[adsl[lay.group_var] == g[lay.group_var], KEY]
        ev = ids[ids.isin(evaluable)]
        subj_dlt = dlt[dlt[KEY].isin(ev)]
        n_ev, n_dlt = len(ev), subj_dlt[KEY].nunique()
        worst = subj_dlt.groupby(lay.term_var)[lay.grade_var].max().sort_index()
        terms = "; ".join(f"{t} (Grade {int(gr)})" if pd.notna(gr) else str(t) for t, gr in worst.items())
        decision = decide(n_ev, n_dlt)
        per_route.setdefault(g["_route"], []).append((str(g[lay.dose_var]), n_ev, n_dlt))
        rows.append(Row(g["_label"], [g[f"_d{i}"] for i in range(len(lay.describe))]
                        + [str(len(ids)), str(n_ev), f"{n_dlt}/{n_ev}", terms or "-", decision]))
    width = len(lay.describe) + 5
    rows.append(Row("Maximum tolerated dose by route", [""] * width, header=True))
    for route, levels in per_route.items():
        rows.append(Row(route, [""] * (width - 1) + [mtd(levels)], indent=1))
    if lay.expansion_where:                # the dose level(s) the expansion part went on with, per route
        exp = query(ctx.adsl, lay.expansion_where, output=spec.id, dataset="ADSL")
        exp = exp.sort_values(lay.group_order, kind="mergesort").assign(
            _route=lambda f: labels.render_frame(lay.route_label, f))
        if len(exp):
            rows.append(Row("Dose level expanded (recommended dose)", [""] * width, header=True))
            for route, g in exp.groupby("_route", sort=False):
                n = g.groupby(lay.dose_var, sort=False)[KEY].nunique()
                text = "; ".join(f"{lvl} (N={k} treated)" for lvl, k in n.items())
                rows.append(Row(route, [""] * (width - 1) + [text], indent=1))
    header = [[(h, 1) for h, _ in lay.describe] + [
        ("Treated", 1), ("DLT-evaluable", 1), ("Subjects with DLT", 1), ("DLT (worst CTCAE grade)", 1),
        ("3+3 decision", 1)]]
    return TableResult(spec.id, spec.title, spec.population.label, header, "Cohort", rows,
                       list(spec.footnotes), spec.kind)


PARAM_STAT_LABELS = {"n": "n", "gmean": "Geo. mean", "gcv": "Geo. CV%", "mean": "Mean", "sd": "SD",
                     "median": "Median", "min": "Min", "max": "Max"}


def _param_stat(values: pd.Series, stat: str, p) -> str:
    d, g = describe(values), geometric(values)

    def f(x):
        return fmt.sig(x, p.sig) if p.sig else fmt.num(x, p.decimals)
    table = {"n": lambda: str(d.n), "gmean": lambda: f(g.gmean), "gcv": lambda: fmt.num(g.gcv, 1),
             "mean": lambda: f(d.mean), "sd": lambda: f(d.sd), "median": lambda: f(d.median),
             "min": lambda: f(d.min), "max": lambda: f(d.max)}
    return table[stat]()


def compute_parameter_by_group(spec, adam: dict) -> TableResult:
    lay: ParameterByGroup = spec.layout
    ctx = Context(spec.id, adam, spec.population, None)
    recs = ctx.data(lay.dataset, lay.where)
    need(recs, [lay.param_var, lay.value_var], output=spec.id, dataset=lay.dataset)
    adsl = ctx.adsl
    if lay.group_label:
        need(adsl, labels.fields(lay.group_label), output=spec.id, dataset="ADSL")
    first = adsl.sort_values(lay.group_order, kind="mergesort").drop_duplicates(lay.group_var)
    groups = first[lay.group_var].tolist()
    names = dict(zip(groups, labels.render_frame(lay.group_label, first) if lay.group_label else map(str, groups)))
    stats = list(dict.fromkeys(s for p in lay.params for s in p.stats))
    rows: list[Row] = []
    for p in lay.params:
        prec = recs[recs[lay.param_var] == p.paramcd]
        if prec.empty:
            raise SpecError(f"output {spec.id}: {lay.dataset} has no records with {lay.param_var} = "
                            f"{p.paramcd}", file=lay.dataset, column=lay.param_var, value=p.paramcd)
        unit = ""
        if lay.unit_var and lay.unit_var in prec and prec[lay.unit_var].notna().any():
            unit = f" ({sorted(set(prec[lay.unit_var].dropna().astype(str)))[0]})"
        rows.append(Row(p.label + unit, [""] * len(stats), header=True))
        for grp in groups:
            ids = adsl.loc[adsl[lay.group_var] == grp, KEY]
            vals = pd.to_numeric(prec.loc[prec[KEY].isin(ids), lay.value_var], errors="coerce")
            cells = [_param_stat(vals, s, p) if s in p.stats else "" for s in stats]
            rows.append(Row(names[grp], cells, 1))
    header = [[(PARAM_STAT_LABELS[s], 1) for s in stats]]
    return TableResult(spec.id, spec.title, spec.population.label, header, "Parameter / dose level",
                       rows, list(spec.footnotes), spec.kind)
