"""CSR figures: KM with numbers at risk, waterfall, swimmer, spider, mean PK, individual PK profiles, strip.

Each draw function returns the page and the plotted numbers as a frame; the numbers go to JSON next
to the picture so a test (or a reviewer) can check what was drawn without reading pixels. Every page
is drawn on a `Canvas` by `figure_pages` (primitives, no matplotlib Figure/Axes/Tick/Text artists) and
saved as PNG and SVG by `save_figure`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import SpecError
from . import figure_pages, labels
from .canvas import Canvas
from .engine import KEY, Context, MissingVariable, _blank, need, query
from .km import at_risk, kaplan_meier
from .tabledata import referenced_columns
from .spec import (IndividualProfiles, KMPlot, MeanConcentration, Spider, StripPlot, Swimmer,
                   Waterfall)

PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf",
           "#7f7f7f", "#bcbd22"]
PASTEL = ["#a6cee3", "#cab2d6", "#fdbf6f", "#b2df8a", "#d9d9d9", "#fccde5", "#ffffb3", "#bebada",
          "#80b1d3", "#ccebc5"]
BOR_COLOURS = {"CR": "#1a9850", "PR": "#91cf60", "SD": "#fee08b", "NON-CR/NON-PD": "#d9ef8b",
               "PD": "#d73027", "NE": "#bdbdbd", "MISSING": "#f0f0f0"}
BOR_NAMES = {"CR": "Complete response", "PR": "Partial response", "SD": "Stable disease",
             "NON-CR/NON-PD": "Non-CR/non-PD", "PD": "Progressive disease", "NE": "Not evaluable",
             "MISSING": "No assessment"}
SAS_EPOCH = pd.Timestamp("1960-01-01")

def as_days(s: pd.Series) -> pd.Series:
    """SAS date numbers pass through; dates/datetimes (as pyreadstat returns them) become SAS day numbers."""
    if pd.api.types.is_numeric_dtype(s):
        return s.astype(float)
    dt = pd.to_datetime(s, errors="coerce")
    return (dt - SAS_EPOCH).dt.days.astype(float)


GROUP = "_GROUP"


class TooManySubjects(MissingVariable):
    """A per-subject figure with more subjects than its catalogue's `max_subjects`: not produced (listed in
    index.html and on the console with the reason), as a missing variable is; the other outputs are built."""


def _check_cap(p, n: int, ctx: Context) -> None:
    cap = getattr(p, "max_subjects", None)
    if cap is not None and n > cap:
        raise TooManySubjects(f"output {ctx.output}: {n:,} subjects exceed max_subjects {cap:,} of this "
                              f"per-subject figure", value=n)


def _group_series(ctx: Context, var: str, template: str | None) -> pd.Series:
    """Display group per ADSL row: the `template` text (e.g. "{ROUTE:title}") or the value of `var`.
    Remembered per output (`_groups` and `_with_group` both read it; nobody changes it)."""
    need(ctx.adsl, [var] + (labels.fields(template) if template else []), output=ctx.output, dataset="ADSL")
    memo = ctx.__dict__.setdefault("_display_groups", {})
    got = memo.get((var, template))
    if got is None or got[0] is not ctx.adsl:          # (computed on this very ADSL frame only)
        got = memo[(var, template)] = (ctx.adsl, labels.render_frame(template, ctx.adsl) if template
                                       else ctx.adsl[var].astype(str))
    return got[1]


def _with_group(frame: pd.DataFrame, ctx: Context, var: str, template: str | None = None) -> pd.DataFrame:
    """Attach the display group from ADSL (the single source of treatment assignment) as `_GROUP`: the left
    merge on the subject key, or (unique subject keys of the same type on both sides, the usual case) each
    record's group taken by its subject's ADSL row, which is that merge's frame without its joining work."""
    group = _group_series(ctx, var, template)
    rows = ctx.adsl_rows(frame[KEY].to_numpy()) if frame[KEY].dtype == ctx.adsl[KEY].dtype else None
    if rows is None or (len(rows) and pd.isna(frame[KEY]).any()):
        groups = pd.DataFrame({KEY: ctx.adsl[KEY], GROUP: group})
        return frame.drop(columns=[GROUP], errors="ignore").merge(groups, on=KEY, how="left")
    values = pd.api.extensions.take(group.array, rows, allow_fill=True)     # -1 (no ADSL row): missing
    out = frame.drop(columns=[GROUP], errors="ignore").reset_index(drop=True)
    columns = out.columns.append(pd.Index([GROUP]))        # the merge's column index (its dtype too)
    out[GROUP] = pd.Series(values, index=out.index, name=GROUP, dtype=group.dtype)
    out.columns = columns
    return out


def _groups(ctx: Context, var: str, order: str | None, template: str | None = None) -> list[str]:
    """Display groups in order of `order` (then `var`), first appearance wins when a template merges values."""
    need(ctx.adsl, [var] + ([order] if order else []), output=ctx.output, dataset="ADSL")
    by = list(dict.fromkeys(([order] if order else []) + [var]))
    frame = ctx.adsl[by].assign(**{GROUP: _group_series(ctx, var, template)})   # sort the keys, not all of ADSL
    frame = frame[~_blank(frame[var]).to_numpy()]      # (missing or empty text: decided per distinct value)
    return list(dict.fromkeys(frame.sort_values(by, kind="mergesort")[GROUP]))


def draw_km(p: KMPlot, ctx: Context):
    recs = ctx.data(p.dataset, f"PARAMCD == {p.paramcd!r}", columns=["AVAL", "CNSR"])   # what it reads
    if recs.empty:
        raise SpecError(f"output {ctx.output}: no {p.dataset} records with PARAMCD = {p.paramcd}",
                        file=p.dataset, column="PARAMCD", value=p.paramcd)
    recs = _with_group(recs, ctx, p.group_var, p.group_label)
    groups = [g for g in _groups(ctx, p.group_var, p.group_order, p.group_label) if (recs[GROUP] == g).any()]
    tmax = float((recs["AVAL"] / p.days_per_unit).max())
    grid = np.arange(0, tmax + p.tick_every, p.tick_every)
    rows, curves = [], []
    for i, g in enumerate(groups):
        sub = recs[recs[GROUP] == g]
        fit = kaplan_meier(sub["AVAL"] / p.days_per_unit, 1 - sub["CNSR"].astype(int))
        tab = fit.table
        xs = np.r_[tab["time"].to_numpy(), fit.times.max()]
        ys = np.r_[tab["surv"].to_numpy(), tab["surv"].iloc[-1]]
        colour = PALETTE[i % len(PALETTE)]
        cens = fit.times[fit.events == 0]
        step_at = np.searchsorted(tab["time"].to_numpy(), cens, side="right") - 1
        counts = at_risk(fit, grid)
        curves.append((g, colour, xs, ys, cens, tab["surv"].to_numpy()[step_at],
                       f"{g} (n={fit.n}, events={fit.n_events})", counts))
        rows += [{"group": g, "time": r.time, "surv": r.surv, "n_risk": r.n_risk} for r in tab.itertuples()]
    for g, _, _, _, _, _, _, counts in curves:
        for t, n in zip(grid, counts):
            rows.append({"group": g, "time": float(t), "at_risk": n})
    return figure_pages.km_page(p, curves, grid), pd.DataFrame(rows)


def _tumour(ctx: Context, datasets, where: str, pchg_var: str, reads=()) -> pd.DataFrame:
    """Tumour sums from the first supplied dataset that has them; no usable % change is an error
    (a waterfall of nothing would hide a missing baseline in ADaM). The records carry PARAMCD, `pchg_var`,
    the columns `where` names and `reads` (what the caller reads), not every column of the dataset (all of
    them when `where` names columns a word scan cannot find)."""
    for name in datasets:
        if name.upper() in ctx.adam:
            named = referenced_columns(ctx.dataset(name), where) if where else []
            frame = ctx.data(name, None, columns=None if named is None else ["PARAMCD", pchg_var, *reads, *named])
            if "PARAMCD" in frame and len(query(frame, where, output=ctx.output, dataset=name)):
                recs = query(frame, where, output=ctx.output, dataset=name)
                need(recs, [pchg_var], output=ctx.output, dataset=name)
                if pd.to_numeric(recs[pchg_var], errors="coerce").notna().any():
                    return recs
                raise SpecError(f"output {ctx.output}: {name} tumour records have no {pchg_var} "
                                f"(no baseline sum of diameters?)", file=name, column=pchg_var, value=where)
    raise SpecError(f"output {ctx.output}: no tumour measurements in {', '.join(datasets)}",
                    value=where)


def draw_waterfall(p: Waterfall, ctx: Context) -> "Pages":
    tr = _tumour(ctx, p.tumour_datasets, p.tumour_where, p.pchg_var)
    best = tr.groupby(KEY)[p.pchg_var].min().dropna()
    bor = ctx.data(p.bor_dataset, p.bor_where, columns=[p.bor_var]).drop_duplicates(KEY).set_index(KEY)[p.bor_var]
    df = pd.DataFrame({"best_pchg": best}).join(bor.rename("bor"))
    df["bor"] = df["bor"].fillna("MISSING").astype(str)
    df = df.reset_index().sort_values(["best_pchg", KEY], ascending=[False, True], kind="mergesort")
    df["label"] = labels.render_frame(p.bar_label, df.merge(ctx.adsl, on=KEY, how="left")).to_numpy() \
        if p.bar_label else df[KEY].str.split("-").str[-1]
    _check_cap(p, len(df), ctx)
    top = max(60.0, float(df["best_pchg"].max()) + 10)     # one y scale on every page
    cuts = page_slices(len(df), p.per_page)
    cols = figure_pages.page_columns(df, ["best_pchg"], ["label", "bor"])
    plotted = df.rename(columns={KEY: "USUBJID"})
    return Pages(len(cuts), lambda k: figure_pages.waterfall_page(cols, cuts[k], plotted, top, BOR_COLOURS, BOR_NAMES))


def draw_swimmer(p: Swimmer, ctx: Context):
    adsl = ctx.adsl.copy()
    need(adsl, [p.start_var, p.end_var, p.death_var, p.group_var] + labels.fields(p.subject_label),
         output=ctx.output, dataset="ADSL")
    _check_cap(p, len(adsl), ctx)
    start = as_days(adsl[p.start_var])
    adsl["death"] = (as_days(adsl[p.death_var]) - start + 1) / p.days_per_unit
    # the bar runs to death when the subject died, else to the last date known alive
    adsl["end"] = adsl["death"].fillna((as_days(adsl[p.end_var]) - start + 1) / p.days_per_unit)
    ovr = ctx.data(p.ovr_dataset, p.ovr_where, columns=["ADT", "AVALC"])      # the columns it reads
    ovr = ovr.assign(t=(as_days(ovr["ADT"]) - ovr[KEY].map(dict(zip(adsl[KEY], start))) + 1) / p.days_per_unit)
    first_resp = ovr[ovr["AVALC"].isin(["CR", "PR"])].groupby(KEY)["t"].min()
    first_pd = ovr[ovr["AVALC"] == "PD"].groupby(KEY)["t"].min()
    adsl["resp"] = adsl[KEY].map(first_resp)
    adsl["pd"] = adsl[KEY].map(first_pd)
    adsl["group"] = _group_series(ctx, p.group_var, p.group_label).to_numpy()
    groups = _groups(ctx, p.group_var, p.group_order, p.group_label)
    adsl["g"] = adsl["group"].map({g: i for i, g in enumerate(groups)})
    adsl["ylabel"] = labels.render_frame(p.subject_label, adsl)
    adsl = adsl.sort_values(["g", "end", KEY], ascending=[False, True, True], kind="mergesort")
    # row 0 is drawn at the bottom: page 1 holds the top rows of the whole plot
    cuts = [slice(max(len(adsl) - c.stop, 0), len(adsl) - c.start) for c in page_slices(len(adsl), p.per_page)]
    xmax = None
    if len(cuts) > 1:                      # one time scale on every page
        xmax = float(np.nanmax(adsl[["end", "resp", "pd", "death"]].to_numpy(dtype=float))) * 1.04
    rows = p.per_page if len(cuts) > 1 else len(adsl)     # pages of one size: same bar height on every page
    cols = figure_pages.page_columns(adsl, ["end", "resp", "pd", "death"], ["g", "ylabel"])
    plotted = adsl[[KEY, "group", "end", "resp", "pd", "death"]]
    return Pages(len(cuts), lambda k: figure_pages.swimmer_page(p, cols, cuts[k], plotted, groups, xmax, rows, PASTEL))


def draw_spider(p: Spider, ctx: Context):
    tr = _tumour(ctx, p.tumour_datasets, p.tumour_where, p.pchg_var, reads=[p.day_var])
    tr = _with_group(tr, ctx, p.group_var, p.group_label)
    tr = tr.assign(t=tr[p.day_var].clip(lower=0) / p.days_per_unit,
                   pchg=pd.to_numeric(tr[p.pchg_var], errors="coerce")).dropna(subset=["pchg"])
    tr = tr[tr["t"] > 0]
    # every line starts at baseline: 0% change at time 0 by definition
    anchors = tr.drop_duplicates(KEY).assign(t=0.0, pchg=0.0)
    tr = pd.concat([anchors, tr], ignore_index=True)
    groups = _groups(ctx, p.group_var, p.group_order, p.group_label)
    subjects = _subjects_by_group(tr, groups)
    _check_cap(p, len(subjects), ctx)
    cuts = page_slices(len(subjects), p.per_page)
    tr = tr[[KEY, GROUP, "t", "pchg"]]          # what a page reads
    plotted = figure_pages.FigureRows(tr, KEY, GROUP, ["t", "pchg"], {GROUP: "group"})
    if len(cuts) == 1:
        return Pages(1, lambda k: _spider_page(p, plotted, np.arange(len(tr)), groups, None))
    ylim = (min(float(tr["pchg"].min()), -30.0), max(float(tr["pchg"].max()), 20.0))   # thresholds shown
    pad = 0.05 * (ylim[1] - ylim[0] or 1)
    scale = (float(tr["t"].max()) * 1.04, (ylim[0] - pad, ylim[1] + pad))    # one scale on every page
    rows = _rows_by_page(tr[KEY], subjects, p.per_page, len(cuts))
    return Pages(len(cuts), lambda k: _spider_page(p, plotted, rows[k], groups, scale))


def _subjects_by_group(frame: pd.DataFrame, groups: list) -> list:
    """Each group's subjects (sorted), group after group: `sorted(pd.unique(frame.loc[frame[GROUP] == g, KEY]))`
    for each group, on object arrays (a pandas string comparison and row selection per group cost more)."""
    grp, keys = frame[GROUP].to_numpy(dtype=object), frame[KEY].to_numpy(dtype=object)
    return [sid for g in groups for sid in sorted(pd.unique(keys[grp == g]))]


def _rows_by_page(keys: pd.Series, subjects: list, per_page: int, pages: int) -> list[np.ndarray]:
    """Per page, the positions (in frame order) of the rows whose subject is among that page's subjects
    (`subjects[k * per_page:(k + 1) * per_page]`): `frame[keys.isin(those)]` for every page, from one look-up
    of the keys instead of one pass over the frame per page (quadratic in the subjects)."""
    where = pd.Index(subjects)
    if not where.is_unique:                 # never from the figures (unique by construction): the plain way
        return [np.flatnonzero(keys.isin(subjects[k * per_page:(k + 1) * per_page]).to_numpy())
                for k in range(pages)]
    idx = where.get_indexer(pd.Index(keys))
    page = np.where(idx >= 0, idx // per_page, pages)
    order = np.argsort(page, kind="stable")
    bounds = np.searchsorted(page[order], np.arange(pages + 1))
    return [order[bounds[k]:bounds[k + 1]] for k in range(pages)]


def _subject_rows(keys: np.ndarray, order: np.ndarray | None = None) -> list[np.ndarray]:
    """Positions in `keys` of each subject's rows (subjects sorted; within a subject, in `order`, else in
    the given order): what `groupby(KEY, sort=True)` yields, without building a frame per subject."""
    if not len(keys):
        return []
    pos = np.arange(len(keys)) if order is None else order
    pos = pos[np.argsort(keys[pos], kind="stable")]
    ks = keys[pos]
    return np.split(pos, np.flatnonzero(ks[1:] != ks[:-1]) + 1)


def _spider_page(p: Spider, tr: figure_pages.FigureRows, rows: np.ndarray, groups: list, scale):
    return figure_pages.spider_page(p, tr, rows, groups, scale, PALETTE, _subject_rows)


def draw_mean_concentration(p: MeanConcentration, ctx: Context):
    # the columns it reads (a concentration dataset is long and wide: every column was copied three times)
    pc = ctx.data(p.dataset, p.where, columns=[c for c in (p.time_var, p.value_var, p.blq_var, p.unit_var) if c])
    need(pc, [p.time_var, p.value_var], output=ctx.output, dataset=p.dataset)
    if pc.empty:
        raise SpecError(f"output {ctx.output}: no {p.dataset} records", file=p.dataset, value=p.where)
    pc = _with_group(pc, ctx, p.group_var, p.group_label)
    if p.panel_var:
        pc = pc.merge(pd.DataFrame({KEY: ctx.adsl[KEY], "_PANEL": _group_series(ctx, p.panel_var, p.panel_label)}),
                      on=KEY, how="left")
    else:
        pc["_PANEL"] = ""
    vals = pd.to_numeric(pc[p.value_var], errors="coerce")
    if p.blq_var and p.blq_var in pc:
        vals = vals.where(pc[p.blq_var].astype(str) != "Y")
    pc = pc.assign(v=vals.where(vals > 0))
    pc = pc[pd.to_numeric(pc[p.time_var], errors="coerce") >= 0]     # the post-infusion profile only
    summ = pc.groupby(["_PANEL", GROUP, p.time_var])["v"].agg(["count", "mean", "std"]).reset_index()
    groups = [g for g in _groups(ctx, p.group_var, p.group_order, p.group_label) if (summ[GROUP] == g).any()]
    panels = [x for x in (_groups(ctx, p.panel_var, p.panel_order, p.panel_label) if p.panel_var else [""])
              if (summ["_PANEL"] == x).any()]
    unit = str(pc[p.unit_var].dropna().iloc[0]) if p.unit_var in pc and pc[p.unit_var].notna().any() else ""
    fig = figure_pages.mean_concentration_page(p, summ, groups, panels, unit, GROUP, PALETTE)
    return fig, summ.rename(columns={"_PANEL": "panel", GROUP: "group", p.time_var: "time"})


def draw_individual_profiles(p: IndividualProfiles, ctx: Context):
    """Each subject's concentrations over time (log y), one panel per group."""
    pc = ctx.data(p.dataset, p.where, columns=[c for c in (p.time_var, p.value_var, p.unit_var) if c])
    need(pc, [p.time_var, p.value_var], output=ctx.output, dataset=p.dataset)
    pc = _with_group(pc, ctx, p.group_var, p.group_label)
    pc = pc.assign(v=pd.to_numeric(pc[p.value_var], errors="coerce"),
                   t=pd.to_numeric(pc[p.time_var], errors="coerce"))
    pc = pc[(pc["v"] > 0) & (pc["t"] >= 0)]
    if pc.empty:
        raise SpecError(f"output {ctx.output}: no positive {p.dataset} values to plot", file=p.dataset, value=p.where)
    grp = pc[GROUP].to_numpy(dtype=object)
    groups = [g for g in _groups(ctx, p.group_var, p.group_order, p.group_label) if (grp == g).any()]
    subjects = _subjects_by_group(pc, groups)
    _check_cap(p, len(subjects), ctx)
    cuts = page_slices(len(subjects), p.per_page)
    # what a page reads (the unit's column when there is one): each page takes only these columns
    pc = pc[list(dict.fromkeys([KEY, GROUP, "t", "v"] + ([p.unit_var] if p.unit_var in pc else [])))]
    plotted = figure_pages.FigureRows(pc, KEY, GROUP, ["t", "v"], {GROUP: "group", "t": "time", "v": "value"},
                                      extra=[p.unit_var] if p.unit_var else [])
    if len(cuts) == 1:
        return Pages(1, lambda k: _profiles_page(p, plotted, np.arange(len(pc)), groups))
    rows = _rows_by_page(pc[KEY], subjects, p.per_page, len(cuts))
    return Pages(len(cuts), lambda k: _profiles_page(p, plotted, rows[k], groups))


def _profiles_page(p: IndividualProfiles, pc: figure_pages.FigureRows, rows: np.ndarray, groups: list):
    return figure_pages.profiles_page(p, pc, rows, groups, PALETTE, _subject_rows)


def draw_strip(p: StripPlot, ctx: Context):
    """A per-subject value by a per-subject group: points (deterministic offsets) and medians."""
    from .engine import derived_values
    need(ctx.adsl, [p.value_var], output=ctx.output, dataset="ADSL")
    grp = derived_values(ctx, p.group)
    data = pd.DataFrame({KEY: ctx.adsl[KEY].to_numpy(), "group": grp.to_numpy(),
                         "value": pd.to_numeric(ctx.adsl[p.value_var], errors="coerce").to_numpy()}).dropna()
    order = list((p.group_labels or {}).keys()) or sorted(pd.unique(data["group"]), key=str)
    order = [g for g in order if (data["group"] == g).any()] +         sorted((g for g in pd.unique(data["group"]) if g not in order), key=str)
    names = {g: (p.group_labels or {}).get(g, str(g)) for g in order}
    points = [data.loc[data["group"] == g, "value"].sort_values().to_numpy() for g in order]
    fig = figure_pages.strip_page(p, points, [f"{names[g]}\n(n={int((data['group'] == g).sum())})" for g in order],
                                  PALETTE)
    data = data.assign(group=data["group"].map(lambda g: names.get(g, str(g))))
    return fig, data.sort_values([KEY], kind="mergesort").reset_index(drop=True)


DRAW = {KMPlot: draw_km, IndividualProfiles: draw_individual_profiles, StripPlot: draw_strip, Waterfall: draw_waterfall, Swimmer: draw_swimmer, Spider: draw_spider,
        MeanConcentration: draw_mean_concentration}


class Pages:
    """A figure of `count` pages, each drawn on demand by `draw(k)` -> (Canvas, plotted data). Pages hold
    no drawing state between calls (any page can be drawn alone, in any order); `close()` is kept for
    callers that release pages when done."""

    def __init__(self, count: int, draw):
        self.count, self._draw = count, draw

    def draw(self, k: int):
        return self._draw(k)

    def close(self) -> None:
        """Nothing to release: a page is a list of primitives, not a matplotlib figure."""


def page_slices(n: int, per_page: int) -> list[slice]:
    """Consecutive slices of at most `per_page` items; one (empty) page when there is nothing."""
    return [slice(i, i + per_page) for i in range(0, max(n, 1), per_page)]


def render_figure(spec, adam) -> Pages:
    """Prepare one FigureSpec: its data is computed now, each page is drawn by `Pages.draw(k)`.
    `adam` maps names to datasets, or is a `TableData(adam, prepare=False)` shared by a build's figures.
    Per-subject figures (waterfall, swimmer, spider, individual profiles) have one page per
    `per_page` subjects; the others one page."""
    ctx = Context(spec.id, adam, spec.population, None)
    got = DRAW[type(spec.plot)](spec.plot, ctx)
    if isinstance(got, Pages):
        return got
    return Pages(1, lambda k: got)


def save_figure(fig: Canvas, stem_path) -> list:
    """PNG and SVG of one page (`save_canvas`); the same page gives the same bytes."""
    return save_canvas(fig, stem_path)


def save_canvas(canvas: Canvas, stem_path) -> list:
    """PNG (Agg pixels, Pillow encoder, no text chunks) and SVG (written as text) of a canvas page."""
    from .canvas_png import png_bytes
    from .canvas_svg import svg_text
    png, svg = stem_path.with_suffix(".png"), stem_path.with_suffix(".svg")
    png.write_bytes(png_bytes(canvas))
    svg.write_text(svg_text(canvas), encoding="utf-8")
    return [png, svg]
