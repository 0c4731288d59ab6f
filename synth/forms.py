"""Builders for the remaining raw forms. Each takes the subject backbone (and what it needs from
other forms) and returns the form as a frame of text columns in EDC wording and export order.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import design as D
from .labs import CYTOKINES
from .rawfmt import DAY_UNKNOWN, MONTH_UNKNOWN, choose, fmt_date, fmt_num, fmt_sig, fmt_time, yes_no

ID = ["STUDYID", "SITENO", "SUBJNO"]


def _ids(s: pd.DataFrame, sid) -> dict:
    sub = s.set_index("sid")
    sid = np.asarray(sid)
    return {"STUDYID": D.STUDYID, "SITENO": sub.loc[sid, "siteno"].to_numpy(), "SUBJNO": sub.loc[sid, "subjno"].to_numpy()}


def _frame(s, sid, cols: dict) -> pd.DataFrame:
    d = {**_ids(s, sid), **cols}
    n = len(np.asarray(sid))
    return pd.DataFrame({k: (np.full(n, v, dtype=object) if np.isscalar(v) else v) for k, v in d.items()})


def build_dm(s: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Enrolment and demography: one row per screened subject."""
    rng = np.random.default_rng([seed, 10])
    n = len(s)
    enr = s["enrolled"].to_numpy()
    birth_prec = np.where(D.SITE_BIRTH_YEAR_ONLY[s["site"].to_numpy()], MONTH_UNKNOWN, 0)
    diag_prec = np.select([rng.random(n) < 0.05, rng.random(n) < 0.3], [MONTH_UNKNOWN, DAY_UNKNOWN], 0)
    route = s["route"].to_numpy()
    dl = s["dl"].to_numpy()
    part = s["part"].to_numpy()
    return _frame(s, s["sid"], {
        "COUNTRY": s["country"].to_numpy(), "CONSDAT": fmt_date(s["consent"]),
        "BRTHDAT": fmt_date(s["birth"], birth_prec), "AGE": s["age"].astype(str).to_numpy(), "AGEU": "Years",
        "SEX": np.where(s["male"], "Male", "Female"), "RACE": s["race"].to_numpy(), "ETHNIC": s["ethnic"].to_numpy(),
        "TUMTYPE": D.TUMOUR_LABEL[s["tumour"]], "TUMHIST": D.TUMOUR_DETAIL[s["tumour"]],
        "DIAGDAT": fmt_date(s["diag"], diag_prec), "PRIORLN": s["prior_lines"].astype(str).to_numpy(),
        "HEIGHT": fmt_num(s["height"], 0), "HEIGHTU": "cm", "WEIGHT": fmt_num(s["weight"], 1), "WEIGHTU": "kg",
        "SCRNFAIL": yes_no(s["sf"]), "SFREAS": np.where(s["sf"], "Eligibility criteria not met", ""),
        "ENROLDAT": fmt_date(s["enrol"]),
        "PART": np.where(enr, D.PARTS[np.maximum(part, 0)], ""),
        "ROUTE": np.where(enr, D.ROUTES[np.maximum(route, 0)], ""),
        "DOSELVL": np.where(enr, D.DOSE_LABELS[np.maximum(dl, 0)], ""),
    })


def build_ie(s: pd.DataFrame) -> pd.DataFrame:
    """Eligibility: one 'all criteria met' row per eligible subject, one row per failed criterion otherwise."""
    ok = s[~s["sf"]]
    met = _frame(s, ok["sid"], {"IEDAT": fmt_date(ok["enrol"]), "IEYN": "Yes", "IECAT": "", "IETESTCD": "", "IETEST": ""})
    met["_o"], met["_sid"] = 0, ok["sid"].to_numpy()
    fails = []
    for col in ("sf_crit", "sf_crit2"):
        f = s[s[col] >= 0]
        c = f[col].to_numpy()
        d = _frame(s, f["sid"], {"IEDAT": fmt_date(f["sf_day"]), "IEYN": "No", "IECAT": D.CRIT_CAT[c],
                                 "IETESTCD": D.CRIT_ID[c], "IETEST": D.CRIT_TEXT[c]})
        d["_o"], d["_sid"] = c + 1, f["sid"].to_numpy()
        fails.append(d)
    out = pd.concat([met, *fails], ignore_index=True).sort_values(["_sid", "_o"], kind="stable")
    return out.drop(columns=["_o", "_sid"])


def build_ihc(s: pd.DataFrame, seed: int) -> pd.DataFrame:
    """CD70 immunohistochemistry on the screening specimen (central lab)."""
    rng = np.random.default_rng([seed, 11])
    n = len(s)
    fail_ihc = (s["sf_crit"].to_numpy() == 2) | (s["sf_crit2"].to_numpy() == 2)
    score = np.where(fail_ihc, rng.choice(["0", "1+", "2+"], n, p=[.35, .35, .30]), "3+")
    pct = np.where(fail_ihc, np.round(rng.uniform(0, 45, n) / 5) * 5, np.round(rng.uniform(50, 100, n) / 5) * 5)
    pct = np.where(score == "0", 0, pct)
    archival = rng.random(n) < 0.6
    consent = s["consent"].to_numpy()
    spec = np.where(archival, consent - rng.integers(30, 500, n), s["scr_day"].to_numpy() + rng.integers(1, 6, n))
    spec = np.maximum(spec, s["diag"].to_numpy())
    result = np.maximum(spec, consent) + rng.integers(3, 8, n)
    limit = np.where(s["enrolled"], s["enrol"].to_numpy() - 1, s["sf_day"].to_numpy())
    result = np.minimum(result, limit)
    tum = s["tumour"].to_numpy()
    first_loc = np.array([D.TUMOUR_LOCATIONS[int(t)][0] for t in range(len(D.TUMOURS))], dtype=object)
    loc = np.where(rng.random(n) < 0.55, first_loc[tum], np.where(rng.random(n) < 0.5, "Lymph node", "Liver"))
    return _frame(s, s["sid"], {
        "VISIT": "Screening", "SPECTYPE": np.where(archival, "Archival tissue", "Fresh biopsy"),
        "SPECLOC": loc, "SPECDAT": fmt_date(spec), "IHCTEST": "CD70", "IHCASSAY": "CD70 IHC (clone 41D12)",
        "IHCRDAT": fmt_date(result), "IHCSCORE": score, "IHCPCT": fmt_num(pct, 0), "IHCPCTU": "%",
    })


def build_sv(s: pd.DataFrame, v: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Visit log: one row per visit folder that was opened, done or not."""
    rng = np.random.default_rng([seed, 12])
    done = v["done"].to_numpy()
    reason = choose(rng, ["Subject unable to attend", "Subject hospitalised at another facility", "Scheduling conflict"], len(v))
    return _frame(s, v["sid"], {"VISIT": v["visit"].to_numpy(), "VISITYN": yes_no(done),
                                "VISDAT": np.where(done, fmt_date(v["day"]), ""), "VISNDRS": np.where(done, "", reason)})


def build_ecog(s: pd.DataFrame, v: pd.DataFrame, course: pd.DataFrame, seed: int) -> pd.DataFrame:
    """ECOG performance status at the ECOG visits; it worsens after progression."""
    rng = np.random.default_rng([seed, 13])
    e = v[v["visit"].isin(D.ECOG_VISITS + ["End of Study"]) & v["done"]]
    sub = s.set_index("sid")
    base = sub.loc[e["sid"], "ecog0"].to_numpy()
    pd_rel = course.set_index("sid")["pd_rel"].reindex(e["sid"]).to_numpy()
    rel = e["rel"].to_numpy(dtype=float)
    after_pd = ~np.isnan(pd_rel) & (rel >= pd_rel)
    drift = rng.choice([-1, 0, 0, 0, 1], len(e))
    later = ~np.isnan(rel) & (rel > 0)
    val = np.where(later, np.clip(base + drift, 0, 2), base)
    val = np.where(after_pd, np.minimum(base + 1 + (rng.random(len(e)) < 0.3), 4), val)
    return _frame(s, e["sid"], {"VISIT": e["visit"].to_numpy(), "QSDAT": fmt_date(e["day"]),
                                "ECOG": D.ECOG_TEXT[val.astype(int)]})


def cart_times(s: pd.DataFrame, seed: int):
    """Infusion start and end (minutes after midnight), shared by the CAR-T and PK forms."""
    rng = np.random.default_rng([seed, 14])
    n = len(s)
    start = np.round(rng.uniform(10 * 60, 14 * 60, n) / 5) * 5
    dur = np.where(s["route"].to_numpy() == 0, rng.integers(8, 31, n), rng.integers(20, 46, n))
    return start, start + dur


def build_ex_ld(s: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Lymphodepletion: fludarabine 30 mg/m2 and cyclophosphamide 500 mg/m2, days -5 to -3."""
    rng = np.random.default_rng([seed, 15])
    inf = s[s["infused"]]
    k = len(inf)
    reduce_flu = rng.random(k) < 0.12
    start = np.round(rng.uniform(8 * 60, 11 * 60, k) / 5) * 5
    rows = []
    for day in range(3):
        for drug, dose, dur, off in (("Fludarabine", 30.0, 30, 0), ("Cyclophosphamide", 500.0, 60, 45)):
            actual = np.where(reduce_flu & (drug == "Fludarabine"), dose * 0.75, dose)
            st = start + off + rng.integers(0, 3, k) * 5
            rows.append(pd.DataFrame({
                "sid": inf["sid"].to_numpy(), "o": day * 2 + (drug == "Cyclophosphamide"),
                "VISIT": f"Day {-5 + day}", "EXLDTRT": drug, "EXLDPDOS": fmt_num(np.full(k, dose), 0),
                "EXLDDOSE": fmt_num(actual, 1), "EXLDDOSU": "mg/m2", "EXLDBSA": fmt_num(inf["bsa"], 2),
                "EXLDTOT": fmt_num(np.round(actual * inf["bsa"].to_numpy()), 0), "EXLDTOTU": "mg",
                "EXLDROUT": "Intravenous", "EXLDDAT": fmt_date(inf["ld_day"].to_numpy() + day),
                "EXLDSTTM": fmt_time(st), "EXLDENTM": fmt_time(st + dur),
                "EXLDADJ": yes_no(reduce_flu & (drug == "Fludarabine")),
                "EXLDADJR": np.where(reduce_flu & (drug == "Fludarabine"), "Renal impairment (CrCl 30-70 mL/min)", ""),
            }))
    ex = pd.concat(rows, ignore_index=True).sort_values(["sid", "o"], kind="stable")
    ids = pd.DataFrame(_ids(s, ex["sid"]))
    return pd.concat([ids, ex.drop(columns=["sid", "o"]).reset_index(drop=True)], axis=1)


def build_ex_cart(s: pd.DataFrame, seed: int) -> pd.DataFrame:
    """CAR-T infusion: one row per infused subject."""
    rng = np.random.default_rng([seed, 16])
    start, end = cart_times(s, seed)
    inf = s[s["infused"]]
    m = s["infused"].to_numpy()
    k = len(inf)
    dl = inf["dl"].to_numpy()
    planned = D.DOSE_LEVELS[dl]
    actual = np.round(planned * rng.uniform(0.9, 1.04, k), 2)
    wt = inf["weight"].to_numpy()
    total = actual * wt
    vol = np.where(inf["route"].to_numpy() == 0, np.round(rng.uniform(20, 70, k)), np.round(rng.uniform(50, 100, k)))
    year = (np.datetime64("1970-01-01") + inf["day0"].to_numpy().astype("timedelta64[D]")).astype("datetime64[Y]").astype(int) + 1970
    lot = [f"CD70C-{y % 100:02d}-{1000 + i:04d}" for i, y in zip(inf["sid"], year)]
    return _frame(s, inf["sid"], {
        "VISIT": "Day 0", "EXCDAT": fmt_date(inf["day0"]), "EXCSTTM": fmt_time(start[m]), "EXCENTM": fmt_time(end[m]),
        "EXCROUTE": D.ROUTES[inf["route"].to_numpy()], "EXCDOSLV": D.DOSE_LABELS[dl],
        "EXCPDOSE": fmt_num(planned, 1), "EXCDOSE": fmt_num(actual, 2), "EXCDOSU": "x10^6 CAR+ T cells/kg",
        "EXCWT": fmt_num(wt, 1), "EXCTOT": fmt_num(total, 1), "EXCTOTU": "x10^6 CAR+ T cells",
        "EXCVOL": fmt_num(vol, 0), "EXCVOLU": "mL", "EXCLOT": np.array(lot, dtype=object),
        "EXCFULL": yes_no(np.ones(k, bool)),
    })


def build_lb(s: pd.DataFrame, lab: pd.DataFrame) -> pd.DataFrame:
    """Local safety labs in the site's units and test names, with the lab's normal range."""
    site = s.set_index("sid").loc[lab["sid"], "site"].to_numpy()
    us = np.isin(site, [0, 1])
    kinds = lab["kind"].to_numpy()
    unit = np.empty(len(lab), dtype=object)
    for kind in np.unique(kinds):
        mk = kinds == kind
        unit[mk] = "U/L" if kind == "UL" else D.SITE_UNITS[kind][site[mk]]
    si = ~us & np.isin(kinds, ["hgb", "bili", "creat"])
    f = np.where(si, lab["factor"].to_numpy(), 1.0)
    dec = np.where(us, lab["dec_conv"].to_numpy(), lab["dec_si"].to_numpy())
    val, lo, hi = lab["value"].to_numpy() * f, lab["lln"].to_numpy() * f, lab["uln"].to_numpy() * f
    res, nlo, nhi = (np.empty(len(lab), dtype=object) for _ in range(3))
    for d in np.unique(dec):
        md = dec == d
        res[md], nlo[md], nhi[md] = fmt_num(val[md], int(d)), fmt_num(lo[md], int(d)), fmt_num(hi[md], int(d))
    rv = np.array([float(x) for x in res]) if len(res) else np.array([])
    flag = np.select([rv < lo - 1e-9, rv > hi + 1e-9], ["L", "H"], "") if len(res) else np.array([], dtype=object)
    return _frame(s, lab["sid"], {
        "VISIT": lab["visit"].to_numpy(), "LBDAT": fmt_date(lab["day"]), "LBTIM": fmt_time(lab["time"]),
        "LBCAT": lab["cat"].to_numpy(), "LBTEST": np.where(us, lab["us_name"], lab["si_name"]),
        "LBORRES": res, "LBORRESU": unit, "LBORNRLO": nlo, "LBORNRHI": nhi, "LBNRIND": flag,
    })


def build_cyto(s: pd.DataFrame, cy: pd.DataFrame) -> pd.DataFrame:
    """CRP (mg/L or mg/dL by site), IL-6 (pg/mL, '<1.5' below detection) and ferritin."""
    sub = s.set_index("sid")
    site = sub.loc[cy["sid"], "site"].to_numpy()
    male = sub.loc[cy["sid"], "male"].to_numpy()
    code = cy["code"].to_numpy()
    val = cy["value"].to_numpy()
    n = len(cy)
    unit, res, lo, hi = (np.empty(n, dtype=object) for _ in range(4))
    crp = code == "CRP"
    mgdl = crp & (D.SITE_UNITS["crp"][site] == "mg/dL")
    unit[crp] = D.SITE_UNITS["crp"][site[crp]]
    res[crp & ~mgdl], lo[crp & ~mgdl], hi[crp & ~mgdl] = fmt_num(val[crp & ~mgdl], 1), "0.0", "5.0"
    res[mgdl], lo[mgdl], hi[mgdl] = fmt_num(val[mgdl] / 10, 2), "0.00", "0.50"
    il6 = code == "IL6"
    unit[il6] = "pg/mL"
    res[il6] = np.where(val[il6] < D.IL6_LOD, f"<{D.IL6_LOD}", fmt_num(val[il6], 1))
    lo[il6], hi[il6] = "0.0", "7.0"
    fe = code == "FERRITIN"
    unit[fe] = D.SITE_UNITS["ferritin"][site[fe]]
    res[fe] = fmt_num(val[fe], 0)
    lo[fe] = np.where(male[fe], "30", "15")
    hi[fe] = np.where(male[fe], "400", "150")
    names = {c[0]: c[1] for c in CYTOKINES}
    return _frame(s, cy["sid"], {
        "VISIT": cy["visit"].to_numpy(), "LBDAT": fmt_date(cy["day"]), "LBTIM": fmt_time(cy["time"]),
        "LBCAT": "Cytokines and inflammatory markers", "LBTEST": np.array([names[c] for c in code], dtype=object),
        "LBORRES": res, "LBORRESU": unit, "LBORNRLO": lo, "LBORNRHI": hi,
    })


def build_pc(s: pd.DataFrame, v: pd.DataFrame, seed: int) -> pd.DataFrame:
    """CAR transgene by qPCR (copies/ug gDNA) and CAR+ T cells by flow, as the central lab sends them."""
    rng = np.random.default_rng([seed, 17])
    inf = s[s["infused"]]
    tp = pd.DataFrame(D.PK_TIMEPOINTS, columns=["visit", "tpt", "nom"])
    tp["k"] = np.arange(len(tp))
    vv = v[v["done"] & v["sid"].isin(inf["sid"])][["sid", "visit", "day", "rel"]]
    x = vv.merge(tp, on="visit").sort_values(["sid", "k"], kind="stable").reset_index(drop=True)
    n = len(s)
    sub = s.set_index("sid")
    i = x["sid"].to_numpy()
    dl = np.maximum(s["dl"].to_numpy(), 0)
    loc = s["route"].to_numpy() > 0
    cmax = np.array([3e3, 1e4, 3e4, 6e4])[dl] * np.where(loc, 0.4, 1.0) * np.exp(0.9 * s["z_exp"].to_numpy() + rng.normal(0, 0.4, n))
    cmax = np.where(rng.random(n) < 0.08, cmax * 0.03, cmax)
    tmax = rng.uniform(7, 14, n)
    c0 = np.array([150.0, 400, 800, 1300])[dl] * np.where(loc, 0.15, 1.0) * np.exp(rng.normal(0, 0.4, n))
    fa = rng.uniform(0.85, 0.97, n)
    ka, kb = np.log(2) / rng.uniform(2, 5, n), np.log(2) / rng.uniform(40, 120, n)
    t = x["nom"].to_numpy() / 24.0
    t = np.where(t > 1.5, x["rel"].to_numpy(dtype=float), t)   # scheduled days use the actual day
    up = np.exp(np.log(c0[i]) + (np.log(cmax[i]) - np.log(c0[i])) * np.clip(t / tmax[i], 0, 1))
    dt = np.maximum(t - tmax[i], 0)
    down = cmax[i] * (fa[i] * np.exp(-ka[i] * dt) + (1 - fa[i]) * np.exp(-kb[i] * dt))
    conc = np.where(t < 0, 0.0, np.where(t <= tmax[i], up, down)) * np.exp(rng.normal(0, 0.2, len(x)))
    start, end = cart_times(s, seed)
    ld_start = np.round(rng.uniform(8 * 60, 11 * 60, n) / 5) * 5
    tpt = x["tpt"].to_numpy()
    tim = np.round(rng.uniform(7 * 60, 10 * 60, len(x)) / 5) * 5
    tim = np.select([tpt == "Pre-lymphodepletion", tpt == "Pre-infusion", tpt == "1 hour post-infusion"],
                    [ld_start[i] - 30, start[i] - rng.integers(3, 12, len(x)) * 5, end[i] + 60 + rng.integers(-2, 3, len(x)) * 5], tim)
    nd = rng.random(len(x)) < 0.05
    blq = conc < D.PK_LLOQ
    res = np.where(nd, "", np.where(blq, "BLQ", fmt_sig(conc, 3)))
    qpcr = _frame(s, i, {
        "VISIT": x["visit"].to_numpy(), "PCTPT": tpt, "PCNOMHR": fmt_num(x["nom"], 1),
        "ACCSNNO": np.array([f"Q{1000000 + a * 40 + b:08d}" for a, b in zip(i, x["k"])], dtype=object),
        "PCDAT": fmt_date(x["day"]), "PCTIM": np.where(nd, "", fmt_time(tim)), "PCSPEC": "Whole blood",
        "PCTEST": "CD70 CAR transgene", "PCMETHOD": "qPCR", "PCORRES": res, "PCORRESU": "copies/µg gDNA",
        "PCLLOQ": fmt_num(np.full(len(x), D.PK_LLOQ), 0),
        "PCSTAT": np.where(nd, "Not Done", ""),
        "PCREASND": np.where(nd, choose(rng, ["Sample not collected", "Insufficient sample volume", "Sample not received at central lab"], len(x)), ""),
    })
    qpcr["_k"], qpcr["_m"], qpcr["_sid"] = x["k"].to_numpy(), 0, i
    fl = x[x["visit"].isin(D.FLOW_VISITS)].index.to_numpy()
    cells = conc[fl] * rng.uniform(0.002, 0.005, len(fl))
    fnd = nd[fl]
    flow = qpcr.iloc[fl].copy()
    flow["ACCSNNO"] = np.array([f"F{1000000 + a * 40 + b:08d}" for a, b in zip(i[fl], x["k"].to_numpy()[fl])], dtype=object)
    flow["PCTEST"], flow["PCMETHOD"], flow["PCORRESU"] = "CAR+ T cells", "Flow cytometry", "cells/µL"
    flow["PCORRES"] = np.where(fnd, "", np.where(cells < D.FLOW_LLOQ, "BLQ", fmt_num(cells, 1)))
    flow["PCLLOQ"] = fmt_num(np.full(len(fl), D.FLOW_LLOQ), 1)
    flow["_m"] = 1
    out = pd.concat([qpcr, flow], ignore_index=True).sort_values(["_sid", "_k", "_m"], kind="stable")
    return out.drop(columns=["_k", "_m", "_sid"]).reset_index(drop=True)


def build_ada(s: pd.DataFrame, v: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Anti-CAR antibodies (screening-confirmatory-titre assay) at nominal visits."""
    rng = np.random.default_rng([seed, 18])
    a = v[v["visit"].isin(D.ADA_VISITS) & v["done"] & v["sid"].isin(s.loc[s["infused"], "sid"])]
    n = len(s)
    conv_day = np.where(rng.random(n) < 0.12, rng.choice([28, 91, 183], n), np.inf)
    pre_pos = rng.random(n) < 0.03
    i = a["sid"].to_numpy()
    rel = a["rel"].to_numpy(dtype=float)
    pos = np.where(rel < 0, pre_pos[i], (rel >= conv_day[i] - 7) | pre_pos[i])
    titre = np.where(pos, np.array(["1:20", "1:40", "1:80", "1:160", "1:320"], dtype=object)[rng.integers(0, 5, len(a))], "")
    return _frame(s, i, {"VISIT": a["visit"].to_numpy(), "ADADAT": fmt_date(a["day"]),
                         "ADATEST": "Anti-CD70 CAR antibody", "ADARES": np.where(pos, "Positive", "Negative"),
                         "ADATITER": titre})


def build_ds(s: pd.DataFrame) -> pd.DataFrame:
    """Disposition milestones: consent, screen failure / enrolment, treatment, end of study."""
    rows = []

    def add(m, event, day, status="", reason="", spec="", order=0):
        sub = s[m]
        rows.append(pd.DataFrame({"sid": sub["sid"].to_numpy(), "o": order, "DSEVENT": event,
                                  "DSDAT": fmt_date(day[m] if isinstance(day, np.ndarray) else sub[day]),
                                  "DSSTAT": status if np.isscalar(status) else status[m],
                                  "DSREAS": reason if np.isscalar(reason) else reason[m],
                                  "DSREASSP": spec if np.isscalar(spec) else spec[m]}))

    allm = np.ones(len(s), bool)
    sf, enr, inf = s["sf"].to_numpy(), s["enrolled"].to_numpy(), s["infused"].to_numpy()
    add(allm, "Informed consent obtained", "consent", "Completed", order=0)
    crit_sp = np.where(s["sf_crit"] >= 0, D.CRIT_ID[np.maximum(s["sf_crit"], 0)], "")
    add(sf, "Screen failure", "sf_day", "Discontinued", "Eligibility criteria not met", crit_sp, order=1)
    add(enr, "Enrolled", "enrol", "Completed", order=1)
    add(inf, "Lymphodepletion", "ld_day", "Completed", order=2)
    add(inf, "CAR-T infusion", "day0", "Completed", order=3)
    add(inf, "End of treatment", "day0", "Completed", order=4)
    ni = enr & ~inf
    dr = s["disc_reason"].to_numpy()
    ni_spec = np.select([dr == D.EOS_PHYSICIAN, dr == D.EOS_OTHER], ["Rapid disease progression before lymphodepletion", "CAR-T product could not be manufactured"], "")
    ni_reason = D.EOS_REASONS[np.maximum(dr, 0)]
    add(ni, "End of treatment", "disc_day", "Discontinued", ni_reason, ni_spec, order=4)
    er = s["eos_reason"].to_numpy()
    eos = (inf | ni) & (er >= 0)
    eos_day = np.where(inf, s["day0"] + s["eos_rel"], s["disc_day"])
    add(eos, "End of study", eos_day, D.EOS_STATUS[np.maximum(er, 0)], np.where(er == D.EOS_COMPLETED, "", D.EOS_REASONS[np.maximum(er, 0)]),
        np.where(inf, "", ni_spec), order=5)
    ds = pd.concat(rows, ignore_index=True).sort_values(["sid", "o"], kind="stable")
    ids = pd.DataFrame(_ids(s, ds["sid"]))
    return pd.concat([ids, ds.drop(columns=["sid", "o"]).reset_index(drop=True)], axis=1)


def build_death(s: pd.DataFrame, ae_events: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Death report: date, primary cause and the fatal AE's number when the cause is an AE."""
    rng = np.random.default_rng([seed, 19])
    d = s[s["death_cause"] >= 0]
    day = np.where(d["infused"], d["day0"] + d["death_rel"], d["disc_day"])
    cause = d["death_cause"].to_numpy()
    fatal = ae_events[ae_events["grade"] == 5].set_index("sid")
    aenum = fatal["aenum"].reindex(d["sid"]).to_numpy()
    fpt = fatal["pt"].reindex(d["sid"]).to_numpy()
    return _frame(s, d["sid"], {
        "DTHDAT": fmt_date(day), "DTHCAUSE": np.array(["Disease progression", "Adverse event", "Other"], dtype=object)[cause],
        "DTHSPEC": np.select([cause == 1, cause == 2], [fpt, "Cardiac arrest, unknown aetiology"], ""),
        "DTHAENUM": np.where(cause == 1, pd.Series(aenum).map(lambda a: "" if pd.isna(a) else str(int(a))).to_numpy(), ""),
        "DTHAUTOP": choose(rng, ["No", "No", "No", "Yes", "Unknown"], len(d)),
    })


def build_prior_therapy(s: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Prior anticancer regimens by line, partial dates where the history is vague."""
    rng = np.random.default_rng([seed, 20])
    lines = s["prior_lines"].to_numpy()
    i = np.repeat(s["sid"].to_numpy(), lines)
    line = np.concatenate([np.arange(1, k + 1) for k in lines]) if len(lines) else np.array([], int)
    k = len(i)
    sub = s.set_index("sid")
    diag, consent, tum = sub.loc[i, "diag"].to_numpy(), sub.loc[i, "consent"].to_numpy(), sub.loc[i, "tumour"].to_numpy()
    nl = sub.loc[i, "prior_lines"].to_numpy()
    span = (consent - 30 - diag) / nl
    st = diag + 20 + span * (line - 1)
    en = st + span * rng.uniform(0.5, 0.9, k)
    regs = np.empty(k, dtype=object)
    off = rng.integers(0, 10, len(s))[np.searchsorted(s["sid"].to_numpy(), i)] if k else np.array([], int)
    for t, lst in D.REGIMENS.items():
        m = tum == t
        regs[m] = np.array(lst, dtype=object)[(off[m] + line[m] - 1) % len(lst)]
    old = line < nl - 1
    sp = np.where(old & (rng.random(k) < 0.45), np.where(rng.random(k) < 0.2, MONTH_UNKNOWN, DAY_UNKNOWN), 0)
    ep = np.where(old & (rng.random(k) < 0.45), DAY_UNKNOWN, 0)
    best = D.BEST_RESPONSE_TEXT[rng.choice(5, k, p=[.03, .27, .35, .25, .10])]
    reason = choose(rng, ["Disease progression", "Disease progression", "Disease progression", "Toxicity", "Completed planned therapy"], k)
    return _frame(s, i, {"PTLINE": line.astype(str), "PTTRT": regs, "PTSETTNG": np.where(line == 1, choose(rng, ["Adjuvant", "Metastatic", "Metastatic"], k), "Metastatic"),
                         "PTSTDAT": fmt_date(np.round(st), sp), "PTENDAT": fmt_date(np.round(en), ep), "PTBESTRS": best, "PTREASDC": reason})


def build_subsequent_therapy(s: pd.DataFrame, course: pd.DataFrame, seed: int) -> pd.DataFrame:
    """New anticancer therapy started after the CAR-T (censors PFS), up to the follow-up end."""
    rng = np.random.default_rng([seed, 21])
    c = course[~course["nexttx_rel"].isna()]
    sub = s.set_index("sid")
    tum = sub.loc[c["sid"], "tumour"].to_numpy()
    k = len(c)
    regs = np.empty(k, dtype=object)
    for t, lst in D.REGIMENS.items():
        m = tum == t
        regs[m] = np.array(lst, dtype=object)[rng.integers(0, len(lst), m.sum())]
    radio = rng.random(k) < 0.15
    regs = np.where(radio, "Palliative radiotherapy", regs)
    return _frame(s, c["sid"], {"STTRT": regs, "STTYPE": np.where(radio, "Radiotherapy", "Systemic therapy"),
                                "STSTDAT": fmt_date(sub.loc[c["sid"], "day0"].to_numpy() + c["nexttx_rel"].to_numpy()),
                                "STENDAT": "", "STONGO": "Yes"})


MH_TERMS = ["Hypertension", "Type 2 diabetes mellitus", "Hypothyroidism", "Gastrooesophageal reflux disease",
            "Depression", "Hyperlipidaemia", "Chronic kidney disease stage 2", "Osteoarthritis", "Chronic obstructive pulmonary disease",
            "Appendicectomy", "Cholecystectomy", "Nephrectomy"]


def build_mh(s: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Relevant medical history (verbatim), with partial start dates as patients recall them."""
    rng = np.random.default_rng([seed, 22])
    cnt = rng.choice(5, len(s), p=[.2, .3, .25, .15, .1])
    i = np.repeat(s["sid"].to_numpy(), cnt)
    k = len(i)
    num = np.concatenate([np.arange(1, c + 1) for c in cnt]) if len(cnt) else np.array([], int)
    term = choose(rng, MH_TERMS, k)
    sub = s.set_index("sid")
    tum = sub.loc[i, "tumour"].to_numpy()
    term = np.where((term == "Nephrectomy") & (tum != 0), "Hernia repair", term)
    consent = sub.loc[i, "consent"].to_numpy()
    st = consent - rng.integers(200, 9000, k)
    prec = rng.choice([0, DAY_UNKNOWN, MONTH_UNKNOWN], k, p=[.25, .35, .40])
    surgical = np.isin(term, ["Appendicectomy", "Cholecystectomy", "Nephrectomy", "Hernia repair"])
    ongo = ~surgical & (rng.random(k) < 0.8)
    en = np.where(ongo, np.nan, st + rng.integers(1, 30, k))
    out = _frame(s, i, {"MHNUM": num.astype(str), "MHTERM": term, "MHSTDAT": fmt_date(st, prec),
                        "MHENDAT": fmt_date(en, np.where(prec == MONTH_UNKNOWN, MONTH_UNKNOWN, prec)), "MHONGO": yes_no(ongo)})
    return out
