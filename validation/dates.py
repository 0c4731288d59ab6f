"""ISO 8601 text as SDTM writes it: validity, comparable prefixes, study days. Column-wise.

Validation reads packages of any origin, so it keeps its own small, strict reading of --DTC
values instead of reusing the mapping engine's parser (a writer bug must not hide itself).
"""
from __future__ import annotations

import re
from datetime import date

import numpy as np
import pandas as pd

from .context import series_of

# complete or right-truncated date/datetime, or SDTMIG's unknown-month form 2003---15
_DATETIME = (r"[0-9]{4}(-[0-9]{2}(-[0-9]{2}(T[0-9]{2}(:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?)?)?)?)?"
             r"(Z|[+-][0-9]{2}(:?[0-9]{2})?)?|[0-9]{4}---[0-9]{2}|[0-9]{4}-[0-9]{2}-[0-9]{2}T-:[0-9]{2}")
_DURATION = r"-?P(?=[0-9T])([0-9.]+Y)?([0-9.]+M)?([0-9.]+W)?([0-9.]+D)?(T(?=[0-9])([0-9.]+H)?([0-9.]+M)?([0-9.]+S)?)?"
DATETIME_RX = re.compile(rf"^(?:{_DATETIME})$")
INTERVAL_RX = re.compile(rf"^(?:{_DATETIME}|{_DURATION})/(?:{_DATETIME}|{_DURATION})$")
DURATION_RX = re.compile(rf"^(?:{_DURATION})$")


def _text(values: pd.Series) -> pd.Series:
    return values.astype(object).where(values.notna(), "").astype(str).str.strip()


SMALL = 5000   # below this many values a plain pass beats pandas' per-operation overhead


def iso8601_ok(values: pd.Series, *, intervals: bool = True) -> pd.Series:
    """True where a --DTC value is blank or valid ISO 8601 (calendar and clock checked)."""
    if len(values) <= SMALL:
        return pd.Series([_one_ok(v, intervals) for v in _text(values)], index=values.index, dtype=bool)
    return iso8601_ok_columnar(values, intervals=intervals)


def iso8601_flags(texts: np.ndarray) -> np.ndarray:
    """``iso8601_ok`` of a column's distinct trimmed texts (numpy, object) as a bool array. The same
    date text recurs across columns and datasets, so each text is judged once per run (``_ISO_SEEN``)."""
    if len(texts) > SMALL:
        return _columnar_flags(texts)
    seen = _ISO_SEEN
    out = np.empty(len(texts), dtype=bool)
    fresh = []
    for i, v in enumerate(texts):
        ok = seen.get(v)
        if ok is None:
            fresh.append(i)
        else:
            out[i] = ok
    if len(fresh) >= GRID_MIN:
        # the common shape (YYYY-MM-DD[Thh:mm[:ss]], years 1700-2200) judged on a numpy grid, as large columns
        # are: the same verdict as ``_one_ok`` there (tests/test_validation_sixth_pass.py); the rest by the pattern
        new = [texts[i] for i in fresh]
        simple, verdict = simple_dates(new)
        for i, v, is_simple, good in zip(fresh, new, simple.tolist(), verdict.tolist()):
            out[i] = seen[v] = good if is_simple else _one_ok(v, True)
    else:
        for i in fresh:
            v = texts[i]
            out[i] = seen[v] = _one_ok(v, True)
    if len(seen) > 200_000:
        seen.clear()
    return out


_ISO_SEEN: dict = {}     # trimmed text -> valid ISO 8601 (intervals allowed); cleared with the column profiles


def _one_ok(text: str, intervals: bool) -> bool:
    if text == "":
        return True
    if "/" in text:
        if not intervals or not INTERVAL_RX.match(text):
            return False
        return all(DURATION_RX.match(part) or _one_ok(part, False) for part in text.split("/", 1))
    return bool(DATETIME_RX.match(text)) and _calendar_one(text)


def _calendar_one(text: str) -> bool:
    if len(text) >= 7 and text[4] == "-" and text[5:7].isdigit() and not 1 <= int(text[5:7]) <= 12:
        return False
    if len(text) >= 10 and text[7] == "-" and text[8:10].isdigit():
        try:
            date(int(text[:4]), int(text[5:7]), int(text[8:10]))
        except ValueError:
            return False
    m = _CLOCK_RX.search(text)
    if m:
        hh, mm, ss = (int(x) if x else 0 for x in m.groups())
        return hh <= 23 and mm <= 59 and ss <= 59
    return True


_CLOCK_RX = re.compile(r"T([0-9]{2})(?::([0-9]{2}))?(?::([0-9]{2}))?")


def iso8601_ok_columnar(values: pd.Series, *, intervals: bool = True) -> pd.Series:
    """``iso8601_ok`` with pandas string operations (large columns)."""
    text = _text(values)
    ok = (text.str.match(DATETIME_RX) | (text == "")).astype(bool)
    if intervals:
        slash = text.str.contains("/", regex=False)
        if slash.any():
            parts = text[slash].str.split("/", n=1, expand=True)
            good = (text[slash].str.match(INTERVAL_RX) & _part_calendar_ok(parts[0])
                    & _part_calendar_ok(parts[1]))
            ok[slash] = good.astype(bool).to_numpy()
            return ok & (slash | _calendar_ok(text))
    return ok & _calendar_ok(text)


def _columnar_flags(texts: np.ndarray) -> np.ndarray:
    """``iso8601_ok_columnar`` of distinct trimmed texts, value by value (its verdict for a value never
    depends on the others): the same answers without pandas' per-element regex extraction, and with the
    date check still made by ``pd.to_datetime`` over every candidate at once."""
    texts = [str(t).strip() for t in texts]
    n = len(texts)
    ok = np.zeros(n, dtype=bool)
    checks: list[tuple[int, str]] = []      # (value, text whose calendar must be right)
    seen = _COLUMNAR_SEEN
    fresh: list[tuple[int, str]] = []        # (value, text) judged here, remembered for the run below
    for i, t in enumerate(texts):
        known = seen.get(t)
        if known is not None:
            ok[i] = known
            continue
        fresh.append((i, t))
    simple, verdict = simple_dates([t for _, t in fresh])
    for (i, t), is_simple, good in zip(fresh, simple.tolist(), verdict.tolist()):
        if is_simple:
            ok[i] = good
            continue
        if "/" in t:
            if not INTERVAL_RX.match(t):
                continue
            # a duration part (PT25H) has no calendar or clock: only the date/time parts are checked
            parts = [p for p in t.split("/", 1) if not DURATION_RX.match(p)]
            if all(_clock_month_ok(p) for p in parts):
                ok[i] = True
                checks += [(i, p) for p in parts]
        elif (t == "" or DATETIME_RX.match(t)) and _clock_month_ok(t):
            ok[i] = True
            checks.append((i, t))
    dated = [(i, t[:10]) for i, t in checks if _ISO_DATE_RX.match(t)]
    if dated:
        parsed = pd.to_datetime(pd.Series([d for _, d in dated], dtype=object), format="%Y-%m-%d", errors="coerce")
        for (i, _), bad in zip(dated, parsed.isna().to_numpy()):
            if bad:
                ok[i] = False
    if len(seen) > 400_000:
        seen.clear()
    for i, t in fresh:
        seen[t] = bool(ok[i])
    return ok


# The common shape of a large --DTC column: a complete date, perhaps with hours and minutes (and seconds).
# For it the columnar verdict is month 1-12, a real day (pd.to_datetime agrees with datetime.date for years
# well inside its range), hour <= 23, minute and second <= 59: judged here without the general patterns.
_SIMPLE_RX = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})(?:T([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?)?")
_COLUMNAR_SEEN: dict = {}    # trimmed text -> verdict of ``_columnar_flags``; cleared with the column profiles


_SIMPLE_LENGTHS = np.array([10, 16, 19])


def _code_point_grid(texts: list, lengths_read: np.ndarray) -> tuple:
    """The texts whose length is one of ``lengths_read`` (at most 19) laid out as code points, one row per text:
    (their positions in ``texts``, the (rows, 19) grid of code points (0 past a text's end), their lengths,
    where a code point is an ASCII digit, the digit's value). The shared layout of ``simple_dates`` and
    ``_grid_parts``."""
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    rows = np.flatnonzero(np.isin(lengths, lengths_read))
    grid = np.array([texts[i] for i in rows.tolist()], dtype="U19").view(np.uint32).reshape(len(rows), 19)
    digit = (grid >= 48) & (grid <= 57)
    return rows, grid, lengths[rows], digit, grid.astype(np.int64) - 48


def simple_dates(texts: list) -> tuple[np.ndarray, np.ndarray]:
    """(matches ``_SIMPLE_RX`` with a year 1700-2200, ``_simple_ok`` of it) for each text, on numpy arrays.

    Why: a 10,000-subject study's date columns hold hundreds of thousands of distinct date-times; a regex
    match and a ``datetime.date`` per value was most of the gate's --DTC checking. The texts of length 10, 16
    or 19 are laid out as code points, one row per text, and the shape (ASCII digits, "-", "T", ":"), the
    calendar (Gregorian leap years, as ``datetime.date``) and the clock are judged column by column."""
    n = len(texts)
    simple, ok = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    rows, grid, size, digit, value = _code_point_grid(texts, _SIMPLE_LENGTHS)
    if not len(rows):
        return simple, ok

    def number(start: int, width: int) -> np.ndarray:
        out = np.zeros(len(rows), dtype=np.int64)
        for k in range(start, start + width):
            out = out * 10 + value[:, k]
        return out

    shape = digit[:, [0, 1, 2, 3, 5, 6, 8, 9]].all(axis=1) & (grid[:, 4] == 45) & (grid[:, 7] == 45)
    timed = size >= 16
    shape &= ~timed | (digit[:, [11, 12, 14, 15]].all(axis=1) & (grid[:, 10] == 84) & (grid[:, 13] == 58))
    seconds = size == 19
    shape &= ~seconds | (digit[:, [17, 18]].all(axis=1) & (grid[:, 16] == 58))
    year, month, day = number(0, 4), number(5, 2), number(8, 2)
    shape &= (year >= 1700) & (year <= 2200)
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    month_ok = (month >= 1) & (month <= 12)
    m = np.where(month_ok, month, 1)
    last = np.where(leap, _LEAP_DAYS[m], _DAYS[m])
    good = month_ok & (day >= 1) & (day <= last)
    good &= ~timed | ((number(11, 2) <= 23) & (number(14, 2) <= 59))
    good &= ~seconds | (number(17, 2) <= 59)
    simple[rows] = shape
    ok[rows] = shape & good
    return simple, ok


_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
_LEAP_DAYS = np.array([0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def _simple_ok(year, month, day, hh, mm, ss) -> bool:
    if not 1 <= int(month) <= 12:
        return False
    if hh is not None and (int(hh) > 23 or int(mm) > 59 or (ss is not None and int(ss) > 59)):
        return False
    try:
        date(int(year), int(month), int(day))
    except ValueError:
        return False
    return True


def _part_calendar_ok(part: pd.Series) -> pd.Series:
    """An interval part's calendar: a duration (P1D, PT25H) has none to check."""
    part = part.astype(str)
    return part.str.match(DURATION_RX).astype(bool) | _calendar_ok(part)


def _clock_month_ok(t: str) -> bool:
    """The month and clock half of ``_calendar_ok`` for one text (same patterns, same search)."""
    m = _MONTH_RX.match(t)
    if m is not None and not 1 <= int(m.group(1)) <= 12:
        return False
    c = _CLOCK_RX.search(t)
    if c is not None:
        hh, mm, ss = c.groups()
        if int(hh) > 23 or (mm is not None and int(mm) > 59) or (ss is not None and int(ss) > 59):
            return False
    return True


_ISO_DATE_RX = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MONTH_RX = re.compile(r"^[0-9]{4}-([0-9]{2})")


def _calendar_ok(text: pd.Series) -> pd.Series:
    """Month 1-12, real day of month, hour <= 23 (24:00 not used in SDTM), minute/second <= 59."""
    text = text.astype(str)
    iso_date = text.str.match(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}")
    dates = pd.to_datetime(text.str.slice(0, 10).where(iso_date, None), format="%Y-%m-%d", errors="coerce")
    ok = ~(iso_date & dates.isna())
    month = pd.to_numeric(text.str.extract(r"^[0-9]{4}-([0-9]{2})", expand=False), errors="coerce")
    ok &= ~((month < 1) | (month > 12)).fillna(False)
    clock = text.str.extract(r"T([0-9]{2})(?::([0-9]{2}))?(?::([0-9]{2}))?")
    hh, mm, ss = (pd.to_numeric(clock[i], errors="coerce") for i in range(3))
    ok &= ~((hh > 23) | (mm > 59) | (ss > 59)).fillna(False)
    return ok


def duration_ok(values: pd.Series) -> pd.Series:
    """True where blank or an ISO 8601 duration (P1Y2M, PT30M, P2W, -P1D)."""
    text = _text(values)
    return (text == "") | text.str.match(DURATION_RX)


def complete_date(values: pd.Series) -> pd.Series:
    """The YYYY-MM-DD part of values with a complete date, as datetime64; anything else NaT.
    Parsed once per distinct value (a date column repeats its values many times), once per column per run."""
    return _per_column("date", values, _complete_date)


def _complete_date(values: pd.Series) -> pd.Series:
    codes, table = date_table(values)
    return pd.Series(table[codes], index=values.index)


def has_complete_date(values: pd.Series) -> np.ndarray:
    """``complete_date(values).notna()`` as a bool array, from the same per-distinct-value table (no
    datetime per record)."""
    codes, table = date_table(values)
    return (~np.isnat(table))[codes]


def date_table(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(codes, complete date of each distinct value, NaT last for missing), kept per column for the run."""
    return _per_column("date-table", values, _make_date_table)


def _make_date_table(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    seeded = _seeded(values)
    if seeded is not None:
        codes, memo = seeded
        if "date" not in memo:
            memo["date"] = _complete_dates_of(pd.Series(memo["texts"], dtype=object))
        return codes, memo["date"]
    codes, text = _distinct(values)
    table = np.append(_complete_dates_of(text), np.datetime64("NaT"))    # missing: the last entry
    return np.where(codes < 0, len(table) - 1, codes), table


def _complete_dates_of(text: pd.Series) -> np.ndarray:
    """datetime64[ns] of each (trimmed) text that starts with a complete date, NaT otherwise.

    Why not pandas alone: the date rules ask this of every --DTC column's distinct values (~5 % of the
    1,000-subject gate was pandas' string steps around the parse). The first ten characters are laid out as
    code points (as ``simple_dates`` does) and a ``YYYY-MM-DD`` with a year 1700-2200 is judged on numpy
    (Gregorian calendar: what ``pd.to_datetime(format="%Y-%m-%d")`` accepts there); any other year that has
    the shape goes through ``_complete_dates_pandas``, the reference, value by value the same."""
    texts = text.tolist()
    n = len(texts)
    out = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    if not n or not all(type(t) is str for t in texts):
        return _complete_dates_pandas(text)
    heads = np.array([t[:10] for t in texts], dtype="U10")
    grid = heads.view(np.uint32).reshape(n, 10)
    digit = (grid >= 48) & (grid <= 57)
    shape = digit[:, [0, 1, 2, 3, 5, 6, 8, 9]].all(axis=1) & (grid[:, 4] == 45) & (grid[:, 7] == 45)
    if not shape.any():
        return out
    value = grid.astype(np.int64) - 48
    year = value[:, 0] * 1000 + value[:, 1] * 100 + value[:, 2] * 10 + value[:, 3]
    month = value[:, 5] * 10 + value[:, 6]
    day = value[:, 8] * 10 + value[:, 9]
    inside = shape & (year >= 1700) & (year <= 2200)
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    month_ok = (month >= 1) & (month <= 12)
    m = np.where(month_ok, month, 1)
    good = inside & month_ok & (day >= 1) & (day <= np.where(leap, _LEAP_DAYS[m], _DAYS[m]))
    rows = np.flatnonzero(good)
    if len(rows):
        out[rows] = heads[rows].astype("datetime64[D]")
    rest = np.flatnonzero(shape & ~inside)
    if len(rest):
        out[rest] = _complete_dates_pandas(pd.Series([texts[i] for i in rest.tolist()], dtype=object))
    return out


def _complete_dates_pandas(text: pd.Series) -> np.ndarray:
    """``_complete_dates_of`` by pandas' string steps and ``pd.to_datetime`` (the reference; unusual years)."""
    full = text.str.match(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}")
    parsed = pd.to_datetime(text.str.slice(0, 10).where(full, None), format="%Y-%m-%d", errors="coerce").to_numpy()
    return parsed.astype("datetime64[ns]")


def seed(series: pd.Series, codes: np.ndarray, memo: dict) -> None:
    """Declare ``series`` to be ``memo["texts"][codes]`` (trimmed texts, ``memo`` shared by every series built
    from the same texts, e.g. a DM variable spread over each dataset's records): its complete dates and
    ISO 8601 components are then computed once per text in ``memo``, not once per series."""
    from .context import _array_key
    key, keep = _array_key(series)
    _SEEDS[key] = (keep, codes, memo)


def _seeded(values: pd.Series):
    from .context import _array_key
    if not _SEEDS:
        return None
    hit = _SEEDS.get(_array_key(values)[0])
    return None if hit is None else hit[1:]


_SEEDS: dict = {}        # data identity -> (data kept alive, codes, memo); cleared with the column profiles


def _distinct(values: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """(codes, trimmed text of each distinct value; -1 = missing): a text column's shared profile
    (``context.profile``, factorised once per run for every rule), a numeric one factorised here."""
    if not pd.api.types.is_numeric_dtype(values):
        from .context import profile
        prof = profile(values)
        n = prof.width - 1                              # the profile's last entry stands for missing
        return np.where(prof.codes == n, -1, prof.codes), prof.values.iloc[:n]
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return codes, _text(pd.Series(uniques, dtype=object))


def study_day(dtc: pd.Series, ref: pd.Series) -> pd.Series:
    """SDTM study day (no day 0): date - ref + 1 on or after ref, date - ref before; else NaN."""
    delta = (complete_date(dtc) - complete_date(ref)).dt.days
    return delta.where(delta < 0, delta + 1).astype(float)


_PARTS_RX = (r"^([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2})(?:T([0-9]{2})(?::([0-9]{2})(?::([0-9]{2})(?:\.[0-9]+)?)?)?)?)?)?$")


_SLICES = ((0, 4), (5, 7), (8, 10), (11, 13), (14, 16), (17, 19))


def _parts(uniques) -> np.ndarray:
    """(n, 6) float components of distinct values. A few thousand values are read one by one, each text
    once per run (``_PARTS_SEEN``: the same dates recur across columns and datasets); more with Arrow's
    compute kernels (RE2, slices, casts). Both read the same pattern and the same character slices."""
    texts = [str(v).strip() if v is not None and v == v else "" for v in uniques]
    if len(texts) >= GRID_MIN:
        out, plain = _grid_parts(texts)
        rest = np.flatnonzero(~plain)
        if len(rest):
            out[rest] = _parts_general([texts[i] for i in rest.tolist()])
        return out
    return _parts_general(texts)


def _parts_general(texts: list) -> np.ndarray:
    """``_parts`` of trimmed texts by the pattern: value by value (each text once per run) or, for many, Arrow."""
    if len(texts) > PARTS_SMALL:
        return _parts_arrow(texts)
    seen = _PARTS_SEEN
    rows = []
    for t in texts:
        row = seen.get(t)
        if row is None:
            row = seen[t] = _parts_one(t)
        rows.append(row)
    if len(seen) > 200_000:
        seen.clear()
    return np.array(rows, dtype=float).reshape(len(rows), 6)


PARTS_SMALL = 2000
GRID_MIN = 64            # from this many distinct texts the plain shapes are read on a numpy grid


def _grid_parts(texts: list) -> tuple[np.ndarray, np.ndarray]:
    """((n, 6) components, which texts were read) for texts of exactly the shape ``YYYY[-MM[-DD[Thh[:mm[:ss]]]]]``
    (lengths 4, 7, 10, 13, 16, 19; ASCII digits and separators where the pattern has them): the values the
    pattern and its slices give, laid out as code points and read column by column. Other texts (fractions of a
    second, zones, anything else) are left to the pattern (their rows are NaN here, ``False`` in the second).

    Why: a dozen date rules read every --DTC column's components; a regex search and six slices per distinct
    text was ~4 % of the 1,000-subject gate."""
    n = len(texts)
    out = np.full((n, 6), np.nan)
    plain = np.zeros(n, dtype=bool)
    rows, grid, size, digit, value = _code_point_grid(texts, _GRID_LENGTHS)
    if not len(rows):
        return out, plain
    ok = digit[:, :4].all(axis=1)
    for k, (sep, (a, b)) in enumerate(zip(_GRID_SEPARATORS, _SLICES[1:]), start=1):
        has = size >= b
        ok &= ~has | ((grid[:, a - 1] == sep) & digit[:, a] & digit[:, a + 1])
    good = rows[ok]
    size = size[ok]
    value = value[ok]
    block = np.full((len(good), 6), np.nan)
    for k, (a, b) in enumerate(_SLICES):
        number = np.zeros(len(good), dtype=np.int64)
        for j in range(a, b):
            number = number * 10 + value[:, j]
        block[:, k] = np.where(size >= b, number, np.nan)
    out[good] = block
    plain[good] = True
    return out, plain


_GRID_LENGTHS = np.array([4, 7, 10, 13, 16, 19])
_GRID_SEPARATORS = (45, 45, 84, 58, 58)      # the character before each component after the year: - - T : :
_PARTS_ONE_RX = re.compile(_PARTS_RX)
_NO_PARTS = (np.nan,) * 6
_PARTS_SEEN: dict = {}   # trimmed text -> its 6 components; cleared with the column profiles


def _parts_one(t: str) -> tuple:
    if not _PARTS_ONE_RX.search(t):
        return _NO_PARTS
    n = len(t)
    return tuple(float(t[a:b]) if n >= b else np.nan for a, b in _SLICES)


def _parts_arrow(uniques) -> np.ndarray:
    import pyarrow as pa
    import pyarrow.compute as pc
    arr = pa.array([str(v).strip() if v is not None and v == v else "" for v in uniques], type=pa.string())
    valid = pc.match_substring_regex(arr, pattern=_PARTS_RX.replace("(?:", "(?:").replace("([0-9]", "(?:[0-9]"))
    length = pc.utf8_length(arr)
    cols = []
    for start, stop in _SLICES:
        piece = pc.utf8_slice_codeunits(arr, start, stop)
        keep = pc.and_(valid, pc.greater_equal(length, stop))
        cols.append(pc.cast(pc.if_else(keep, piece, pa.scalar(None, pa.string())), pa.float64())
                    .to_numpy(zero_copy_only=False))
    return np.column_stack(cols) if cols else np.empty((0, 6))


def components(values: pd.Series) -> np.ndarray:
    """(year, month, day, hour, minute, second) of each value as floats, NaN past its precision; all NaN
    for anything that is not a plain ISO 8601 date/time. Parsed once per distinct value."""
    def make(values):
        codes, table = _component_table(values)
        return table[codes]
    return _per_column("components", values, make)


def _component_table(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(codes, components of each distinct value): missing is the last row (all NaN), codes never -1.
    Kept per column for the run: a dozen date-order rules read the same --DTC columns."""
    return _per_column("table", values, _make_component_table)


def _make_component_table(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    seeded = _seeded(values)
    if seeded is not None:
        codes, memo = seeded
        if "parts" not in memo:
            memo["parts"] = _parts(memo["texts"].tolist())
        return codes, memo["parts"]
    codes, text = _distinct(values)
    table = np.vstack([_parts(text.tolist()), np.full((1, 6), np.nan)])
    return np.where(codes < 0, len(table) - 1, codes).astype(np.int64, copy=False), table


def _per_column(kind: str, values: pd.Series, make):
    """``make(values)``, kept for the run per column data (``_COMPONENTS``, at most 256 entries, oldest out):
    the date rules read the same --DTC columns a dozen times."""
    from .context import _array_key
    key, keep = _array_key(values)
    key = (kind,) + key
    hit = _COMPONENTS.get(key)
    if hit is not None:
        return hit[1]
    out = make(values)
    if len(_COMPONENTS) >= 256:
        _COMPONENTS.pop(next(iter(_COMPONENTS)))
    _COMPONENTS[key] = (keep, out)
    return out


_COMPONENTS: dict = {}   # data identity -> (data kept alive, components); cleared with the column profiles


def after(start: pd.Series, end: pd.Series) -> pd.Series:
    """True where start is after end at their common precision (both valid ISO 8601, not intervals).

    "2012-03" vs "2012-03-15" compare on "2012-03" (equal: not after); so partial dates never
    produce a finding they cannot prove. Compared on ``_key_table``'s whole numbers, one per record.
    """
    ka, kb = _common_keys(start, end)
    return series_of(ka > kb, start.index)


def same_at_precision(start: pd.Series, end: pd.Series) -> pd.Series:
    """True where both are plain ISO 8601 values that agree at their common precision
    ("2014-01" and "2014-01-02": the start may be the same day)."""
    ka, kb = _common_keys(start, end)
    return series_of((ka == kb) & (ka >= 0), start.index)


def _common_keys(start: pd.Series, end: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Each record's start and end as whole numbers cut to the precision they share (-1 when either has none).

    Why: comparing (year, month, ..., second) component by component over the distinct (start, end) pairs
    cost a hash of every record's pair and a dozen array steps per rule and dataset (14 date-order rules
    over every dataset). Cut to ``p`` components, a date's number orders exactly as its first ``p``
    components do (year < 10,000, the others two digits each), so one gather and one comparison per record
    say "after" / "the same" at the common precision."""
    ca, pa, ka = _key_table(start)
    cb, pb, kb = _key_table(end)
    p = np.minimum(pa[ca], pb[cb])
    return ka[ca * _WIDTH + p], kb[cb * _WIDTH + p]


_WIDTH = 7                                   # precisions 0 (nothing comparable) to 6 (seconds)
_WEIGHTS = np.array([10 ** 10, 10 ** 8, 10 ** 6, 10 ** 4, 10 ** 2, 1], dtype=np.int64)


def _key_table(values: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(codes, precision of each distinct value, flat ``_WIDTH`` numbers per distinct value): number ``p`` of a
    value is its first ``p`` components weighed by ``_WEIGHTS`` (-1 at precision 0, so two values without
    a comparable date are never "the same"), from the column's component table."""
    codes, table = _component_table(values)
    hit = _KEYS.get(id(table))
    if hit is None or hit[0] is not table:
        present = ~np.isnan(table)
        precision = present.cumprod(axis=1).sum(axis=1)
        whole = np.where(present, table, 0).astype(np.int64) * _WEIGHTS
        keys = np.empty((len(table), _WIDTH), dtype=np.int64)
        keys[:, 0] = -1
        keys[:, 1:] = np.cumsum(whole, axis=1)
        hit = _KEYS[id(table)] = (table, precision, keys.ravel())
    return codes, hit[1], hit[2]


_KEYS: dict = {}         # id of a component table -> (that table, precisions, numbers); cleared with the profiles
