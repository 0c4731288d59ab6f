"""MedDRA-coded adverse event dictionary used by the generator (as the coding team delivers it).

Names are real MedDRA (v27.1) terms with their primary SOC path; codes are given as the coding
team would deliver them. They are illustrative for synthetic data: never use this table to code
real events (MedDRA is licensed; use the licensed dictionary).
"""
from __future__ import annotations

MEDDRA_VERSION = "27.1"

# key: (PT, PT code, HLT, HLT code, HLGT, HLGT code, SOC, SOC code)
_GEN = ("General disorders and administration site conditions", 10018065)
_GI = ("Gastrointestinal disorders", 10017947)
_MET = ("Metabolism and nutrition disorders", 10027433)
_NERV = ("Nervous system disorders", 10029205)
_RESP = ("Respiratory, thoracic and mediastinal disorders", 10038738)
_CARD = ("Cardiac disorders", 10007541)
_VASC = ("Vascular disorders", 10047065)
_MUSC = ("Musculoskeletal and connective tissue disorders", 10028395)
_PSY = ("Psychiatric disorders", 10037175)
_SKIN = ("Skin and subcutaneous tissue disorders", 10040785)
_INF = ("Infections and infestations", 10021881)
_BLOOD = ("Blood and lymphatic system disorders", 10005329)
_INV = ("Investigations", 10022891)
_IMM = ("Immune system disorders", 10021428)
_INJ = ("Injury, poisoning and procedural complications", 10022117)

PT = {
    "Pyrexia": (10037660, "Febrile disorders", 10016286, "Body temperature conditions", 10005908, *_GEN),
    "Fatigue": (10016256, "Asthenic conditions", 10003550, "General system disorders NEC", 10018073, *_GEN),
    "Chills": (10008531, "Feelings and sensations NEC", 10016334, "General system disorders NEC", 10018073, *_GEN),
    "Oedema peripheral": (10030124, "Oedema NEC", 10030113, "General system disorders NEC", 10018073, *_GEN),
    "Nausea": (10028813, "Nausea and vomiting symptoms", 10028817, "Gastrointestinal signs and symptoms", 10018012, *_GI),
    "Vomiting": (10047700, "Nausea and vomiting symptoms", 10028817, "Gastrointestinal signs and symptoms", 10018012, *_GI),
    "Diarrhoea": (10012735, "Diarrhoea (excl infective)", 10012736, "Gastrointestinal motility and defaecation conditions", 10017977, *_GI),
    "Constipation": (10010774, "Gastrointestinal atonic and hypomotility disorders NEC", 10017933, "Gastrointestinal motility and defaecation conditions", 10017977, *_GI),
    "Abdominal pain": (10000081, "Gastrointestinal and abdominal pains (excl oral and throat)", 10017926, "Gastrointestinal signs and symptoms", 10018012, *_GI),
    "Ascites": (10003445, "Peritoneal and retroperitoneal disorders NEC", 10034651, "Peritoneal and retroperitoneal conditions", 10034652, *_GI),
    "Decreased appetite": (10061428, "Appetite disorders", 10003028, "Appetite and general nutritional disorders", 10003018, *_MET),
    "Hypokalaemia": (10021015, "Potassium imbalance", 10036450, "Electrolyte and fluid balance conditions", 10014414, *_MET),
    "Hypophosphataemia": (10021058, "Phosphorus metabolism disorders", 10034912, "Bone, calcium, magnesium and phosphorus metabolism disorders", 10005935, *_MET),
    "Hypomagnesaemia": (10021028, "Magnesium metabolism disorders", 10025435, "Bone, calcium, magnesium and phosphorus metabolism disorders", 10005935, *_MET),
    "Headache": (10019211, "Headaches NEC", 10019233, "Headaches", 10019231, *_NERV),
    "Dizziness": (10013573, "Neurological signs and symptoms NEC", 10029202, "Neurological disorders NEC", 10029305, *_NERV),
    "Immune effector cell-associated neurotoxicity syndrome": (10082018, "Encephalopathies toxic and metabolic", 10014631, "Encephalopathies", 10014623, *_NERV),
    "Cough": (10011224, "Coughing and associated symptoms", 10011232, "Respiratory disorders NEC", 10038716, *_RESP),
    "Dyspnoea": (10013968, "Breathing abnormalities", 10006334, "Respiratory disorders NEC", 10038716, *_RESP),
    "Pleural effusion": (10035598, "Pleural disorders NEC", 10035590, "Pleural disorders", 10035597, *_RESP),
    "Respiratory failure": (10038695, "Respiratory failures (excl neonatal)", 10038696, "Respiratory disorders NEC", 10038716, *_RESP),
    "Sinus tachycardia": (10040752, "Rate and rhythm disorders NEC", 10037908, "Cardiac arrhythmias", 10007521, *_CARD),
    "Hypotension": (10021097, "Vascular hypotensive disorders", 10047097, "Decreased and nonspecific blood pressure disorders and shock", 10011954, *_VASC),
    "Arthralgia": (10003239, "Joint related signs and symptoms", 10023226, "Joint disorders", 10023213, *_MUSC),
    "Back pain": (10003988, "Musculoskeletal and connective tissue pain and discomfort", 10068757, "Musculoskeletal and connective tissue disorders NEC", 10028393, *_MUSC),
    "Insomnia": (10022437, "Disturbances in initiating and maintaining sleep", 10013446, "Sleep disorders and disturbances", 10040991, *_PSY),
    "Rash": (10037844, "Rashes, eruptions and exanthems NEC", 10052566, "Epidermal and dermal conditions", 10014982, *_SKIN),
    "Upper respiratory tract infection": (10046306, "Upper respiratory tract infections", 10046309, "Infections - pathogen unspecified", 10021879, *_INF),
    "Pneumonia": (10035664, "Lower respiratory tract and lung infections", 10024970, "Infections - pathogen unspecified", 10021879, *_INF),
    "Urinary tract infection": (10046571, "Urinary tract infections", 10046577, "Infections - pathogen unspecified", 10021879, *_INF),
    "Sepsis": (10040047, "Sepsis, bacteraemia, viraemia and fungaemia NEC", 10040049, "Infections - pathogen unspecified", 10021879, *_INF),
    "Herpes zoster": (10019974, "Herpes viral infections", 10019973, "Viral infectious disorders", 10047438, *_INF),
    "Cytomegalovirus infection reactivation": (10075619, "Cytomegaloviral infections", 10011830, "Viral infectious disorders", 10047438, *_INF),
    "Febrile neutropenia": (10016288, "Neutropenias", 10029363, "White blood cell disorders", 10047954, *_BLOOD),
    "Anaemia": (10002034, "Anaemias NEC", 10002086, "Anaemias nonhaemolytic and marrow depression", 10002042, *_BLOOD),
    "Neutrophil count decreased": (10029366, "White blood cell analyses", 10047955, "Haematology investigations (incl blood groups)", 10018851, *_INV),
    "Lymphocyte count decreased": (10025256, "White blood cell analyses", 10047955, "Haematology investigations (incl blood groups)", 10018851, *_INV),
    "Platelet count decreased": (10035528, "Platelet analyses", 10035526, "Haematology investigations (incl blood groups)", 10018851, *_INV),
    "Alanine aminotransferase increased": (10001551, "Liver function analyses", 10024690, "Hepatobiliary investigations", 10019806, *_INV),
    "Hypogammaglobulinaemia": (10020983, "Immunodeficiency syndromes", 10021455, "Immunodeficiency syndromes", 10021453, *_IMM),
    "Cytokine release syndrome": (10052015, "Immune and associated conditions NEC", 10021429, "Immune disorders NEC", 10027665, *_IMM),
    "Infusion related reaction": (10051792, "Non-site specific procedural complications", 10069520, "Procedural related injuries and complications NEC", 10069888, *_INJ),
}

# Verbatim terms an investigator writes, with the LLT the coder picks: (verbatim, LLT, LLT code, PT).
VERBATIM = {
    "Pyrexia": [("Fever", "Fever", 10016558), ("PYREXIA", "Pyrexia", 10037660), ("Febrile episode", "Fever", 10016558)],
    "Fatigue": [("Fatigue", "Fatigue", 10016256), ("Tiredness", "Tiredness", 10043890), ("FATIGUE", "Fatigue", 10016256)],
    "Chills": [("Chills", "Chills", 10008531), ("Rigors", "Rigors", 10039111)],
    "Oedema peripheral": [("Bilateral ankle oedema", "Ankle oedema", 10002534), ("Peripheral edema", "Peripheral edema", 10034545)],
    "Nausea": [("Nausea", "Nausea", 10028813), ("NAUSEA", "Nausea", 10028813), ("Feeling sick", "Feeling sick", 10016372)],
    "Vomiting": [("Vomiting", "Vomiting", 10047700), ("Emesis", "Emesis", 10014542)],
    "Diarrhoea": [("Diarrhea", "Diarrhea", 10012727), ("Diarrhoea", "Diarrhoea", 10012735), ("Loose stools", "Loose stools", 10024840)],
    "Constipation": [("Constipation", "Constipation", 10010774)],
    "Abdominal pain": [("Abdominal pain", "Abdominal pain", 10000081), ("Abdominal discomfort and pain", "Abdominal pain", 10000081)],
    "Ascites": [("Ascites", "Ascites", 10003445), ("Increase in ascites", "Ascites", 10003445)],
    "Decreased appetite": [("Decreased appetite", "Decreased appetite", 10061428), ("Anorexia", "Anorexia", 10002646), ("Loss of appetite", "Loss of appetite", 10024919)],
    "Hypokalaemia": [("Hypokalemia", "Hypokalemia", 10021018), ("Low potassium", "Potassium low", 10036450)],
    "Hypophosphataemia": [("Hypophosphatemia", "Hypophosphatemia", 10021059), ("Low phosphate", "Phosphate low", 10034911)],
    "Hypomagnesaemia": [("Hypomagnesemia", "Hypomagnesemia", 10021029)],
    "Headache": [("Headache", "Headache", 10019211), ("HEADACHE", "Headache", 10019211)],
    "Dizziness": [("Dizziness", "Dizziness", 10013573), ("Lightheadedness", "Light headedness", 10024486)],
    "Immune effector cell-associated neurotoxicity syndrome": [("ICANS", "ICANS", 10082019), ("Immune effector cell-associated neurotoxicity syndrome", "Immune effector cell-associated neurotoxicity syndrome", 10082018), ("Neurotoxicity (ICANS)", "ICANS", 10082019)],
    "Cough": [("Cough", "Cough", 10011224), ("Dry cough", "Dry cough", 10013786)],
    "Dyspnoea": [("Shortness of breath", "Shortness of breath", 10040604), ("Dyspnea", "Dyspnea", 10013963)],
    "Pleural effusion": [("Pleural effusion", "Pleural effusion", 10035598), ("Worsening right pleural effusion", "Pleural effusion", 10035598)],
    "Respiratory failure": [("Respiratory failure", "Respiratory failure", 10038695), ("Acute respiratory failure", "Respiratory failure acute", 10038697)],
    "Sinus tachycardia": [("Sinus tachycardia", "Sinus tachycardia", 10040752), ("Tachycardia", "Tachycardia sinus", 10043072)],
    "Hypotension": [("Hypotension", "Hypotension", 10021097), ("Low blood pressure", "Low blood pressure", 10024853)],
    "Arthralgia": [("Arthralgia", "Arthralgia", 10003239), ("Joint pain", "Joint pain", 10023222)],
    "Back pain": [("Back pain", "Back pain", 10003988), ("Lower back pain", "Low back pain", 10024891)],
    "Insomnia": [("Insomnia", "Insomnia", 10022437)],
    "Rash": [("Rash", "Rash", 10037844), ("Skin rash", "Skin rash", 10040914)],
    "Upper respiratory tract infection": [("Upper respiratory tract infection", "Upper respiratory tract infection", 10046306), ("URTI", "URTI", 10046300)],
    "Pneumonia": [("Pneumonia", "Pneumonia", 10035664), ("Right lower lobe pneumonia", "Lobar pneumonia", 10024855)],
    "Urinary tract infection": [("Urinary tract infection", "Urinary tract infection", 10046571), ("UTI", "UTI", 10046565)],
    "Sepsis": [("Sepsis", "Sepsis", 10040047), ("Septicemia", "Septicaemia", 10040070)],
    "Herpes zoster": [("Herpes zoster", "Herpes zoster", 10019974), ("Shingles", "Shingles", 10040486)],
    "Cytomegalovirus infection reactivation": [("CMV reactivation", "Cytomegalovirus infection reactivation", 10075619)],
    "Febrile neutropenia": [("Febrile neutropenia", "Febrile neutropenia", 10016288), ("Neutropenic fever", "Neutropenic fever", 10029377)],
    "Anaemia": [("Anemia", "Anemia", 10002272), ("Anaemia", "Anaemia", 10002034)],
    "Neutrophil count decreased": [("Neutropenia", "Neutrophil count decreased", 10029366), ("Decreased neutrophil count", "Neutrophil count decreased", 10029366), ("Low ANC", "Absolute neutrophil count decreased", 10000563)],
    "Lymphocyte count decreased": [("Lymphopenia", "Lymphocyte count decreased", 10025256), ("Decreased lymphocyte count", "Lymphocyte count decreased", 10025256)],
    "Platelet count decreased": [("Thrombocytopenia", "Platelet count decreased", 10035528), ("Low platelets", "Platelet count low", 10035529)],
    "Alanine aminotransferase increased": [("ALT increased", "ALT increased", 10001547), ("Elevated ALT", "Alanine aminotransferase increased", 10001551)],
    "Hypogammaglobulinaemia": [("Hypogammaglobulinemia", "Hypogammaglobulinemia", 10020984)],
    "Cytokine release syndrome": [("Cytokine release syndrome", "Cytokine release syndrome", 10052015), ("CRS", "CRS", 10082021), ("CYTOKINE RELEASE SYNDROME", "Cytokine release syndrome", 10052015)],
    "Infusion related reaction": [("Infusion related reaction", "Infusion related reaction", 10051792), ("Infusion reaction", "Infusion reaction", 10051796)],
}

# Clinical AE templates (CRS, ICANS and lab-based events are generated elsewhere).
# pt, p(per infused subject), onset window (day rel. to infusion), duration range (days),
# grade probabilities (G1..G4), p(serious), relatedness level to CAR-T (0 none .. 4 definite), to LD,
# route multipliers (IV, intrapleural, intraperitoneal)
AE_TEMPLATES = [
    ("Fatigue", 0.45, (-5, 90), (3, 60), (0.60, 0.33, 0.07, 0), 0.00, 2, 2, (1, 1, 1)),
    ("Nausea", 0.35, (-5, 10), (1, 7), (0.70, 0.27, 0.03, 0), 0.00, 1, 3, (1, 1, 1)),
    ("Vomiting", 0.15, (-5, 10), (1, 3), (0.70, 0.28, 0.02, 0), 0.00, 1, 3, (1, 1, 1)),
    ("Diarrhoea", 0.20, (-3, 30), (1, 7), (0.70, 0.25, 0.05, 0), 0.00, 1, 2, (1, 1, 1)),
    ("Decreased appetite", 0.25, (-5, 30), (5, 40), (0.60, 0.35, 0.05, 0), 0.00, 2, 2, (1, 1, 1)),
    ("Headache", 0.22, (-5, 21), (1, 5), (0.80, 0.20, 0.00, 0), 0.00, 2, 1, (1, 1, 1)),
    ("Hypokalaemia", 0.20, (0, 21), (2, 10), (0.55, 0.30, 0.15, 0), 0.00, 1, 1, (1, 1, 1)),
    ("Hypophosphataemia", 0.20, (0, 21), (3, 14), (0.40, 0.45, 0.15, 0), 0.00, 1, 1, (1, 1, 1)),
    ("Hypomagnesaemia", 0.10, (0, 28), (3, 14), (0.80, 0.20, 0.00, 0), 0.00, 1, 1, (1, 1, 1)),
    ("Cough", 0.15, (-5, 180), (5, 30), (0.75, 0.25, 0.00, 0), 0.00, 0, 0, (1, 2, 1)),
    ("Dyspnoea", 0.12, (0, 180), (3, 30), (0.50, 0.35, 0.15, 0), 0.15, 1, 0, (1, 2, 1)),
    ("Pleural effusion", 0.06, (1, 60), (7, 45), (0.35, 0.45, 0.20, 0), 0.30, 2, 0, (1, 4, 1)),
    ("Abdominal pain", 0.10, (0, 60), (2, 20), (0.55, 0.35, 0.10, 0), 0.05, 1, 0, (1, 1, 3)),
    ("Ascites", 0.04, (1, 90), (7, 60), (0.40, 0.45, 0.15, 0), 0.20, 1, 0, (1, 1, 4)),
    ("Constipation", 0.15, (-5, 60), (2, 14), (0.80, 0.20, 0.00, 0), 0.00, 0, 1, (1, 1, 1)),
    ("Oedema peripheral", 0.10, (0, 120), (7, 60), (0.80, 0.20, 0.00, 0), 0.00, 1, 0, (1, 1, 1)),
    ("Sinus tachycardia", 0.10, (0, 14), (1, 5), (0.70, 0.30, 0.00, 0), 0.00, 2, 0, (1, 1, 1)),
    ("Hypotension", 0.06, (0, 21), (1, 4), (0.50, 0.40, 0.10, 0), 0.05, 2, 0, (1, 1, 1)),
    ("Chills", 0.10, (0, 7), (1, 2), (0.85, 0.15, 0.00, 0), 0.00, 3, 0, (1, 1, 1)),
    ("Arthralgia", 0.08, (0, 180), (5, 45), (0.75, 0.25, 0.00, 0), 0.00, 1, 0, (1, 1, 1)),
    ("Back pain", 0.10, (-20, 365), (3, 40), (0.60, 0.35, 0.05, 0), 0.00, 0, 0, (1, 1, 1)),
    ("Insomnia", 0.08, (-5, 60), (5, 30), (0.85, 0.15, 0.00, 0), 0.00, 0, 0, (1, 1, 1)),
    ("Dizziness", 0.08, (0, 60), (1, 10), (0.85, 0.15, 0.00, 0), 0.00, 1, 0, (1, 1, 1)),
    ("Rash", 0.06, (0, 60), (5, 21), (0.70, 0.30, 0.00, 0), 0.00, 2, 1, (1, 1, 1)),
    ("Infusion related reaction", 0.04, (0, 0), (0, 1), (0.60, 0.40, 0.00, 0), 0.00, 4, 0, (1, 1, 1)),
    ("Upper respiratory tract infection", 0.10, (14, 365), (5, 14), (0.50, 0.50, 0.00, 0), 0.00, 1, 0, (1, 1, 1)),
    ("Pneumonia", 0.07, (7, 300), (7, 21), (0.00, 0.30, 0.65, 0.05), 0.80, 2, 1, (1, 1, 1)),
    ("Urinary tract infection", 0.06, (7, 300), (5, 14), (0.30, 0.60, 0.10, 0), 0.10, 1, 0, (1, 1, 1)),
    ("Sepsis", 0.02, (5, 90), (7, 21), (0.00, 0.00, 0.60, 0.40), 1.00, 2, 1, (1, 1, 1)),
    ("Herpes zoster", 0.03, (30, 365), (7, 30), (0.30, 0.60, 0.10, 0), 0.10, 2, 1, (1, 1, 1)),
    ("Cytomegalovirus infection reactivation", 0.04, (14, 90), (10, 40), (0.30, 0.60, 0.10, 0), 0.10, 2, 1, (1, 1, 1)),
    ("Hypogammaglobulinaemia", 0.10, (28, 240), (60, 300), (0.40, 0.55, 0.05, 0), 0.00, 3, 0, (1, 1, 1)),
]
