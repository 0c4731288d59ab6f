"""Layouts other than subjects-in-columns: the DLT/3+3 table and parameter-by-group tables."""
from __future__ import annotations

import pandas as pd

from . import fmt
from .engine import KEY, Context, need, query
from .escalation import decide, mtd
from .result import Row, TableResult
from .spec import DoseEscalation, ParameterByGroup
from .stats import describe, geometric


def compute_dose_escalation(spec, adam: dict) -> TableResult:
    lay: DoseEscalation = spec.layout
    ctx = Context(spec.id, adam, spec.population, None)
    adsl = ctx.adsl
    need(adsl, [lay.group_var, lay.group_order, lay.route_var, lay.dose_var], output=spec.id, dataset="ADSL")
    evaluable = query(adsl, lay.evaluable_where, output=spec.id, dataset="ADSL")[KEY]
    dlt = ctx.data(lay.adae, lay.dlt_where)
    dlt = dlt[dlt[KEY].isin(evaluable)]
    need(dlt, [lay.term_var, lay.grade_var], output=spec.id, dataset=lay.adae)
    groups = (adsl[[lay.group_var, lay.group_order, lay.route_var, lay.dose_var]]
              .drop_duplicates(lay.group_var).sort_values([lay.group_order], kind="mergesort"))
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
        per_route.setdefault(str(g[lay.route_var]), []).append((str(g[lay.dose_var]), n_ev, n_dlt))
        rows.append(Row(str(g[lay.group_var]),
                        [str(g[lay.route_var]), str(g[lay.dose_var]), str(len(ids)), str(n_ev),
                         f"{n_dlt}/{n_ev}", terms or "-", decision]))
    rows.append(Row("Maximum tolerated dose by route", [""] * 7, header=True))
    for route, levels in per_route.items():
        rows.append(Row(route, ["", "", "", "", "", "", mtd(levels)], indent=1))
    header = [[("Route", 1), ("Dose level", 1), ("Treated", 1), ("DLT-evaluable", 1),
               ("Subjects with DLT", 1), ("DLT (worst CTCAE grade)", 1), ("3+3 decision", 1)]]
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
    groups = adsl[[lay.group_var, lay.group_order]].drop_duplicates(lay.group_var) \
        .sort_values(lay.group_order, kind="mergesort")[lay.group_var].tolist()
    stats = list(dict.fromkeys(s for p in lay.params for s in p.stats))
    rows: list[Row] = []
    for p in lay.params:
        prec = recs[recs[lay.param_var] == p.paramcd]
        unit = ""
        if lay.unit_var and lay.unit_var in prec and prec[lay.unit_var].notna().any():
            unit = f" ({sorted(set(prec[lay.unit_var].dropna().astype(str)))[0]})"
        rows.append(Row(p.label + unit, [""] * len(stats), header=True))
        for grp in groups:
            ids = adsl.loc[adsl[lay.group_var] == grp, KEY]
            vals = pd.to_numeric(prec.loc[prec[KEY].isin(ids), lay.value_var], errors="coerce")
            cells = [_param_stat(vals, s, p) if s in p.stats else "" for s in stats]
            rows.append(Row(str(grp), cells, 1))
    header = [[(PARAM_STAT_LABELS[s], 1) for s in stats]]
    return TableResult(spec.id, spec.title, spec.population.label, header, "Parameter / dose level",
                       rows, list(spec.footnotes), spec.kind)
