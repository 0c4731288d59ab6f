"""Worksheet rows written as text, byte for byte as openpyxl 3.1 writes them, for plain values.

Why: openpyxl builds a Python object per cell and serialises it through lxml, about 20 µs a cell;
a report of 20,000 findings has 200,000 cells. The Excel writer lets openpyxl write the workbook
with header rows only (styles, panes, filters, dimensions) and puts these rows in its place.
Only values whose cell openpyxl writes one fixed way are "plain" (``plain``): ``str`` that is not a
formula ("=..."), an error code or text with characters worksheets refuse, and ``int``; anything
else makes the caller keep openpyxl's own path, so no value is written differently.
"""
from __future__ import annotations

import re
from itertools import chain

from .layout import compiled

#: openpyxl.cell.cell: values it stores as formulas/errors, and characters it refuses.
_ERROR_CODES = frozenset(("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"))
_ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
_MAX_TEXT = 32767            # openpyxl truncates longer text
_ESCAPE = re.compile(r"[&<>\r]")
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"}     # lxml's text escaping


def plain(value) -> bool:
    """True when ``cell_xml`` writes ``value`` exactly as openpyxl would."""
    kind = type(value)
    if kind is int or value is None:
        return True
    if kind is not str:
        return False
    text = value[:_MAX_TEXT]
    return not ((len(text) > 1 and text.startswith("=")) or text in _ERROR_CODES or _ILLEGAL.search(text))


def all_plain(rows) -> bool:
    """Every value of ``rows`` is plain; the text checks run once per distinct text (types and distinct
    values are gathered by C loops: the rows of a large report hold hundreds of thousands of cells)."""
    if not rows:
        return True
    if not set(map(type, chain.from_iterable(rows))) <= _PLAIN_TYPES:
        return False
    return all(plain(v) for v in set().union(*rows) if type(v) is str)   # only str/int/None: no collisions


_PLAIN_TYPES = {str, int, type(None)}


def column_letters(n: int) -> list[str]:
    """'A', 'B', ... for the first ``n`` columns (A..Z, AA.. as Excel names them)."""
    out = []
    for i in range(1, n + 1):
        name = ""
        while i:
            i, rest = divmod(i - 1, 26)
            name = chr(65 + rest) + name
        out.append(name)
    return out


def _text(value: str) -> str:
    """Escaped as lxml writes text into openpyxl's ASCII stream: entities, then non-ASCII as &#N;."""
    escaped = _ESCAPE.sub(lambda m: _ENTITIES[m.group()], value)
    return escaped if escaped.isascii() else escaped.encode("ascii", "xmlcharrefreplace").decode("ascii")


def _body(value) -> str:
    """A cell after its reference: the same for every cell holding ``value``."""
    if type(value) is int:
        return f' t="n"><v>{"%.16g" % value}</v></c>'
    if value == "":
        return ' t="inlineStr"></c>'
    value = value[:_MAX_TEXT]
    space = ' xml:space="preserve"' if value != value.strip() else ""
    return f' t="inlineStr"><is><t{space}>{_text(value)}</t></is></c>'


def cell_xml(ref: str, value) -> str:
    """One unstyled cell: inline string, number, or nothing for None (openpyxl skips it)."""
    return "" if value is None else f'<c r="{ref}"{_body(value)}'


def rows_xml(rows, first_row: int, width: int) -> str:
    """``<row>`` elements for ``rows`` (sequences of plain values) numbered from ``first_row``."""
    return "".join(row_chunks(rows, first_row, width, max(len(rows), 1)))


def row_chunks(rows, first_row: int, width: int, size: int):
    """``rows_xml`` of ``rows`` in pieces of ``size`` rows (a streaming writer never holds the whole text).

    A report repeats its datasets, rules and messages, so each distinct value is escaped once; rows with
    no None cell (every findings row) are laid out by one function per row width, an f-string built for
    that width (a third cheaper than ``str.format``: 200,000 rows at 10,000 subjects)."""
    letters = column_letters(width)
    # plain values are str and int only: the value itself is the key (no int equals a str)
    bodies = {value: _body(value) for value in set().union(*rows) if value is not None} if rows else {}
    body = bodies.__getitem__
    layout = _row_layout(width)
    for start in range(0, len(rows), size):
        parts = []
        for r, row in enumerate(rows[start:start + size], start=first_row + start):
            if len(row) == width and None not in row:
                parts.append(layout(str(r), *map(body, row)))
                continue
            parts.append(f'<row r="{r}">')
            for letter, value in zip(letters, row):
                if value is None:
                    continue
                parts.append(f'<c r="{letter}{r}"{body(value)}')
            parts.append("</row>")
        yield "".join(parts)


_LAYOUTS: dict = {}


def _row_layout(width: int):
    """``(row number text, *cell bodies) -> '<row r="N"><c r="AN"...</row>'`` for rows of ``width`` cells."""
    layout = _LAYOUTS.get(width)
    if layout is None:
        pieces = ['<row r="', 0, '">']
        for j, letter in enumerate(column_letters(width), start=1):
            pieces += [f'<c r="{letter}', 0, '"', j]
        layout = _LAYOUTS[width] = compiled(pieces + ["</row>"])
    return layout
