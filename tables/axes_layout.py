"""Axes on a `Canvas`: scales, ticks, spines, grid, labels, legends and margins, as matplotlib's
default style draws them (font.size 9, top/right spines off), without its artists.

Ticks come from matplotlib's own locator and formatter objects used standalone (`MaxNLocator` with
the `AutoLocator` steps, `LogLocator`, `SymmetricalLogLocator`, `ScalarFormatter`,
`LogFormatterSciNotation`), given the number of ticks the axis has room for exactly as
`XAxis.get_tick_space`/`YAxis.get_tick_space` compute it, so tick choices are matplotlib's.
Margins are fitted from the measured extents of what sits outside the plot area (tick labels,
axis labels, titles, an outside legend), with the padding of `tight_layout` (1.08 x font size).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from matplotlib import ticker
from matplotlib.scale import LogTransform, SymmetricalLogTransform

from .canvas import Canvas, Clip, Text, line_metrics, text_box

FONT_SIZE = 9.0
TICK_LEN, TICK_PAD, TICK_W = 3.5, 3.5, 0.8
MINOR_LEN, MINOR_W = 2.0, 0.6
LABEL_PAD = 4.0
SPINE_W = 0.8
TITLE_PAD = 6.0
LAYOUT_PAD = 1.08 * FONT_SIZE
GRID = "#b0b0b0"
GRID_W = 0.8
MARGIN = 0.05                 # axes.xmargin / ymargin


@dataclass(frozen=True)
class Scale:
    kind: str = "linear"      # linear | log | symlog
    linthresh: float = 28.0
    linscale: float = 1.0

    def _tr(self):
        got = self.__dict__.get("_trans")
        if got is None:
            got = self.__dict__["_trans"] = (LogTransform(10) if self.kind == "log" else
                                             SymmetricalLogTransform(10, self.linthresh, self.linscale))
        return got

    def fwd(self, v) -> np.ndarray:
        v = np.asarray(v, dtype=float)
        if self.kind == "linear":
            return v
        with np.errstate(divide="ignore", invalid="ignore"):
            return self._tr().transform_non_affine(v.reshape(-1, 1)).reshape(v.shape)

    def inv(self, u: float) -> float:
        if self.kind == "linear":
            return float(u)
        return float(self._tr().inverted().transform_non_affine(np.array([[u]], dtype=float))[0, 0])


def autoscale(lo: float, hi: float, scale: Scale, sticky_lo: float | None = None,
              sticky_hi: float | None = None) -> tuple[float, float]:
    """View limits from data limits as matplotlib's autoscale: 5 % margins in the scale's own space,
    not crossing a sticky edge (a bar's base) that lies at the data limit."""
    a, b = scale.fwd([lo, hi])
    if a == b:                          # one value: a unit around it (matplotlib's nonsingular)
        a, b = a - 1, b + 1
    d = (b - a) * MARGIN
    new_lo, new_hi = scale.inv(a - d), scale.inv(b + d)
    if sticky_lo is not None and sticky_lo >= new_lo and sticky_lo <= lo:
        new_lo = sticky_lo
    if sticky_hi is not None and sticky_hi <= new_hi and sticky_hi >= hi:
        new_hi = sticky_hi
    return new_lo, new_hi


@dataclass
class Ticks:
    major: np.ndarray
    labels: list
    minor: np.ndarray
    math: bool = False         # labels are "10^{k}"


def tick_space(length_pt: float, axis: str, size: float = FONT_SIZE) -> int:
    """How many ticks fit (matplotlib's `get_tick_space`: 3 x font size per x tick, 2 x per y tick)."""
    return int(np.floor(length_pt / (size * (3 if axis == "x" else 2))))


def _within(v: np.ndarray, lo: float, hi: float, scale: Scale) -> np.ndarray:
    """Ticks inside the view (with matplotlib's small tolerance in transformed space)."""
    a, b = sorted(scale.fwd([lo, hi]))
    u = scale.fwd(v)
    tol = 1e-10 * max(abs(b - a), 1e-300)
    with np.errstate(invalid="ignore"):
        return v[(u >= a - tol) & (u <= b + tol)]


def _dummy(obj, lo, hi, space):
    obj.create_dummy_axis()
    obj.axis.set_view_interval(lo, hi)
    obj.axis.set_data_interval(lo, hi)
    obj.axis.get_tick_space = lambda: space
    return obj


def ticks(lo: float, hi: float, scale: Scale, length_pt: float, axis: str, fixed=None, fmt=None) -> Ticks:
    """Major ticks with labels and minor ticks for the view [lo, hi] of an axis `length_pt` long (the
    panels of a page share limits and size: computed once for them)."""
    if fixed is None:
        got = _auto_ticks(float(lo), float(hi), scale, tick_space(length_pt, axis), axis, fmt)
        return Ticks(got.major, list(got.labels), got.minor, got.math)
    return _ticks(lo, hi, scale, length_pt, axis, fixed, fmt)


@lru_cache(maxsize=256)
def _auto_ticks(lo: float, hi: float, scale: Scale, space: int, axis: str, fmt) -> Ticks:
    return _ticks(lo, hi, scale, (space + 0.5) * FONT_SIZE * (3 if axis == "x" else 2), axis, None, fmt)


def _ticks(lo: float, hi: float, scale: Scale, length_pt: float, axis: str, fixed=None, fmt=None) -> Ticks:
    space = tick_space(length_pt, axis)
    if fixed is not None:
        major = _within(np.asarray(fixed, dtype=float), lo, hi, scale)
        minor = np.array([])
    elif scale.kind == "linear":
        loc = _dummy(ticker.MaxNLocator(nbins="auto", steps=[1, 2, 2.5, 5, 10]), lo, hi, space)
        major, minor = _within(np.asarray(loc(), dtype=float), lo, hi, scale), np.array([])
    elif scale.kind == "log":
        loc = _dummy(ticker.LogLocator(10), lo, hi, space)
        major = _within(np.asarray(loc(), dtype=float), lo, hi, scale)
        mloc = _dummy(ticker.LogLocator(10, subs="auto"), lo, hi, space)
        minor = _within(np.asarray(mloc(), dtype=float), lo, hi, scale)
    else:
        tr = SymmetricalLogTransform(10, scale.linthresh, scale.linscale)
        loc = _dummy(ticker.SymmetricalLogLocator(tr), lo, hi, space)
        major = _within(np.asarray(loc(), dtype=float), lo, hi, scale)
        minor = np.array([])
    minor = minor[~np.isin(minor, major)] if len(minor) else minor
    math = False
    if fmt is not None:
        labels = [fmt(v) for v in major]
    elif scale.kind == "log":
        f = _dummy(ticker.LogFormatterSciNotation(10), lo, hi, space)
        f.set_locs(major)
        labels = [_power(f(v)) for v in major]
        math = True
    else:
        f = _dummy(ticker.ScalarFormatter(), lo, hi, space)
        f.set_locs(major)
        labels = [f(v) for v in major]
    return Ticks(major, labels, minor, math)


def _power(label: str) -> str:
    """matplotlib's "$\\mathdefault{10^{2}}$" as "10^{2}" (the canvas draws it as a power again)."""
    inner = label.replace("$", "").replace("\\mathdefault{", "", 1)
    return inner[:-1] if inner.endswith("}") and inner.count("{") < inner.count("}") else inner


def label_width(t: Ticks, size: float = FONT_SIZE) -> float:
    return max((text_box(s, size, "normal", t.math)[0] for s in t.labels if s), default=0.0)


def label_height(t: Ticks, size: float = FONT_SIZE) -> float:
    return max((text_box(s, size, "normal", t.math)[1] for s in t.labels if s), default=0.0)


@dataclass
class Frame:
    """A plot area at (x0, y0)-(x1, y1) page points showing [xlo, xhi] x [ylo, yhi]."""
    x0: float
    y0: float
    x1: float
    y1: float
    xlim: tuple
    ylim: tuple
    xscale: Scale = field(default_factory=Scale)
    yscale: Scale = field(default_factory=Scale)

    @property
    def clip(self) -> Clip:
        return Clip(self.x0, self.y0, self.x1, self.y1)

    def px(self, v) -> np.ndarray:
        a, b = self.xscale.fwd(self.xlim)
        return self.x0 + (self.xscale.fwd(v) - a) / (b - a) * (self.x1 - self.x0)

    def py(self, v) -> np.ndarray:
        a, b = self.yscale.fwd(self.ylim)
        return self.y1 - (self.yscale.fwd(v) - a) / (b - a) * (self.y1 - self.y0)

    def xticks(self, fixed=None, fmt=None) -> Ticks:
        return ticks(*self.xlim, self.xscale, self.x1 - self.x0, "x", fixed, fmt)

    def yticks(self, fixed=None, fmt=None) -> Ticks:
        return ticks(*self.ylim, self.yscale, self.y1 - self.y0, "y", fixed, fmt)


def draw_grid(c: Canvas, f: Frame, xt: Ticks | None, yt: Ticks | None, alpha: float = 0.25) -> None:
    """Major grid lines, drawn where matplotlib draws them (with the axis, below the data lines)."""
    for v in (xt.major if xt is not None else []):
        x = float(f.px(v))
        c.line([x, x], [f.y0, f.y1], GRID, GRID_W, alpha=alpha, clip=f.clip)
    for v in (yt.major if yt is not None else []):
        y = float(f.py(v))
        c.line([f.x0, f.x1], [y, y], GRID, GRID_W, alpha=alpha, clip=f.clip)


def draw_xaxis(c: Canvas, f: Frame, t: Ticks, label: str | None = None, show_labels: bool = True,
               size: float = FONT_SIZE, rotation: float = 0.0, label_size: float = FONT_SIZE) -> float:
    """Bottom tick marks, tick labels and the axis label; returns the lowest page y used."""
    xs = f.px(t.major)
    for x in xs:
        c.line([x, x], [f.y1, f.y1 + TICK_LEN], "#000000", TICK_W, cap="butt")
    for x in f.px(t.minor):
        c.line([x, x], [f.y1, f.y1 + MINOR_LEN], "#000000", MINOR_W, cap="butt")
    bottom = f.y1 + TICK_LEN
    if show_labels:
        y = f.y1 + TICK_LEN + TICK_PAD
        for x, s in zip(xs, t.labels):
            if s:
                c.text(x, y, s, size=size, ha="center", va="top", rotation=rotation, math=t.math)
        bottom = y + xlabels_depth(t, size, rotation)
    if label:
        c.text((f.x0 + f.x1) / 2, bottom + LABEL_PAD, label, size=label_size, ha="center", va="top")
        bottom += LABEL_PAD + text_box(label, label_size)[1]
    return bottom


def xlabels_depth(t: Ticks, size: float = FONT_SIZE, rotation: float = 0.0) -> float:
    if not any(t.labels):
        return 0.0
    if rotation:
        return label_width(t, size)
    return label_height(t, size)


def draw_yaxis(c: Canvas, f: Frame, t: Ticks, label: str | None = None, show_labels: bool = True,
               size: float = FONT_SIZE, label_size: float = FONT_SIZE, colours=None) -> float:
    """Left tick marks, tick labels and the axis label; returns the leftmost page x used."""
    ys = f.py(t.major)
    for y in ys:
        c.line([f.x0 - TICK_LEN, f.x0], [y, y], "#000000", TICK_W, cap="butt")
    for y in f.py(t.minor):
        c.line([f.x0 - MINOR_LEN, f.x0], [y, y], "#000000", MINOR_W, cap="butt")
    left = f.x0 - TICK_LEN
    if show_labels:
        x = f.x0 - TICK_LEN - TICK_PAD
        for k, (y, s) in enumerate(zip(ys, t.labels)):
            if s:
                c.text(x, y, s, size=size, ha="right", va="center_baseline", math=t.math,
                       colour=colours[k] if colours else "#000000")
        left = x - label_width(t, size)
    if label:
        c.text(left - LABEL_PAD, (f.y0 + f.y1) / 2, label, size=label_size, ha="right", va="center", rotation=90)
        left -= LABEL_PAD + text_box(label, label_size)[1]
    return left


def draw_spines(c: Canvas, f: Frame, sides=("left", "bottom")) -> None:
    if "left" in sides:
        c.line([f.x0, f.x0], [f.y0, f.y1], "#000000", SPINE_W, cap="projecting")
    if "bottom" in sides:
        c.line([f.x0, f.x1], [f.y1, f.y1], "#000000", SPINE_W, cap="projecting")


def ylabel_need(t: Ticks, label: str | None, size: float = FONT_SIZE, label_size: float = FONT_SIZE) -> float:
    """Room left of the plot area for y tick marks, tick labels and the axis label."""
    need = TICK_LEN + (TICK_PAD + label_width(t, size) if any(t.labels) else 0.0)
    if label:
        need += LABEL_PAD + text_box(label, label_size)[1]
    return need


def xlabel_need(t: Ticks, label: str | None, size: float = FONT_SIZE, rotation: float = 0.0,
                label_size: float = FONT_SIZE) -> float:
    need = TICK_LEN + (TICK_PAD + xlabels_depth(t, size, rotation) if any(t.labels) else 0.0)
    if label:
        need += LABEL_PAD + text_box(label, label_size)[1]
    return need


# --- legends ---------------------------------------------------------------------------------------

@dataclass
class Entry:
    """One legend row: a handle ("rect" face/edge/lw, "marker" shape/size/colour, "line" colour/lw with an
    optional marker) and its text."""
    label: str
    kind: str
    colour: str
    edge: str | None = None
    lw: float = 0.0
    marker: str | None = None
    size: float = 0.0
    alpha: float = 1.0


TITLE_SIZE = FONT_SIZE        # a legend title is drawn at font.size (legend.title_fontsize unset)
LEG = {"borderpad": 0.4, "labelspacing": 0.5, "handlelength": 2.0, "handleheight": 0.7,
       "handletextpad": 0.8, "borderaxespad": 0.5}


def legend_size(entries: list, size: float = 8.0, title: str | None = None) -> tuple[float, float]:
    """Width and height in points of a legend box (matplotlib's default spacings, in font-size units)."""
    if not entries and not title:
        return 0.0, 0.0
    rows = [max(line_metrics(e.label, size)[1], LEG["handleheight"] * size) for e in entries]
    width = max((LEG["handlelength"] + LEG["handletextpad"]) * size + line_metrics(e.label, size)[0] for e in entries)
    height = sum(rows) + LEG["labelspacing"] * size * max(len(rows) - 1, 0)
    if title:
        tw, th = text_box(title, TITLE_SIZE)
        width = max(width, tw)
        height += th + LEG["labelspacing"] * size
    pad = LEG["borderpad"] * size
    return width + 2 * pad, height + 2 * pad


def draw_legend(c: Canvas, x: float, y: float, entries: list, size: float = 8.0, title: str | None = None,
                frame: bool = False) -> tuple[float, float]:
    """A legend whose box's top-left corner is at (x, y); returns its width and height."""
    w, h = legend_size(entries, size, title)
    if frame:
        c.rects([x], [y], [w], [h], ["#ffffff"], edge="#cccccc", lw=0.8)
    pad = LEG["borderpad"] * size
    top = y + pad
    if title:
        c.text(x + w / 2, top, title, size=TITLE_SIZE, ha="center", va="top")
        top += text_box(title, TITLE_SIZE)[1] + LEG["labelspacing"] * size
    hl = LEG["handlelength"] * size
    hh = LEG["handleheight"] * size
    for e in entries:
        rh = max(line_metrics(e.label, size)[1], hh)
        mid = top + rh / 2
        hx = x + pad
        if e.kind == "rect":
            c.rects([hx], [mid - hh / 2], [hl], [hh], [e.colour], edge=e.edge, lw=e.lw)
        if e.kind in ("line", "errorbar"):
            c.line([hx, hx + hl], [mid, mid], e.colour, e.lw, alpha=e.alpha)
        if e.kind == "errorbar":          # matplotlib's errorbar handle: a capped bar through the marker
            c.line([hx + hl / 2] * 2, [mid - hh / 2 - 1.0, mid + hh / 2 + 1.0], e.colour, e.lw, cap="butt")
            c.markers([hx + hl / 2] * 2, [mid - hh / 2 - 1.0, mid + hh / 2 + 1.0], "_", 4.0, e.colour)
        if e.marker:
            c.markers([hx + hl / 2], [mid], e.marker, e.size, e.colour, alpha=e.alpha,
                      edge_lw=e.lw if e.marker == "|" else 1.0)
        c.text(hx + hl + LEG["handletextpad"] * size, mid, e.label, size=size, ha="left", va="center")
        top += rh + LEG["labelspacing"] * size
    return w, h


def legend_entries_text(entries: list) -> list[str]:
    return [e.label for e in entries]


__all__ = ["Scale", "Frame", "Ticks", "Entry", "Text", "autoscale", "ticks", "draw_grid", "draw_xaxis",
           "draw_yaxis", "draw_spines", "draw_legend", "legend_size", "ylabel_need", "xlabel_need"]
