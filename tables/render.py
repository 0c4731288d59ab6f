"""Render a TableResult (or a figure) to RTF (the bytes rtflite encodes, written directly) and to standalone HTML.

Both renderers read the same TableResult, and neither computes anything, so RTF and HTML show
the same numbers by construction; tests still parse both back and compare them.
"""
from __future__ import annotations

import functools
import html
import re
from pathlib import Path

from . import rtf_table
from .result import Row, TableResult
from .rtf_metrics import string_width_in


class _Rtflite:
    """rtflite, imported on first use: tables and figures are written directly (`rtf_table`); rtflite
    encodes only a table without rows or columns and the reference renderings the tests compare with.
    Its import (pydantic models, polars) costs ~0.5 s of CPU."""

    def __getattr__(self, name):
        import rtflite
        return getattr(rtflite, name)


rtf = _Rtflite()

INDENT_TWIPS = 200
STUB_WIDTH = 3.2


def _widths(res: TableResult, cells: list[list[str]] | None = None) -> list[float]:
    """Relative column widths from the content: a free-text column (DLT terms) gets more room than
    an 'n (%)' column; the stub gets what its longest label needs, within limits. ``cells``: the
    table's `align_decimals` cells when the caller has them."""
    def need(texts, lo, hi):
        widest = max(map(_text_in, set(texts)), default=0)           # each distinct text measured once
        return min(max(widest + CELL_PAD_IN + 0.12, lo), hi)
    head_words = [[w for t, span in h for w in [t] * span] for h in res.header[-1:]] or [[]]
    cells = align_decimals(res.rows, res.ncols) if cells is None else cells
    cols = []
    for j in range(res.ncols):
        texts = [c[j] for c in cells] + [max(head_words[0][j].split(), key=len, default="")]
        cols.append(need(texts, 0.6, 2.8))
    stub = need([r.label for r in res.rows] + [res.stub_header], 1.5, 3.0)
    widths = [stub] + cols
    if sum(widths) <= TABLE_W:
        return widths
    # too wide: columns whose texts cannot wrap (no spaces: ids, dates, counts) keep their width; the
    # free-text columns share what is left in proportion to their need
    texts = [[r.label for r in res.rows]] + [[c[j] for c in cells] for j in range(res.ncols)]
    rigid = [not any(" " in t.strip() for t in col) for col in texts]
    fixed = sum(w for w, r in zip(widths, rigid) if r)
    flex = sum(w for w, r in zip(widths, rigid) if not r)
    if flex == 0 or fixed >= TABLE_W - 0.6 * sum(not r for r in rigid):
        return widths                     # rtflite scales everything; nothing better to do
    scale = (TABLE_W - fixed) / flex
    return [w if r else max(w * scale, 0.6) for w, r in zip(widths, rigid)]


def _titles(res: TableResult) -> list[str]:
    return [f"{res.kind} {res.id}", res.title, res.population]


# ---------------------------------------------------------------- page geometry (inches / points)
PAGE_W, PAGE_H = 11.0, 8.5
MARGIN = [1.0, 1.0, 1.2, 1.0, 0.5, 0.5]          # left, right, top, bottom, header, footer
TABLE_W = PAGE_W - MARGIN[0] - MARGIN[1]
BODY_H_PT = (PAGE_H - MARGIN[2] - MARGIN[3]) * 72 * 0.90     # 10% slack for renderer differences
LINE_PT = 9 * 1.2 + 1.6                          # 9 pt text, 15 twips before and after
TITLE_PT = 12 * 1.2 + 6.5
CELL_PAD_IN = 0.16                               # gap + cell margins


@functools.lru_cache(maxsize=1 << 18)
def _word_in(word: str, size: float) -> float:
    return 1.06 * string_width_in(word.replace(NBSP, " "), font=1, size=size)   # 6% margin for renderers


@functools.lru_cache(maxsize=1 << 18)
def _lines(text: str, width_in: float, size: float = 9) -> int:
    """Lines a cell needs at `width_in` (word wrap estimated with rtflite's font metrics); cached,
    as listings repeat values (grades, outcomes, dates) in every row."""
    avail = max(width_in - CELL_PAD_IN, 0.3)
    text = str(text)
    space = _word_in(" ", size)
    total = 0
    for part in str(text).replace("\\line ", "\n").split("\n"):
        used, n = 0.0, 1
        for word in part.split(" "):
            w = _word_in(word, size)
            if used and used + space + w > avail:
                n += 1
                used = w
            else:
                used = used + space + w if used else w
        total += n
    return total


def _abs_widths(widths: list[float]) -> list[float]:
    tot = sum(widths)
    return [TABLE_W * w / tot for w in widths]


def _row_height(cells: list[str], widths_in: list[float], indent: int = 0, bold: bool = False) -> float:
    stub = widths_in[0] - indent * INDENT_TWIPS / 1440 - (0.1 * widths_in[0] if bold else 0)
    return max(_lines(c, w) for c, w in zip(cells, [stub] + list(widths_in[1:]))) * LINE_PT


def _row_heights(rows: list[Row], abs_w: list[float]) -> list[float]:
    """`_row_height` of every body row, a column at a time: each distinct text of a column is measured once
    (a listing repeats its values), and a row's height is the most lines any of its cells needs."""
    ncols = len(abs_w) - 1
    if any(len(r.cells) != ncols for r in rows):
        return [_row_height([r.label] + r.cells, abs_w, r.indent, r.header) for r in rows]
    w0 = abs_w[0]
    lines = [_lines(r.label, w0 - r.indent * INDENT_TWIPS / 1440 - (0.1 * w0 if r.header else 0)) for r in rows]
    for j in range(ncols):
        col = [r.cells[j] for r in rows]
        need = {c: _lines(c, abs_w[j + 1]) for c in set(col)}
        lines = list(map(max, lines, map(need.__getitem__, col)))
    return [n * LINE_PT for n in lines]


def paginate(res: TableResult, widths: list[float], footnote_pt: float) -> list[list[int]]:
    """Row indices per page. Each page carries titles and column headers; a page that starts inside a
    group repeats the group's heading rows (marked "(cont.)"), whose height is budgeted too."""
    abs_w = _abs_widths(widths)
    head_pt = sum(_row_height([res.stub_header if k == 0 else ""] + _expand_header(h), _span_widths(h, abs_w))
                  for k, h in enumerate(res.header))
    fixed = 3 * TITLE_PT + head_pt
    heights = _row_heights(res.rows, abs_w)
    pages: list[list[int]] = [[]]
    used = fixed
    for i, h in enumerate(heights):
        cont = sum(heights[j] for j in _ancestors(res.rows, i)) if pages[-1] == [] and i else 0
        if pages[-1] and used + h > BODY_H_PT:
            pages.append([])
            cont = sum(heights[j] for j in _ancestors(res.rows, i))
            used = fixed + cont
        pages[-1].append(i)
        used += h
    if used + footnote_pt > BODY_H_PT and len(pages[-1]) > 1:     # footnotes need room on the last page
        last = pages[-1]
        keep = len(last)
        while keep > 1:
            keep -= 1
            if fixed + sum(heights[j] for j in last[:keep]) + footnote_pt <= BODY_H_PT:
                break
        pages[-1], tail = last[:keep], last[keep:]
        pages.append(tail)
    return pages


def _expand_header(hrow) -> list[str]:
    return [t.replace(N_BREAK, "\n(N=") for t, _ in hrow]


def _span_widths(hrow, abs_w) -> list[float]:
    out, i = [abs_w[0]], 1
    for _, span in hrow:
        out.append(sum(abs_w[i:i + span]))
        i += span
    return out


def _ancestors(rows, i: int) -> list[int]:
    """Rows that head row i's group: the nearest earlier row of each smaller indent that is a heading
    (a header row, or any row directly followed by deeper-indented rows)."""
    out, level = [], rows[i].indent
    if level == 0:                     # nothing heads a top-level row (listings: every row)
        return out
    for j in range(i - 1, -1, -1):
        if rows[j].indent < level:
            if rows[j].header or rows[j + 1].indent > rows[j].indent:
                out.append(j)
            level = rows[j].indent
            if level == 0:
                break
    return out[::-1]


CONT = " (cont.)"
NBSP = "\u00a0"
FIGURE_SPACE = NBSP * 2   # two no-break spaces = one digit in Times/Liberation Serif (U+2007 is missing from many fonts)
_NPCT = re.compile(r"^(\d+)(?: \((\d+\.\d+)\))?$")


def page_rows(res: TableResult, pages: list[list[int]]) -> list[list[Row]]:
    """The rows each page prints: continuation headings first (label + " (cont.)", no cells)."""
    out = []
    for k, idx in enumerate(pages):
        rows = []
        if k and idx and res.rows[idx[0]].indent > 0:
            for j in _ancestors(res.rows, idx[0]):
                r = res.rows[j]
                rows.append(Row(r.label + CONT, [""] * len(r.cells), r.indent, header=True))
        rows += [res.rows[i] for i in idx]
        out.append(rows)
    return out


def align_decimals(rows: list[Row], ncols: int, ref: list[Row] | None = None) -> list[list[str]]:
    """Cells padded so that counts and percentages line up (widths from `ref`, the whole table, so
    every page pads alike)."""
    cells = [list(r.cells) for r in rows]
    ref_cells = [list(r.cells) for r in ref] if ref is not None else None
    for j in range(ncols):
        col = [c[j] for c in cells]
        match = {v: _NPCT.match(v) for v in set(col)}           # each distinct text parsed once
        if ref_cells is None and sum(m is not None for m in match.values()) < 2 and \
                sum(match[v] is not None for v in col) < 2:
            continue                        # (a listing's text column: nothing to align, no row pass below)
        parsed = list(map(match.__getitem__, col))
        hits = [m for m in (parsed if ref_cells is None else (_NPCT.match(c[j]) for c in ref_cells)) if m]
        if len(hits) < 2:
            continue
        wn = max(len(m.group(1)) for m in hits)
        wp = max((len(m.group(2)) for m in hits if m.group(2)), default=0)
        for c, m in zip(cells, parsed):
            if not m:
                continue
            n = FIGURE_SPACE * (wn - len(m.group(1))) + m.group(1)
            pct = f"{NBSP}({FIGURE_SPACE * (wp - len(m.group(2)))}{m.group(2)})" if m.group(2) else ""
            c[j] = n + pct
    return cells


def aligned_columns(res: TableResult) -> set[int]:
    """Data columns whose cells are counts / 'n (%)' (decimal-aligned: left-justified after padding,
    the block centred by a left indent)."""
    out = set()
    for j, col in enumerate(_columns(res)):
        vals = [v for v in col if v]
        if len(vals) >= 2 and all(_NPCT.match(v) for v in set(vals)):     # each distinct text tested once
            out.add(j)
    return out


def _columns(res: TableResult) -> list[list[str]]:
    """The body cells a column at a time (`r.cells[j]` of every row, for j in the table's columns)."""
    if not res.rows:
        return [[] for _ in range(res.ncols)]
    return [list(col) for col in zip(*(r.cells for r in res.rows))][:res.ncols]


@functools.lru_cache(maxsize=1 << 18)
def _text_in(text: str, size: float = 9) -> float:
    return sum(_word_in(w, size) for w in text.split(" ")) + \
        _word_in(" ", size) * text.count(" ")


def _running(page: dict, population: str, program: str):
    """Running header (replaced by ``header_rtf`` after encoding) and footer of every page."""
    head = rtf.RTFPageHeader(text=["running header"], text_convert=[False])    # placeholder for header_rtf
    foot = rtf.RTFPageFooter(text=[_footer_text(page, program)],
                             text_justification=["l"], text_font_size=[8], text_convert=[False])
    return head, foot


def _footer_text(page: dict, program: str) -> str:
    return f"Program: {program}    Data source: {page.get('source', 'ADaM')}"


def header_rtf(page: dict, population: str) -> str:
    """The CSR running header as two paragraphs with a right tab stop at the right margin: protocol on
    the left and "Page x of y" on the right of the first line; population and data cut-off on the right
    of the second. (rtflite joins header lines into one paragraph with one alignment.)"""
    right = int(round((PAGE_W - MARGIN[0] - MARGIN[1]) * 1440))
    para = f"{{\\pard\\plain\\hyphpar\\sb15\\sa15\\fi0\\li0\\ri0\\ql\\tqr\\tx{right}\\fs16"
    return (f"{{\\header{para}{{\\f0 Protocol: {page.get('protocol', '')}}}\\tab{{\\f0 Page \\chpgn of "
            f"{{\\field{{\\*\\fldinst NUMPAGES }}}}}}\\par}}"
            f"{para}\\tab{{\\f0 {population}    Data cut-off: {page.get('cutoff') or 'not stated'}}}\\par}}}}")


def set_header(text: str, header: str) -> str:
    """``text`` with its ``{\\header ...}`` group replaced by ``header`` (the group found by brace depth)."""
    start = text.index("{\\header")
    depth, i = 0, start
    while True:
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        depth += ch == "{"
        depth -= ch == "}"
        i += 1
        if depth == 0:
            break
    return text[:start] + header + text[i:]


def _rtf_page() -> "rtf.RTFPage":
    return rtf.RTFPage(orientation="landscape", width=PAGE_W, height=PAGE_H, margin=MARGIN, col_width=TABLE_W,
                       nrow=100000, page_title="all", page_footnote="last")


def _titles_rtf(texts: list[str]):
    return rtf.RTFTitle(text=texts, text_convert=[False], text_space_before=[40], text_space_after=[40])


def table_to_rtf(res: TableResult, page: dict | None = None) -> str:
    """RTF text: pages cut by `paginate`, each with running header/footer, titles, the full column
    header and its own rows' indent and bold; footnotes on the last page; decimal-aligned counts.

    Everything that depends on the whole table (aligned cells, column kinds, padding, the RTF row
    templates) is computed once here, not per page: a listing of thousands of rows has hundreds of
    pages. The RTF is written by `rtf_table` (rtflite's bytes without its per-cell objects); a table
    without body rows or columns goes through rtflite itself."""
    page = page or {}
    cells = align_decimals(res.rows, res.ncols)
    widths = _widths(res, cells)
    foot_pt = sum(_lines(f, TABLE_W) * LINE_PT for f in res.footnotes) + 6
    pages = paginate(res, widths, foot_pt)
    table = _TableFormat(res, widths, cells)
    if not res.rows or not res.ncols:
        return _table_rtf_rtflite(res, page, table, pages)
    program = page.get("program") or "trialforge tables"
    writer = rtf_table.TableRtf(_titles(res), [(text, w) for text, w, _ in table.headers], widths,
                                table.justify, TABLE_W)
    texts = []
    # every body row's cells written once, a column at a time; a page takes its rows' texts (a continuation
    # heading, made per page, is written on its own)
    written = dict(zip(map(id, res.rows), writer.body_cells(
        [(r.label, INDENT_TWIPS * r.indent, r.header) for r in res.rows], [list(col) for col in zip(*cells)],
        table.pad)))
    for k, rows in enumerate(page_rows(res, pages)):
        body = [written.get(id(r)) or writer.row_cells([r.label] + table.row_cells(r),
                                                       [INDENT_TWIPS * r.indent] + table.pad, r.header)
                for r in rows]
        last = k == len(pages) - 1
        texts.append(writer.page(body, writer.footnote(res.footnotes) if last else "", first_page=k == 0))
    pre = rtf_table.preamble(header_rtf(page, res.population), _footer_text(page, program),
                             PAGE_W, PAGE_H, MARGIN)
    # the writer's texts are already as `_ascii_rtf` leaves them (\trkeep, \u escapes); the
    # preamble's running header and footer get the same pass here
    return rtf_table.document(_ascii_rtf(pre), texts)


def table_to_rtf_rtflite(res: TableResult, page: dict | None = None) -> str:
    """`table_to_rtf` with every page encoded by rtflite (one RTFDocument per page, then joined):
    the reference the direct writer is tested against."""
    page = page or {}
    widths = _widths(res)
    foot_pt = sum(_lines(f, TABLE_W) * LINE_PT for f in res.footnotes) + 6
    return _table_rtf_rtflite(res, page, _TableFormat(res, widths), paginate(res, widths, foot_pt))


def _table_rtf_rtflite(res: TableResult, page: dict, table: "_TableFormat", pages: list[list[int]]) -> str:
    head, foot = _running(page, res.population, page.get("program") or "trialforge tables")
    docs = []
    for k, rows in enumerate(page_rows(res, pages)):
        last = k == len(pages) - 1
        docs.append(_table_page(res, rows, table, head, foot, res.footnotes if last else []))
    return _ascii_rtf(set_header(join_rtf(docs), header_rtf(page, res.population)))


class _TableFormat:
    """Per-table formatting shared by every page: decimal-aligned cells of each row, the column
    headers, which columns wrap or are aligned, and the left padding that centres aligned blocks."""

    def __init__(self, res: TableResult, widths: list[float], cells: list[list[str]] | None = None):
        self.widths = widths
        cells = align_decimals(res.rows, res.ncols) if cells is None else cells
        self.cells = {id(r): c for r, c in zip(res.rows, cells)}
        self.headers = []
        for k, hrow in enumerate(res.header):
            text = [res.stub_header if k == 0 else ""] + [_head_rtf(t) for t, _ in hrow]
            w = [widths[0]]
            i = 1
            for _, span in hrow:
                w.append(sum(widths[i:i + span]))
                i += span
            self.headers.append((text, w, len(hrow)))
        wrap = [j for j, col in enumerate(_columns(res)) if max(map(len, set(col)), default=0) > WRAP_AT]
        aligned = aligned_columns(res)
        abs_w = _abs_widths(widths)
        self.pad = [0] * res.ncols
        for j in aligned:                       # centre the aligned block in the column
            widest = max(map(_text_in, {c[j] for c in cells}), default=0)
            self.pad[j] = max(0, int((abs_w[j + 1] - CELL_PAD_IN - widest) / 2 * 1440))
        self.justify = ["l"] + ["l" if j in wrap or j in aligned else "c" for j in range(res.ncols)]

    def row_cells(self, row: Row) -> list[str]:
        """A row's aligned cells; a continuation heading (not a table row) has blank cells."""
        got = self.cells.get(id(row))
        return got if got is not None else list(row.cells)


def _table_page(res: TableResult, rows: list[Row], table: _TableFormat, head, foot, footnotes) -> str:
    widths = table.widths
    cols = [f"c{i}" for i in range(res.ncols + 1)]
    cells = [table.row_cells(r) for r in rows]
    data = {cols[0]: [r.label for r in rows]}
    for j in range(res.ncols):
        data[cols[j + 1]] = [c[j] for c in cells]
    import polars as pl
    df = pl.DataFrame(data, schema={c: pl.String for c in cols})
    headers = [rtf.RTFColumnHeader(text=list(text), col_rel_width=list(w),
                                   text_justification=[["l"] + ["c"] * n],
                                   text_convert=[[False] * len(text)])
               for text, w, n in table.headers]
    pad = table.pad
    body = rtf.RTFBody(
        col_rel_width=widths,
        text_justification=[list(table.justify)],        # one row: rtflite repeats it for every row
        text_indent_left=[[INDENT_TWIPS * r.indent] + pad for r in rows] or None,
        text_format=[["b" if r.header else ""] + [""] * res.ncols for r in rows] or None,
        text_convert=[[False] * (res.ncols + 1)],
    )
    doc = rtf.RTFDocument(
        df=df, rtf_page=_rtf_page(), rtf_page_header=head, rtf_page_footer=foot,
        rtf_title=_titles_rtf(_titles(res)), rtf_column_header=headers, rtf_body=body,
        rtf_footnote=rtf.RTFFootnote(text=list(footnotes), text_convert=[False]) if footnotes else None)
    return doc.rtf_encode()


def join_rtf(docs: list[str]) -> str:
    """One RTF from per-page rtflite documents: the first keeps its preamble (fonts, running header
    and footer, page setup); the others contribute their body, each starting a new page."""
    if len(docs) == 1:
        return docs[0]
    parts = []
    for k, text in enumerate(docs):
        # positions in `text`, sliced once (a figure page is ~0.5 MB of hex: no intermediate copies)
        end = len(text)
        while end and text[end - 1].isspace():          # text.rstrip()
            end -= 1
        assert end and text[end - 1] == "}"
        end -= 1
        if not k:
            parts.append(text[:end])
            continue
        cut = text.index("\\margl", 0, end)
        eol = text.index("\n", cut, end)
        title = text.find("{\\pard", cut, eol)     # a figure's title shares the page-setup line
        start = title if title >= 0 else eol + 1
        # the page's first paragraph (its title) starts a new page: \pagebb is honoured by Word and
        # LibreOffice alike, where a bare \page after a table is not
        first = text.index("{\\pard", start, end)
        parts += [text[start:first], "{\\pard\\pagebb", text[first + len("{\\pard"):end]]
    parts.append("}\n")
    return "".join(parts)


def _ascii_rtf(text: str) -> str:
    """Non-ASCII characters rtflite left as is (Latin-1: ×, µ, ±) as RTF Unicode escapes; every table
    row kept on one page (\\trkeep), so a wrapped row never splits across a page break."""
    text = text.replace("\\trowd", "\\trowd\\trkeep")
    if text.isascii():
        return text
    return _NON_ASCII.sub(lambda m: f"\\uc1\\u{ord(m.group())}*", text)


_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def _png_size(png: Path) -> tuple[int, int]:
    data = png.read_bytes()[:24]
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def _figure_box(png_px: tuple[int, int], footnotes: list[str]) -> tuple[float, float]:
    """The picture's (width, height) in inches on the page: the room left by titles and footnotes,
    at most 5.4 in high and the table width wide, the PNG's aspect kept; rounded as rtflite is given them."""
    foot_pt = sum(_lines(f, TABLE_W) * LINE_PT for f in footnotes) + 12
    room_in = (BODY_H_PT - 3 * TITLE_PT - foot_pt) / 72 - 0.35
    w_px, h_px = png_px
    height = min(room_in, 5.4)
    width = min(TABLE_W, height * w_px / h_px)
    height = width * h_px / w_px
    return round(width, 3), round(height, 3)


def figure_to_rtf(kind: str, fid: str, title: str, population: str, png: Path, footnotes: list[str],
                  page: dict | None = None) -> str:
    """One page: titles, the picture scaled to the room left, footnotes (as paragraphs, not a table).

    Written as strings (`rtf_table.figure_page`): the bytes rtflite's figure-only document gives
    (`figure_to_rtf_rtflite`, compared in tests/test_tables_rtf_writer.py) without its pydantic objects,
    second file read and per-line hex loop."""
    page = page or {}
    data = Path(png).read_bytes()
    w_px, h_px = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    width, height = _figure_box((w_px, h_px), footnotes)
    pre = rtf_table.figure_preamble(_ascii_rtf(header_rtf(page, population)),
                                    _footer_text(page, page.get("program") or "trialforge tables"),
                                    PAGE_W, PAGE_H, MARGIN)
    return rtf_table.figure_page(pre, [f"{kind} {fid}", title, population], data, (w_px, h_px),
                                 (width, height), footnotes)


def figure_to_rtf_rtflite(kind: str, fid: str, title: str, population: str, png: Path, footnotes: list[str],
                          page: dict | None = None) -> str:
    """`figure_to_rtf` through rtflite's RTFDocument (the reference the direct writer is tested against)."""
    page = page or {}
    width, height = _figure_box(_png_size(png), footnotes)
    head, foot = _running(page, population, page.get("program") or "trialforge tables")
    doc = rtf.RTFDocument(
        rtf_page=_rtf_page(), rtf_page_header=head, rtf_page_footer=foot,
        rtf_title=_titles_rtf([f"{kind} {fid}", title, population]),
        rtf_figure=rtf.RTFFigure(figures=str(png), fig_width=width, fig_height=height),
        rtf_footnote=rtf.RTFFootnote(text=footnotes, text_convert=[False], as_table=False)
        if footnotes else None)
    return _ascii_rtf(set_header(doc.rtf_encode(), header_rtf(page, population)))


CSS = """
body{font-family:"DejaVu Sans",Arial,sans-serif;font-size:13px;margin:24px 32px;color:#111}
.titles{text-align:center;margin-bottom:12px}.titles div{margin:2px 0}
.titles .id{font-weight:bold}.titles .title{font-weight:bold;font-size:15px}
table.csr{border-collapse:collapse;margin:0 auto;min-width:60%}
table.csr th{border-top:1px solid #000;border-bottom:1px solid #000;padding:4px 8px;font-weight:bold;
 vertical-align:bottom;text-align:center}
table.csr thead tr + tr th{border-top:none}
table.csr td{padding:2px 8px;text-align:center;white-space:nowrap}
table.csr td.stub,table.csr th.stub{text-align:left;white-space:normal;min-width:230px;max-width:420px}
table.csr thead th{min-width:58px}
table.csr td.wrap{white-space:normal;text-align:left;min-width:220px;max-width:380px}
table.csr thead tr:not(:last-child) th:not(.stub){border-bottom:none}
table.csr thead tr:not(:last-child) th:not(.stub):not(:empty){
 background:linear-gradient(#000,#000) center bottom/calc(100% - 14px) 1px no-repeat}
table.csr tbody tr:last-child td{border-bottom:1px solid #000}
table.csr tr.hdr td.stub{font-weight:bold}
table.csr tbody tr:nth-child(even){background:#f6f8fa}
.wrap{display:table;margin:0 auto}.foot{max-width:1100px;margin:10px 0;font-size:12px}.foot p{margin:2px 0}
.nav{font-size:12px;margin-bottom:12px}.nav a{margin-right:12px}
figure{text-align:center;margin:0}figure img{max-width:100%;height:auto}
"""


def _page(title: str, body: str) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{html.escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{body}</body>\n</html>\n")


def _titles_html(kind: str, fid: str, title: str, population: str) -> str:
    return (f"<div class=\"titles\"><div class=\"id\">{html.escape(kind)} {html.escape(fid)}</div>"
            f"<div class=\"title\">{html.escape(title)}</div><div class=\"pop\">{html.escape(population)}</div></div>\n")


def _nav(links: dict[str, str]) -> str:
    items = "".join(f"<a href=\"{html.escape(h)}\">{html.escape(t)}</a>" for t, h in links.items())
    return f"<div class=\"nav\">{items}</div>\n"


def _foot(footnotes: list[str]) -> str:
    if not footnotes:
        return ""
    return "<div class=\"foot\">" + "".join(f"<p>{html.escape(f)}</p>" for f in footnotes) + "</div>\n"


N_BREAK = " (N="
WRAP_AT = 36          # cells longer than this (free text such as DLT terms) wrap and align left


def _head_html(text: str) -> str:
    """Header text with '(N=x)' on its own line, so every column header breaks the same way."""
    return "<br>".join(html.escape(part) for part in text.replace(N_BREAK, "\n(N=").split("\n"))


def _head_rtf(text: str) -> str:
    return text.replace(N_BREAK, "\\line (N=")


def _td(c: str) -> str:
    return f"<td class=\"wrap\">{html.escape(c)}</td>" if len(c) > WRAP_AT else f"<td>{html.escape(c)}</td>"


def table_to_html(res: TableResult, links: dict[str, str]) -> str:
    head = []
    nh = len(res.header)
    for k, hrow in enumerate(res.header):
        cells = []
        if k == 0:
            cells.append(f"<th class=\"stub\" rowspan=\"{nh}\">{html.escape(res.stub_header)}</th>")
        cells += [f"<th colspan=\"{span}\">{_head_html(t)}</th>" if span > 1 else f"<th>{_head_html(t)}</th>"
                  for t, span in hrow]
        head.append("<tr>" + "".join(cells) + "</tr>")
    body = []
    td: dict[str, str] = {}            # each distinct cell text escaped once (listings repeat their values)
    for r in res.rows:
        cls = " class=\"hdr\"" if r.header else ""
        pad = f" style=\"padding-left:{8 + 18 * r.indent}px\"" if r.indent else ""
        tds = "".join([td.get(c) or td.setdefault(c, _td(c)) for c in r.cells])
        body.append(f"<tr{cls}><td class=\"stub\"{pad}>{html.escape(r.label)}</td>{tds}</tr>")
    table = ("<table class=\"csr\">\n<thead>\n" + "\n".join(head) + "\n</thead>\n<tbody>\n"
             + "\n".join(body) + "\n</tbody>\n</table>\n")
    content = (_nav(links) + _titles_html(res.kind, res.id, res.title, res.population)
               + "<div class=\"wrap\">\n" + table + _foot(res.footnotes) + "</div>\n")
    return _page(f"{res.kind} {res.id} {res.title}", content)


def figure_to_html(kind: str, fid: str, title: str, population: str, image, footnotes: list[str],
                   links: dict[str, str]) -> str:
    """One picture, or (a list) every page of a paged figure in order, each captioned "Page k of n"."""
    if isinstance(image, str):
        pictures = f"<figure><img src=\"{html.escape(image)}\" alt=\"{html.escape(title)}\"></figure>\n"
    else:
        n = len(image)
        pictures = "".join(f"<figure><img src=\"{html.escape(src)}\" alt=\"{html.escape(title)}, page {k} of {n}\">"
                           f"<figcaption>Page {k} of {n}</figcaption></figure>\n"
                           for k, src in enumerate(image, 1))
    content = _nav(links) + _titles_html(kind, fid, title, population) + pictures + _foot(footnotes)
    return _page(f"{kind} {fid} {title}", content)


def index_html(study_title: str, entries: list[dict]) -> str:
    """One page linking every output and all of its files."""
    rows = []
    for e in entries:
        files = " ".join(f"<a href=\"{html.escape(h)}\">{html.escape(t)}</a>" for t, h in e["files"].items())
        name = (f"<a href=\"{html.escape(e['html'])}\">{html.escape(e['title'])}</a>" if e.get("html")
                else html.escape(e["title"]))
        note = f" <em>({html.escape(e['note'])})</em>" if e.get("note") else ""
        rows.append(f"<tr><td class=\"stub\">{html.escape(e['kind'])} {html.escape(e['id'])}</td>"
                    f"<td class=\"stub\">{name}{note}</td><td class=\"stub\">{html.escape(e['population'])}</td>"
                    f"<td class=\"stub\">{files}</td></tr>")
    table = ("<table class=\"csr\">\n<thead><tr><th class=\"stub\">Output</th><th class=\"stub\">Title</th>"
             "<th class=\"stub\">Population</th><th class=\"stub\">Files</th></tr></thead>\n<tbody>\n"
             + "\n".join(rows) + "\n</tbody>\n</table>\n")
    content = (f"<div class=\"titles\"><div class=\"title\">{html.escape(study_title)}</div>"
               "<div>Clinical study report tables and figures (ICH E3 section 14)</div></div>\n" + table)
    return _page(study_title, content)
