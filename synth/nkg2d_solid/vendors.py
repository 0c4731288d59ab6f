"""The two vendor transfers: the central lab (haematology, chemistry, cytokines) and the cellular
kinetics / immunogenicity lab (CAR transgene by qPCR, CAR+ T cells by flow cytometry, anti-CAR
antibodies). Each vendor has its own column names, visit codes and subject id, and sends numeric
results in scientific notation."""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import design as D
from .course import Subject
from .edc import infusion_times
from .rawtext import hhmm, iso, sci


def _alive_on(s: Subject, day: int) -> bool:
    return day <= s.end and (s.death is None or day < s.death)


def _lab_days(s: Subject, events) -> list[tuple[str, int]]:
    out = []
    for ev in events:
        if ev == "screening_arm_1":
            out.append((ev, s.consent + 2))
        elif s.infused:
            day = s.inf + D.EVENT_DAY[ev]
            if _alive_on(s, day):
                out.append((ev, day))
    return out


def _lab_value(code: str, rel: float | None, s: Subject, base: float, rng) -> float:
    """A plausible result: lymphodepletion nadir for blood counts, CRS peak for inflammatory markers."""
    if rel is None or rel < -4:
        return base
    if code in ("WBC", "NEUT", "LYM", "PLT"):
        depth = {"WBC": 0.15, "NEUT": 0.08, "LYM": 0.03, "PLT": 0.45}[code]
        if rel <= 14:
            f = depth + (1 - depth) * max(0.0, (rel - 7) / 7) if rel >= 0 else 1 - (1 - depth) * (rel + 5) / 5
            return base * f * float(rng.uniform(0.8, 1.2))
        return base * float(rng.uniform(0.7, 1.0))
    if code in ("IL6", "CRP", "FERR") and s.crs_grade and 0 <= rel - s.crs_onset <= s.crs_dur + 3:
        peak = {"IL6": 40.0, "CRP": 12.0, "FERR": 5.0}[code] * (1 + s.crs_grade)
        return base * peak * float(np.exp(-0.4 * abs(rel - s.crs_onset - 1)))
    return base * float(rng.uniform(0.85, 1.15))


def lab_transfer(subjects: list[Subject]) -> pd.DataFrame:
    cols = ["Protocol", "PatientID", "Accession", "VisitCode", "CollectionDate", "CollectionTime", "Panel",
            "TestCode", "TestName", "Result", "Unit", "RefLow", "RefHigh", "AbnFlag"]
    rows = []
    for s in subjects:
        rng = np.random.default_rng([s.i, 90])
        base = {c: v[4] * float(np.exp(rng.normal(0, v[5]))) for c, v in {**D.LABS, **D.CYTOKINES}.items()}
        for panel, tests, events in (("HEMCHEM", D.LABS, D.LAB_EVENTS), ("CYTOKINE", D.CYTOKINES, D.CYTOKINE_EVENTS)):
            for k, (ev, day) in enumerate(_lab_days(s, events)):
                rel = None if ev == "screening_arm_1" else day - s.inf
                tim = 6 * 60 + 30 + int(rng.integers(0, 18)) * 5
                acc = f"L{s.rid}{k:02d}{'C' if panel == 'CYTOKINE' else 'H'}"
                for code, (name, unit, lo, hi, _typ, _sd) in tests.items():
                    v = _lab_value(code, rel, s, base[code], rng)
                    if code == "IL6" and v < D.IL6_LLOQ:
                        res = f"<{D.IL6_LLOQ}"
                        flag = ""
                    else:
                        res = sci(v)
                        r = float(res)
                        flag = "L" if r < lo else ("H" if r > hi else "")
                    rows.append({"Protocol": D.STUDYID, "PatientID": f"S{D.SITE}-{s.rid}", "Accession": acc,
                                 "VisitCode": D.VENDOR_VISIT[ev], "CollectionDate": iso(day),
                                 "CollectionTime": hhmm(tim), "Panel": panel, "TestCode": code, "TestName": name,
                                 "Result": res, "Unit": unit, "RefLow": f"{lo:g}", "RefHigh": f"{hi:g}",
                                 "AbnFlag": flag})
    return pd.DataFrame(rows, columns=cols).fillna("").astype(str)


def _kinetics(s: Subject, rng):
    """Transgene copies/ug gDNA as a function of days after the infusion: rise to a peak (day 7-14),
    then decay; falls below the LLOQ (return to baseline) at ``t_ret`` days."""
    cmax = {1: 4e3, 2: 1.5e4, 3: 5e4}[s.dl] * s.expansion
    tmax = float(rng.choice([7.0, 10.0, 14.0], p=[0.45, 0.35, 0.2]))
    t_ret = float(rng.uniform(45, 260))
    k = np.log(cmax / D.QPCR_LLOQ) / (t_ret - tmax)
    c_1h = cmax / 80

    def conc(t: float) -> float:
        if t < 0:
            return 0.0
        if t <= tmax:
            return float(np.exp(np.log(c_1h) + (np.log(cmax) - np.log(c_1h)) * (t / tmax)))
        return float(cmax * np.exp(-k * (t - tmax)))
    return conc


def pk_transfer(subjects: list[Subject]) -> pd.DataFrame:
    cols = ["STUDY_CODE", "SUBJECT", "SAMPLE_ID", "TIMEPOINT", "NOMINAL_TIME_H", "COLLECTION_DTM", "MATRIX",
            "ANALYTE", "ASSAY", "RESULT", "RESULT_UNIT", "LLOQ", "TITER", "SAMPLE_STATUS"]
    rows = []
    for s in subjects:
        if not s.infused:
            continue
        rng = np.random.default_rng([s.i, 91])
        conc = _kinetics(s, rng)
        st, en = infusion_times(s)
        ratio = float(rng.uniform(0.004, 0.012))   # CAR+ T cells/uL per copy/ug
        flow_rng = np.random.default_rng([s.i, 92])  # the flow assay's own variability
        for ev, tpt, nom, qpcr, flow in D.PK_SCHEDULE:
            day = s.inf + D.EVENT_DAY[ev] + (int(rng.integers(-2, 3)) if D.EVENT_DAY[ev] >= 28 else 0)
            if not _alive_on(s, day):
                continue
            minute = {"PRE-LD": 7 * 60 + 30, "PRE-INF": st - 60, "EOI+1H": en + 60}.get(tpt, 8 * 60 + int(rng.integers(0, 12)) * 5)
            t = (day - s.inf) + (minute - en) / 1440.0
            lost = rng.random() < 0.03 and tpt not in ("PRE-LD", "EOI+1H")
            c = conc(t) * float(np.exp(rng.normal(0, 0.2)))
            sid = f"PK{s.rid}{len(rows) % 1000:03d}"
            common = {"STUDY_CODE": D.STUDYID, "SUBJECT": s.rid, "TIMEPOINT": tpt, "NOMINAL_TIME_H": f"{nom:g}",
                      "COLLECTION_DTM": "" if lost else f"{iso(day)}T{hhmm(minute)}", "MATRIX": "WHOLE BLOOD",
                      "TITER": "", "SAMPLE_STATUS": "NOT RECEIVED" if lost else "ANALYSED"}
            if qpcr:
                rows.append({**common, "SAMPLE_ID": sid + "Q", "ANALYTE": "NKG2D CAR transgene", "ASSAY": "qPCR",
                             "RESULT": "" if lost else ("BQL" if c < D.QPCR_LLOQ else sci(c)),
                             "RESULT_UNIT": "copies/ug gDNA", "LLOQ": f"{D.QPCR_LLOQ:g}"})
            if flow:
                cells = c * ratio * float(np.exp(flow_rng.normal(0, 0.35)))
                rows.append({**common, "SAMPLE_ID": sid + "F", "ANALYTE": "CAR+ T cells", "ASSAY": "Flow cytometry",
                             "RESULT": "" if lost else ("BQL" if cells < D.FLOW_LLOQ else sci(cells)),
                             "RESULT_UNIT": "cells/uL", "LLOQ": f"{D.FLOW_LLOQ:g}"})
            if ev in D.ADA_EVENTS and tpt != "PRE-INF":
                pos = ev != "ld_d5_arm_1" and rng.random() < 0.12
                rows.append({**common, "SAMPLE_ID": sid + "A", "MATRIX": "SERUM", "ANALYTE": "Anti-NKG2D CAR antibody",
                             "ASSAY": "ECL bridging immunoassay", "RESULT": "" if lost else ("POSITIVE" if pos else "NEGATIVE"),
                             "RESULT_UNIT": "", "LLOQ": "", "TITER": f"1:{int(rng.choice([20, 40, 80, 160]))}" if pos and not lost else ""})
    return pd.DataFrame(rows, columns=cols).fillna("").astype(str)
