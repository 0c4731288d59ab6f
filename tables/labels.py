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
    labels: dict = {}
    out = []
    # one label per distinct combination, rows read as object values column by column (no frame of
    # the fields, no drop_duplicates, no itertuples: a listing renders thousands of rows per column)
    for key in zip(*(frame[n].to_numpy(dtype=object) for n in names)):
        got = labels.get(key)
        if got is None:
            got = labels[key] = render(template, dict(zip(names, key)))
        out.append(got)
    return pd.Series(out, index=frame.index, dtype=object)


def _plain(v) -> str:
    """Numbers that are whole print without '.0' (TRT01AN 1.0 -> '1')."""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)
