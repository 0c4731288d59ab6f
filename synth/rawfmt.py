"""Formatting of raw EDC values: dates as '04 MAR 2025' (with UN/UNK parts), times as 'HH:MM',
fixed-decimal numbers, and the byte-stable CSV writer.

Every formatter formats the *unique* values once and indexes back, so millions of rows cost
little, and output never depends on locale or platform.
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

MONTHS = np.array(["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"])
EPOCH = np.datetime64("1970-01-01")

_DATE_OFFSET = 400_000   # keeps keys of dates before 1970 (birth dates) non-negative
#: Precision codes for partial dates.
FULL, DAY_UNKNOWN, MONTH_UNKNOWN = 0, 1, 2


def day_number(date: np.datetime64 | str) -> int:
    """Integer day number (days since 1970-01-01) of a date, the generator's internal date unit."""
    return int((np.datetime64(date, "D") - EPOCH).astype(int))


def _map_unique(values: np.ndarray, fn) -> np.ndarray:
    uniq, inverse = np.unique(values, return_inverse=True)
    table = np.array([fn(v) for v in uniq.tolist()] + [""], dtype=object)
    return table[inverse.reshape(-1)]


def fmt_date(days, precision=None) -> np.ndarray:
    """'DD MON YYYY' from integer day numbers; NaN/None -> ''.

    ``precision`` (same length, optional) blanks parts the site did not know: 1 -> 'UN MAR 2025',
    2 -> 'UN UNK 2025'.
    """
    d = np.asarray(days, dtype=float)
    if d.size == 0:
        return np.array([], dtype=object)
    p = np.zeros(d.shape, dtype=np.int64) if precision is None else np.asarray(precision, dtype=np.int64)
    valid = ~np.isnan(d)
    key = (np.where(valid, d, 0).astype(np.int64) + _DATE_OFFSET) * 4 + p
    key = np.where(valid, key, -1)

    def one(k: int) -> str:
        if k < 0:
            return ""
        day, prec = divmod(k, 4)
        day -= _DATE_OFFSET
        iso = str(EPOCH + np.timedelta64(day, "D"))
        y, m, dd = iso[:4], int(iso[5:7]), iso[8:10]
        if prec == MONTH_UNKNOWN:
            return f"UN UNK {y}"
        if prec == DAY_UNKNOWN:
            return f"UN {MONTHS[m - 1]} {y}"
        return f"{dd} {MONTHS[m - 1]} {y}"

    return _map_unique(key, one)


def fmt_time(minutes) -> np.ndarray:
    """'HH:MM' from minutes after midnight; NaN -> ''."""
    m = np.asarray(minutes, dtype=float)
    if m.size == 0:
        return np.array([], dtype=object)
    key = np.where(np.isnan(m), -1, np.round(np.nan_to_num(m, nan=0.0))).astype(np.int64)
    return _map_unique(key, lambda k: "" if k < 0 else f"{(k // 60) % 24:02d}:{k % 60:02d}")


def fmt_num(values, decimals: int) -> np.ndarray:
    """Fixed-decimal text ('12.30' for decimals=2); NaN -> ''."""
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        return np.array([], dtype=object)
    scale = 10 ** decimals
    key = np.where(np.isnan(v), np.iinfo(np.int64).min, np.round(np.nan_to_num(v) * scale)).astype(np.int64)
    fmt = f"{{:.{decimals}f}}"
    return _map_unique(key, lambda k: "" if k == np.iinfo(np.int64).min else fmt.format(k / scale))


def fmt_sig(values, digits: int = 3) -> np.ndarray:
    """Integer text rounded to ``digits`` significant figures (lab-vendor style, e.g. '12300')."""
    v = np.asarray(values, dtype=float)
    out = np.full(v.shape, np.nan)
    ok = ~np.isnan(v) & (v > 0)
    mag = np.floor(np.log10(v[ok]))
    step = 10.0 ** np.maximum(mag - digits + 1, 0)
    out[ok] = np.round(v[ok] / step) * step
    out[~np.isnan(v) & (v <= 0)] = 0.0
    return fmt_num(out, 0)


def choose(rng: np.random.Generator, options, size: int, p=None) -> np.ndarray:
    """Draw ``size`` values from ``options`` (object array, so text stays text)."""
    opts = np.asarray(options, dtype=object)
    return opts[rng.choice(len(opts), size=size, p=p)] if size else np.array([], dtype=object)


def laterality(detail) -> np.ndarray:
    """'Right' / 'Left' / '' from a location detail such as 'Right upper lobe'."""
    d = np.asarray(detail, dtype=object).astype(str)
    return np.select([np.char.startswith(d, "Right"), np.char.startswith(d, "Left")], ["Right", "Left"], "").astype(object)


def yes_no(flags) -> np.ndarray:
    """EDC Yes/No text from booleans."""
    return np.where(np.asarray(flags, dtype=bool), "Yes", "No").astype(object)


def write_form(frame: pd.DataFrame, path: Path) -> Path:
    """Write one form as UTF-8 CSV with '\\n' line endings; every cell already text, blanks empty.

    The stdlib csv writer quotes only cells holding a comma, quote or newline (QUOTE_MINIMAL), the
    same bytes pandas would write, at about twice the speed.
    """
    columns = []
    for col in frame.columns:
        values = frame[col].astype(object)
        if values.isna().any():
            values = values.where(values.notna(), "")
        columns.append(values.astype(str).tolist())
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow([str(c) for c in frame.columns])
        writer.writerows(zip(*columns))
    return path
