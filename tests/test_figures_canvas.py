"""The drawing layer of the per-subject figures (tables/canvas*.py, axes_layout.py), checked against
independently computed expectations: pixels read back from the PNG at hand-computed coordinates, SVG
elements parsed with lxml, tick positions and labels against matplotlib's own Axes for the same
limits and size, text placement against matplotlib's Text extents, and the bytes of a page drawn in
two separate processes."""
from __future__ import annotations

import io
import subprocess
import sys
import zlib
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from lxml import etree  # noqa: E402
from PIL import Image  # noqa: E402

from trialforge.tables import axes_layout as al  # noqa: E402
from trialforge.tables.canvas import Canvas, Clip, Text, layout  # noqa: E402
from trialforge.tables.canvas_png import png_bytes  # noqa: E402
from trialforge.tables.canvas_svg import svg_text  # noqa: E402

SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}href"


def _pixels(c: Canvas) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png_bytes(c))).convert("RGB"))


def _chunks(png: bytes) -> list[str]:
    out, pos = [], 8
    while pos < len(png):
        n = int.from_bytes(png[pos:pos + 4], "big")
        out.append(png[pos + 4:pos + 8].decode())
        pos += 12 + n
    return out


def test_png_rectangle_pixels_at_hand_computed_coordinates():
    c = Canvas(2, 1)                                    # 240 x 120 px at 120 dpi
    c.rects([36.0], [18.0], [36.0], [18.0], ["#1f77b4"])  # points -> px x 60..120, y 30..60
    px = _pixels(c)
    assert px.shape == (120, 240, 3)
    assert tuple(px[45, 90]) == (0x1f, 0x77, 0xb4)     # inside
    assert tuple(px[31, 61]) == (0x1f, 0x77, 0xb4) and tuple(px[58, 118]) == (0x1f, 0x77, 0xb4)
    for y, x in ((45, 57), (45, 123), (27, 90), (63, 90)):  # just outside each side
        assert tuple(px[y, x]) == (255, 255, 255)


def test_png_markers_clip_and_no_metadata_chunks():
    c = Canvas(2, 1)
    c.markers([72.0], [36.0], "s", 12.0, "#cb181d")   # centre px (120, 60), side 12 pt = 20 px
    c.rects([0.0], [0.0], [144.0], [72.0], ["#000000"], clip=Clip(100.0, 0.0, 144.0, 20.0))
    px = _pixels(c)
    assert tuple(px[60, 120]) == (0xcb, 0x18, 0x1d)
    assert tuple(px[60, 128]) == (0xcb, 0x18, 0x1d)    # 8 px from the centre: inside the square
    assert tuple(px[60, 134]) == (255, 255, 255)      # 14 px: outside (10 px half side + 1 px edge)
    assert tuple(px[10, 200]) == (0, 0, 0)            # clipped rectangle: inside the clip
    assert tuple(px[10, 150]) == (255, 255, 255)      # left of the clip (x < 100 pt = 166.7 px)
    assert tuple(px[50, 200]) == (255, 255, 255)      # below the clip (y > 20 pt = 33.3 px)
    png = png_bytes(c)
    assert _chunks(png) == ["IHDR", "pHYs", "IDAT", "IEND"]      # no time, software or text chunks
    ihdr = png[16:24]
    assert (int.from_bytes(ihdr[:4], "big"), int.from_bytes(ihdr[4:], "big")) == (240, 120)
    idat = png[png.index(b"IDAT") + 4:png.index(b"IEND") - 8]
    assert len(zlib.decompress(idat)) == 120 * (1 + 240 * 3)    # RGB rows with a filter byte


def test_svg_elements_carry_the_hand_computed_coordinates():
    c = Canvas(3, 2)
    c.rects([10.0, 50.0], [20.0, 30.0], [30.0, 5.5], [40.0, 1.25], ["#a6cee3", None], edge="#666666", lw=0.4,
            clip=Clip(5.0, 6.0, 200.0, 100.0))
    c.line([0.0, 100.0], [50.0, 50.0], "#555555", 0.8, dash=(2.96, 1.28))
    c.markers([30.0, 60.0], [70.0, 80.0], "^", 7.0, "#006d2c")
    c.text(100.0, 120.0, "Subject & <1>", size=9.0, ha="center", va="top")
    c.text(20.0, 60.0, "Rotated", size=8.0, ha="right", va="center", rotation=90)
    c.text(20.0, 130.0, "Number at risk", size=8.0, weight="bold", colour="#d62728")
    root = etree.fromstring(svg_text(c).encode())
    assert root.get("width") == "216pt" and root.get("height") == "144pt" and root.get("viewBox") == "0 0 216 144"
    rects = root.findall(f".//{SVG}g/{SVG}rect")
    assert [(r.get("x"), r.get("y"), r.get("width"), r.get("height")) for r in rects] == \
        [("10", "20", "30", "40"), ("50", "30", "5.5", "1.25")]
    assert "fill:#a6cee3" in rects[0].get("style") and "fill:none" in rects[1].get("style")
    clip = root.find(f".//{SVG}clipPath")
    assert clip.get("id") == "c0"
    assert [clip[0].get(k) for k in ("x", "y", "width", "height")] == ["5", "6", "195", "94"]
    line = root.find(f".//{SVG}polyline")
    assert line.get("points") == "0,50 100,50" and "stroke-dasharray:2.96,1.28" in line.get("style")
    tri = root.find(f".//{SVG}path[@id='m0']")
    assert tri.get("d") == "M 0 -3.5 L -3.5 3.5 L 3.5 3.5 Z"          # matplotlib's ^ at 7 pt, y down
    assert [(u.get("x"), u.get("y"), u.get(XLINK)) for u in root.iter(f"{SVG}use")] == \
        [("30", "70", "#m0"), ("60", "80", "#m0")]
    texts = root.findall(f".//{SVG}text")
    assert texts[0].text == "Subject & <1>" and "text-anchor:middle" in texts[0].get("style")
    assert texts[0].get("x") == "100"                                   # centred at the anchor
    assert "rotate(-90" in texts[1].get("transform")
    assert texts[2].get("style") == "font:bold 8px 'DejaVu Sans';text-anchor:start" and texts[2].get("fill") == "#d62728"
    assert texts[0].get("style") == "font:9px 'DejaVu Sans';text-anchor:middle"


def _mpl_text_box(x_pt, y_pt, s, size, ha, va, rotation, page=(3.0, 2.0)):
    """The window extent matplotlib gives the same text, in page points with y down."""
    fig = plt.figure(figsize=page, dpi=120)
    try:
        t = fig.text(x_pt / 72 / page[0], 1 - y_pt / 72 / page[1], s, fontsize=size, ha=ha, va=va,
                     rotation=rotation, family="DejaVu Sans")
        fig.canvas.draw()
        bb = t.get_window_extent()
    finally:
        plt.close(fig)
    k = 72 / 120
    return bb.x0 * k, page[1] * 72 - bb.y1 * k, bb.x1 * k, page[1] * 72 - bb.y0 * k


@pytest.mark.parametrize("s,ha,va,rot", [("Time (months)", "center", "top", 0), ("−100", "right", "center_baseline", 0),
                                         ("101-003", "center", "top", 90), ("Best %\nin sum", "right", "center", 90),
                                         ("First response (CR/PR)", "left", "center", 0)])
def test_text_placement_matches_matplotlib_text_extents(s, ha, va, rot):
    t = Text(100.0, 70.0, s, size=9.0, ha=ha, va=va, rotation=rot)
    lines = layout(t)
    want = _mpl_text_box(100.0, 70.0, s, 9.0, ha, va, rot)
    # our lines' baseline-left points must lie inside matplotlib's box, and the box's centre must agree
    from trialforge.tables.canvas import text_box
    w, h = text_box(s, 9.0)
    bw, bh = (h, w) if rot else (w, h)
    assert abs(bw - (want[2] - want[0])) < 1.0 and abs(bh - (want[3] - want[1])) < 1.0
    for x, y, _, _ in lines:
        assert want[0] - 0.8 <= x <= want[2] + 0.8 and want[1] - 0.8 <= y <= want[3] + 0.8


def _mpl_ticks(size_in, pos, lim, scale, axis, **kw):
    fig = plt.figure(figsize=size_in)
    try:
        with plt.rc_context({"font.size": 9, "font.family": "DejaVu Sans"}):
            ax = fig.add_axes(pos)
            setter = ax.set_xscale if axis == "x" else ax.set_yscale
            setter(scale, **kw)
            (ax.set_xlim if axis == "x" else ax.set_ylim)(*lim)
            fig.canvas.draw()
            a = ax.xaxis if axis == "x" else ax.yaxis
            lo, hi = sorted(lim)
            got = [(float(t.get_loc()), t.label1.get_text()) for t in a.get_major_ticks()
                   if lo - 1e-9 * abs(hi - lo) <= t.get_loc() <= hi + 1e-9 * abs(hi - lo)]
            minor = [float(v) for v in a.get_minorticklocs() if lo <= v <= hi]     # those drawn
            length = (ax.get_position().width * size_in[0] if axis == "x" else ax.get_position().height * size_in[1]) * 72
        return (got, minor) if kw.get("minor") is None and scale == "log" else got, length
    finally:
        plt.close(fig)


@pytest.mark.parametrize("lim,axis,size,pos", [
    ((0.0, 20.9), "x", (9, 10.7), [0.17, 0.05, 0.62, 0.93]),
    ((-105.0, 82.3), "y", (9, 5.2), [0.1, 0.2, 0.88, 0.77]),
    ((0.0, 1.03), "y", (9, 6.0), [0.2, 0.3, 0.76, 0.6]),
    ((-112.0, 85.0), "y", (9, 5.0), [0.08, 0.1, 0.76, 0.85]),
    ((0.0, 413.0), "x", (3, 2), [0.2, 0.2, 0.7, 0.7]),
])
def test_linear_ticks_equal_matplotlib_axes_ticks(lim, axis, size, pos):
    want, length = _mpl_ticks(size, pos, lim, "linear", axis)
    got = al.ticks(*lim, al.Scale(), length, axis)
    assert [float(v) for v in got.major] == pytest.approx([v for v, _ in want])
    assert got.labels == [s for _, s in want]


@pytest.mark.parametrize("lim", [(40.0, 3e5), (0.5, 20.0), (12.0, 2e7)])
def test_log_ticks_equal_matplotlib_axes_ticks(lim):
    (want, minor), length = _mpl_ticks((3, 2.5), [0.2, 0.2, 0.7, 0.6], lim, "log", "y")
    got = al.ticks(*lim, al.Scale("log"), length, "y")
    assert [float(v) for v in got.major] == pytest.approx([v for v, _ in want])
    assert [float(v) for v in got.minor] == pytest.approx(minor)
    assert [f"$\\mathdefault{{{s}}}$" for s in got.labels] == [s for _, s in want]


def test_symlog_ticks_equal_matplotlib_axes_ticks():
    lim = (-5.4, 420.0)
    want, length = _mpl_ticks((3, 2.5), [0.2, 0.2, 0.7, 0.6], lim, "symlog", "x", linthresh=28, linscale=1.0)
    got = al.ticks(*lim, al.Scale("symlog", 28.0, 1.0), length, "x")
    assert [float(v) for v in got.major] == pytest.approx([v for v, _ in want])


def test_frame_maps_data_to_page_points_by_hand():
    f = al.Frame(100.0, 50.0, 400.0, 350.0, (0.0, 30.0), (-100.0, 50.0))
    assert float(f.px(15.0)) == pytest.approx(250.0)
    assert float(f.py(-100.0)) == pytest.approx(350.0) and float(f.py(50.0)) == pytest.approx(50.0)
    g = al.Frame(0.0, 0.0, 100.0, 100.0, (1.0, 1000.0), (1.0, 1e4), al.Scale("symlog", 28.0, 1.0), al.Scale("log"))
    assert float(g.py(100.0)) == pytest.approx(50.0)                    # half way up 4 decades
    # symlog: linear to 28 (28 x 1/(1 - 1/10) units), then log10(x/28) more units
    u = lambda x: x / 0.9 if x <= 28 else 28 / 0.9 + 28 * np.log10(x / 28)  # noqa: E731
    assert float(g.px(28.0)) == pytest.approx((u(28) - u(1)) / (u(1000) - u(1)) * 100)


def test_autoscale_adds_five_percent_margins_and_keeps_a_bar_base():
    assert al.autoscale(0.0, 20.0, al.Scale()) == pytest.approx((-1.0, 21.0))
    assert al.autoscale(0.0, 20.0, al.Scale(), sticky_lo=0.0) == pytest.approx((0.0, 21.0))
    lo, hi = al.autoscale(10.0, 1e4, al.Scale("log"))
    assert np.log10([lo, hi]) == pytest.approx([1 - 0.15, 4 + 0.15])


PAGE_SCRIPT = """
import dataclasses, hashlib, sys
from pathlib import Path
from trialforge.tables import figures
from trialforge.tables.catalogue import load_catalogue
from trialforge.tables.demo_adam import make_adam
from trialforge.tables.canvas_png import png_bytes
from trialforge.tables.canvas_svg import svg_text
cat = load_catalogue(Path(sys.argv[1]))
adam = {k.upper(): v for k, v in make_adam().items()}
for fid in ("14.2.1.3", "14.2.1.4", "14.2.1.5", "14.2.3.2"):
    spec = next(o for o in cat.figures if o.id == fid)
    spec = dataclasses.replace(spec, plot=dataclasses.replace(spec.plot, per_page=5))
    pages = figures.render_figure(spec, adam)
    order = range(pages.count) if sys.argv[2] == "forward" else reversed(range(pages.count))
    got = {}
    for k in order:
        c, _ = pages.draw(k)
        got[k] = hashlib.sha256(png_bytes(c) + svg_text(c).encode()).hexdigest()
    print(fid, pages.count, " ".join(got[k] for k in sorted(got)))
"""


def test_pages_are_byte_identical_across_processes_and_drawing_order():
    cat = Path(__file__).resolve().parents[1] / "examples" / "cd70-cart" / "tables.yaml"
    runs = [subprocess.run([sys.executable, "-c", PAGE_SCRIPT, str(cat), order], capture_output=True, text=True,
                           check=True).stdout for order in ("forward", "backward")]
    assert runs[0] == runs[1]
    counts = [int(line.split()[1]) for line in runs[0].splitlines()]
    assert len(counts) == 4 and all(n > 1 for n in counts)


def test_every_figure_type_draws_canvas_pages_without_opening_a_matplotlib_figure():
    import dataclasses
    from trialforge.tables import figures
    from trialforge.tables.catalogue import load_catalogue
    from trialforge.tables.demo_adam import make_adam
    cat = load_catalogue(Path(__file__).resolve().parents[1] / "examples" / "cd70-cart" / "tables.yaml")
    adam = {k.upper(): v for k, v in make_adam().items()}
    before = set(plt.get_fignums())
    kinds = set()
    for spec in cat.figures:
        if hasattr(spec.plot, "per_page"):
            spec = dataclasses.replace(spec, plot=dataclasses.replace(spec.plot, per_page=3))
        pages = figures.render_figure(spec, adam)
        for k in range(pages.count):
            assert isinstance(pages.draw(k)[0], Canvas)
        pages.close()
        kinds.add(type(spec.plot).__name__)
    assert kinds == {"KMPlot", "Waterfall", "Swimmer", "Spider", "MeanConcentration", "IndividualProfiles",
                     "StripPlot"}
    assert set(plt.get_fignums()) == before


def test_subject_rows_group_like_groupby_and_yield_nothing_for_no_rows():
    import pandas as pd
    from trialforge.tables import figures
    frame = pd.DataFrame({"USUBJID": ["S2", "S1", "S2", "S3", "S1", "S2"], "t": [5, 3, 1, 2, 3, 1]})
    got = figures._subject_rows(frame["USUBJID"].to_numpy())
    assert [r.tolist() for r in got] == [[1, 4], [0, 2, 5], [3]]
    by_time = np.argsort(frame["t"].to_numpy(), kind="stable")
    got = figures._subject_rows(frame["USUBJID"].to_numpy(), by_time)
    assert [r.tolist() for r in got] == [[1, 4], [2, 5, 0], [3]]   # by time, ties in frame order
    assert figures._subject_rows(np.array([], dtype=object)) == []


def _build(fid: str, cap: int, out: Path) -> dict:
    import dataclasses
    import json
    from trialforge.tables.build import build_tables
    from trialforge.tables.catalogue import load_catalogue
    from trialforge.tables.demo_adam import make_adam
    cat = load_catalogue(Path(__file__).resolve().parents[1] / "examples" / "cd70-cart" / "tables.yaml")
    spec = next(o for o in cat.figures if o.id == fid)
    spec = dataclasses.replace(spec, plot=dataclasses.replace(spec.plot, per_page=cap))
    build_tables(make_adam(), out, only=[fid], tables=[], figures=[spec], catalogue=cat)
    return json.loads((out / f"f_{fid.replace('.', '_')}.json").read_text())


def _data_rects(svg: Path, edge: str) -> list:
    root = etree.parse(str(svg)).getroot()
    return [tuple(float(r.get(k)) for k in ("x", "y", "width", "height")) for r in root.iter(f"{SVG}rect")
            if f"stroke:{edge}" in (r.get("style") or "") and r.getparent().get("clip-path")]


def test_swimmer_svg_bars_are_proportional_to_time_and_rows_follow_the_json(tmp_path):
    data = _build("14.2.1.4", 6, tmp_path)
    page1 = [r for r in data["data"] if r["page"] == 1]
    bars = _data_rects(tmp_path / "f_14_2_1_4_p1.svg", "#666666")
    assert len(bars) == len(page1) == 6
    # row 0 of the page is drawn at the bottom: the JSON order runs bottom to top
    bars = sorted(bars, key=lambda b: -b[1])
    lefts = {round(b[0], 2) for b in bars}
    assert len(lefts) == 1                                  # every bar starts at time 0
    per_unit = [b[2] / r["end"] for b, r in zip(bars, page1)]
    assert max(per_unit) - min(per_unit) < 0.02 * max(per_unit)   # one time scale (2 decimals in the SVG)
    root = etree.parse(str(tmp_path / "f_14_2_1_4_p1.svg")).getroot()
    labels = [t.text for t in root.iter(f"{SVG}text") if "font:7px" in t.get("style")]
    assert len(labels) == 6 and len(set(labels)) == 6       # one subject label per row


def test_waterfall_svg_bars_grow_from_zero_by_the_best_change(tmp_path):
    data = _build("14.2.1.3", 50, tmp_path)
    recs = data["data"]
    bars = sorted(_data_rects(tmp_path / "f_14_2_1_3.svg", "#333333"), key=lambda b: b[0])
    assert len(bars) == len(recs)
    ups = [b for b, r in zip(bars, recs) if r["best_pchg"] > 0]
    downs = [b for b, r in zip(bars, recs) if r["best_pchg"] < 0]
    zero_from_ups = {round(b[1] + b[3], 1) for b in ups}       # positive bars end at the zero line
    zero_from_downs = {round(b[1], 1) for b in downs}          # negative bars start there
    assert len(zero_from_ups | zero_from_downs) == 1
    per_pct = [b[3] / abs(r["best_pchg"]) for b, r in zip(bars, recs) if abs(r["best_pchg"]) > 5]
    assert max(per_pct) - min(per_pct) < 0.02 * max(per_pct)


def test_a_missing_value_draws_no_bar_in_either_back_end():
    c = Canvas(1, 1)
    c.rects([6.0, float("nan")], [6.0, 30.0], [30.0, 30.0], [12.0, 12.0], ["#ff0000", "#0000ff"])
    root = etree.fromstring(svg_text(c).encode())
    assert len(root.findall(f".//{SVG}g/{SVG}rect")) == 1
    px = _pixels(c)
    assert not ((px[..., 2] > 200) & (px[..., 0] < 50)).any()      # no blue pixel anywhere
    assert tuple(px[20, 30]) == (255, 0, 0)


def test_png_encoder_round_trips_through_pillow_and_writes_the_resolution():
    from trialforge.tables.canvas_png import encode_png
    rng = np.random.default_rng(7)
    rgb = rng.integers(0, 256, size=(37, 53, 3), dtype=np.uint8)   # every filter difference wraps somewhere
    png = encode_png(rgb, 120)
    img = Image.open(io.BytesIO(png))
    assert img.mode == "RGB" and img.size == (53, 37)
    assert (np.asarray(img) == rgb).all()
    assert img.info["dpi"] == pytest.approx((120, 120), abs=0.02)    # 4724 px/m
    assert _chunks(png) == ["IHDR", "pHYs", "IDAT", "IEND"]


def test_text_length_equals_pillows_getlength():
    """`canvas.text_length` (remembered characters and pairs) against Pillow's `getlength` of the whole text,
    for subject labels, words, non-ASCII and random texts in the figures' sizes and weights."""
    import random
    from trialforge.tables.canvas import pil_font, text_length
    rnd = random.Random(3)
    alphabet = "0123456789-ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz ()%/.,:;µ≥≤±×⁰¹²³⁴⁵⁶⁷⁸⁹_'\"ÄéVAWTo"
    texts = ["", "0", "CD70-101-0007 (DL2)", "AVAWAY To", "ffi", "µg/mL ≥ 10"]
    texts += ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(1, 30))) for _ in range(300)]
    for k, text in enumerate(texts):
        size, weight = [5.6, 6.3, 7.0, 8.0, 9.0][k % 5], "bold" if k % 4 == 1 else "normal"
        assert text_length(size, weight)(text) == pil_font(size, weight).getlength(text), text


def test_line_from_lists_equals_line_from_arrays():
    """`Canvas.line` given plain lists of finite numbers (its fast path) makes the polyline the array path
    makes; lists with a missing or infinite point, or too short, take the general path."""
    from trialforge.tables.canvas import Polyline
    cases = [([1.0, 2.5], [3.0, 4.0]), ([np.float64(1.25), 7], [0, np.float64(2.0)]), ([1.0], [2.0]),
             ([1.0, float("nan"), 3.0], [1.0, 2.0, 3.0]), ([1.0, float("inf")], [1.0, 2.0]), ([], []),
             ([1.0, 2.0, 3.0], [4.0, 5.0, None])]
    for x, y in cases:
        a, b = Canvas(1, 1), Canvas(1, 1)
        try:
            a.line(x, y, "#000000", 0.8, dash=(1.0, 2.0), alpha=0.5)
        except TypeError:
            with pytest.raises(TypeError):
                b.line(np.asarray(x, dtype=object), np.asarray(y, dtype=object), "#000000", 0.8, dash=(1.0, 2.0),
                       alpha=0.5)
            continue
        b.line(np.asarray(x, dtype=float), np.asarray(y, dtype=float), "#000000", 0.8, dash=(1.0, 2.0), alpha=0.5)
        assert len(a.items) == len(b.items)
        for p, q in zip(a.items, b.items):
            assert type(p) is Polyline and type(q) is Polyline
            assert p.x.dtype == q.x.dtype == np.float64 and np.array_equal(p.x, q.x) and np.array_equal(p.y, q.y)
            assert (p.colour, p.lw, p.dash, p.alpha, p.clip, p.cap) == (q.colour, q.lw, q.dash, q.alpha, q.clip, q.cap)
