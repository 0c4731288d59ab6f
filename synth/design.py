"""Study design constants of the bundled example study (modelled on NCT07181720).

Everything the generator needs to know about the *protocol* lives here as data, so that the
form builders only hold the *mechanics*: sites and their local-lab unit conventions, dose levels,
routes, tumour types and lesion sites, the visit schedule and the assessment calendars.
"""
from __future__ import annotations

import numpy as np

STUDYID = "CD70-CART-101"
#: First day informed consent can be signed, and the data cut-off of the bundled snapshot.
ACCRUAL_START = np.datetime64("2023-06-05")
DATA_CUTOFF = np.datetime64("2025-09-30")
#: Consent stops this many days before the cut-off so every enrolled subject is past day 0.
ACCRUAL_STOP_BEFORE_CUTOFF = 100
FOLLOW_UP_DAYS = 730          # 2 years after the CAR-T infusion
DLT_WINDOW_DAYS = 28

# Sites: number, country, share of subjects, and the units the local lab reports in.
SITES = [
    # siteno, country,          weight, count unit, Hb,     bili,     creat,    CRP,     ferritin, birth date
    ("101", "United States", 0.34, "10^3/uL", "g/dL", "mg/dL", "mg/dL", "mg/dL", "ng/mL", "full"),
    ("102", "United States", 0.26, "10^3/uL", "g/dL", "mg/dL", "mg/dL", "mg/L", "ng/mL", "full"),
    ("103", "Canada", 0.20, "10^9/L", "g/L", "umol/L", "umol/L", "mg/L", "ug/L", "year"),
    ("104", "Australia", 0.20, "10^9/L", "g/L", "umol/L", "umol/L", "mg/L", "ug/L", "year"),
]
SITE_NO = np.array([s[0] for s in SITES])
SITE_COUNTRY = np.array([s[1] for s in SITES])
SITE_WEIGHT = np.array([s[2] for s in SITES])
SITE_UNITS = {
    "count": np.array([s[3] for s in SITES]),
    "hgb": np.array([s[4] for s in SITES]),
    "bili": np.array([s[5] for s in SITES]),
    "creat": np.array([s[6] for s in SITES]),
    "crp": np.array([s[7] for s in SITES]),
    "ferritin": np.array([s[8] for s in SITES]),
}
SITE_BIRTH_YEAR_ONLY = np.array([s[9] == "year" for s in SITES])

# Dose levels: CAR+ T cells per kg (x10^6) and the EDC label.
DOSE_LEVELS = np.array([1.0, 3.0, 6.0, 10.0])
DOSE_LABELS = np.array([f"DL{i + 1}: {d:.1f} x 10^6 CAR+ T cells/kg" for i, d in enumerate(DOSE_LEVELS)])
ROUTES = np.array(["Intravenous", "Intrapleural", "Intraperitoneal"])
PARTS = np.array(["Part A: Dose Escalation", "Part B: Dose Expansion"])
#: True probability of a DLT by route (rows) and dose level (columns): drives the 3+3 outcome.
DLT_PROB = np.array([
    [0.02, 0.05, 0.15, 0.45],   # intravenous: the top dose is too toxic
    [0.02, 0.04, 0.08, 0.20],
    [0.02, 0.04, 0.10, 0.25],
])
DLT_TYPES = np.array(["crs", "icans", "neutropenia", "alt"])
DLT_TYPE_PROB = np.array([0.40, 0.25, 0.20, 0.15])

# Tumour types: EDC label, detail, share, chance of locoregional route, route index used.
TUMOURS = [
    # label,                           histology detail,                 weight, p_local, local route
    ("Renal cell carcinoma", "Clear cell renal cell carcinoma", 0.35, 0.00, 0),
    ("Lung cancer", "Non-small cell lung cancer, adenocarcinoma", 0.20, 0.60, 1),
    ("Ovarian cancer", "High-grade serous ovarian carcinoma", 0.15, 0.80, 2),
    ("Cervical cancer", "Squamous cell carcinoma of the cervix", 0.10, 0.30, 2),
    ("Anaplastic thyroid carcinoma", "Anaplastic thyroid carcinoma", 0.08, 0.00, 0),
    ("Thymic carcinoma", "Thymic carcinoma, squamous type", 0.12, 0.60, 1),
]
TUMOUR_LABEL = np.array([t[0] for t in TUMOURS])
TUMOUR_DETAIL = np.array([t[1] for t in TUMOURS])
TUMOUR_WEIGHT = np.array([t[2] for t in TUMOURS])
TUMOUR_P_LOCAL = np.array([t[3] for t in TUMOURS])
TUMOUR_LOCAL_ROUTE = np.array([t[4] for t in TUMOURS])
TUMOUR_FEMALE_ONLY = np.array([False, False, True, True, False, False])
TUMOUR_P_MALE = np.array([0.68, 0.55, 0.0, 0.0, 0.45, 0.6])

# Lesion sites: location, detail choices (one picked), laterality kind, nodal, measurable.
LOCATIONS = {
    "Kidney": (("Left kidney, upper pole", "Right kidney, lower pole", "Renal bed"), "lr", False, True),
    "Lung": (("Right upper lobe", "Right lower lobe", "Left upper lobe", "Left lower lobe", "Right middle lobe"), "lr", False, True),
    "Liver": (("Segment VI", "Segment VII", "Segment IVa", "Segment II", "Segment VIII"), "", False, True),
    "Lymph node": (("Mediastinal, subcarinal", "Right hilar", "Retroperitoneal, para-aortic", "Left supraclavicular", "Right external iliac", "Right cervical, level IV"), "", True, True),
    "Adrenal gland": (("Left adrenal", "Right adrenal"), "lr", False, True),
    "Pancreas": (("Pancreatic tail", "Pancreatic head"), "", False, True),
    "Pleura": (("Right pleura, posterior", "Left pleura, lateral"), "lr", False, True),
    "Peritoneum": (("Omental cake", "Right paracolic gutter", "Pelvic peritoneum", "Subdiaphragmatic peritoneal nodule"), "", False, True),
    "Thyroid": (("Right thyroid lobe", "Left thyroid lobe"), "lr", False, True),
    "Mediastinum": (("Anterior mediastinal mass",), "", False, True),
    "Cervix": (("Cervical/pelvic mass",), "", False, True),
    "Bone": (("Lumbar spine L3", "Right iliac bone", "Left femur", "Thoracic spine T8", "Sternum"), "", False, False),
    "Pleural effusion": (("Right pleural effusion", "Left pleural effusion"), "lr", False, False),
    "Ascites": (("Ascites",), "", False, False),
}
LOCATION_NAMES = list(LOCATIONS)
TUMOUR_LOCATIONS = {
    0: ["Kidney", "Lung", "Lymph node", "Liver", "Adrenal gland", "Pancreas", "Bone"],
    1: ["Lung", "Lymph node", "Liver", "Adrenal gland", "Pleura", "Bone", "Pleural effusion"],
    2: ["Peritoneum", "Liver", "Lymph node", "Pleura", "Ascites", "Pleural effusion"],
    3: ["Cervix", "Lymph node", "Lung", "Liver", "Bone"],
    4: ["Thyroid", "Lymph node", "Lung", "Bone"],
    5: ["Mediastinum", "Pleura", "Lung", "Lymph node", "Liver", "Pleural effusion"],
}
#: Location a locoregional route needs disease in (intrapleural -> pleura, intraperitoneal -> peritoneum).
ROUTE_REQUIRED_LOCATION = {1: "Pleura", 2: "Peritoneum"}

# Visit schedule: EDC folder name and nominal day relative to the CAR-T infusion (day 0).
# Screening and Baseline are placed per subject (they are not relative to day 0).
POST_VISITS = [
    ("Day -5", -5), ("Day -4", -4), ("Day -3", -3), ("Day 0", 0), ("Day 1", 1), ("Day 2", 2),
    ("Day 3", 3), ("Day 4", 4), ("Day 5", 5), ("Day 7", 7), ("Day 10", 10), ("Day 14", 14),
    ("Day 21", 21), ("Day 28", 28), ("Month 2", 61), ("Month 3", 91), ("Month 4", 122),
    ("Month 6", 183), ("Month 9", 274), ("Month 12", 365), ("Month 15", 457), ("Month 18", 548),
    ("Month 21", 639), ("Month 24", 730),
]
VISIT_NAMES = ["Screening", "Baseline"] + [v[0] for v in POST_VISITS]
VISIT_NUM = {name: i + 1 for i, name in enumerate(VISIT_NAMES)}
VISIT_NUM["End of Study"] = len(VISIT_NAMES) + 1
NOMINAL_DAY = dict(POST_VISITS)
#: Allowed window (+/- days) around a nominal day; later visits get wider windows.
def visit_window(day: int) -> int:
    """Protocol window half-width for a visit at nominal study day ``day``."""
    if day <= 14 or day == FOLLOW_UP_DAYS:
        return 0
    if day <= 28:
        return 2
    return 7


TUMOUR_VISITS = ["Day 28", "Month 2", "Month 3", "Month 4", "Month 6", "Month 9", "Month 12",
                 "Month 15", "Month 18", "Month 21", "Month 24"]
SAFETY_LAB_VISITS = ["Screening", "Baseline", "Day -5", "Day 0", "Day 1", "Day 3", "Day 7", "Day 10",
                     "Day 14", "Day 21", "Day 28", "Month 2", "Month 3", "Month 6", "Month 9",
                     "Month 12", "Month 18", "Month 24"]
CYTOKINE_VISITS = ["Day -5", "Day 0", "Day 1", "Day 2", "Day 3", "Day 4", "Day 5", "Day 7", "Day 10",
                   "Day 14", "Day 21", "Day 28"]
ECOG_VISITS = ["Screening", "Baseline", "Day 28", "Month 3", "Month 6", "Month 12", "Month 18", "Month 24"]
ADA_VISITS = ["Day -5", "Day 28", "Month 3", "Month 6", "Month 12", "Month 24"]
# PK: visit, timepoint label, nominal hours after the end of infusion (pre-dose samples negative).
PK_TIMEPOINTS = [
    ("Day -5", "Pre-lymphodepletion", -120.0), ("Day 0", "Pre-infusion", -0.5),
    ("Day 0", "1 hour post-infusion", 1.0), ("Day 1", "24 hours post-infusion", 24.0),
    ("Day 4", "Day 4", 96.0), ("Day 7", "Day 7", 168.0), ("Day 10", "Day 10", 240.0),
    ("Day 14", "Day 14", 336.0), ("Day 21", "Day 21", 504.0), ("Day 28", "Day 28", 672.0),
    ("Month 2", "Month 2", 1464.0), ("Month 3", "Month 3", 2184.0), ("Month 6", "Month 6", 4392.0),
    ("Month 9", "Month 9", 6576.0), ("Month 12", "Month 12", 8760.0), ("Month 18", "Month 18", 13152.0),
    ("Month 24", "Month 24", 17520.0),
]
FLOW_VISITS = ["Day 7", "Day 14", "Day 28"]
PK_LLOQ = 50.0              # copies/ug genomic DNA
FLOW_LLOQ = 0.5             # CAR+ T cells/uL
IL6_LOD = 1.5               # pg/mL, reported as "<1.5"

ECOG_TEXT = np.array([
    "0 - Fully active", "1 - Restricted in physically strenuous activity",
    "2 - Ambulatory and capable of all self-care", "3 - Capable of only limited self-care",
    "4 - Completely disabled",
])
GRADE_TEXT = np.array(["", "Grade 1 - Mild", "Grade 2 - Moderate", "Grade 3 - Severe",
                       "Grade 4 - Life-threatening", "Grade 5 - Death"])
ASTCT_TEXT = np.array(["", "Grade 1", "Grade 2", "Grade 3", "Grade 4", "Grade 5"])

# Eligibility criteria (id, category, text) and the share of screen failures failing each.
CRITERIA = [
    ("IN01", "Inclusion", "Age 18 years or older at the time of consent", 0.00),
    ("IN02", "Inclusion", "Histologically confirmed advanced solid tumour of a listed type, relapsed or refractory to standard therapy", 0.04),
    ("IN03", "Inclusion", "CD70 positive tumour (IHC 3+ staining) on archival or fresh tumour tissue", 0.42),
    ("IN04", "Inclusion", "At least one measurable lesion per RECIST 1.1", 0.10),
    ("IN05", "Inclusion", "ECOG performance status 0 or 1", 0.10),
    ("IN06", "Inclusion", "Adequate bone marrow, hepatic and renal function", 0.14),
    ("EX01", "Exclusion", "Active or symptomatic central nervous system metastases", 0.10),
    ("EX02", "Exclusion", "Active uncontrolled infection, including HBV, HCV or HIV", 0.05),
    ("EX03", "Exclusion", "Prior CAR-T cell therapy or CD70-targeted therapy", 0.03),
    ("EX04", "Exclusion", "Clinically significant cardiac disease or LVEF below 45%", 0.02),
]
CRIT_ID = np.array([c[0] for c in CRITERIA])
CRIT_CAT = np.array([c[1] for c in CRITERIA])
CRIT_TEXT = np.array([c[2] for c in CRITERIA])
CRIT_WEIGHT = np.array([c[3] for c in CRITERIA])

# Prior / subsequent anticancer regimens by tumour type.
REGIMENS = {
    0: ["Pembrolizumab + Axitinib", "Nivolumab + Ipilimumab", "Cabozantinib", "Lenvatinib + Everolimus", "Sunitinib", "Belzutifan"],
    1: ["Carboplatin + Pemetrexed + Pembrolizumab", "Docetaxel", "Osimertinib", "Docetaxel + Ramucirumab", "Atezolizumab"],
    2: ["Carboplatin + Paclitaxel", "Olaparib", "Pegylated liposomal doxorubicin", "Carboplatin + Gemcitabine", "Mirvetuximab soravtansine", "Bevacizumab + Paclitaxel"],
    3: ["Cisplatin + Paclitaxel + Bevacizumab", "Pembrolizumab", "Tisotumab vedotin", "Cemiplimab"],
    4: ["Dabrafenib + Trametinib", "Carboplatin + Paclitaxel", "Lenvatinib", "Pembrolizumab"],
    5: ["Carboplatin + Paclitaxel", "Sunitinib", "Lenvatinib", "Cisplatin + Doxorubicin + Cyclophosphamide"],
}
BEST_RESPONSE_TEXT = np.array(["Complete response", "Partial response", "Stable disease", "Progressive disease", "Unknown"])
EOS_REASONS = np.array(["Completed", "Death", "Lost to follow-up", "Withdrawal by subject", "Physician decision", "Other"])
EOS_STATUS = np.array(["Completed", "Discontinued", "Discontinued", "Discontinued", "Discontinued", "Discontinued"])
EOS_COMPLETED, EOS_DEATH, EOS_LTFU, EOS_WITHDRAW, EOS_PHYSICIAN, EOS_OTHER = range(6)
