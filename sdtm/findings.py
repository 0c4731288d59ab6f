"""Findings derivations: standard results with unit conversion, and the baseline flag.

--STRESC/--STRESN/--STRESU come from --ORRES/--ORRESU through a study-level unit table (data, not
code): the standard unit per test and the conversion factors. --LOBXFL marks, per subject and
test, the last non-missing result on or before the reference date (first exposure by default).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import RawDataError, SpecError
from ..specs.yamlio import check_keys, load_yaml
from . import expressions
from .sources import FILE_COL, ROW_COL
from .working import remembered_on
from .uniques import DISTINCT_ROWS_MIN, distinct_rows, factorize, factorize_rows, on_uniques, stable_order, text_array

UNIT_TABLE_KEYS = {"standard_units", "decimals", "conversions"}
CONVERSION_KEYS = {"test", "from", "to", "factor", "offset"}
_OPERATOR = re.compile(r"^\s*(<=|>=|<|>)\s*([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*$")


@dataclass(frozen=True)
class UnitTable:
    file: str
    standard_units: dict          # test code -> standard unit
    decimals: dict                # test code -> decimals for --STRESC
    factors: dict                 # (test or "*", from, to) -> (factor, offset)

    def factor(self, test: str, unit_from: str, unit_to: str):
        if unit_from == unit_to:
            return (1.0, 0.0)
        return self.factors.get((test, unit_from, unit_to)) or self.factors.get(("*", unit_from, unit_to))


@lru_cache(maxsize=16)
def load_unit_table(path: Path) -> UnitTable:
    """Read a unit table YAML: standard_units, decimals, conversions [{test?, from, to, factor, offset?}]."""
    data = load_yaml(path)
    check_keys(data, UNIT_TABLE_KEYS, file=path, context="unit table")
    factors = {}
    for i, c in enumerate(data.get("conversions") or []):
        if not isinstance(c, dict) or not {"from", "to", "factor"} <= set(c):
            raise SpecError(f"conversions[{i}] needs from, to and factor", file=path)
        check_keys(c, CONVERSION_KEYS, file=path, context=f"conversions[{i}]")
        factors[(str(c.get("test", "*")), str(c["from"]), str(c["to"]))] = (float(c["factor"]),
                                                                          float(c.get("offset", 0)))
    return UnitTable(str(path), {str(k): str(v) for k, v in (data.get("standard_units") or {}).items()},
                     {str(k): int(v) for k, v in (data.get("decimals") or {}).items()}, factors)


def _column(frame, name, rule):
    if name not in frame.columns:
        raise SpecError(f"{rule.variable} needs {name} assigned first", file=rule.file, column=rule.variable)
    texts = text_array(frame[name])
    if texts is not None:                       # text: strip each distinct value once
        codes, uniques = factorize(texts)
        stripped = np.array([u.strip() for u in uniques.tolist()] + [""], dtype=object)[codes]
        return pd.Series(stripped, index=frame.index, dtype=object)
    return on_uniques(frame[name].where(frame[name].notna(), "").astype(str), lambda u: u.str.strip())


def _significant(v: float) -> str:
    text = f"{v:.6g}"
    return text if "e" not in text else repr(float(v))


def format_number(values: pd.Series, decimals: pd.Series) -> pd.Series:
    """Numbers as text: rounded to the test's decimals when given, else up to 6 significant digits."""
    numbers = np.asarray(pd.to_numeric(values, errors="coerce"), dtype=float)
    places = np.asarray(pd.to_numeric(decimals, errors="coerce"), dtype=float)
    return pd.Series(_format_numbers(numbers, places), index=values.index, dtype=object)


def _format_numbers(numbers: np.ndarray, places: np.ndarray) -> np.ndarray:
    """``format_number`` on arrays: per distinct number of decimals (missing -> significant digits), each
    distinct (rounded) value written once, as pandas' ``round`` and a per-distinct-value map wrote it."""
    out = np.full(len(numbers), "", dtype=object)
    present = ~np.isnan(numbers)
    places = np.where(np.isnan(places), -1, places).astype(int)
    for d in sorted(set(places[present].tolist())):
        rows = np.flatnonzero(present & (places == d))
        values = np.round(numbers[rows], d) if d >= 0 else numbers[rows]
        write = (lambda v, d=d: f"{v:.{d}f}") if d >= 0 else _significant
        codes, uniques = pd.factorize(values)
        if len(uniques) == len(values):
            out[rows] = [write(v) for v in values.tolist()]
        else:
            out[rows] = np.array([write(v) for v in uniques.tolist()], dtype=object)[codes]
    return out


def standardize(frame: pd.DataFrame, rule, ctx) -> pd.Series:
    """--STRESC (c), --STRESN (n) or --STRESU (u) from the original result and unit."""
    fast = _standardize_distinct(frame, rule, ctx)
    return fast if fast is not None else _standardize(frame, rule, ctx)


class _RowsNeeded(Exception):
    """A per-row warning is due: the distinct path leaves the call to the per-row path."""


def _standardize_distinct(frame: pd.DataFrame, rule, ctx) -> pd.Series | None:
    """``standardize`` once per distinct (result, unit, test) row, taken back per row.

    The value is a function of those three texts only; each distinct row is computed at its first
    occurrence (its file and row name any error, the same first row the per-row path names). None (the
    per-row path decides) for non-text columns, mostly distinct rows or a row that needs a warning.
    """
    spec = rule.value
    names = list(dict.fromkeys(str(spec[k]) for k in ("result", "unit", "test") if spec.get(k)))
    if len(frame) < DISTINCT_ROWS_MIN or any(n not in frame.columns for n in names) or FILE_COL not in frame \
            or ROW_COL not in frame:
        return None
    if not len(frame):
        return None
    # --STRESC and --STRESU group the same (result, unit, test) rows: once
    found = remembered_on(frame, "text rows", names, lambda: _distinct_texts(frame, names))
    if found is None:
        return None
    codes, first = found
    if 2 * len(first) > len(frame):
        return None
    sub = frame[names + [FILE_COL, ROW_COL]].iloc[first]
    try:
        values = _standardize(sub, rule, ctx, warn=False)
    except _RowsNeeded:
        return None
    return pd.Series(values.array.take(codes), index=frame.index)


def _distinct_texts(frame, names: list[str]):
    """``distinct_rows`` of the columns as text (missing as ''); None when one holds anything but text."""
    arrays = [text_array(frame[n]) for n in names]
    if any(a is None for a in arrays):
        return None
    return distinct_rows(*arrays)


def _standardize(frame: pd.DataFrame, rule, ctx, warn: bool = True) -> pd.Series:
    """The standard result, unit or number, computed once per distinct (test, unit, result) row.

    Every output is a function of those three texts, so the work is plain Python over the distinct
    triples (a few hundred per study) and two number parses; only the result goes back per row. The
    vectorised form paid ~40 pandas operations per call whatever the row count.
    """
    spec = rule.value
    table_name = spec.get("table", "units.yaml")
    table = load_unit_table((ctx.study.specs_dir / table_name).resolve())
    result = _column(frame, spec["result"], rule)
    unit = _column(frame, spec["unit"], rule) if spec.get("unit") else pd.Series("", index=frame.index)
    test = _column(frame, spec["test"], rule) if spec.get("test") else pd.Series("*", index=frame.index)
    codes, triples = factorize_rows(*(s.to_numpy(dtype=object) for s in (test, unit, result)))
    tests = [t for t, _, _ in triples]
    units = [u for _, u, _ in triples]
    results = [r for _, _, r in triples]
    standard = table.standard_units
    targets = ["" if u == "" else standard.get(t, u) for t, u in zip(tests, units)]
    # one factor lookup per distinct (test, from, to)
    found = [table.factor(t, f, to) if f and to else (1.0, 0.0) for t, f, to in zip(tests, units, targets)]
    known = np.array([f is not None for f in found], dtype=bool)
    factor = np.array([(f or (1.0, 0.0))[0] for f in found], dtype=float)
    offset = np.array([(f or (1.0, 0.0))[1] for f in found], dtype=float)
    numeric = _numbers([r if r != "" else None for r in results])
    matches = [_OPERATOR.search(r) for r in results]
    has_op = np.array([m is not None for m in matches], dtype=bool)
    present = ~np.isnan(numeric)
    missing_factor = ~known & (present | has_op)
    if missing_factor.any():
        first = int(np.flatnonzero(missing_factor[codes])[0])
        label = frame.index[first]
        k = codes[first]
        raise RawDataError(f"no unit conversion from {units[k]!r} to {targets[k]!r} for test "
                           f"{tests[k]!r}; add it to {table_name}",
                           file=frame.at[label, FILE_COL] if FILE_COL in frame else None,
                           column=spec.get("unit"), row=int(frame.at[label, ROW_COL]) if ROW_COL in frame else None,
                           value=units[k])
    if spec["output"] == "u":
        return pd.Series(_objects(targets)[codes], index=frame.index, dtype=object)
    converted = numeric * factor + offset
    if spec["output"] == "n":
        number_or_op = present | has_op
        suspicious = ~number_or_op & np.array([r != "" and _DIGIT.search(r) is not None for r in results], dtype=bool)
        if warn:
            if suspicious.any():
                warn_not_numeric(frame, result, pd.Series(number_or_op[codes], index=frame.index), rule, ctx)
        elif suspicious.any():
            raise _RowsNeeded
        return pd.Series(converted[codes], index=frame.index, dtype=float)
    decimals = np.array([table.decimals.get(t, np.nan) for t in tests], dtype=float)
    same = (factor == 1.0) & (offset == 0.0)
    text = _format_numbers(converted, decimals)
    # same unit and no rounding asked: the result as written, unless written in scientific notation (5.18E+02 -> 518)
    plain = np.array([_EXPONENT.search(r) is None for r in results], dtype=bool)
    as_written = same & present & np.isnan(decimals) & plain
    bound = _numbers([m.group(2) if m is not None else None for m in matches]) * factor + offset
    bound_text = _format_numbers(bound, decimals)
    out = [r if keep else t for r, t, keep in zip(results, text, as_written)]
    out = [m.group(1) + b if m is not None else o for o, m, b in zip(out, matches, bound_text)]
    out = [o if keep else r.upper() for o, r, keep in zip(out, results, present | has_op)]
    return pd.Series(_objects(out)[codes], index=frame.index, dtype=object)


_DIGIT = re.compile(r"[0-9]")
_EXPONENT = re.compile(r"[eE]")


def _numbers(texts: list) -> np.ndarray:
    """pandas' number parse of each text (None and non-numbers -> NaN) as float: the parse the
    vectorised form used, so every value converts exactly as before."""
    values = np.empty(len(texts), dtype=object)
    values[:] = texts
    return np.asarray(pd.to_numeric(pd.Series(values, dtype=object), errors="coerce"), dtype=float)


def _objects(values: list) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


NOT_A_NUMBER = "TF-MAP-001"


def warn_not_numeric(frame, result: pd.Series, numeric: pd.Series, rule, ctx) -> None:
    """A result holding digits that still is no number ('5.18E+02 copies', '12,5') leaves --STRESN empty: warn per row.

    Text results without digits (NEGATIVE, TRACE) are character results and stay quiet.
    """
    suspicious = _suspicious(result, numeric)
    if not suspicious.any() or not hasattr(ctx, "warn"):
        return
    files = frame[FILE_COL] if FILE_COL in frame else pd.Series(None, index=frame.index)
    rows = frame[ROW_COL] if ROW_COL in frame else pd.Series(None, index=frame.index)
    for i in suspicious[suspicious].index:
        ctx.warn(NOT_A_NUMBER, rule.variable, f"result {spec_name(rule)} is not a number, so {rule.variable} is "
                 f"empty; fix the raw value or map it", row=rows.at[i], value=result.at[i], file=files.at[i])


def _suspicious(result: pd.Series, numeric: pd.Series) -> pd.Series:
    """Results holding digits that are still no number."""
    return ~numeric & (result != "") & on_uniques(result, lambda u: u.str.contains(r"[0-9]"))


def _last_per_group(frame, eligible: np.ndarray, by: list[str], when: pd.Series) -> pd.Series | None:
    """'Y' on the last eligible record of each ``by`` group in (by, date, source) order, from numpy: in the
    stable sort order a group is one run and its last record ends the run. None (the pandas path) when a
    key is not plain text or numbers."""
    rows = np.flatnonzero(eligible)
    out = np.full(len(frame), "", dtype=object)
    if len(rows):
        arrays = [frame[c].to_numpy()[rows] for c in by] + [when.to_numpy()[rows]]
        positions = stable_order([pd.Series(a, dtype=a.dtype) for a in arrays])    # stable: ties keep source order
        if positions is None:
            return None
        codes = distinct_rows(*arrays[:-1])[0][positions]
        ends = np.concatenate((codes[1:] != codes[:-1], [True]))
        out[rows[positions[ends]]] = "Y"
    return pd.Series(out, index=frame.index, dtype=object)


def spec_name(rule) -> str:
    return str(rule.value.get("result", "")) if isinstance(rule.value, dict) else ""


def _on_or_before(when: pd.Series, ref: pd.Series) -> pd.Series:
    """Complete dates with ``when`` on or before ``ref``, comparing times only when both have one.

    Decided once per distinct (date, reference) pair of text; the vectorised form for anything else.
    """
    texts = text_array(when), text_array(ref)
    if texts[0] is not None and texts[1] is not None and len(when):
        codes, pairs = factorize_rows(*texts)
        if 2 * len(pairs) <= len(when):
            table = np.array([_pair_on_or_before(w, r) for w, r in pairs], dtype=bool)
            return pd.Series(table[codes], index=when.index)
    both_times = (when.str.len() >= 16) & (ref.str.len() >= 16)
    cmp_when = when.where(both_times, when.str.slice(0, 10))
    cmp_ref = ref.where(both_times, ref.str.slice(0, 10))
    return (when.str.len() >= 10) & (ref.str.len() >= 10) & (cmp_when <= cmp_ref)


def _pair_on_or_before(when: str, ref: str) -> bool:
    if len(when) < 10 or len(ref) < 10:
        return False
    if len(when) >= 16 and len(ref) >= 16:
        return when <= ref
    return when[:10] <= ref[:10]


def derive_baseline_flag(frame: pd.DataFrame, rule, ctx) -> pd.Series:
    """'Y' on the last record with a result on/before the subject's reference date, per subject and test."""
    from .derive import _lookup_by_subject, _subject_frame, split_ref
    spec = rule.value
    domain, ref_var = split_ref(spec.get("ref", "DM.RFXSTDTC"))
    if domain == ctx.current.domain and ref_var in frame.columns:
        ref = frame[ref_var].fillna("").astype(str)
    else:
        ref = _lookup_by_subject(frame, _subject_frame(ctx, domain, [ref_var], rule), ref_var, rule)
        ref = ref.fillna("").astype(str)
    when = _column(frame, spec["date"], rule)
    value = _column(frame, spec.get("value", spec["date"]), rule)
    eligible = (value != "") & _on_or_before(when, ref)
    if spec.get("where"):
        eligible &= expressions.evaluate_mask(spec["where"], frame)
    by = ["USUBJID"] + list(spec.get("by") or [])
    fast = _last_per_group(frame, eligible.to_numpy(dtype=bool), by, when)
    if fast is not None:
        return fast
    work = frame.loc[eligible, by].copy()
    work["_when"] = when[eligible]
    work["_pos"] = np.arange(len(frame))[eligible.to_numpy()]
    # dropna=False: a blank or missing `by` value is a group of its own, never a reason to drop the record
    keys = by + ["_when", "_pos"]
    positions = stable_order([work[c] for c in keys])
    ordered = work.iloc[positions] if positions is not None else work.sort_values(keys, kind="stable")
    last = ordered.groupby(by, sort=False, dropna=False).tail(1).index
    out = pd.Series("", index=frame.index, dtype=object)
    out.loc[last] = "Y"
    return out
