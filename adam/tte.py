"""Time-to-event parameters (admiral ``derive_param_tte`` with event/censor source objects).

Selection rules (admiral's):
* events: in each event source the earliest qualifying record per subject; across sources the
  earliest date (a tie goes to the source listed first);
* censorings: in each censor source the latest qualifying record; across sources the latest
  (a tie goes to the source listed last);
* a subject with an event gets the event, whatever its censoring dates (so an event always wins
  over a censoring on the same day); otherwise the censoring;
* STARTDT comes from ADSL; ADT is raised to STARTDT if earlier; AVAL = ADT − STARTDT + 1 (days).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from trialforge.errors import SpecError

from ..sdtm.uniques import factorize
from ._frame import Filter, mask, num, require, sort_rows
from ._join import join


@dataclass(frozen=True)
class EventSource:
    """Where events come from: a dataset name, a row filter, the date, and values to set.

    ``copy_vars`` copies columns of the chosen source record (new name → source column), e.g.
    ``{"SRCSEQ": "RSSEQ"}`` so every ADTTE row traces back to its record.
    """

    dataset_name: str
    date: str
    filter: Filter = None
    set_values_to: Mapping[str, object] = field(default_factory=dict)
    copy_vars: Mapping[str, str] = field(default_factory=dict)
    order: Sequence[str] = ()
    censor: int = 0


@dataclass(frozen=True)
class CensorSource(EventSource):
    """Where censorings come from; ``censor`` is 1 unless a reason-specific code is wanted."""

    censor: int = 1


def _select(source: EventSource, datasets: Mapping[str, pd.DataFrame], subject_keys, *, first: bool,
            rank: int) -> pd.DataFrame:
    if source.dataset_name not in datasets:
        raise SpecError("time-to-event source names a dataset that was not supplied",
                        value=source.dataset_name)
    data = datasets[source.dataset_name]
    require(data, list(subject_keys) + [source.date] + list(source.copy_vars.values()), source.dataset_name)
    used = list(dict.fromkeys([*subject_keys, source.date, *source.order, *source.copy_vars.values()]))
    used = [c for c in used if c in data.columns]        # only what the pick reads (a narrow copy)
    keep = mask(data, source.filter, where=f"{source.dataset_name} filter").to_numpy()
    if not source.order:                    # by date alone: the pick by row position (no frame sort/dedup)
        adt = num(data[source.date]).to_numpy()
        pos = np.flatnonzero(keep & ~np.isnan(adt))
        pos = pos[np.argsort(adt[pos], kind="stable")]
        pos = pos[_one_per_key(data, list(subject_keys), pos, first)]
        # the picked rows' columns taken one by one: no copy of a wide source frame's other columns
        out = {k: _taken(data[k], pos) for k in subject_keys}
        out["ADT"] = adt[pos]
        return _finish(out, len(pos), source, rank,
                       {src: data[src].to_numpy()[pos] for src in source.copy_vars.values()})
    else:
        rows = data.loc[keep, used]
        rows["ADT"] = num(rows[source.date])
        rows = rows.loc[rows["ADT"].notna()]
        order = ["ADT"] + [c for c in source.order]
        rows = sort_rows(rows, order)
        rows = rows.drop_duplicates(list(subject_keys), keep="first" if first else "last")
    out = {c: _taken(rows[c], np.arange(len(rows))) for c in list(subject_keys) + ["ADT"]}
    return _finish(out, len(rows), source, rank, {src: rows[src].to_numpy() for src in source.copy_vars.values()})


def _finish(out: dict, n: int, source: EventSource, rank: int, copied: dict) -> pd.DataFrame:
    """The picked records (``out``: keys, ADT) with CNSR, the copied and set variables and the source's rank,
    built as one frame (what setting each column on the frame in turn gives: a name set again keeps its place,
    scalars broadcast with the dtype they infer), not a column insertion per variable."""
    out = dict(out)
    out["CNSR"] = float(source.censor)
    for new, src in source.copy_vars.items():
        out[new] = copied[src]
    for name, value in source.set_values_to.items():
        out[name] = value
    out["_RANK"] = rank
    return pd.DataFrame(out, index=pd.RangeIndex(n))


def _taken(column: pd.Series, pos: np.ndarray) -> pd.Series:
    """Rows ``pos`` of a column, its dtype kept (what ``iloc`` gives), on a fresh RangeIndex."""
    values = column._values.take(pos)
    return pd.Series(values, dtype=values.dtype, copy=False)


def _one_per_key(data: pd.DataFrame, keys: list[str], pos: np.ndarray, first: bool) -> np.ndarray:
    """Indices into ``pos`` of the first (or last) row per key, in ``pos`` order: what
    ``drop_duplicates(keys, keep=...)`` keeps (missing keys equal to each other, as there)."""
    code = np.zeros(len(pos), dtype=np.int64)
    for k in keys:
        c, u = factorize(data[k].to_numpy()[pos], use_na_sentinel=False)
        code = code * (len(u) + 1) + c
    if first:
        _, idx = np.unique(code, return_index=True)
    else:
        _, ridx = np.unique(code[::-1], return_index=True)
        idx = len(code) - 1 - ridx
    return np.sort(idx)


def derive_param_tte(dataset_adsl: pd.DataFrame, source_datasets: Mapping[str, pd.DataFrame], *,
                     start_date: str = "TRTSDT", event_conditions: Sequence[EventSource],
                     censor_conditions: Sequence[CensorSource], set_values_to: Mapping[str, object],
                     subject_keys: Sequence[str] = ("STUDYID", "USUBJID")) -> pd.DataFrame:
    """One ADTTE parameter: a record per ADSL subject with an event or censoring.

    >>> adsl = pd.DataFrame({"STUDYID": "S", "USUBJID": ["1", "2"], "TRTSDT": [100.0, 100.0],
    ...                      "DTHDT": [130.0, np.nan], "LSTALVDT": [125.0, 180.0]})
    >>> death = EventSource("adsl", date="DTHDT", set_values_to={"EVNTDESC": "DEATH"})
    >>> alive = CensorSource("adsl", date="LSTALVDT", set_values_to={"CNSDTDSC": "LAST KNOWN ALIVE DATE"})
    >>> os = derive_param_tte(adsl, {"adsl": adsl}, event_conditions=[death], censor_conditions=[alive],
    ...                       set_values_to={"PARAMCD": "OS"})
    >>> os[["USUBJID", "ADT", "AVAL", "CNSR"]].values.tolist()
    [['1', 130.0, 31.0, 0.0], ['2', 180.0, 81.0, 1.0]]
    """
    keys = list(subject_keys)
    require(dataset_adsl, keys + [start_date], "ADSL")
    events = [_select(s, source_datasets, keys, first=True, rank=i) for i, s in enumerate(event_conditions)]
    censors = [_select(s, source_datasets, keys, first=False, rank=i) for i, s in enumerate(censor_conditions)]
    if not events and not censors:
        raise SpecError("a time-to-event parameter needs at least one event or censor source")
    cand = pd.concat(events + censors, ignore_index=True)
    picked = cand.iloc[_pick(cand, keys, n_event_rows=sum(len(e) for e in events))].drop(columns="_RANK")
    adsl = dataset_adsl[keys + [start_date]].drop_duplicates(keys)
    out = join(adsl, picked, keys, "inner")         # in ADSL order, so reruns are byte-identical
    out = out.rename(columns={start_date: "STARTDT"}) if start_date != "STARTDT" else out
    out["STARTDT"] = num(out["STARTDT"])
    out["ADT"] = np.fmax(out["ADT"], out["STARTDT"]).where(out["STARTDT"].notna(), out["ADT"])
    out["AVAL"] = out["ADT"] - out["STARTDT"] + 1.0
    for name, value in set_values_to.items():
        out[name] = value
    return out.reset_index(drop=True)


def _pick(cand: pd.DataFrame, keys: list[str], *, n_event_rows: int) -> np.ndarray:
    """Row positions of ``cand`` (event rows first, then censor rows) chosen per subject: the earliest event
    (a tie to the lower ``_RANK``, then the earlier row), else the latest censoring (a tie to the higher
    ``_RANK``, then the later row): what sorting each part by ADT and ``_RANK`` and keeping the first event /
    last censoring per key (missing keys equal) keeps. Numpy on the columns, no frame sorts."""
    n = len(cand)
    code = np.zeros(n, dtype=np.int64)
    for k in keys:
        c, u = factorize(cand[k].to_numpy(), use_na_sentinel=False)
        code = code * (len(u) + 1) + c
    adt = cand["ADT"].to_numpy(dtype="float64")
    rank = cand["_RANK"].to_numpy()
    chosen = []
    for lo, hi, first in ((0, n_event_rows, True), (n_event_rows, n, False)):
        pos = np.arange(lo, hi)
        pos = pos[np.argsort(rank[pos], kind="stable")]
        pos = pos[np.argsort(adt[pos], kind="stable")]          # by ADT, then _RANK, ties in row order
        if first:
            _, idx = np.unique(code[pos], return_index=True)
        else:
            _, ridx = np.unique(code[pos][::-1], return_index=True)
            idx = len(pos) - 1 - ridx
        chosen.append(pos[idx])
    events, censors = chosen
    return np.concatenate([events, censors[~np.isin(code[censors], code[events])]])
