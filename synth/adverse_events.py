"""Adverse event form: CRS and ICANS (ASTCT-graded), lab-based events (grade >= 3), clinical
events from the template table, fatal events behind AE deaths, each MedDRA-coded as the coding
team delivers it, with CTCAE v5.0 grade, DLT, seriousness criteria, relatedness and outcome.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import design as D
from .meddra import AE_TEMPLATES, PT, VERBATIM, MEDDRA_VERSION
from .rawfmt import DAY_UNKNOWN, MONTH_UNKNOWN, fmt_date, fmt_time, yes_no
from .subjects import FATAL_PTS

REL_TEXT = np.array(["Not related", "Unlikely related", "Possibly related", "Probably related", "Definitely related"], dtype=object)
COLUMNS = ["STUDYID", "SITENO", "SUBJNO", "AENUM", "AETERM", "AESTDAT", "AESTTIM", "AEENDAT", "AEONGO",
           "AELLT", "AELLTCD", "AEPT", "AEPTCD", "AEHLT", "AEHLTCD", "AEHLGT", "AEHLGTCD", "AESOC", "AESOCCD",
           "MEDDRAV", "AEGRADE", "CTCAEV", "AECRSGR", "AEICANSGR", "AEDLT", "AESER", "AESDTH", "AESLIFE",
           "AESHOSP", "AESDISAB", "AESCONG", "AESMIE", "AERELCAR", "AERELLD", "AEACN", "AETOCI", "AESTER", "AEOUT"]


def _events(sid, pt, start, end, grade, **extra) -> pd.DataFrame:
    d = pd.DataFrame({"sid": sid, "pt": pt, "start": np.asarray(start, float), "end": np.asarray(end, float),
                      "grade": np.asarray(grade, int)})
    defaults = {"astct": 0, "dlt": False, "p_ser": 0.0, "fatal": False, "lab": False}
    for k, val in {**defaults, **extra}.items():
        d[k] = val
    return d


def build_ae_events(s: pd.DataFrame, lab_ae: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Internal AE episodes (days relative to infusion) before formatting."""
    rng = np.random.default_rng([seed, 6])
    inf = s[s["infused"]]
    parts = []
    # CRS and ICANS
    c = inf[inf["crs_grade"] > 0]
    parts.append(_events(c["sid"], "Cytokine release syndrome", c["crs_onset"], c["crs_onset"] + c["crs_dur"],
                         c["crs_grade"], astct=c["crs_grade"].to_numpy(), dlt=(c["dlt_type"] == 0).to_numpy(),
                         rel_c=4, rel_l=0))
    ic = inf[inf["icans_grade"] > 0]
    parts.append(_events(ic["sid"], "Immune effector cell-associated neurotoxicity syndrome", ic["icans_onset"],
                         ic["icans_onset"] + ic["icans_dur"], ic["icans_grade"], astct=ic["icans_grade"].to_numpy(),
                         dlt=(ic["dlt_type"] == 1).to_numpy(), rel_c=4, rel_l=0))
    # lab-based events
    le = lab_ae.merge(s[["sid", "dlt_type"]], on="sid")
    dlt_lab = ((le["code"] == "NEUT") & (le["dlt_type"] == 2)) | ((le["code"] == "ALT") & (le["dlt_type"] == 3))
    parts.append(_events(le["sid"], le["pt"], le["start_rel"], le["end_rel"], le["grade"], dlt=dlt_lab.to_numpy(),
                         rel_c=2, rel_l=np.where(le["code"] == "ALT", 1, 3), lab=True))
    # febrile neutropenia after grade 4 neutropenia
    fn = le[(le["code"] == "NEUT") & (le["grade"] == 4)]
    fn = fn[rng.random(len(fn)) < 0.2]
    st = fn["start_rel"].to_numpy() + rng.integers(1, 4, len(fn))
    parts.append(_events(fn["sid"], "Febrile neutropenia", st, st + rng.integers(3, 8, len(fn)), 3, rel_c=2, rel_l=3,
                         p_ser=1.0))
    # clinical templates
    route = inf["route"].to_numpy()
    for pt, p, (o1, o2), (d1, d2), gp, p_ser, rc, rl, mult in AE_TEMPLATES:
        has = rng.random(len(inf)) < np.minimum(p * np.array(mult)[route], 0.95)
        k = int(has.sum())
        if not k:
            continue
        onset = rng.integers(o1, o2 + 1, k)
        if o2 > 60:   # late-onset windows: most events still come early
            onset = np.where(rng.random(k) < 0.5, rng.integers(o1, min(o2, 45) + 1, k), onset)
        grade = rng.choice(4, k, p=np.array(gp) / sum(gp)) + 1
        parts.append(_events(inf["sid"].to_numpy()[has], pt, onset, onset + rng.integers(d1, d2 + 1, k), grade,
                             rel_c=rc, rel_l=rl, p_ser=p_ser))
    # fatal events behind AE deaths
    fd = s[s["death_cause"].eq(1) & s["infused"]]
    st = np.maximum(fd["death_rel"].to_numpy() - rng.integers(2, 11, len(fd)), 1)
    # a fatal event ends on the day of death (the CRF's end date; SDTM AEENDTC = DM.DTHDTC)
    parts.append(_events(fd["sid"], FATAL_PTS[fd["fatal_pt"].to_numpy()], st, fd["death_rel"].to_numpy(), 5, rel_c=2,
                         rel_l=1, p_ser=1.0, fatal=True))
    ev = pd.concat(parts, ignore_index=True)
    ev["dlt"] = ev["dlt"].astype(bool)
    ev["fatal"] = ev["fatal"].astype(bool)

    # keep only what happened while the subject was followed; end after follow-up end -> ongoing
    sub = s.set_index("sid")
    fu = sub.loc[ev["sid"], "fu_end_rel"].to_numpy()
    ev = ev[ev["start"] <= fu].copy()
    fu = sub.loc[ev["sid"], "fu_end_rel"].to_numpy()
    died = ~np.isnan(sub.loc[ev["sid"], "death_rel"].to_numpy())
    ev.loc[ev["end"] > fu, "end"] = np.nan
    # one episode per subject and preferred term keeps the listing realistic
    ev = ev.sort_values(["sid", "start", "pt"], kind="stable").drop_duplicates(["sid", "pt", "start"])
    n = len(ev)
    fu = sub.loc[ev["sid"], "fu_end_rel"].to_numpy()
    died = ~np.isnan(sub.loc[ev["sid"], "death_rel"].to_numpy())
    g = ev["grade"].to_numpy()
    is_crs = (ev["pt"] == "Cytokine release syndrome").to_numpy()
    is_icans = (ev["pt"] == "Immune effector cell-associated neurotoxicity syndrome").to_numpy()
    p_ser = ev["p_ser"].to_numpy(dtype=float)
    p_ser = np.where(is_crs & (g >= 2), 0.5, p_ser)
    p_ser = np.where(is_icans & (g >= 2), 0.6, p_ser)
    # expected post-lymphodepletion lab toxicities are not serious by grade alone
    ser = (rng.random(n) < p_ser) | ((g >= 4) & ~ev["lab"].to_numpy(dtype=bool)) | ev["dlt"].to_numpy()
    ev["ser"] = ser
    ev["sdth"] = g == 5
    ev["slife"] = ser & (g == 4)
    hosp = ser & ~ev["sdth"].to_numpy() & ~ev["slife"].to_numpy() & (rng.random(n) < 0.85)
    ev["shosp"] = hosp | (ser & (g >= 4) & (rng.random(n) < 0.7))
    ev["smie"] = ser & ~ev["sdth"].to_numpy() & ~ev["slife"].to_numpy() & ~hosp
    start = ev["start"].to_numpy()
    rc = np.clip(ev["rel_c"].to_numpy(dtype=int) + rng.choice([-1, 0, 0, 1], n), 0, 4)
    rc = np.where(is_crs | is_icans, np.where(rng.random(n) < 0.7, 4, 3), rc)
    rc = np.where(start < 0, 0, rc)
    rl = np.clip(ev["rel_l"].to_numpy(dtype=int) + rng.choice([-1, 0, 0, 1], n), 0, 4)
    rl = np.where(start > 60, np.minimum(rl, 1), rl)
    rc = np.where(ev["dlt"].to_numpy(), np.maximum(rc, 2), rc)
    ev["rel_c"], ev["rel_l"] = rc, rl
    ongoing = np.isnan(ev["end"].to_numpy())
    ev["out"] = np.select(
        [ev["fatal"].to_numpy(), ongoing & died, ongoing, rng.random(n) < 0.04],
        ["Fatal", "Not recovered/Not resolved", np.where(rng.random(n) < 0.7, "Not recovered/Not resolved", "Recovering/Resolving"),
         "Recovered/Resolved with sequelae"], "Recovered/Resolved")
    ev["toci"] = np.where(is_crs, yes_no((g >= 2) & (rng.random(n) < 0.9) | (g == 1) & (rng.random(n) < 0.1)), "")
    ev["ster"] = np.where(is_crs | is_icans, yes_no((g >= 3) | (is_icans & (g >= 2))), "")
    # partial dates only where they happen in reality: later events reported from outside records
    late = start > 28
    ev["st_prec"] = np.where(late & (rng.random(n) < 0.08), DAY_UNKNOWN, 0)
    ev["en_prec"] = np.where((ev["end"].to_numpy() > 28) & (rng.random(n) < 0.06) & ~ev["fatal"].to_numpy(),
                             np.where(rng.random(n) < 0.15, MONTH_UNKNOWN, DAY_UNKNOWN), 0)
    ev["time"] = np.where(is_crs | is_icans | (ev["pt"] == "Infusion related reaction").to_numpy(),
                          np.round(rng.uniform(0, 24 * 60 - 1, n) / 5) * 5, np.nan)
    ev["aenum"] = ev.groupby("sid").cumcount() + 1
    return ev.reset_index(drop=True)


def format_ae(ev: pd.DataFrame, s: pd.DataFrame, seed: int) -> pd.DataFrame:
    """AE events -> raw AE form."""
    rng = np.random.default_rng([seed, 7])
    sub = s.set_index("sid")
    n = len(ev)
    day0 = sub.loc[ev["sid"], "day0"].to_numpy()
    verb = np.empty(n, dtype=object)
    llt = np.empty(n, dtype=object)
    lltcd = np.empty(n, dtype=object)
    for pt, options in VERBATIM.items():
        m = (ev["pt"] == pt).to_numpy()
        if m.any():
            k = rng.integers(0, len(options), m.sum())
            verb[m] = np.array([o[0] for o in options], dtype=object)[k]
            llt[m] = np.array([o[1] for o in options], dtype=object)[k]
            lltcd[m] = np.array([str(o[2]) for o in options], dtype=object)[k]
    h = np.array([PT[p] for p in ev["pt"]], dtype=object).reshape(n, 7) if n else np.empty((0, 7), dtype=object)
    g = ev["grade"].to_numpy()
    win = (ev["start"].to_numpy() >= 0) & (ev["start"].to_numpy() <= D.DLT_WINDOW_DAYS)
    is_crs = (ev["pt"] == "Cytokine release syndrome").to_numpy()
    is_icans = (ev["pt"] == "Immune effector cell-associated neurotoxicity syndrome").to_numpy()
    astct = D.ASTCT_TEXT[ev["astct"].to_numpy(dtype=int)]
    ser = ev["ser"].to_numpy()

    def crit(col):
        return np.where(ser, yes_no(ev[col].to_numpy()), "")

    out = pd.DataFrame({
        "STUDYID": D.STUDYID, "SITENO": sub.loc[ev["sid"], "siteno"].to_numpy(), "SUBJNO": sub.loc[ev["sid"], "subjno"].to_numpy(),
        "AENUM": ev["aenum"].astype(str).to_numpy(), "AETERM": verb,
        "AESTDAT": fmt_date(day0 + ev["start"].to_numpy(), ev["st_prec"].to_numpy()),
        "AESTTIM": fmt_time(ev["time"].to_numpy()),
        "AEENDAT": fmt_date(day0 + ev["end"].to_numpy(), ev["en_prec"].to_numpy()),
        "AEONGO": yes_no(np.isnan(ev["end"].to_numpy()) & ~ev["fatal"].to_numpy()),
        "AELLT": llt, "AELLTCD": lltcd, "AEPT": ev["pt"].to_numpy(),
        "AEPTCD": h[:, 0].astype(str) if n else [], "AEHLT": h[:, 1], "AEHLTCD": h[:, 2].astype(str) if n else [],
        "AEHLGT": h[:, 3], "AEHLGTCD": h[:, 4].astype(str) if n else [], "AESOC": h[:, 5], "AESOCCD": h[:, 6].astype(str) if n else [],
        "MEDDRAV": MEDDRA_VERSION, "AEGRADE": D.GRADE_TEXT[g], "CTCAEV": "5.0",
        "AECRSGR": np.where(is_crs, astct, ""), "AEICANSGR": np.where(is_icans, astct, ""),
        "AEDLT": np.where(win, yes_no(ev["dlt"].to_numpy()), ""),
        "AESER": yes_no(ser), "AESDTH": crit("sdth"), "AESLIFE": crit("slife"), "AESHOSP": crit("shosp"),
        "AESDISAB": np.where(ser, "No", ""), "AESCONG": np.where(ser, "No", ""), "AESMIE": crit("smie"),
        "AERELCAR": REL_TEXT[ev["rel_c"].to_numpy(dtype=int)], "AERELLD": REL_TEXT[ev["rel_l"].to_numpy(dtype=int)],
        "AEACN": np.where(ev["start"].to_numpy() < 0, "Dose not changed", "Not applicable"),
        "AETOCI": ev["toci"].to_numpy(), "AESTER": ev["ster"].to_numpy(), "AEOUT": ev["out"].to_numpy(),
    })
    return out[COLUMNS]
