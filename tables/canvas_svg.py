"""Write a `Canvas` as SVG text: one user unit is one point, text stays text (DejaVu Sans).

Deterministic by construction: ids are numbered in drawing order (clip paths c0, c1, ...; marker
shapes m0, m1, ...), numbers are written with two decimals, nothing depends on time or memory.
Text is anchored at its left, middle or right as it is aligned, so a viewer with other font
metrics keeps it where it belongs (as matplotlib's `svg.fonttype: none`).
"""
from __future__ import annotations

import math
import re
from functools import lru_cache
from html import escape

import numpy as np
from matplotlib.colors import to_hex, to_rgba
from matplotlib.transforms import Affine2D

from .canvas import FONT, SUP_RAISE, SUP_SCALE, Canvas, Markers, Polyline, Rects, Text, layout, marker_style


def _n(v: float) -> str:
    s = f"{v:.2f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


_ZEROS = re.compile(r"\.?0+(?![\d.])")          # "10.50" -> "10.5", "3.00" -> "3" (a fraction's trailing zeros)
_MINUS_ZERO = re.compile(r"(?<![\d.])-0(?![\d.])")


def _ns(values) -> list[str]:
    """`_n` of each value, from one formatted string: per-number Python calls were most of the SVG's time."""
    if not len(values):
        return []
    text = " ".join(map("{:.2f}".format, np.asarray(values, dtype=float).tolist()))
    return _MINUS_ZERO.sub("0", _ZEROS.sub("", text)).split(" ")


def _coordinates(items: list) -> list[list[str]]:
    """The `_n` texts of every coordinate array of a page's shapes, in drawing order (x, y of a polyline or
    markers; x, y, w, h of rectangles), formatted in one `_ns` call: a page has thousands of short lines."""
    arrays = []
    for it in items:
        kind = type(it)
        if kind is Polyline or kind is Markers:
            arrays += (it.x, it.y)
        elif kind is Rects:
            arrays += (it.x, it.y, it.w, it.h)
    if not arrays:
        return []
    texts = _ns(np.concatenate([np.asarray(a, dtype=float).ravel() for a in arrays]))
    out, i = [], 0
    for a in arrays:
        n = len(a)
        out.append(texts[i:i + n])
        i += n
    return out


def _paint(colour, alpha: float = 1.0) -> tuple[str, str]:
    """(#rrggbb, opacity text or '') for an SVG fill or stroke (remembered: a page asks for a few colours
    thousands of times)."""
    try:
        return _paint_cached(colour, alpha)
    except TypeError:                       # an unhashable colour (a list of channels)
        return _paint_cached.__wrapped__(colour, alpha)


@lru_cache(maxsize=1024)
def _paint_cached(colour, alpha: float = 1.0) -> tuple[str, str]:
    a = to_rgba(colour)[3] * alpha
    return to_hex(colour, keep_alpha=False), ("" if a >= 1 else _n(a) if a >= 0.01 else f"{a:.4f}")


def _stroke(colour, lw, alpha=1.0, cap=None, dash=None) -> str:
    """The style text of a stroke, made once per distinct style (a page strokes thousands of lines in a few
    styles)."""
    try:
        return _stroke_cached(colour, lw, alpha, cap, dash)
    except TypeError:                       # an unhashable colour or dash list
        return _stroke_text(colour, lw, alpha, cap, dash)


@lru_cache(maxsize=1024)
def _stroke_cached(colour, lw, alpha, cap, dash) -> str:
    return _stroke_text(colour, lw, alpha, cap, dash)


def _stroke_text(colour, lw, alpha=1.0, cap=None, dash=None) -> str:
    hexa, op = _paint(colour, alpha)
    out = f"stroke:{hexa};stroke-width:{_n(lw)}"
    if op:
        out += f";stroke-opacity:{op}"
    if cap:
        out += ";stroke-linecap:" + {"projecting": "square", "butt": "butt", "round": "round"}[cap]
    if dash:
        out += ";stroke-dasharray:" + ",".join(_n(d) for d in dash)
    return out


_POW = re.compile(r"^(.*)\^\{?(.*?)\}?$")


def _text_body(it: Text, line: str) -> str:
    if it.math:
        m = _POW.match(line)
        if m:
            return (f"{escape(m.group(1))}<tspan style=\"font-size:{_n(it.size * SUP_SCALE)}px\" "
                    f"dy=\"{_n(-it.size * SUP_RAISE)}\">{escape(m.group(2))}</tspan>")
    return escape(line)


class _Doc:
    def __init__(self, canvas: Canvas):
        self.nums = iter(_coordinates(canvas.items))
        self.out: list[str] = []
        self.clips: dict = {}
        self.shapes: dict = {}
        self.defs: list[str] = []

    def clip(self, clip) -> str:
        if clip is None:
            return ""
        got = self.clips.get(clip)
        if got is None:
            got = self.clips[clip] = f"c{len(self.clips)}"
            self.defs.append(f"<clipPath id=\"{got}\"><rect x=\"{_n(clip.x0)}\" y=\"{_n(clip.y0)}\" "
                             f"width=\"{_n(clip.x1 - clip.x0)}\" height=\"{_n(clip.y1 - clip.y0)}\"/></clipPath>")
        return f" clip-path=\"url(#{got})\""

    def rects(self, it: Rects) -> None:
        edge = ";" + _stroke(it.edge, it.lw) + ";stroke-linejoin:miter" if it.edge is not None and it.lw > 0 else ""
        rows = []
        nums = self.nums
        for x, y, w, h, face in zip(next(nums), next(nums), next(nums), next(nums), it.faces):
            fill = "none" if face is None else _paint(face)[0]
            rows.append(f"<rect x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{h}\" "
                        f"style=\"fill:{fill}{edge}\"/>")
        self.out.append(f"<g{self.clip(it.clip)}>\n" + "\n".join(rows) + "\n</g>")

    def polyline(self, it: Polyline) -> None:
        pts = " ".join([f"{x},{y}" for x, y in zip(next(self.nums), next(self.nums))])
        self.out.append(f"<polyline points=\"{pts}\" style=\"fill:none;"
                        f"{_stroke(it.colour, it.lw, it.alpha, it.cap, it.dash)};stroke-linejoin:round\""
                        f"{self.clip(it.clip)}/>")

    def markers(self, it: Markers) -> None:
        style = marker_style(it.shape)
        key = (it.shape, it.size)
        mid = self.shapes.get(key)
        if mid is None:
            mid = self.shapes[key] = f"m{len(self.shapes)}"
            path = style.get_path().transformed(style.get_transform() + Affine2D().scale(it.size, -it.size))
            d = []
            for verts, code in path.iter_segments(simplify=False, curves=True):
                v = " ".join(f"{_n(a)} {_n(b)}" for a, b in np.reshape(verts, (-1, 2)))
                d.append({1: "M", 2: "L", 3: "Q", 4: "C", 79: "Z"}[code] + ("" if code == 79 else " " + v))
            self.defs.append(f"<path id=\"{mid}\" d=\"{' '.join(d)}\"/>")
        hexa, op = _paint(it.colour, it.alpha)
        fill = f"fill:{hexa}" + (f";fill-opacity:{op}" if op else "") if style.is_filled() else "fill:none"
        uses = "\n".join([f"<use xlink:href=\"#{mid}\" x=\"{x}\" y=\"{y}\"/>" for x, y in zip(next(self.nums), next(self.nums))])
        self.out.append(f"<g style=\"{fill};{_stroke(it.colour, it.edge_lw, it.alpha)};"
                        f"stroke-linejoin:{style.get_joinstyle()}\"{self.clip(it.clip)}>\n{uses}\n</g>")

    def text(self, it: Text) -> None:
        th = math.radians(it.rotation)
        shift = {"left": 0.0, "center": 0.5, "right": 1.0}[it.ha]
        anchor = {"left": "start", "center": "middle", "right": "end"}[it.ha]
        weight = "" if it.weight == "normal" else f"{it.weight} "      # the CSS font shorthand: "bold 8px ..."
        fill = "" if _paint(it.colour)[0] == "#000000" else f" fill=\"{_paint(it.colour)[0]}\""
        for x, y, w, line in layout(it):
            ax, ay = x + shift * w * math.cos(th), y - shift * w * math.sin(th)
            rot = f" transform=\"rotate({_n(-it.rotation)} {_n(ax)} {_n(ay)})\"" if it.rotation else ""
            self.out.append(f"<text x=\"{_n(ax)}\" y=\"{_n(ay)}\" style=\"font:{weight}{_n(it.size)}px '{FONT}';"
                            f"text-anchor:{anchor}\"{fill}{rot}>{_text_body(it, line)}</text>")


def svg_text(canvas: Canvas) -> str:
    doc = _Doc(canvas)
    draw = {Rects: doc.rects, Polyline: doc.polyline, Markers: doc.markers, Text: doc.text}
    for it in canvas.items:
        draw[type(it)](it)
    w, h = canvas.size_pt
    head = ("<?xml version=\"1.0\" encoding=\"utf-8\" standalone=\"no\"?>\n"
            f"<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" "
            f"width=\"{_n(w)}pt\" height=\"{_n(h)}pt\" viewBox=\"0 0 {_n(w)} {_n(h)}\" version=\"1.1\">\n")
    defs = "<defs>\n" + "\n".join(doc.defs) + "\n</defs>\n" if doc.defs else ""
    page = f"<rect x=\"0\" y=\"0\" width=\"{_n(w)}\" height=\"{_n(h)}\" style=\"fill:#ffffff\"/>\n"
    return head + defs + page + "\n".join(doc.out) + "\n</svg>\n"
