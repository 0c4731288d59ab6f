"""Non-compartmental analysis of a concentration-time profile (cellular kinetics for CAR-T).

Written here on purpose (no external PK library) so every rule is visible. Time is in days from the
infusion; one profile per subject. The rules, in the order they are applied:

1. Samples with neither a concentration nor a BLQ result (missing samples) are dropped.
2. BLQ samples (``blq`` True): before the first measurable concentration → 0; between measurable
   concentrations → dropped (``blq_between="missing"``, default) or 0 (``"zero"``); after the last
   measurable concentration → dropped (``blq_after="exclude"``, default) or 0 (``"zero"``).
3. ``zero_at_dose``: a non-endogenous analyte (CAR transgene) is 0 at the dose; when the profile has
   no sample at time 0 a point (0, 0) is added so AUC starts at the dose.
4. Cmax / Tmax: the largest concentration and the first time it occurs (ties → earliest).
   Clast / Tlast: the last measurable (> 0) concentration and its time.
5. AUC over [start, end] by the linear-up / log-down trapezoid rule (``auc_method="linear-up/log-down"``):
   linear when the concentration rises or stays, or when either end is 0; logarithmic
   ((C1 − C2) / ln(C1/C2) · Δt) when it falls. ``auc_method="linear"``: linear trapezoids throughout.
6. Partial AUC is reported only if the profile covers the interval end: a sample at the end, or samples
   on both sides of it, in which case C(end) is interpolated (linear if rising or with the linear method,
   log-linear if falling). Partial-interval rule: when the last sample lies before the interval end by at
   most ``interval_tolerance`` time units (e.g. the day-27 sample of an AUC0-28d), the AUC runs to the last
   sample and is reported for the interval; further away it is missing. Never extrapolated.
7. Time is in whatever unit the caller gives (AFRLT or NFRLT in ``pk.time_unit``); AUC is in time unit ×
   concentration unit.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from trialforge.errors import SpecError

from ._frame import num


@dataclass(frozen=True)
class NcaRules:
    """The BLQ / profile rules above, as data (a study picks them in its ADaM spec)."""

    blq_between: str = "missing"   # "missing" | "zero"
    blq_after: str = "exclude"     # "exclude" | "zero"
    zero_at_dose: bool = True
    auc_method: str = "linear-up/log-down"   # or "linear"
    interval_tolerance: float = 0.0          # partial-interval rule (rule 6)

    def __post_init__(self):
        if self.auc_method not in ("linear-up/log-down", "linear"):
            raise SpecError("auc_method must be 'linear-up/log-down' or 'linear'", value=self.auc_method)
        if self.blq_between not in ("missing", "zero"):
            raise SpecError("blq_between must be 'missing' or 'zero'", value=self.blq_between)
        if self.blq_after not in ("exclude", "zero"):
            raise SpecError("blq_after must be 'exclude' or 'zero'", value=self.blq_after)


def prepare_profile(time, conc, blq, rules: NcaRules = NcaRules()) -> tuple[np.ndarray, np.ndarray]:
    """Apply rules 1–3: the (time, concentration) points used for NCA, sorted by time.

    >>> prepare_profile([0, 1, 2, 3, 4], [np.nan, 5, np.nan, 2, np.nan], [True, False, True, False, True])
    (array([0., 1., 3.]), array([0., 5., 2.]))
    """
    t = np.asarray(time, dtype="float64")
    c = np.asarray(conc, dtype="float64")
    b = np.asarray(blq, dtype=bool)
    keep = ~np.isnan(t) & (b | ~np.isnan(c))
    t, c, b = t[keep], c[keep], b[keep]
    order = np.argsort(t, kind="mergesort")
    t, c, b = t[order], c[order], b[order]
    measurable = ~b & (c > 0)
    if not measurable.any():
        c = np.where(b, 0.0, c)
    else:
        first = np.argmax(measurable)
        last = len(measurable) - 1 - np.argmax(measurable[::-1])
        idx = np.arange(len(t))
        before, after = b & (idx < first), b & (idx > last)
        between = b & (idx > first) & (idx < last)
        c = np.where(before, 0.0, c)
        drop = np.zeros(len(t), dtype=bool)
        if rules.blq_between == "missing":
            drop |= between
        else:
            c = np.where(between, 0.0, c)
        if rules.blq_after == "exclude":
            drop |= after
        else:
            c = np.where(after, 0.0, c)
        t, c = t[~drop], c[~drop]
    if rules.zero_at_dose and (len(t) == 0 or t[0] > 0):
        t, c = np.concatenate([[0.0], t]), np.concatenate([[0.0], c])
    return t, c


def _segment_auc(t1, c1, t2, c2, log_down_ok: bool = True) -> np.ndarray:
    dt = t2 - t1
    log_down = (c2 < c1) & (c1 > 0) & (c2 > 0) & log_down_ok
    with np.errstate(divide="ignore", invalid="ignore"):
        logpart = (c1 - c2) / np.log(c1 / c2) * dt
    return np.where(log_down, logpart, (c1 + c2) / 2.0 * dt)


def _interpolate(t1, c1, t2, c2, t, log_down_ok: bool = True):
    if log_down_ok and c2 < c1 and c1 > 0 and c2 > 0:
        return float(np.exp(np.log(c1) + (np.log(c2) - np.log(c1)) * (t - t1) / (t2 - t1)))
    return float(c1 + (c2 - c1) * (t - t1) / (t2 - t1))


def auc_interval(t: np.ndarray, c: np.ndarray, start: float, end: float, *, method: str = "linear-up/log-down",
                 tolerance: float = 0.0) -> float:
    """AUC over [start, end] (linear-up/log-down or linear); NaN when the profile does not cover both ends
    (an end at most ``tolerance`` after the last sample: AUC to the last sample).

    >>> round(auc_interval(np.array([0., 1., 2.]), np.array([0., 10., 5.]), 0, 2), 6)  # 5 + 5/ln2
    12.213475
    >>> auc_interval(np.array([0., 1., 2.]), np.array([0., 10., 5.]), 0, 2, method="linear")  # 5 + 7.5
    12.5
    """
    t = np.asarray(t, dtype="float64")
    c = np.asarray(c, dtype="float64")
    log_ok = method != "linear"
    if len(t) >= 2 and t[-1] < end <= t[-1] + tolerance:
        end = float(t[-1])
    if len(t) < 2 or start < t[0] or end > t[-1] or end <= start:
        return float("nan")
    pts_t, pts_c = [], []
    for bound in (start, end):
        if bound in t:
            continue
        j = int(np.searchsorted(t, bound))
        pts_t.append(bound)
        pts_c.append(_interpolate(t[j - 1], c[j - 1], t[j], c[j], bound, log_ok))
    tt = np.concatenate([t, pts_t])
    cc = np.concatenate([c, pts_c])
    order = np.argsort(tt, kind="mergesort")
    tt, cc = tt[order], cc[order]
    inside = (tt >= start) & (tt <= end)
    tt, cc = tt[inside], cc[inside]
    return float(_segment_auc(tt[:-1], cc[:-1], tt[1:], cc[1:], log_ok).sum())


def nca_profile(time, conc, blq, *, intervals: Sequence[tuple[float, float]] = ((0.0, 28.0), (0.0, 90.0)),
                rules: NcaRules = NcaRules()) -> dict[str, float]:
    """CMAX TMAX CLST TLST and one AUC per interval for one profile (keys "AUC<start>-<end>").

    >>> r = nca_profile([0, 7, 14, 28], [0, 100, 100, 10], [True, False, False, False], intervals=[(0, 28)])
    >>> r["CMAX"], r["TMAX"], r["CLST"], r["TLST"]
    (100.0, 7.0, 10.0, 28.0)
    """
    t, c = prepare_profile(time, conc, blq, rules)
    out = {"CMAX": np.nan, "TMAX": np.nan, "CLST": np.nan, "TLST": np.nan}
    if len(c) and np.nanmax(c) > 0:
        i = int(np.argmax(c))   # first occurrence of the maximum
        out["CMAX"], out["TMAX"] = float(c[i]), float(t[i])
        pos = np.flatnonzero(c > 0)
        out["CLST"], out["TLST"] = float(c[pos[-1]]), float(t[pos[-1]])
    for start, end in intervals:
        out[interval_key(start, end)] = auc_interval(t, c, float(start), float(end), method=rules.auc_method,
                                                     tolerance=rules.interval_tolerance)
    return out


def return_time(time, conc, blq, *, baseline: float | None, after: float) -> float:
    """First sample time after ``after`` (Tmax) at which the concentration is back to ``baseline`` or lower;
    with no measurable baseline (None/NaN), the first BLQ sample. NaN when it never happens.

    >>> return_time([0, 7, 14, 28, 56], [0, 900, 300, 60, 20], [True, False, False, False, False],
    ...             baseline=50.0, after=7)
    56.0
    >>> return_time([0, 7, 14, 28], [0, 900, 300, np.nan], [True, False, False, True], baseline=None, after=7)
    28.0
    """
    t = np.asarray(time, dtype="float64")
    c = np.asarray(conc, dtype="float64")
    b = np.asarray(blq, dtype=bool)
    later = t > after
    if baseline is None or np.isnan(baseline):
        hit = later & b
    else:
        hit = later & (b | (c <= baseline))
    return float(t[hit].min()) if hit.any() else float("nan")


def interval_key(start: float, end: float) -> str:
    """Key of a partial AUC in nca_profile's result, e.g. (0, 28) → "AUC0-28"."""
    return f"AUC{start:g}-{end:g}"


def nca_by_subject(frame: pd.DataFrame, *, by_vars: Sequence[str], time: str = "AFRLT", conc: str = "AVAL",
                   blq: str = "BLQFL", intervals: Sequence[tuple[float, float]] = ((0.0, 28.0), (0.0, 90.0)),
                   rules: NcaRules = NcaRules()) -> pd.DataFrame:
    """nca_profile for each ``by_vars`` group (one row per profile; loops over profiles, not samples).

    >>> pc = pd.DataFrame({"USUBJID": ["1"] * 3, "AFRLT": [0.0, 1.0, 2.0], "AVAL": [np.nan, 10.0, 5.0],
    ...                    "BLQFL": ["Y", "", ""]})
    >>> nca_by_subject(pc, by_vars=["USUBJID"], intervals=[(0, 2)])[["CMAX", "AUC0-2"]].round(4).values.tolist()
    [[10.0, 12.2135]]
    """
    rows = []
    # Columns to numpy once, then one slice per profile (groups in sorted key order, rows in frame order,
    # missing keys dropped, as groupby(sort=True) iterates them): no pandas work inside the loop.
    group = frame.groupby(list(by_vars), sort=True).ngroup().to_numpy(dtype="float64")
    times, concs = num(frame[time]).to_numpy(), num(frame[conc]).to_numpy()
    blqs = frame[blq].astype(object).eq("Y").to_numpy()
    keys = [frame[c].to_numpy() for c in by_vars]
    kept = np.flatnonzero(~np.isnan(group))
    order = kept[np.argsort(group[kept], kind="stable")]
    starts = np.flatnonzero(np.r_[True, np.diff(group[order]) != 0]) if len(order) else np.array([], dtype=int)
    for idx in np.split(order, starts[1:]) if len(order) else []:
        key = tuple(k[idx[0]] for k in keys)
        res = nca_profile(times[idx], concs[idx], blqs[idx], intervals=intervals, rules=rules)
        rows.append({**dict(zip(by_vars, key)), **res})
    cols = list(by_vars) + ["CMAX", "TMAX", "CLST", "TLST"] + [interval_key(s, e) for s, e in intervals]
    return pd.DataFrame(rows, columns=cols)
