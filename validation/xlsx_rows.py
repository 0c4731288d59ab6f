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

import numpy as np

from .finding_table import take
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


class ColumnRows:
    """Rows held as columns: per column its distinct values and, per row, the index of its value there.

    Why: the Details sheet has a row per finding (200,000 at 10,000 subjects) whose cells repeat a few
    hundred values; as columns each cell's XML is made once per distinct value and the rows are laid out
    over whole columns (``row_chunks``). Reads as the sequence of row tuples it stands for."""

    def __init__(self, columns: list):
        self.columns = [(list(values), np.asarray(codes)) for values, codes in columns]

    @property
    def width(self) -> int:
        return len(self.columns)

    def __len__(self) -> int:
        return len(self.columns[0][1]) if self.columns else 0

    def __iter__(self):
        return zip(*(take(values, codes) for values, codes in self.columns))

    def __getitem__(self, rows):
        if isinstance(rows, slice):
            return ColumnRows([(values, codes[rows]) for values, codes in self.columns])
        return tuple(values[codes[rows]] for values, codes in self.columns)

    def distinct(self):
        """Every value any cell holds (each column's distinct values, one after the other)."""
        return chain.from_iterable(values for values, _codes in self.columns)


def all_plain(rows) -> bool:
    """Every value of ``rows`` is plain; the text checks run once per distinct text (types and distinct
    values are gathered by C loops: the rows of a large report hold hundreds of thousands of cells)."""
    if not len(rows):
        return True
    if isinstance(rows, ColumnRows):
        values = list(rows.distinct())
        return set(map(type, values)) <= _PLAIN_TYPES and all(plain(v) for v in set(values) if type(v) is str)
    if not set(map(type, chain.from_iterable(rows))) <= _PLAIN_TYPES:
        return False
    return all(plain(v) for v in set().union(*rows) if type(v) is str)   # only str/int/None: no collisions


def rows_of_width(rows, width: int) -> bool:
    """Every row holds ``width`` values."""
    if isinstance(rows, ColumnRows):
        return rows.width == width or not len(rows)
    return all(len(row) == width for row in rows)


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
    if isinstance(rows, ColumnRows) and rows.width == width and \
            not any(v is None for v in rows.distinct()):
        yield from _column_chunks(rows, first_row, width, size)
        return
    letters = column_letters(width)
    # plain values are str and int only: the value itself is the key (no int equals a str)
    bodies = {value: _body(value) for value in set().union(*rows) if value is not None} if len(rows) else {}
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


def _column_chunks(rows: ColumnRows, first_row: int, width: int, size: int):
    """``row_chunks`` of rows held as columns, no cell None: each distinct value's cell XML made once per
    column, every row laid out by the width's layout over whole columns (``map``, no per-row Python loop)."""
    layout = _row_layout(width)
    bodies = [([_body(v) for v in values], codes) for values, codes in rows.columns]
    for start in range(0, len(rows), size):
        stop = min(start + size, len(rows))
        cells = [take(texts, codes[start:stop]) for texts, codes in bodies]
        yield "".join(map(layout, map(str, range(first_row + start, first_row + stop)), *cells))


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
