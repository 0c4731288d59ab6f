"""Draw a `Canvas` to PNG: shapes with matplotlib's Agg renderer, text with Pillow's FreeType.

Shapes use the rasteriser, antialiasing and line caps matplotlib's savefig uses, called directly
(no Figure, Axes or Text artists): rectangles and polylines through `draw_path`, markers in bulk
through `draw_markers` (one call per marker series). Text is drawn after every shape (the figures
put no text under a shape) by Pillow in DejaVu Sans, antialiased: Agg's `draw_text` lays out and
renders glyph by glyph through Python (~4 ms per label, most of a 50-row swimmer page); Pillow does
it in C (~0.3 ms). Rotated text (90 degrees, the only angle the figures use) is drawn on a mask and
turned. The PNG file is written here (`encode_png`: RGB, the "up" filter on every row, one zlib
stream at level 3, only IHDR, pHYs, IDAT and IEND): no text or time chunks, so the same primitives give
the same bytes, and ~3x faster than Pillow's writer, whose adaptive per-row filtering was the largest
cost left on a figure page.
"""
from __future__ import annotations

import math
import struct
import zlib
from functools import lru_cache

import numpy as np
from matplotlib import rcParams
from matplotlib._enums import CapStyle, JoinStyle
from matplotlib.backends._backend_agg import RendererAgg
from matplotlib.colors import to_rgba
from matplotlib.path import Path
from matplotlib.transforms import Affine2D, Bbox, IdentityTransform
from PIL import Image, ImageDraw, ImageFont

from .canvas import (DPI, SUP_RAISE, SUP_SCALE, Canvas, Markers, Polyline, Rects, Text, font_vmetrics, layout,
                     marker_style, pil_font, power_parts)

PNG_COMPRESS = 3               # zlib level: on a figure page as small as Pillow's level 6 with the up filter


def _rgba(colour, alpha: float = 1.0):
    try:
        return _rgba_cached(colour, alpha)
    except TypeError:                       # an unhashable colour (a list of channels)
        return _rgba_cached.__wrapped__(colour, alpha)


@lru_cache(maxsize=1024)
def _rgba_cached(colour, alpha: float = 1.0):
    """Remembered: a page converts a few colours thousands of times."""
    r, g, b, a = to_rgba(colour)
    return (r, g, b, a * alpha)


class _GC:
    """The graphics context Agg's renderer reads: the attributes and getters of matplotlib's
    `backend_bases.GraphicsContextBase`, with its defaults and setters' conversions (checked against it in
    tests/test_tables_png_text.py). Why not that class: `matplotlib.backends.backend_agg` and
    `backend_bases` (tools, widgets, text, patches) cost ~0.3 s of CPU to import on every run, and the
    figures need Agg's C++ renderer only."""

    def __init__(self):
        self._alpha = 1.0
        self._forced_alpha = False
        self._antialiased = 1
        self._capstyle = CapStyle("butt")
        self._cliprect = None
        self._dashes = 0, None
        self._joinstyle = JoinStyle("round")
        self._linewidth = 1
        self._rgb = (0.0, 0.0, 0.0, 1.0)
        self._hatch_linewidth = rcParams["hatch.linewidth"]

    def set_clip_rectangle(self, rectangle) -> None:
        self._cliprect = rectangle

    def set_linewidth(self, w) -> None:
        self._linewidth = float(w)

    def set_joinstyle(self, js) -> None:
        self._joinstyle = JoinStyle(js)

    def set_capstyle(self, cs) -> None:
        self._capstyle = CapStyle(cs)

    def set_antialiased(self, b) -> None:
        self._antialiased = int(bool(b))

    def set_foreground(self, fg, isRGBA: bool = False) -> None:
        self._rgb = fg if isRGBA else to_rgba(fg)

    def set_dashes(self, dash_offset, dash_list) -> None:
        self._dashes = dash_offset, dash_list

    def get_dashes(self):
        return self._dashes

    def get_clip_path(self):
        return None, None

    def get_snap(self):
        return None

    def get_hatch_path(self):
        return None

    def get_hatch_color(self):
        return None

    def get_hatch_linewidth(self):
        return self._hatch_linewidth

    def get_sketch_params(self):
        return None

    def restore(self) -> None:
        """Nothing to restore (GraphicsContextBase's is a no-op too)."""


_CODE_LINETO = Path.LINETO
_RECT_CODES = np.array([Path.MOVETO, Path.LINETO, Path.LINETO, Path.LINETO, Path.CLOSEPOLY], dtype=Path.code_type)
_IDENTITY = IdentityTransform()


def _path(verts: np.ndarray, codes: np.ndarray | None) -> Path:
    """`Path(verts, codes)` for vertices already (n, 2) float64 and codes already `Path.code_type` (or None),
    without the constructor's checks and conversions (a page makes thousands of paths): the same attributes
    `Path.__init__` and its `_update_values` set, so Agg reads the same path (simplification included)."""
    p = Path.__new__(Path)
    p._vertices = verts
    p._codes = codes
    p._interpolation_steps = 1
    p._simplify_threshold = threshold = rcParams["path.simplify_threshold"]
    p._should_simplify = bool(threshold > 0 and rcParams["path.simplify"] and len(verts) >= 128
                              and (codes is None or np.all(codes <= _CODE_LINETO)))
    p._readonly = False
    return p


class _Page:
    def __init__(self, canvas: Canvas, renderer: RendererAgg | None = None):
        self.k = DPI / 72.0
        self.w = int(round(canvas.width * DPI))
        self.h = int(round(canvas.height * DPI))
        # Agg's C++ renderer (draw_path, draw_markers, buffer); `renderer`: one of this size to draw on
        self.r = RendererAgg(self.w, self.h, DPI) if renderer is None else renderer
        self._gcs: dict = {}

    def gc(self, clip=None):
        gc = _GC()
        if clip is not None:
            k, h = self.k, self.h
            gc.set_clip_rectangle(Bbox.from_extents(clip.x0 * k, h - clip.y1 * k, clip.x1 * k, h - clip.y0 * k))
        return gc

    def styled_gc(self, clip, lw, rgba, cap, join, dash=None) -> _GC:
        """The graphics context of one line or marker style, made once per page (Agg only reads it)."""
        key = (clip, lw, rgba, cap, join, dash)
        gc = self._gcs.get(key)
        if gc is None:
            gc = self._gcs[key] = self.gc(clip)
            gc.set_linewidth(lw)
            gc.set_foreground(rgba, isRGBA=True)
            gc.set_capstyle(cap)
            gc.set_joinstyle(join)
            gc.set_antialiased(True)
            if dash:
                gc.set_dashes(0, list(dash))
        return gc

    def xy(self, x, y):
        """Page points (y down) -> Agg display pixels (y up), as an (n, 2) float64 array."""
        x, y = np.asarray(x), np.asarray(y)
        out = np.empty((len(x), 2))
        np.multiply(x, self.k, out=out[:, 0])
        out[:, 1] = self.h - y * self.k
        return out

    def rects(self, it: Rects) -> None:
        gc = self.gc(it.clip)
        gc.set_linewidth(it.lw)
        gc.set_joinstyle("miter")
        gc.set_capstyle("butt")
        if it.edge is None:
            gc.set_linewidth(0)
        else:
            gc.set_foreground(_rgba(it.edge), isRGBA=True)
        k, h = self.k, self.h
        x0s, x1s = it.x * k, (it.x + it.w) * k
        y0s, y1s = h - (it.y + it.h) * k, h - it.y * k
        corners = np.stack([x0s, y0s, x1s, y0s, x1s, y1s, x0s, y1s, x0s, y0s], axis=1).reshape(-1, 5, 2)
        draw = self.r.draw_path
        if len(corners) > 2 and _apart(x0s, x1s, y0s, y1s, it.lw * k if it.edge is not None else 0.0):
            # rectangles whose pixels cannot touch: drawn in any order they give the same picture, so those
            # of one face are one path (a swimmer page's 50 bars: a few Agg calls instead of 50)
            faces = [None if face is None else _rgba(face) for face in it.faces]
            for face, at in _by_face(faces).items():
                for part in range(0, len(at), _RECTS_PER_PATH):
                    chosen = at[part:part + _RECTS_PER_PATH]
                    draw(gc, _path(corners[chosen].reshape(-1, 2), np.tile(_RECT_CODES, len(chosen))), _IDENTITY, face)
        else:
            for verts, face in zip(corners, it.faces):
                draw(gc, _path(verts, _RECT_CODES), _IDENTITY, None if face is None else _rgba(face))
        gc.restore()

    def polylines(self, run: list, verts: np.ndarray | None = None, codes: np.ndarray | None = None) -> None:
        """Polylines of one style as one path (MOVETO per line): one Agg call instead of one per line.
        Only opaque lines are joined (a translucent path would not darken where its lines cross).
        `verts`, `codes`: the run's path already made (`_page_paths`), else made here."""
        it = run[0]
        gc = self.styled_gc(it.clip, it.lw, _rgba(it.colour, it.alpha), it.cap, "round", it.dash)
        if verts is not None:
            pass
        elif len(run) == 1:
            verts = self.xy(it.x, it.y)
            codes = np.full(len(verts), Path.LINETO, dtype=Path.code_type)
            codes[0] = Path.MOVETO
        else:
            verts = self.xy(np.concatenate([p.x for p in run]), np.concatenate([p.y for p in run]))
            codes = np.full(len(verts), Path.LINETO, dtype=Path.code_type)
            starts = np.cumsum([0] + [len(p.x) for p in run[:-1]])
            codes[starts] = Path.MOVETO
        self.r.draw_path(gc, _path(verts, codes), _IDENTITY, None)

    def markers(self, run: list, pts: np.ndarray | None = None) -> None:
        """Markers of one style in one `draw_markers` call (`pts`: their pixel points already made)."""
        it = run[0]
        style = marker_style(it.shape)
        rgba = _rgba(it.colour, it.alpha)
        gc = self.styled_gc(it.clip, it.edge_lw, rgba, style.get_capstyle(), style.get_joinstyle())
        face = rgba if style.is_filled() else None
        if pts is not None:
            pass
        elif len(run) == 1:
            pts = self.xy(it.x, it.y)
        else:
            pts = self.xy(np.concatenate([m.x for m in run]), np.concatenate([m.y for m in run]))
        self.r.draw_markers(gc, style.get_path(), _marker_transform(it.shape, it.size * self.k), _path(pts, None),
                            _IDENTITY, face)


_RECTS_PER_PATH = 200     # 1,000 vertices: Agg snaps a path's vertices to pixels only up to 1,024 (as one rectangle's)


def _apart(x0s, x1s, y0s, y1s, lw_px: float) -> bool:
    """No two rectangles' pixels can meet: their boxes, widened by half the edge's width, the snapping shift
    and a pixel of antialiasing, are pairwise disjoint (then Agg's coverage of every pixel comes from one
    rectangle alone, whether they are drawn one by one or as one path)."""
    m = lw_px / 2 + 2.0
    left, right = np.minimum(x0s, x1s) - m, np.maximum(x0s, x1s) + m
    low, high = np.minimum(y0s, y1s) - m, np.maximum(y0s, y1s) + m
    apart = ((left[:, None] >= right[None, :]) | (right[:, None] <= left[None, :])
             | (low[:, None] >= high[None, :]) | (high[:, None] <= low[None, :]))
    np.fill_diagonal(apart, True)
    return bool(apart.all())


def _by_face(faces: list) -> dict:
    """Positions of the rectangles of each face colour, colours in order of first appearance."""
    got: dict = {}
    for i, face in enumerate(faces):
        got.setdefault(face, []).append(i)
    return {face: np.asarray(at) for face, at in got.items()}


@lru_cache(maxsize=256)
def _marker_transform(shape: str, scale: float):
    """The marker's own transform scaled to pixels, made once per shape and size."""
    return marker_style(shape).get_transform() + Affine2D().scale(scale)


@lru_cache(maxsize=1024)
def _hex(colour) -> tuple:
    r, g, b, _ = to_rgba(colour)
    return (round(r * 255), round(g * 255), round(b * 255))


class _MaskMemoFont(ImageFont.FreeTypeFont):
    """The FreeType font `canvas.pil_font` loads (same file, size and layout engine), remembering the glyph
    masks it rendered: the pages of a figure repeat their tick labels, axis titles and legends, and the
    rendering (FreeType, in `getmask2`) was most of a text's cost. A mask depends only on the arguments
    `getmask2` receives (text, mode, anchor, ink, the fractional start...), which form the key; Pillow's
    `ImageDraw.text` then places it as it places a fresh one (the mask is only read)."""

    LIMIT = 2048                  # masks kept per font (tick-label sized; cleared when full)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._masks: dict = {}

    def getmask2(self, text, mode="", *args, **kwargs):
        try:
            key = (text, mode, args, tuple(sorted(kwargs.items())))
            got = self._masks.get(key)
        except TypeError:                         # an unhashable argument (a list of features)
            return super().getmask2(text, mode, *args, **kwargs)
        if got is None:
            got = super().getmask2(text, mode, *args, **kwargs)
            if len(self._masks) >= self.LIMIT:
                self._masks.clear()
            self._masks[key] = got
        return got

    def line_mask(self, text, ink, start):
        """`getmask2` with the arguments `ImageDraw.text` passes for one plain line at anchor "ls" (see
        `_line_mask`), remembered under the same key, built without `getmask2`'s generic key work; a text
        of several characters not drawn before is composed from its glyphs (`_GlyphRow`)."""
        key = (text, "L", (None, None, None, 0, "ls", ink, start), (("stroke_filled", True),))
        got = self._masks.get(key)
        if got is None:
            row = self.__dict__.get("_row")
            if row is None:
                row = self._row = _GlyphRow.checked(self)
            if len(text) > 1 and row:
                got = row.mask(text, start)
                if got is None:                   # nothing to compose (blank text): Pillow's own
                    got = super().getmask2(text, "L", None, None, None, 0, "ls", ink, start, stroke_filled=True)
                if len(self._masks) >= self.LIMIT:
                    self._masks.clear()
                self._masks[key] = got
            else:
                got = self.getmask2(text, "L", None, None, None, 0, "ls", ink, start, stroke_filled=True)
        return got


def _pixel(v: int) -> int:
    """FreeType 26.6 units to whole pixels, rounded as Pillow's `PIXEL` macro: ((v + 32) & -64) >> 6."""
    return ((v + 32) & -64) >> 6


def _c_round(v: float) -> int:
    """C's `round` (halves away from zero)."""
    return int(math.floor(v + 0.5)) if v >= 0 else -int(math.floor(-v + 0.5))


class _GlyphRow:
    """The mask Pillow's `font.render` gives one line of text in mode "L" at anchor "ls" (basic layout, no
    stroke), composed from each character's mask rendered once, alone, by Pillow.

    Why it is the same mask: in Pillow's basic layout (`_imagingft.c`, `font_render`) every glyph is
    rendered by FreeType at the origin (its bitmap does not depend on where it lands) and blended into
    the text's mask at whole pixels: x = round((-x_min + start_x) * 64) in single precision, each glyph
    at PIXEL(x + pen), the line at PIXEL(round((-y_max - start_y) * 64)); the pen advances by each glyph's
    width plus its pair's kerning (both read from `getlength`); x_min and y_max are the least left
    bearing and the greatest top over the glyphs (from the lone glyph's mask offset), and a pixel already
    inked takes a new glyph's value as `s + t * (255 - s) / 255` rounded as Pillow's MULDIV255 (which
    leaves t unchanged where s is 0 and gives s where t is 0). The mask may be a column or so wider than
    Pillow's (the glyphs' right extents are bounded, not measured): only zeros, which draw nothing.
    Compared with Pillow's own masks in tests/test_tables_png_text.py (every label of the bundled and
    1,000-subject figures' sizes, random texts and fractional starts).

    A subject label is drawn once (each page has its own), so its mask was always rendered fresh
    (~130 us, FreeType loading and rendering each glyph twice); the glyphs are few (digits, letters)."""

    def __init__(self, font: ImageFont.FreeTypeFont):
        self.font = font
        self.glyphs: dict = {}
        self.pairs: dict = {}
        self.pad = 1                  # a margin that holds any glyph placed anywhere in its text's box

    PROBES = (("Subject 101-0007 (Ag) VAfi 10%", (0.37, 0.61)), ("µg/mL ≥ 1.5", (-0.25, 0.0)), ("DL2 ff", (0.5, 0.5)))

    @classmethod
    def checked(cls, font) -> "_GlyphRow | bool":
        """A `_GlyphRow` of `font` when its composed masks equal Pillow's for a few probe texts (a Pillow whose
        basic layout renders otherwise is then left to draw every line itself); False otherwise."""
        if font.layout_engine != ImageFont.Layout.BASIC:
            return False
        row = cls(font)
        for text, start in cls.PROBES:
            want, offset = ImageFont.FreeTypeFont.getmask2(font, text, "L", None, None, None, 0, "ls", 255, start,
                                                          stroke_filled=True)
            got = row.mask(text, start)
            if got is None or got[1] != offset:
                return False
            w, h = want.size
            mask = np.asarray(Image.Image()._new(got[0]))
            if mask.shape[0] != h or mask.shape[1] < w or mask[:, w:].any() or \
                    not np.array_equal(mask[:, :w], np.asarray(Image.Image()._new(want))):
                return False
        return row

    def glyph(self, ch: str):
        """(trimmed mask or None, its left and top in pixels from the pen on the baseline (y up), the right
        edge of the lone glyph's box from the pen, its top and bottom, its advance in 26.6 units, the left
        edge of its box, the trimmed mask's shape)."""
        got = self.glyphs.get(ch)
        if got is None:
            core, (ox, oy) = ImageFont.FreeTypeFont.getmask2(self.font, ch, "L", None, None, None, 0, "ls", 255,
                                                             (0.0, 0.0), stroke_filled=True)
            w, h = core.size
            ink = None
            left, top = ox, -oy                       # pixel column 0 / row 0 of the mask, from the pen
            if w and h:
                a = np.asarray(Image.Image()._new(core))
                rows, cols = np.flatnonzero(a.any(axis=1)), np.flatnonzero(a.any(axis=0))
                if len(rows):
                    ink = np.ascontiguousarray(a[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1])
                    left, top = ox + int(cols[0]), -oy - int(rows[0])
            shape = ink.shape if ink is not None else (0, 0)
            self.pad = max(self.pad, *shape, abs(left) + 1, abs(top) + 1)
            got = self.glyphs[ch] = (ink, left, top, ox + w, -oy, -oy - h, self.font.font.getlength(ch), ox, shape)
        return got

    def kerning(self, a: str, b: str) -> int:
        got = self.pairs.get(a + b)
        if got is None:
            got = self.pairs[a + b] = (self.font.font.getlength(a + b) - self.glyph(a)[6] - self.glyph(b)[6])
        return got

    def mask(self, text: str, start: tuple):
        """(mask, offset) as `getmask2(text, "L", anchor="ls", start=start)` returns them; None for a text
        with no room (blank)."""
        glyphs = [self.glyphs.get(ch) or self.glyph(ch) for ch in text]
        pairs, kerning = self.pairs, self.kerning
        pens, pen = [], 0
        x_min = y_max = y_min = x_max = 0
        last = len(text) - 1
        for i, g in enumerate(glyphs):
            p = ((pen + 32) & -64) >> 6                # _pixel
            pens.append(pen)
            if g[7] + p < x_min:
                x_min = g[7] + p
            if g[4] > y_max:
                y_max = g[4]
            if g[5] < y_min:
                y_min = g[5]
            if g[3] + p > x_max:
                x_max = g[3] + p
            pen += g[6]
            if i < last:
                k = pairs.get(text[i:i + 2])
                pen += kerning(text[i], text[i + 1]) if k is None else k
            if ((pen + 32) & -64) >> 6 > x_max:
                x_max = ((pen + 32) & -64) >> 6
        f32 = np.float32
        sx, sy = f32(start[0]), f32(start[1])
        x = _c_round(float((f32(-x_min) + f32(0.0) + sx) * f32(64)))
        y = _c_round(float((f32(-y_max) + f32(-0.0) - sy) * f32(64)))
        width = x_max - x_min + math.ceil(float(f32(0.0) + sx))
        height = y_max - y_min + math.ceil(float(f32(0.0) + sy))
        if width <= 0 or height <= 0:
            return None
        # drawn on a canvas with a margin, so a glyph is placed without clipping; the mask is its inside
        # (what Pillow clips to its image is what lies outside)
        pad = self.pad
        out = np.zeros((height + 2 * pad, width + 2 * pad), dtype=np.uint8)
        row0 = pad - (((y + 32) & -64) >> 6)
        inked = -(1 << 30)                           # columns left of this are the only ones written yet
        for g, pen in zip(glyphs, pens):
            ink = g[0]
            if ink is None:
                continue
            c0 = (((x + pen + 32) & -64) >> 6) + g[1] + pad
            r0 = row0 - g[2]
            h, w = g[8]
            if c0 >= inked:
                out[r0:r0 + h, c0:c0 + w] = ink
            else:
                t = out[r0:r0 + h, c0:c0 + w]
                tmp = t.astype(np.uint32) * (255 - ink.astype(np.uint32)) + 128
                t[...] = ink + ((tmp + (tmp >> 8)) >> 8).astype(np.uint8)
            if c0 + w > inked:
                inked = c0 + w
        inside = np.ascontiguousarray(out[pad:pad + height, pad:pad + width])
        img = Image.frombuffer("L", (width, height), inside, "raw", "L", 0, 1)
        return img.im, (x_min, -y_max)


@lru_cache(maxsize=64)
def _draw_font(size: float, weight: str = "normal") -> _MaskMemoFont:
    """The font text is drawn with: `pil_font(size, weight)` as a `_MaskMemoFont`."""
    f = pil_font(size, weight)
    return _MaskMemoFont(f.path, f.size, f.index, f.encoding, f.layout_engine)


def _line_mask(font, text: str, ink: int, start: tuple):
    """`font.getmask2` with the arguments `ImageDraw.text(..., anchor="ls")` passes for one line of plain text
    on an RGB(A) image (mode "L", no direction/features/language/stroke), through the font's remembered masks
    when it keeps them (`_MaskMemoFont.line_mask`)."""
    memo = getattr(font, "line_mask", None)
    if memo is not None:
        return memo(text, ink, start)
    return font.getmask2(text, "L", None, None, None, 0, "ls", ink, start, stroke_filled=True)


def _blit(draw, x: float, y: float, text: str, font, ink: int) -> None:
    """`draw.text((x, y), text, font=font, fill=<ink's colour>, anchor="ls")` for one line (no newline), in
    fewer Python steps: the same mask (the same `getmask2` arguments: the integer point, its fractional part
    as the start) drawn by the same `draw_bitmap` at the same offset. Pillow's `text` builds an `ImageText`,
    splits lines and resolves the ink on every call, ~3/4 of a label's cost once its mask is remembered
    (the pixels are compared with `ImageDraw.text` in tests/test_tables_png_text.py)."""
    fx, ix = math.modf(x)
    fy, iy = math.modf(y)
    mask, offset = _line_mask(font, text, ink, (fx, fy))
    draw.draw.draw_bitmap((int(ix) + offset[0], int(iy) + offset[1]), mask, ink)


_ROTATED: dict = {}      # (text, size, weight, mask width, height) -> the text's mask turned 90 degrees


def _rotated_mask(text: str, size: float, weight: str, font, wpx: int, hpx: int, a_px: int):
    """The mask of a label drawn upright at (1, a_px) on a `wpx` x `hpx` canvas, turned 90 degrees; made once
    per label (an axis title repeats on every page of a figure)."""
    key = (text, size, weight, wpx, hpx, a_px)
    got = _ROTATED.get(key)
    if got is None:
        # `ImageDraw.Draw(mask).text((1, a_px), text, font=font, fill=255, anchor="ls")` on the blank mask, as
        # `_blit` draws a line: the same mask (integer point: start (0, 0); ink 255 on mode "L") drawn by the same
        # `draw_bitmap` at the same offset, without building an `ImageDraw` and an `ImageText` per label (a
        # waterfall page turns ~60 distinct subject labels)
        glyphs, offset = _line_mask(font, text, 255, (0.0, 0.0))
        mask = Image.new("L", (wpx, hpx), 0)
        Image.core.draw(mask.im, 0).draw_bitmap((1 + offset[0], a_px + offset[1]), glyphs, 255)
        got = mask.transpose(Image.Transpose.ROTATE_90)    # (x, y) -> (y, wpx - 1 - x)
        if len(_ROTATED) >= 1024:
            _ROTATED.clear()
        _ROTATED[key] = got
    return got


def _draw_text(img, draw, it: Text) -> None:
    """Each line of `it` at its baseline-left point (page points -> pixels), in its colour."""
    k = DPI / 72.0
    fill = _hex(it.colour)
    f = _draw_font(it.size, it.weight)
    ink = None
    for x, y, w, line in layout(it):
        px, py = x * k, y * k
        if it.rotation == 0:
            if ink is None:
                ink = draw.draw.draw_ink(fill)
            if it.math:
                base, exp = power_parts(line)
                _blit(draw, px, py, base, f, ink)
                _blit(draw, px + f.getlength(base), py - SUP_RAISE * it.size * k, exp,
                      _draw_font(it.size * SUP_SCALE, it.weight), ink)
            else:
                _blit(draw, px, py, line, f, ink)
        elif it.rotation == 90:
            asc, desc, _ = font_vmetrics(it.size, it.weight)
            a_px = int(np.ceil(asc * k)) + 1
            wpx, hpx = int(np.ceil(w * k)) + 2, a_px + int(np.ceil(desc * k)) + 1
            mask = _rotated_mask(line, it.size, it.weight, f, wpx, hpx, a_px)
            img.paste(fill, (int(round(px - a_px)), int(round(py - (wpx - 2)))), mask)
        else:
            raise ValueError(f"text rotation {it.rotation} is not supported (0 or 90 degrees)")


def _style(it):
    """What makes consecutive primitives drawable as one: same kind and style (opaque lines only)."""
    if type(it) is Polyline:
        return None if it.alpha < 1 else ("line", it.colour, it.lw, it.dash, it.clip, it.cap)
    if type(it) is Markers:
        return ("marker", it.shape, it.size, it.colour, it.edge_lw, it.alpha, it.clip)
    if type(it) is Text:
        return ("text",)
    return None


def _runs(items: list) -> list[list]:
    """Consecutive items of one style, in drawing order (markers of different series are never
    reordered relative to each other, so the picture is the same as drawing them one by one)."""
    out: list[list] = []
    last = object()
    for it in items:
        key = _style(it)
        if key is not None and key == last:
            out[-1].append(it)
        else:
            out.append([it])
        last = key
    return out


_SPARE: list = []        # the last page's renderer, drawn on again by the next page of the same size


def _white_page(canvas: Canvas) -> _Page:
    """A page whose every pixel is opaque white, as matplotlib's white figure patch leaves it (drawn by Agg
    over its cleared buffer: every pixel (255, 255, 255, 255), compared in tests/test_tables_png_buffers.py).

    Why the buffer is filled, and kept for the next page of the same size: a new renderer's buffer (~13 MB
    for a tall swimmer page) is fresh memory the kernel maps page by page on first write, and those faults
    cost more CPU than the drawing they precede (~10 ms a tall page); filling the kept buffer costs ~0.3 ms."""
    w, h = int(round(canvas.width * DPI)), int(round(canvas.height * DPI))
    spare = _SPARE[0] if _SPARE and _SPARE[0][0] == (w, h) else None
    page = _Page(canvas, spare[1] if spare else None)
    if w and h:
        np.asarray(page.r).fill(255)
    _SPARE[:] = [((w, h), page.r)]
    return page


def _page_paths(page: _Page, items: list) -> tuple:
    """Every polyline's vertices of a page in pixels, in drawing order, as one array with its path codes
    (MOVETO at each line's first vertex), and every marker's point likewise, with each item's first
    index: a run of consecutive items is one slice of them. The same numbers as converting each run
    (`_Page.xy` is element-wise; the codes are those a run's own path gets), from one conversion per
    page instead of one per run (a profiles page draws ~100 lines and marker series)."""
    lines = [it for it in items if type(it) is Polyline]
    marks = [it for it in items if type(it) is Markers]
    out = []
    for group in (lines, marks):
        if not group:
            out += [None, None]
            continue
        sizes = np.fromiter(map(len, (it.x for it in group)), dtype=np.intp, count=len(group))
        starts = np.zeros(len(group) + 1, dtype=np.intp)
        np.cumsum(sizes, out=starts[1:])
        verts = page.xy(np.concatenate([it.x for it in group]), np.concatenate([it.y for it in group]))
        out += [verts, starts]
    verts, starts, pts, mstarts = out
    codes = None
    if verts is not None:
        codes = np.full(len(verts), Path.LINETO, dtype=Path.code_type)
        codes[starts[:-1]] = Path.MOVETO
    return verts, codes, starts, pts, mstarts


def png_bytes(canvas: Canvas) -> bytes:
    page = _white_page(canvas)
    texts = []
    verts, codes, starts, pts, mstarts = _page_paths(page, canvas.items)
    li = mi = 0                                 # the next polyline's and marker series' number on the page
    for run in _runs(canvas.items):
        kind = type(run[0])
        if kind is Text:
            texts += run
        elif kind is Rects:
            for it in run:
                page.rects(it)
        elif kind is Polyline:
            a, b = starts[li], starts[li + len(run)]
            page.polylines(run, verts[a:b], codes[a:b])
            li += len(run)
        else:
            a, b = mstarts[mi], mstarts[mi + len(run)]
            page.markers(run, pts[a:b])
            mi += len(run)
    return encode_png(_pixels_with_text(page, texts), DPI)


def _rgb_with_text(page: _Page, texts: list) -> np.ndarray:
    """The page's pixels as RGB (rows x columns x 3) with `texts` drawn (see `_pixels_with_text`)."""
    px = _pixels_with_text(page, texts)
    return px[:, :, :3] if px.shape[2] == 4 else px


def _pixels_with_text(page: _Page, texts: list) -> np.ndarray:
    """The page's pixels with `texts` drawn by Pillow: Agg's opaque RGBA buffer (rows x columns x 4, the
    alpha channel all 255: `encode_png` writes its RGB channels) or, on a translucent page, RGB.

    Why not `convert("RGB")` first: that conversion and reading the RGB image back into numpy took
    ~20 ms of a tall swimmer page. Agg's page is opaque (the white page patch, and blending over an
    opaque pixel keeps alpha 255), and on an opaque RGBA image Pillow blends text into the colour
    channels exactly as into an RGB image; so text is drawn straight into Agg's buffer and its RGB
    channels are what `encode_png` writes. A page with any translucent pixel takes the RGB route."""
    rgba = np.asarray(page.r)                            # (h, w, 4) over Agg's own memory, writable
    img = Image.frombuffer("RGBA", (page.w, page.h), rgba, "raw", "RGBA", 0, 1)
    if texts and not _opaque(rgba):
        img = img.convert("RGB")
        pen = ImageDraw.Draw(img)
        for it in texts:
            _draw_text(img, pen, it)
        return np.asarray(img)
    if texts:
        img.readonly = 0                                 # draw into the shared buffer, not into a copy
        pen = ImageDraw.Draw(img)
        for it in texts:
            _draw_text(img, pen, it)
    return rgba                 # opaque: the picture is the RGB channels (encode_png drops the alpha)


def _opaque(rgba: np.ndarray) -> bool:
    """Every pixel's alpha is 255 (`rgba[:, :, 3].min() == 255`): read as one little-endian 32-bit word per
    pixel, alpha is its top byte, so the smallest word is at least 0xFF000000 exactly when every alpha is
    255 (one contiguous pass instead of a strided one: ~1.5 -> ~0.5 ms a tall page)."""
    if not rgba.size:
        return True
    if rgba.flags.c_contiguous and rgba.dtype == np.uint8 and rgba.shape[-1] == 4:
        return bool(rgba.view("<u4").min() >= 0xFF000000)
    return bool(rgba[:, :, 3].min() == 255)


def _chunk(kind: bytes, data) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(data, zlib.crc32(kind)) & 0xFFFFFFFF))


def encode_png(rgb: np.ndarray, dpi: int) -> bytes:
    """An 8-bit RGB PNG of `rgb` (rows x columns x 3, or x 4: the RGB channels of an RGBA array, its alpha
    not written): each row stored as its difference from the row above (PNG filter 2, "up"; the first
    row from zeros), compressed as one zlib stream. The filtered rows are computed straight into the
    buffer zlib reads.

    An RGBA page (Agg's buffer) is packed to RGB rows by Pillow's C packer first, then filtered by one
    contiguous subtraction: half the CPU of filtering the three strided channels one by one (~11 -> ~6 ms
    for a 1080 x 3000 page)."""
    h, w, depth = rgb.shape
    if depth == 4 and h and w:
        rgb = _packed_rgb(np.ascontiguousarray(rgb))
    elif depth not in (3, 4):
        raise ValueError(f"encode_png: {depth} channels (3 or 4)")
    raw = _buffer("raw", (h, w * 3 + 1))
    raw[:, 0] = 2
    if h and rgb.flags.c_contiguous:
        rows = rgb.reshape(h, w * 3)
        raw[0, 1:] = rows[0]
        np.subtract(rows[1:], rows[:-1], out=raw[1:, 1:])   # uint8: modulo 256, as the filter is defined
    elif h:
        # a strided view (the RGB channels of an RGBA buffer): one channel at a time into the rows' pixels
        # after each filter byte; as fast as packing the RGB bytes first, and the packing is saved
        body = np.ndarray((h, w, 3), np.uint8, raw, offset=1, strides=(w * 3 + 1, 3, 1))
        for ch in range(3):
            body[0, :, ch] = rgb[0, :, ch]
            np.subtract(rgb[1:, :, ch], rgb[:-1, :, ch], out=body[1:, :, ch])
    ppm = int(dpi / 0.0254 + 0.5)                         # pixels per metre, as Pillow writes pHYs
    data = zlib.compress(raw, PNG_COMPRESS)
    return b"".join([b"\x89PNG\r\n\x1a\n", _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)),
                     _chunk(b"pHYs", struct.pack(">IIB", ppm, ppm, 1)),
                     struct.pack(">I", len(data)), b"IDAT", data,
                     struct.pack(">I", zlib.crc32(data, zlib.crc32(b"IDAT")) & 0xFFFFFFFF),
                     _chunk(b"IEND", b"")])


_BUFFERS: dict = {}      # name -> the array `_buffer` gave last (one per name: the last page's size)


def _buffer(name: str, shape: tuple) -> np.ndarray:
    """A uint8 array of `shape` for `encode_png` to overwrite entirely, the same memory as the last call's when
    the shape is the same. Why: a page's rows are megabytes (~10 MB for a tall swimmer page), and fresh memory
    of that size costs a kernel page fault per 4 KB on first write, more CPU than filling it."""
    got = _BUFFERS.get(name)
    if got is None or got.shape != shape:
        got = _BUFFERS[name] = np.empty(shape, dtype=np.uint8)
    return got


def _rgb_encoder():
    """Pillow's raw encoder packing RGBA to RGB, the one `Image.tobytes("raw", "RGB")` uses."""
    return Image._getencoder("RGBA", "raw", ("RGB",))


def _packed_rgb(rgba: np.ndarray) -> np.ndarray:
    """The RGB channels of a contiguous RGBA array (h, w, 4) packed into (h, w, 3) by Pillow's C packer (what
    `Image.tobytes("raw", "RGB")` returns), written into a kept `_buffer` block by block rather than joined
    into a new bytes object: one copy less, and no fresh memory per page."""
    h, w, _ = rgba.shape
    img = Image.frombuffer("RGBA", (w, h), rgba, "raw", "RGBA", 0, 1)
    out = _buffer("rgb", (h, w, 3))
    flat = out.reshape(-1)
    try:
        encoder = _rgb_encoder()
    except (AttributeError, TypeError, OSError):           # a Pillow without this entry point
        flat[:] = np.frombuffer(img.tobytes("raw", "RGB"), dtype=np.uint8)
        return out
    try:
        encoder.setimage(img.im, (0, 0, w, h))
        at, bufsize = 0, max(65536, w * 4)                  # as Image.tobytes
        while True:
            _, err, data = encoder.encode(bufsize)
            flat[at:at + len(data)] = np.frombuffer(data, dtype=np.uint8)
            at += len(data)
            if err:
                break
        if err < 0 or at != flat.size:
            raise RuntimeError(f"encoder error {err} packing RGB ({at} of {flat.size} bytes)")
    finally:
        encoder.cleanup()
    return out
