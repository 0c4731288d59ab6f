"""Tumour forms: lesion identification (TU), lesion measurements (TR) and the investigator's
RECIST 1.1 response (RS), plus the dates the tumour course implies (first PD, next therapy).

Lesion sizes follow a per-subject trajectory (shrinkage to a nadir, optional regrowth) with
per-lesion noise; the response form is then *computed* from the written measurements with the
RECIST rules in ``recist.py``, so every record is internally consistent.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import design as D
from . import recist as R
from .rawfmt import laterality

RESP_TEXT = {R.CR: "Complete Response (CR)", R.PR: "Partial Response (PR)", R.SD: "Stable Disease (SD)",
             R.PD: "Progressive Disease (PD)", R.NE: "Not Evaluable (NE)",
             R.NONCR_NONPD: "Non-CR/Non-PD", R.NA: "Not Applicable"}


def _pick_locations(s: pd.DataFrame, rng, measurable: bool, max_n: int) -> np.ndarray:
    """(n_subjects, max_n) location names, each location at most twice per subject for targets."""
    out = np.empty((len(s), max_n), dtype=object)
    tumour, route = s["tumour"].to_numpy(), s["route"].to_numpy()
    for t, locs in D.TUMOUR_LOCATIONS.items():
        rows = np.flatnonzero(tumour == t)
        if rows.size == 0:
            continue
        pool = [l for l in locs if D.LOCATIONS[l][3] == measurable or not measurable]
        if measurable:
            for req in D.ROUTE_REQUIRED_LOCATION.values():
                if req not in pool:
                    pool.append(req)
            pool = pool * 2
        pool = np.array(pool, dtype=object)
        keys = rng.random((rows.size, pool.size))
        if measurable:
            for r_idx, req in D.ROUTE_REQUIRED_LOCATION.items():
                needs = (route[rows] == r_idx)[:, None]
                is_req = (pool == req)[None, :]
                first_req = is_req & (np.cumsum(is_req, axis=1) == 1)
                keys = np.where(needs & first_req, -1.0, np.where(~needs & is_req, keys + 2, keys))
            # locations not native to this tumour type are only used when the route needs them
            native = np.isin(pool, locs)[None, :]
            keys = np.where(~native & (keys >= 0), keys + 2, keys)
        order = np.argsort(keys, axis=1)[:, :max_n]
        got = pool[order]
        if got.shape[1] < max_n:
            got = np.hstack([got, np.full((rows.size, max_n - got.shape[1]), None, dtype=object)])
        out[rows] = got
    return out


def _lesions(s: pd.DataFrame, rng) -> pd.DataFrame:
    """Baseline lesions: 1-5 target (measurable) and 0-3 non-target lesions per subject."""
    n = len(s)
    n_t = rng.choice([1, 2, 3, 4, 5], size=n, p=[.15, .30, .30, .15, .10])
    n_nt = rng.choice([0, 1, 2, 3], size=n, p=[.25, .35, .25, .15])
    tloc = _pick_locations(s, rng, True, 5)
    ntloc = _pick_locations(s, rng, False, 3)
    n_nt = np.minimum(n_nt, (ntloc != None).sum(axis=1))  # noqa: E711
    frames = []
    for kind, locs, counts, prefix in (("Target", tloc, n_t, "T"), ("Non-target", ntloc, n_nt, "NT")):
        k = locs.shape[1]
        keep = np.arange(k)[None, :] < counts[:, None]
        sidx = np.repeat(np.arange(n), k).reshape(n, k)[keep]
        frames.append(pd.DataFrame({"i": sidx, "lesno": np.tile(np.arange(1, k + 1), n).reshape(n, k)[keep],
                                    "type": kind, "loc": locs[keep], "prefix": prefix}))
    les = pd.concat(frames, ignore_index=True)
    les["lesid"] = les["prefix"] + les["lesno"].map("{:02d}".format)
    detail = np.empty(len(les), dtype=object)
    for loc, (details, _lat, _nodal, _meas) in D.LOCATIONS.items():
        m = (les["loc"] == loc).to_numpy()
        detail[m] = np.array(details, dtype=object)[rng.integers(0, len(details), m.sum())]
    les["detail"] = detail
    les["lateral"] = laterality(les["detail"])
    les["nodal"] = les["loc"] == "Lymph node"
    base = np.where(les["nodal"], np.exp(rng.normal(np.log(22), 0.3, len(les))).clip(15, 60),
                    np.exp(rng.normal(np.log(28), 0.45, len(les))).clip(10, 120))
    les["base"] = np.round(base)
    les["floor"] = rng.integers(5, 10, len(les))       # nodes shrink to a normal size, never vanish
    les["noise"] = rng.normal(0, 1, len(les))
    return les


def _trajectory(s: pd.DataFrame, rng) -> pd.DataFrame:
    """Per-subject tumour-size factor parameters by intended response class."""
    n = len(s)
    cls = s["resp_class"].to_numpy()
    depth = np.select([cls == 0, cls == 1, cls == 2], [np.ones(n), rng.uniform(0.38, 0.75, n), rng.uniform(-0.12, 0.25, n)], 0.0)
    tau = rng.uniform(18, 50, n)
    p_regrow = np.select([cls == 0, cls == 1, cls == 2], [0.3, 0.55, 0.7], 1.0)
    regrow = np.where(rng.random(n) < p_regrow, np.select([cls == 0, cls == 1, cls == 2], [rng.uniform(200, 600, n), rng.uniform(100, 500, n), rng.uniform(60, 360, n)], 0.0), np.inf)
    g = np.where(cls == 3, rng.uniform(0.007, 0.02, n), rng.uniform(0.003, 0.012, n))
    mode = np.where(cls == 3, rng.choice(3, n, p=[0.5, 0.3, 0.2]), 0)   # 0 growth, 1 new lesion, 2 non-target PD
    g = np.where((cls == 3) & (mode > 0), g * 0.3, g)
    t_new = np.where(mode == 1, 20.0, np.where(np.isfinite(regrow) & (rng.random(n) < 0.25), regrow + rng.uniform(60, 200, n), np.inf))
    t_ntpd = np.where(mode == 2, rng.choice([20.0, 50.0], n), np.where(np.isfinite(regrow) & (rng.random(n) < 0.2), regrow + rng.uniform(60, 200, n), np.inf))
    return pd.DataFrame({"i": np.arange(n), "depth": depth, "tau": tau, "regrow": regrow, "g": g,
                         "t_new": t_new, "t_ntpd": t_ntpd, "method": np.where(rng.random(n) < 0.85, "CT", "MRI")})


def build_tumour(s: pd.DataFrame, v: pd.DataFrame, seed: int):
    """Return (tu, tr, rs, per-subject frame with pd_rel and nexttx_rel)."""
    rng = np.random.default_rng([seed, 3])
    enr = s[s["enrolled"]].reset_index(drop=True)
    les = _lesions(enr, rng)
    traj = _trajectory(enr, rng)
    les = les.merge(traj[["i", "method"]], on="i")
    les["sid"] = enr["sid"].to_numpy()[les["i"]]

    # Assessment calendar: baseline + scheduled tumour visits that took place.
    base_v = v[(v["visit"] == "Baseline") & v["done"]][["sid", "visit", "day", "rel"]]
    post_v = v[v["visit"].isin(D.TUMOUR_VISITS) & v["done"]][["sid", "visit", "day", "rel"]]
    post_v = post_v.assign(day=post_v["day"] - rng.integers(0, 4, len(post_v)))
    post_v["rel"] = post_v["day"] - enr.set_index("sid").loc[post_v["sid"], "day0"].to_numpy()
    cal = pd.concat([base_v.assign(rel=np.minimum(base_v["rel"].fillna(-10), -1)), post_v], ignore_index=True)
    cal["visitnum"] = cal["visit"].map(D.VISIT_NUM)
    cal = cal[cal["sid"].isin(enr["sid"])]

    # Non-PD subjects may start another anticancer therapy without progression: scans stop there.
    i_of = pd.Series(np.arange(len(enr)), index=enr["sid"].to_numpy())
    fu = np.nan_to_num(enr["fu_end_rel"].to_numpy(dtype=float), nan=0.0)
    early_tx = np.where((rng.random(len(enr)) < 0.08) & (fu > 120), rng.uniform(90, np.maximum(fu, 91)), np.inf)
    cal = cal[cal["rel"] < early_tx[i_of[cal["sid"]].to_numpy()]]

    # Measurements on every lesion at every assessment.
    m = les.merge(cal, on="sid")
    tr_ = traj.set_index("i").loc[m["i"]]
    t = np.maximum(m["rel"].to_numpy(), 0.0)
    f = (1 - tr_["depth"].to_numpy() * (1 - np.exp(-t / tr_["tau"].to_numpy()))) * \
        np.exp(tr_["g"].to_numpy() * np.maximum(0, t - tr_["regrow"].to_numpy()))
    f = np.where(m["rel"].to_numpy() < 0, 1.0, f)
    visit_noise = rng.normal(0, 0.05, len(m))
    val = m["base"].to_numpy() * f * np.exp(0.03 * m["noise"].to_numpy() + visit_noise)
    val = np.where(m["rel"].to_numpy() < 0, m["base"].to_numpy(), val)
    nodal = m["nodal"].to_numpy()
    val = np.where(nodal, np.maximum(val, m["floor"].to_numpy()), np.where(val < 4.5, 0.0, val))
    m["diam"] = np.round(val)
    is_t = (m["type"] == "Target").to_numpy()
    post = m["rel"].to_numpy() >= 0
    missing = post & (rng.random(len(m)) < 0.02)
    m.loc[missing & is_t, "diam"] = np.nan
    # Non-target status
    absent = f < np.where(tr_["depth"].to_numpy() >= 1, 0.25, 0.12)
    ntpd = post & (t >= tr_["t_ntpd"].to_numpy()) & (m["lesno"].to_numpy() == 1)
    status = np.select([missing, ntpd, absent], ["Not evaluated", "Unequivocal progression", "Absent"], "Present")
    m["status"] = np.where(is_t, np.where(np.isnan(m["diam"]), "Not evaluated", "Measured"), status)
    m.loc[~is_t, "diam"] = np.nan

    # Per-assessment RECIST evaluation.
    key = ["sid", "visitnum"]
    tgt = m[is_t].assign(miss=lambda d: d["diam"].isna())
    agg = tgt.groupby(key, sort=True).agg(sumd=("diam", "sum"), nmiss=("miss", "sum"))
    nn_zero = tgt.assign(pos=(~tgt["nodal"]) & (tgt["diam"] > 0), big=tgt["nodal"] & (tgt["diam"] >= 10)) \
        .groupby(key, sort=True)[["pos", "big"]].sum()
    agg["all_nonnodal_zero"] = nn_zero["pos"] == 0
    agg["all_nodes_lt10"] = nn_zero["big"] == 0
    nt = m[~is_t].assign(absent=lambda d: d["status"] == "Absent", up=lambda d: d["status"] == "Unequivocal progression",
                         miss=lambda d: d["status"] == "Not evaluated")
    ntagg = nt.groupby(key, sort=True).agg(n_nt=("lesid", "size"), n_abs=("absent", "sum"), n_up=("up", "sum"), n_miss=("miss", "sum"))
    ev = cal.set_index(key).join(agg, how="inner").join(ntagg, how="left").fillna({"n_nt": 0, "n_abs": 0, "n_up": 0, "n_miss": 0})
    ev = ev.reset_index().sort_values(key, kind="stable")
    ev["sum_eval"] = np.where(ev["nmiss"] > 0, np.nan, ev["sumd"])
    ev["base_sum"] = ev.groupby("sid")["sum_eval"].transform("first")
    ev["nadir"] = ev.groupby("sid")["sum_eval"].cummin()
    ev["nadir"] = ev.groupby("sid")["nadir"].ffill()
    i_ev = i_of[ev["sid"]].to_numpy()
    ev["new"] = (ev["rel"] >= traj["t_new"].to_numpy()[i_ev]) & (ev["rel"] >= 0)
    post_ev = ev["rel"] >= 0
    ev["trg"] = R.target_response(ev["sumd"], ev["base_sum"], ev["nadir"], ev["all_nonnodal_zero"],
                                  ev["all_nodes_lt10"], ev["nmiss"] > 0)
    ev["ntrg"] = R.nontarget_response(ev["n_nt"], ev["n_abs"], ev["n_up"], ev["n_miss"])
    ev["ovr"] = R.overall_response(ev["trg"], ev["ntrg"], ev["new"])
    ev.loc[~post_ev, ["trg", "ntrg", "ovr"]] = ""
    # Stop at the first overall PD.
    is_pd = (ev["ovr"] == R.PD).astype(int)
    before = is_pd.groupby(ev["sid"]).cumsum() - is_pd
    ev = ev[before == 0]
    pd_rows = ev[ev["ovr"] == R.PD]
    pd_rel = pd.Series(pd_rows["rel"].to_numpy(), index=pd_rows["sid"].to_numpy())
    kept = ev[key]
    m = m.merge(kept, on=key)

    # New lesions at the PD assessment that found them.
    newv = ev[ev["new"]]
    tl = enr.set_index("sid").loc[newv["sid"], "tumour"].to_numpy()
    new_loc = np.array([D.TUMOUR_LOCATIONS[int(x)][int(rng.integers(0, len(D.TUMOUR_LOCATIONS[int(x)])))] for x in tl], dtype=object)
    new_loc = np.where(new_loc == "Lymph node", "Liver", new_loc)
    newl = pd.DataFrame({"sid": newv["sid"].to_numpy(), "visitnum": newv["visitnum"].to_numpy(),
                         "visit": newv["visit"].to_numpy(), "day": newv["day"].to_numpy(),
                         "lesid": "NEW01", "type": "New", "loc": new_loc, "nodal": False,
                         "method": traj["method"].to_numpy()[i_of[newv["sid"]].to_numpy()]})
    newl["detail"] = np.array([D.LOCATIONS[l][0][0] for l in newl["loc"]], dtype=object)
    newl["lateral"] = laterality(newl["detail"])
    newl["status"] = "Present"

    # Next anticancer therapy: after PD for most, else the early switch drawn above.
    pdr = pd_rel.reindex(enr["sid"]).to_numpy()
    after_pd = pdr + rng.integers(14, 61, len(enr))
    nexttx = np.where(~np.isnan(pdr), np.where((rng.random(len(enr)) < 0.65) & (after_pd <= fu), after_pd, np.nan),
                      np.where(np.isfinite(early_tx), np.round(early_tx), np.nan))
    course = pd.DataFrame({"sid": enr["sid"].to_numpy(), "pd_rel": pdr, "nexttx_rel": nexttx})

    sub = s.set_index("sid")
    tu_src = pd.concat([
        m[m["visit"] == "Baseline"][["sid", "visitnum", "visit", "day", "lesid", "type", "loc", "detail", "lateral", "nodal", "method"]],
        newl[["sid", "visitnum", "visit", "day", "lesid", "type", "loc", "detail", "lateral", "nodal", "method"]]],
        ignore_index=True).sort_values(["sid", "visitnum", "lesid"], kind="stable")
    tr_src = pd.concat([m[["sid", "visitnum", "visit", "day", "lesid", "type", "method", "nodal", "diam", "status"]],
                        newl[["sid", "visitnum", "visit", "day", "lesid", "type", "method", "nodal", "status"]].assign(diam=np.nan)],
                       ignore_index=True)
    tr_src["ord"] = tr_src["type"].map({"Target": 0, "Non-target": 1, "New": 2})
    tr_src = tr_src.sort_values(["sid", "visitnum", "ord", "lesid"], kind="stable")
    rs_src = ev[ev["rel"] >= 0].copy()
    return sub, tu_src, tr_src, rs_src, course


def format_tu(s: pd.DataFrame, tu: pd.DataFrame) -> pd.DataFrame:
    """Lesion identification form (baseline lesions and new lesions)."""
    from .forms import _frame
    from .rawfmt import fmt_date, yes_no
    return _frame(s, tu["sid"], {"VISIT": tu["visit"].to_numpy(), "TUDAT": fmt_date(tu["day"]), "LESID": tu["lesid"].to_numpy(),
                                 "LESTYPE": tu["type"].to_numpy(), "LESLOC": tu["loc"].to_numpy(), "LESDETL": tu["detail"].to_numpy(),
                                 "LATERAL": tu["lateral"].to_numpy(), "NODAL": yes_no(tu["nodal"].to_numpy(dtype=bool)),
                                 "METHOD": tu["method"].to_numpy()})


def format_tr(s: pd.DataFrame, tr: pd.DataFrame) -> pd.DataFrame:
    """Lesion measurement form: diameter for targets, status for non-target and new lesions."""
    from .forms import _frame
    from .rawfmt import fmt_date, fmt_num
    is_t = (tr["type"] == "Target").to_numpy()
    nodal = tr["nodal"].to_numpy(dtype=bool)
    return _frame(s, tr["sid"], {"VISIT": tr["visit"].to_numpy(), "TRDAT": fmt_date(tr["day"]), "LESID": tr["lesid"].to_numpy(),
                                 "LESTYPE": tr["type"].to_numpy(), "METHOD": tr["method"].to_numpy(),
                                 "MEASTYPE": np.where(is_t, np.where(nodal, "Short axis", "Longest diameter"), ""),
                                 "DIAM": fmt_num(tr["diam"], 0), "DIAMU": np.where(is_t, "mm", ""),
                                 "LESSTAT": tr["status"].to_numpy(),
                                 "LESREASND": np.where(tr["status"] == "Not evaluated", "Lesion not imaged", "")})


def format_rs(s: pd.DataFrame, rs: pd.DataFrame) -> pd.DataFrame:
    """Investigator RECIST 1.1 response per post-baseline assessment."""
    from .forms import _frame
    from .rawfmt import fmt_date, fmt_num, yes_no
    txt = lambda col: np.array([RESP_TEXT[x] for x in rs[col]], dtype=object)  # noqa: E731
    return _frame(s, rs["sid"], {"VISIT": rs["visit"].to_numpy(), "RSDAT": fmt_date(rs["day"]),
                                 "SUMDIAM": fmt_num(np.where(rs["nmiss"] > 0, np.nan, rs["sumd"]), 0), "SUMDIAMU": "mm",
                                 "TRGRESP": txt("trg"), "NTRGRESP": txt("ntrg"), "NEWLES": yes_no(rs["new"].to_numpy(dtype=bool)),
                                 "OVRLRESP": txt("ovr"), "RSEVAL": "Investigator", "RSCRIT": "RECIST 1.1"})
