"""Vendor transfers: the central lab (haematology, chemistry, cytokines), the cellular-kinetics and
flow-cytometry lab (CAR transgene by qPCR, CAR+ T cells and CD7+ cells by flow) and the
immunogenicity lab (anti-CAR antibodies). Each has its own column names, visit codes and date
style; numeric results are in scientific notation with three significant figures (``1.52E+05``).
"""
from __future__ import annotations

import numpy as np

from .course import VISITS, Subject

NOMINAL_DAY = {label: rel for label, rel, _w in VISITS}
from .rave import iso_date, iso_datetime, hhmm, sci, vendor_date

PROTOCOL = "CD7HEME101"
VISIT_CODE = {"Screening": "SCR", "Day -5": "D-5", "Day 0": "D0", "Day 1": "D1", "Day 4": "D4", "Day 7": "D7",
              "Day 10": "D10", "Day 14": "D14", "Day 21": "D21", "Day 28 (Month 1)": "D28", "Month 2": "M2",
              "Month 3": "M3", "Month 6": "M6", "Month 9": "M9", "Month 12": "M12", "Month 18": "M18",
              "Month 24": "M24"}
EARLY = ["Day -5", "Day 0", "Day 1", "Day 4", "Day 7", "Day 10", "Day 14", "Day 21", "Day 28 (Month 1)"]
PK_VISITS = ["Day 0", "Day 1", "Day 4", "Day 7", "Day 10", "Day 14", "Day 21", "Day 28 (Month 1)", "Month 2",
             "Month 3", "Month 6", "Month 9", "Month 12", "Month 18", "Month 24"]

# code, name, panel, unit, low, high
LAB_TESTS = [("WBC", "White Blood Cells", "HEMATOLOGY", "10^9/L", 3.5, 9.5),
             ("ANC", "Neutrophils, Absolute", "HEMATOLOGY", "10^9/L", 1.8, 6.3),
             ("ALC", "Lymphocytes, Absolute", "HEMATOLOGY", "10^9/L", 1.1, 3.2),
             ("HGB", "Haemoglobin", "HEMATOLOGY", "g/L", 115, 150),
             ("PLT", "Platelets", "HEMATOLOGY", "10^9/L", 125, 350),
             ("ALT", "ALT", "CHEMISTRY", "U/L", 7, 40), ("AST", "AST", "CHEMISTRY", "U/L", 13, 35),
             ("TBIL", "Bilirubin, Total", "CHEMISTRY", "umol/L", 3.4, 20.5),
             ("CREA", "Creatinine", "CHEMISTRY", "umol/L", 45, 104)]
CYTOKINES = [("CRP", "C-Reactive Protein", "CYTOKINES", "mg/L", 0, 10),
             ("IL6", "Interleukin-6", "CYTOKINES", "pg/mL", 0, 7),
             ("FERR", "Ferritin", "CYTOKINES", "ng/mL", 15, 150)]


def lymphocytes(s: Subject, d: int, base: float) -> float:
    """Absolute lymphocytes (10^9/L) on day d: lymphodepleted, then CAR-T expansion, then recovery."""
    r = d - s.infusion
    if r <= -5:                         # day -5 samples are drawn before the first lymphodepletion dose
        return base
    if r <= 4:
        return 0.08 + 0.02 * (r + 5)
    car = car_copies(s, d) * s.pk["cells_per_copy"] / 1000      # CAR+ cells/uL -> 10^9/L
    return 0.2 + car + min(1.0, max(0.0, (r - 28) / 300))


def car_copies(s: Subject, d: int) -> float:
    """CAR transgene copies/ug gDNA on day d (0 before the infusion and after an allogeneic transplant)."""
    r = d - s.infusion
    if r <= 0 or (s.hsct is not None and d >= s.hsct + 7):
        return 0.0
    p = s.pk
    if r <= p["tmax"]:
        k = np.log(p["cmax"] / p["c1"]) / max(p["tmax"] - 1, 1)
        return float(p["cmax"] * np.exp(-k * (p["tmax"] - r)))
    t = r - p["tmax"]
    return float(p["cmax"] * (0.9 * 0.5 ** (t / p["t_fast"]) + 0.1 * 0.5 ** (t / p["t_slow"])))


def _counts(s: Subject, d: int, label: str, base: dict, rng) -> dict:
    r = d - s.infusion
    status = s.status_on(d)
    if label == "Screening" or r < -5:
        anc, plt = base["anc"], base["plt"]
    elif r <= 0:
        anc, plt = base["anc"] * 0.6, base["plt"] * 0.8
    elif r <= 14:
        anc, plt = rng.uniform(0.02, 0.4), rng.uniform(5, 30)
    elif status == "CR":
        anc, plt = rng.uniform(1.1, 4.0), rng.uniform(105, 260)
    elif status in ("CRi", "MLFS"):
        anc, plt = rng.uniform(0.3, 0.95), rng.uniform(15, 90)
    elif status in ("PR",):
        anc, plt = rng.uniform(1.05, 2.5), rng.uniform(101, 180)
    else:
        anc, plt = rng.uniform(0.1, 0.9), rng.uniform(8, 60)
    lym = lymphocytes(s, d, base["lym"]) * rng.lognormal(0, 0.1)
    return {"ANC": anc, "PLT": plt, "ALC": lym, "WBC": anc + lym + rng.uniform(0.1, 0.6),
            "HGB": rng.uniform(70, 125)}


def lab(s: Subject, seed: int) -> list[dict]:
    rng = np.random.default_rng([seed, 3, s.index])
    base = {"anc": rng.uniform(0.4, 3.0), "plt": rng.uniform(25, 160), "lym": rng.uniform(0.6, 2.2)}
    crs_day = s.infusion + int(rng.integers(2, 7)) if s.treated else None
    crs_size = rng.uniform(0.3, 1.0)
    out, acc = [], 0
    visits = ["Screening"] + ([v for v in VISIT_CODE if v in s.visits and v != "Screening"] if s.treated else [])
    for label in visits:
        d = s.visits.get(label, s.consent) if s.treated else s.consent + 1
        counts = _counts(s, d, label, base, rng) if s.treated else {
            "ANC": base["anc"], "PLT": base["plt"], "ALC": base["lym"], "WBC": base["anc"] + base["lym"] + 0.3,
            "HGB": rng.uniform(80, 125)}
        peak = np.exp(-abs(d - crs_day) / 2.5) * crs_size if crs_day is not None else 0.0
        chem = {"ALT": rng.uniform(10, 38) * (1 + 3 * peak), "AST": rng.uniform(14, 33) * (1 + 3 * peak),
                "TBIL": rng.uniform(5, 18), "CREA": rng.uniform(50, 95) * (1 + 0.3 * peak),
                "CRP": rng.uniform(1, 9) + 220 * peak, "IL6": rng.uniform(1.5, 6.5) + 2500 * peak ** 2,
                "FERR": rng.uniform(300, 1500) * (1 + 12 * peak)}
        acc += 1
        tests = LAB_TESTS + (CYTOKINES if label in EARLY else [])
        time = int(rng.integers(6 * 60 + 30, 8 * 60 + 30))
        for code, name, panel, unit, low, high in tests:
            v = counts.get(code, chem.get(code))
            flag = "L" if v < low else ("H" if v > high else "")
            out.append({"PROTOCOL": PROTOCOL, "SITE_NO": "01", "PATIENT_NO": s.subject, "VISIT_NAME": VISIT_CODE[label],
                        "COLL_DATE": iso_date(d), "COLL_TIME": hhmm(time), "ACCESSION": f"CL{s.index + 1:05d}{acc:03d}",
                        "PANEL": panel, "TEST_CODE": code, "TEST_NAME": name, "RESULT_VALUE": sci(v),
                        "RESULT_UNITS": unit, "REF_LOW": sci(low) if low else "0", "REF_HIGH": sci(high),
                        "ABN_FLAG": flag})
    return out


def flow(s: Subject, seed: int) -> list[dict]:
    """CAR transgene / CAR+ T cells (kinetics) and CD7+ cells (absolute and % of lymphocytes)."""
    if not s.treated:
        return []
    rng = np.random.default_rng([seed, 4, s.index])
    base_lym = rng.uniform(0.6, 2.2)
    base_cd7 = rng.uniform(0.6, 0.9)
    out, n = [], 0
    for label in ["Screening", "Day -5"] + PK_VISITS:
        if label not in s.visits:
            continue
        d = s.visits[label]
        r = d - s.infusion
        pre = label == "Day 0"
        minutes = s.inf_start_min - 30 if pre else int(rng.integers(7 * 60, 9 * 60))
        nominal = "-0.5" if pre else (f"{NOMINAL_DAY[label] * 24:g}" if label in PK_VISITS else "")
        point = "PRE-INFUSION" if pre else ("POST-INFUSION" if nominal else "BASELINE")
        rows = []
        if label in PK_VISITS:
            copies = car_copies(s, d) * (rng.lognormal(0, 0.15) if not pre else 0)
            cells = copies * s.pk["cells_per_copy"]
            rows += [("CD7-CAR transgene", "qPCR", copies, "copies/ug gDNA", 50.0),
                     ("CD7-CAR+ T cells", "Flow cytometry", cells, "cells/uL", 1.0)]
        lym_ul = lymphocytes(s, d, base_lym) * 1000
        if r < 0:
            frac = base_cd7
        elif s.hsct is not None and d >= s.hsct + 21:
            frac = min(0.85, 0.15 + (d - s.hsct) / 200)
        else:
            car_frac = min(0.95, car_copies(s, d) * s.pk["cells_per_copy"] / max(lym_ul, 1))
            recovery = min(0.6, max(0.01, (r - 60) / 400))
            early = base_cd7 * 0.7 * np.exp(-r / 2)      # CD7+ cells cleared over the first week
            frac = max(0.002, (1 - car_frac) * max(recovery, early)) if r > 0 else base_cd7 * 0.7
        frac *= rng.lognormal(0, 0.1)
        rows += [("CD7+ cells", "Flow cytometry", lym_ul * frac, "cells/uL", 1.0),
                 ("CD7+ cells, % of lymphocytes", "Flow cytometry", min(99.0, 100 * frac), "%", None)]
        n += 1
        for analyte, method, value, unit, lloq in rows:
            below = lloq is not None and value < lloq
            out.append({"STUDY_CODE": PROTOCOL, "SUBJECT_ID": s.subject, "SAMPLE_ID": f"FK{s.index + 1:05d}-{n:02d}",
                        "VISIT_LABEL": VISIT_CODE[label], "TIMEPOINT": point, "NOMINAL_HOUR": nominal,
                        "DRAW_DTM": iso_datetime(d, minutes), "MATRIX": "PERIPHERAL BLOOD", "ANALYTE": analyte,
                        "METHOD": method, "RESULT": "BLQ" if below else sci(value), "UNIT": unit,
                        "LLOQ": sci(lloq) if lloq is not None else "", "SAMPLE_STATUS": "ANALYSED",
                        "REASON_NOT_DONE": ""})
    return out


ADA_VISITS = ["Day -5", "Day 14", "Day 28 (Month 1)", "Month 3", "Month 6", "Month 12", "Month 24"]


def ada(s: Subject, seed: int) -> list[dict]:
    if not s.treated:
        return []
    rng = np.random.default_rng([seed, 5, s.index])
    out = []
    for label in ADA_VISITS:
        if label not in s.visits:
            continue
        d = s.visits[label]
        positive = s.ada_prone and d - s.infusion >= 28 and rng.random() < 0.7
        out.append({"Protocol": PROTOCOL, "Subject": s.subject, "Visit": label, "SampleDate": vendor_date(d),
                    "Assay": "Anti-CD7 CAR antibody (ECL bridging assay)",
                    "ScreenResult": "Positive" if positive else "Negative",
                    "ConfirmResult": "Positive" if positive else "",
                    "Titer": str(int(20 * 2 ** rng.integers(0, 6))) if positive else ""})
    return out
