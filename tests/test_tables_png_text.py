"""Text drawn straight into Agg's RGBA buffer (canvas_png._rgb_with_text) against the route it replaces:
the page converted to an RGB Pillow image first, then the same texts drawn on it. Same pixels, on an opaque
page and on a translucent one (which takes the RGB route itself)."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from trialforge.tables import canvas_png as cp
from trialforge.tables.canvas import Canvas, Text


def _page(opaque: bool):
    c = Canvas(3.0, 2.0)
    c.rects([10, 60], [10, 30], [80, 40], [50, 60], ["#1f77b4", "#fee08b"], edge="#000000", lw=0.8)
    c.line([0, 200], [5, 140], "#d62728", 2.0, alpha=0.4)
    c.markers([30, 90, 150], [40, 80, 120], "o", 6, "#2ca02c", alpha=0.7)
    texts = [Text(20, 60, "Subject 101-0007 ≥ µg", 9, "#000000"),
             Text(120, 100, "DL2\nIntravenous", 8, "#d62728", ha="center", va="center"),
             Text(15, 130, "% change", 9, rotation=90, ha="center", va="bottom"),
             Text(150, 30, "10^{3}", 8, math=True)]
    page = cp._Page(c)
    if opaque:                              # the white page patch png_bytes draws first
        gc = page.gc()
        gc.set_linewidth(0)
        page.r.draw_path(gc, cp.Path([(0, 0), (page.w, 0), (page.w, page.h), (0, page.h), (0, 0)], closed=True),
                         cp.IdentityTransform(), (1.0, 1.0, 1.0, 1.0))
        gc.restore()
    for it in c.items:
        {cp.Rects: page.rects, cp.Polyline: lambda x: page.polylines([x]),
         cp.Markers: lambda x: page.markers([x])}[type(it)](it)
    return page, texts


@pytest.mark.parametrize("opaque", [True, False])
def test_text_in_agg_buffer_equals_text_on_rgb_copy(opaque):
    page, texts = _page(opaque)
    before = np.array(np.asarray(page.r))            # a copy, before any text
    assert (before[:, :, 3].min() == 255) == opaque
    ref = Image.fromarray(before, "RGBA").convert("RGB")
    pen = ImageDraw.Draw(ref)
    for it in texts:
        cp._draw_text(ref, pen, it)
    got = cp._rgb_with_text(page, texts)
    assert got.shape == (page.h, page.w, 3)
    assert np.array_equal(got, np.asarray(ref))
    assert not np.array_equal(np.asarray(ref), before[:, :, :3])   # the texts did draw something


def test_graphics_context_reads_as_matplotlibs():
    """What Agg's renderer reads from a graphics context (attributes and getters) is the same from
    canvas_png._GC as from matplotlib's GraphicsContextBase after the same calls."""
    from matplotlib.backend_bases import GraphicsContextBase
    from matplotlib.transforms import Bbox
    read = ("_linewidth", "_alpha", "_forced_alpha", "_rgb", "_antialiased", "_capstyle", "_joinstyle", "_cliprect")
    getters = ("get_dashes", "get_clip_path", "get_snap", "get_hatch_path", "get_hatch_color",
               "get_hatch_linewidth", "get_sketch_params")
    calls = [("set_linewidth", (0.8,)), ("set_joinstyle", ("miter",)), ("set_capstyle", ("projecting",)),
             ("set_foreground", ((0.1, 0.2, 0.3, 0.4),), {"isRGBA": True}), ("set_antialiased", (True,)),
             ("set_dashes", (0, [3.7, 1.6])), ("set_clip_rectangle", (Bbox.from_extents(1, 2, 30, 40),))]
    for upto in range(len(calls) + 1):
        ours, theirs = cp._GC(), GraphicsContextBase()
        for name, args, *kw in calls[:upto]:
            getattr(ours, name)(*args, **(kw[0] if kw else {}))
            getattr(theirs, name)(*args, **(kw[0] if kw else {}))
        for a in read:
            assert repr(getattr(ours, a)) == repr(getattr(theirs, a)), a
            assert type(getattr(ours, a)) is type(getattr(theirs, a)), a
        for g in getters:
            assert repr(getattr(ours, g)()) == repr(getattr(theirs, g)()), g
    ours.set_foreground("#d62728")
    theirs.set_foreground("#d62728")
    assert ours._rgb == theirs._rgb


def test_remembered_glyph_masks_draw_the_pixels_of_fresh_ones(monkeypatch):
    """Texts drawn with `_MaskMemoFont` (masks remembered across draws) against the same texts drawn with
    the plain Pillow font: repeated labels at equal and different fractional positions, colours, a power,
    rotated labels, several lines. Same pixels, and the repeats were served from the memo."""
    from trialforge.tables.canvas import pil_font
    words = ["0", "10", "20", "Subject 101-0007", "% change", "DL2\nIntravenous", "µg/mL ≥"]
    texts = []
    for k in range(60):
        x = 10 + (k % 6) * 47.25 + (0.5 if k % 4 == 0 else 0.0) + k * 0.013 * (k % 3 == 0)
        y = 20 + (k // 6) * 13.0 + (0.37 if k % 5 == 0 else 0.0)
        texts.append(Text(x, y, words[k % len(words)], 8 + (k % 2), ["#000000", "#d62728"][k % 2 == 1 and k % 3 == 0],
                          rotation=90 if k % 11 == 0 else 0, ha=["left", "center"][k % 2]))
    texts += [Text(200, 150, "10^{3}", 8, math=True)] * 3
    texts += texts                                   # every label again at its place: served from the memo

    def draw(font_for):
        monkeypatch.setattr(cp, "_draw_font", font_for)
        img = Image.new("RGB", (400, 220), "white")
        pen = ImageDraw.Draw(img)
        for it in texts:
            cp._draw_text(img, pen, it)
        return np.asarray(img)

    memo = cp._draw_font
    memo.cache_clear()
    got = draw(memo)
    want = draw(pil_font)
    assert np.array_equal(got, want)
    assert not (want == 255).all()
    fonts = [memo(s, "normal") for s in (8, 9)]
    assert all(isinstance(f, cp._MaskMemoFont) for f in fonts)
    kept = sum(len(f._masks) for f in fonts)
    assert 0 < kept < len(texts)                                     # the repeats came from the memo
    again = draw(memo)                                               # every mask remembered now
    assert np.array_equal(again, want)
    assert sum(len(f._masks) for f in fonts) == kept


def _draw_text_pillow(img, draw, it):
    """The previous `canvas_png._draw_text`, kept as the reference: every line through `ImageDraw.text`, a
    rotated label drawn on a fresh mask and turned each time."""
    from trialforge.tables.canvas import DPI, SUP_RAISE, SUP_SCALE, font_vmetrics, layout, pil_font, power_parts
    k = DPI / 72.0
    fill = cp._hex(it.colour)
    f = pil_font(it.size, it.weight)
    for x, y, w, line in layout(it):
        px, py = x * k, y * k
        if it.rotation == 0:
            if it.math:
                base, exp = power_parts(line)
                draw.text((px, py), base, font=f, fill=fill, anchor="ls")
                draw.text((px + f.getlength(base), py - SUP_RAISE * it.size * k), exp,
                          font=pil_font(it.size * SUP_SCALE, it.weight), fill=fill, anchor="ls")
            else:
                draw.text((px, py), line, font=f, fill=fill, anchor="ls")
        else:
            asc, desc, _ = font_vmetrics(it.size, it.weight)
            a_px = int(np.ceil(asc * k)) + 1
            wpx, hpx = int(np.ceil(w * k)) + 2, a_px + int(np.ceil(desc * k)) + 1
            mask = Image.new("L", (wpx, hpx), 0)
            ImageDraw.Draw(mask).text((1, a_px), line, font=f, fill=255, anchor="ls")
            mask = mask.transpose(Image.Transpose.ROTATE_90)
            img.paste(fill, (int(round(px - a_px)), int(round(py - (wpx - 2)))), mask)


@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
def test_blitted_text_equals_imagedraw_text(mode):
    """`_draw_text` (masks drawn by `draw_bitmap` directly, rotated masks made once) against every line drawn
    through Pillow's `ImageDraw.text` as before: labels at integer, fractional and negative positions
    (partly off the page), several colours, sizes, bold, powers, several lines, rotated labels repeated;
    each drawn twice so the second draw is served from the remembered masks. Same pixels."""
    words = ["0", "1.5", "Subject 101-0007", "% change from baseline", "DL2\nIntravenous", "µg/mL ≥ 10", ""]
    colours = ["#000000", "#d62728", "#1f77b4", "grey"]
    texts = []
    for k in range(90):
        x = -6.3 + (k % 7) * 41.17 + 0.29 * (k % 4)
        y = -2.0 + (k // 7) * 16.6 + 0.41 * (k % 3)
        texts.append(Text(x, y, words[k % len(words)], [7.0, 8.0, 9.0][k % 3], colours[k % len(colours)],
                          ha=["left", "center", "right"][k % 3], va=["baseline", "top", "center_baseline"][k % 3],
                          rotation=90 if k % 9 == 4 else 0, weight="bold" if k % 8 == 5 else "normal"))
    texts += [Text(250.5, 120.25, "10^{3}", 8, math=True), Text(10.2, 200.7, "10^{-2}", 9, "#d62728", math=True)]
    texts += texts
    bg = (255, 255, 255, 255) if mode == "RGBA" else (255, 255, 255)
    want_img = Image.new(mode, (300, 240), bg)
    pen = ImageDraw.Draw(want_img)
    for it in texts:
        _draw_text_pillow(want_img, pen, it)
    cp._ROTATED.clear()
    got_img = Image.new(mode, (300, 240), bg)
    pen = ImageDraw.Draw(got_img)
    for it in texts:
        cp._draw_text(got_img, pen, it)
    want, got = np.asarray(want_img), np.asarray(got_img)
    assert (want != want[0, 0]).any()
    assert np.array_equal(got, want)
    assert cp._ROTATED                                  # rotated labels were remembered


def _pillow_mask(font, text, start):
    """Pillow's own mask of one line (what `ImageDraw.text` asks the font for), as an array, and its offset."""
    from PIL import ImageFont
    core, offset = ImageFont.FreeTypeFont.getmask2(font, text, "L", None, None, None, 0, "ls", 255, start,
                                                   stroke_filled=True)
    w, h = core.size
    return (np.asarray(Image.Image()._new(core)) if w and h else np.zeros((h, w), np.uint8)), offset


def test_composed_glyph_rows_equal_pillows_masks():
    """`_GlyphRow.mask` (a line composed from each character's lone mask) against Pillow's `getmask2` of the
    whole line: subject labels, tick labels, words with overlapping glyphs ("ff", "VA", italics-free but
    bold), non-ASCII (µ, ≥, ×, superscripts, accents, an arrow), spaces, at integer, fractional, negative
    and rounding-edge starts, in the figures' sizes. Same pixels at the same offset; the composed mask may
    only be wider, by columns of zeros."""
    import random
    rnd = random.Random(15)
    alphabet = "0123456789-ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz ()%/.,:;µ≥≤±×⁰¹²³⁴⁵⁶⁷⁸⁹_'\"[]{}|Äé→"
    texts = ["CD70-101-0007 (DL2)", "101-0007", "% change from baseline", "Time since infusion (months)",
             "ffi VAWAY Tj", "10", "-0.5", "  a  ", "µg/mL ≥ 10 × 10⁶", "Ä→é"]
    texts += ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(2, 24))) for _ in range(400)]
    edges = [0.0, 0.5, 0.5 / 64, 31.5 / 64, 32.5 / 64, 0.999, -0.25, -0.5, -0.999]
    compared = 0
    for k, text in enumerate(texts):
        size = [5.6, 6.3, 7.0, 8.0, 9.0, 12.0][k % 6]
        font = cp._draw_font(size, "bold" if k % 5 == 3 else "normal")
        row = cp._GlyphRow(font)
        for start in [(edges[k % len(edges)], edges[(k * 7) % len(edges)]), (rnd.random(), rnd.random()),
                      (-rnd.random(), rnd.random())]:
            want, want_offset = _pillow_mask(font, text, start)
            got = row.mask(text, start)
            if got is None:                          # nothing to compose: Pillow's mask is blank too
                assert not want.any()
                continue
            core, offset = got
            mask = np.asarray(Image.Image()._new(core))
            assert offset == want_offset, (text, start)
            assert mask.shape[0] == want.shape[0] and mask.shape[1] >= want.shape[1], (text, start)
            assert np.array_equal(mask[:, :want.shape[1]], want), (text, start)
            assert not mask[:, want.shape[1]:].any()
            compared += 1
    assert compared > 1000


def test_memo_font_serves_composed_masks():
    """A line of several characters drawn through `_MaskMemoFont.line_mask` is composed by the font's
    `_GlyphRow` and remembered under `getmask2`'s key; it is Pillow's mask."""
    cp._draw_font.cache_clear()
    font = cp._draw_font(8.0, "normal")
    got = font.line_mask("101-0007", 255, (0.25, 0.5))
    assert set("101-0007") <= set(font._row.glyphs)
    assert ("101-0007", "L", (None, None, None, 0, "ls", 255, (0.25, 0.5)), (("stroke_filled", True),)) in font._masks
    assert font.line_mask("101-0007", 255, (0.25, 0.5)) is got
    want, offset = _pillow_mask(font, "101-0007", (0.25, 0.5))
    assert got[1] == offset
    mask = np.asarray(Image.Image()._new(got[0]))
    assert np.array_equal(mask[:, :want.shape[1]], want) and not mask[:, want.shape[1]:].any()


def test_glyph_rows_not_used_when_pillow_renders_otherwise(monkeypatch):
    """A font whose composed probe masks differ from Pillow's (as a Pillow with another render rule would give)
    draws every line through Pillow's own `getmask2`."""
    cp._draw_font.cache_clear()
    monkeypatch.setattr(cp, "_c_round", lambda v: round(v) + 64)       # glyphs placed a pixel to the right
    font = cp._draw_font(8.0, "normal")
    got = font.line_mask("101-0007", 255, (0.25, 0.5))
    assert font._row is False
    want, offset = _pillow_mask(font, "101-0007", (0.25, 0.5))
    assert got[1] == offset and np.array_equal(np.asarray(Image.Image()._new(got[0])), want)
    cp._draw_font.cache_clear()
