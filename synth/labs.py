"""Laboratory forms: local safety labs (haematology, chemistry) in each site's units, cytokines
(CRP, IL-6, ferritin) rising with CRS grade, and the lab-based adverse events they imply.

Values are generated in one internal unit per test (conventional US units) and converted to the
unit the site's lab reports, so the SDTM standardisation has real conversions to do.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import design as D

# code, US name, SI-country name, category, unit kind, decimals (conv, SI), factor conv->SI, LLN, ULN (male), LLN, ULN (female)
SAFETY_TESTS = [
    ("WBC", "White blood cell count", "White cell count", "Haematology", "count", (2, 2), 1.0, (4.0, 11.0), (4.0, 11.0)),
    ("NEUT", "Absolute neutrophil count", "Neutrophils", "Haematology", "count", (2, 2), 1.0, (1.8, 7.5), (1.8, 7.5)),
    ("LYMPH", "Absolute lymphocyte count", "Lymphocytes", "Haematology", "count", (2, 2), 1.0, (1.0, 4.0), (1.0, 4.0)),
    ("PLAT", "Platelet count", "Platelets", "Haematology", "count", (0, 0), 1.0, (150.0, 400.0), (150.0, 400.0)),
    ("HGB", "Hemoglobin", "Haemoglobin", "Haematology", "hgb", (1, 0), 10.0, (13.5, 17.5), (12.0, 15.5)),
    ("ALT", "ALT (SGPT)", "Alanine aminotransferase", "Chemistry", "UL", (0, 0), 1.0, (7.0, 56.0), (7.0, 45.0)),
    ("AST", "AST (SGOT)", "Aspartate aminotransferase", "Chemistry", "UL", (0, 0), 1.0, (10.0, 40.0), (10.0, 35.0)),
    ("BILI", "Bilirubin, total", "Total bilirubin", "Chemistry", "bili", (1, 0), 17.1, (0.1, 1.2), (0.1, 1.2)),
    ("CREAT", "Creatinine", "Creatinine", "Chemistry", "creat", (2, 0), 88.4, (0.7, 1.3), (0.5, 1.1)),
]
# CTCAE v5.0 lower-is-worse thresholds (internal units): grade 2, 3, 4 upper limits.
CYTOPENIA = {
    "NEUT": ((1.5, 1.0, 0.5), "Neutrophil count decreased", (0.05, 0.07, 0.12, 0.23, 0.53), (5, 21)),
    "LYMPH": ((0.8, 0.5, 0.2), "Lymphocyte count decreased", (0.0, 0.0, 0.05, 0.25, 0.70), (10, 60)),
    "PLAT": ((75.0, 50.0, 25.0), "Platelet count decreased", (0.25, 0.30, 0.20, 0.15, 0.10), (5, 25)),
    "HGB": ((10.0, 8.0, 0.0), "Anaemia", (0.05, 0.30, 0.45, 0.20, 0.0), (10, 40)),
}
LAB_AE_MIN_GRADE = 3   # protocol: laboratory abnormalities are AEs when CTCAE grade >= 3


def _site_unit(kind: str, site: np.ndarray) -> np.ndarray:
    if kind in D.SITE_UNITS:
        return D.SITE_UNITS[kind][site]
    return np.full(len(site), "U/L", dtype=object)


def lower_grade(test: str, value: np.ndarray, lln: np.ndarray) -> np.ndarray:
    """CTCAE v5.0 grade of a 'decreased' lab value (internal units)."""
    g2, g3, g4 = CYTOPENIA[test][0]
    return np.select([value < g4, value < g3, value < g2, value < lln], [4, 3, 2, 1], 0)


def alt_grade(value: np.ndarray, uln: np.ndarray) -> np.ndarray:
    """CTCAE v5.0 grade of ALT increased (baseline normal): x ULN bands 3, 5, 20."""
    r = value / uln
    return np.select([r > 20, r > 5, r > 3, r > 1], [4, 3, 2, 1], 0)


def _lab_grid(s: pd.DataFrame, v: pd.DataFrame, visits: list[str]) -> pd.DataFrame:
    g = v[v["visit"].isin(visits) & v["done"]][["sid", "visit", "visitnum", "day", "rel"]]
    return g[g["sid"].isin(s.loc[s["enrolled"], "sid"])].reset_index(drop=True)


def build_safety_labs(s: pd.DataFrame, v: pd.DataFrame, seed: int):
    """Return (long lab frame with internal values and grades, per-subject lab AE events)."""
    rng = np.random.default_rng([seed, 4])
    sub = s.set_index("sid")
    grid = _lab_grid(s, v, D.SAFETY_LAB_VISITS)
    # screening labs are drawn for screen failures too (they are part of eligibility)
    scr = v[(v["visit"] == "Screening") & v["sid"].isin(s.loc[s["sf"], "sid"])][["sid", "visit", "visitnum", "day", "rel"]]
    grid = pd.concat([grid, scr], ignore_index=True)
    n = len(s)
    male = s["male"].to_numpy()
    t = grid["rel"].to_numpy(dtype=float)
    t = np.where(np.isnan(t), -30.0, t)
    i = grid["sid"].to_numpy()
    pre = t <= -5

    params = {}
    for test, (thr, _pt, gp, (dmin, dmax)) in CYTOPENIA.items():
        spec = next(x for x in SAFETY_TESTS if x[0] == test)
        lln = np.where(male, spec[7][0], spec[8][0])
        uln = np.where(male, spec[7][1], spec[8][1])
        base = rng.uniform(lln * 1.05, uln * 0.8) if test != "HGB" else rng.uniform(lln * 0.85, uln * 0.9)
        grade = rng.choice(5, n, p=np.array(gp) / sum(gp))
        if test == "NEUT":
            grade = np.where(s["dlt_type"].to_numpy() == 2, 4, grade)
        lo = np.select([grade == 4, grade == 3, grade == 2, grade == 1], [np.full(n, thr[2] * 0.1 if thr[2] else 6.5), np.full(n, thr[2]), np.full(n, thr[1]), np.full(n, thr[0])], lln)
        hi = np.select([grade == 4, grade == 3, grade == 2, grade == 1], [np.full(n, thr[2]), np.full(n, thr[1]), np.full(n, thr[0]), lln], base)
        if test == "HGB":
            lo = np.where(grade == 3, 6.5, lo)
        nadir = lo + (hi - lo) * rng.uniform(0.05, 0.7, n)
        tn = rng.uniform(4, 10, n)
        dur = rng.uniform(dmin, dmax, n)
        if test == "NEUT":
            dur = np.where(s["dlt_type"].to_numpy() == 2, rng.uniform(32, 50, n), dur)
        params[test] = (base, nadir, tn, tn + dur, lln, uln)

    vals = {}
    for test, (base, nadir, tn, tr, lln, uln) in params.items():
        b, vn, tn_, tr_ = base[i], nadir[i], tn[i], tr[i]
        frac = np.clip((t + 5) / (tn_ + 5), 0, 1)
        decline = b * (vn / b) ** frac
        plateau = vn * (1 + 0.15 * np.clip((t - tn_) / (tr_ - tn_ + 1), 0, 1))
        recover = vn * 1.15 + (b * 0.92 - vn * 1.15) * (1 - np.exp(-(t - tr_) / 15))
        x = np.select([pre, t < tn_, t <= tr_], [b, decline, plateau], recover)
        noise = np.exp(rng.normal(0, 0.04, len(t)))
        x = np.where(pre, x * noise, np.maximum(x * noise, vn))
        vals[test] = x
    other = 0.25 + 0.5 * np.clip(vals["NEUT"] / params["NEUT"][0][i], 0, 1.2)
    vals["WBC"] = vals["NEUT"] + vals["LYMPH"] + other

    crs_g = s["crs_grade"].to_numpy()
    crs_on = np.nan_to_num(s["crs_onset"].to_numpy(dtype=float), nan=6.0)
    alt_b = rng.uniform(12, 38, n)
    alt_peak_mult = 1 + crs_g * rng.uniform(0.2, 0.9, n)
    alt_tp = crs_on + 2
    dlt_alt = s["dlt_type"].to_numpy() == 3
    uln_alt = np.where(male, 56.0, 45.0)
    alt_peak = np.where(dlt_alt, uln_alt * rng.uniform(5.5, 11, n), alt_b * alt_peak_mult)
    alt_tp = np.where(dlt_alt, rng.choice([7.0, 10.0, 14.0], n), alt_tp)
    bump = np.where(pre, 0.0, np.exp(-((t - alt_tp[i]) / np.where(dlt_alt[i], 4.0, 5.0)) ** 2))
    vals["ALT"] = (alt_b[i] + (alt_peak[i] - alt_b[i]) * bump) * np.exp(rng.normal(0, 0.06, len(t)))
    vals["AST"] = vals["ALT"] * rng.uniform(0.75, 1.15, n)[i]
    vals["BILI"] = rng.uniform(0.3, 0.9, n)[i] * (1 + 0.4 * bump) * np.exp(rng.normal(0, 0.08, len(t)))
    cr_b = np.where(male, rng.uniform(0.75, 1.15, n), rng.uniform(0.55, 0.95, n))
    vals["CREAT"] = cr_b[i] * (1 + 0.12 * crs_g[i] * bump) * np.exp(rng.normal(0, 0.04, len(t)))

    # Long frame in internal units with grades.
    frames = []
    for code, us_name, si_name, cat, kind, decs, factor, rng_m, rng_f in SAFETY_TESTS:
        lln = np.where(male[i], rng_m[0], rng_f[0])
        uln = np.where(male[i], rng_m[1], rng_f[1])
        x = vals[code]
        if code in CYTOPENIA:
            grade = lower_grade(code, x, lln)
        elif code == "ALT":
            grade = alt_grade(x, uln)
        else:
            grade = np.zeros(len(x), dtype=int)
        frames.append(pd.DataFrame({"sid": i, "visit": grid["visit"].to_numpy(), "visitnum": grid["visitnum"].to_numpy(),
                                    "day": grid["day"].to_numpy(), "rel": t, "code": code, "us_name": us_name, "si_name": si_name,
                                    "cat": cat, "kind": kind, "dec_conv": decs[0], "dec_si": decs[1], "factor": factor,
                                    "value": x, "lln": lln, "uln": uln, "grade": grade}))
    lab = pd.concat(frames, ignore_index=True)
    order = {c[0]: k for k, c in enumerate(SAFETY_TESTS)}
    lab["tord"] = lab["code"].map(order)
    lab = lab.sort_values(["sid", "visitnum", "tord"], kind="stable").reset_index(drop=True)
    lab["time"] = (np.round(rng.uniform(7 * 60, 10 * 60, len(lab)) / 5) * 5)
    # same collection time for all tests of one draw
    lab["time"] = lab.groupby(["sid", "visitnum"])["time"].transform("first")
    return lab, lab_adverse_events(lab, sub)


def lab_adverse_events(lab: pd.DataFrame, sub: pd.DataFrame) -> pd.DataFrame:
    """Grade >= 3 lab abnormalities after lymphodepletion as AE episodes (start, end, worst grade)."""
    pts = {k: v[1] for k, v in CYTOPENIA.items()}
    pts["ALT"] = "Alanine aminotransferase increased"
    x = lab[lab["code"].isin(list(pts)) & (lab["rel"] > -5)].copy()
    x["hit"] = x["grade"] >= LAB_AE_MIN_GRADE
    hits = x[x["hit"]]
    if hits.empty:
        return pd.DataFrame(columns=["sid", "pt", "start_rel", "end_rel", "grade", "code"])
    g = hits.groupby(["sid", "code"], sort=True)
    ev = g.agg(start_rel=("rel", "min"), last_rel=("rel", "max"), grade=("grade", "max")).reset_index()
    after = x.merge(ev[["sid", "code", "last_rel"]], on=["sid", "code"])
    rec = after[(after["rel"] > after["last_rel"]) & ~after["hit"]].groupby(["sid", "code"])["rel"].min()
    ev = ev.merge(rec.rename("end_rel").reset_index(), on=["sid", "code"], how="left")
    ev["pt"] = ev["code"].map(pts)
    return ev[["sid", "pt", "start_rel", "end_rel", "grade", "code"]]


CYTOKINES = [
    # code, test name, unit kind, decimals by unit, baseline median, peak multiplier by CRS grade 0..4, peak lag, width
    ("CRP", "C-reactive protein", "crp", 8.0, (1.5, 6, 12, 20, 26), 1.0, 3.0),
    ("IL6", "Interleukin-6", "il6", 6.0, (2, 10, 40, 200, 500), 0.0, 2.0),
    ("FERRITIN", "Ferritin", "ferritin", 300.0, (1.2, 2, 4, 8, 15), 3.0, 6.0),
]


def build_cytokines(s: pd.DataFrame, v: pd.DataFrame, seed: int) -> pd.DataFrame:
    """CRP / IL-6 / ferritin around the infusion, peaking with CRS in proportion to its grade."""
    rng = np.random.default_rng([seed, 5])
    grid = _lab_grid(s[s["infused"]], v, D.CYTOKINE_VISITS)
    n = len(s)
    i = grid["sid"].to_numpy()
    t = grid["rel"].to_numpy(dtype=float)
    g = s["crs_grade"].to_numpy()
    onset = np.where(np.isnan(s["crs_onset"].to_numpy(dtype=float)), rng.uniform(3, 7, n), s["crs_onset"].to_numpy(dtype=float))
    frames = []
    for k, (code, name, kind, med, mult, lag, width) in enumerate(CYTOKINES):
        base = np.exp(rng.normal(np.log(med), 0.5, n))
        peak = np.array(mult)[g] * np.exp(rng.normal(0, 0.25, n))
        tp = onset + lag
        shape = np.exp(-((t - tp[i]) / width) ** 2) * (t >= 0)
        x = base[i] * np.exp(np.log(peak[i]) * shape) * np.exp(rng.normal(0, 0.08, len(t)))
        if code == "CRP":
            x = np.minimum(x, 380.0)
        frames.append(pd.DataFrame({"sid": i, "visit": grid["visit"].to_numpy(), "visitnum": grid["visitnum"].to_numpy(),
                                    "day": grid["day"].to_numpy(), "rel": t, "code": code, "name": name, "kind": kind,
                                    "value": x, "tord": k}))
    cy = pd.concat(frames, ignore_index=True).sort_values(["sid", "visitnum", "tord"], kind="stable").reset_index(drop=True)
    cy["time"] = np.round(rng.uniform(6 * 60, 9 * 60, len(cy)) / 5) * 5
    cy["time"] = cy.groupby(["sid", "visitnum"])["time"].transform("first")
    return cy
