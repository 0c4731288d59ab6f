"""canvas_png keeps its big buffers from page to page (the renderer of the last page size, the packed RGB rows,
the filtered rows) and fills the white page instead of drawing it. Every PNG must be the file the plain way
writes: a new renderer per page with matplotlib's white patch drawn by Agg, the RGB bytes from Pillow's
`tobytes`, the rows filtered into new memory, the chunks concatenated (the way kept here as the reference)."""
from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from trialforge.tables import canvas_png as cp
from trialforge.tables.canvas import Canvas, Text


def _reference_png(canvas: Canvas) -> bytes:
    """png_bytes as it was before the buffers were kept: fresh memory for every step."""
    page = cp._Page(canvas)
    gc = page.gc()
    gc.set_linewidth(0)
    page.r.draw_path(gc, cp.Path([(0, 0), (page.w, 0), (page.w, page.h), (0, page.h), (0, 0)], closed=True),
                     cp.IdentityTransform(), (1.0, 1.0, 1.0, 1.0))
    texts = []
    for run in cp._runs(canvas.items):
        kind = type(run[0])
        if kind is Text:
            texts += run
        elif kind is cp.Rects:
            for it in run:
                page.rects(it)
        elif kind is cp.Polyline:
            page.polylines(run)
        else:
            page.markers(run)
    px = np.array(cp._pixels_with_text(page, texts))
    h, w, depth = px.shape
    if depth == 4:
        px = np.frombuffer(Image.fromarray(px, "RGBA").tobytes("raw", "RGB"), np.uint8).reshape(h, w, 3)
    rows = px.reshape(h, w * 3).astype(np.int16)
    filtered = np.concatenate([rows[:1], (rows[1:] - rows[:-1]) % 256]).astype(np.uint8)
    raw = np.concatenate([np.full((h, 1), 2, np.uint8), filtered], axis=1).tobytes()

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ppm = int(cp.DPI / 0.0254 + 0.5)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"pHYs", struct.pack(">IIB", ppm, ppm, 1)) + chunk(b"IDAT", zlib.compress(raw, 3))
            + chunk(b"IEND", b""))


def _canvas(width: float, height: float, seed: int, translucent: bool = False) -> Canvas:
    rng = np.random.default_rng(seed)
    c = Canvas(width, height)
    W, H = width * 72, height * 72
    n = 6
    c.rects(rng.uniform(0, W / 2, n), rng.uniform(0, H / 2, n), rng.uniform(5, W / 3, n), rng.uniform(5, H / 3, n),
            ["#1f77b4", "#fee08b", None, "#d62728", "#2ca02c", "#000000"], edge="#000000", lw=0.8)
    for k in range(3):
        c.line(rng.uniform(0, W, 12), rng.uniform(0, H, 12), "#d62728", 1.5, alpha=0.4 if translucent else 1.0)
    c.markers(rng.uniform(0, W, 9), rng.uniform(0, H, 9), "o", 6, "#2ca02c", alpha=0.7)
    c.text(W * 0.1, H * 0.2, f"Subject {seed:03d} ≥ µg", size=9)
    c.text(W * 0.05, H * 0.6, "% change", size=9, rotation=90, ha="center", va="bottom")
    return c


def test_pages_drawn_one_after_another_are_the_plain_ways_files():
    """Same size twice (the kept renderer and rows drawn over), another size, back to the first; a translucent
    page; each file equal to the reference, which draws on fresh memory."""
    cp._SPARE.clear()
    cp._BUFFERS.clear()
    sizes = [(3.0, 2.0, 1), (3.0, 2.0, 2), (2.5, 4.0, 3), (3.0, 2.0, 4), (3.0, 2.0, 5), (2.5, 4.0, 6)]
    for w, h, seed in sizes:
        c = _canvas(w, h, seed, translucent=seed == 5)
        assert cp.png_bytes(c) == _reference_png(c), (w, h, seed)
    same = _canvas(3.0, 2.0, 7)
    first = cp.png_bytes(same)
    kept = cp._SPARE[0][1]
    assert cp.png_bytes(same) == first == _reference_png(same)
    assert cp._SPARE[0][1] is kept                     # the renderer was drawn on again, not made anew


def test_white_page_is_aggs_white_patch():
    for w, h in ((3.0, 2.0), (0.01, 0.01), (9.0, 25.0)):
        c = Canvas(w, h)
        ref = cp._Page(c)
        gc = ref.gc()
        gc.set_linewidth(0)
        ref.r.draw_path(gc, cp.Path([(0, 0), (ref.w, 0), (ref.w, ref.h), (0, ref.h), (0, 0)], closed=True),
                        cp.IdentityTransform(), (1.0, 1.0, 1.0, 1.0))
        np.asarray(cp._white_page(c).r)[:5, :5] = 7           # scribble on the kept renderer...
        got = cp._white_page(c)                                # ...which the next page fills white again
        assert np.array_equal(np.asarray(got.r), np.asarray(ref.r))
        assert np.asarray(got.r).min() == 255


@pytest.mark.parametrize("h,w", [(1, 1), (3, 5), (40, 17000), (2000, 33), (301, 1080)])
def test_packed_rgb_is_pillows_tobytes(h, w):
    """Block by block into kept memory (rows wider than Pillow's 64 KB block, many blocks) as Pillow packs
    the whole image; and with Pillow's encoder entry point missing, the plain `tobytes`."""
    rng = np.random.default_rng(h * w)
    rgba = rng.integers(0, 256, size=(h, w, 4), dtype=np.uint8)
    want = rgba[:, :, :3].copy()
    assert np.array_equal(cp._packed_rgb(rgba), want)
    other = rng.integers(0, 256, size=(h, w, 4), dtype=np.uint8)
    assert np.array_equal(cp._packed_rgb(other), other[:, :, :3])     # the kept memory is overwritten


def test_packed_rgb_without_pillows_encoder_entry_point(monkeypatch):
    rgba = np.random.default_rng(3).integers(0, 256, size=(30, 41, 4), dtype=np.uint8)
    def missing():
        raise AttributeError("no _getencoder")
    monkeypatch.setattr(cp, "_rgb_encoder", missing)
    assert np.array_equal(cp._packed_rgb(rgba), rgba[:, :, :3])


def test_svg_stroke_text_remembered_is_the_texts_made_anew():
    from trialforge.tables import canvas_svg as cs
    cases = [("#d62728", 1.5), ("#000000", 0.8, 1.0, "butt"), ("#1f77b4", 1.3, 0.4, "round", (3.0, 1.5)),
             ((0.1, 0.2, 0.3), 2, 0.25, "projecting"), ("#2ca02c", 1.0, 1.0, None, [2.0, 2.0])]
    for args in cases * 2:                         # the second round from the remembered texts
        assert cs._stroke(*args) == cs._stroke_text(*args)
    assert cs._stroke("#1f77b4", 1.3, 0.4, "round", (3.0, 1.5)) == \
        "stroke:#1f77b4;stroke-width:1.3;stroke-opacity:0.4;stroke-linecap:round;stroke-dasharray:3,1.5"


def test_figures_reading_only_their_columns_draw_what_every_column_gave(monkeypatch):
    """The figures ask `Context.data` (and `_tumour`) for the columns they read; every page's primitives
    (as SVG text) and plotted data equal those drawn from records carrying every column (the reference:
    `columns` ignored)."""
    import pickle

    from trialforge.pipeline import DEFAULT_STUDY, build_adam_stage
    from trialforge.sdtm.engine import build_sdtm
    from trialforge.specs.ct import load_ct
    from trialforge.specs.study import load_study
    from trialforge.tables import figures as fig
    from trialforge.tables.build import _typeset_figure
    from trialforge.tables.canvas_svg import svg_text
    from trialforge.tables.catalogue import study_catalogue
    from trialforge.tables.engine import Context
    from trialforge.tables.facts import Facts
    from trialforge.tables.spec import FigureSpec
    from trialforge.tables.tabledata import TableData

    study = load_study(DEFAULT_STUDY)
    adam, _ = build_adam_stage(study, build_sdtm(study, ct=load_ct(list(study.ct_files) or None)))
    adam = {k.upper(): v for k, v in adam.items()}
    cat = study_catalogue(study)
    facts = Facts(adam, None, cat.defs)
    specs = [s for s in cat.outputs if isinstance(s, FigureSpec) and all(d.upper() in adam for d in s.requires)]
    assert {type(s.plot).__name__ for s in specs} >= {"KMPlot", "Waterfall", "Swimmer", "Spider",
                                                       "MeanConcentration", "IndividualProfiles"}

    def drawn():
        data = TableData(adam, prepare=False)
        out = []
        for s in specs:
            pages = fig.render_figure(_typeset_figure(facts.apply(s)), data)
            for k in range(pages.count):
                canvas, frame = pages.draw(k)
                out.append((s.id, k, svg_text(canvas), pickle.dumps(frame)))
        return out

    got = drawn()
    plain_data = Context.data
    monkeypatch.setattr(Context, "data", lambda self, name, where=None, *more, columns=None:
                        plain_data(self, name, where, *more))
    want = drawn()
    assert [g[:2] for g in got] == [w[:2] for w in want]
    for g, w in zip(got, want):
        assert g[2] == w[2], g[:2]
        assert pickle.loads(g[3]).equals(pickle.loads(w[3])), g[:2]


def test_tables_reading_only_their_columns_give_what_every_column_gave(monkeypatch):
    """Per-record continuous blocks, association tests and the dose-escalation DLTs ask `Context.data` for the
    columns they read; every table of the bundled studies equals the table computed from records carrying
    every column (the reference: `columns` ignored)."""
    from trialforge.pipeline import EXAMPLES, build_adam_stage
    from trialforge.sdtm.engine import build_sdtm
    from trialforge.specs.ct import load_ct
    from trialforge.specs.study import load_study
    from trialforge.tables.build import compute_table
    from trialforge.tables.catalogue import study_catalogue
    from trialforge.tables.engine import Context
    from trialforge.tables.facts import Facts
    from trialforge.tables.spec import TableSpec
    from trialforge.tables.tabledata import TableData

    def tables(study, adam):
        cat = study_catalogue(study)
        facts = Facts(adam, None, cat.defs)
        data = TableData(adam)
        out = {}
        for s in cat.outputs:
            if isinstance(s, TableSpec) and all(d.upper() in adam for d in s.requires):
                try:
                    out[s.id] = compute_table(s, data, facts).to_json()
                except Exception as exc:  # noqa: BLE001 - the same failure both ways is what counts
                    out[s.id] = f"{type(exc).__name__}: {exc}"
        return out

    plain_data = Context.data
    kinds = set()
    for name in ("cd70-cart", "cd7-heme"):
        study = load_study(EXAMPLES / name)
        adam, _ = build_adam_stage(study, build_sdtm(study, ct=load_ct(list(study.ct_files) or None)))
        adam = {k.upper(): v for k, v in adam.items()}
        kinds |= {type(s.layout).__name__ for s in study_catalogue(study).outputs if isinstance(s, TableSpec)}
        monkeypatch.setattr(Context, "data", plain_data)
        got = tables(study, adam)
        monkeypatch.setattr(Context, "data", lambda self, n, where=None, *more, columns=None:
                            plain_data(self, n, where, *more))
        assert got == tables(study, adam), name
    assert "DoseEscalation" in kinds


def test_page_paths_in_one_conversion_draw_the_per_run_pixels():
    """Lines and markers interleaved as the per-subject pages draw them (a line and its markers per subject,
    colours cycling, translucent lines that are never joined, runs of several opaque lines of one style,
    consecutive marker series of one style, clipped and not, a two-point line): `png_bytes` (every point
    converted once per page, each run a slice) against the reference drawing each run from its own items."""
    from trialforge.tables.canvas import Clip
    rng = np.random.default_rng(11)
    c = Canvas(4.0, 3.0)
    clip = Clip(20, 15, 260, 190)
    colours = ["#1f77b4", "#d62728", "#2ca02c"]
    for k in range(14):
        n = int(rng.integers(2, 9))
        x, y = np.sort(rng.uniform(10, 280, n)), rng.uniform(5, 210, n)
        c.line(x, y, colours[k % 3], 0.9, alpha=0.85 if k % 5 == 0 else 1.0, clip=clip if k % 2 else None)
        c.markers(x, y, "o", 2.0 + (k % 2), colours[k % 3], clip=clip if k % 2 else None)
    for k in range(4):                                     # one style: one run of lines, then one of markers
        c.line([15.0 + 30 * k, 15.0 + 30 * k], [200.0, 210.0], "#000000", 0.8, cap="butt")
    for k in range(3):
        c.markers([50.0 + k, 90.0], [60.0, 70.0 + k], "s", 4.0, "#444444")
    c.line([0.0, 288.0], [100.25, 100.25], "#555555", 0.8, dash=(2.96, 1.28), clip=clip)
    c.text(30.0, 40.0, "Subject 101-0007", size=8)
    items = c.items
    assert sum(type(i) is cp.Polyline for i in items) == 19 and sum(type(i) is cp.Markers for i in items) == 17
    assert cp.png_bytes(c) == _reference_png(c)


def _rect_pixels(rects: list, width: float = 4.0, height: float = 6.0) -> np.ndarray:
    """A white page with `rects` (Canvas.rects arguments) drawn by `_Page.rects`."""
    c = Canvas(width, height)
    for args, kw in rects:
        c.rects(*args, **kw)
    page = cp._white_page(c)
    for it in c.items:
        page.rects(it)
    return np.array(np.asarray(page.r))


@pytest.mark.parametrize("edge", [None, "#666666"])
def test_rectangles_apart_drawn_by_face_are_the_one_by_one_pixels(edge, monkeypatch):
    """Rectangles whose pixels cannot meet, drawn as one path per face colour, against each drawn alone (the
    rectangles handed over one per `rects` call): swimmer-like bars (fractional edges, five faces in mixed
    order, a missing face), a waterfall-like row, and rectangles that touch (drawn one by one either way).
    Same pixels; the grouped route was taken where the rectangles are apart, and not where they touch."""
    rng = np.random.default_rng(7)
    n = 40
    bars = ([np.full(n, 12.3), 5.0 + np.arange(n) * 10.37, rng.uniform(5, 250, n), np.full(n, 6.74),
             [["#a6cee3", "#cab2d6", "#fdbf6f", None, "#b2df8a"][k] for k in rng.integers(0, 5, n)]],
            {"edge": edge, "lw": 0.4})
    row = ([20.2 + np.arange(25) * 10.5, np.full(25, 100.3), np.full(25, 6.4), rng.uniform(-60, 60, 25),
            [["#1a9850", "#d73027", "#fee08b"][k] for k in rng.integers(0, 3, 25)]], {"edge": edge, "lw": 0.4})
    touching = ([[10.0, 30.0, 50.0], [10.0, 10.0, 10.0], [20.0, 20.0, 20.0], [15.0, 15.0, 15.0],
                 ["#1f77b4", "#1f77b4", "#d62728"]], {"edge": edge, "lw": 0.8})
    grouped = []
    real = cp._by_face
    monkeypatch.setattr(cp, "_by_face", lambda faces: grouped.append(len(faces)) or real(faces))
    close = ([20.2 + np.arange(25) * 10.5, np.full(25, 100.3), np.full(25, 8.4), rng.uniform(-60, 60, 25),
              ["#1a9850"] * 25], {"edge": edge, "lw": 0.4})       # 3.5 pixels apart: within the margin
    for rects, apart in ((bars, True), (row, True), (close, False), (touching, False)):
        grouped.clear()
        (x, y, w, h, faces), kw = rects
        one_by_one = [(([x[i]], [y[i]], [w[i]], [h[i]], [faces[i]]), kw) for i in range(len(faces))]
        want = _rect_pixels(one_by_one, 4.0, 6.0)
        got = _rect_pixels([rects], 4.0, 6.0)
        assert (want != 255).any()
        assert np.array_equal(got, want)
        assert bool(grouped) == apart, rects
