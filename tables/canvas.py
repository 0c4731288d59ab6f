"""A page of a CSR figure as a list of drawing primitives, in points with y down from the top left.

The per-subject figures used to be matplotlib Figures: a Tick is five artists, every text is laid
out as an artist, every bar is a patch drawn one by one. A page here is a plain list of primitives
(rectangles in bulk, polylines, markers in bulk, text) that two back ends draw the same way:
`canvas_png` (matplotlib's Agg renderer, the same antialiasing and fonts as before, without
artists; text through Pillow's FreeType) and `canvas_svg` (text written directly). Text is measured
with the same DejaVu Sans at the PNG resolution (advance widths from FreeType, line heights from the
font's ascent and descent as matplotlib 3.11 uses them), so margins come from measured extents, not
from a layout engine.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

DPI = 120                      # pixels per inch of the PNG
FONT = "DejaVu Sans"


@dataclass(frozen=True)
class Clip:
    """A clipping rectangle in points (x0, y0 top, x1, y1 bottom)."""
    x0: float
    y0: float
    x1: float
    y1: float


@dataclass
class Rects:
    x: np.ndarray              # left edges
    y: np.ndarray              # top edges
    w: np.ndarray
    h: np.ndarray
    faces: list                # one colour per rectangle (hex or None for no fill)
    edge: str | None
    lw: float
    clip: Clip | None = None


@dataclass
class Polyline:
    x: np.ndarray
    y: np.ndarray
    colour: str
    lw: float
    dash: tuple | None = None  # (on, off) in points
    alpha: float = 1.0
    clip: Clip | None = None
    cap: str = "projecting"    # matplotlib's solid line cap; dashed lines use butt


@dataclass
class Markers:
    x: np.ndarray
    y: np.ndarray
    shape: str                 # matplotlib marker code: ^ s X o |
    size: float                # points, as matplotlib's markersize
    colour: str
    edge_lw: float = 1.0
    alpha: float = 1.0
    clip: Clip | None = None


@dataclass
class Text:
    x: float
    y: float
    s: str
    size: float = 9.0
    colour: str = "#000000"
    ha: str = "left"           # left | center | right
    va: str = "baseline"       # top | center | baseline | bottom | center_baseline (as matplotlib)
    rotation: float = 0.0      # degrees, counter-clockwise
    weight: str = "normal"
    math: bool = False         # s is a power of ten "10^{k}" (log axis labels)


@dataclass
class Canvas:
    """A page `width` x `height` inches; primitives are drawn in the order they were added."""
    width: float
    height: float
    items: list = field(default_factory=list)

    @property
    def size_pt(self) -> tuple[float, float]:
        return self.width * 72.0, self.height * 72.0

    def rects(self, x, y, w, h, faces, edge=None, lw=0.0, clip=None) -> None:
        x, y, w, h = (np.asarray(v, dtype=float) for v in (x, y, w, h))
        faces = list(faces) if not isinstance(faces, str) else [faces] * len(x)
        keep = np.isfinite(x) & np.isfinite(y) & np.isfinite(w) & np.isfinite(h)     # a missing value: no bar
        if not keep.all():
            x, y, w, h = x[keep], y[keep], w[keep], h[keep]
            faces = [f for f, k in zip(faces, keep) if k]
        self.items.append(Rects(x, y, w, h, faces, edge, lw, clip))

    def line(self, x, y, colour, lw, dash=None, alpha=1.0, clip=None, cap=None) -> None:
        if type(x) is list and type(y) is list and len(x) == len(y) and _finite(x) and _finite(y):
            # a tick, grid line or spine (a page draws thousands): the general path's arrays, without
            # its masks (every point kept)
            if len(x) >= 2:
                self.items.append(Polyline(np.array(x, dtype=float), np.array(y, dtype=float), colour, lw, dash,
                                           alpha, clip, cap or ("butt" if dash else "projecting")))
            return
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        keep = np.isfinite(x) & np.isfinite(y)
        if keep.sum() >= 2:
            self.items.append(Polyline(x[keep], y[keep], colour, lw, dash, alpha, clip,
                                       cap or ("butt" if dash else "projecting")))

    def markers(self, x, y, shape, size, colour, edge_lw=1.0, alpha=1.0, clip=None) -> None:
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        keep = np.isfinite(x) & np.isfinite(y)
        if keep.any():
            self.items.append(Markers(x[keep], y[keep], shape, size, colour, edge_lw, alpha, clip))

    def text(self, x, y, s, **kw) -> None:
        self.items.append(Text(float(x), float(y), str(s), **kw))


def _finite(values: list) -> bool:
    """Every value a finite real number (False for anything `math.isfinite` cannot read)."""
    try:
        return all(map(math.isfinite, values))
    except TypeError:
        return False


# --- text metrics ----------------------------------------------------------------------------------

SUP_SCALE, SUP_RAISE = 0.7, 0.45     # a power's exponent: size and baseline shift, in font sizes


def power_parts(s: str) -> tuple[str, str]:
    """"10^{3}" -> ("10", "3")."""
    base, _, exp = s.partition("^")
    return base, exp.strip("{}")


@lru_cache(maxsize=64)
def marker_style(shape: str):
    """matplotlib's MarkerStyle of a marker code, one per code (read only: its path, transform, join and cap
    styles): making one per marker series cost more than drawing the series."""
    from matplotlib.markers import MarkerStyle
    return MarkerStyle(shape)


@lru_cache(maxsize=64)
def font(size: float, weight: str = "normal"):
    from matplotlib.font_manager import FontProperties
    return FontProperties(family=FONT, size=size, weight=weight)


@lru_cache(maxsize=64)
def font_file(weight: str = "normal") -> str:
    """The DejaVu Sans file matplotlib ships (the font every figure used before)."""
    from matplotlib.font_manager import findfont
    return findfont(font(9.0, weight))


@lru_cache(maxsize=64)
def pil_font(size: float, weight: str = "normal"):
    """The FreeType font at `size` points on the 120 dpi page (Pillow: layout and glyphs in C, no
    per-string Python objects; kerning as FreeType gives it)."""
    from PIL import ImageFont
    return ImageFont.truetype(font_file(weight), size * DPI / 72.0, layout_engine=ImageFont.Layout.BASIC)


@lru_cache(maxsize=64)
def text_length(size: float, weight: str = "normal"):
    """`pil_font(size, weight).getlength` as a sum of remembered character lengths and pair kernings
    (`rtf_metrics._PairwiseLength`). Exact for this font's basic layout (Pillow's `Layout.BASIC`: one glyph per
    character, advanced by its width plus the kerning of its pair with the next, lengths in 1/64 pixel), for
    any text; compared with `getlength` in tests/test_figures_canvas.py. Why: every subject label of a
    per-subject figure is measured (~17 us each through Pillow's layout, ~1,600 labels at 1,000 subjects)."""
    from .rtf_metrics import _PairwiseLength
    return _PairwiseLength(pil_font(size, weight))


@lru_cache(maxsize=65536)
def extent(s: str, size: float, weight: str = "normal", math: bool = False) -> tuple[float, float, float]:
    """(width, height, descent) of one line in points: the advance width of the string at 120 dpi and the
    font's ascent and descent (a power's exponent raises the top)."""
    asc, desc, _ = font_vmetrics(size, weight)
    k = 72.0 / DPI
    if math:
        base, exp = power_parts(s)
        w = (text_length(size, weight)(base) + text_length(size * SUP_SCALE, weight)(exp)) * k
        return w, max(asc, SUP_RAISE * size + SUP_SCALE * asc) + desc, desc
    return text_length(size, weight)(s) * k, asc + desc, desc


@lru_cache(maxsize=64)
def font_vmetrics(size: float, weight: str = "normal") -> tuple[float, float, float]:
    """The font's (ascent, descent, line gap) in points from its OS/2 (else hhea) table: the least room
    matplotlib gives a line, so lines of one size share their baselines whatever their letters."""
    from matplotlib.font_manager import get_font
    f = get_font(font_file(weight))
    scale = size / f.get_sfnt_table("head")["unitsPerEm"]
    for table, gap, asc, desc in (("OS/2", "sTypoLineGap", "sTypoAscender", "sTypoDescender"),
                                  ("hhea", "lineGap", "ascent", "descent")):
        got = f.get_sfnt_table(table)
        if got is not None:
            return got[asc] * scale, -got[desc] * scale, got[gap] * scale
    return 0.76 * size, 0.24 * size, 0.0


def line_metrics(s: str, size: float, weight: str = "normal", math: bool = False, gap: float = 0.0):
    """Width, ascent + descent and descent of a line as matplotlib lays it out: at least the font's
    ascent and descent, plus half the line gap above and below on multi-line texts."""
    w, h, d = extent(s, size, weight, math) if s else (0.0, 0.0, 0.0)
    asc, desc, _ = font_vmetrics(size, weight)
    a = max(h - d, asc) + gap / 2
    d = max(d, desc) + gap / 2
    return w, a + d, d


def layout(t: Text) -> list[tuple[float, float, float, str]]:
    """Each line of `t` as (x, y, width, text): the baseline-left point of the line in page points,
    placed as matplotlib 3.11 places a Text (rotated bounding box aligned at the anchor). Remembered by
    value: the PNG and the SVG of a page lay out the same texts."""
    return _layout(t.x, t.y, t.s, t.size, t.ha, t.va, t.rotation, t.weight, t.math)


@lru_cache(maxsize=8192)
def _layout(x, y, s, size, ha, va, rotation, weight, math_) -> tuple:
    return tuple(_place(Text(x, y, s, size, "#000000", ha, va, rotation, weight, math_)))


def _place(t: Text) -> list[tuple[float, float, float, str]]:
    lines = t.s.split("\n")
    gap = font_vmetrics(t.size, t.weight)[2] if len(lines) > 1 else 0.0
    metrics = [line_metrics(line, t.size, t.weight, t.math, gap) for line in lines]
    ys, y, baseline = [], 0.0, 0.0
    for _, h, d in metrics:
        baseline = (h - d) - y
        y -= h - d
        ys.append(y)
        y -= d
    width = max(m[0] for m in metrics)
    bottom = y
    xs = [{"left": 0.0, "center": (width - w) / 2, "right": width - w}[t.ha] for w, _, _ in metrics]
    # box corners (y up, origin at the box's top left), rotated about that origin
    th = math.radians(t.rotation)
    c, s = math.cos(th), math.sin(th)
    corners = [(0.0, 0.0), (width, 0.0), (width, bottom), (0.0, bottom)]
    rx = [cx * c - cy * s for cx, cy in corners]
    ry = [cx * s + cy * c for cx, cy in corners]
    ax_ = {"left": min(rx), "center": (min(rx) + max(rx)) / 2, "right": max(rx)}[t.ha]
    ay_ = {"top": max(ry), "center": (min(ry) + max(ry)) / 2, "bottom": min(ry),
           "baseline": min(ry) + metrics[-1][2], "center_baseline": max(ry) - baseline / 2}[t.va]
    out = []
    for (w, _, _), lx, ly, text in zip(metrics, xs, ys, lines):
        px = lx * c - ly * s - ax_
        py = lx * s + ly * c - ay_
        out.append((t.x + px, t.y - py, w, text))     # page y runs down
    return out


def text_box(s: str, size: float, weight: str = "normal", math: bool = False) -> tuple[float, float]:
    """Width and height in points of an unrotated (possibly multi-line) text."""
    lines = s.split("\n")
    gap = font_vmetrics(size, weight)[2] if len(lines) > 1 else 0.0
    metrics = [line_metrics(line, size, weight, math, gap) for line in lines]
    return max(m[0] for m in metrics), sum(m[1] for m in metrics)
