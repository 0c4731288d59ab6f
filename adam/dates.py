"""ISO 8601 --DTC text to numeric SAS dates/datetimes, with admiral's imputation rules.

SAS dates are days since 1960-01-01 and SAS datetimes seconds since 1960-01-01T00:00:00, both
as float so missing is NaN. Imputation follows admiral (``derive_vars_dt``/``derive_vars_dtm``):

* ``highest_imputation`` ("n" < "D" < "M" < "Y"; datetimes also "h" < "m" < "s" below "D") is the
  highest component that may be imputed; a date missing a higher component stays missing.
* ``date_imputation``: "first" (Jan / 1st), "mid" (June 30 when the month is missing, 15th when only
  the day is), "last" (Dec 31 / last day of the month, leap years honoured) or a fixed "MM-DD".
  A missing month always re-imputes the day too (admiral ``preserve = FALSE``): "2019---07" → as "2019".
* A missing year can only be imputed (level "Y") from ``min_dates`` ("first") or ``max_dates`` ("last").
* ``min_dates``/``max_dates``: the imputed date is moved to the latest min date / earliest max date
  that lies inside the range the partial date allows, so collected components never change.
* Flags: --DTF "Y"/"M"/"D" = highest date component imputed; --TMF "H"/"M"/"S" likewise for time.
"""
from __future__ import annotations

import re
from datetime import date as _date
from typing import Sequence

import numpy as np
import pandas as pd

from trialforge.errors import DateFormatError, SpecError

from ..sdtm.uniques import factorize
from ._frame import char, fresh, num

SAS_EPOCH = pd.Timestamp("1960-01-01")
_LEVELS = {"Y": 6, "M": 5, "D": 4, "h": 3, "m": 2, "s": 1, "n": 0}
_ISO = (r"^(?P<Y>\d{4}|-)?(?:-(?P<M>\d{2}|-)?(?:-(?P<D>\d{2}|-)?)?)?"
        r"(?:T(?P<h>\d{2}|-)?(?::(?P<m>\d{2}|-)?(?::(?P<s>\d{2}(?:\.\d+)?|-)?)?)?)?$")


def parse_dtc(dtc: pd.Series, *, column: str = "--DTC") -> pd.DataFrame:
    """Split ISO 8601 text into numeric Y M D h m s (NaN = not collected); malformed text is an error.

    >>> parse_dtc(pd.Series(["2019-02", "2019---07", "2020-03-01T10:15"])).fillna(-1).astype(int).values.tolist()
    [[2019, 2, -1, -1, -1, -1], [2019, -1, 7, -1, -1, -1], [2020, 3, 1, 10, 15, -1]]
    """
    fast = _parse_distinct(dtc)
    if fast is not None:
        return pd.DataFrame(fast, index=dtc.index, columns=list("YMDhms"), dtype="float64")
    text = char(dtc)
    codes, uniques = pd.factorize(text)            # parse each distinct text once, then spread
    uniq = pd.Series(uniques, dtype=object)
    parts = uniq.str.extract(_ISO) if len(uniq) else pd.DataFrame(columns=list("YMDhms"), dtype=object)

    def first_row(bad_unique: pd.Series) -> int:
        return int(np.flatnonzero(np.isin(codes, np.flatnonzero(bad_unique.to_numpy())))[0])

    # a text the pattern does not match extracts no part at all, so "no part and not blank" finds every bad one
    bad = parts.isna().all(axis=1) & (uniq != "")
    if bad.any():
        row = first_row(bad)
        raise DateFormatError("not an ISO 8601 date/time", column=column, row=row + 1, value=text.iloc[row])
    out = pd.DataFrame(index=uniq.index)
    for key in "YMDhms":
        out[key] = _numbers(parts[key])
    out["s"] = np.floor(out["s"])
    # Range checks: a month 13 or Feb 30 is a data error, not something to impute around.
    month_bad = out["M"].notna() & ~out["M"].between(1, 12)
    dim = _days_in_month(out["Y"].fillna(2000), out["M"].fillna(1))
    day_bad = out["D"].notna() & ((out["D"] < 1) | (out["M"].notna() & out["Y"].notna() & (out["D"] > dim))
                                  | (out["D"] > 31))
    time_bad = (out["h"] > 23) | (out["m"] > 59) | (out["s"] > 59)
    bad = month_bad | day_bad | time_bad
    if bad.any():
        row = first_row(bad)
        raise DateFormatError("impossible date/time", column=column, row=row + 1, value=text.iloc[row])
    return pd.DataFrame(out.to_numpy()[codes] if len(codes) else np.empty((0, 6)), index=dtc.index,
                        columns=list("YMDhms"), dtype="float64")


_ISO_RX = re.compile(_ISO)
_NO_PARTS = (np.nan,) * 6


def _parse_distinct(text: pd.Series) -> np.ndarray | None:
    """``parse_dtc``'s numbers, worked out once per distinct text (``_parse_texts``) and spread to the rows.

    None when any text is malformed or impossible: the vectorised path then finds it and words the error.
    """
    codes, texts = _distinct_texts(text)
    table = _parse_texts(texts)
    if table is None:
        return None
    return table[codes] if len(codes) else np.empty((0, 6))


def _distinct_texts(values: pd.Series) -> tuple[np.ndarray, list]:
    """(codes, texts): each row's index into ``texts``, the distinct values as ``char`` text (stripped, missing
    as ""). Two values may give the same text ("a", " a"); each is worked out on its own, to the same result."""
    raw = values.to_numpy(dtype=object) if isinstance(values.dtype, pd.StringDtype) or values.dtype == object \
        else values.astype(object).to_numpy()
    codes, uniques = factorize(raw, use_na_sentinel=True)
    uniques = uniques.tolist()
    if all(type(v) is str for v in uniques):
        texts = [v.strip() for v in uniques]
    else:
        texts = char(pd.Series(uniques, dtype=object)).tolist()
    if len(codes) and codes.min() < 0:      # missing: the extra text "" at the end
        codes = np.where(codes < 0, len(texts), codes)
        texts.append("")
    return codes, texts


# the complete forms of ISO 8601 text by length: the positions of each part's digits, then the separators
_PART_SPANS = ((0, 4), (5, 7), (8, 10), (11, 13), (14, 16), (17, 19))
_SEPARATORS = ((4, "-"), (7, "-"), (10, "T"), (13, ":"), (16, ":"))
_FORMS = {4: 1, 7: 2, 10: 3, 13: 4, 16: 5, 19: 6}       # length -> number of leading parts collected
_FEW = 40


def _parse_texts(texts: list) -> np.ndarray | None:
    """(Y, M, D, h, m, s) rows of distinct texts, NaN = not collected; None if one is malformed or impossible.

    The complete forms ("2019", "2019-07", "2019-07-18", "2019-07-18T15", "2019-07-18T15:25",
    "2019-07-18T15:25:09" in ASCII digits) are read with numpy on the character codes, all at once;
    anything else (blank, "-" parts, fractions of a second, other digits) goes through ``_parse_one``, the
    regex the vectorised path also uses, so every value is the one ``_parse_one`` gives.
    """
    n = len(texts)
    if n <= _FEW:                           # a few texts: the regex beats numpy's set-up
        rows = [_parse_one(t) for t in texts]
        return None if any(r is None for r in rows) else np.array(rows, dtype="float64").reshape(n, 6)
    out = np.full((n, 6), np.nan)
    lengths = np.fromiter(map(len, texts), dtype=np.intp, count=n)
    chars = np.array(texts, dtype="U19").view(np.uint32).reshape(n, 19).astype(np.int64)
    slow = np.ones(n, dtype=bool)
    for length, parts in _FORMS.items():
        rows = np.flatnonzero(lengths == length)
        if not len(rows):
            continue
        c = chars[rows, :length]
        ok = np.ones(len(rows), dtype=bool)
        for pos, sep in _SEPARATORS:
            if pos < length:
                ok &= c[:, pos] == ord(sep)
        values = []
        for lo, hi in _PART_SPANS[:parts]:
            digits = c[:, lo:hi] - 48
            ok &= ((digits >= 0) & (digits <= 9)).all(axis=1)
            values.append((digits * 10 ** np.arange(hi - lo - 1, -1, -1)).sum(axis=1).astype("float64"))
        got = np.column_stack(values + [np.full(len(rows), np.nan)] * (6 - parts))
        ok &= _possible(got)
        out[rows[ok]] = got[ok]
        slow[rows[ok]] = False
    for i in np.flatnonzero(slow).tolist():
        parsed = _parse_one(texts[i])
        if parsed is None:
            return None
        out[i] = parsed
    return out


def _possible(p: np.ndarray) -> np.ndarray:
    """Rows of collected parts that name a real date/time (``_parse_one``'s range checks), NaN = not collected."""
    y, mo, d, h, mi, sec = p.T
    with np.errstate(invalid="ignore"):
        ok = ~(mo < 1) & ~(mo > 12) & ~(d < 1) & ~(d > 31) & ~(h > 23) & ~(mi > 59) & ~(sec > 59)
        month = np.where(ok & (mo == mo), mo, 1).astype(np.intp) - 1
        leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
        dim = np.asarray(_DIM)[month] + ((month == 1) & leap)
        ok &= ~(d > dim)
    return ok


def _parse_one(t: str):
    """(Y, M, D, h, m, s) floats of one ISO 8601 text (NaN = not collected), None if malformed or impossible."""
    if t == "":
        return _NO_PARTS
    m = _ISO_RX.match(t)
    if m is None:
        return None
    groups = m.groups()
    if all(g is None for g in groups):
        return None
    y, mo, d, h, mi, sec = (float(g) if g is not None and g != "-" else np.nan for g in groups)
    sec = float(np.floor(sec))
    if mo == mo and not 1 <= mo <= 12:
        return None
    if d == d:
        if d < 1 or d > 31:
            return None
        if mo == mo and y == y:
            leap = (y % 4 == 0 and y % 100 != 0) or y % 400 == 0
            if d > _DIM[int(mo) - 1] + (1 if int(mo) == 2 and leap else 0):
                return None
    if h > 23 or mi > 59 or sec > 59:
        return None
    return (y, mo, d, h, mi, sec)


_DIM = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _numbers(part: pd.Series) -> np.ndarray:
    """Date part texts ("2019", "07", "-" = not collected) of distinct --DTC values as float."""
    # the pattern's groups hold digits (and a decimal point for seconds) or "-": float() reads them exactly
    return np.array([float(v) if isinstance(v, str) and v != "-" else np.nan for v in part.tolist()], dtype="float64")


def _days_in_month(year: pd.Series, month: pd.Series) -> pd.Series:
    y = year.to_numpy(dtype="float64")
    m = month.to_numpy(dtype="float64")
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    table = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype="float64")
    idx = np.clip(np.nan_to_num(m, nan=1).astype(int) - 1, 0, 11)
    days = table[idx] + ((idx == 1) & leap)
    return pd.Series(days, index=year.index)


def _sas_days(y, m, d) -> np.ndarray:
    """Vectorised civil date → days since 1960-01-01 (NaN where any part is NaN)."""
    y = np.asarray(y, dtype="float64")
    m = np.asarray(m, dtype="float64")
    d = np.asarray(d, dtype="float64")
    ok = ~(np.isnan(y) | np.isnan(m) | np.isnan(d))
    out = np.full(y.shape, np.nan)
    if ok.any():
        yy, mm, dd = y[ok].astype(int), m[ok].astype(int), d[ok].astype(int)
        months = (yy - 1970) * 12 + (mm - 1)
        dates = months.astype("datetime64[M]").astype("datetime64[D]") + (dd - 1)
        out[ok] = (dates - np.datetime64("1960-01-01")).astype("int64").astype("float64")
    return out


def _check_level(level: str, allowed: str) -> int:
    if level not in allowed:
        raise SpecError(f"highest_imputation must be one of {', '.join(allowed)}", value=level)
    return _LEVELS[level]


def _date_defaults(rule: str) -> tuple[float, float, str]:
    """(month, day) to impute when the month is missing, and the day rule when only the day is."""
    rule_l = rule.lower()
    if rule_l == "first":
        return 1.0, 1.0, "first"
    if rule_l == "mid":
        return 6.0, 30.0, "mid"
    if rule_l == "last":
        return 12.0, 31.0, "last"
    try:
        month, day = (int(p) for p in rule.split("-"))
    except ValueError:
        raise SpecError("date_imputation must be first, mid, last or MM-DD", value=rule) from None
    if not (1 <= month <= 12 and 1 <= day <= 31):
        raise SpecError("date_imputation MM-DD is not a date", value=rule)
    return float(month), float(day), "fixed"


def _impute_date_parts(parts: pd.DataFrame, level: int, rule: str):
    """Imputed (y, m, d) arrays and the flag; NaN where imputation is not allowed."""
    y, m, d = parts["Y"].copy(), parts["M"].copy(), parts["D"].copy()
    imp_month, imp_day, kind = _date_defaults(rule)
    flag = pd.Series("", index=parts.index, dtype=object)
    no_year = y.isna()
    no_month = ~no_year & m.isna()
    no_day = ~no_year & ~no_month & d.isna()
    # Day only missing (needs level D).
    if level >= _LEVELS["D"]:
        dim = _days_in_month(y, m)
        day_value = {"first": pd.Series(1.0, index=d.index), "mid": pd.Series(15.0, index=d.index),
                     "last": dim, "fixed": np.minimum(imp_day, dim)}[kind]
        d = d.where(~no_day, day_value)
        flag = flag.where(~no_day, "D")
    else:
        d = d.where(~no_day, np.nan)
    # Month missing (needs level M): month and day both imputed, a collected day is not preserved.
    if level >= _LEVELS["M"]:
        m = m.where(~no_month, imp_month)
        day_for_month = np.minimum(imp_day, _days_in_month(y, m))
        d = d.where(~no_month, day_for_month)
        flag = flag.where(~no_month, "M")
    else:
        m = m.where(~no_month, np.nan)
    y = y.where(~no_year, np.nan)
    if level >= _LEVELS["Y"]:
        flag = flag.where(~no_year, "Y")
    return y, m, d, flag, no_year


def _bounds(parts: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Earliest and latest SAS date a partial date allows (NaN when the year is missing: unbounded)."""
    y = parts["Y"]
    m_lo = parts["M"].fillna(1.0)
    m_hi = parts["M"].fillna(12.0)
    d_lo = parts["D"].where(parts["M"].notna(), np.nan).fillna(1.0)
    d_hi = parts["D"].where(parts["M"].notna(), np.nan)
    d_hi = d_hi.fillna(_days_in_month(y.fillna(2000), m_hi))
    return _sas_days(y, m_lo, d_lo), _sas_days(y, m_hi, d_hi)


def _restrict(value: np.ndarray, parts: pd.DataFrame, bounds_dates: Sequence[pd.Series], *,
              lower: bool) -> np.ndarray:
    """admiral min_dates/max_dates: clamp to reference dates that lie inside the partial date's range."""
    lo, hi = _bounds(parts)
    return _clamp_to_refs(value, lo, hi, np.isnan(parts["Y"].to_numpy()), bounds_dates, lower=lower)


def _clamp_to_refs(value: np.ndarray, lo, hi, unbounded, refs, *, lower: bool) -> np.ndarray:
    """Move an imputed value up (lower=True) or down to each reference inside the partial value's [lo, hi]."""
    value = value.copy()
    for ref in refs:
        r = np.asarray(ref, dtype="float64")
        inside = ~np.isnan(r) & (unbounded | ((lo <= r) & (r <= hi)))
        if lower:
            value = np.where(inside & (np.isnan(value) | (value < r)), r, value)
        else:
            value = np.where(inside & (np.isnan(value) | (value > r)), r, value)
    return value


def _ref_series(dataset: pd.DataFrame, refs) -> list[pd.Series]:
    out = []
    for ref in refs or []:
        out.append(num(dataset[ref]) if isinstance(ref, str) else pd.Series(ref, index=dataset.index))
    return out


def impute_dtc_dt(dtc: pd.Series, *, highest_imputation: str = "n", date_imputation: str = "first",
                  min_dates: Sequence[pd.Series] = (), max_dates: Sequence[pd.Series] = (),
                  column: str = "--DTC") -> tuple[pd.Series, pd.Series]:
    """(SAS date, --DTF flag) for ISO 8601 text, following the module's imputation rules.

    >>> dt, flag = impute_dtc_dt(pd.Series(["2019-02", "2020-02", "2019"]), highest_imputation="M",
    ...                          date_imputation="last")
    >>> [pd.Timestamp("1960-01-01") + pd.Timedelta(days=v) for v in dt], flag.tolist()
    ([Timestamp('2019-02-28 00:00:00'), Timestamp('2020-02-29 00:00:00'), Timestamp('2019-12-31 00:00:00')], ['D', 'D', 'M'])
    """
    level = _check_level(highest_imputation, "nDMY")
    if not min_dates and not max_dates:
        fast = _impute_distinct(dtc, level, date_imputation)
        if fast is not None:
            return (pd.Series(fast[0], index=dtc.index, dtype="float64"),
                    pd.Series(fast[1], index=dtc.index, dtype=object))
    parts = parse_dtc(dtc, column=column)
    y, m, d, flag, no_year = _impute_date_parts(parts, level, date_imputation)
    value = _sas_days(y, m, d)
    value = _apply_bounds(value, parts, no_year, level, date_imputation, min_dates, max_dates, _restrict)
    value = pd.Series(value, index=dtc.index, dtype="float64")
    flag = flag.where(value.notna(), "")
    return value, flag


_IMPUTED: dict = {}         # (text, level, rule) -> (SAS date, flag) of the texts that are not complete dates
# text -> SAS date of the texts found to be complete dates (year, month and day collected: no rule applies, no
# flag): the same --DTC column is read by several datasets (LBDTC by ADSL's LSTALVDT and ADLB, PCDTC three
# times), each text parsed once per process
_COMPLETE: dict = {}
_EPOCH_ORDINAL = _date.toordinal(_date(1960, 1, 1))


def _impute_distinct(dtc: pd.Series, level: int, rule: str) -> tuple[np.ndarray, np.ndarray] | None:
    """``impute_dtc_dt`` without min/max dates, worked out once per distinct text (no pandas per call: a
    derivation on a few dozen subjects paid milliseconds of Series set-up per date). Complete dates (year,
    month and day collected) are converted with numpy all at once; partial ones in plain Python.

    None when a text is malformed, impossible or outside the proleptic calendar of ``datetime.date``: the
    vectorised path then finds it and words the error, so results and messages are the vectorised ones."""
    imp_month, imp_day, kind = _date_defaults(rule)
    codes, texts = _distinct_texts(dtc)
    found = list(map(_COMPLETE.get, texts))     # complete dates worked out by an earlier call
    if None in found:
        todo = [i for i, v in enumerate(found) if v is None]
        values = np.array([np.nan if v is None else v for v in found], dtype="float64")
    else:
        todo, values = [], np.array(found, dtype="float64")
    flags = np.full(len(texts), "", dtype=object)
    parts = _parse_texts([texts[i] for i in todo])
    if parts is None:
        return None
    if not len(codes):
        return np.empty(0, dtype="float64"), np.empty(0, dtype=object)
    y, m, d = parts[:, 0], parts[:, 1], parts[:, 2]
    complete = ~(np.isnan(y) | np.isnan(m) | np.isnan(d)) & (y >= 1)
    todo = np.asarray(todo, dtype=np.intp)
    done = _sas_days(y[complete], m[complete], d[complete])
    values[todo[complete]] = done
    if len(_COMPLETE) > 1_000_000:
        _COMPLETE.clear()
    _COMPLETE.update(zip([texts[i] for i in todo[complete].tolist()], done.tolist()))
    for i in todo[~complete].tolist():
        t = texts[i]
        key = (t, level, kind, imp_month, imp_day)
        got = _IMPUTED.get(key)
        if got is None:
            got = _impute_one(t, level, imp_month, imp_day, kind)
            if got is None:
                return None
            if len(_IMPUTED) > 1_000_000:
                _IMPUTED.clear()
            _IMPUTED[key] = got
        values[i], flags[i] = got
    return values[codes], flags[codes]


def _impute_one(t: str, level: int, imp_month: float, imp_day: float, kind: str):
    """(SAS date, flag) of one text by the rules of ``_impute_date_parts`` and ``_sas_days``."""
    parsed = _parse_one(t)
    if parsed is None:
        return None
    y, m, d = parsed[0], parsed[1], parsed[2]
    m, d, flag = _impute_month_day(y, m, d, level, imp_month, imp_day, kind)
    if y != y or m != m or d != d:
        return (np.nan, "")
    if not 1 <= y <= 9999:
        return None
    return (float(_date(int(y), int(m), 1).toordinal() - _EPOCH_ORDINAL + int(d) - 1), flag)


def _impute_month_day(y, m, d, level: int, imp_month: float, imp_day: float, kind: str):
    """(month, day, --DTF) of one parsed date after imputing the missing day or month its level allows."""
    no_year = y != y
    no_month = not no_year and m != m
    no_day = not no_year and not no_month and d != d
    flag = ""
    if no_day and level >= _LEVELS["D"]:
        dim = _dim(y, m)
        d = {"first": 1.0, "mid": 15.0, "last": dim, "fixed": min(imp_day, dim)}[kind]
        flag = "D"
    if no_month and level >= _LEVELS["M"]:
        m = imp_month
        d = min(imp_day, _dim(y, m))
        flag = "M"
    if no_year and level >= _LEVELS["Y"]:
        flag = "Y"
    return m, d, flag


def _dim(y: float, m: float) -> float:
    leap = (y % 4 == 0 and y % 100 != 0) or y % 400 == 0
    return float(_DIM[int(m) - 1] + (1 if int(m) == 2 and leap else 0))


def _apply_bounds(value, parts, no_year, level, rule, min_dates, max_dates, restrict):
    """Clamp imputed values to min/max dates; a missing year is imputed only from them (level "Y")."""
    year_imputable = no_year.to_numpy() & (level >= _LEVELS["Y"])
    keep = ~np.isnan(value)
    if min_dates:
        lower = restrict(value, parts, min_dates, lower=True)
        use = keep | (year_imputable & (rule.lower() != "last"))
        value = np.where(use, lower, value)
    if max_dates:
        upper = restrict(value, parts, max_dates, lower=False)
        use = ~np.isnan(value) | (year_imputable & (rule.lower() == "last"))
        value = np.where(use, upper, value)
    return value


def _require_dtc(dataset: pd.DataFrame, dtc: str) -> None:
    """A missing --DTC variable is a clear error naming the dataset (frame ``attrs["name"]``) and variable."""
    if dtc not in dataset.columns:
        from trialforge.errors import DatasetReadError
        raise DatasetReadError("input lacks a date variable the ADaM derivation needs",
                               file=dataset.attrs.get("name", "input dataset"), column=dtc)


def derive_vars_dt(dataset: pd.DataFrame, new_vars_prefix: str, dtc: str, *, highest_imputation: str = "n",
                   date_imputation: str = "first", flag_imputation: bool = True,
                   min_dates: Sequence[str] = (), max_dates: Sequence[str] = ()) -> pd.DataFrame:
    """Add <prefix>DT (SAS date) and <prefix>DTF (imputation flag) from an ISO 8601 --DTC column.

    ``min_dates``/``max_dates`` name numeric SAS-date columns of ``dataset``.

    >>> ae = pd.DataFrame({"AESTDTC": ["2019-07-18T15:25", "2019-02", "2019", ""]})
    >>> out = derive_vars_dt(ae, "AST", "AESTDTC", highest_imputation="M", date_imputation="first")
    >>> out["ASTDT"].tolist(), out["ASTDTF"].tolist()
    ([21748.0, 21581.0, 21550.0, nan], ['', 'D', 'M', ''])
    """
    _require_dtc(dataset, dtc)
    value, flag = impute_dtc_dt(dataset[dtc], highest_imputation=highest_imputation,
                                date_imputation=date_imputation,
                                min_dates=_ref_series(dataset, min_dates),
                                max_dates=_ref_series(dataset, max_dates), column=dtc)
    out = fresh(dataset)
    out[f"{new_vars_prefix}DT"] = value
    if flag_imputation:
        out[f"{new_vars_prefix}DTF"] = flag
    return out


def impute_dtc_dtm(dtc: pd.Series, *, highest_imputation: str = "h", date_imputation: str = "first",
                   time_imputation: str = "first", min_dates: Sequence[pd.Series] = (),
                   max_dates: Sequence[pd.Series] = (), ignore_seconds_flag: bool = False,
                   column: str = "--DTC") -> tuple[pd.Series, pd.Series, pd.Series]:
    """(SAS datetime, --DTF, --TMF) for ISO 8601 text; min/max dates are SAS datetimes here.

    >>> dtm, dtf, tmf = impute_dtc_dtm(pd.Series(["1960-01-02T01:30", "1960-01-02"]), time_imputation="last")
    >>> dtm.tolist(), dtf.tolist(), tmf.tolist()
    ([91859.0, 172799.0], ['', ''], ['S', 'H'])
    """
    level = _check_level(highest_imputation, "nsmhDMY")
    if not min_dates and not max_dates:
        fast = _impute_dtm_distinct(dtc, level, date_imputation, time_imputation, ignore_seconds_flag)
        if fast is not None:
            return tuple(pd.Series(v, index=dtc.index, dtype="float64" if i == 0 else object)
                         for i, v in enumerate(fast))
    parts = parse_dtc(dtc, column=column)
    date_level = level if level >= _LEVELS["D"] else 0
    y, m, d, dtf, no_year = _impute_date_parts(parts, date_level, date_imputation)
    fill = _time_fill(time_imputation)
    h, mi, s = parts["h"].copy(), parts["m"].copy(), parts["s"].copy()
    date_imputed = dtf != ""
    # A missing hour imputes minutes and seconds too; once a part is missing the finer ones follow.
    miss_h = h.isna() | date_imputed
    miss_m = miss_h | mi.isna()
    miss_s = miss_m | s.isna()
    tmf = pd.Series("", index=parts.index, dtype=object)
    tmf = tmf.where(~miss_s, "" if ignore_seconds_flag else "S")
    tmf = tmf.where(~miss_m, "M")
    tmf = tmf.where(~miss_h, "H")
    allowed = ((miss_h & (level >= _LEVELS["h"])) | (~miss_h & miss_m & (level >= _LEVELS["m"]))
               | (~miss_m & miss_s & (level >= _LEVELS["s"])) | ~miss_s)
    h = h.where(~miss_h, fill[0])
    mi = mi.where(~miss_m, fill[1])
    s = s.where(~miss_s, fill[2])
    days = _sas_days(y, m, d)
    value = days * 86400.0 + h.to_numpy() * 3600.0 + mi.to_numpy() * 60.0 + s.to_numpy()
    value = np.where(allowed.to_numpy(), value, np.nan)
    value = _apply_bounds(value, parts, no_year, level, date_imputation, min_dates, max_dates, _restrict_dtm)
    value = pd.Series(value, index=dtc.index, dtype="float64")
    dtf = dtf.where(value.notna(), "")
    tmf = tmf.where(value.notna(), "")
    return value, dtf, tmf


def _time_fill(time_imputation: str) -> tuple[float, float, float]:
    """(hour, minute, second) a missing time part is imputed with."""
    rule = time_imputation.lower()
    if rule == "first":
        return (0.0, 0.0, 0.0)
    if rule == "last":
        return (23.0, 59.0, 59.0)
    try:
        fill = tuple(float(p) for p in time_imputation.split(":"))
        assert len(fill) == 3
    except (ValueError, AssertionError):
        raise SpecError("time_imputation must be first, last or hh:mm:ss", value=time_imputation) from None
    return fill


def _impute_dtm_distinct(dtc: pd.Series, level: int, date_imputation: str, time_imputation: str,
                         ignore_seconds_flag: bool):
    """``impute_dtc_dtm`` without min/max dates per distinct text: texts with a complete date with numpy at once,
    the others one by one in plain Python, by the rules of the vectorised path (same float operations).

    None when a text is malformed, impossible or outside ``datetime.date``'s years, or a rule is not valid: the
    vectorised path then raises the error it always raised, in the same order."""
    try:
        imp_month, imp_day, kind = _date_defaults(date_imputation)
        fill = _time_fill(time_imputation)
    except SpecError:
        return None
    codes, texts = _distinct_texts(dtc)
    parts = _parse_texts(texts)
    if parts is None:
        return None
    n = len(texts)
    value = np.full(n, np.nan)
    dtf = np.full(n, "", dtype=object)
    tmf = np.full(n, "", dtype=object)
    y, m, d, h, mi, s = parts.T
    complete = ~(np.isnan(y) | np.isnan(m) | np.isnan(d)) & (y >= 1)
    if complete.any():                      # no date imputation: the time rules only
        hh, mm, ss = h[complete], mi[complete], s[complete]
        miss_h = np.isnan(hh)
        miss_m = miss_h | np.isnan(mm)
        miss_s = miss_m | np.isnan(ss)
        allowed = ((miss_h & (level >= _LEVELS["h"])) | (~miss_h & miss_m & (level >= _LEVELS["m"]))
                   | (~miss_m & miss_s & (level >= _LEVELS["s"])) | ~miss_s)
        days = _sas_days(y[complete], m[complete], d[complete])
        got = (days * 86400.0 + np.where(miss_h, fill[0], hh) * 3600.0 + np.where(miss_m, fill[1], mm) * 60.0
               + np.where(miss_s, fill[2], ss))
        value[complete] = np.where(allowed, got, np.nan)
        flags = np.where(miss_h, "H", np.where(miss_m, "M", np.where(miss_s, "" if ignore_seconds_flag else "S", "")))
        tmf[complete] = np.where(allowed, flags, "").astype(object)
    for i in np.flatnonzero(~complete).tolist():
        got = _impute_dtm_one(tuple(parts[i].tolist()), level, imp_month, imp_day, kind, fill, ignore_seconds_flag)
        if got is None:
            return None
        value[i], dtf[i], tmf[i] = got
    return value[codes], dtf[codes], tmf[codes]


def _impute_dtm_one(parsed, level: int, imp_month: float, imp_day: float, kind: str, fill, ignore_seconds_flag):
    """(SAS datetime, --DTF, --TMF) of one text whose date is not complete, by the vectorised rules."""
    y, m, d, h, mi, s = parsed
    date_level = level if level >= _LEVELS["D"] else 0
    m, d, flag = _impute_month_day(y, m, d, date_level, imp_month, imp_day, kind)
    if y != y or m != m or d != d:
        return (np.nan, "", "")             # no date: the value is missing, so are both flags
    if not 1 <= y <= 9999:
        return None
    days = float(_date(int(y), int(m), 1).toordinal() - _EPOCH_ORDINAL + int(d) - 1)
    miss_h = h != h or flag != ""
    miss_m = miss_h or mi != mi
    miss_s = miss_m or s != s
    allowed = ((miss_h and level >= _LEVELS["h"]) or (not miss_h and miss_m and level >= _LEVELS["m"])
               or (not miss_m and miss_s and level >= _LEVELS["s"]) or not miss_s)
    if not allowed:
        return (np.nan, "", "")
    value = (days * 86400.0 + (fill[0] if miss_h else h) * 3600.0 + (fill[1] if miss_m else mi) * 60.0
             + (fill[2] if miss_s else s))
    tmf = "H" if miss_h else "M" if miss_m else ("" if ignore_seconds_flag else "S") if miss_s else ""
    return (value, flag, tmf)


def _restrict_dtm(value, parts, refs, *, lower):
    lo_day, hi_day = _bounds(parts)
    # Range of the partial datetime: from its first to its last possible second.
    h_lo = parts["h"].where(parts["D"].notna()).fillna(0).to_numpy()
    h_hi = parts["h"].where(parts["D"].notna()).fillna(23).to_numpy()
    m_lo = parts["m"].where(parts["h"].notna() & parts["D"].notna()).fillna(0).to_numpy()
    m_hi = parts["m"].where(parts["h"].notna() & parts["D"].notna()).fillna(59).to_numpy()
    s_lo = parts["s"].where(parts["m"].notna() & parts["h"].notna() & parts["D"].notna()).fillna(0).to_numpy()
    s_hi = parts["s"].where(parts["m"].notna() & parts["h"].notna() & parts["D"].notna()).fillna(59).to_numpy()
    lo = lo_day * 86400.0 + h_lo * 3600 + m_lo * 60 + s_lo
    hi = hi_day * 86400.0 + h_hi * 3600 + m_hi * 60 + s_hi
    return _clamp_to_refs(value, lo, hi, np.isnan(parts["Y"].to_numpy()), refs, lower=lower)


def derive_vars_dtm(dataset: pd.DataFrame, new_vars_prefix: str, dtc: str, *, highest_imputation: str = "h",
                    date_imputation: str = "first", time_imputation: str = "first",
                    flag_imputation: str = "auto", min_dates: Sequence[str] = (), max_dates: Sequence[str] = (),
                    ignore_seconds_flag: bool = False) -> pd.DataFrame:
    """Add <prefix>DTM (SAS datetime) plus <prefix>DTF/<prefix>TMF from an ISO 8601 --DTC column.

    ``flag_imputation``: "auto" (DTF only if a date part can be imputed, i.e. level ≥ "D"), "both",
    "date", "time" or "none".

    >>> ex = pd.DataFrame({"EXSTDTC": ["2020-01-01T10:00", "2020-01-01"]})
    >>> out = derive_vars_dtm(ex, "TRTS", "EXSTDTC")
    >>> out["TRTSDTM"].tolist(), out["TRTSTMF"].tolist()
    ([1893492000.0, 1893456000.0], ['S', 'H'])
    """
    _require_dtc(dataset, dtc)
    value, dtf, tmf = impute_dtc_dtm(dataset[dtc], highest_imputation=highest_imputation,
                                     date_imputation=date_imputation, time_imputation=time_imputation,
                                     min_dates=_ref_series(dataset, min_dates),
                                     max_dates=_ref_series(dataset, max_dates),
                                     ignore_seconds_flag=ignore_seconds_flag, column=dtc)
    out = fresh(dataset)
    out[f"{new_vars_prefix}DTM"] = value
    date_flag = {"auto": _LEVELS[highest_imputation] >= _LEVELS["D"], "both": True, "date": True}.get(
        flag_imputation, False)
    time_flag = flag_imputation in ("auto", "both", "time")
    if date_flag:
        out[f"{new_vars_prefix}DTF"] = dtf
    if time_flag:
        out[f"{new_vars_prefix}TMF"] = tmf
    return out


def dtm_to_dt(dtm: pd.Series) -> pd.Series:
    """SAS datetime → SAS date (floor to the day).

    >>> dtm_to_dt(pd.Series([86399.0, 86400.0, float("nan")])).tolist()
    [0.0, 1.0, nan]
    """
    return np.floor(num(dtm) / 86400.0)


def derive_vars_dy(dataset: pd.DataFrame, reference_date: str, source_vars: dict[str, str]) -> pd.DataFrame:
    """Study/analysis days (no day 0): new_var = date − reference + 1 when on/after the reference.

    >>> df = pd.DataFrame({"TRTSDT": [100.0, 100.0, 100.0], "ADT": [100.0, 99.0, 109.0]})
    >>> derive_vars_dy(df, "TRTSDT", {"ADY": "ADT"})["ADY"].tolist()
    [1.0, -1.0, 10.0]
    """
    out = fresh(dataset)
    ref = num(out[reference_date]).to_numpy()
    for new_var, source in source_vars.items():
        diff = num(out[source]).to_numpy() - ref        # missing stays missing (NaN + 0)
        with np.errstate(invalid="ignore"):
            out[new_var] = diff + (diff >= 0).astype("float64")
    return out


def sas_date_to_iso(values: pd.Series) -> pd.Series:
    """SAS date → 'YYYY-MM-DD' text ("" for missing), e.g. for SDTM-side reference dates.

    >>> sas_date_to_iso(pd.Series([0.0, 21748.0, float("nan")])).tolist()
    ['1960-01-01', '2019-07-18', '']
    """
    v = num(values)
    stamps = SAS_EPOCH + pd.to_timedelta(v, unit="D")
    return pd.Series(np.where(v.isna(), "", stamps.dt.strftime("%Y-%m-%d")), index=values.index, dtype=object)


def sas_datetime_to_iso(values: pd.Series) -> pd.Series:
    """SAS datetime → 'YYYY-MM-DDThh:mm:ss' text ("" for missing)."""
    v = num(values)
    stamps = SAS_EPOCH + pd.to_timedelta(v, unit="s")
    return pd.Series(np.where(v.isna(), "", stamps.dt.strftime("%Y-%m-%dT%H:%M:%S")), index=values.index,
                     dtype=object)
