"""Draw a `Canvas` to PNG with matplotlib's Agg renderer (no Figure, Axes or Text artists).

The same rasteriser, antialiasing, line caps and FreeType text matplotlib's savefig uses, called
directly: rectangles and polylines through `draw_path`, markers in bulk through `draw_markers`
(one call per marker series), text through `draw_text`. The PNG is written by Pillow from the RGB
pixels with no text chunks, so the same primitives give the same bytes.
"""
from __future__ import annotations

import io

import numpy as np
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.colors import to_rgba
from matplotlib.markers import MarkerStyle
from matplotlib.path import Path
from matplotlib.transforms import Affine2D, Bbox, IdentityTransform
from PIL import Image

from .canvas import DPI, Canvas, Markers, Polyline, Rects, Text, font, layout, mathtext

PNG_COMPRESS = 6               # zlib level (Pillow's default, as matplotlib's savefig)


def _rgba(colour, alpha: float = 1.0):
    r, g, b, a = to_rgba(colour)
    return (r, g, b, a * alpha)


class _Page:
    def __init__(self, canvas: Canvas):
        self.k = DPI / 72.0
        self.w = int(round(canvas.width * DPI))
        self.h = int(round(canvas.height * DPI))
        self.r = RendererAgg(self.w, self.h, DPI)

    def gc(self, clip=None):
        gc = self.r.new_gc()
        if clip is not None:
            k, h = self.k, self.h
            gc.set_clip_rectangle(Bbox.from_extents(clip.x0 * k, h - clip.y1 * k, clip.x1 * k, h - clip.y0 * k))
        return gc

    def xy(self, x, y):
        """Page points (y down) -> Agg display pixels (y up)."""
        return np.column_stack([np.asarray(x) * self.k, self.h - np.asarray(y) * self.k])

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
        for x, y, w, hh, face in zip(it.x, it.y, it.w, it.h, it.faces):
            x0, x1 = x * k, (x + w) * k
            y0, y1 = h - (y + hh) * k, h - y * k
            path = Path([(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)],
                        [Path.MOVETO, Path.LINETO, Path.LINETO, Path.LINETO, Path.CLOSEPOLY])
            self.r.draw_path(gc, path, IdentityTransform(), None if face is None else _rgba(face))
        gc.restore()

    def polyline(self, it: Polyline) -> None:
        gc = self.gc(it.clip)
        gc.set_linewidth(it.lw)
        gc.set_foreground(_rgba(it.colour, it.alpha), isRGBA=True)
        gc.set_capstyle(it.cap)
        gc.set_joinstyle("round")
        gc.set_antialiased(True)
        if it.dash:
            gc.set_dashes(0, list(it.dash))
        self.r.draw_path(gc, Path(self.xy(it.x, it.y)), IdentityTransform())
        gc.restore()

    def markers(self, it: Markers) -> None:
        style = MarkerStyle(it.shape)
        gc = self.gc(it.clip)
        gc.set_linewidth(it.edge_lw)
        gc.set_foreground(_rgba(it.colour, it.alpha), isRGBA=True)
        gc.set_joinstyle(style.get_joinstyle())
        gc.set_capstyle(style.get_capstyle())
        trans = style.get_transform() + Affine2D().scale(it.size * self.k)
        face = _rgba(it.colour, it.alpha) if style.is_filled() else None
        self.r.draw_markers(gc, style.get_path(), trans, Path(self.xy(it.x, it.y)), IdentityTransform(), face)
        gc.restore()

    def text(self, it: Text) -> None:
        gc = self.gc()
        gc.set_foreground(_rgba(it.colour), isRGBA=True)
        prop = font(it.size, it.weight)
        for x, y, _, line in layout(it):
            self.r.draw_text(gc, x * self.k, y * self.k, mathtext(line) if it.math else line, prop, it.rotation,
                             ismath=it.math)
        gc.restore()


def png_bytes(canvas: Canvas) -> bytes:
    page = _Page(canvas)
    gc = page.gc()                       # the white page, as matplotlib's figure patch
    gc.set_linewidth(0)
    page.r.draw_path(gc, Path([(0, 0), (page.w, 0), (page.w, page.h), (0, page.h), (0, 0)], closed=True),
                     IdentityTransform(), (1.0, 1.0, 1.0, 1.0))
    gc.restore()
    draw = {Rects: page.rects, Polyline: page.polyline, Markers: page.markers, Text: page.text}
    for it in canvas.items:
        draw[type(it)](it)
    rgba = np.asarray(page.r.buffer_rgba())
    out = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgba[..., :3])).save(out, format="png", compress_level=PNG_COMPRESS,
                                                               dpi=(DPI, DPI))
    return out.getvalue()
