"""RTF of a paginated CSR table written as strings: the bytes rtflite 2.x encodes, without its objects.

rtflite validates ~20 pydantic objects per table cell (a 1,000-subject AE listing: 1.9 million
validations, most of the tables stage). Every table and listing page has the same shape, so the
row templates are built once per table and a page is string joins:

    preamble   {\\rtf1 ... font table, running header/footer, page size and margins
    per page   title paragraph (\\pagebb from page 2), column header rows, body rows, footnote row

What rtflite does for one page (``RTFDocument(...).rtf_encode()``), which this reproduces:
- every table row is ``\\trowd\\trgaph108\\trleft0\\trqc``, one line per cell definition (borders
  left, top, right on the last cell only, bottom; vertical alignment; ``\\cellx`` at the cumulative
  width), one line per cell paragraph, then ``\\intbl\\row\\pard``;
- column header rows: top border single, the first row's double (the page's ``border_first``),
  bottom-aligned, no hyphenation; body rows: top-aligned, the page's first row with a single top
  border, the last with a double bottom border unless a footnote row follows (which then takes it);
- text is not LaTeX-converted (``text_convert=False``); characters above Latin-1, and ±, become
  ``\\uc1\\uN*`` (N negative from 32768); ``render._ascii_rtf`` then escaped the other non-ASCII
  characters and added ``\\trkeep`` to every row: ``text`` and ``ROW_START`` give that result directly.

``tests/test_tables_rtf_writer.py`` compares this writer's pages with rtflite's for hand-made tables.
"""
from __future__ import annotations

import functools

TWIPS_PER_INCH = 1440
BORDER = {"": "", "single": "\\brdrs", "double": "\\brdrdb"}
JUSTIFY = {"l": "\\ql", "c": "\\qc", "r": "\\qr"}
# cell height 0.15 in: gap = 216 / 2 twips; \trkeep: render._ascii_rtf adds it to every row
ROW_START = "\\trowd\\trkeep\\trgaph108\\trleft0\\trqc"
ROW_END = "\\intbl\\row\\pard"
BOLD = "\\b"

FONT_TABLE = (
    "{\\fonttbl{\\f0\\froman\\fcharset1\\fprq2 Times New Roman;}\n"
    "{\\f1\\froman\\fcharset161\\fprq2 Times New Roman Greek;}\n"
    "{\\f2\\fswiss\\fcharset161\\fprq2 Arial Greek;}\n"
    "{\\f3\\fswiss\\fcharset0\\fprq2 Arial;}\n"
    "{\\f4\\fswiss\\fcharset1\\fprq2 Helvetica;}\n"
    "{\\f5\\fswiss\\fcharset1\\fprq2 Calibri;}\n"
    "{\\f6\\froman\\fcharset1\\fprq2 Georgia;}\n"
    "{\\f7\\ffroman\\fcharset1\\fprq2 Cambria;}\n"
    "{\\f8\\fmodern\\fcharset0\\fprq2 Courier New;}\n"
    "{\\f9\\ftech\\fcharset2\\fprq2 Symbol;}\n"
    "}")


def twip(inches: float) -> int:
    return round(inches * TWIPS_PER_INCH)


def cell_edges(rel_widths: list[float], total_in: float) -> list[int]:
    """Right edges (twips) of cells with these relative widths: rtflite's cumulative sum, same
    float operations in the same order, so every ``\\cellx`` is the same integer."""
    total = sum(rel_widths)
    out, acc = [], 0.0
    for w in rel_widths:
        acc = acc + (w * total_in / total)
        out.append(twip(acc))
    return out


@functools.lru_cache(maxsize=1 << 16)
def text(value) -> str:
    """Cell/paragraph text as it ends in the file: rtflite (conversion off) writes characters beyond
    Latin-1, and ±, as ``\\uc1\\uN*`` (N negative from 32768); ``render._ascii_rtf`` then escapes the
    other Latin-1 characters (N = code point) and adds ``\\trkeep`` after any ``\\trowd``."""
    s = "" if value is None else str(value)
    if "\\trowd" in s:
        s = s.replace("\\trowd", "\\trowd\\trkeep")
    if s.isascii():
        return s
    out = []
    for ch in s:
        o = ord(ch)
        if o < 128:
            out.append(ch)
        else:
            out.append(f"\\uc1\\u{o - (0 if o < 32768 else 65536)}*")
    return "".join(out)


@functools.lru_cache(maxsize=4096)
def paragraph_format(hyphenate: bool, before: int, after: int, left: int, justify: str) -> str:
    """``\\hyphpar``, spacing, indents (first 0, left, right 0) and justification, in rtflite's order."""
    return (("\\hyphpar" if hyphenate else "\\hyphpar0") + f"\\sb{before}\\sa{after}"
            f"\\fi0\\li{twip(left / TWIPS_PER_INCH)}\\ri0" + JUSTIFY[justify])


def cell_text(fmt: str, body: str, size: int = 9, bold: bool = False) -> str:
    """One cell paragraph: ``fmt`` from ``paragraph_format``, then the run."""
    return f"\\pard{fmt}\\fs{size * 2}{{\\f0{BOLD if bold else ''} {body}}}\\cell"


def cell_def(edge: int, top: str, bottom: str, valign: str, last: bool) -> str:
    right = "\\clbrdrr\\brdrs\\brdrw15" if last else ""
    return (f"\\clbrdrl\\brdrs\\brdrw15\\clbrdrt{BORDER[top]}\\brdrw15{right}"
            f"\\clbrdrb{BORDER[bottom]}\\brdrw15{valign}\\cellx{edge}")


def row_defs(edges: list[int], top: str, bottom: str, valign: str) -> str:
    """The row start and its cell definitions, one per line."""
    n = len(edges)
    return "\n".join([ROW_START] + [cell_def(e, top, bottom, valign, k == n - 1) for k, e in enumerate(edges)])


def preamble(header_group: str, footer_text: str, page_w: float, page_h: float, margin: list[float]) -> str:
    """Document start to the page setup: fonts, (empty) colour table, running header and footer."""
    return "\n".join(["{\\rtf1\\ansi\n\\deff0\\deflang1033", FONT_TABLE, "", "\n", header_group,
                      _footer_group(footer_text), _page_setup(page_w, page_h, margin)])


def title_paragraph(titles: list[str], space: int = 40) -> str:
    """Centred 12 pt title lines in one paragraph joined by ``\\line`` (rtflite's method "line")."""
    runs = "\\line".join(f"\\fs24{{\\f0 {text(t)}}}" for t in titles)
    return f"{{\\pard{paragraph_format(True, space, space, 0, 'c')}{runs}\\par}}"


def _footer_group(footer_text: str) -> str:
    return f"{{\\footer{{\\pard{paragraph_format(True, 15, 15, 0, 'l')}\\fs16{{\\f0 {text(footer_text)}}}\\par}}}}"


def _page_setup(page_w: float, page_h: float, margin: list[float]) -> str:
    return (f"\\paperw{twip(page_w)}\\paperh{twip(page_h)}\\landscape \n"
            f"\\margl{twip(margin[0])}\\margr{twip(margin[1])}\\margt{twip(margin[2])}"
            f"\\margb{twip(margin[3])}\\headery{twip(margin[4])}\\footery{twip(margin[5])}")


def figure_preamble(header_group: str, footer_text: str, page_w: float, page_h: float,
                    margin: list[float]) -> str:
    """A figure document's start to its page setup, as rtflite's figure-only document joins it (no
    newlines between the parts, unlike a table's `preamble`). ``header_group`` is written as given."""
    return ("{\\rtf1\\ansi\n\\deff0\\deflang1033" + FONT_TABLE + "\n" + header_group
            + _footer_group(footer_text) + _page_setup(page_w, page_h, margin))


def figure_page(preamble_text: str, titles: list[str], png: bytes, png_px: tuple[int, int],
                size_in: tuple[float, float], footnotes: list[str]) -> str:
    """One figure page as rtflite's figure-only document writes it: titles, the PNG as hex (80 digits a
    line) scaled to `size_in` (inches, twips truncated as rtflite does), the footnotes as one paragraph."""
    w_px, h_px = png_px
    digits = png.hex("\n", -40)                       # 40 bytes (80 hex digits) a line, counted from the start
    pict = (f"\\qc {{\\pict\\pngblip\\picw{w_px}\\pich{h_px}\\picwgoal{int(size_in[0] * TWIPS_PER_INCH)}"
            f"\\pichgoal{int(size_in[1] * TWIPS_PER_INCH)} {digits}}}")
    foot = ""
    if footnotes:
        joined = text("\\line ".join(footnotes))
        foot = f"{{\\pard{paragraph_format(True, 15, 15, 0, 'l')}\\fs18{{\\f0 {joined}}}\\par}}"
    return "".join([preamble_text, title_paragraph(titles), "\n", pict, "\\par ", foot, "\n\n}"])


class TableRtf:
    """Row templates of one table: widths as cell edges, the column header block, the body row
    definitions for first/middle/last rows, the footnote row. ``page`` joins them."""

    def __init__(self, titles: list[str], headers: list[tuple[list[str], list[float]]],
                 widths: list[float], justify: list[str], total_in: float):
        self.title = title_paragraph(titles)
        self._cells: dict = {}
        self.edges = cell_edges(widths, total_in)
        self.justify = justify
        self.total_in = total_in
        head = []
        for k, (texts, rel) in enumerate(headers):
            edges = cell_edges(rel, total_in)
            fmt_l = paragraph_format(False, 15, 15, 0, "l")
            fmt_c = paragraph_format(False, 15, 15, 0, "c")
            cells = [cell_text(fmt_l if j == 0 else fmt_c, text(t)) for j, t in enumerate(texts)]
            head.append(row_defs(edges, "double" if k == 0 else "single", "", "\\clvertalb") + "\n"
                        + "\n".join(cells) + "\n" + ROW_END)
        self.header = "\n".join(head)
        # body row definitions by (first on page, closes the table with a double line)
        self.defs = {(first, last): row_defs(self.edges, "single" if first else "", "double" if last else "",
                                             "\\clvertalt")
                     for first in (False, True) for last in (False, True)}

    def row_cells(self, cells: list[str], indents: list[int], bold: bool) -> str:
        """The cell paragraphs of one body row (stub bold for headings). Each distinct (column, indent, bold,
        text) is written once per table: a listing repeats its values (grades, outcomes, dates) row after row."""
        out = []
        memo = self._cells
        for j, (c, li) in enumerate(zip(cells, indents)):
            b = bold and j == 0
            key = (j, li, b, c)
            got = memo.get(key)
            if got is None:
                got = memo[key] = cell_text(paragraph_format(False, 15, 15, li, self.justify[j]), text(c), bold=b)
            out.append(got)
        return "\n".join(out)

    def body_cells(self, stub: list[tuple[str, int, bool]], columns: list[list[str]], pads: list[int]) -> list[str]:
        """`row_cells` of many rows, a column at a time: `stub` holds each row's (label, indent, bold), `columns`
        each data column's texts (one per row) and `pads` its left indent. Each column's distinct texts are
        written once (per column, a dict lookup per cell instead of a key tuple, a call and a join per row)."""
        memo = self._cells
        first = []
        for label, li, bold in stub:
            key = (0, li, bold, label)
            got = memo.get(key)
            if got is None:
                got = memo[key] = cell_text(paragraph_format(False, 15, 15, li, self.justify[0]), text(label),
                                            bold=bold)
            first.append(got)
        cols = [first]
        for j, (col, li) in enumerate(zip(columns, pads), 1):
            fmt = paragraph_format(False, 15, 15, li, self.justify[j])
            written = {}
            for c in set(col):
                key = (j, li, False, c)
                got = memo.get(key)
                if got is None:
                    got = memo[key] = cell_text(fmt, text(c))
                written[c] = got
            cols.append(list(map(written.__getitem__, col)))
        return list(map("\n".join, zip(*cols)))

    def footnote(self, footnotes: list[str]) -> str:
        """The footnote row (one cell, the lines joined by ``\\line``) closing the table with a
        double line; empty when the joined text is."""
        joined = "\\line ".join(footnotes)
        if not joined:
            return ""
        return (row_defs([twip(self.total_in)], "single", "double", "\\clvertalt") + "\n"
                + cell_text(paragraph_format(True, 15, 15, 0, "l"), text(joined)) + "\n" + ROW_END)

    def page(self, rows: list[str], footnote: str, first_page: bool) -> str:
        """One page: ``rows`` are ``row_cells`` strings (at least one); the footnote row or ''."""
        n = len(rows)
        body = [f"{self.defs[(i == 0, i == n - 1 and not footnote)]}\n{cells}\n{ROW_END}"
                for i, cells in enumerate(rows)]
        title = self.title if first_page else "{\\pard\\pagebb" + self.title[len("{\\pard"):]
        parts = [title, "\n", self.header] + body
        if footnote:
            parts.append(footnote)
        return "\n".join(parts) + "\n\n\n\n"


def document(preamble_text: str, pages: list[str]) -> str:
    """The whole RTF: preamble, pages (each ends with rtflite's blank lines), and the closing brace
    (a one-page document ends at the brace, a longer one with a newline after it, as the joined
    rtflite pages did)."""
    return "".join([preamble_text, "\n", *pages, "}" if len(pages) == 1 else "}\n"])    # one copy of the pages
