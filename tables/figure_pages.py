"""Pages of the CSR figures (swimmer, waterfall, spider, individual and mean PK profiles, KM, strip)
drawn on a `Canvas` instead of a matplotlib Figure: the content, colours, legends, labels and page
sizes of the matplotlib version, laid out once from measured text extents. `figures.py` prepares the
data and the pages; each function here draws one page.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .axes_layout import (LAYOUT_PAD, LEG, TITLE_PAD, Entry, Frame, Scale, autoscale, draw_grid, draw_legend,
                          draw_spines, draw_xaxis, draw_yaxis, legend_size, ticks, xlabel_need, ylabel_need)
from .canvas import Canvas, line_metrics

BORDER_AXES = LEG["borderaxespad"] * 8.0      # legend font size 8


def _box(w_pt: float, h_pt: float, left: float, right: float, top: float, bottom: float):
    """The plot area inside a page once the room needed on each side (plus tight_layout's pad) is left."""
    return (LAYOUT_PAD + left, LAYOUT_PAD + top, w_pt - LAYOUT_PAD - right, h_pt - LAYOUT_PAD - bottom)


def _tick_fmt(v: float) -> str:
    return f"{v:g}"


class FigureRows:
    """The records a per-subject figure plots, read once for all its pages: `arrays` holds the subject key,
    the display group and the numeric columns as numpy arrays (a page takes its rows by position), and
    `plotted(rows, by)` gives a page's plotted frame, the figure's columns renamed once and the page's rows
    ordered by subject, then `by`.

    Why: each page used to take its rows as a new frame, read every column back through pandas and rename
    and sort its own copy: about half of a page's drawing time at 1,000 subjects."""

    def __init__(self, frame: pd.DataFrame, key: str, group: str, numbers: list[str], rename: dict,
                 extra: list[str] = ()):
        self.frame = frame
        self.arrays = {"key": frame[key].to_numpy(), "group": frame[group].to_numpy()}
        for name in numbers:
            self.arrays[name] = frame[name].to_numpy(dtype=float)
        self._extra = {name: frame[name] for name in extra if name in frame}
        self._plotted = frame[[key, group, *numbers]].rename(columns=rename)
        # the subject keys as sorted codes: a page sorts by (subject, time) as `sort_values(kind="mergesort")`
        self._codes = pd.factorize(self.arrays["key"], sort=True)[0]

    def plotted(self, rows: np.ndarray, by: str) -> pd.DataFrame:
        """`frame.take(rows)[plotted columns].rename(...).sort_values([key, by], kind="mergesort")`: the same
        rows in the same order (a stable sort on the subject's sorted code, then `by`)."""
        col = self._plotted[by].to_numpy(dtype=float)[rows]
        order = rows[np.lexsort((col, self._codes[rows]))]
        return self._plotted.take(order)

    def first(self, name: str | None, rows: np.ndarray) -> str:
        """`str` of the first non-missing value of column `name` in `rows` ("" when none or no such column)."""
        column = self._extra.get(name) if name else None
        if column is None:
            return ""
        got = self.__dict__.setdefault("_firsts", {}).get(name)
        if got is None:
            got = self._firsts[name] = (column.notna().to_numpy(), column.to_numpy(dtype=object))
        ok, values = got
        hit = np.flatnonzero(ok[rows])
        return str(values[rows[hit[0]]]) if len(hit) else ""


def page_columns(frame: pd.DataFrame, numbers: list[str], texts: list[str] = ()) -> dict:
    """Columns a figure's pages read, read once for all of them: `numbers` as float arrays, `texts` as lists
    (the values `list(column)` gives); a page slices them instead of reading its own frame's columns."""
    got = {name: frame[name].to_numpy(dtype=float) for name in numbers}
    got.update({name: list(frame[name]) for name in texts})
    return got


def swimmer_page(p, cols: dict, at: slice, plotted: pd.DataFrame, groups: list, xmax: float | None, rows: int,
                 pastel: list):
    """`cols`: the figure's columns (`page_columns`: end, resp, pd, death, g, ylabel); `at`: this page's rows;
    `plotted`: the figure's plotted columns (the page's rows of it are returned with the page)."""
    c = Canvas(9, max(4.0, 0.24 * rows + 1.6))
    w_pt, h_pt = c.size_pt
    end = cols["end"][at]
    y = np.arange(len(end)) + (rows - len(end))            # a short last page keeps its rows at the top
    marks = [("resp", "^", "#006d2c", 7.0, "First response (CR/PR)"), ("pd", "s", "#cb181d", 6.0, "Progression"),
             ("death", "X", "black", 7.0, "Death")]
    if xmax is None:
        got = np.concatenate([end] + [cols[m[0]][at] for m in marks] + [[0.0]])
        xlim = autoscale(0.0, float(np.nanmax(got)), Scale(), sticky_lo=0.0)
    else:
        xlim = (0.0, xmax)
    ylim = (-0.7, rows - 0.3)
    entries = [Entry(name, "marker", colour, marker=shape, size=ms) for _, shape, colour, ms, name in marks]
    entries += [Entry(g, "rect", pastel[i % len(pastel)], edge="#666666", lw=0.4) for i, g in enumerate(groups)]
    yt_fixed = ticks(*ylim, Scale(), 1.0, "y", fixed=y, fmt=None)
    yt_fixed.labels = cols["ylabel"][at]
    xlabel = f"Time since infusion ({p.unit})"
    lw_, _ = legend_size(entries, 8.0)
    # tick labels of the default-margin draw decide the x ticks' room (as tight_layout measures)
    x0, y0, x1, y1 = _box(w_pt, h_pt, ylabel_need(yt_fixed, "Subject", size=7.0), BORDER_AXES + lw_, 0.0,
                          xlabel_need(ticks(*xlim, Scale(), 0.775 * w_pt, "x"), xlabel))
    f = Frame(x0, y0 + _overhang(yt_fixed, ylim, y1 - y0, 7.0), x1, y1, xlim, ylim)
    xt = f.xticks()
    yt = yt_fixed
    colours = [pastel[int(i) % len(pastel)] for i in cols["g"][at]]
    c.rects(f.px(np.zeros(len(y))), f.py(y + 0.325), f.px(end) - f.px(0.0),
            f.py(y - 0.325) - f.py(y + 0.325), colours, edge="#666666", lw=0.4, clip=f.clip)
    draw_grid(c, f, xt, None)
    draw_xaxis(c, f, xt, xlabel)
    draw_yaxis(c, f, yt, "Subject", size=7.0)
    for col, shape, colour, ms, _ in marks:
        v = cols[col][at]
        c.markers(f.px(v), f.py(y), shape, ms, colour, clip=f.clip)
    draw_spines(c, f)
    draw_legend(c, f.x1 + BORDER_AXES, f.y0 + BORDER_AXES, entries, 8.0)
    return c, plotted.iloc[at]


def _overhang(t, lim, length: float, size: float) -> float:
    """Room above the plot area a y tick label near its top needs (half a label above the top tick)."""
    if not len(t.major):
        return 0.0
    top = float(np.max(t.major))
    gap = (lim[1] - top) / (lim[1] - lim[0]) * length
    return max(0.0, line_metrics("lp", size)[1] / 2 - gap)


def _hline(c: Canvas, f: Frame, y: float, colour: str, lw: float, dashed: bool = False) -> None:
    """A horizontal line across the plot area (matplotlib's axhline; "--" is 3.7 on, 1.6 off x width)."""
    py = float(f.py(y))
    c.line([f.x0, f.x1], [py, py], colour, lw, dash=(3.7 * lw, 1.6 * lw) if dashed else None, clip=f.clip)


def waterfall_page(cols: dict, at: slice, plotted: pd.DataFrame, top: float, colours: dict, names: dict):
    """`cols`: the figure's columns (`page_columns`: best_pchg, label, bor); `at`: this page's bars; `plotted`:
    the figure's plotted frame (the page's rows of it are returned with the page)."""
    c = Canvas(9, 5.2)
    w_pt, h_pt = c.size_pt
    val = cols["best_pchg"][at]
    bor = cols["bor"][at]
    n = len(val)
    x = np.arange(n, dtype=float)
    xlim = autoscale(-0.4, n - 1 + 0.4, Scale()) if n else (-0.5, 0.5)
    ylim = (-105.0, top)
    xt = ticks(*xlim, Scale(), 1.0, "x", fixed=x)
    xt.labels = [str(s) for s in cols["label"][at]]
    ylabel = "Best % change from baseline\nin sum of diameters"
    yt0 = ticks(*ylim, Scale(), 0.77 * h_pt, "y")
    x0, y0, x1, y1 = _box(w_pt, h_pt, ylabel_need(yt0, ylabel), 0.0, line_metrics("lp", 9.0)[1] / 2,
                          xlabel_need(xt, "Subject", size=7.0, rotation=90))
    f = Frame(x0, y0, x1, y1, xlim, ylim)
    yt = f.yticks()
    base, tip = f.py(np.zeros(n)), f.py(val)
    c.rects(f.px(x - 0.4), np.minimum(base, tip), f.px(x + 0.4) - f.px(x - 0.4), np.abs(tip - base),
            [colours.get(b, "#777777") for b in bor], edge="#333333", lw=0.4, clip=f.clip)
    draw_xaxis(c, f, xt, "Subject", size=7.0, rotation=90)
    draw_yaxis(c, f, yt, ylabel)
    for yv in (20, -30):
        _hline(c, f, yv, "#555555", 0.8, dashed=True)
    _hline(c, f, 0, "black", 0.8)
    draw_spines(c, f)
    present = [b for b in colours if b in set(bor)]
    entries = [Entry(names.get(b, b), "rect", colours[b], edge="#333333", lw=0.4) for b in present]
    title = "Best overall response"
    lw_, _ = legend_size(entries, 8.0, title)
    draw_legend(c, f.x1 - BORDER_AXES - lw_, f.y0 + BORDER_AXES, entries, 8.0, title)
    return c, plotted.iloc[at]


def spider_page(p, tr: "FigureRows", rows: np.ndarray, groups: list, scale, palette: list, subject_rows):
    """`rows`: the positions in `tr` (columns key, group, "t", "pchg") this page plots."""
    c = Canvas(9, 5)
    w_pt, h_pt = c.size_pt
    t_all, y_all, grp, keys = (tr.arrays[name][rows] for name in ("t", "pchg", "group", "key"))
    lines, entries = [], []
    for i, g in enumerate(groups):
        mine = np.flatnonzero(grp == g)
        colour = palette[i % len(palette)]
        for mine_rows in subject_rows(keys[mine]):
            at = mine[mine_rows]
            at = at[np.argsort(t_all[at], kind="quicksort")]     # as sort_values("t") orders them
            lines.append((t_all[at], y_all[at], colour))
        if len(mine):
            entries.append(Entry(g, "line", colour, lw=1.0, marker="o", size=3.0, alpha=0.85))
    if scale:
        xlim, ylim = (0.0, scale[0]), scale[1]
    else:
        t_max = float(np.nanmax(t_all)) if len(t_all) else 1.0
        xlim = (0.0, autoscale(0.0, t_max, Scale())[1])
        ys = np.r_[y_all, 20.0, -30.0, 0.0]
        ylim = autoscale(float(np.nanmin(ys)), float(np.nanmax(ys)), Scale())
    xlabel = f"Time since infusion ({p.unit})"
    ylabel = "% change from baseline in sum of diameters"
    lw_, _ = legend_size(entries, 8.0)
    yt0 = ticks(*ylim, Scale(), 0.77 * h_pt, "y")
    x0, y0, x1, y1 = _box(w_pt, h_pt, ylabel_need(yt0, ylabel), BORDER_AXES + lw_, line_metrics("lp", 9.0)[1] / 2,
                          xlabel_need(ticks(*xlim, Scale(), 0.775 * w_pt, "x"), xlabel))
    f = Frame(x0, y0, x1, y1, xlim, ylim)
    xt, yt = f.xticks(), f.yticks()
    draw_xaxis(c, f, xt, xlabel)
    draw_yaxis(c, f, yt, ylabel)
    for t, v, colour in lines:
        px, py = f.px(t), f.py(v)
        c.line(px, py, colour, 1.0, alpha=0.85, clip=f.clip)
        c.markers(px, py, "o", 3.0, colour, alpha=0.85, clip=f.clip)
    _hline(c, f, 20, "#555555", 0.8, dashed=True)
    _hline(c, f, -30, "#555555", 0.8, dashed=True)
    _hline(c, f, 0, "black", 0.6)
    draw_spines(c, f)
    draw_legend(c, f.x1 + BORDER_AXES, f.y0 + BORDER_AXES, entries, 8.0)
    return c, tr.plotted(rows, "t")


def profiles_page(p, pc: "FigureRows", rows: np.ndarray, groups: list, palette: list, subject_rows):
    """Each subject's concentrations over time: log y, time linear to 28 then logarithmic (symlog), one
    panel per group on a grid of at most 4 columns, axes shared; time labels under the lowest panel of
    each column, concentration labels left of the first column. `rows`: the positions in `pc` (columns key,
    group, "t", "v" and the unit's) this page plots."""
    grp = pc.arrays["group"][rows]
    groups = [g for g in groups if (grp == g).any()]
    ncol = min(4, len(groups))
    nrow = -(-len(groups) // ncol)
    c = Canvas(10, 1.9 + 2.1 * nrow)
    w_pt, h_pt = c.size_pt
    unit = pc.first(p.unit_var, rows)
    ylabel = f"Concentration ({unit})" if unit else "Concentration"
    t_all, v_all, keys = pc.arrays["t"][rows], pc.arrays["v"][rows], pc.arrays["key"][rows]
    xs, ys = Scale("symlog", 28.0, 1.0), Scale("log")
    xlim = autoscale(float(t_all.min()), float(t_all.max()), xs)
    ylim = autoscale(float(v_all.min()), float(v_all.max()), ys)
    titles = []
    panels = []
    for g in groups:
        mine = np.flatnonzero(grp == g)
        by_time = np.argsort(t_all[mine], kind="stable")      # within a subject: by time, then frame order
        panels.append([(t_all[mine[rows]], v_all[mine[rows]]) for rows in subject_rows(keys[mine], by_time)])
        titles.append(f"{g} (n={len(pd.unique(keys[mine]))})")
    # the lowest panel of each column carries the time axis labels
    bottom_of = {col: max(k for k in range(len(groups)) if k % ncol == col) for col in range(ncol)}
    xt0 = ticks(*xlim, xs, 0.2 * w_pt, "x", fmt=_tick_fmt)
    yt0 = ticks(*ylim, ys, 0.2 * h_pt, "y")
    title_need = TITLE_PAD + line_metrics("lp", 9.0)[1]
    labelled = xlabel_need(xt0, p.xlabel, label_size=8.0)
    rows_with_labels = {k // ncol for k in bottom_of.values()}
    row_bottom = [labelled if r in rows_with_labels else 3.5 for r in range(nrow)]
    left = ylabel_need(yt0, ylabel, label_size=8.0)
    right = line_metrics(xt0.labels[-1] if xt0.labels else "", 9.0)[0] / 2 if xt0.labels else 0.0
    wgap = LAYOUT_PAD + 3.5 + right
    hgap = LAYOUT_PAD + max(row_bottom[:-1] or [0.0]) + title_need
    x0, y0, x1, y1 = _box(w_pt, h_pt, left, right, title_need, row_bottom[-1])
    pw = (x1 - x0 - wgap * (ncol - 1)) / ncol
    ph = (y1 - y0 - hgap * (nrow - 1)) / nrow
    for k, (g, lines) in enumerate(zip(groups, panels)):
        r, col = divmod(k, ncol)
        fx0, fy0 = x0 + col * (pw + wgap), y0 + r * (ph + hgap)
        f = Frame(fx0, fy0, fx0 + pw, fy0 + ph, xlim, ylim, xs, ys)
        xt, yt = f.xticks(fmt=_tick_fmt), f.yticks()
        draw_grid(c, f, xt, yt)
        draw_xaxis(c, f, xt, p.xlabel if bottom_of[col] == k else None, show_labels=bottom_of[col] == k,
                   label_size=8.0)
        draw_yaxis(c, f, yt, ylabel if col == 0 else None, show_labels=col == 0, label_size=8.0)
        # every subject's points through the (symlog, log) scales in one call per axis: the transforms are
        # element-wise, so the same coordinates as one call per subject, without its per-call cost
        cuts = np.cumsum([len(t) for t, _ in lines])[:-1]
        pxs = np.split(f.px(np.concatenate([t for t, _ in lines])), cuts) if lines else []
        pys = np.split(f.py(np.concatenate([v for _, v in lines])), cuts) if lines else []
        for i, (px, py) in enumerate(zip(pxs, pys)):
            colour = palette[i % len(palette)]
            c.line(px, py, colour, 0.9, clip=f.clip)
            c.markers(px, py, "o", 2.0, colour, clip=f.clip)
        draw_spines(c, f)
        c.text((f.x0 + f.x1) / 2, f.y0 - TITLE_PAD, titles[k], size=9.0, ha="center", va="baseline")
    return c, pc.plotted(rows, "time").reset_index(drop=True)


def mean_series(summ: pd.DataFrame, panels: list, groups: list, group: str, t_var: str) -> list:
    """Per panel, per group with a positive mean: (group index, group, times, means, SDs with missing as 0), the
    summary's rows in order: what `summ[(summ["_PANEL"] == panel) & (summ[group] == g) & (summ["mean"] > 0)]`
    selects, read from the summary's columns once (a frame selection per panel and group cost more than
    drawing the page)."""
    panel_of, group_of = summ["_PANEL"].to_numpy(), summ[group].to_numpy()
    mean = summ["mean"].to_numpy(dtype=float)
    times, sd_all = summ[t_var].to_numpy(dtype=float), summ["std"].to_numpy(dtype=float)
    sd_all = np.where(np.isnan(sd_all), 0.0, sd_all)              # fillna(0)
    with np.errstate(invalid="ignore"):
        positive = mean > 0
    series = []
    for panel in panels:
        got = []
        in_panel = (panel_of == panel) & positive
        for i, g in enumerate(groups):
            rows = np.flatnonzero(in_panel & (group_of == g))
            if len(rows):
                got.append((i, g, times[rows], mean[rows], sd_all[rows]))
        series.append(got)
    return series


SYMLOG_TICKS = (0, 7, 14, 21, 28, 91, 183, 365)    # days: weekly to 28, then 3, 6 and 12 months


def mean_concentration_page(p, summ: pd.DataFrame, groups: list, panels: list, unit: str, group: str,
                            palette: list):
    """Mean (+SD) concentration by nominal time, log y, one panel per `panels` value sharing the y axis;
    a line per group with upward SD bars (capped), a legend per panel at its upper right."""
    c = Canvas(max(9, 3.6 * len(panels)), 4.8)
    w_pt, h_pt = c.size_pt
    t_var = p.time_var
    ys = Scale("log")
    xs = Scale("symlog", 28.0, 1.0) if p.xscale == "symlog" else Scale()
    series = mean_series(summ, panels, groups, group, t_var)     # per panel: [(group index, group, t, mean, sd)]
    tops = [m + sd for got in series for _, _, _, m, sd in got]
    lows = [m for got in series for _, _, _, m, _ in got]
    ylim = autoscale(float(np.min(np.concatenate(lows))), float(np.max(np.concatenate(tops))), ys)
    t_max = float(summ[t_var].max())
    fixed = None
    if p.xscale == "symlog":
        xlims = [(0.0, t_max * 1.15)] * len(panels)
        fixed = [t for t in SYMLOG_TICKS if t <= t_max * 1.05]
    else:
        xlims = []
        for got in series:
            ts = np.concatenate([t for _, _, t, _, _ in got]) if got else np.array([0.0, 1.0])
            xlims.append(autoscale(float(ts.min()), float(ts.max()), xs))
    ylabel = f"Mean (+SD) concentration ({unit})" if unit else "Mean (+SD) concentration"
    yt0 = ticks(*ylim, ys, 0.77 * h_pt, "y")
    xt0 = ticks(*xlims[0], xs, 0.2 * w_pt, "x", fixed=fixed, fmt=_tick_fmt if p.xscale == "symlog" else None)
    title_need = TITLE_PAD + line_metrics("lp", 10.0)[1]
    right = line_metrics(xt0.labels[-1], 9.0)[0] / 2 if xt0.labels else 0.0
    x0, y0, x1, y1 = _box(w_pt, h_pt, ylabel_need(yt0, ylabel), right, title_need, xlabel_need(xt0, p.xlabel))
    gap = LAYOUT_PAD + 3.5 + right
    n = len(panels)
    pw = (x1 - x0 - gap * (n - 1)) / n
    for k, (panel, got) in enumerate(zip(panels, series)):
        f = Frame(x0 + k * (pw + gap), y0, x0 + k * (pw + gap) + pw, y1, xlims[k], ylim, xs, ys)
        xt = f.xticks(fixed=fixed, fmt=_tick_fmt if p.xscale == "symlog" else None)
        yt = f.yticks()
        draw_grid(c, f, xt, yt)
        draw_xaxis(c, f, xt, p.xlabel)
        draw_yaxis(c, f, yt, ylabel if k == 0 else None, show_labels=k == 0)
        entries = []
        for i, g, t, m, sd in got:
            colour = palette[i % len(palette)]
            px, pm, ptop = f.px(t), f.py(m), f.py(m + sd)
            for xx, a, b in zip(px, pm, ptop):
                c.line([xx, xx], [a, b], colour, 1.3, clip=f.clip, cap="butt")
            c.markers(px, pm, "_", 4.0, colour, clip=f.clip)
            c.markers(px, ptop, "_", 4.0, colour, clip=f.clip)
            c.line(px, pm, colour, 1.3, clip=f.clip)
            c.markers(px, pm, "o", 3.0, colour, clip=f.clip)
            entries.append(Entry(g, "errorbar", colour, lw=1.3, marker="o", size=3.0))
        draw_spines(c, f)
        c.text((f.x0 + f.x1) / 2, f.y0 - TITLE_PAD, panel, size=10.0, ha="center", va="baseline")
        if entries:
            lw_, _ = legend_size(entries, 8.0)
            draw_legend(c, f.x1 - BORDER_AXES - lw_, f.y0 + BORDER_AXES, entries, 8.0)
    return c


def km_page(p, curves: list, grid: np.ndarray):
    """Kaplan-Meier curves with censoring ticks and the numbers at risk under the time axis, at the
    figure fractions the matplotlib version used (plot area 0.2-0.96 wide; the at-risk rows below)."""
    n = len(curves)
    c = Canvas(9, 5.6 + 0.22 * n)
    w_pt, h_pt = c.size_pt
    risk_h = 0.05 + 0.045 * n                  # share of the figure for the at-risk table
    ax_bottom, ax_h = 0.03 + risk_h + 0.1, 0.84 - risk_h - 0.1
    f = Frame(0.2 * w_pt, h_pt * (1 - ax_bottom - ax_h), 0.96 * w_pt, h_pt * (1 - ax_bottom),
              (0.0, float(grid[-1])), (0.0, 1.03))
    xt = f.xticks(fixed=grid)
    yt = f.yticks()
    draw_grid(c, f, xt, yt)
    draw_xaxis(c, f, xt, f"Time ({p.unit})")
    draw_yaxis(c, f, yt, p.ylabel)
    entries = []
    for g, colour, xs, ys, cx, cy, label, _ in curves:
        sx = np.repeat(xs, 2)[1:]                  # steps-post: across at the old level, then down
        sy = np.repeat(ys, 2)[:-1]
        c.line(f.px(sx), f.py(sy), colour, 1.8, clip=f.clip)
        c.markers(f.px(cx), f.py(cy), "|", 9.0, colour, edge_lw=1.5, clip=f.clip)
        entries.append(Entry(label, "line", colour, lw=1.8))
    entries.append(Entry("Censored", "marker", "#444444", lw=1.5, marker="|", size=9.0))
    draw_spines(c, f)
    lw_, _ = legend_size(entries, 8.0)
    draw_legend(c, f.x1 - BORDER_AXES - lw_, f.y0 + BORDER_AXES, entries, 8.0, frame=True)
    # numbers at risk: a row per group, the counts under the x ticks
    r_top, r_bot = h_pt * (1 - 0.03 - risk_h), h_pt * (1 - 0.03)
    rf = Frame(f.x0, r_top, f.x1, r_bot, f.xlim, (n - 0.5, -0.9))
    row_y = lambda k: r_top + (k + 0.9) / (n - 0.5 + 0.9) * (r_bot - r_top)   # noqa: E731 (inverted axis)
    c.text(rf.px(0.0), r_top, "Number at risk", size=8.0, weight="bold", ha="left", va="top")
    for k, (g, colour, *_rest, counts) in enumerate(curves):
        y = row_y(k)
        c.text(rf.x0 - 14.0, y, g, size=8.0, ha="right", va="center_baseline", colour=colour)
        for t, m in zip(grid, counts):
            c.text(float(rf.px(t)), y, str(m), size=8.0, ha="center", va="center", colour=colour)
    return c


def strip_page(p, points: list, labels: list, palette: list):
    """Points per group at deterministic offsets (in the group's colour) and a black median bar each;
    `points` holds each group's sorted values."""
    c = Canvas(8, 4.6)
    w_pt, h_pt = c.size_pt
    xs_all, ys_all = [-0.3 if points else 0.0], []
    offsets = []
    for i, v in enumerate(points):
        off = (np.arange(v.size) - (v.size - 1) / 2) * (0.5 / max(v.size, 1))
        offsets.append(i + off)
        xs_all += list(i + off) + ([i - 0.3, i + 0.3] if v.size else [])
        ys_all += list(v) + ([float(np.median(v))] if v.size else [])
    xs_all.append(len(points) - 1 + 0.3)
    xlim = autoscale(float(np.min(xs_all)), float(np.max(xs_all)), Scale())
    ylim = autoscale(float(np.min(ys_all)), float(np.max(ys_all)), Scale()) if ys_all else (0.0, 1.0)
    ylabel, xlabel = p.ylabel or p.value_var, p.xlabel
    xt = ticks(*xlim, Scale(), 1.0, "x", fixed=np.arange(len(points), dtype=float))
    xt.labels = list(labels)
    yt0 = ticks(*ylim, Scale(), 0.77 * h_pt, "y")
    x0, y0, x1, y1 = _box(w_pt, h_pt, ylabel_need(yt0, ylabel), 0.0, line_metrics("lp", 9.0)[1] / 2,
                          xlabel_need(xt, xlabel))
    f = Frame(x0, y0, x1, y1, xlim, ylim)
    yt = f.yticks()
    draw_grid(c, f, None, yt)
    draw_xaxis(c, f, xt, xlabel)
    draw_yaxis(c, f, yt, ylabel)
    for i, (v, x) in enumerate(zip(points, offsets)):
        c.markers(f.px(x), f.py(v), "o", float(np.sqrt(18.0)), palette[i % len(palette)],
                  edge_lw=1.5, clip=f.clip)          # scatter: s=18 pt^2, edge lines.linewidth
    for i, v in enumerate(points):
        if v.size:
            y = float(f.py(float(np.median(v))))
            c.line(f.px([i - 0.3, i + 0.3]), [y, y], "black", 1.5, clip=f.clip, cap="butt")
    draw_spines(c, f)
    return c
