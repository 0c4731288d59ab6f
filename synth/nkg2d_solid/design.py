"""The protocol of the NKG2D CAR-T (KD-025) study as the generator models it.

A phase I, single-arm, single-centre, open-label dose escalation (3+3 on three per-kg dose levels)
and expansion (at the recommended dose) of autologous NKG2D-based CAR-T cells given once after
fludarabine/cyclophosphamide lymphodepletion in advanced NKG2DL+ solid tumours (modelled on the
public registry record NCT04550663). Days are relative to the infusion (day 0).
"""
from __future__ import annotations

import numpy as np

STUDYID = "KD025-NKG2D-101"
SITE = "01"
ACCRUAL_START = np.datetime64("2023-03-06")
DATA_CUTOFF = np.datetime64("2025-06-30")
LAST_CONSENT_BEFORE_CUTOFF = 150     # no consent in the last 150 days before the cut-off
FOLLOW_UP_DAYS = 730                 # 24 months after the infusion
DLT_WINDOW_DAYS = 90                 # DLT and primary TEAE window: 3 months after the infusion

#: Dose levels (x10^6 CAR+ T cells/kg) and the REDCap dropdown codes.
DOSE_PER_KG = {1: 1.0, 2: 3.0, 3: 10.0}
ESCALATION = [1, 1, 1, 2, 2, 2, 3, 3, 3]    # the treated subjects of the escalation cohorts, in order
EXPANSION_DL = 2                          # recommended dose for expansion

#: Primary tumour (REDCap code -> label, probability, histology).
TUMOURS = {
    1: ("Hepatocellular carcinoma", 0.40, "Hepatocellular carcinoma, BCLC stage C"),
    2: ("Colorectal cancer", 0.18, "Adenocarcinoma of the colon"),
    3: ("Gastric cancer", 0.12, "Gastric adenocarcinoma"),
    4: ("Pancreatic cancer", 0.10, "Pancreatic ductal adenocarcinoma"),
    5: ("Ovarian cancer", 0.10, "High-grade serous ovarian carcinoma"),
    6: ("Non-small cell lung cancer", 0.10, "Lung adenocarcinoma"),
}
#: Lesion sites per tumour code: (site code, description, nodal)
LESION_SITES = {
    1: [(1, "Liver, segment VII", 0), (1, "Liver, segment IV", 0), (2, "Right lower lobe nodule", 0),
        (3, "Portocaval lymph node", 1), (4, "Peritoneal nodule", 0)],
    2: [(1, "Liver, segment VI", 0), (1, "Liver, segment II", 0), (2, "Left upper lobe nodule", 0),
        (3, "Para-aortic lymph node", 1), (4, "Omental deposit", 0)],
    3: [(1, "Liver, segment V", 0), (3, "Left gastric lymph node", 1), (4, "Peritoneal nodule", 0),
        (3, "Coeliac lymph node", 1)],
    4: [(5, "Pancreatic head mass", 0), (1, "Liver, segment VIII", 0), (3, "Peripancreatic lymph node", 1),
        (4, "Peritoneal nodule", 0)],
    5: [(4, "Omental cake", 0), (4, "Pelvic peritoneal deposit", 0), (3, "External iliac lymph node", 1),
        (1, "Liver capsule deposit", 0)],
    6: [(2, "Right upper lobe mass", 0), (2, "Left lower lobe nodule", 0), (3, "Subcarinal lymph node", 1),
        (6, "Left adrenal mass", 0)],
}
#: REDCap dropdown `lesion_site` codes -> label
LESION_SITE_LABEL = {1: "Liver", 2: "Lung", 3: "Lymph node", 4: "Peritoneum", 5: "Pancreas", 6: "Adrenal gland"}

#: Events of the REDCap project: (unique event name, day relative to the infusion or None).
EVENTS = [
    ("screening_arm_1", None), ("baseline_arm_1", None),
    ("ld_d5_arm_1", -5), ("ld_d4_arm_1", -4), ("ld_d3_arm_1", -3), ("infusion_d0_arm_1", 0),
    ("d1_arm_1", 1), ("d4_arm_1", 4), ("d7_arm_1", 7), ("d10_arm_1", 10), ("d14_arm_1", 14),
    ("d21_arm_1", 21), ("m1_arm_1", 28), ("m2_arm_1", 61), ("m3_arm_1", 91), ("m4_arm_1", 122),
    ("m6_arm_1", 183), ("m9_arm_1", 274), ("m12_arm_1", 365), ("m18_arm_1", 548), ("m24_arm_1", 730),
    ("eos_arm_1", None),
]
EVENT_DAY = {e: d for e, d in EVENTS if d is not None}
#: The lab vendor's visit codes for the same events.
VENDOR_VISIT = {"screening_arm_1": "SCR", "ld_d5_arm_1": "D-5", "infusion_d0_arm_1": "D0", "d1_arm_1": "D1",
                "d4_arm_1": "D4", "d7_arm_1": "D7", "d10_arm_1": "D10", "d14_arm_1": "D14", "d21_arm_1": "D21",
                "m1_arm_1": "M1", "m2_arm_1": "M2", "m3_arm_1": "M3", "m6_arm_1": "M6", "m12_arm_1": "M12"}

TUMOUR_EVENTS = ["m1_arm_1", "m2_arm_1", "m3_arm_1", "m4_arm_1", "m6_arm_1", "m9_arm_1", "m12_arm_1",
                 "m18_arm_1", "m24_arm_1"]
LAB_EVENTS = ["screening_arm_1", "ld_d5_arm_1", "infusion_d0_arm_1", "d1_arm_1", "d4_arm_1", "d7_arm_1",
              "d10_arm_1", "d14_arm_1", "d21_arm_1", "m1_arm_1", "m2_arm_1", "m3_arm_1", "m6_arm_1"]
CYTOKINE_EVENTS = ["ld_d5_arm_1", "infusion_d0_arm_1", "d1_arm_1", "d4_arm_1", "d7_arm_1", "d10_arm_1",
                   "d14_arm_1", "m1_arm_1"]
ADA_EVENTS = ["ld_d5_arm_1", "m1_arm_1", "m3_arm_1", "m6_arm_1", "m12_arm_1"]

#: Cellular kinetics schedule: (event, vendor time-point label, nominal hours after the end of infusion,
#: qPCR, flow). Kinetics are followed for 6 months (the endpoint's window); the Month 12 sample is for
#: anti-CAR antibodies only.
PK_SCHEDULE = [
    ("ld_d5_arm_1", "PRE-LD", -120.0, True, True), ("infusion_d0_arm_1", "PRE-INF", -1.0, True, False),
    ("infusion_d0_arm_1", "EOI+1H", 1.0, True, False), ("d1_arm_1", "D1", 24.0, True, False),
    ("d4_arm_1", "D4", 96.0, True, True), ("d7_arm_1", "D7", 168.0, True, True), ("d10_arm_1", "D10", 240.0, True, True),
    ("d14_arm_1", "D14", 336.0, True, True), ("d21_arm_1", "D21", 504.0, True, True), ("m1_arm_1", "D28", 672.0, True, True),
    ("m2_arm_1", "M2", 1464.0, True, True), ("m3_arm_1", "M3", 2184.0, True, True), ("m4_arm_1", "M4", 2928.0, True, True),
    ("m6_arm_1", "M6", 4392.0, True, True), ("m12_arm_1", "M12", 8760.0, False, False),
]
QPCR_LLOQ = 25.0      # transgene copies/ug genomic DNA
FLOW_LLOQ = 0.2       # CAR+ T cells/uL

#: Lab vendor panel: code -> (name, unit as sent, normal low, normal high, typical value, log-sd)
LABS = {
    "WBC": ("Leukocytes", "x10E9/L", 3.5, 9.5, 5.8, 0.25), "NEUT": ("Neutrophils", "x10E9/L", 1.8, 6.3, 3.6, 0.3),
    "LYM": ("Lymphocytes", "x10E9/L", 1.1, 3.2, 1.4, 0.3), "HGB": ("Haemoglobin", "g/L", 115, 150, 122, 0.08),
    "PLT": ("Platelets", "x10E9/L", 125, 350, 190, 0.25), "ALT": ("ALT", "U/L", 7, 40, 28, 0.35),
    "AST": ("AST", "U/L", 13, 35, 30, 0.35), "TBIL": ("Total bilirubin", "umol/L", 0, 21, 12, 0.3),
    "CREA": ("Creatinine", "umol/L", 41, 81, 65, 0.15),
}
CYTOKINES = {
    "IL6": ("Interleukin-6", "pg/mL", 0, 7, 4.0, 0.5), "CRP": ("C-reactive protein", "mg/L", 0, 10, 6.0, 0.6),
    "FERR": ("Ferritin", "ng/mL", 15, 150, 180, 0.5),
}
IL6_LLOQ = 1.5
