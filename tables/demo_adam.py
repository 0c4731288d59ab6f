"""A small, hand-made ADaM for a phase I CD70 CAR-T study, following the adam/ <-> tables/ contract.

Used by the tests (which recompute every cell from these frames with plain pandas) and by the
screenshot script, so the tables layer can be built and looked at before the real ADaM exists.
Deterministic: a fixed seed; dates are SAS date numbers (days since 1960-01-01).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..specs.metadata import Dataset, DatasetMeta

STUDYID = "CD70-101"
# (TRT01A, TRT01AN, DOSELVL, ROUTE, treated, DLT-evaluable, subjects with DLT)
COHORTS = [
    ("DL1 IV", 1, "DL1", "INTRAVENOUS", 3, 3, 0),
    ("DL2 IV", 2, "DL2", "INTRAVENOUS", 6, 6, 1),
    ("DL3 IV", 3, "DL3", "INTRAVENOUS", 6, 5, 2),
    ("DL1 IT", 11, "DL1", "INTRATUMORAL", 3, 3, 0),
    ("DL2 IT", 12, "DL2", "INTRATUMORAL", 3, 3, 1),
]
N_NOT_TREATED = 2
SOC_PT = [
    ("Immune system disorders", "Cytokine release syndrome"),
    ("Nervous system disorders", "Immune effector cell-associated neurotoxicity syndrome"),
    ("Blood and lymphatic system disorders", "Neutropenia"),
    ("Blood and lymphatic system disorders", "Anaemia"),
    ("Blood and lymphatic system disorders", "Thrombocytopenia"),
    ("General disorders and administration site conditions", "Pyrexia"),
    ("General disorders and administration site conditions", "Fatigue"),
    ("Gastrointestinal disorders", "Nausea"),
    ("Gastrointestinal disorders", "Diarrhoea"),
    ("Infections and infestations", "Pneumonia"),
    ("Metabolism and nutrition disorders", "Hypokalaemia"),
    ("Vascular disorders", "Hypotension"),
]
BASE_DATE = 22645  # 2022-01-01 as a SAS date


def _meta(name: str, label: str, frame: pd.DataFrame) -> Dataset:
    return Dataset(DatasetMeta(name=name, label=label, standard="ADaMIG 1.3"), frame)


def make_adam(seed: int = 20240607) -> dict[str, Dataset]:
    rng = np.random.default_rng(seed)
    adsl = _adsl(rng)
    adae = _adae(rng, adsl)
    adrs, adtr = _adrs_adtr(rng, adsl)
    # keep dates coherent: alive at least until a week after the last tumour assessment
    last = adrs.groupby("USUBJID")["ADT"].max()
    floor = adsl["USUBJID"].map(last) + 7
    adsl["LSTALVDT"] = np.fmax(adsl["LSTALVDT"], floor.fillna(-np.inf))
    adsl["DTHDT"] = np.where(adsl["DTHFL"] == "Y", adsl["LSTALVDT"], np.nan)
    adtte = _adtte(rng, adsl, adrs)
    adpc, adpp = _pk(rng, adsl)
    adlb = _adlb(rng, adsl, adae)
    return {"ADSL": _meta("ADSL", "Subject-Level Analysis Dataset", adsl),
            "ADAE": _meta("ADAE", "Adverse Events Analysis Dataset", adae),
            "ADRS": _meta("ADRS", "Response Analysis Dataset", adrs),
            "ADTR": _meta("ADTR", "Tumor Results Analysis Dataset", adtr),
            "ADTTE": _meta("ADTTE", "Time-to-Event Analysis Dataset", adtte),
            "ADPC": _meta("ADPC", "PK Concentrations Analysis Dataset", adpc),
            "ADPP": _meta("ADPP", "PK Parameters Analysis Dataset", adpp),
            "ADLB": _meta("ADLB", "Laboratory Analysis Dataset", adlb)}


def _adsl(rng) -> pd.DataFrame:
    rows = []
    i = 0
    for trt, trtn, dl, route, n, n_ev, _ in COHORTS:
        for k in range(n):
            i += 1
            rows.append(dict(TRT01A=trt, TRT01AN=float(trtn), TRT01P=trt, TRT01PN=float(trtn), DOSELVL=dl,
                             ROUTE=route, DLTEVLFL="Y" if k < n_ev else "N", SAFFL="Y"))
    for _ in range(N_NOT_TREATED):
        rows.append(dict(TRT01A="", TRT01AN=np.nan, TRT01P="DL3 IV", TRT01PN=3.0, DOSELVL="DL3",
                         ROUTE="INTRAVENOUS", DLTEVLFL="N", SAFFL="N"))
    df = pd.DataFrame(rows)
    n = len(df)
    df.insert(0, "STUDYID", STUDYID)
    df.insert(1, "USUBJID", [f"{STUDYID}-{101 + j // 10}-{j + 1:03d}" for j in range(n)])
    df.insert(2, "SUBJID", [f"{j + 1:03d}" for j in range(n)])
    df.insert(3, "SITEID", [f"{101 + j // 10}" for j in range(n)])
    treated = df["SAFFL"] == "Y"
    df["AGE"] = rng.integers(28, 78, n).astype(float)
    df["AGEU"] = "YEARS"
    df["AGEGR1"] = np.where(df["AGE"] < 65, "<65", ">=65")
    df["AGEGR1N"] = np.where(df["AGE"] < 65, 1.0, 2.0)
    df["SEX"] = rng.choice(["M", "F"], n, p=[0.6, 0.4])
    df["RACE"] = rng.choice(["WHITE", "ASIAN", "BLACK OR AFRICAN AMERICAN"], n, p=[0.7, 0.2, 0.1])
    df["ETHNIC"] = rng.choice(["NOT HISPANIC OR LATINO", "HISPANIC OR LATINO"], n, p=[0.85, 0.15])
    df["COUNTRY"] = "USA"
    df["ARM"] = df["TRT01P"]
    df["ARMCD"] = df["TRT01P"].str.replace(" ", "")
    df["ACTARM"] = np.where(treated, df["TRT01A"], "Not Treated")
    df["ACTARMCD"] = np.where(treated, df["ARMCD"], "NOTTRT")
    df["PART"] = "A"
    df["RFICDT"] = (BASE_DATE + np.arange(n) * 20 + rng.integers(0, 10, n)).astype(float)
    df["LDSTDT"] = np.where(treated, df["RFICDT"] + 14, np.nan)
    df["TRTSDT"] = np.where(treated, df["RFICDT"] + 19, np.nan)
    df["TRTSDTM"] = df["TRTSDT"] * 86400.0 + 9 * 3600
    df["TRTEDT"] = df["TRTSDT"]
    df["ENRLFL"] = "Y"
    df["EFFFL"] = np.where(treated, "Y", "N")
    df["PKFL"] = np.where(treated, "Y", "N")
    df["TUMTYPE"] = rng.choice(["RENAL CELL CARCINOMA", "GLIOBLASTOMA", "NASOPHARYNGEAL CARCINOMA"], n,
                               p=[0.6, 0.2, 0.2])
    df["CD70IHC"] = rng.choice(["1+", "2+", "3+"], n, p=[0.2, 0.4, 0.4])
    df["CD70PCT"] = rng.integers(10, 100, n).astype(float)
    df["ECOGBL"] = rng.choice([0.0, 1.0], n, p=[0.55, 0.45])
    df["PRIORLN"] = rng.integers(1, 6, n).astype(float)
    follow = rng.integers(60, 700, n).astype(float)
    df["LSTALVDT"] = np.where(treated, df["TRTSDT"] + follow, df["RFICDT"] + 10)
    dead = treated & (rng.random(n) < 0.35)
    df["DTHFL"] = np.where(dead, "Y", "")
    df["DTHDT"] = np.where(dead, df["LSTALVDT"], np.nan)
    df["DTHCAUS"] = np.where(dead, "DISEASE PROGRESSION", "")
    df["EOSSTT"] = np.where(~treated, "DISCONTINUED", np.where(dead, "DISCONTINUED", np.where(
        follow > 500, "COMPLETED", "ONGOING")))
    df["DCSREAS"] = np.where(~treated, "SCREEN FAILURE AFTER ENROLMENT", np.where(dead, "DEATH", ""))
    df.loc[~treated, "DCSREAS"] = "WITHDRAWAL BY SUBJECT"
    return df


def _adae(rng, adsl) -> pd.DataFrame:
    recs = []
    treated = adsl[adsl["SAFFL"] == "Y"]
    dlt_subjects = set()
    for trt, *_rest, n_dlt in COHORTS:
        ev = treated[(treated["TRT01A"] == trt) & (treated["DLTEVLFL"] == "Y")]["USUBJID"].tolist()
        dlt_subjects.update(ev[-n_dlt:] if n_dlt else [])
    for _, s in treated.iterrows():  # fixture generation, not analysis code
        k = rng.integers(2, 7)
        picks = rng.choice(np.arange(2, len(SOC_PT)), size=k, replace=False).tolist()
        if rng.random() < 0.8:
            picks.insert(0, 0)          # CRS
        if rng.random() < 0.3:
            picks.insert(1, 1)          # ICANS
        for j, idx in enumerate(picks):
            soc, pt = SOC_PT[idx]
            grade = int(rng.choice([1, 2, 3, 4], p=[0.45, 0.3, 0.2, 0.05]))
            day = int(rng.integers(1, 12)) if idx in (0, 1) else int(rng.integers(-3, 60))
            dur = float(rng.integers(1, 15))
            recs.append(dict(USUBJID=s["USUBJID"], AEDECOD=pt, AETERM=pt.upper(), AEBODSYS=soc, AESOC=soc,
                             ATOXGRN=float(grade), ASTDY=float(day), ADURN=dur,
                             ASTDT=s["TRTSDT"] + day - (1 if day > 0 else 0),
                             CRSFL="Y" if idx == 0 else "", ICANSFL="Y" if idx == 1 else "",
                             ASTCTGRN=float(min(grade, 4)) if idx in (0, 1) else np.nan))
        if s["USUBJID"] in dlt_subjects:
            recs.append(dict(USUBJID=s["USUBJID"], AEDECOD="Cytokine release syndrome",
                             AETERM="CYTOKINE RELEASE SYNDROME", AEBODSYS=SOC_PT[0][0], AESOC=SOC_PT[0][0],
                             ATOXGRN=4.0, ASTDY=3.0, ADURN=6.0, ASTDT=s["TRTSDT"] + 2, CRSFL="Y", ICANSFL="",
                             ASTCTGRN=4.0, DLTFL="Y"))
    ae = pd.DataFrame(recs)
    ae["DLTFL"] = ae.get("DLTFL", pd.Series(dtype=object)).fillna("")
    ae["TRTEMFL"] = np.where(ae["ASTDY"] >= 1, "Y", "")
    ae["ATOXGR"] = ae["ATOXGRN"].astype(int).astype(str)
    ae["AETOXGR"] = ae["ATOXGR"]
    ae["ASTCTGR"] = ae["ASTCTGRN"].map(lambda g: "" if pd.isna(g) else str(int(g)))
    ae["AENDT"] = ae["ASTDT"] + ae["ADURN"] - 1
    ae["AESER"] = np.where((ae["ATOXGRN"] >= 3) & (rng.random(len(ae)) < 0.6), "Y", "N")
    ae["AESDTH"] = "N"
    ae["AEOUT"] = "RECOVERED/RESOLVED"
    # one fatal treatment-emergent AE
    fatal = ae.index[(ae["AEDECOD"] == "Pneumonia") & (ae["TRTEMFL"] == "Y")]
    if len(fatal):
        ae.loc[fatal[0], ["ATOXGRN", "ATOXGR", "AETOXGR", "AESER", "AESDTH", "AEOUT"]] = \
            [5.0, "5", "5", "Y", "Y", "FATAL"]
    ae = ae.merge(adsl[["USUBJID", "STUDYID", "TRT01A", "TRT01AN", "SAFFL"]], on="USUBJID")
    ae = ae.sort_values(["USUBJID", "ASTDT", "AEDECOD"], kind="mergesort").reset_index(drop=True)
    ae["AESEQ"] = ae.groupby("USUBJID").cumcount().add(1).astype(float)
    return ae


BOR_CODE = {"CR": 1.0, "PR": 2.0, "SD": 3.0, "NON-CR/NON-PD": 4.0, "PD": 5.0, "NE": 6.0}
VISITS = [(28, "WEEK 4"), (56, "WEEK 8"), (84, "WEEK 12"), (168, "WEEK 24"), (252, "WEEK 36")]


def _adrs_adtr(rng, adsl):
    treated = adsl[adsl["SAFFL"] == "Y"]
    rs, tr = [], []
    for _, s in treated.iterrows():
        bor = str(rng.choice(["CR", "PR", "SD", "PD", "NE"], p=[0.1, 0.25, 0.3, 0.3, 0.05]))
        base = float(rng.integers(30, 150))
        tr.append(dict(USUBJID=s["USUBJID"], PARAMCD="SUMDIAM", AVAL=base, BASE=base, PCHG=np.nan,
                       ADY=-5.0, AVISIT="BASELINE"))
        if bor == "NE":
            rs.append(dict(USUBJID=s["USUBJID"], PARAMCD="BOR", AVALC="NE", ADT=np.nan))
            continue
        best = {"CR": -100.0, "PR": float(rng.integers(-85, -31)), "SD": float(rng.integers(-28, 18)),
                "PD": float(rng.integers(21, 60))}[bor]
        nvis = int(rng.integers(2, len(VISITS) + 1)) if bor != "PD" else 1
        path = np.linspace(best / 2, best, nvis) if nvis > 1 else np.array([best])
        for (day, vis), pchg in zip(VISITS[:nvis], path):
            ovr = "CR" if pchg <= -99.9 else "PR" if pchg <= -30 else "PD" if pchg >= 20 else "SD"
            aval = round(base * (1 + pchg / 100), 1)
            tr.append(dict(USUBJID=s["USUBJID"], PARAMCD="SUMDIAM", AVAL=aval, BASE=base,
                           PCHG=round(pchg, 1), ADY=float(day), AVISIT=vis))
            rs.append(dict(USUBJID=s["USUBJID"], PARAMCD="OVR", AVALC=ovr, ADT=s["TRTSDT"] + day - 1,
                           AVISIT=vis))
        if bor in ("CR", "PR", "SD") and rng.random() < 0.5:
            day = VISITS[nvis - 1][0] + 56
            rs.append(dict(USUBJID=s["USUBJID"], PARAMCD="OVR", AVALC="PD", ADT=s["TRTSDT"] + day - 1,
                           AVISIT="UNSCHEDULED"))
        rs.append(dict(USUBJID=s["USUBJID"], PARAMCD="BOR", AVALC=bor, ADT=np.nan))
    adrs = pd.DataFrame(rs)
    bor = adrs[adrs["PARAMCD"] == "BOR"]
    rsp = bor.assign(PARAMCD="RSP", AVALC=np.where(bor["AVALC"].isin(["CR", "PR"]), "Y", "N"))
    cb = bor.assign(PARAMCD="CB", AVALC=np.where(bor["AVALC"].isin(["CR", "PR", "SD"]), "Y", "N"))
    adrs = pd.concat([adrs, rsp, cb], ignore_index=True)
    adrs["AVAL"] = adrs["AVALC"].map(BOR_CODE)
    adrs.loc[adrs["PARAMCD"].isin(["RSP", "CB"]), "AVAL"] = np.where(
        adrs.loc[adrs["PARAMCD"].isin(["RSP", "CB"]), "AVALC"] == "Y", 1.0, 0.0)
    adrs["ANL01FL"] = "Y"
    adrs = adrs.merge(adsl[["USUBJID", "STUDYID", "TRT01A", "TRT01AN"]], on="USUBJID")
    adtr = pd.DataFrame(tr).merge(adsl[["USUBJID", "STUDYID", "TRT01A", "TRT01AN"]], on="USUBJID")
    return adrs, adtr


def _adtte(rng, adsl, adrs) -> pd.DataFrame:
    treated = adsl[adsl["SAFFL"] == "Y"].set_index("USUBJID")
    ovr = adrs[adrs["PARAMCD"] == "OVR"]
    first_pd = ovr[ovr["AVALC"] == "PD"].groupby("USUBJID")["ADT"].min()
    last_ass = ovr.groupby("USUBJID")["ADT"].max()
    first_rsp = ovr[ovr["AVALC"].isin(["CR", "PR"])].groupby("USUBJID")["ADT"].min()
    out = []
    for uid, s in treated.iterrows():
        dth = s["DTHDT"]
        out.append(dict(USUBJID=uid, PARAMCD="OS", PARAM="Overall Survival (days)", STARTDT=s["TRTSDT"],
                        ADT=dth if pd.notna(dth) else s["LSTALVDT"], CNSR=0.0 if pd.notna(dth) else 1.0))
        pd_dt = first_pd.get(uid, np.nan)
        ev_dt = np.nanmin([pd_dt, dth]) if (pd.notna(pd_dt) or pd.notna(dth)) else np.nan
        cens_dt = last_ass.get(uid, s["TRTSDT"])
        out.append(dict(USUBJID=uid, PARAMCD="PFS", PARAM="Progression-Free Survival (days)",
                        STARTDT=s["TRTSDT"], ADT=ev_dt if pd.notna(ev_dt) else cens_dt,
                        CNSR=0.0 if pd.notna(ev_dt) else 1.0))
        if uid in first_rsp.index:
            out.append(dict(USUBJID=uid, PARAMCD="DOR", PARAM="Duration of Response (days)",
                            STARTDT=first_rsp[uid], ADT=ev_dt if pd.notna(ev_dt) else cens_dt,
                            CNSR=0.0 if pd.notna(ev_dt) else 1.0))
    df = pd.DataFrame(out)
    df["AVAL"] = df["ADT"] - df["STARTDT"] + 1
    df["AVALU"] = "DAYS"
    df["EVNTDESC"] = np.where(df["CNSR"] == 0, "EVENT", "")
    df["CNSDTDSC"] = np.where(df["CNSR"] == 1, "LAST KNOWN ASSESSMENT", "")
    return df.merge(adsl[["USUBJID", "STUDYID", "TRT01A", "TRT01AN", "SAFFL", "EFFFL"]], on="USUBJID")


PC_TIMES = [0, 1, 4, 7, 10, 14, 21, 28, 56, 90]


def _pk(rng, adsl):
    treated = adsl[adsl["SAFFL"] == "Y"]
    dose_scale = {1: 1.0, 2: 3.0, 3: 10.0, 11: 0.5, 12: 1.5}
    pc = []
    for _, s in treated.iterrows():
        cmax = 2e4 * dose_scale[int(s["TRT01AN"])] * float(np.exp(rng.normal(0, 0.6)))
        tmax = float(rng.choice([7, 10, 14]))
        for t in PC_TIMES:
            if t == 0:
                conc = 0.0
            elif t <= tmax:
                conc = cmax * (t / tmax) ** 1.5
            else:
                conc = cmax * float(np.exp(-0.05 * (t - tmax)))
            conc *= float(np.exp(rng.normal(0, 0.1))) if t not in (0, tmax) else 1.0
            blq = conc < 50
            pc.append(dict(USUBJID=s["USUBJID"], PARAMCD="CD70CAR", PARAM="CD70 CAR transgene",
                           NFRLT=float(t), AFRLT=float(t), AVAL=0.0 if blq else round(conc, 1),
                           AVALU="copies/ug gDNA", BLQFL="Y" if blq else "", ATPT=f"DAY {t}"))
    adpc = pd.DataFrame(pc).assign(ANL01FL="Y")
    pp = []
    for uid, g in adpc.groupby("USUBJID", sort=True):
        g = g.sort_values("NFRLT")
        imax = int(g["AVAL"].to_numpy().argmax())
        t, c = g["NFRLT"].to_numpy(), g["AVAL"].to_numpy()

        def auc(upto):
            m = t <= upto
            return float(np.trapezoid(c[m], t[m])) if hasattr(np, "trapezoid") else float(np.trapz(c[m], t[m]))
        last = np.flatnonzero(c > 0)[-1]
        for code, val, unit in [("CMAX", c[imax], "copies/ug gDNA"), ("TMAX", t[imax], "day"),
                                ("CLST", c[last], "copies/ug gDNA"), ("TLST", t[last], "day"),
                                ("AUC28D", auc(28), "day*copies/ug gDNA"), ("AUC90D", auc(90), "day*copies/ug gDNA")]:
            pp.append(dict(USUBJID=uid, PARAMCD=code, AVAL=round(float(val), 3), AVALU=unit))
    cols = ["USUBJID", "STUDYID", "TRT01A", "TRT01AN"]
    return adpc.merge(adsl[cols], on="USUBJID"), pd.DataFrame(pp).merge(adsl[cols], on="USUBJID")


def _adlb(rng, adsl, adae) -> pd.DataFrame:
    treated = adsl[adsl["SAFFL"] == "Y"]
    crs = adae[adae["CRSFL"] == "Y"].groupby("USUBJID")["ASTCTGRN"].max()
    rows = []
    for _, s in treated.iterrows():
        g = float(crs.get(s["USUBJID"], 0.0))
        for code, base, unit in [("CRP", 5.0, "mg/L"), ("INTLK6", 4.0, "ng/L"), ("FERRITIN", 300.0, "ug/L")]:
            for day in [-1, 1, 3, 7, 14, 28]:
                bump = (1 + 3 * g) * float(np.exp(-abs(day - 4) / 5)) if day > 0 else 0.0
                rows.append(dict(USUBJID=s["USUBJID"], PARAMCD=code, ADY=float(day), AVALU=unit,
                                 AVAL=round(base * (1 + 4 * bump) * float(np.exp(rng.normal(0, 0.2))), 2)))
    return pd.DataFrame(rows).merge(adsl[["USUBJID", "STUDYID", "TRT01A", "TRT01AN"]], on="USUBJID")
