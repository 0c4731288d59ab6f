"""Opt-in transliteration of typographic characters to ASCII (study.yaml ``ascii: transliterate``).

XPT v5 holds ASCII only, so by default a non-ASCII value is refused and named (the gate's TF-XPT-002,
the writer's XptWriteError). Exports from word processors and EDC free text often carry typographic
characters (’ “ ” – — … ± µ) whose ASCII spelling is unambiguous; a study can opt in to converting them,
and every distinct value changed is reported as a warning. Letters with accents lose the accent
(é → e); any other character stays and is still refused.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace

import pandas as pd

MODES = ("refuse", "transliterate")

TYPOGRAPHIC = {
    "\u2018": "'", "\u2019": "'", "\u201a": ",", "\u201b": "'", "\u2032": "'", "\u00b4": "'", "\u0060": "`",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
    "\u2026": "...", "\u00b1": "+/-", "\u00b5": "u", "\u03bc": "u", "\u00d7": "x", "\u00f7": "/",
    "\u2264": "<=", "\u2265": ">=", "\u2260": "!=", "\u00b2": "^2", "\u00b3": "^3",
    "\u00bc": "1/4", "\u00bd": "1/2", "\u00be": "3/4", "\u2022": "*", "\u00b7": ".",
    "\u00a0": " ", "\u2002": " ", "\u2003": " ", "\u2009": " ", "\u202f": " ", "\u200b": "",
    "\u00ae": "(R)", "\u2122": "(TM)", "\u00a9": "(C)", "\u00df": "ss", "\u00e6": "ae", "\u00c6": "AE",
    "\u0153": "oe", "\u0152": "OE", "\u00f8": "o", "\u00d8": "O",
}
_TABLE = str.maketrans(TYPOGRAPHIC)


def transliterate(text: str) -> str:
    """ASCII spelling of the typographic characters in ``text``; other non-ASCII characters stay."""
    if text.isascii():
        return text
    out = []
    for ch in text.translate(_TABLE):
        if ch.isascii():
            out.append(ch)
            continue
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        out.append(base if base and base.isascii() else ch)
    return "".join(out)


@dataclass(frozen=True)
class Change:
    """One distinct value changed in one variable."""

    dataset: str
    variable: str
    before: str
    after: str
    records: int

    def __str__(self) -> str:
        return (f"transliterated to ASCII: {self.dataset}.{self.variable} {self.before!r} -> {self.after!r} "
                f"({self.records} record{'s' if self.records != 1 else ''})")


def transliterate_frame(frame: pd.DataFrame, name: str) -> tuple[pd.DataFrame, list[Change]]:
    """A copy of ``frame`` with its text columns transliterated (computed once per distinct value)."""
    changes: list[Change] = []
    out = frame
    for col in frame.columns:
        series = frame[col]
        if series.dtype != object and not pd.api.types.is_string_dtype(series):
            continue
        text = series[series.map(lambda v: isinstance(v, str) and not v.isascii())]
        if text.empty:
            continue
        counts = text.value_counts(sort=False)
        mapping = {v: transliterate(v) for v in counts.index}
        mapping = {k: v for k, v in mapping.items() if k != v}
        if not mapping:
            continue
        if out is frame:
            out = frame.copy()
        out[col] = series.map(lambda v: mapping.get(v, v) if isinstance(v, str) else v)
        changes += [Change(name, str(col), k, v, int(counts[k])) for k, v in sorted(mapping.items())]
    return out, changes


def transliterate_datasets(datasets: dict) -> tuple[dict, list[Change]]:
    """Every dataset's values (a ``{name: Dataset}`` dict) transliterated; the changes, dataset by dataset."""
    result, changes = {}, []
    for name, ds in datasets.items():
        frame, found = transliterate_frame(ds.frame, name)
        result[name] = ds if frame is ds.frame else replace(ds, frame=frame)
        changes += found
    return result, changes
