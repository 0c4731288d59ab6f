"""CSR figures with matplotlib (Agg): KM with numbers at risk, waterfall, swimmer, spider, mean PK.

Each draw function returns the figure and the plotted numbers as a frame; the numbers go to JSON next
to the picture so a test (or a reviewer) can check what was drawn without reading pixels.
"""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from ..errors import SpecError  # noqa: E402
from .engine import KEY, Context, need, query  # noqa: E402
from .km import at_risk, kaplan_meier  # noqa: E402
from .spec import KMPlot, MeanConcentration, Spider, Swimmer, Waterfall  # noqa: E402

PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf",
           "#7f7f7f", "#bcbd22"]
PASTEL = ["#a6cee3", "#cab2d6", "#fdbf6f", "#b2df8a", "#d9d9d9", "#fccde5", "#ffffb3", "#bebada",
          "#80b1d3", "#ccebc5"]
BOR_COLOURS = {"CR": "#1a9850", "PR": "#91cf60", "SD": "#fee08b", "NON-CR/NON-PD": "#d9ef8b",
               "PD": "#d73027", "NE": "#bdbdbd", "MISSING": "#f0f0f0"}
SAS_EPOCH = pd.Timestamp("1960-01-01")

STYLE = {"svg.hashsalt": "trialforge", "svg.fonttype": "none", "font.family": "DejaVu Sans",
         "font.size": 9, "axes.spines.top": False, "axes.spines.right": False}


def as_days(s: pd.Series) -> pd.Series:
    """SAS date numbers pass through; dates/datetimes (as pyreadstat returns them) become SAS day numbers."""
    if pd.api.types.is_numeric_dtype(s):
        return s.astype(float)
    dt = pd.to_datetime(s, errors="coerce")
    return (dt - SAS_EPOCH).dt.days.astype(float)


def _with_group(frame: pd.DataFrame, ctx: Context, var: str) -> pd.DataFrame:
    """Attach the grouping variable from ADSL (the single source of treatment assignment)."""
    return frame.drop(columns=[var], errors="ignore").merge(ctx.adsl[[KEY, var]], on=KEY, how="left")


def _groups(ctx: Context, var: str, order: str | None) -> list[str]:
    need(ctx.adsl, [var] + ([order] if order else []), output=ctx.output, dataset="ADSL")
    by = list(dict.fromkeys(([order] if order else []) + [var]))
    return ctx.adsl[by].drop_duplicates(var).sort_values(by, kind="mergesort")[var].astype(str).tolist()


def draw_km(p: KMPlot, ctx: Context):
    recs = ctx.data(p.dataset, f"PARAMCD == {p.paramcd!r}")
    recs = _with_group(recs, ctx, p.group_var)
    groups = [g for g in _groups(ctx, p.group_var, p.group_order) if (recs[p.group_var].astype(str) == g).any()]
    tmax = float((recs["AVAL"] / p.days_per_unit).max()) if len(recs) else 1.0
    grid = np.arange(0, tmax + p.tick_every, p.tick_every)
    fig = plt.figure(figsize=(9, 6.2))
    table_h = 0.035 * (len(groups) + 1)
    ax = fig.add_axes([0.12, 0.14 + table_h, 0.84, 0.80 - table_h])
    rows, risk_rows = [], []
    for i, g in enumerate(groups):
        sub = recs[recs[p.group_var].astype(str) == g]
        fit = kaplan_meier(sub["AVAL"] / p.days_per_unit, 1 - sub["CNSR"].astype(int))
        tab = fit.table
        xs = np.r_[tab["time"].to_numpy(), fit.times.max()]
        ys = np.r_[tab["surv"].to_numpy(), tab["surv"].iloc[-1]]
        colour = PALETTE[i % len(PALETTE)]
        ax.step(xs, ys, where="post", color=colour, lw=1.6, label=f"{g} (n={fit.n}, events={fit.n_events})")
        cens = fit.times[fit.events == 0]
        cens_y = [float(tab.loc[tab["time"] <= c, "surv"].iloc[-1]) for c in cens]
        ax.plot(cens, cens_y, "|", color=colour, ms=8, mew=1.4)
        for _, r in tab.iterrows():
            rows.append({"group": g, "time": r["time"], "surv": r["surv"], "n_risk": r["n_risk"]})
        risk_rows.append((g, colour, at_risk(fit, grid)))
    ax.set_xlim(0, grid[-1])
    ax.set_ylim(0, 1.02)
    ax.set_xticks(grid)
    ax.set_xlabel(f"Time ({p.unit})")
    ax.set_ylabel(p.ylabel)
    ax.grid(alpha=0.25)
    ax.legend(loc="upper right", frameon=True, framealpha=0.9, edgecolor="#cccccc", fontsize=8)
    # numbers-at-risk table under the x axis, aligned with the ticks
    fig.text(0.01, table_h + 0.012, "Number at risk", fontsize=8, fontweight="bold")
    for k, (g, colour, counts) in enumerate(risk_rows):
        y = 0.035 * (len(groups) - k) + 0.005
        fig.text(0.01, y, g, fontsize=8, color=colour)
        for t, n in zip(grid, counts):
            x = ax.transData.transform((t, 0))[0] / fig.bbox.width
            fig.text(x, y, str(n), fontsize=8, ha="center", color=colour)
        for t, n in zip(grid, counts):
            rows.append({"group": g, "time": float(t), "at_risk": n})
    return fig, pd.DataFrame(rows)


def _tumour(ctx: Context, datasets, where: str) -> pd.DataFrame:
    for name in datasets:
        if name.upper() in ctx.adam:
            frame = ctx.data(name, None)
            if "PARAMCD" in frame and len(query(frame, where, output=ctx.output, dataset=name)):
                return query(frame, where, output=ctx.output, dataset=name)
    raise SpecError(f"output {ctx.output}: no tumour measurements in {', '.join(datasets)}",
                    value=where)


def draw_waterfall(p: Waterfall, ctx: Context):
    tr = _tumour(ctx, p.tumour_datasets, p.tumour_where)
    best = tr.groupby(KEY)[p.pchg_var].min().dropna()
    bor = ctx.data(p.bor_dataset, p.bor_where).drop_duplicates(KEY).set_index(KEY)[p.bor_var]
    df = pd.DataFrame({"best_pchg": best}).join(bor.rename("bor"))
    df["bor"] = df["bor"].fillna("MISSING").astype(str)
    df = df.reset_index().sort_values(["best_pchg", KEY], ascending=[False, True], kind="mergesort")
    fig, ax = plt.subplots(figsize=(9, 5))
    x = np.arange(len(df))
    ax.bar(x, df["best_pchg"], color=[BOR_COLOURS.get(b, "#777777") for b in df["bor"]],
           edgecolor="#333333", linewidth=0.4)
    for y, style in ((20, "--"), (-30, "--")):
        ax.axhline(y, color="#555555", lw=0.8, ls=style)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks(x)
    ax.set_xticklabels(df[KEY].str.split("-").str[-1], rotation=90, fontsize=7)
    ax.set_xlabel("Subject")
    ax.set_ylabel("Best % change from baseline in sum of diameters")
    ax.set_ylim(-105, max(60.0, float(df["best_pchg"].max()) + 10) if len(df) else 60)
    present = [b for b in BOR_COLOURS if b in set(df["bor"])]
    handles = [plt.Rectangle((0, 0), 1, 1, color=BOR_COLOURS[b]) for b in present]
    ax.legend(handles, present, title="Best overall response", frameon=False, fontsize=8, loc="upper right")
    return fig, df.rename(columns={KEY: "USUBJID"})


def draw_swimmer(p: Swimmer, ctx: Context):
    adsl = ctx.adsl.copy()
    need(adsl, [p.start_var, p.end_var, p.death_var, p.group_var], output=ctx.output, dataset="ADSL")
    start = as_days(adsl[p.start_var])
    adsl["end"] = (as_days(adsl[p.end_var]) - start + 1) / p.days_per_unit
    adsl["death"] = (as_days(adsl[p.death_var]) - start + 1) / p.days_per_unit
    ovr = ctx.data(p.ovr_dataset, p.ovr_where)
    ovr = ovr.assign(t=(as_days(ovr["ADT"]) - ovr[KEY].map(dict(zip(adsl[KEY], start))) + 1) / p.days_per_unit)
    first_resp = ovr[ovr["AVALC"].isin(["CR", "PR"])].groupby(KEY)["t"].min()
    first_pd = ovr[ovr["AVALC"] == "PD"].groupby(KEY)["t"].min()
    adsl["resp"] = adsl[KEY].map(first_resp)
    adsl["pd"] = adsl[KEY].map(first_pd)
    groups = _groups(ctx, p.group_var, p.group_order)
    adsl["g"] = adsl[p.group_var].astype(str).map({g: i for i, g in enumerate(groups)})
    adsl = adsl.sort_values(["g", "end", KEY], ascending=[False, True, True], kind="mergesort")
    fig, ax = plt.subplots(figsize=(9, max(4.0, 0.28 * len(adsl) + 1.5)))
    y = np.arange(len(adsl))
    colours = [PASTEL[int(i) % len(PASTEL)] for i in adsl["g"]]
    ax.barh(y, adsl["end"], color=colours, height=0.6, edgecolor="#666666", linewidth=0.4)
    ax.plot(adsl["resp"], y, "^", color="#006d2c", ms=7, label="First response (CR/PR)")
    ax.plot(adsl["pd"], y, "s", color="#cb181d", ms=6, label="Progression")
    ax.plot(adsl["death"], y, "X", color="black", ms=7, label="Death")
    ax.set_yticks(y)
    ax.set_yticklabels(adsl[KEY].str.split("-").str[-1], fontsize=7)
    ax.set_xlabel(f"Time since infusion ({p.unit})")
    ax.set_ylabel("Subject")
    handles, labels = ax.get_legend_handles_labels()
    handles += [plt.Rectangle((0, 0), 1, 1, facecolor=PASTEL[i % len(PASTEL)], edgecolor="#666666",
                              linewidth=0.4) for i in range(len(groups))]
    labels += groups
    ax.legend(handles, labels, frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.subplots_adjust(left=0.08, right=0.78)
    data = adsl[[KEY, p.group_var, "end", "resp", "pd", "death"]].rename(columns={p.group_var: "group"})
    return fig, data


def draw_spider(p: Spider, ctx: Context):
    tr = _tumour(ctx, p.tumour_datasets, p.tumour_where)
    tr = _with_group(tr, ctx, p.group_var)
    tr = tr.assign(t=tr[p.day_var].clip(lower=0) / p.days_per_unit,
                   pchg=tr[p.pchg_var].fillna(0.0))
    groups = _groups(ctx, p.group_var, p.group_order)
    fig, ax = plt.subplots(figsize=(9, 5))
    for i, g in enumerate(groups):
        first = True
        for uid, sub in tr[tr[p.group_var].astype(str) == g].groupby(KEY, sort=True):
            sub = sub.sort_values("t")
            ax.plot(sub["t"], sub["pchg"], "-o", color=PALETTE[i % len(PALETTE)], lw=1, ms=3,
                    label=g if first else None)
            first = False
    ax.axhline(20, color="#555555", lw=0.8, ls="--")
    ax.axhline(-30, color="#555555", lw=0.8, ls="--")
    ax.axhline(0, color="black", lw=0.6)
    ax.set_xlabel(f"Time since infusion ({p.unit})")
    ax.set_ylabel("% change from baseline in sum of diameters")
    ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    data = tr[[KEY, p.group_var, "t", "pchg"]].rename(columns={p.group_var: "group"}) \
        .sort_values([KEY, "t"], kind="mergesort")
    return fig, data


def draw_mean_concentration(p: MeanConcentration, ctx: Context):
    pc = ctx.data(p.dataset, p.where)
    pc = _with_group(pc, ctx, p.group_var)
    vals = pd.to_numeric(pc[p.value_var], errors="coerce")
    if p.blq_var and p.blq_var in pc:
        vals = vals.where(pc[p.blq_var].astype(str) != "Y")
    pc = pc.assign(v=vals.where(vals > 0))
    summ = (pc.groupby([p.group_var, p.time_var])["v"].agg(["count", "mean", "std"]).reset_index())
    groups = [g for g in _groups(ctx, p.group_var, p.group_order) if (summ[p.group_var].astype(str) == g).any()]
    unit = str(pc[p.unit_var].dropna().iloc[0]) if p.unit_var in pc and pc[p.unit_var].notna().any() else ""
    fig, ax = plt.subplots(figsize=(9, 5))
    for i, g in enumerate(groups):
        s = summ[(summ[p.group_var].astype(str) == g) & (summ["mean"] > 0)]
        colour = PALETTE[i % len(PALETTE)]
        ax.errorbar(s[p.time_var], s["mean"], yerr=[np.zeros(len(s)), s["std"].fillna(0)], color=colour,
                    marker="o", ms=3, lw=1.2, capsize=2, label=g)
    ax.set_yscale("log")
    ax.set_xlabel(p.xlabel)
    ax.set_ylabel(f"Mean (+SD) concentration ({unit})" if unit else "Mean (+SD) concentration")
    ax.grid(alpha=0.25, which="both")
    ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig, summ.rename(columns={p.group_var: "group", p.time_var: "time"})


DRAW = {KMPlot: draw_km, Waterfall: draw_waterfall, Swimmer: draw_swimmer, Spider: draw_spider,
        MeanConcentration: draw_mean_concentration}


def render_figure(spec, adam: dict):
    """Draw one FigureSpec; returns (figure, plotted data)."""
    ctx = Context(spec.id, adam, spec.population, None)
    with plt.rc_context(STYLE):
        fig, data = DRAW[type(spec.plot)](spec.plot, ctx)
    return fig, data


def save_figure(fig, stem_path) -> list:
    """PNG and SVG without timestamps (SVG Date metadata off, fixed hash salt)."""
    out = []
    with plt.rc_context(STYLE):
        for ext, meta in (("png", {"Software": None}), ("svg", {"Date": None, "Creator": None})):
            path = stem_path.with_suffix("." + ext)
            fig.savefig(path, dpi=120, metadata=meta)
            out.append(path)
    plt.close(fig)
    return out
