"""Display text built from ADaM variables by a small template language, so specs (not code) decide
how a column, group or row is labelled: ``"{DOSELVL}"``, ``"Part {PART}: {ROUTE:title}"``,
``"{DOSELVL} = {TRT01A:after=: }"``.

A field is ``{VAR}`` or ``{VAR:transform}``; transforms (one per field):
``title`` (Intravenous), ``sentence`` (Renal cell carcinoma), ``upper``, ``lower``,
``after=SEP`` (the text after the first SEP; whole text when SEP is absent), ``before=SEP``.
"""
from __future__ import annotations

import re
import string

import numpy as np
import pandas as pd

from ..errors import SpecError

_FORMATTER = string.Formatter()


def fields(template: str) -> list[str]:
    """Variable names a template reads (for `need` checks before rendering)."""
    return [name for _, name, _, _ in _FORMATTER.parse(template) if name]


def sentence_case(text: str) -> str:
    """'RENAL CELL CARCINOMA' -> 'Renal cell carcinoma'; mixed-case text is left alone."""
    return text[:1].upper() + text[1:].lower() if text.isupper() else text


def _transform(value: str, spec: str, template: str) -> str:
    if not spec:
        return value
    if spec == "title":
        return value.title() if value.isupper() or value.islower() else value
    if spec == "sentence":
        return sentence_case(value)
    if spec == "upper":
        return value.upper()
    if spec == "lower":
        return value.lower()
    m = re.fullmatch(r"(after|before)=(.+)", spec, flags=re.S)
    if m:
        head, sep, tail = value.partition(m.group(2))
        if not sep:
            return value
        return (tail if m.group(1) == "after" else head).strip()
    raise SpecError(f"unknown label transform {spec!r}", value=template)


def render(template: str, row: dict) -> str:
    """One label from a mapping of variable -> value (missing values render as '')."""
    out = []
    for literal, name, spec, _ in _FORMATTER.parse(template):
        out.append(literal)
        if name is None:
            continue
        if name not in row:
            raise SpecError(f"label template names unknown variable {name}", column=name, value=template)
        v = row[name]
        text = "" if v is None or (isinstance(v, float) and v != v) else _plain(v)
        out.append(_transform(text.strip(), spec or "", template))
    return "".join(out).strip()


def render_frame(template: str, frame: pd.DataFrame) -> pd.Series:
    """A label per row of `frame` (evaluated once per distinct combination of the fields)."""
    names = list(dict.fromkeys(fields(template)))
    missing = [n for n in names if n not in frame.columns]
    if missing:
        from .engine import MissingVariable
        raise MissingVariable(f"label template names unknown variable {missing[0]}", column=missing[0], value=template)
    if not names:
        return pd.Series(template, index=frame.index, dtype=object)
    arrays = [frame[n].to_numpy(dtype=object) for n in names]
    out = _by_codes(template, names, arrays) if len(frame) > 64 else None
    if out is None:
        out = _by_rows(template, names, arrays)
    return pd.Series(out, index=frame.index, dtype=object)


def _by_rows(template: str, names: list, arrays: list) -> list:
    """One label per distinct combination, rows read as object values column by column (no frame of the
    fields, no drop_duplicates, no itertuples: a listing renders thousands of rows per column)."""
    labels: dict = {}
    out = []
    for key in zip(*arrays):
        got = labels.get(key)
        if got is None:
            got = labels[key] = render(template, dict(zip(names, key)))
        out.append(got)
    return out


def _by_codes(template: str, names: list, arrays: list) -> np.ndarray | None:
    """`_by_rows` from factorised codes: the distinct combinations found by numpy, each rendered from the
    values of its first row (the key `_by_rows`' dict keeps); rows with a missing value (None, NaN, NA: one
    code, different texts) are rendered by `_by_rows`. None when the combinations do not fit one int64."""
    n = len(arrays[0])
    combined = np.zeros(n, dtype=np.int64)
    missing = np.zeros(n, dtype=bool)
    size = 1
    for a in arrays:
        codes, uniques = pd.factorize(a)
        width = max(len(uniques), 1)
        size *= width
        if size >= 2 ** 62:
            return None
        missing |= codes < 0
        combined = combined * width + codes
    out = np.empty(n, dtype=object)
    kept = np.flatnonzero(~missing)
    if len(kept):
        _, first, inverse = np.unique(combined[kept], return_index=True, return_inverse=True)
        rows = kept[first]
        texts = [render(template, dict(zip(names, key))) for key in zip(*(a[rows] for a in arrays))]
        out[kept] = np.array(texts, dtype=object)[inverse.ravel()]
    gaps = np.flatnonzero(missing)
    if len(gaps):
        out[gaps] = _by_rows(template, names, [a[gaps] for a in arrays])
    return out


def _plain(v) -> str:
    """Numbers that are whole print without '.0' (TRT01AN 1.0 -> '1')."""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)
