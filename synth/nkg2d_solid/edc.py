"""The REDCap project's instrument exports: one CSV per instrument, lower_snake_case fields,
``record_id`` + ``redcap_event_name`` (+ ``redcap_repeat_instrument`` / ``redcap_repeat_instance`` for
repeating instruments), radio/dropdown fields exported as their codes, checkboxes as ``field___k``
1/0 columns and ``<instrument>_complete`` (2 = complete) last.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..meddra import PT, VERBATIM
from . import design as D
from .course import Subject
from .rawtext import box, hhmm, iso

REPEAT = ["record_id", "redcap_event_name", "redcap_repeat_instrument", "redcap_repeat_instance"]


def _frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns).fillna("").astype(str)


def enrolment(subjects: list[Subject]) -> pd.DataFrame:
    cols = ["record_id", "redcap_event_name", "consent_date", "dob", "age_at_consent", "sex", "ethnicity",
            "race___1", "race___2", "race___3", "race___4", "height_cm", "weight_kg", "primary_tumour",
            "histology", "diagnosis_date", "prior_lines", "nkg2dl_ihc_pct", "measurable_disease", "eligible",
            "sf_reason", "enrol_date", "study_part", "dose_cohort", "enrolment_complete"]
    rows = []
    for s in subjects:
        rng = np.random.default_rng([s.i, 77])
        rows.append({
            "record_id": s.rid, "redcap_event_name": "screening_arm_1", "consent_date": iso(s.consent),
            "dob": iso(s.birth, s.birth_prec), "age_at_consent": s.age, "sex": s.sex, "ethnicity": 2,
            "race___1": box(s.race == 1), "race___2": box(s.race == 2), "race___3": box(s.race == 3), "race___4": "0",
            "height_cm": f"{s.height:.0f}", "weight_kg": f"{s.weight:.1f}", "primary_tumour": s.tumour,
            "histology": D.TUMOURS[s.tumour][2], "diagnosis_date": iso(s.diag, 1 if s.i % 3 == 0 else 0),
            "prior_lines": s.prior_lines,
            "nkg2dl_ihc_pct": int(rng.integers(5, 25)) if s.sf_reason == 1 else int(rng.integers(40, 95)),
            "measurable_disease": box(s.measurable), "eligible": box(not s.screen_fail),
            "sf_reason": s.sf_reason or "", "enrol_date": iso(s.enrol),
            "study_part": s.part or "", "dose_cohort": s.dl or "", "enrolment_complete": 2})
    return _frame(rows, cols)


MH_TERMS = {1: ["Chronic hepatitis B", "Liver cirrhosis", "Hypertension", "Type 2 diabetes mellitus"],
            0: ["Hypertension", "Type 2 diabetes mellitus", "Hyperlipidaemia", "Gastro-oesophageal reflux disease",
                "Osteoarthritis", "Anxiety"]}


def medical_history(subjects: list[Subject]) -> pd.DataFrame:
    cols = REPEAT + ["mh_term", "mh_start", "mh_ongoing___1", "mh_end", "medical_history_complete"]
    rows = []
    for s in subjects:
        rng = np.random.default_rng([s.i, 78])
        pool = MH_TERMS[1] if s.tumour == 1 else MH_TERMS[0]
        k = int(rng.integers(0, 4))
        for n, term in enumerate(rng.choice(pool, size=min(k, len(pool)), replace=False), start=1):
            start = s.consent - int(rng.integers(400, 5000))
            ongoing = rng.random() < 0.75
            rows.append({"record_id": s.rid, "redcap_event_name": "screening_arm_1",
                         "redcap_repeat_instrument": "medical_history", "redcap_repeat_instance": n,
                         "mh_term": term, "mh_start": iso(start, int(rng.choice([0, 1, 2], p=[0.2, 0.5, 0.3]))),
                         "mh_ongoing___1": box(ongoing),
                         "mh_end": "" if ongoing else iso(start + int(rng.integers(30, 300)), 1),
                         "medical_history_complete": 2})
    return _frame(rows, cols)


PRIOR_REGIMENS = {1: ["Sorafenib", "Lenvatinib", "Atezolizumab + bevacizumab", "Regorafenib", "TACE (doxorubicin)"],
                  2: ["FOLFOX", "FOLFIRI + bevacizumab", "Capecitabine", "Regorafenib"],
                  3: ["SOX (S-1 + oxaliplatin)", "Paclitaxel + ramucirumab", "Nivolumab"],
                  4: ["FOLFIRINOX", "Gemcitabine + nab-paclitaxel", "S-1"],
                  5: ["Carboplatin + paclitaxel", "Olaparib", "Pegylated liposomal doxorubicin"],
                  6: ["Carboplatin + pemetrexed + pembrolizumab", "Docetaxel", "Anlotinib"]}


def prior_therapy(subjects: list[Subject]) -> pd.DataFrame:
    cols = REPEAT + ["pt_regimen", "pt_start", "pt_end", "pt_best_resp", "prior_cancer_therapy_complete"]
    rows = []
    for s in subjects:
        rng = np.random.default_rng([s.i, 79])
        regs = PRIOR_REGIMENS[s.tumour]
        # the lines share the time from diagnosis to 3 weeks before consent, in order
        span = max(s.consent - 21 - s.diag, 30 * s.prior_lines)
        slot = span // s.prior_lines
        for line in range(1, s.prior_lines + 1):
            start = s.diag + (line - 1) * slot + int(rng.integers(5, max(slot // 4, 6)))
            end = start + int(rng.integers(max(slot // 3, 10), max(slot - slot // 4, 11)))
            prec = 1 if line > 2 else 0
            if prec and iso(end, 1) <= iso(start, 1):
                prec = 0
            rows.append({"record_id": s.rid, "redcap_event_name": "screening_arm_1",
                         "redcap_repeat_instrument": "prior_cancer_therapy", "redcap_repeat_instance": line,
                         "pt_regimen": regs[(line - 1) % len(regs)], "pt_start": iso(start, prec),
                         "pt_end": iso(end, prec),
                         "pt_best_resp": int(rng.choice([2, 3, 4], p=[0.2, 0.45, 0.35])),
                         "prior_cancer_therapy_complete": 2})
    return _frame(rows, cols)


def lymphodepletion(subjects: list[Subject]) -> pd.DataFrame:
    """One row per lymphodepletion day; fludarabine and cyclophosphamide side by side."""
    cols = ["record_id", "redcap_event_name", "ld_date", "bsa_m2", "flu_dose_mgm2", "flu_total_mg", "flu_start",
            "flu_end", "cy_dose_mgm2", "cy_total_mg", "cy_start", "cy_end", "dose_reduced___1", "lymphodepletion_complete"]
    rows = []
    for s in subjects:
        if not s.infused:
            continue
        rng = np.random.default_rng([s.i, 80])
        bsa = round(float(np.sqrt(s.height * s.weight / 3600)), 2)
        reduced = rng.random() < 0.1
        flu = 20.0 if reduced else 25.0
        for ev, d in (("ld_d5_arm_1", -5), ("ld_d4_arm_1", -4), ("ld_d3_arm_1", -3)):
            t0 = 8 * 60 + int(rng.integers(0, 12)) * 5
            rows.append({"record_id": s.rid, "redcap_event_name": ev, "ld_date": iso(s.inf + d), "bsa_m2": f"{bsa:.2f}",
                         "flu_dose_mgm2": f"{flu:.0f}", "flu_total_mg": f"{flu * bsa:.1f}", "flu_start": hhmm(t0),
                         "flu_end": hhmm(t0 + 30), "cy_dose_mgm2": "300", "cy_total_mg": f"{300 * bsa:.0f}",
                         "cy_start": hhmm(t0 + 45), "cy_end": hhmm(t0 + 105), "dose_reduced___1": box(reduced),
                         "lymphodepletion_complete": 2})
    return _frame(rows, cols)


def infusion_times(s: Subject) -> tuple[int, int]:
    rng = np.random.default_rng([s.i, 81])
    start = 10 * 60 + int(rng.integers(0, 30)) * 5
    return start, start + 20 + int(rng.integers(0, 3)) * 5


def car_t_infusion(subjects: list[Subject]) -> pd.DataFrame:
    cols = ["record_id", "redcap_event_name", "inf_date", "inf_start", "inf_end", "planned_dose_kg", "weight_inf_kg",
            "actual_dose_kg", "total_car_cells", "inf_volume_ml", "product_lot", "premed___1", "premed___2",
            "inf_interrupted", "car_t_infusion_complete"]
    rows = []
    for s in subjects:
        if not s.infused:
            continue
        rng = np.random.default_rng([s.i, 82])
        st, en = infusion_times(s)
        planned = D.DOSE_PER_KG[s.dl]
        actual = round(planned * float(rng.uniform(0.92, 1.04)), 2)
        rows.append({"record_id": s.rid, "redcap_event_name": "infusion_d0_arm_1", "inf_date": iso(s.inf),
                     "inf_start": hhmm(st), "inf_end": hhmm(en), "planned_dose_kg": f"{planned:.1f}",
                     "weight_inf_kg": f"{s.weight:.1f}", "actual_dose_kg": f"{actual:.2f}",
                     "total_car_cells": f"{actual * s.weight:.1f}", "inf_volume_ml": "70",
                     "product_lot": f"KD025-{iso(s.inf)[2:4]}-{s.i + 101:04d}",
                     "premed___1": "1", "premed___2": box(rng.random() < 0.7), "inf_interrupted": "0",
                     "car_t_infusion_complete": 2})
    return _frame(rows, cols)


# ---------------------------------------------------------------- adverse events
REL = {"none": 1, "unlikely": 2, "possible": 3, "probable": 4, "definite": 5}
AE_COLS = REPEAT + ["ae_term", "ae_llt", "ae_llt_code", "ae_pt", "ae_pt_code", "ae_hlt", "ae_hlt_code", "ae_hlgt",
                    "ae_hlgt_code", "ae_soc", "ae_soc_code", "meddra_version", "ae_start_date", "ae_start_time",
                    "ae_end_date", "ae_ongoing___1", "ae_grade", "ae_crs_grade", "ae_icans_grade", "ae_dlt",
                    "ae_serious", "ae_sae_crit___1", "ae_sae_crit___2", "ae_sae_crit___3", "ae_sae_crit___4",
                    "ae_sae_crit___5", "ae_sae_crit___6", "ae_rel_cart", "ae_rel_ld", "ae_action", "ae_outcome",
                    "ae_tx___1", "ae_tx___2", "ae_tx___3", "adverse_events_complete"]
#: Clinical AEs: PT, probability per infused subject, onset window, duration range, grade probabilities G1-G4,
#: probability serious, relatedness to CAR-T / to lymphodepletion (1-5)
CLINICAL = [
    ("Fatigue", 0.40, (-5, 120), (3, 40), (0.6, 0.33, 0.07, 0), 0.0, 3, 3),
    ("Nausea", 0.30, (-5, 10), (1, 6), (0.7, 0.27, 0.03, 0), 0.0, 2, 4),
    ("Decreased appetite", 0.25, (-5, 40), (5, 30), (0.6, 0.35, 0.05, 0), 0.0, 2, 3),
    ("Headache", 0.15, (-5, 21), (1, 4), (0.8, 0.2, 0, 0), 0.0, 3, 2),
    ("Sinus tachycardia", 0.20, (0, 10), (1, 4), (0.7, 0.3, 0, 0), 0.0, 4, 1),
    ("Hypotension", 0.10, (0, 14), (1, 3), (0.5, 0.4, 0.1, 0), 0.05, 4, 1),
    ("Hypokalaemia", 0.20, (0, 21), (2, 10), (0.55, 0.3, 0.15, 0), 0.0, 2, 2),
    ("Alanine aminotransferase increased", 0.25, (0, 60), (5, 30), (0.55, 0.3, 0.15, 0), 0.0, 3, 2),
    ("Abdominal pain", 0.12, (0, 200), (2, 20), (0.55, 0.35, 0.1, 0), 0.05, 1, 1),
    ("Ascites", 0.06, (20, 300), (10, 60), (0.4, 0.45, 0.15, 0), 0.2, 1, 1),
    ("Upper respiratory tract infection", 0.10, (30, 365), (5, 14), (0.5, 0.5, 0, 0), 0.0, 2, 1),
    ("Pneumonia", 0.07, (10, 300), (7, 21), (0, 0.3, 0.65, 0.05), 0.8, 2, 2),
    ("Herpes zoster", 0.04, (60, 365), (7, 30), (0.3, 0.6, 0.1, 0), 0.1, 2, 2),
    ("Back pain", 0.10, (-20, 365), (3, 40), (0.6, 0.35, 0.05, 0), 0.0, 1, 1),
]


def _grade(rng, probs) -> int:
    p = np.asarray(probs, float)
    return int(rng.choice([1, 2, 3, 4], p=p / p.sum()))


def _episode(s, rng, pt, start, dur, grade, **kw) -> dict:
    return {"pt": pt, "start": s.inf + start, "end": s.inf + start + dur, "grade": grade, **kw}


def ae_episodes(s: Subject) -> list[dict]:
    """A treated subject's AE episodes (absolute day numbers), before formatting."""
    rng = np.random.default_rng([s.i, 83])
    ep = []
    ep.append(_episode(s, rng, "Lymphocyte count decreased", int(rng.integers(-3, 0)), int(rng.integers(10, 30)), 4,
                       rel=(2, 5)))
    if rng.random() < 0.85:
        g = int(rng.choice([3, 4], p=[0.4, 0.6]))
        prolonged = s.dl == 3 and g == 4 and rng.random() < 0.35
        ep.append(_episode(s, rng, "Neutrophil count decreased", int(rng.integers(-1, 3)),
                           int(rng.integers(32, 45)) if prolonged else int(rng.integers(5, 20)), g,
                           rel=(3, 5), dlt=prolonged))
    if rng.random() < 0.5:
        ep.append(_episode(s, rng, "Anaemia", int(rng.integers(-2, 5)), int(rng.integers(7, 40)),
                           int(rng.choice([2, 3], p=[0.6, 0.4])), rel=(2, 4)))
    if rng.random() < 0.45:
        ep.append(_episode(s, rng, "Platelet count decreased", int(rng.integers(0, 7)), int(rng.integers(5, 30)),
                           _grade(rng, (0.35, 0.3, 0.25, 0.1)), rel=(3, 4)))
    if s.crs_grade:
        ep.append(_episode(s, rng, "Cytokine release syndrome", s.crs_onset, s.crs_dur, s.crs_grade, crs=s.crs_grade,
                           rel=(5, 1), dlt=s.crs_grade >= 3, toci=s.crs_grade >= 2, ster=s.crs_grade >= 3,
                           ser=s.crs_grade >= 2, time=True))
    if s.icans_grade:
        ep.append(_episode(s, rng, "Immune effector cell-associated neurotoxicity syndrome", s.icans_onset,
                           s.icans_dur, s.icans_grade, icans=s.icans_grade, rel=(5, 1), dlt=s.icans_grade >= 3,
                           ster=s.icans_grade >= 2, ser=True, time=True))
    for pt, p, (o1, o2), (d1, d2), gp, pser, rc, rl in CLINICAL:
        if rng.random() < p:
            ep.append(_episode(s, rng, pt, int(rng.integers(o1, o2 + 1)), int(rng.integers(d1, d2 + 1)),
                               _grade(rng, gp), rel=(rc, rl), ser=rng.random() < pser))
    if s.fatal_ae and s.death is not None:
        ep.append({"pt": "Sepsis", "start": s.death - int(rng.integers(4, 12)), "end": s.death, "grade": 5,
                   "rel": (3, 2), "ser": True, "fatal": True})
    for e in ep:
        if e["pt"] != "Sepsis" and s.death is not None and e["end"] >= s.death:
            e["end"] = s.death - 1
    return [e for e in ep if e["start"] <= s.end and e["start"] > s.consent]


def adverse_events(subjects: list[Subject]) -> pd.DataFrame:
    rows = []
    for s in subjects:
        if not s.infused:
            continue
        rng = np.random.default_rng([s.i, 84])
        eps = sorted(ae_episodes(s), key=lambda e: (e["start"], e["pt"]))
        for n, e in enumerate(eps, start=1):
            pt = e["pt"]
            code, hlt, hltc, hlgt, hlgtc, soc, socc = PT[pt]
            verbatim, llt, lltc = VERBATIM[pt][int(rng.integers(0, len(VERBATIM[pt])))] if pt in VERBATIM else (pt, pt, code)
            ongoing = e["end"] > s.end
            grade = e["grade"]
            serious = bool(e.get("ser")) or grade >= 4 and pt not in ("Lymphocyte count decreased", "Neutrophil count decreased", "Platelet count decreased")
            fatal = bool(e.get("fatal"))
            before_inf = e["start"] < s.inf
            outcome = 5 if fatal else (3 if ongoing else (1 if rng.random() < 0.9 else 4))
            rows.append({
                "record_id": s.rid, "redcap_event_name": "d1_arm_1" if not before_inf else "ld_d5_arm_1",
                "redcap_repeat_instrument": "adverse_events", "redcap_repeat_instance": n,
                "ae_term": verbatim, "ae_llt": llt, "ae_llt_code": lltc, "ae_pt": pt, "ae_pt_code": code,
                "ae_hlt": hlt, "ae_hlt_code": hltc, "ae_hlgt": hlgt, "ae_hlgt_code": hlgtc, "ae_soc": soc,
                "ae_soc_code": socc, "meddra_version": "27.1", "ae_start_date": iso(e["start"]),
                "ae_start_time": hhmm(int(rng.integers(0, 288)) * 5) if e.get("time") else "",
                "ae_end_date": "" if ongoing else iso(e["end"]), "ae_ongoing___1": box(ongoing),
                "ae_grade": grade, "ae_crs_grade": e.get("crs", ""), "ae_icans_grade": e.get("icans", ""),
                "ae_dlt": box(e.get("dlt") and e["start"] - s.inf <= D.DLT_WINDOW_DAYS),
                "ae_serious": box(serious), "ae_sae_crit___1": box(fatal), "ae_sae_crit___2": box(serious and grade == 4),
                "ae_sae_crit___3": box(serious and not fatal and grade < 4), "ae_sae_crit___4": "0", "ae_sae_crit___5": "0",
                "ae_sae_crit___6": "0", "ae_rel_cart": e["rel"][0], "ae_rel_ld": e["rel"][1],
                "ae_action": 1 if before_inf else 9, "ae_outcome": outcome,
                "ae_tx___1": box(e.get("toci")), "ae_tx___2": box(e.get("ster")), "ae_tx___3": "0",
                "adverse_events_complete": 2})
    return _frame(rows, AE_COLS)


# ---------------------------------------------------------------- tumour assessments (RECIST 1.1)
TRG_CODE = {"CR": 1, "PR": 2, "SD": 3, "PD": 4, "NE": 5, "NA": 6}
NTG_CODE = {"CR": 1, "NONCR": 2, "PD": 3, "NE": 4, "NA": 5}
OVR_CODE = {"CR": 1, "PR": 2, "SD": 3, "PD": 4, "NE": 5, "NONCR": 6}


def tumour_lesions(subjects: list[Subject]) -> pd.DataFrame:
    cols = REPEAT + ["lesion_id", "lesion_class", "lesion_site", "lesion_desc", "lesion_nodal", "img_method",
                     "img_date", "tumour_lesions_complete"]
    rows = []
    for s in subjects:
        for n, l in enumerate(s.lesions, start=1):
            rows.append({"record_id": s.rid, "redcap_event_name": l["event"], "redcap_repeat_instrument": "tumour_lesions",
                         "redcap_repeat_instance": n, "lesion_id": l["id"], "lesion_class": l["cls"],
                         "lesion_site": l["site"], "lesion_desc": l["desc"], "lesion_nodal": box(l["nodal"]),
                         "img_method": l["method"], "img_date": iso(l["day"]), "tumour_lesions_complete": 2})
    return _frame(rows, cols)


def tumour_measurements(subjects: list[Subject]) -> pd.DataFrame:
    """Per lesion per assessment: diameter (mm) of target lesions, status of non-target / new lesions."""
    cols = REPEAT + ["lesion_id", "meas_date", "diam_mm", "diam_type", "nt_status", "tumour_measurements_complete"]
    rows = []
    for s in subjects:
        n = 0
        method = {l["id"]: l for l in s.lesions}

        def add(event, lid, day, diam="", dtype="", status=""):
            nonlocal n
            n += 1
            rows.append({"record_id": s.rid, "redcap_event_name": event,
                         "redcap_repeat_instrument": "tumour_measurements", "redcap_repeat_instance": n,
                         "lesion_id": lid, "meas_date": iso(day), "diam_mm": diam, "diam_type": dtype,
                         "nt_status": status, "tumour_measurements_complete": 2})
        for l in s.lesions:
            if l["event"] != "baseline_arm_1":
                continue
            if l["cls"] == 1:
                add("baseline_arm_1", l["id"], l["day"], l["size"], 2 if l["nodal"] else 1)
            else:
                add("baseline_arm_1", l["id"], l["day"], status=1)
        for a in s.assessments:
            for lid, v in a["meas"]:
                add(a["event"], lid, a["day"], v, 2 if method[lid]["nodal"] else 1)
            for l in s.lesions:
                if l["cls"] == 2:
                    add(a["event"], l["id"], a["day"], status={"CR": 2, "PD": 3}.get(a["ntg"], 1))
            if a["new"]:
                add(a["event"], "N1", a["day"], status=1)
    return _frame(rows, cols)


def recist_response(subjects: list[Subject]) -> pd.DataFrame:
    cols = ["record_id", "redcap_event_name", "resp_date", "sum_diam_mm", "target_resp", "nontarget_resp",
            "new_lesions", "overall_resp", "recist_response_complete"]
    rows = []
    for s in subjects:
        for a in s.assessments:
            rows.append({"record_id": s.rid, "redcap_event_name": a["event"], "resp_date": iso(a["day"]),
                         "sum_diam_mm": "" if a["sld"] is None else a["sld"], "target_resp": TRG_CODE[a["trg"]],
                         "nontarget_resp": NTG_CODE[a["ntg"]], "new_lesions": box(a["new"]),
                         "overall_resp": OVR_CODE[a["ovr"]], "recist_response_complete": 2})
    return _frame(rows, cols)


# ---------------------------------------------------------------- concomitant and subsequent therapy
def concomitant_meds(subjects: list[Subject]) -> pd.DataFrame:
    cols = REPEAT + ["cm_type", "cm_name", "cm_indication", "cm_dose", "cm_unit", "cm_route", "cm_start", "cm_end",
                     "cm_ongoing___1", "concomitant_medications_complete"]
    rows = []
    for s in subjects:
        if not s.infused:
            continue
        rng = np.random.default_rng([s.i, 85])
        items = []
        if s.tumour == 1:
            items.append((1, "Entecavir", "Chronic hepatitis B prophylaxis", "0.5", "mg", 1, s.consent - int(rng.integers(200, 2000)), None))
        items.append((1, "Paracetamol", "Premedication", "650", "mg", 1, s.inf, s.inf))
        items.append((1, "Filgrastim", "Neutropenia", "300", "ug", 3, s.inf + 3, s.inf + 3 + int(rng.integers(3, 8))))
        for e in ae_episodes(s):
            if e.get("toci"):
                items.append((1, "Tocilizumab", "Cytokine release syndrome", f"{8 * s.weight:.0f}", "mg", 2,
                              e["start"] + 1, e["start"] + 1))
            if e.get("ster"):
                items.append((1, "Dexamethasone", e["pt"], "10", "mg", 2, e["start"] + 1, e["start"] + 4))
        if s.pd_day is not None and rng.random() < 0.5:
            st = s.pd_day + int(rng.integers(14, 40))
            if st < s.end:
                items.append((2, {1: "Regorafenib", 2: "Trifluridine/tipiracil", 3: "Irinotecan", 4: "Gemcitabine",
                                  5: "Topotecan", 6: "Docetaxel"}[s.tumour], "Progressive disease", "", "", 1, st, None))
        items = [it for it in items if it[6] <= s.end]
        for n, (typ, name, ind, dose, unit, route, st, en) in enumerate(items, start=1):
            ongoing = en is None or en > s.end
            rows.append({"record_id": s.rid, "redcap_event_name": "screening_arm_1" if typ == 1 and st < s.inf else "d1_arm_1",
                         "redcap_repeat_instrument": "concomitant_medications", "redcap_repeat_instance": n,
                         "cm_type": typ, "cm_name": name, "cm_indication": ind, "cm_dose": dose, "cm_unit": unit,
                         "cm_route": route, "cm_start": iso(st, 1 if st < s.consent else 0),
                         "cm_end": "" if ongoing else iso(en), "cm_ongoing___1": box(ongoing),
                         "concomitant_medications_complete": 2})
    return _frame(rows, cols)


def subject_status(subjects: list[Subject]) -> pd.DataFrame:
    """End of study (or status at the data cut-off for subjects still followed) and death."""
    cols = ["record_id", "redcap_event_name", "eos_yn", "eos_date", "eos_reason", "last_contact_date", "death_yn",
            "death_date", "death_cause", "death_cause_oth", "subject_status_complete"]
    rows = []
    for s in subjects:
        ended = s.eos is not None
        rows.append({"record_id": s.rid, "redcap_event_name": "eos_arm_1", "eos_yn": box(ended),
                     "eos_date": iso(s.eos) if ended else "", "eos_reason": s.eos_reason if ended else "",
                     "last_contact_date": iso(s.last_contact), "death_yn": box(s.death is not None),
                     "death_date": iso(s.death), "death_cause": s.death_cause or "",
                     "death_cause_oth": "Cardiac arrest" if s.death_cause == 3 else "",
                     "subject_status_complete": 2})
    return _frame(rows, cols)
