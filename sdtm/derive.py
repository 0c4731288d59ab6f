"""Engine-derived variables that need the whole domain or other domains (phase 2).

--SEQ, --DY, EPOCH and per-subject aggregates from another domain are computed by the engine
after every source of a domain has been mapped and unioned, so users never type them.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import SpecError
from ..specs.spec import Rule
from . import dates, expressions
from .findings import derive_baseline_flag
from .uniques import DISTINCT_ROWS_MIN, distinct_rows, factorize, on_objects, stable_order, text_array
from .working import WorkingFrame, remembered_on

SUBJECT = "USUBJID"


def _subject_frame(ctx, domain: str, columns, rule: Rule) -> pd.DataFrame:
    if domain not in ctx.domains:
        raise SpecError(f"{rule.variable} needs domain {domain}, which no spec builds", file=rule.file,
                        column=rule.variable)
    other = ctx.domains[domain]
    for col in [SUBJECT, *columns]:
        if col not in other.columns:
            raise SpecError(f"{rule.variable} needs {domain}.{col}, which the {domain} spec does not assign",
                            file=rule.file, column=rule.variable)
    return other


def _lookup_by_subject(frame, other, column, rule) -> pd.Series:
    if SUBJECT not in frame.columns:
        raise SpecError(f"{rule.variable} needs USUBJID assigned in this domain", file=rule.file,
                        column=rule.variable)
    key = (id(other), column)
    cached = _SUBJECT_TABLES.get(key)
    if cached is not None and cached[0] is other:
        table = cached[1]
    else:
        slim = other[list(dict.fromkeys([SUBJECT, column]))]      # the two columns, not a copy of all of them
        table = slim.drop_duplicates(SUBJECT).set_index(SUBJECT, drop=False)[column]
        if isinstance(other, WorkingFrame):   # its columns never change once assigned: one table per build
            if len(_SUBJECT_TABLES) > 256:
                _SUBJECT_TABLES.clear()
            _SUBJECT_TABLES[key] = (other, table)
    return frame[SUBJECT].map(table)


# (working frame, column) -> subject table: DM's reference dates are read by --DY and EPOCH of every domain.
# The frame itself is kept with its table, so its id cannot be reused by another frame while cached.
_SUBJECT_TABLES: dict = {}


def split_ref(ref: str, default_domain: str = "DM") -> tuple[str, str]:
    ref = str(ref)
    return tuple(ref.split(".", 1)) if "." in ref else (default_domain, ref)


def _per_distinct_rows(frame, columns: list[str], fn) -> pd.Series | None:
    """``fn`` (a frame in, a Series out) on the distinct rows of ``columns``, taken back per row.

    For derivations whose value is a function of a few text columns (EPOCH and --DY of a subject's date):
    a findings domain repeats each (subject, date) once per test. None (the caller computes on every
    row) for a small frame, a column holding anything but text, or more than half the rows distinct.
    """
    if len(frame) < DISTINCT_ROWS_MIN:
        return None
    # EPOCH and --DY group the same (subject, date) rows: once
    found = remembered_on(frame, "distinct rows", columns, lambda: _distinct_text_rows(frame, columns))
    if found is None:
        return None
    codes, first = found
    if 2 * len(first) > len(frame):
        return None
    result = fn(frame[list(columns)].iloc[first])
    return pd.Series(result.array.take(codes), index=frame.index, name=result.name)


def _distinct_text_rows(frame, columns: list[str]):
    """``distinct_rows`` of text columns; None when a column holds anything but text, or the frame is empty."""
    arrays = []
    for name in columns:
        values = frame[name]
        texts = values.to_numpy() if values.dtype == object else None
        if texts is None or pd.api.types.infer_dtype(texts, skipna=False) != "string":
            return None
        arrays.append(texts)
    if not len(frame):
        return None
    return distinct_rows(*arrays)


def derive_study_day(frame, rule: Rule, ctx) -> pd.Series:
    """--DY = date − reference + 1 on/after the reference date, date − reference before (no day 0)."""
    domain, ref_var = split_ref(rule.get("ref", "DM.RFSTDTC"))
    if rule.value not in frame.columns:
        raise SpecError(f"{rule.variable} needs {rule.value} assigned first", file=rule.file, column=rule.variable)
    same = domain == ctx.current.domain and ref_var in frame.columns
    if SUBJECT in frame.columns and not same:
        fast = _per_distinct_rows(frame, list(dict.fromkeys([SUBJECT, rule.value])),
                                  lambda rows: _study_day(rows, rule, ctx, domain, ref_var, same))
        if fast is not None:
            return fast
    return _study_day(frame, rule, ctx, domain, ref_var, same)


def _study_day(frame, rule: Rule, ctx, domain, ref_var, same) -> pd.Series:
    if same:
        return dates.study_day(frame[rule.value], frame[ref_var])
    ref = _subject_dates(frame, _subject_frame(ctx, domain, [ref_var], rule), ref_var, rule)[0]
    when = dates.iso_date_part(frame[rule.value]).to_numpy()
    delta = (when - ref) / np.timedelta64(1, "D")          # whole days (date parts); NaT -> NaN
    return pd.Series(np.where(delta < 0, delta, delta + 1), index=frame.index, dtype=float)


def _subject_dates(frame, other, column, rule) -> tuple[np.ndarray, np.ndarray]:
    """Per record: the complete date and the date-time (hours, minutes) of ``other``'s ``column`` for its subject,
    as datetime64 (NaT where partial or the subject is not in ``other``).

    Each subject's value is parsed once per build (DM's reference dates are read by --DY and EPOCH of every
    domain), then taken per record by position: no Series map and no parse per call.
    """
    if SUBJECT not in frame.columns:
        raise SpecError(f"{rule.variable} needs USUBJID assigned in this domain", file=rule.file,
                        column=rule.variable)
    key = ("dates", id(other), column)
    cached = _SUBJECT_TABLES.get(key)
    if cached is not None and cached[0] is other:
        subjects, day, moment = cached[1]
    else:
        slim = other[list(dict.fromkeys([SUBJECT, column]))].drop_duplicates(SUBJECT)
        subjects = pd.Index(slim[SUBJECT].to_numpy(), dtype=object)
        texts = pd.Series(slim[column].to_numpy(), dtype=slim[column].dtype)
        day = np.append(dates.iso_date_part(texts).to_numpy().astype("datetime64[us]"), np.datetime64("NaT", "us"))
        moment = np.append(dates.iso_datetime_part(texts).to_numpy().astype("datetime64[us]"),
                           np.datetime64("NaT", "us"))
        if isinstance(other, WorkingFrame):     # its columns never change once assigned: one table per build
            if len(_SUBJECT_TABLES) > 256:
                _SUBJECT_TABLES.clear()
            _SUBJECT_TABLES[key] = (other, (subjects, day, moment))
    positions = subjects.get_indexer(frame[SUBJECT].to_numpy())
    positions[positions < 0] = len(subjects)    # the trailing NaT
    return day[positions], moment[positions]


def derive_seq(frame, rule: Rule, ctx) -> pd.Series:
    """--SEQ: 1..n within each subject (or within ``by``), in the domain's key order (source order breaks ties)."""
    order = [k for k in ctx.current.sort if k != rule.variable and k in frame.columns]
    if isinstance(rule.value, dict) and rule.value.get("by"):
        by = list(rule.value["by"])
        missing = [b for b in by if b not in frame.columns]
        if missing:
            raise SpecError(f"{rule.variable}: seq by {missing[0]} which is not assigned", file=rule.file,
                            column=rule.variable)
    else:
        by = [SUBJECT] if SUBJECT in frame.columns else []
    fast = _seq_by_sorted_runs(frame, by, order)
    if fast is not None:
        return fast
    work = frame[order].copy() if order else pd.DataFrame(index=frame.index)
    work["_pos"] = range(len(frame))
    sort_cols = list(dict.fromkeys(by + order)) + ["_pos"]
    for col in by:
        if col not in work:
            work[col] = frame[col]
    positions = stable_order([work[c] for c in sort_cols])
    ordered = work.iloc[positions] if positions is not None else work.sort_values(sort_cols, kind="stable")
    seq = ordered.groupby(by, sort=False, dropna=False).cumcount() + 1 if by else pd.Series(range(1, len(frame) + 1),
                                                                              index=ordered.index)
    return seq.reindex(frame.index).astype(float)


def _seq_by_sorted_runs(frame, by: list[str], order: list[str]) -> pd.Series | None:
    """--SEQ without a sorted frame and a groupby: the stable sort order of (by, keys) from numpy, then the
    records of one ``by`` group are one run of that order and each record's number is its place in the run.
    None (the pandas path) when a key is not plain text or numbers."""
    n = len(frame)
    keys = list(dict.fromkeys(by + order))
    if not n or not keys:
        return None
    positions = stable_order([frame[c] for c in keys],    # stable: ties keep the source order
                             memo=frame if isinstance(frame, WorkingFrame) else None)
    if positions is None:
        return None
    seq = np.empty(n, dtype=float)
    if by:
        codes = distinct_rows(*(frame[c].to_numpy() for c in by))[0][positions]
        starts = np.concatenate(([True], codes[1:] != codes[:-1]))
        run_start = np.maximum.accumulate(np.where(starts, np.arange(n), 0))
        seq[positions] = np.arange(n) - run_start + 1
    else:
        seq[positions] = np.arange(1, n + 1)
    return pd.Series(seq, index=frame.index)


def derive_epoch(frame, rule: Rule, ctx) -> pd.Series:
    """EPOCH of each record: the last study epoch whose per-subject start is on or before its date.

    Epoch starts are DM reference dates named in study.yaml (e.g. SCREENING from RFICDTC,
    TREATMENT from RFXSTDTC, FOLLOW-UP the day after RFXENDTC). Partial dates get no EPOCH.
    """
    epochs = ctx.study.epochs
    if not epochs:
        raise SpecError("the spec derives EPOCH but study.yaml declares no epochs", file=ctx.study.config_file,
                        column=rule.variable)
    if rule.value not in frame.columns:
        raise SpecError(f"{rule.variable} needs {rule.value} assigned first", file=rule.file, column=rule.variable)
    own = [var for domain, var in (split_ref(e.start) for e in epochs)
           if domain == ctx.current.domain and var in frame.columns]
    if SUBJECT in frame.columns:
        fast = _per_distinct_rows(frame, list(dict.fromkeys([SUBJECT, rule.value, *own])),
                                  lambda rows: _epoch(rows, rule, ctx))
        if fast is not None:
            return fast
    return _epoch(frame, rule, ctx)


def _epoch(frame, rule: Rule, ctx) -> pd.Series:
    epochs = ctx.study.epochs
    # numpy datetime64 from here on: a comparison with NaT is False, as pandas gives it, without a Series per step
    when = dates.iso_date_part(frame[rule.value]).to_numpy()
    when_dt = dates.iso_datetime_part(frame[rule.value]).to_numpy()
    out = np.full(len(frame), "", dtype=object)
    for epoch in epochs:
        domain, var = split_ref(epoch.start)
        if domain == ctx.current.domain and var in frame.columns:
            start_day = dates.iso_date_part(frame[var]).to_numpy()
            start_moment = None
        else:
            start_day, start_moment = _subject_dates(frame, _subject_frame(ctx, domain, [var], rule), var, rule)
        shift = pd.to_timedelta(epoch.offset_days, unit="D").to_timedelta64()
        start = start_day + shift
        after = when >= start
        if epoch.offset_days == 0:               # same day: the clock decides when both have one
            start_dt = dates.iso_datetime_part(frame[var]).to_numpy() if start_moment is None else start_moment
            both = ~np.isnat(when_dt) & ~np.isnat(start_dt)
            after = np.where(both, when_dt >= start_dt, after)
        out[after] = epoch.epoch
    return pd.Series(out, index=frame.index, dtype=object)


def derive_aggregate(frame, rule: Rule, ctx) -> pd.Series:
    """A per-subject value from another domain: min/max/first/last/count/any/one, optionally filtered."""
    spec = rule.value
    domain, value, fn = str(spec["domain"]).upper(), spec["value"], spec.get("fn", "one")
    if spec.get("scope") == "study":
        return _study_aggregate(frame, rule, ctx, domain, value, fn)
    other = _subject_frame(ctx, domain, [value], rule)
    if spec.get("where"):
        other = other[expressions.evaluate_mask(spec["where"], other)]
    vals = other[[SUBJECT, value]].copy()
    present = on_objects(vals[value], lambda v: v.notna() & (v.astype(str).str.strip() != "") &
                         (v.astype(str) != "nan"))
    vals = vals[present]
    order_by = spec.get("order", value)
    if fn in ("first", "last"):
        vals = vals.assign(_o=other.loc[vals.index, order_by]).sort_values([SUBJECT, "_o"], kind="stable")
        agg = vals.groupby(SUBJECT)[value].agg(fn)
    elif fn == "count":
        counts = other[[SUBJECT]].groupby(SUBJECT).size() if not spec.get("where") else vals.groupby(SUBJECT).size()
        return frame[SUBJECT].map(counts).fillna(0).astype(float)
    elif fn == "any":
        return frame[SUBJECT].isin(set(vals[SUBJECT])).map({True: "Y", False: ""}).astype(object)
    elif fn == "one":
        distinct = vals.drop_duplicates()
        dup = distinct[SUBJECT].duplicated(keep=False)
        if dup.any():
            subj = distinct.loc[dup, SUBJECT].iloc[0]
            raise SpecError(f"{rule.variable}: {domain}.{value} has more than one value for a subject (use fn: min/max/"
                            f"first/last)", file=rule.file, column=rule.variable, value=subj)
        agg = distinct.set_index(SUBJECT)[value]
    else:
        agg = _text_extreme(vals, value, fn)
        if agg is None:
            agg = vals.groupby(SUBJECT)[value].agg(fn)
    return _lookup_from_series(frame, agg)


def _text_extreme(vals: pd.DataFrame, value: str, fn: str) -> pd.Series | None:
    """Per-subject min/max of a text column without pandas' per-group Python fallback for object columns.

    The distinct texts are ranked once (Python's string order, as ``min``/``max`` compare them), the
    per-subject extreme rank is a C group reduction; None (the caller's groupby decides) for non-text.
    """
    if fn not in ("min", "max") or vals.empty:
        return None
    texts = text_array(vals[value])
    subjects = vals[SUBJECT].to_numpy()
    if texts is None or pd.isna(subjects).any():
        return None
    codes, uniques = factorize(texts)
    order = sorted(range(len(uniques)), key=uniques.__getitem__)
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    subject_codes, subject_uniques = factorize(subjects)
    best = pd.Series(rank[codes]).groupby(subject_codes).agg(fn)
    by_rank = np.asarray(uniques, dtype=object)[np.asarray(order, dtype=np.int64)]
    return pd.Series(by_rank[best.to_numpy()], index=pd.Index(subject_uniques[best.index.to_numpy()], dtype=object),
                     dtype=object)


def _study_aggregate(frame, rule, ctx, domain, value, fn) -> pd.Series:
    """One value for every record from the whole of another domain (e.g. TS SSTDTC = min DM.RFICDTC)."""
    if domain not in ctx.domains or value not in ctx.domains[domain].columns:
        raise SpecError(f"{rule.variable} needs {domain}.{value}", file=rule.file, column=rule.variable)
    other = ctx.domains[domain]
    if rule.value.get("where"):
        other = other[expressions.evaluate_mask(rule.value["where"], other)]
    vals = other[value]
    vals = vals[on_objects(vals, lambda v: v.notna() & (v.astype(str).str.strip() != "") &
                           (v.astype(str).str.strip() != "nan"))]
    if fn == "count":
        result = float(len(vals))
    elif vals.empty:
        result = ""
    elif fn in ("min", "first"):
        result = vals.min()
    elif fn in ("max", "last"):
        result = vals.max()
    elif fn == "any":
        result = "Y"
    else:
        distinct = vals.unique()
        if len(distinct) > 1:
            raise SpecError(f"{rule.variable}: {domain}.{value} has several values", file=rule.file,
                            column=rule.variable)
        result = distinct[0]
    return pd.Series([result] * len(frame), index=frame.index)


def _lookup_from_series(frame, agg) -> pd.Series:
    return frame[SUBJECT].map(agg)


PHASE2 = {
    "study_day": derive_study_day,
    "seq": derive_seq,
    "epoch": derive_epoch,
    "aggregate": derive_aggregate,
    "baseline": derive_baseline_flag,
}
