"""The site's EDC forms, in a Medidata-Rave-like layout.

Every form starts with the Rave context columns (PROJECT, SUBJECT, SITENUMBER, SITE, FOLDERNAME,
INSTANCENAME, DATAPAGENAME, RECORDPOSITION); dates are ``*_RAW`` text fields in DD/MM/YYYY with UN/UNK
parts; checkboxes are 1/0. Coded AE columns follow Rave's coder layout (AETERM_PT, AETERM_PT_CODE ...).
"""
from __future__ import annotations

import numpy as np

from ..meddra import MEDDRA_VERSION, PT, VERBATIM
from .course import Subject
from .events import REL_TEXT, AE, Med
from .rave import box, hhmm, rave_date

PROJECT = "CD7HEME101"
SITENUMBER = "01"
SITE = "Haematology Department, Site 01"
LOG = "Log Forms"

DISEASE_TEXT = {"T-ALL": "T-cell acute lymphoblastic leukaemia", "T-LBL": "T-cell lymphoblastic lymphoma",
                "AML": "Acute myeloid leukaemia (CD7 positive)"}
RESPONSE_TEXT = {"CR": "Complete remission (CR)", "CRi": "CR with incomplete haematologic recovery (CRi)",
                 "MLFS": "Morphologic leukaemia-free state (MLFS)", "PR": "Partial remission (PR)",
                 "NR": "No response (NR)", "Relapse": "Relapse", "PD": "Progressive disease"}
OUTCOME_TEXT = {"resolved": "Resolved", "ongoing": "Not resolved", "fatal": "Fatal"}


def header(s: Subject, folder: str, page: str, position: int = 1, instance: str | None = None) -> dict:
    return {"PROJECT": PROJECT, "SUBJECT": s.subject, "SITENUMBER": SITENUMBER, "SITE": SITE,
            "FOLDERNAME": folder, "INSTANCENAME": instance or folder, "DATAPAGENAME": page,
            "RECORDPOSITION": str(position)}


def dm(s: Subject, rng) -> list[dict]:
    return [{**header(s, "Screening", "Demographics"),
             "BRTHDAT_RAW": rave_date(s.birth, s.birth_precision), "AGE": str(s.age), "AGEUNIT": "Years",
             "SEX": s.sex, "ETHNIC": "Not Hispanic or Latino",
             "RACE_ASIAN": box(s.race == "Asian"), "RACE_WHITE": box(s.race == "White"),
             "RACE_OTHER": box(s.race == "Other"), "RACE_OTHSP": "Uyghur" if s.race == "Other" else "",
             "HEIGHT_CM": f"{s.height:.0f}", "WEIGHT_KG": f"{s.weight:.1f}"}]


def enr(s: Subject, rng) -> list[dict]:
    level = "" if s.screen_fail else {0.5: "Dose level 1: 0.5 x 10^6 CAR+ cells/kg",
                                      1.0: "Dose level 2: 1.0 x 10^6 CAR+ cells/kg",
                                      2.0: "Dose level 3: 2.0 x 10^6 CAR+ cells/kg"}[s.level]
    return [{**header(s, "Screening", "Informed Consent and Enrolment"),
             "ICDAT_RAW": rave_date(s.consent), "ICFVER": "ICF v2.0", "ENRYN": box(not s.screen_fail),
             "ENRDAT_RAW": rave_date(s.enrol), "SFDAT_RAW": rave_date(s.sf_date), "SFREAS": s.sf_reason,
             "COHORT": level}]


def dx(s: Subject, rng) -> list[dict]:
    return [{**header(s, "Screening", "Disease History"),
             "DXTYPE": DISEASE_TEXT[s.disease], "DXDAT_RAW": rave_date(s.diagnosis, int(rng.random() < 0.2)),
             "DXSTAT": s.status, "CD7PCT": f"{s.cd7pct:.1f}", "PRIORLN": str(s.prior_lines),
             "PRIORHSCT": box(s.prior_hsct), "EMD": box(s.disease == "T-LBL" or rng.random() < 0.15),
             "CNSINV": box(rng.random() < 0.1)}]


MH_TERMS = ["Hypertension", "Hepatitis B virus carrier", "Gastritis", "Type 2 diabetes mellitus",
            "Herpes zoster", "Depression", "Iron overload", "Hypothyroidism", "Fungal pneumonia"]


def mh(s: Subject, rng) -> list[dict]:
    out = []
    for k, term in enumerate(rng.choice(MH_TERMS, size=int(rng.integers(0, 4)), replace=False).tolist(), 1):
        start = s.consent - int(rng.integers(60, 3000))
        ongoing = bool(rng.random() < 0.6)
        end = None if ongoing else min(s.consent - 5, start + int(rng.integers(20, 400)))
        out.append({**header(s, LOG, "Medical History", k, "Log Forms"), "MHTERM": str(term),
                    "MHSTDAT_RAW": rave_date(start, int(rng.choice([0, 1, 2], p=[0.3, 0.5, 0.2]))),
                    "MHENDAT_RAW": rave_date(end, int(rng.choice([0, 1], p=[0.5, 0.5]))) if end else "",
                    "MHONGO": box(ongoing)})
    return out


PRIOR_REGIMENS = {"T-ALL": ["BFM-based induction", "Hyper-CVAD", "Nelarabine",
                            "CAM (cyclophosphamide, cytarabine, 6-MP)", "Chidamide + venetoclax"],
                  "T-LBL": ["Hyper-CVAD", "BFM-based induction", "CHOP", "Nelarabine",
                            "GDP (gemcitabine, dexamethasone, cisplatin)"],
                  "AML": ["Daunorubicin + cytarabine (7+3)", "High-dose cytarabine", "Venetoclax + azacitidine",
                          "FLAG-IDA", "CLAG"]}


def priortx(s: Subject, rng) -> list[dict]:
    out, t = [], s.diagnosis + int(rng.integers(3, 15))
    regimens = PRIOR_REGIMENS[s.disease]
    for line in range(1, s.prior_lines + 1):
        end = min(t + int(rng.integers(30, 150)), s.consent - 10)
        if end <= t:
            break
        out.append({**header(s, LOG, "Prior Anticancer Therapy", line, "Log Forms"), "PTLINE": str(line),
                    "PTREG": regimens[(line - 1) % len(regimens)],
                    "PTSTDAT_RAW": rave_date(t, int(rng.random() < 0.3)),
                    "PTENDAT_RAW": rave_date(end, int(rng.random() < 0.3)),
                    "PTBESTRS": str(rng.choice(["CR", "PR", "NR", "Refractory"]))})
        t = end + int(rng.integers(20, 200))
    return out


def ld(s: Subject, rng) -> list[dict]:
    out = []
    bsa = round(np.sqrt(s.height * s.weight / 3600), 2)
    for k, label in enumerate(["Day -5", "Day -4", "Day -3"]):
        d = s.ld_start + k
        t = int(rng.integers(8 * 60, 9 * 60))
        for pos, (agent, dose, mins) in enumerate([("Fludarabine", 30, 30), ("Cyclophosphamide", 300, 60)], 1):
            reduced = agent == "Fludarabine" and s.age >= 60
            given = dose * (0.8 if reduced else 1.0)
            out.append({**header(s, label, "Lymphodepleting Chemotherapy", pos),
                        "LDAGENT": agent, "LDPLDOSE": str(dose), "LDDOSE": f"{given:g}", "LDDOSEU": "mg/m^2",
                        "LDBSA": f"{bsa:.2f}", "LDTOTAL": f"{given * bsa:.0f}", "LDROUTE": "IV",
                        "LDDAT_RAW": rave_date(d), "LDSTTIM": hhmm(t), "LDENTIM": hhmm(t + mins),
                        "LDADJ": box(reduced), "LDADJRS": "Age 60 years or older" if reduced else ""})
            t += mins + 15
    return out


def cart(s: Subject, rng) -> list[dict]:
    actual = round(s.level * float(rng.uniform(0.93, 1.05)), 2)
    return [{**header(s, "Day 0", "CD7 CAR-T Infusion"),
             "INFDAT_RAW": rave_date(s.infusion), "INFSTTIM": hhmm(s.inf_start_min), "INFENTIM": hhmm(s.inf_end_min),
             "PLANDOSE": f"{s.level:.1f}", "ACTDOSE": f"{actual:.2f}", "DOSEU": "x10^6 CAR+ cells/kg",
             "WTINF": f"{s.weight:.1f}", "TOTCELLS": f"{actual * s.weight:.1f}", "TOTCELLU": "x10^6 CAR+ cells",
             "INFVOL": str(int(rng.integers(20, 60))), "LOTNO": f"CD7C-{s.index + 1:05d}", "INFCOMP": "1",
             "PREMED": "1"}]


def ae(s: Subject, aes: list[AE], rng) -> list[dict]:
    out = []
    for k, e in enumerate(aes, 1):
        verbatim, llt, lltcd = VERBATIM[e.pt][int(rng.integers(0, len(VERBATIM[e.pt])))]
        ptcd, hlt, hltcd, hlgt, hlgtcd, soc, soccd = PT[e.pt]
        outcome = "Fatal" if e.fatal else ("Not resolved" if e.end is None else
                                           str(rng.choice(["Resolved", "Resolved with sequelae"], p=[0.93, 0.07])))
        ser = e.serious
        astct = "" if e.astct is None else f"ASTCT Grade {e.astct}"
        out.append({**header(s, LOG, "Adverse Events", k, "Log Forms"),
                    "AETERM": verbatim, "AESTDAT_RAW": rave_date(e.start), "AESTTIM": hhmm(e.start_min),
                    "AEENDAT_RAW": rave_date(e.end, e.end_precision) if e.end is not None else "",
                    "AEONGO": box(e.end is None),
                    "AETERM_LLT": llt, "AETERM_LLT_CODE": str(lltcd), "AETERM_PT": e.pt, "AETERM_PT_CODE": str(ptcd),
                    "AETERM_HLT": hlt, "AETERM_HLT_CODE": str(hltcd), "AETERM_HLGT": hlgt,
                    "AETERM_HLGT_CODE": str(hlgtcd), "AETERM_SOC": soc, "AETERM_SOC_CODE": str(soccd),
                    "AETERM_DICT": f"MedDRA {MEDDRA_VERSION}",
                    "AETOXGR": str(e.grade), "AECRSGR": astct if e.pt.startswith("Cytokine") else "",
                    "AEICANSGR": astct if e.pt.startswith("Immune effector") else "",
                    "AESER": box(ser), "AESDTH": box(ser and e.fatal), "AESLIFE": box(ser and e.grade == 4),
                    "AESHOSP": box(ser and not e.fatal and e.grade < 4), "AESDISAB": "0", "AESCONG": "0",
                    "AESMIE": box(ser and e.grade == 4 and rng.random() < 0.3),
                    "AEREL": REL_TEXT[e.rel],
                    "AERELLD": REL_TEXT[min(e.rel, 2)] if e.start <= s.infusion + 14 else "Not related",
                    "AEACN": "Not applicable", "AEDLT": box(e.dlt), "AETOCI": box(e.tocilizumab),
                    "AESTER": box(e.steroid), "AEOUT": outcome})
    return out


def cm(s: Subject, meds: list[Med], rng) -> list[dict]:
    return [{**header(s, LOG, "Concomitant Medications", k, "Log Forms"), "CMTRT": m.name, "CMINDC": m.indication,
             "CMDOSE": f"{m.dose:g}", "CMDOSU": m.unit, "CMROUTE": m.route, "CMFREQ": m.freq,
             "CMSTDAT_RAW": rave_date(m.start), "CMENDAT_RAW": rave_date(m.end), "CMONGO": box(m.end is None)}
            for k, m in enumerate(meds, 1)]


def subtx(s: Subject, rng) -> list[dict]:
    return [{**header(s, LOG, "Subsequent Anticancer Therapy", k, "Log Forms"), "STREG": name,
             "STSTDAT_RAW": rave_date(a), "STENDAT_RAW": rave_date(b), "STONGO": box(b is None)}
            for k, (name, a, b) in enumerate(s.subtx, 1)]


def hsct(s: Subject, rng) -> list[dict]:
    if s.hsct is None:
        return []
    return [{**header(s, "Transplant", "Haematopoietic Stem Cell Transplant"),
             "HSCTDAT_RAW": rave_date(s.hsct), "HSCTTYPE": "Allogeneic", "DONOR": s.donor,
             "SOURCE": "Peripheral blood stem cells", "CONDREG": s.conditioning, "BRIDGE": "1"}]


def marrow(s: Subject, status: str, rng, baseline: bool = False) -> tuple[float, float | None]:
    """Morphologic blasts (%) and flow MRD (% of nucleated cells; None = undetectable) for a status."""
    if baseline:
        return float(np.round(rng.uniform(18, 85), 1)), float(np.round(rng.uniform(10, 80), 2))
    if status in ("CR", "CRi", "MLFS"):
        blasts = float(np.round(rng.uniform(0.2, 4.5), 1))
        mrd_neg = rng.random() < (0.75 if status == "CR" else 0.5)
        return blasts, None if mrd_neg else float(np.round(10 ** rng.uniform(-1.9, 0.3), 3))
    if status == "PR":
        return float(np.round(rng.uniform(5.5, 20), 1)), float(np.round(rng.uniform(3, 15), 2))
    return float(np.round(rng.uniform(22, 90), 1)), float(np.round(rng.uniform(15, 80), 2))


def bma_and_resp(s: Subject, rng) -> tuple[list[dict], list[dict]]:
    bm, rs = [], []
    blasts, mrd = marrow(s, "", rng, baseline=True)
    screen_day = s.visits.get("Screening", s.consent)
    bm.append(_bm_row(s, "Screening", screen_day, blasts, mrd))
    for label, d, status in s.responses:
        blasts, mrd = marrow(s, status, rng)
        bm.append(_bm_row(s, label, d, blasts, mrd))
        emd = "Not applicable" if status in ("NR", "PD", "Relapse") and rng.random() < 0.5 else "Absent"
        rs.append({**header(s, label, "Disease Response Assessment"), "RSDAT_RAW": rave_date(d),
                   "RSCRIT": "Protocol haematological response criteria", "BMBLLT5": box(blasts < 5),
                   "EMDSTAT": emd, "OVRLRESP": RESPONSE_TEXT[status], "RSEVAL": "Investigator"})
    return bm, rs


def _bm_row(s, label, d, blasts, mrd):
    return {**header(s, label, "Bone Marrow Aspirate"), "BMDAT_RAW": rave_date(d), "BMBLAST": f"{blasts:.1f}",
            "MRDPERF": "1", "MRDRES": "<0.01" if mrd is None else f"{mrd:g}", "MRDUNIT": "%", "MRDLOD": "0.01"}


def eos(s: Subject, rng) -> list[dict]:
    if s.screen_fail:
        when, status = s.sf_date, "Screen failure"
    elif s.death is not None:
        when, status = s.death, "Death"
    elif s.withdraw is not None:
        when, status = s.withdraw, s.withdraw_reason
    elif s.completed:
        when, status = s.followup_end, "Completed study"
    else:
        return []
    return [{**header(s, "End of Study", "End of Study"), "EOSDAT_RAW": rave_date(when), "EOSSTAT": status}]


def dd(s: Subject, rng) -> list[dict]:
    if s.death is None:
        return []
    return [{**header(s, "End of Study", "Death Details"), "DTHDAT_RAW": rave_date(s.death),
             "DTHCAUS": s.death_cause, "AUTOPSY": box(rng.random() < 0.1)}]


def surv(s: Subject, rng) -> list[dict]:
    return [{**header(s, "Survival Follow-up", "Survival Status", 1, f"Survival Follow-up ({k})"),
             "SURVDAT_RAW": rave_date(d), "SURVSTAT": "Alive",
             "CONTMODE": str(rng.choice(["Telephone", "Clinic visit"]))}
            for k, d in enumerate(s.survival_contacts, 1)]
