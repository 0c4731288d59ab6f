"""Generic ADaM derivations, one small function each (admiral's vocabulary and arguments).

Every function takes a frame first (``dataset``), never mutates it, and returns a new frame with the
derived variable(s) added. Dates are numeric SAS dates (see :mod:`trialforge.adam.dates`).
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from trialforge.errors import DatasetReadError

from ..sdtm.uniques import factorize
from ._frame import (Filter, as_list, char, fresh, mask, num, require, rows_where, sort_spec,
                     stable_sort, y_blank)
from ._join import join

DURATION_DIVISORS = {"days": 1.0, "weeks": 7.0, "months": 365.25 / 12, "years": 365.25}


def derive_vars_merged(dataset: pd.DataFrame, dataset_add: pd.DataFrame, by_vars: Sequence[str],
                       new_vars: Sequence[str] | Mapping[str, str] | None = None, *, filter_add: Filter = None,
                       order: Sequence[str] | None = None, mode: str | None = None,
                       name_add: str = "dataset_add") -> pd.DataFrame:
    """Left-join variables from ``dataset_add`` (after ``filter_add``, picking the first/last record
    per ``by_vars`` by ``order`` when ``mode`` is given). ``new_vars`` maps new name → source name.

    Without ``mode`` the added records must be unique per ``by_vars``: a duplicate is an error,
    never a silently multiplied row.

    >>> adsl = pd.DataFrame({"USUBJID": ["1", "2"]})
    >>> vs = pd.DataFrame({"USUBJID": ["1", "1"], "VSDTC": ["2020-01-01", "2020-02-01"], "WT": [70.0, 72.0]})
    >>> derive_vars_merged(adsl, vs, ["USUBJID"], {"LASTWT": "WT"}, order=["VSDTC"], mode="last")["LASTWT"].tolist()
    [72.0, nan]
    """
    by_vars = list(by_vars)
    add = dataset_add if filter_add is None else rows_where(dataset_add, filter_add, where="filter_add")
    if new_vars is None:
        rename = {c: c for c in add.columns if c not in by_vars}
    elif isinstance(new_vars, Mapping):
        rename = dict(new_vars)
    else:
        rename = {c: c for c in new_vars}
    require(add, by_vars + list(rename.values()), name_add)
    if mode is not None:
        add = stable_sort(add, as_list(order))
        add = add.drop_duplicates(by_vars, keep="first" if mode == "first" else "last")
    elif add.duplicated(by_vars).any():
        dup = add.loc[add.duplicated(by_vars)].iloc[0]
        raise DatasetReadError(f"{name_add} has more than one record per {', '.join(by_vars)}",
                               file=name_add, value=" ".join(str(dup[v]) for v in by_vars))
    cols = {**{b: b for b in by_vars}, **{new: src for new, src in rename.items()}}
    piece = pd.DataFrame({new: add[src].to_numpy() for new, src in cols.items()})
    base = dataset.drop(columns=[c for c in rename if c in dataset.columns and c not in by_vars])
    return join(base, piece, by_vars, "left", validate="many_to_one")


def derive_var_trtemfl(dataset: pd.DataFrame, *, new_var: str = "TRTEMFL", start_date: str = "ASTDT",
                       end_date: str = "AENDT", trt_start_date: str = "TRTSDT", trt_end_date: str | None = None,
                       end_window: float | None = None) -> pd.DataFrame:
    """Treatment-emergent flag "Y"/"" (admiral rule, dates compared at day level).

    An event is treatment emergent if it starts on/after ``trt_start_date`` and, when an
    ``end_window`` is given, no later than ``trt_end_date`` + ``end_window`` days. An event with a
    missing start counts when its end is missing or on/after treatment start (the conservative
    choice). Nothing is emergent for a subject without a treatment start.

    >>> ae = pd.DataFrame({"ASTDT": [9.0, 10.0, np.nan, np.nan], "AENDT": [12.0, 11.0, np.nan, 8.0],
    ...                    "TRTSDT": [10.0] * 4})
    >>> derive_var_trtemfl(ae)["TRTEMFL"].tolist()
    ['', 'Y', 'Y', '']
    """
    out = fresh(dataset)
    st, en, trt = num(out[start_date]), num(out[end_date]), num(out[trt_start_date])
    started_after = st >= trt
    unknown_start = st.isna() & (en.isna() | (en >= trt))
    emergent = trt.notna() & (started_after | unknown_start)
    if end_window is not None and trt_end_date is not None:
        trt_end = num(out[trt_end_date])
        emergent &= ~(st > trt_end + float(end_window))
    out[new_var] = y_blank(emergent)
    return out


def derive_vars_duration(dataset: pd.DataFrame, new_var: str, start_date: str, end_date: str, *,
                         new_var_unit: str | None = None, out_unit: str = "days", add_one: bool = True,
                         unit_text: str | None = None) -> pd.DataFrame:
    """Duration end − start (+1 when ``add_one``, the inclusive-days convention) in days/weeks/months/years.

    >>> df = pd.DataFrame({"ASTDT": [10.0, 10.0], "AENDT": [10.0, 16.0]})
    >>> derive_vars_duration(df, "ADURN", "ASTDT", "AENDT", new_var_unit="ADURU")[["ADURN", "ADURU"]].values.tolist()
    [[1.0, 'DAYS'], [7.0, 'DAYS']]
    """
    out = fresh(dataset)
    days = num(out[end_date]) - num(out[start_date]) + (1.0 if add_one else 0.0)
    out[new_var] = days / DURATION_DIVISORS[out_unit]
    if new_var_unit:
        out[new_var_unit] = np.where(out[new_var].notna(), unit_text or out_unit.upper(), "")
    return out


def derive_var_extreme_flag(dataset: pd.DataFrame, by_vars: Sequence[str], order: Sequence[str], new_var: str, *,
                            mode: str = "first", filter: Filter = None) -> pd.DataFrame:
    """Flag "Y" on the first (or last) record per ``by_vars`` by ``order`` among rows meeting ``filter``.

    ``order`` items may start with "-" for descending (e.g. "-ATOXGRN" picks the worst grade first);
    missing values sort last; ties keep input order so the result is deterministic.

    >>> ae = pd.DataFrame({"USUBJID": ["1", "1", "1"], "ASTDT": [5.0, 3.0, 3.0], "AESEQ": [1, 2, 3]})
    >>> derive_var_extreme_flag(ae, ["USUBJID"], ["ASTDT", "AESEQ"], "AOCCFL")["AOCCFL"].tolist()
    ['', 'Y', '']
    """
    out = fresh(dataset)
    keep = mask(out, filter)
    read = list(dict.fromkeys(list(by_vars) + sort_spec(as_list(order))[0]))   # the pick reads only these
    cand = stable_sort(out.loc[keep, read], as_list(order))
    if by_vars:
        chosen = cand.drop_duplicates(list(by_vars), keep="first" if mode == "first" else "last").index
    else:
        chosen = cand.index[:1] if mode == "first" else cand.index[-1:]
    out[new_var] = y_blank(pd.Series(out.index.isin(chosen), index=out.index))
    return out


def derive_var_base(dataset: pd.DataFrame, by_vars: Sequence[str], *, source_var: str = "AVAL",
                    new_var: str = "BASE", filter: Filter = "ABLFL == 'Y'") -> pd.DataFrame:
    """Copy the baseline record's value (``filter``) to every record of its ``by_vars`` group.

    >>> df = pd.DataFrame({"USUBJID": ["1", "1"], "AVAL": [50.0, 40.0], "ABLFL": ["Y", ""]})
    >>> derive_var_base(df, ["USUBJID"])["BASE"].tolist()
    [50.0, 50.0]
    """
    base = dataset.loc[mask(dataset, filter), list(by_vars) + [source_var]]
    return derive_vars_merged(dataset, base, by_vars, {new_var: source_var}, name_add="baseline records")


def derive_var_chg(dataset: pd.DataFrame, *, new_var: str = "CHG", aval: str = "AVAL",
                   base: str = "BASE") -> pd.DataFrame:
    """Change from baseline AVAL − BASE.

    >>> derive_var_chg(pd.DataFrame({"AVAL": [40.0], "BASE": [50.0]}))["CHG"].tolist()
    [-10.0]
    """
    out = fresh(dataset)
    out[new_var] = num(out[aval]) - num(out[base])
    return out


def derive_var_pchg(dataset: pd.DataFrame, *, new_var: str = "PCHG", aval: str = "AVAL",
                    base: str = "BASE") -> pd.DataFrame:
    """Percent change from baseline 100·(AVAL − BASE)/BASE; missing when BASE is 0 or missing.

    >>> derive_var_pchg(pd.DataFrame({"AVAL": [40.0, 1.0], "BASE": [50.0, 0.0]}))["PCHG"].tolist()
    [-20.0, nan]
    """
    out = fresh(dataset)
    b = num(out[base])
    out[new_var] = (num(out[aval]) - b) / b.where(b != 0) * 100.0
    return out


def derive_var_ablfl(dataset: pd.DataFrame, by_vars: Sequence[str], *, ref_date: str = "TRTSDT",
                     date: str = "ADT", value: str = "AVAL", new_var: str = "ABLFL") -> pd.DataFrame:
    """Baseline flag: last non-missing value on or before the reference date, per ``by_vars``.

    >>> df = pd.DataFrame({"USUBJID": ["1"] * 3, "ADT": [1.0, 4.0, 9.0], "AVAL": [5.0, 6.0, 7.0], "TRTSDT": [5.0] * 3})
    >>> derive_var_ablfl(df, ["USUBJID"])["ABLFL"].tolist()
    ['', 'Y', '']
    """
    cond = (num(dataset[date]) <= num(dataset[ref_date])) & num(dataset[value]).notna()
    return derive_var_extreme_flag(dataset, by_vars, [date], new_var, mode="last", filter=lambda _: cond)


def derive_var_grade_numeric(dataset: pd.DataFrame, source_var: str, new_var: str) -> pd.DataFrame:
    """Numeric version of a character grade ("3" → 3.0; blank/non-numeric → NaN).

    >>> derive_var_grade_numeric(pd.DataFrame({"ATOXGR": ["3", ""]}), "ATOXGR", "ATOXGRN")["ATOXGRN"].tolist()
    [3.0, nan]
    """
    out = fresh(dataset)
    out[new_var] = num(char(out[source_var]))
    return out


def derive_var_max_date(dataset: pd.DataFrame, new_var: str, sources: Sequence[pd.DataFrame],
                        by_vars: Sequence[str], date_var: str = "DT") -> pd.DataFrame:
    """Latest date per subject across several (by_vars, date) frames, e.g. LSTALVDT.

    >>> adsl = pd.DataFrame({"USUBJID": ["1", "2"]})
    >>> ae = pd.DataFrame({"USUBJID": ["1"], "DT": [10.0]}); lb = pd.DataFrame({"USUBJID": ["1"], "DT": [12.0]})
    >>> derive_var_max_date(adsl, "LSTALVDT", [ae, lb], ["USUBJID"])["LSTALVDT"].tolist()
    [12.0, nan]
    """
    frames = [s[list(by_vars) + [date_var]] for s in sources if len(s)]
    out = fresh(dataset)
    if not frames:
        out[new_var] = np.nan
        return out
    best = _latest_per_key(frames, list(by_vars), date_var)
    return derive_vars_merged(out, best, by_vars, {new_var: date_var}, name_add="last-date sources")


def _latest_per_key(frames: list[pd.DataFrame], by_vars: list[str], date_var: str) -> pd.DataFrame:
    """The latest non-missing ``date_var`` per key over the frames (keys with a missing value left out), one
    row per key: ``concat(...).dropna().groupby(by_vars)[date_var].max()`` with numpy on the columns."""
    dates = np.concatenate([num(f[date_var]).to_numpy() for f in frames])
    dated = ~np.isnan(dates)
    code = np.zeros(int(dated.sum()), dtype=np.int64)
    ok = np.ones(len(code), dtype=bool)
    uniques = []
    for k in by_vars:
        c, u = factorize(np.concatenate([f[k].to_numpy(dtype=object) for f in frames])[dated],
                         use_na_sentinel=True)
        ok &= c >= 0
        code = code * (len(u) + 1) + c
        uniques.append((c, u))
    code, dates = code[ok], dates[dated][ok]
    keys, first, inverse = np.unique(code, return_index=True, return_inverse=True)
    latest = np.full(len(keys), -np.inf)
    np.maximum.at(latest, inverse.ravel(), dates)
    rows = np.flatnonzero(ok)[first]
    return pd.DataFrame({**{k: u[c[rows]] for k, (c, u) in zip(by_vars, uniques)}, date_var: latest})
