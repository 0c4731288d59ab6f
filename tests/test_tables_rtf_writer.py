"""The direct RTF writer (tables/rtf_table.py) against rtflite, the independent oracle: the same
table rendered both ways must be the same bytes, and the fast path must not build rtflite objects."""
from __future__ import annotations

import pytest
from rtflite.strwidth import get_string_width

from trialforge.tables import render
from trialforge.tables.result import Row, TableResult
from trialforge.tables.rtf_metrics import string_width_in

PAGE = {"protocol": "P-1 ≥ µ", "cutoff": "2025-01-01", "program": "t_demo", "source": "ADSL, ADAE"}


def _table(nrows_per_group: int = 3, footnotes=None) -> TableResult:
    """Two header rows with spans, bold group headings, two indent levels, decimal-aligned n (%),
    a free-text column that wraps, and RTF-special characters everywhere."""
    rows = []
    for g in range(4):
        rows.append(Row(f"Group {g} ≥ 3 µg \"quoted\" {{braced}} back\\slash", ["", "", "", ""], 0, True))
        rows.append(Row("Sub-heading ± \\trowd literal", ["", "", "", ""], 1, True))
        for i in range(nrows_per_group):
            n = (i * 7 + g) % 23
            rows.append(Row(f"Term {g}.{i} – naïve ‘x’ \uff01", [
                f"{n} ({100 * n / 23:.1f})" if n else "0", str(n), f"{n * 3} ({n * 1.5:.1f})",
                "a long free text cell that has to wrap over several lines {x} \\ ≤ 5" if i % 5 == 0 else "short"],
                2))
    return TableResult(
        id="14.9.9", title="Hand-made ≥ table \"q\" {b} \\x µg/L", population="Safety Analysis Set",
        header=[[("Intravenous", 2), ("Total", 1), ("Notes", 1)],
                [("DL1 (N=3)", 1), ("DL2 (N=12)", 1), ("Total (N=15)", 1), ("Free text", 1)]],
        stub_header="System organ class\\Preferred term",
        rows=rows,
        footnotes=["First note ≥ 5 {a} \\b \"c\".", "Second note µg ± 1."] if footnotes is None else footnotes)


@pytest.mark.parametrize("per_group,footnotes", [(2, None), (2, []), (40, None), (40, [])])
def test_writer_equals_rtflite(per_group, footnotes):
    res = _table(per_group, footnotes)
    direct = render.table_to_rtf(res, PAGE)
    oracle = render.table_to_rtf_rtflite(res, PAGE)
    assert direct == oracle
    pages = direct.count("\\pagebb") + 1
    if per_group == 40:
        assert pages >= 3                                  # the multi-page cut is exercised
        assert " (cont.)" in direct                        # continuation headings on a later page
    else:
        assert pages == 1
    assert ("First note" in direct) == (footnotes is None)


def test_writer_builds_no_rtflite_objects(monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("rtflite object built on the direct path")
    for name in ("RTFDocument", "RTFBody", "RTFColumnHeader", "RTFTitle", "RTFFootnote", "RTFPage"):
        monkeypatch.setattr(render.rtf, name, refuse)
    text = render.table_to_rtf(_table(40), PAGE)
    assert text.startswith("{\\rtf1") and text.isascii()


def test_empty_table_still_renders():
    """No body rows: rtflite's path (the rare case the direct writer leaves to it)."""
    res = _table(1)
    res.rows = []
    text = render.table_to_rtf(res, PAGE)
    assert "Table 14.9.9" in text and "\\trowd" in text


def test_string_width_equals_rtflite():
    for s in ["", "Term", "naïve ‘x’ \uff01", "12 (100.0)", "Wide WWWW iiii"]:
        for size in (8, 9, 12):
            assert string_width_in(s, 1, size) == get_string_width(s, font=1, font_size=size)


def _png(path, w: int, h: int):
    """A real PNG of w x h pixels (Pillow's encoder, so rtflite reads dimensions from an independent file)."""
    from PIL import Image
    Image.new("RGB", (w, h), (250, 20, 30)).save(path, format="PNG")
    return path


@pytest.mark.parametrize("footnotes", [
    ["Dashed lines: +20% (progression) and \u221230% thresholds.", "Bars ≥ 5 µg ± 1 {b} \\x \"q\"."],
    ["One long footnote that wraps " * 12],
    []])
@pytest.mark.parametrize("size", [(1080, 624), (1200, 480), (640, 1632), (7, 3)])
def test_figure_writer_equals_rtflite(tmp_path, footnotes, size):
    png = _png(tmp_path / "p.png", *size)
    args = ("Figure", "14.2.1.3 (page 2 of 17)", "Waterfall ≥ plot µg {a} \\b", "Efficacy \u2013 Set ±",
            png, footnotes, {**PAGE, "program": "prog ‘x’", "source": "ADaM ADSL, ADRS"})
    direct = render.figure_to_rtf(*args)
    assert direct == render.figure_to_rtf_rtflite(*args)
    assert direct.isascii() and png.read_bytes().hex()[:80] in direct


def test_figure_writer_builds_no_rtflite_objects(tmp_path, monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("rtflite object built on the direct path")
    for name in ("RTFDocument", "RTFFigure", "RTFTitle", "RTFFootnote", "RTFPage", "RTFPageHeader"):
        monkeypatch.setattr(render.rtf, name, refuse)
    text = render.figure_to_rtf("Figure", "1", "T", "P", _png(tmp_path / "p.png", 30, 20), ["f"], PAGE)
    assert "\\picw30\\pich20" in text
