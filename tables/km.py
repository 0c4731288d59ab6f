"""Kaplan-Meier estimation as PROC LIFETEST computes it (METHOD=KM, CONFTYPE=LOGLOG).

Kept small and dependency-free so every number in a time-to-event table can be traced to a formula:
- product-limit survival S(t) = prod_{t_j <= t} (1 - d_j / n_j), right-continuous; subjects censored
  at an event time are still at risk at that time;
- Greenwood variance Var S(t) = S(t)^2 * sum_{t_j <= t} d_j / (n_j (n_j - d_j));
- pointwise CI on the log(-log) scale: S^exp(±z * sigma / log S), sigma = SE(S) / S;
- median (and any quantile) as LIFETEST defines it, with the Brookmeyer-Crowley CI: the set of event
  times whose transformed pointwise test does not reject S(t) = 1 - p.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import ndtri     # the normal quantile (scipy.stats.norm.ppf) without scipy.stats


@dataclass(frozen=True)
class KMFit:
    """The fitted step function: one row per distinct event time (plus time 0)."""

    table: pd.DataFrame       # time, n_risk, n_event, n_censor, surv, se, lower, upper
    times: np.ndarray         # all observed times (events and censorings)
    events: np.ndarray        # 1 event, 0 censored
    alpha: float

    @functools.cached_property
    def columns(self) -> dict:
        """The table's columns as numpy arrays (read by `quantile`/`survival_at` without pandas indexing)."""
        got = {c: self.table[c].to_numpy() for c in ("time", "surv", "se", "lower", "upper")}
        got["ascending"] = bool(np.all(np.diff(got["time"]) >= 0))    # (not with an event before time 0)
        return got

    @property
    def n(self) -> int:
        return int(self.times.size)

    @property
    def n_events(self) -> int:
        return int(self.events.sum())

    @property
    def n_censored(self) -> int:
        return self.n - self.n_events


def kaplan_meier(time, event, alpha: float = 0.05) -> KMFit:
    """Fit KM to `time` (numeric) and `event` (1 = event, 0 = censored; CNSR must be inverted first)."""
    t = np.asarray(pd.to_numeric(pd.Series(time), errors="coerce"), dtype=float)
    e = np.asarray(pd.Series(event).astype(float), dtype=float)
    keep = ~np.isnan(t) & ~np.isnan(e)
    t, e = t[keep], e[keep].astype(int)
    z = ndtri(1 - alpha / 2)
    ev_times = np.unique(t[e == 1])
    n_risk, d, c = _risk_sets(t, e, ev_times)
    surv = np.cumprod(1.0 - d / n_risk) if ev_times.size else np.array([])
    with np.errstate(divide="ignore", invalid="ignore"):
        gw = np.cumsum(np.where(n_risk - d > 0, d / (n_risk * (n_risk - d)), np.nan))
        se = surv * np.sqrt(gw)
        lower, upper = loglog_ci(surv, np.sqrt(gw), z)
    table = pd.DataFrame({"time": np.r_[0.0, ev_times], "n_risk": np.r_[t.size, n_risk],
                          "n_event": np.r_[0, d], "n_censor": np.r_[0, c], "surv": np.r_[1.0, surv],
                          "se": np.r_[0.0, se], "lower": np.r_[np.nan, lower], "upper": np.r_[np.nan, upper]})
    return KMFit(table=table, times=t, events=e, alpha=alpha)


def _risk_sets(t: np.ndarray, e: np.ndarray, ev_times: np.ndarray):
    """Per event time u: subjects at risk (t >= u), events and censorings at u, as float counts. Counted
    by binary search in the sorted times (n log n), not by a pass over every subject per event time (n x
    events: quadratic in subjects); the counts are the same integers."""
    def at(sorted_t, side):
        return np.searchsorted(sorted_t, ev_times, side=side)
    ts, te, tc = np.sort(t), np.sort(t[e == 1]), np.sort(t[e == 0])
    n_risk = (t.size - at(ts, "left")).astype(float)
    d = (at(te, "right") - at(te, "left")).astype(float)
    c = (at(tc, "right") - at(tc, "left")).astype(float)
    return n_risk, d, c


def loglog_ci(surv, sigma, z):
    """log(-log) pointwise limits; sigma = SE(S)/S (square root of the Greenwood sum)."""
    surv = np.asarray(surv, dtype=float)
    sigma = np.asarray(sigma, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        theta = z * sigma / np.log(surv)          # negative for 0 < S < 1
        lower = surv ** np.exp(-theta)
        upper = surv ** np.exp(theta)
    undefined = (surv <= 0) | (surv >= 1) | np.isnan(sigma)
    lower = np.where(undefined, np.nan, lower)
    upper = np.where(undefined, np.nan, upper)
    return lower, upper


def survival_at(fit: KMFit, t: float) -> tuple[float, float, float]:
    """S(t) with its CI. Beyond the largest observed time S(t) is 0 when the curve reached 0 (the last
    observation an event: the product-limit estimate stays 0), else not estimable (NaN)."""
    if fit.n == 0:
        return float("nan"), float("nan"), float("nan")
    if t > fit.times.max():
        last = float(fit.table["surv"].iloc[-1])
        return (0.0, float("nan"), float("nan")) if last == 0 else (float("nan"),) * 3
    col = fit.columns
    times = col["time"]
    if not (col["ascending"] and len(times) and t >= times[0]):    # else the pandas selection (and its error)
        row = fit.table[fit.table["time"] <= t].iloc[-1]
        return float(row["surv"]), float(row["lower"]), float(row["upper"])
    i = int(np.searchsorted(times, t, side="right")) - 1    # the last row with time <= t (times ascending)
    return float(col["surv"][i]), float(col["lower"][i]), float(col["upper"][i])


def quantile(fit: KMFit, p: float = 0.5) -> tuple[float, float, float]:
    """100p-th percentile of the event time and its Brookmeyer-Crowley CI (log-log), as LIFETEST.

    Point estimate: 1/2 (inf{t: 1 - S(t) >= p} + sup{t: 1 - S(t) <= p}), so a survival curve that
    sits exactly on 1 - p between two event times gives their midpoint.
    CI: event times t_j with |g(S(t_j)) - g(1-p)| <= z * g'(S) SE(S), g = log(-log); the lower limit is
    the first such time and the upper limit is the first event time after the last such time
    (reported as NaN = not estimable when the curve never falls far enough).
    """
    col = fit.columns
    target = 1.0 - p
    times = col["time"][1:]
    s = col["surv"][1:]
    eps = 1e-12
    est = float("nan")
    below = np.flatnonzero(s <= target + eps)
    if below.size:
        first = below[0]
        if abs(s[first] - target) < eps:
            # flat exactly at 1-p: average with the next event time (or the last observed time)
            nxt = times[first + 1] if first + 1 < times.size else np.nan
            est = float((times[first] + nxt) / 2) if not np.isnan(nxt) else float("nan")
        else:
            est = float(times[first])
    z = ndtri(1 - fit.alpha / 2)
    se = col["se"][1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.log(-np.log(s))
        gprime_se = se / (s * np.log(s))      # |d g/dS| * SE(S), sign irrelevant after abs
        stat = (g - math.log(-math.log(target))) / np.abs(gprime_se)
    inside = np.abs(stat) <= z
    # S(t) = 0 after the last event: the upper curve is 0 < 1-p, so the time is past the interval
    inside &= s > 0
    idx = np.flatnonzero(inside)
    if idx.size == 0:
        return est, float("nan"), float("nan")
    lo = float(times[idx[0]])
    hi = float(times[idx[-1] + 1]) if idx[-1] + 1 < times.size else float("nan")
    return est, lo, hi


def at_risk(fit: KMFit, grid) -> list[int]:
    """Numbers at risk (time >= t) at each grid time, for the table under a KM plot."""
    return [int((fit.times >= g).sum()) for g in grid]
