"""Raw date/time text → ISO 8601 (SDTM --DTC), keeping partial dates truncated, never invented.

A spec declares the raw layout (``DD MON YYYY``, ``YYYY-MM-DD``, ``MM/DD/YYYY``, ``YYYYMMDD`` ...)
and the tokens the EDC writes for unknown parts (``UN``, ``UNK``). ``UN MAR 2025`` becomes
``2025-03``; ``UN UNK 2025`` becomes ``2025``; a known day with unknown month gives ``2025---04``
as SDTMIG 4.4.4 shows. A time is appended only to a complete date. Everything is column-wise.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from ..errors import DateFormatError, SpecError
from .uniques import factorize, factorize_rows, missing_mask, on_distinct, text_array

MONTHS = {m: i + 1 for i, m in enumerate(
    ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"])}

_DATE_TOKENS = {"YYYY": ("year", r"[0-9]{4}"), "MON": ("month", r"[A-Za-z]{3}"),
                "MM": ("month", r"[0-9]{1,2}"), "DD": ("day", r"[0-9]{1,2}")}
_TIME_TOKENS = {"HH": ("hour", r"[0-9]{1,2}"), "MI": ("minute", r"[0-9]{2}"), "SS": ("second", r"[0-9]{2}")}
DEFAULT_UNKNOWN = ("UN", "UNK", "UK", "--", "XX", "XXX", "XXXX", "NK", "UNKN")


@dataclass(frozen=True)
class DatePattern:
    """A compiled raw date or time layout."""

    text: str
    regex: re.Pattern
    parts: tuple[str, ...]


def compile_pattern(fmt: str, unknown: tuple[str, ...], *, time: bool = False) -> DatePattern:
    """Turn 'DD MON YYYY' into a regex whose parts also accept the unknown tokens."""
    tokens = dict(_TIME_TOKENS if time else _DATE_TOKENS)
    if time:
        fmt = fmt.replace("HH:MM", "HH:MI")  # 'MM' in a time layout means minutes
    order = sorted(tokens, key=len, reverse=True)
    unk = "|".join(re.escape(u) for u in sorted(unknown, key=len, reverse=True))
    pattern, parts, i = "", [], 0
    while i < len(fmt):
        for tok in order:
            if fmt.startswith(tok, i):
                name, rx = tokens[tok]
                alt = f"{rx}|{unk}" if unk else rx
                pattern += f"(?P<{name}>{alt})"
                parts.append(name)
                i += len(tok)
                break
        else:
            pattern += re.escape(fmt[i])
            i += 1
    if not parts:
        raise SpecError(f"date/time format {fmt!r} has no recognised tokens (YYYY MM MON DD / HH MM SS)")
    if len(set(parts)) != len(parts):
        raise SpecError(f"date/time format {fmt!r} names a part twice")
    return DatePattern(fmt, re.compile(rf"^\s*{pattern}\s*$"), tuple(parts))


def to_iso8601(date: pd.Series, time: pd.Series | None = None, *, fmt: str = "DD MON YYYY",
               time_fmt: str = "HH:MM", unknown=DEFAULT_UNKNOWN, where: dict | None = None,
               rows: pd.Series | None = None) -> pd.Series:
    """Vectorised raw date (+ time) → ISO 8601 text; blank stays blank; bad values raise.

    Parsed once per distinct (date, time) pair. ``where`` (file/column) and ``rows`` (raw line
    numbers) only feed the error message, which names the first offending row.
    """
    from .uniques import on_unique_pairs
    fast = _fast_iso8601(date, time, fmt, time_fmt, unknown)
    if fast is not None:
        return fast
    time_given = time is not None
    t = time if time_given else pd.Series("", index=date.index)
    try:
        return on_unique_pairs(date, t, lambda d, tt: _to_iso8601(
            d, tt if time_given else None, fmt=fmt, time_fmt=time_fmt, unknown=unknown, where=where, rows=None))
    except DateFormatError as exc:
        if rows is None:
            raise
        bad_text = exc.value
        column = exc.column
        source = t if (time_given and column == (where or {}).get("time_column")) else date
        hit = source.fillna("").astype(str).str.strip() == bad_text
        row = rows.loc[hit.idxmax()] if hit.any() else None
        raise DateFormatError(exc.cause.split("; ")[0] + _more(hit), file=exc.file, column=column, row=row,
                              value=bad_text) from None


class _Slow(Exception):
    """A value the fast path leaves to the vectorised path (which raises the exact error, or decides)."""


@lru_cache(maxsize=64)
def _pattern(fmt: str, unknown: tuple, time: bool) -> DatePattern:
    return compile_pattern(fmt, unknown, time=time)


def _fast_iso8601(date: pd.Series, time, fmt, time_fmt, unknown) -> pd.Series | None:
    """``to_iso8601`` for one declared layout, one distinct (date, time) pair at a time in plain Python.

    The vectorised path below pays ~50 pandas operations per call whatever the row count; here each
    distinct pair costs one regex match. Anything unusual (a value that is no text, a bad date, a year
    outside pandas' calendar) returns None, and the vectorised path decides and words the error.
    """
    if not isinstance(fmt, str) or fmt.upper() in ("ISO8601", "ISO 8601"):
        return None
    if not all(isinstance(u, str) for u in (unknown or ())):
        return None
    unk = tuple(u.upper() for u in (unknown or ()))
    try:
        pat = _pattern(fmt, unk, False)
        tpat = _pattern(time_fmt, unk, True) if time is not None else None
    except SpecError:
        return None
    unk_set = frozenset(unk)
    dates = text_array(date)
    times = text_array(time) if time is not None else None
    if dates is None or (time is not None and times is None):
        return None
    date_of = _parsed(_PARSED_DATES, (fmt, unk))     # a date recurs in many rules and domains: parsed once a run
    try:
        if times is None:
            codes, rows = factorize_rows(dates)
            table = []
            for (d,) in rows:
                parsed = date_of.get(d)
                if parsed is None:
                    parsed = date_of[d] = _iso_date(d.strip(), pat, unk_set)
                table.append(parsed[0])
        else:
            codes, rows = factorize_rows(dates, times)
            table, time_of = [], _parsed(_PARSED_TIMES, (time_fmt, unk))
            for d, t in rows:
                parsed = date_of.get(d)
                if parsed is None:
                    parsed = date_of[d] = _iso_date(d.strip(), pat, unk_set)
                clock = time_of.get(t)
                if clock is None:
                    clock = time_of[t] = _iso_time(t.strip(), tpat, unk_set)
                text, full = parsed
                table.append(text + clock if full and clock else text)
    except _Slow:
        return None
    out = np.array(table + [""], dtype=object)[codes] if len(codes) else np.array([], dtype=object)
    return pd.Series(out, index=date.index, dtype=object)


# (layout, unknown tokens) -> {raw text: its parse}: the fast path's results, kept for the run (a value that is
# not parsed there raises before it is stored). Bounded like the --DTC memo below.
_PARSED_DATES: dict = {}
_PARSED_TIMES: dict = {}


def _parsed(memo: dict, key) -> dict:
    table = memo.get(key)
    if table is None or len(table) > _MEMO_LIMIT:
        table = memo[key] = {}
    return table


def _number(part, unknown) -> int | None:
    if part is None or part in unknown:
        return None
    if not part.isascii() or not part.isdigit():
        raise _Slow
    return int(part)


def _iso_date(text: str, pat: DatePattern, unknown) -> tuple[str, bool]:
    """(ISO 8601 text, complete date?) of one stripped raw date; _Slow for anything the vectorised path must judge."""
    if not text:
        return "", False
    m = pat.regex.match(text.upper())
    if m is None:
        raise _Slow
    parts = m.groupdict()
    year = _number(parts.get("year"), unknown)
    month_raw = parts.get("month")
    if month_raw is None or month_raw in unknown:
        month = None
    else:
        month = MONTHS.get(month_raw) or _number(month_raw, unknown)
        if not 1 <= month <= 12:
            raise _Slow
    day = _number(parts.get("day"), unknown)
    if year is None or (day is not None and not 1 <= day <= 31):
        raise _Slow
    y = str(year).zfill(4)
    if month is not None and day is not None:
        if not 1678 <= year <= 2261:            # pandas' calendar decides at the edges
            raise _Slow
        import datetime
        try:
            datetime.date(year, month, day)
        except ValueError:
            raise _Slow from None
        return f"{y}-{month:02d}-{day:02d}", True
    if month is not None:
        return f"{y}-{month:02d}", False
    if day is not None:
        return f"{y}---{day:02d}", False
    return y, False


def _iso_time(text: str, pat: DatePattern, unknown) -> str:
    """'THH:MM(:SS)' of one stripped raw time ('' if blank or the hour is unknown)."""
    if not text:
        return ""
    m = pat.regex.match(text.upper())
    if m is None:
        raise _Slow
    parts = m.groupdict()
    hour, minute, second = (_number(parts.get(k), unknown) for k in ("hour", "minute", "second"))
    if (hour is not None and hour > 23) or (minute is not None and minute > 59) or \
            (second is not None and second > 59):
        raise _Slow
    if hour is None:
        return ""
    if minute is None:
        return f"T{hour:02d}"
    if second is None:
        return f"T{hour:02d}:{minute:02d}"
    return f"T{hour:02d}:{minute:02d}:{second:02d}"


def _more(hit: pd.Series) -> str:
    n = int(hit.sum())
    return f"; {n - 1} more row(s) like it" if n > 1 else ""


def _to_iso8601(date, time, *, fmt, time_fmt, unknown, where, rows):
    if isinstance(fmt, (list, tuple)):
        return _first_matching_format(date, time, formats=list(fmt), time_fmt=time_fmt, unknown=unknown,
                                      where=where, rows=rows)
    return _one_format(date, time, fmt=fmt, time_fmt=time_fmt, unknown=unknown, where=where, rows=rows)


def _matches(text: pd.Series, fmt: str, unknown) -> pd.Series:
    if fmt.upper() in ("ISO8601", "ISO 8601"):
        return is_iso8601(text) & (text != "")
    return text.str.upper().str.match(compile_pattern(fmt, tuple(u.upper() for u in unknown)).regex)


def _first_matching_format(date, time, *, formats, time_fmt, unknown, where, rows):
    """Several raw layouts in order (``[MM/DD/YYYY, YYYY]``): each value is read by the first layout it matches."""
    if not formats:
        raise SpecError("datetime format list is empty")
    text = date.fillna("").astype(str).str.strip()
    out = pd.Series("", index=date.index, dtype=object)
    todo = text != ""
    for fmt in formats:
        hit = todo & _matches(text, str(fmt), unknown or ())
        if hit.any():
            out[hit] = _one_format(date[hit], None if time is None else time[hit], fmt=str(fmt), time_fmt=time_fmt,
                                   unknown=unknown, where=where, rows=rows)
        todo &= ~hit
    _raise_if(todo, text, f"date matches none of the declared formats {', '.join(map(str, formats))}", where,
              rows)
    return out


def _one_format(date, time, *, fmt, time_fmt, unknown, where, rows):
    unknown = tuple(u.upper() for u in (unknown or ()))
    where = where or {}
    text = date.fillna("").astype(str).str.strip()
    out = pd.Series("", index=date.index, dtype=object)
    blank = text == ""
    if fmt.upper() in ("ISO8601", "ISO 8601"):
        iso = _check_iso(text, blank, where, rows)
        return iso
    pat = compile_pattern(fmt, unknown)
    parts = text.str.upper().str.extract(pat.regex)
    bad = parts.isna().all(axis=1) & ~blank
    _raise_if(bad, text, f"date does not match the declared format {fmt!r}", where, rows)

    year = _part(parts, "year", unknown)
    month_raw = parts["month"] if "month" in parts else pd.Series(np.nan, index=parts.index)
    month = month_raw.map(lambda m: MONTHS.get(m, m) if isinstance(m, str) else m)
    month = month.where(~month_raw.isin(unknown), np.nan)
    month = pd.to_numeric(month, errors="coerce")
    bad_month = month_raw.notna() & ~month_raw.isin(unknown) & (month.isna() | (month < 1) | (month > 12)) & ~blank
    _raise_if(bad_month, text, "date has an invalid month", where, rows)
    day = _part(parts, "day", unknown)

    bad_year = year.isna() & ~blank
    _raise_if(bad_year, text, "date has no known year (an unknown year cannot be submitted)", where, rows)
    full = year.notna() & month.notna() & day.notna()
    checked = pd.to_datetime(
        {"year": year.where(full, 2000), "month": month.where(full, 1), "day": day.where(full, 1)}, errors="coerce")
    _raise_if(full & checked.isna(), text, "date is not a calendar date", where, rows)
    bad_day = day.notna() & ((day < 1) | (day > 31))
    _raise_if(bad_day & ~blank, text, "date has an invalid day", where, rows)

    y, m, d = _digits(year, 4), _digits(month, 2), _digits(day, 2)
    iso = y.copy()
    has_m = month.notna()
    iso = iso.where(~has_m, y + "-" + m)
    iso = iso.where(~(has_m & day.notna()), y + "-" + m + "-" + d)
    iso = iso.where(~(~has_m & day.notna()), y + "---" + d)      # SDTMIG 4.4.4: 2003---15
    out = iso.where(~blank, "")

    if time is not None:
        out = _append_time(out, full, time, time_fmt, unknown, where, rows)
    return out.astype(object)


def _append_time(iso, full, time, time_fmt, unknown, where, rows):
    ttext = time.fillna("").astype(str).str.strip()
    tblank = ttext == ""
    tpat = compile_pattern(time_fmt, unknown, time=True)
    tparts = ttext.str.upper().str.extract(tpat.regex)
    bad = tparts.isna().all(axis=1) & ~tblank
    twhere = dict(where, column=where.get("time_column", where.get("column")))
    _raise_if(bad, ttext, f"time does not match the declared format {time_fmt!r}", twhere, rows)
    hour = _part(tparts, "hour", unknown)
    minute = _part(tparts, "minute", unknown)
    second = _part(tparts, "second", unknown)
    _raise_if(((hour > 23) | (minute > 59) | (second > 59)).fillna(False) & ~tblank, ttext,
              "time is not a clock time", twhere, rows)
    h, mi, s = _digits(hour, 2), _digits(minute, 2), _digits(second, 2)
    tiso = pd.Series("", index=iso.index, dtype=object)
    tiso = tiso.where(~hour.notna(), "T" + h)
    tiso = tiso.where(~(hour.notna() & minute.notna()), "T" + h + ":" + mi)
    tiso = tiso.where(~(hour.notna() & minute.notna() & second.notna()), "T" + h + ":" + mi + ":" + s)
    return iso.where(~(full & (tiso != "")), iso + tiso)


def _digits(values: pd.Series, width: int) -> pd.Series:
    """Whole numbers as zero-padded text, blank where missing (vectorised)."""
    text = values.astype("Int64").astype(object).astype(str).str.zfill(width)
    return text.where(values.notna(), "").astype(object)


def _part(parts: pd.DataFrame, name: str, unknown) -> pd.Series:
    if name not in parts:
        return pd.Series(np.nan, index=parts.index)
    col = parts[name]
    return pd.to_numeric(col.where(~col.isin(unknown), np.nan), errors="coerce")


_ISO_FULL_RX = re.compile(
    r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2}(T[0-9]{2}(:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?)?)?)?)?$")


def _is_iso8601(values: pd.Series) -> pd.Series:
    """True where a --DTC value is valid ISO 8601 (complete or right-truncated, or SDTMIG's '---DD').

    Blank counts as valid (missing); the calendar is checked for complete dates.
    """
    text = values.fillna("").astype(str)
    ok = text.str.match(_ISO_FULL_RX) | text.str.match(r"^[0-9]{4}---[0-9]{2}$") | (text == "")
    full = text.str.len() >= 10
    dates = pd.to_datetime(text.str.slice(0, 10).where(full & ok, None), format="%Y-%m-%d", errors="coerce")
    ok &= ~(full & dates.isna())
    month = pd.to_numeric(text.str.slice(5, 7), errors="coerce")
    ok &= ~((month < 1) | (month > 12)).fillna(False)
    hh = pd.to_numeric(text.str.slice(11, 13), errors="coerce")
    mm = pd.to_numeric(text.str.slice(14, 16), errors="coerce")
    ss = pd.to_numeric(text.str.slice(17, 19), errors="coerce")
    ok &= ~((hh > 23) | (mm > 59) | (ss > 59)).fillna(False)
    return ok


def _check_iso(text, blank, where, rows):
    bad = ~is_iso8601(text) & ~blank
    _raise_if(bad, text, "value is not ISO 8601", where, rows)
    return text.where(~blank, "").astype(object)


def _raise_if(bad: pd.Series, text: pd.Series, cause: str, where: dict, rows):
    bad = bad.fillna(False)
    if not bad.any():
        return
    first = bad.idxmax()
    row = None if rows is None else rows.loc[first]
    n = int(bad.sum())
    more = f"; {n - 1} more row(s) like it" if n > 1 else ""
    raise DateFormatError(cause + more, file=where.get("file"), column=where.get("column"), row=row,
                          value=text.loc[first])


def _iso_date_part(dtc: pd.Series) -> pd.Series:
    """The complete-date part (YYYY-MM-DD) of --DTC values as datetime64; partial dates → NaT."""
    text = dtc.fillna("").astype(str)
    full = text.str.match(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}")
    return pd.to_datetime(text.str.slice(0, 10).where(full, None), format="%Y-%m-%d", errors="coerce")


def _iso_datetime_part(dtc: pd.Series) -> pd.Series:
    """--DTC values with at least hours and minutes as datetime64; anything less precise → NaT."""
    text = dtc.fillna("").astype(str)
    timed = text.str.match(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}")
    return pd.to_datetime(text.str.slice(0, 16).where(timed, None), format="%Y-%m-%dT%H:%M", errors="coerce")


_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MINUTE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}")
_NAT = np.datetime64("NaT", "us")


def _one_part(text: str, pattern: re.Pattern, width: int):
    """``_iso_date_part`` / ``_iso_datetime_part`` of one str as datetime64[us]: numpy's ISO 8601 reading of the
    matched prefix (the same calendar checks as pandas' format parse: no 30 February, no hour 24)."""
    if pattern.match(text) is None:
        return _NAT
    try:
        return np.datetime64(text[:width], "us")
    except ValueError:
        return _NAT


# one text at a time instead of pandas' vectorised parse (~1 ms a call whatever the count) where pandas reads
# these layouts as microseconds, as the memo stores them (tests/test_sdtm_run_memos.py compares the two)
_ONE_PART = {"date": lambda t: _one_part(t, _DAY, 10), "datetime": lambda t: _one_part(t, _MINUTE, 16)}


@lru_cache(maxsize=1)
def _parts_in_microseconds() -> bool:
    probe = pd.Series(["2024-01-31T10:20"], dtype=object)
    return _iso_date_part(probe).dtype == "datetime64[us]" and _iso_datetime_part(probe).dtype == "datetime64[us]"


def study_day(dtc: pd.Series, ref_dtc: pd.Series) -> pd.Series:
    """SDTM study day: date − reference + 1 on or after the reference, date − reference before; no day 0.

    Both complete dates are required; anything partial gives a missing day (SDTMIG 4.4.4).
    """
    delta = (iso_date_part(dtc) - iso_date_part(ref_dtc)).dt.days
    return delta.where(delta < 0, delta + 1).astype("Float64").astype(float)


def is_iso8601(values: pd.Series) -> pd.Series:
    """True where a --DTC value is valid ISO 8601 (see ``_is_iso8601``); decided once per distinct value."""
    return on_distinct(values, _is_iso8601)


def iso_date_part(dtc: pd.Series) -> pd.Series:
    """The complete-date part of --DTC values as datetime64 (see ``_iso_date_part``), once per distinct value."""
    return _remembered(dtc, _iso_date_part, _DATE_PARTS, one="date")


def iso_datetime_part(dtc: pd.Series) -> pd.Series:
    """--DTC values with hours and minutes as datetime64 (see ``_iso_datetime_part``), once per distinct value."""
    return _remembered(dtc, _iso_datetime_part, _DATETIME_PARTS, one="datetime")


# --DTC text -> datetime64[us] (NaT when not complete), shared by every domain of a run: the same
# reference dates (DM.RFSTDTC ...) are read for --DY and EPOCH of every domain, so each text is parsed once.
_DATE_PARTS: dict = {}
_DATETIME_PARTS: dict = {}
_MEMO_LIMIT = 1_000_000


def _remembered(dtc: pd.Series, fn, memo: dict, one: str | None = None) -> pd.Series:
    """``fn`` (a vectorised parser) on the texts not seen before; the rest from ``memo``. ``one`` names
    ``fn``'s per-text twin (``_ONE_PART``), used instead when pandas parses to microseconds.

    The dtype is what ``fn`` gives on the whole column: microseconds when any value parses, else
    seconds (pandas' inference); a text column only, anything else goes to ``on_distinct``.
    """
    arr = dtc.to_numpy() if dtc.dtype == object else None
    if arr is None or pd.api.types.infer_dtype(arr, skipna=True) not in ("string", "empty"):
        return on_distinct(dtc, fn)
    missing = missing_mask(arr)
    if missing.any():
        arr = arr.copy()
        arr[missing] = ""
    codes, uniques = factorize(arr)          # C hashing per row; Python only per distinct text
    texts = uniques.tolist()
    if len(memo) > _MEMO_LIMIT:
        memo.clear()
    new = [t for t in texts if t not in memo]
    if new and one is not None and _parts_in_microseconds():
        part = _ONE_PART[one]
        memo.update((t, part(t)) for t in new)
    elif new:
        parsed = fn(pd.Series(new, dtype=object))
        values = parsed.to_numpy()
        if parsed.notna().any() and parsed.dtype != "datetime64[us]":
            return on_distinct(dtc, fn)
        memo.update(zip(new, values.astype("datetime64[us]")))
    out = np.array([memo[t] for t in texts], dtype="datetime64[us]")[codes] if len(codes) else \
        np.array([], dtype="datetime64[us]")
    if not (out == out).any():                 # nothing parses: pandas infers seconds
        out = out.astype("datetime64[s]")
    return pd.Series(out, index=dtc.index, name=dtc.name)
