"""Layouts other than subjects-in-columns: the DLT/3+3 table and parameter-by-group tables."""
from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from . import fmt, labels
from .engine import KEY, Context, need, query, query_mask
from .tabledata import IDENT, referenced_columns
from ..errors import SpecError
from .escalation import decide, mtd
from .result import Row, TableResult
from .spec import DoseEscalation, Listing, ParameterByGroup, ParameterByVisit, ParamStats, ShiftTable
from .stats import describe, geometric


def compute_dose_escalation(spec, adam: dict) -> TableResult:
    lay: DoseEscalation = spec.layout
    ctx = Context(spec.id, adam, spec.population, None)
    adsl = query(ctx.adsl, lay.escalation_where, output=spec.id, dataset="ADSL")   # escalation cohorts only
    templates = [lay.label, lay.route_label] + [t for _, t in lay.describe]
    need(adsl, [lay.group_var, lay.group_order, lay.route_var, lay.dose_var]
         + [f for t in templates for f in labels.fields(t)], output=spec.id, dataset="ADSL")
    evaluable = query(adsl, lay.evaluable_where, output=spec.id, dataset="ADSL")[KEY]
    dlt = ctx.data(lay.adae, lay.dlt_where, columns=[lay.term_var, lay.grade_var])      # the columns it reads
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


def _param_stat(values: pd.Series, stat: str, p, described=None) -> str:
    d, g = described or (describe(values), geometric(values))

    def f(x):
        return fmt.sig(x, p.sig) if p.sig else fmt.num(x, p.decimals)
    table = {"n": lambda: str(d.n), "gmean": lambda: f(g.gmean), "gcv": lambda: fmt.num(g.gcv, 1),
             "mean": lambda: f(d.mean), "sd": lambda: f(d.sd), "median": lambda: f(d.median),
             "min": lambda: f(d.min), "max": lambda: f(d.max)}
    return table[stat]()


def compute_parameter_by_group(spec, adam: dict) -> TableResult:
    lay: ParameterByGroup = spec.layout
    ctx = Context(spec.id, adam, spec.population, None)
    recs = ctx.data(lay.dataset, lay.where, columns=[lay.param_var, lay.value_var, lay.unit_var, *_PARAM_LABELS])
    need(recs, [lay.param_var, lay.value_var], output=spec.id, dataset=lay.dataset)
    adsl = ctx.adsl
    if lay.group_label:
        need(adsl, labels.fields(lay.group_label), output=spec.id, dataset="ADSL")
    first = adsl.sort_values(lay.group_order, kind="mergesort").drop_duplicates(lay.group_var)
    groups = first[lay.group_var].tolist()
    names = dict(zip(groups, labels.render_frame(lay.group_label, first) if lay.group_label else map(str, groups)))
    params = lay.params or all_params(recs, lay.param_var, ParamStats("", "", stats=lay.stats, sig=None,
                                                                        decimals=lay.decimals))
    stats = list(dict.fromkeys(s for p in params for s in p.stats))
    rows: list[Row] = []
    short = False
    adsl = adsl[adsl[lay.group_var].notna()]
    by_param = _by_value(recs, lay.param_var)
    fast = _group_records(adsl, recs, lay.group_var, groups, lay.param_var)
    if fast is not None:
        at, hits, sizes = fast
        values = pd.to_numeric(recs[lay.value_var], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    for p in params:
        prec = by_param(p.paramcd)
        if prec.empty:
            raise SpecError(f"output {spec.id}: {lay.dataset} has no records with {lay.param_var} = "
                            f"{p.paramcd}", file=lay.dataset, column=lay.param_var, value=p.paramcd)
        unit = ""
        if lay.unit_var and lay.unit_var in prec and prec[lay.unit_var].notna().any():
            unit = f" ({sorted(_texts(prec[lay.unit_var]))[0]})"
        rows.append(Row(p.label + unit, [""] * len(stats), header=True))
        for grp in groups:
            if fast is not None:            # the records of the group's subjects, by position
                pos = at[p.paramcd]
                vals, n_ids = values[pos[hits[grp][pos]]], sizes[grp]
                n_vals = int(np.count_nonzero(~np.isnan(vals)))
            else:
                ids = adsl.loc[adsl[lay.group_var] == grp, KEY]
                vals = pd.to_numeric(prec.loc[prec[KEY].isin(ids), lay.value_var], errors="coerce")
                n_vals, n_ids = int(vals.notna().sum()), len(ids)
            described = (describe(vals), geometric(vals))
            cells = [_param_stat(vals, s, p, described) if s in p.stats else "" for s in stats]
            short |= n_vals < n_ids
            rows.append(Row(f"{names[grp]} (N={n_ids})", cells, 1))
    header = [[(PARAM_STAT_LABELS[s], 1) for s in stats]]
    foot = list(spec.footnotes)
    if short and "n" in stats:
        foot.append("N: subjects in the group; n: subjects with a value for the parameter. n < N where the "
                    "parameter could not be calculated for a subject (e.g. no sample covering the interval).")
    return TableResult(spec.id, spec.title, spec.population.label, header, lay.stub_header,
                       rows, foot, spec.kind)


def _group_records(adsl: pd.DataFrame, recs: pd.DataFrame, var: str, groups: list, param_var: str):
    """For `compute_parameter_by_group`: (record positions per parameter value, per group a boolean over the
    records "the record's subject is in the group", per group its number of subjects), so each (parameter,
    group) cell takes its values by position instead of an `isin` over the parameter's records. None when
    subjects cannot be matched by position (repeated or missing keys): the cells then use `isin`."""
    keys = pd.Index(adsl[KEY].to_numpy(dtype=object))
    subjects = recs[KEY].to_numpy(dtype=object)
    if not len(recs) or not keys.is_unique or keys.hasnans or pd.isna(subjects).any():
        return None
    row = keys.get_indexer(subjects)
    found = row >= 0
    hits, sizes = {}, {}
    for grp in groups:
        member = (adsl[var] == grp).to_numpy(dtype=bool)
        hits[grp] = found & member[np.maximum(row, 0)]
        sizes[grp] = int(member.sum())
    return recs.groupby(param_var, sort=False).indices, hits, sizes


def _texts(values: pd.Series) -> set:
    """`set(values.dropna().astype(str))`, read from the values' objects: iterating the `str` Series that
    `astype` builds takes a pyarrow scalar per record (~4 us each: most of a lab-by-visit table at 1,000
    subjects)."""
    return {v if type(v) is str else str(v) for v in values.dropna().to_numpy(dtype=object)}


def _by_value(recs: pd.DataFrame, var: str):
    """`lookup(v)` = the records whose `var` equals v (as `recs[recs[var] == v]`), grouped in one pass."""
    at = recs.groupby(var, sort=False).indices if len(recs) else {}
    none = recs.iloc[:0]

    def lookup(v):
        pos = at.get(v)
        return none if pos is None else recs.iloc[pos]
    return lookup


_PARAM_LABELS = ("PARAM", "PARAMN")         # what `all_params` reads besides the parameter code


def all_params(recs: pd.DataFrame, param_var: str, template: ParamStats) -> tuple[ParamStats, ...]:
    """Every parameter of a BDS dataset (PARAMN order when present), labelled by PARAM."""
    cols = [c for c in (param_var, "PARAM", "PARAMN") if c in recs]
    first = recs[cols].drop_duplicates(param_var)
    if "PARAMN" in first:
        first = first.sort_values(["PARAMN", param_var], kind="mergesort")
    else:
        first = first.sort_values(param_var, kind="mergesort")
    return tuple(ParamStats(str(r[param_var]), str(r.get("PARAM", r[param_var])), template.stats, template.sig,
                            template.decimals) for _, r in first.iterrows())


# ---------------------------------------------------------------- population-total layouts
def _total_header(spec, ctx) -> str:
    return f"All subjects (N={len(ctx.adsl)})"


def _worst_category(post: pd.DataFrame, var: str, target: str, by=(KEY,)) -> pd.Series:
    """Per subject (per `by` group): `target` if any value is `target`, else NORMAL if any is, else the
    first value (one grouped pass, not a Python function per subject). The pandas way, kept as the
    reference of `_shift_tallies` (tests)."""
    grouped = post.groupby(list(by))
    first = grouped[var].first()
    number = grouped.ngroup().to_numpy(dtype=float)      # group of each row, in `first`'s order; NaN: no group
    kept = ~np.isnan(number)
    codes = number[kept].astype(np.intp)

    def any_is(value) -> pd.Series:                      # the groups with a row equal to `value` (one grouping)
        hit = (post[var] == value).to_numpy(dtype=bool)[kept]
        return pd.Series(np.bincount(codes, weights=hit, minlength=len(first)) > 0, index=first.index)
    return first.where(~any_is("NORMAL"), "NORMAL").where(~any_is(target), target)


def _per_distinct(values: np.ndarray, test) -> np.ndarray:
    """`test(v)` for each value of an object array, decided once per distinct value (missing ones: once)."""
    codes, uniques = pd.factorize(values)
    hit = np.array([bool(test(u)) for u in uniques], dtype=bool)
    missing = codes < 0
    if missing.any():
        hit = np.append(hit, bool(test(values[np.flatnonzero(missing)[0]])))
        codes = np.where(missing, len(hit) - 1, codes)
    return hit[codes] if len(codes) else np.zeros(0, dtype=bool)


def _shift_tallies(param_codes, param_values, subjects, base, has_base, value, post_ok, target) -> tuple[dict, dict]:
    """`_shift_counts(baseline per subject, _worst_category(...))` on factorised codes: per (parameter,
    subject) the first baseline value among the `has_base` records and the worst post-baseline value among
    the `post_ok` records (`target` if any record is `target`, else NORMAL if any is, else the first), then
    n per parameter and counts per (parameter, baseline) and (parameter, baseline, worst). Records missing a
    parameter or a subject are left out, as pandas' grouping leaves them out. One numpy pass instead of two
    groupings of the lab records (~0.15 s a shift table at 1,000 subjects)."""
    subj_codes, _ = pd.factorize(subjects)
    keyed = (param_codes >= 0) & (subj_codes >= 0)
    group = param_codes.astype(np.int64) * max(int(subj_codes.max()) + 1 if len(subj_codes) else 1, 1) + subj_codes

    def first_of(rows):                     # each group's first row among `rows` (rows in record order)
        g, first = np.unique(group[rows], return_index=True)
        return g, rows[first]
    g_base, base_rows = first_of(np.flatnonzero(has_base & keyed))
    post = np.flatnonzero(post_ok & keyed)
    g_post, post_rows = first_of(post)
    worst = value[post_rows].copy()
    for level in ("NORMAL", target):        # NORMAL, then the target category, over the first value
        hit = np.zeros(len(value), dtype=bool)
        hit[post] = value[post] == level
        any_hit = np.zeros(len(g_post), dtype=bool)
        any_hit[np.searchsorted(g_post, group[hit])] = True
        worst[any_hit] = level
    both, in_base, in_post = np.intersect1d(g_base, g_post, assume_unique=True, return_indices=True)
    rows = base_rows[in_base]
    params = param_values[param_codes[rows]].tolist()
    b, w = base[rows].tolist(), worst[in_post].tolist()
    n = Counter(params)
    cells = Counter(zip(params, b))
    cells.update(zip(params, b, w))
    return dict(n), dict(cells)


def _shift_counts(base: pd.Series, worst: pd.Series) -> tuple[dict, dict]:
    """Subjects with both a baseline and a worst post-baseline category, from two (PARAMCD, USUBJID)-indexed
    Series: n per PARAMCD, and counts per (PARAMCD, baseline) and per (PARAMCD, baseline, worst). One pass
    over every parameter instead of a frame, a filter and a comparison per parameter and category."""
    both = pd.DataFrame({"b": base, "w": worst}).dropna()
    params = both.index.get_level_values(0).tolist() if len(both) else []
    b, w = both["b"].tolist(), both["w"].tolist()
    n = Counter(params)
    cells = Counter(zip(params, b))
    cells.update(zip(params, b, w))
    return dict(n), dict(cells)


def _shift_records(spec, ctx, lay: ShiftTable, levels: dict) -> tuple:
    """What a shift table reads of its records, whatever its direction: parameter codes and values, subjects,
    baseline categories (and which records have one), post-baseline categories and the records that count
    as post-baseline, and every parameter with a filled baseline (when the table does not name its own)."""
    frame = ctx.dataset(lay.dataset)        # only the variables the table reads (a lab dataset is long)
    post_cols = referenced_columns(frame, lay.post_where) if lay.post_where else []
    used = ["PARAMCD", "PARAM", "PARAMN", getattr(lay, "param_var", "PARAMCD"), lay.baseline_var, lay.value_var,
            *(frame.columns if post_cols is None else post_cols)]
    recs = ctx.data(lay.dataset, columns=used)
    need(recs, [lay.param_var if hasattr(lay, "param_var") else "PARAMCD", lay.baseline_var, lay.value_var],
         output=spec.id, dataset=lay.dataset)
    param_codes, param_values = pd.factorize(recs["PARAMCD"].to_numpy(dtype=object))
    # every parameter in one pass: baseline category and worst post-baseline category per subject
    base = recs[lay.baseline_var].to_numpy(dtype=object)
    filled = _per_distinct(base, lambda v: pd.isna(v) or str(v).strip() != "")
    has_base = filled & ~pd.isna(base)
    value = recs[lay.value_var].to_numpy(dtype=object)
    post_ok = query_mask(recs, lay.post_where, output=spec.id, dataset=lay.dataset) & \
        _per_distinct(value, lambda v: not pd.isna(v) and str(v).strip() in levels)
    params = () if lay.params else all_params(recs[filled], "PARAMCD", ParamStats("", ""))
    return param_codes, param_values, recs[KEY].to_numpy(dtype=object), base, has_base, value, post_ok, params


def compute_shift_table(spec, adam: dict) -> TableResult:
    """Baseline category x worst post-baseline category per parameter, n (%) of subjects assessed."""
    lay: ShiftTable = spec.layout
    ctx = Context(spec.id, adam, spec.population, None)
    levels = dict(lay.levels or {"LOW": "Low", "NORMAL": "Normal", "HIGH": "High"})
    target = "LOW" if lay.direction == "low" else "HIGH"
    post_levels = [(k, v) for k, v in levels.items() if k in ("NORMAL", target)] or list(levels.items())
    rows: list[Row] = []
    # the records' codes and categories do not depend on the direction: the low and high tables of a
    # build share them (each took ~0.05 s to read and factorise the lab records at 1,000 subjects)
    key = ("shift", repr(spec.population), lay.dataset, lay.baseline_var, lay.value_var, lay.post_where,
           tuple(levels), bool(lay.params))
    got = ctx.store.memo.get(key)
    if got is None:
        got = ctx.store.memo[key] = _shift_records(spec, ctx, lay, levels)
    param_codes, param_values, subjects, base, has_base, value, post_ok, params = got
    present = set(param_values)
    n_of, cells_of = _shift_tallies(param_codes, param_values, subjects, base, has_base, value, post_ok, target)
    for p in lay.params or params:
        if p.paramcd not in present:
            raise SpecError(f"output {spec.id}: {lay.dataset} has no records with PARAMCD = {p.paramcd}",
                            file=lay.dataset, column="PARAMCD", value=p.paramcd)
        n = n_of.get(p.paramcd, 0)
        rows.append(Row(f"{p.label} (n={n})", [""] * (len(post_levels) + 1), header=True))
        for bk, blab in list(levels.items()):
            cells = [fmt.n_pct(cells_of.get((p.paramcd, bk, wk), 0), n) for wk, _ in post_levels] + \
                    [fmt.n_pct(cells_of.get((p.paramcd, bk), 0), n)]
            rows.append(Row(f"Baseline {blab.lower()}", cells, 1))
    header = [[(f"Worst post-baseline: {lab.lower()}", 1) for _, lab in post_levels] + [("Total", 1)]]
    foot = list(spec.footnotes) + [
        f"Worst post-baseline: {target.lower()} if any post-baseline value was {target.lower()}. "
        f"n = subjects with a baseline and at least one post-baseline value; percentages use n.",
        f"Population: {_total_header(spec, ctx)}."]
    return TableResult(spec.id, spec.title, spec.population.label, header, "Parameter / baseline category", rows, foot, spec.kind)


def compute_parameter_by_visit(spec, adam: dict) -> TableResult:
    """Descriptive statistics of each parameter at each analysis visit (population total)."""
    from .engine import STAT_LABELS, _stat_text
    lay: ParameterByVisit = spec.layout
    ctx = Context(spec.id, adam, spec.population, None)
    recs = ctx.data(lay.dataset, lay.where, columns=["PARAMCD", lay.visit_var, lay.visit_order, lay.value_var,
                                                     lay.unit_var, *_PARAM_LABELS])   # (a lab dataset is wide)
    need(recs, ["PARAMCD", lay.visit_var, lay.visit_order, lay.value_var], output=spec.id, dataset=lay.dataset)
    rows: list[Row] = []
    by_param = _by_value(recs, "PARAMCD")
    for p in lay.params or all_params(recs, "PARAMCD", ParamStats("", "")):
        prec = by_param(p.paramcd)
        if prec.empty:
            raise SpecError(f"output {spec.id}: {lay.dataset} has no records with PARAMCD = {p.paramcd}",
                            file=lay.dataset, column="PARAMCD", value=p.paramcd)
        unit = ""
        if lay.unit_var and lay.unit_var in prec:
            units = sorted(_texts(prec[lay.unit_var]) - {""})
            if len(units) > 1:
                raise SpecError(f"output {spec.id}: {p.paramcd} mixes units {', '.join(units)}",
                                file=lay.dataset, column=lay.unit_var)
            unit = f" ({units[0]})" if units else ""
        rows.append(Row(p.label + unit, [""] * len(lay.stats), header=True))
        visits = prec[[lay.visit_var, lay.visit_order]].drop_duplicates().sort_values(lay.visit_order, kind="mergesort")
        # the records of each visit from one grouping (not a comparison over the parameter's records per
        # visit), described once for all the row's statistics
        at = prec.groupby(lay.visit_var, sort=False).indices
        values = pd.to_numeric(prec[lay.value_var], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        none = np.empty(0, dtype=float)
        for v in visits[lay.visit_var]:
            pos = at.get(v) if not (isinstance(v, float) and np.isnan(v)) else None
            d = describe(none if pos is None else values[pos])
            rows.append(Row(str(v).title() if str(v).isupper() else str(v),
                            [_stat_text(d, s, lay.decimals) for s in lay.stats], 1))
    header = [[(STAT_LABELS[s], 1) for s in lay.stats]]
    foot = list(spec.footnotes) + [f"Population: {_total_header(spec, ctx)}."]
    return TableResult(spec.id, spec.title, spec.population.label, header, "Parameter / visit", rows, foot,
                       spec.kind)


def compute_listing(spec, adam: dict) -> TableResult:
    """One row per record, columns from label templates over the record and its subject's ADSL row."""
    lay: Listing = spec.layout
    ctx = Context(spec.id, adam, spec.population, None)
    used = _listing_variables(lay)
    recs = ctx.data(lay.dataset, lay.where, columns=used) if lay.dataset.upper() != "ADSL" else \
        ctx.data("ADSL", lay.where)
    if lay.dataset.upper() != "ADSL":
        extra = [c for c in ctx.adsl.columns if (c not in recs.columns and (used is None or c in used)) or c == KEY]
        recs = recs.merge(ctx.adsl[extra], on=KEY, how="left")
    for name, expr in (lay.compute or {}).items():
        try:
            recs = recs.assign(**{name: recs.eval(expr, engine="python")}) if len(recs) else recs.assign(**{name: []})
        except Exception as exc:  # noqa: BLE001
            if type(exc).__name__ == "UndefinedVariableError":
                from .engine import MissingVariable
                raise MissingVariable(f"output {spec.id}: {exc}", file=lay.dataset, value=expr) from None
            raise SpecError(f"output {spec.id}: cannot compute {name}: {exc}", file=lay.dataset, value=expr) from None
    need(recs, list(lay.sort_by), output=spec.id, dataset=lay.dataset)
    recs = recs.sort_values(list(lay.sort_by), kind="mergesort")
    cols = []
    for c in lay.columns:
        need(recs, labels.fields(c.value), output=spec.id, dataset=lay.dataset)
        view = recs[list(dict.fromkeys(labels.fields(c.value)))].copy()     # only what the cell shows
        for f in labels.fields(c.value):
            view[f] = _formatted(view[f], c.format)
        cols.append(labels.render_frame(c.value, view) if len(view) else pd.Series([], dtype=object))
    if len(recs):                          # the cells as lists of str (a Series yields its values one call at a time)
        texts = [[x if type(x) is str else str(x) for x in c.to_numpy(dtype=object).tolist()] for c in cols]
        rows = [Row(a, list(rest)) for a, *rest in zip(*texts)]
    else:
        rows = [Row(lay.empty_text, [""] * (len(lay.columns) - 1))]
    header = [[(c.label, 1) for c in lay.columns[1:]]]
    return TableResult(spec.id, spec.title, spec.population.label, header, lay.columns[0].label, rows,
                       list(spec.footnotes), spec.kind)


def _listing_variables(lay: Listing) -> set | None:
    """Every variable a listing reads: its cells' fields, its sort keys and the names in its computed
    expressions (None, i.e. all, when an expression quotes names or refers to locals). A listing's records
    and their subjects' ADSL rows are joined on these only (the datasets are wide: ~0.1 s of the four
    example listings went to carrying unread columns through the join)."""
    used = {KEY, *lay.sort_by, *(f for c in lay.columns for f in labels.fields(c.value))}
    for expr in (lay.compute or {}).values():
        if "`" in expr or "@" in expr:
            return None
        used.update(IDENT.findall(expr))
    return used


def _map_distinct(num: pd.Series, fn) -> pd.Series:
    """`num.map(fn)` for a numeric Series, `fn` called once per distinct value (a listing's days and grades
    repeat: ~17,000 calls at 1,000 subjects) on the Python numbers `map` hands it. Floats are told apart by
    their bits (0.0 and -0.0, as `map` sees them); other dtypes go through `map` itself."""
    values = num.to_numpy()
    if num.dtype.kind not in "fiu" or not isinstance(num.dtype, np.dtype) or not len(values):
        return num.map(fn)
    keys = values.view(f"i{values.dtype.itemsize}") if values.dtype.kind == "f" else values
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    texts = np.array([fn(v) for v in values[first].astype(object)], dtype=object)
    return pd.Series(texts[inverse.ravel()], index=num.index, dtype=object, name=num.name)


def _formatted(s: pd.Series, how: str | None) -> pd.Series:
    if how is None:
        return s
    if how == "date":
        num = pd.to_numeric(s, errors="coerce")
        d = pd.Timestamp("1960-01-01") + pd.to_timedelta(num, unit="D")
        return d.dt.strftime("%Y-%m-%d").where(num.notna(), "")
    if how == "int":
        num = pd.to_numeric(s, errors="coerce")
        return _map_distinct(num, lambda v: "" if pd.isna(v) else str(int(round(v))))
    if how == "num1":
        return _map_distinct(pd.to_numeric(s, errors="coerce"), lambda v: "" if pd.isna(v) else fmt.num(v, 1))
    raise SpecError(f"unknown listing format {how!r} (date, int, num1)", value=how)
