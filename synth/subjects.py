"""The subject backbone: who was screened, enrolled, infused, at which dose, and how each
subject's course runs (toxicities, expansion, response class, death, drop-out, follow-up end).

Every form is built from this one table, which is what keeps the forms coherent with each
other: a subject who died on day 143 has no record after day 143 on any form.
Dates are integer day numbers (see ``rawfmt.day_number``); ``*_rel`` columns are days after
the CAR-T infusion (day 0).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import design as D
from .rawfmt import day_number

SCREEN_FAIL_RATE = 0.13
NOT_INFUSED_RATE = 0.04


def _calendar_age(birth: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Completed years between two day-number arrays (the age an EDC derives at consent)."""
    b = np.datetime64("1970-01-01") + birth.astype("timedelta64[D]")
    r = np.datetime64("1970-01-01") + ref.astype("timedelta64[D]")
    by, ry = b.astype("datetime64[Y]").astype(int), r.astype("datetime64[Y]").astype(int)
    bm = b.astype("datetime64[M]").astype(int) % 12
    rm = r.astype("datetime64[M]").astype(int) % 12
    bd = (b - b.astype("datetime64[M]")).astype(int)
    rd = (r - r.astype("datetime64[M]")).astype(int)
    before = (rm < bm) | ((rm == bm) & (rd < bd))
    return ry - by - before.astype(int)


def _three_plus_three(order, route, infused, u_dlt):
    """Allocate enrolled subjects (in enrolment order) to Part A cohorts by a 3+3 rule per route.

    Returns part (0 A / 1 B), dose-level index and DLT flag per subject of ``order``.
    A route's escalation ends at the MTD (or the top level); later subjects of that route go to
    Part B at the recommended dose. Subjects not infused are not DLT-evaluable and are replaced.
    """
    n = len(order)
    part = np.ones(n, dtype=np.int64)
    dl = np.zeros(n, dtype=np.int64)
    dlt = np.zeros(n, dtype=bool)
    state = {r: {"dl": 0, "n": 0, "ndlt": 0, "done": False, "rp2d": 0} for r in range(len(D.ROUTES))}
    all_done_at = n
    for k in range(n):
        if all(s["done"] for s in state.values()):
            all_done_at = k
            break
        r = int(route[k])
        st = state[r]
        if st["done"]:
            dl[k] = st["rp2d"]
            continue
        part[k], dl[k] = 0, st["dl"]
        if not infused[k]:
            continue
        dlt[k] = u_dlt[k] < D.DLT_PROB[r, st["dl"]]
        st["n"] += 1
        st["ndlt"] += int(dlt[k])
        escalate = (st["n"] == 3 and st["ndlt"] == 0) or (st["n"] == 6 and st["ndlt"] <= 1)
        stop = st["ndlt"] >= 2
        if stop:
            st["done"], st["rp2d"] = True, max(st["dl"] - 1, 0)
        elif escalate:
            if st["dl"] == len(D.DOSE_LEVELS) - 1:
                st["done"], st["rp2d"] = True, st["dl"]
            else:
                st["dl"], st["n"], st["ndlt"] = st["dl"] + 1, 0, 0
    rest = np.arange(all_done_at, n)
    if rest.size:
        rp2d = np.array([state[r]["rp2d"] for r in range(len(D.ROUTES))])
        dl[rest] = rp2d[route[rest]]
        dlt[rest] = infused[rest] & (u_dlt[rest] < D.DLT_PROB[route[rest], dl[rest]])
    # Part B subjects are DLT-evaluated too (safety run-in at the recommended dose).
    in_b = (part == 1) & infused
    dlt[in_b] = u_dlt[in_b] < D.DLT_PROB[route[in_b], dl[in_b]]
    return part, dl, dlt


def build_subjects(n: int, seed: int) -> pd.DataFrame:
    """One row per screened subject, in export order (site, then subject number)."""
    rng = np.random.default_rng([seed, 1])
    start = day_number(D.ACCRUAL_START)
    stop = day_number(D.DATA_CUTOFF) - D.ACCRUAL_STOP_BEFORE_CUTOFF
    site = rng.choice(len(D.SITES), size=n, p=D.SITE_WEIGHT / D.SITE_WEIGHT.sum())
    consent = rng.integers(start, stop, size=n)
    order = np.lexsort((rng.random(n), consent, site))
    site, consent = site[order], consent[order]
    number = np.arange(n) - np.searchsorted(site, site)  # rank within site (site is sorted)
    width = max(3, len(str(int(number.max()) + 1))) if n else 3
    s = pd.DataFrame({"sid": np.arange(n), "site": site, "consent": consent})
    s["siteno"] = D.SITE_NO[site]
    s["subjno"] = [f"{a}-{b + 1:0{width}d}" for a, b in zip(s["siteno"], number)]
    s["country"] = D.SITE_COUNTRY[site]

    # Screening outcome: fixed proportions so small studies look like the real one.
    n_sf = int(round(n * SCREEN_FAIL_RATE))
    sf = np.zeros(n, dtype=bool)
    sf[rng.choice(n, size=n_sf, replace=False)] = True
    s["sf"] = sf
    n_enr = n - n_sf
    enr_idx = np.flatnonzero(~sf)
    infused = ~sf
    n_ni = int(round(n_enr * NOT_INFUSED_RATE))
    infused[rng.choice(enr_idx, size=n_ni, replace=False)] = False
    s["enrolled"], s["infused"] = ~sf, infused

    # Demography
    tumour = rng.choice(len(D.TUMOURS), size=n, p=D.TUMOUR_WEIGHT / D.TUMOUR_WEIGHT.sum())
    male = rng.random(n) < D.TUMOUR_P_MALE[tumour]
    age_draw = np.clip(np.round(rng.normal(59, 11, n)), 21, 84)
    birth = consent - (age_draw * 365.25).astype(np.int64) - rng.integers(0, 365, n)
    s["tumour"], s["male"], s["birth"] = tumour, male, birth
    s["age"] = _calendar_age(birth, consent)
    us = np.isin(site, [0, 1])
    race_us = ["White", "Black or African American", "Asian", "American Indian or Alaska Native", "Other", "Not reported"]
    race_int = ["White", "Asian", "Black or African American", "Other", "Not reported"]
    race = np.where(us, np.array(race_us, dtype=object)[rng.choice(6, n, p=[.72, .12, .08, .01, .02, .05])],
                    np.array(race_int, dtype=object)[rng.choice(5, n, p=[.70, .18, .02, .04, .06])])
    s["race"] = race
    s["ethnic"] = np.where(us, np.array(["Hispanic or Latino", "Not Hispanic or Latino", "Not reported"], dtype=object)[rng.choice(3, n, p=[.11, .85, .04])],
                           np.array(["Hispanic or Latino", "Not Hispanic or Latino", "Not reported"], dtype=object)[rng.choice(3, n, p=[.03, .72, .25])])
    s["diag"] = consent - rng.integers(300, 2500, n)
    s["prior_lines"] = np.minimum(1 + rng.poisson(1.6, n), 7)
    s["ecog0"] = (rng.random(n) >= 0.42).astype(int)
    w = np.where(male, rng.normal(82, 14, n), rng.normal(68, 13, n)).clip(42, 140)
    h = np.where(male, rng.normal(176, 7, n), rng.normal(163, 6.5, n)).clip(145, 200)
    s["weight"], s["height"] = np.round(w, 1), np.round(h, 0)
    s["bsa"] = np.round(np.sqrt(s["weight"] * s["height"] / 3600.0), 2)

    # Screen-failure criteria: one (sometimes two) failed criteria per screen failure.
    crit = rng.choice(len(D.CRITERIA), size=n, p=D.CRIT_WEIGHT / D.CRIT_WEIGHT.sum())
    crit2 = rng.choice(len(D.CRITERIA), size=n, p=D.CRIT_WEIGHT / D.CRIT_WEIGHT.sum())
    s["sf_crit"] = np.where(sf, crit, -1)
    s["sf_crit2"] = np.where(sf & (rng.random(n) < 0.2) & (crit2 != crit), crit2, -1)
    s.loc[s["sf_crit"] == 4, "ecog0"] = 2
    s["scr_day"] = consent + rng.integers(0, 4, n)
    s["enrol"] = np.where(sf, np.nan, consent + rng.integers(10, 22, n))
    s["sf_day"] = np.where(sf, consent + rng.integers(5, 20, n), np.nan)

    # Route by tumour, then 3+3 allocation in enrolment order.
    local = rng.random(n) < D.TUMOUR_P_LOCAL[tumour]
    route = np.where(local, D.TUMOUR_LOCAL_ROUTE[tumour], 0)
    u_dlt = rng.random(n)
    part = np.full(n, -1)
    dl = np.full(n, -1)
    dlt = np.zeros(n, dtype=bool)
    eorder = enr_idx[np.lexsort((enr_idx, s["enrol"].to_numpy()[enr_idx]))]
    if eorder.size:
        p_, d_, t_ = _three_plus_three(eorder, route[eorder], infused[eorder], u_dlt[eorder])
        part[eorder], dl[eorder], dlt[eorder] = p_, d_, t_
    s["route"] = np.where(sf, -1, route)
    s["part"], s["dl"], s["dlt"] = part, dl, dlt
    s["dlt_type"] = np.where(dlt, rng.choice(len(D.DLT_TYPES), n, p=D.DLT_TYPE_PROB), -1)

    # Treatment dates (day -5 lymphodepletion start, day 0 infusion).
    ld = s["enrol"].to_numpy() + rng.integers(18, 32, n)
    s["ld_day"] = np.where(infused, ld, np.nan)
    s["day0"] = np.where(infused, ld + 5, np.nan)
    s["base_day"] = np.where(infused, s["day0"] - rng.integers(6, 13, n), s["enrol"] + rng.integers(2, 6, n))
    ni = s["enrolled"].to_numpy() & ~infused
    s["disc_day"] = np.where(ni, s["enrol"] + rng.integers(8, 26, n), np.nan)
    s["disc_reason"] = np.where(ni, rng.choice([D.EOS_DEATH, D.EOS_PHYSICIAN, D.EOS_OTHER], n, p=[.3, .4, .3]), -1)

    # Toxicity course: CRS and ICANS (ASTCT), driven by dose and route; DLT type forces grade >= 3.
    dlv = np.maximum(dl, 0)
    loc_factor = np.where(route == 0, 1.0, 0.7)
    p_crs = (0.40 + 0.10 * dlv) * loc_factor
    crs = infused & (rng.random(n) < p_crs)
    crs_grade = np.where(rng.random(n) < 0.6, 1, 2)
    dlt_type = s["dlt_type"].to_numpy()
    crs = crs | (dlt_type == 0)
    crs_grade = np.where(dlt_type == 0, np.where(rng.random(n) < 0.75, 3, 4), crs_grade)
    s["crs_grade"] = np.where(crs, crs_grade, 0)
    s["crs_onset"] = np.where(crs, np.clip(1 + np.round(rng.gamma(1.6, 1.6, n)), 1, 14), np.nan)
    s["crs_dur"] = np.where(crs, rng.integers(2, 6, n) + 2 * s["crs_grade"], np.nan)
    p_icans = (0.06 + 0.04 * dlv) * np.where(crs, 1.3, 0.4) * loc_factor
    icans = infused & ((rng.random(n) < p_icans) | (dlt_type == 1))
    s["icans_grade"] = np.where(icans, np.where(dlt_type == 1, 3, np.where(rng.random(n) < 0.65, 1, 2)), 0)
    ic_on = np.where(crs, s["crs_onset"] + rng.integers(1, 5, n), rng.integers(3, 11, n))
    s["icans_onset"] = np.where(icans, np.clip(ic_on, 1, 21), np.nan)
    s["icans_dur"] = np.where(icans, rng.integers(1, 6, n) + s["icans_grade"], np.nan)

    # Expansion (random effect shared by PK and response) and intended response class.
    z = rng.normal(0, 1, n)
    s["z_exp"] = z
    lin = -1.0 + 0.35 * (dlv - 1.5) + 0.7 * z
    p_resp = 1.0 / (1.0 + np.exp(-lin))
    u = rng.random(n)
    cls = np.where(u < p_resp, np.where(rng.random(n) < 0.1, 0, 1), np.where(rng.random(n) < 0.5, 2, 3))
    s["resp_class"] = np.where(infused, cls, -1)

    # Fates after infusion: death, drop-out, completion at 2 years, or ongoing at the cut-off.
    med_os = np.array([2500.0, 1100.0, 540.0, 300.0])[np.maximum(cls, 0)]
    t_death = rng.exponential(med_os / np.log(2))
    early_ae = rng.random(n) < 0.025
    t_death = np.where(early_ae, rng.integers(5, 90, n), t_death)
    t_death = np.where(dlt, np.maximum(t_death, 35), np.maximum(t_death, 8))
    # drop-outs happen after discharge from the DLT period
    t_ltfu = 29 + rng.exponential(365 / 0.04, n)
    t_wd = 29 + rng.exponential(365 / 0.03, n)
    t_phys = 29 + rng.exponential(365 / 0.015, n)
    t_end = np.full(n, float(D.FOLLOW_UP_DAYS))
    times = np.stack([t_end, t_death, t_ltfu, t_wd, t_phys]).round()
    reasons = np.array([D.EOS_COMPLETED, D.EOS_DEATH, D.EOS_LTFU, D.EOS_WITHDRAW, D.EOS_PHYSICIAN])
    first = times.argmin(axis=0)
    t_first = times.min(axis=0)
    cut_rel = day_number(D.DATA_CUTOFF) - s["day0"].to_numpy()
    ongoing = t_first > cut_rel
    s["eos_reason"] = np.where(infused & ~ongoing, reasons[first], np.where(ni, s["disc_reason"], -1))
    s["eos_rel"] = np.where(infused & ~ongoing, t_first, np.nan)
    s["fu_end_rel"] = np.where(infused, np.where(ongoing, cut_rel, t_first), np.nan)
    died = infused & ~ongoing & (first == 1)
    s["death_rel"] = np.where(died, t_first, np.nan)
    ae_death = died & (early_ae | (rng.random(n) < 0.05))
    s["death_cause"] = np.where(died, np.where(ae_death, 1, np.where(rng.random(n) < 0.04, 2, 0)), -1)
    s.loc[ni & (s["disc_reason"] == D.EOS_DEATH), "death_cause"] = 0
    s["fatal_pt"] = np.where(ae_death, rng.choice(3, n), -1)
    return s


FATAL_PTS = np.array(["Sepsis", "Pneumonia", "Respiratory failure"])


def build_visits(s: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Visit calendar: one row per subject visit that happened or was missed (``done``)."""
    rng = np.random.default_rng([seed, 2])
    rows = [pd.DataFrame({"sid": s["sid"], "visit": "Screening", "day": s["scr_day"].astype(float), "rel": np.nan})]
    enr = s[s["enrolled"]]
    base_ok = enr["infused"] | (enr["base_day"] < enr["disc_day"])
    b = enr[base_ok]
    rows.append(pd.DataFrame({"sid": b["sid"], "visit": "Baseline", "day": b["base_day"].astype(float),
                              "rel": b["base_day"] - b["day0"]}))
    inf = s[s["infused"]]
    names = np.array([v[0] for v in D.POST_VISITS], dtype=object)
    nominal = np.array([v[1] for v in D.POST_VISITS], dtype=float)
    win = np.array([D.visit_window(int(d)) for d in nominal])
    k, m = len(inf), len(names)
    jitter = np.round((rng.random((k, m)) * 2 - 1) * win)
    rel = nominal[None, :] + jitter
    grid = pd.DataFrame({"sid": np.repeat(inf["sid"].to_numpy(), m), "visit": np.tile(names, k),
                         "rel": rel.ravel(), "fu_end": np.repeat(inf["fu_end_rel"].to_numpy(), m),
                         "day0": np.repeat(inf["day0"].to_numpy(), m)})
    grid = grid[grid["rel"] <= grid["fu_end"]]
    grid["day"] = grid["day0"] + grid["rel"]
    rows.append(grid[["sid", "visit", "day", "rel"]])
    # End of Study visit for subjects who left the study alive.
    # (completers end at the Month 24 visit; lost-to-follow-up subjects have no last visit)
    alive_end = s[s["eos_reason"].isin([D.EOS_WITHDRAW, D.EOS_PHYSICIAN, D.EOS_OTHER]) & s["enrolled"]]
    eos_day = np.where(alive_end["infused"], alive_end["day0"] + alive_end["eos_rel"], alive_end["disc_day"])
    rows.append(pd.DataFrame({"sid": alive_end["sid"], "visit": "End of Study", "day": eos_day,
                              "rel": eos_day - alive_end["day0"]}))
    v = pd.concat(rows, ignore_index=True)
    v["visitnum"] = v["visit"].map(D.VISIT_NUM)
    v = v.sort_values(["sid", "day", "visitnum"], kind="stable").reset_index(drop=True)
    late = v["rel"] > 28
    v["done"] = ~(late & (rng.random(len(v)) < 0.03) & (v["visit"] != "End of Study"))
    return v
