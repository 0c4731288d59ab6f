"""`json.dumps(obj, indent=1, ensure_ascii=False)`, the same text, written faster.

Why: with an indent, the standard library encodes in pure Python (a generator per list and dict, a type
test per value); a figure's plotted data or a listing is tens of thousands of values, and that encoder
was ~5 % of the tables stage at 1,000 subjects. Here lists of records (dicts with the same keys in the
same order) are encoded a column at a time (one C call per column of strings, floats or ints) and
joined; other values go through a small recursive encoder. Anything the fast paths do not know
(subclasses, non-string keys, other types) is handed to `json.dumps` itself, so the text is always
the standard library's.
"""
from __future__ import annotations

import json
from json.encoder import encode_basestring as _str    # the C escaper json.dumps uses with ensure_ascii=False

_INF = float("inf")


class _Other(Exception):
    """A value the fast path does not encode: fall back to json.dumps for the whole document."""


def dumps_indent1(obj) -> str:
    """`json.dumps(obj, indent=1, ensure_ascii=False)`, byte for byte (a `TableRows` value as its rows, a
    `Records` value as its records)."""
    try:
        return _enc(obj, 0)
    except _Other:
        return json.dumps(obj, indent=1, ensure_ascii=False, default=_plain)


class TableRows:
    """A table's body rows in a document for `dumps_indent1`: encoded as the list of their dicts (label,
    indent, header, cells) would be, written row by row with each distinct cell text encoded once (a
    listing's rows repeat their values; the dicts and the generic record encoder cost ~70 % of its JSON)."""

    def __init__(self, rows: list):
        self.rows = rows

    def plain(self) -> list:
        return [{"label": r.label, "indent": r.indent, "header": r.header, "cells": r.cells} for r in self.rows]

    def text(self, depth: int) -> str | None:
        """The JSON text at `depth`; None when a value is not of the types written here (then `plain()`)."""
        rows = self.rows
        if not rows:
            return "[]"
        item, inner, pad = ("\n" + " " * (depth + k) for k in (1, 2, 3))
        keys = [inner + _str(k) + ": " for k in ("label", "indent", "header", "cells")]
        close, end = item + "}", inner + "]"
        cell: dict = {}
        out = []
        for r in rows:
            label, indent, header, cells = r.label, r.indent, r.header, r.cells
            if type(label) is not str or type(indent) is not int or type(header) is not bool \
                    or type(cells) not in (list, tuple):
                return None
            if cells:
                parts = []
                for c in cells:
                    if type(c) is not str:
                        return None
                    got = cell.get(c)
                    if got is None:
                        got = cell[c] = pad + _str(c)
                    parts.append(got)
                cells_text = "[" + ",".join(parts) + end
            else:
                cells_text = "[]"
            out.append(item + "{" + keys[0] + _str(label) + "," + keys[1] + int.__repr__(indent) + ","
                       + keys[2] + ("true" if header else "false") + "," + keys[3] + cells_text + close)
        return "[" + ",".join(out) + "\n" + " " * depth + "]"


class Records:
    """Records given as columns: encoded as `[dict(zip(keys, row)) for row in zip(*columns)]` would be, without
    a dict per row (a figure's plotted data is thousands of rows, read from its frame a column at a time)."""

    def __init__(self, keys: list, columns: list):
        self.keys, self.columns = list(keys), list(columns)

    def plain(self) -> list:
        return [dict(zip(self.keys, row)) for row in zip(*self.columns)]

    def text(self, depth: int) -> str | None:
        """The JSON text at `depth`; None when `plain()` is to be encoded instead (fewer than two rows,
        keys that are not distinct strings)."""
        keys, cols = self.keys, self.columns
        if not keys or any(type(k) is not str for k in keys) or len(set(keys)) != len(keys) \
                or len(cols) != len(keys) or len({len(c) for c in cols}) != 1 or len(cols[0]) < 2:
            return None
        return _columns_text(keys, cols, depth)


def _plain(o):
    if type(o) is TableRows or type(o) is Records:
        return o.plain()
    raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")


def _float(f: float) -> str:
    if f != f:
        return "NaN"
    if f == _INF:
        return "Infinity"
    if f == -_INF:
        return "-Infinity"
    return float.__repr__(f)


def _scalar(o) -> str:
    t = type(o)
    if t is str:
        return _str(o)
    if o is None:
        return "null"
    if o is True:
        return "true"
    if o is False:
        return "false"
    if t is int:
        return int.__repr__(o)
    if t is float:
        return _float(o)
    raise _Other


def _column(values: list, depth: int) -> list[str]:
    """The JSON text of each value in `values` at `depth` (one C call when the column is of one scalar type)."""
    types = set(map(type, values))
    if types == {str}:
        return list(map(_str, values))
    if types == {int}:
        return list(map(int.__repr__, values))
    if types == {float}:
        out = list(map(float.__repr__, values))
        if "nan" in out or "inf" in out or "-inf" in out:
            out = [_float(f) for f in values]
        return out
    if types <= {list, tuple}:
        flat = [s for v in values for s in v]
        if set(map(type, flat)) <= {str}:                  # lists of strings (a listing's cells)
            pad, end = "\n" + " " * (depth + 1), "\n" + " " * depth + "]"
            texts = [pad + e for e in map(_str, flat)]
            out, i = [], 0
            for v in values:
                n = len(v)
                out.append("[" + ",".join(texts[i:i + n]) + end if n else "[]")
                i += n
            return out
    if list in types or tuple in types or dict in types:
        return [_enc(v, depth) for v in values]
    return [_scalar(v) for v in values]


def _records(o: list, depth: int) -> str | None:
    """A list of dicts with one key order, encoded column by column; None when `o` is not one."""
    keys = list(o[0])
    if not keys or any(type(k) is not str for k in keys):
        return None
    for r in o:
        if type(r) is not dict or list(r) != keys:
            return None
    return _columns_text(keys, [[r[k] for r in o] for k in keys], depth)


def _columns_text(keys: list, cols: list, depth: int) -> str:
    """The records whose values are `cols` (one sequence per key, same lengths, at least two rows) as
    `_records` writes them."""
    inner = "\n" + " " * (depth + 2)
    prefixes = [inner + _str(k) + ": " for k in keys]
    parts = [[p + e for e in _column(col, depth + 2)] for p, col in zip(prefixes, cols)]
    item = "\n" + " " * (depth + 1)
    rows = [item + "{" + ",".join(cells) + item + "}" for cells in zip(*parts)]
    return "[" + ",".join(rows) + "\n" + " " * depth + "]"


def _enc(o, depth: int) -> str:
    t = type(o)
    if t is TableRows or t is Records:
        got = o.text(depth)
        return got if got is not None else _enc(o.plain(), depth)
    if t is dict:
        if not o:
            return "{}"
        pad = "\n" + " " * (depth + 1)
        items = []
        for k, v in o.items():
            if type(k) is not str:
                raise _Other
            items.append(pad + _str(k) + ": " + _enc(v, depth + 1))
        return "{" + ",".join(items) + "\n" + " " * depth + "}"
    if t is list or t is tuple:
        if not o:
            return "[]"
        if len(o) > 1 and type(o[0]) is dict and o[0]:
            got = _records(o, depth)
            if got is not None:
                return got
        pad = "\n" + " " * (depth + 1)
        if all(type(v) is str for v in o):
            return "[" + ",".join([pad + s for s in map(_str, o)]) + "\n" + " " * depth + "]"
        return "[" + ",".join([pad + _enc(v, depth + 1) for v in o]) + "\n" + " " * depth + "]"
    return _scalar(o)
