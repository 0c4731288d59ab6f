"""Another sponsor's raw layout maps to DM and AE with only a new spec: no code change.

Different column names, an Excel workbook, US dates (MM/DD/YYYY) and a 24h time with seconds,
numeric sex codes, and the sponsor's own severity wording ("Mild Adverse Event").
"""
import pandas as pd

from trialforge.sdtm.engine import build_sdtm
from trialforge.specs.study import load_study

from conftest import write

STUDY = """
study: {id: OTHER-7}
created: "2026-01-01T00:00:00"
epochs:
  - {epoch: SCREENING, start: RFICDTC}
  - {epoch: TREATMENT, start: RFSTDTC}
"""

DM_SPEC = """
domain: DM
keys: [STUDYID, USUBJID]
sources:
  demog:
    file: export.xlsx
    sheet: DEMOG
    joins:
      - {file: export.xlsx, sheet: DOSING, on: {PT: PATIENT}, columns: [FIRSTDOSE]}
variables:
  STUDYID: {constant: "${study.id}"}
  DOMAIN: DM
  USUBJID: {template: "{STUDYID}/{PT}"}
  SUBJID: {from: PT}
  RFSTDTC: {datetime: {date: FIRSTDOSE, format: MM/DD/YYYY}}
  RFICDTC: {datetime: {date: CONSENT_DT, format: MM/DD/YYYY}}
  SITEID: {from: CENTRE}
  AGE: {from: AGE_YRS}
  AGEU: YEARS
  SEX: {from: SEXCD, map: {"1": M, "2": F}}
  RACE: {from: RACE_TXT, ct: RACE, synonyms: {Caucasian: WHITE}}
  COUNTRY: {from: CNTRY}
"""

AE_SPEC = """
domain: AE
keys: [STUDYID, USUBJID, AEDECOD, AESTDTC]
sources:
  ae:
    file: export.xlsx
    sheet: ADVERSE
    filter: "not blank(EVENT)"
variables:
  STUDYID: {constant: "${study.id}"}
  DOMAIN: AE
  USUBJID: {template: "{STUDYID}/{PT}"}
  AESEQ: {seq: true}
  AETERM: {from: EVENT}
  AEDECOD: {from: PREF_TERM, upper: true}
  AESEV: {from: INTENSITY, ct: AESEV, synonyms: {"Mild Adverse Event": MILD, "Moderate Adverse Event": MODERATE,
                                                 "Severe Adverse Event": SEVERE}}
  AESER: {from: SAE, ct: NY, synonyms: {"1": Y, "0": N}}
  EPOCH: {epoch: AESTDTC}
  AESTDTC: {datetime: {date: ONSET, time: ONSET_TIME, format: MM/DD/YYYY, time_format: "HH:MM:SS"}}
  AESTDY: {study_day: AESTDTC}
"""


def make_study(root):
    write(root / "study.yaml", STUDY)
    write(root / "specs" / "dm.yaml", DM_SPEC)
    write(root / "specs" / "ae.yaml", AE_SPEC)
    (root / "raw").mkdir()
    with pd.ExcelWriter(root / "raw" / "export.xlsx") as xl:
        pd.DataFrame({"PT": ["0001", "0002"], "CENTRE": ["S1", "S2"], "CONSENT_DT": ["02/27/2024", "03/01/2024"],
                      "AGE_YRS": ["61", "48"], "SEXCD": ["2", "1"], "RACE_TXT": ["Caucasian", "Asian"],
                      "CNTRY": ["DEU", "FRA"]}).to_excel(xl, sheet_name="DEMOG", index=False)
        pd.DataFrame({"PATIENT": ["0001", "0002"], "FIRSTDOSE": ["03/04/2024", "03/10/2024"]}).to_excel(
            xl, sheet_name="DOSING", index=False)
        pd.DataFrame({"PT": ["0001", "0001", "0002", "0002"],
                      "EVENT": ["rash on arm", "nausea", "", "HEADACHE"],
                      "PREF_TERM": ["Rash", "Nausea", "", "Headache"],
                      "INTENSITY": ["Mild Adverse Event", "Severe Adverse Event", "", "moderate"],
                      "SAE": ["0", "1", "", "0"],
                      "ONSET": ["03/03/2024", "03/06/2024", "", "03/10/2024"],
                      "ONSET_TIME": ["", "14:02:09", "", "08:00:00"]}).to_excel(xl, sheet_name="ADVERSE", index=False)


def test_second_layout_maps_dm_and_ae_with_only_a_spec(tmp_path):
    root = tmp_path / "other"
    make_study(root)
    out = build_sdtm(load_study(root))
    dm = out["DM"].frame.set_index("USUBJID")
    assert dm.loc["OTHER-7/0001", ["RFSTDTC", "RFICDTC", "SEX", "RACE", "SITEID"]].tolist() == \
        ["2024-03-04", "2024-02-27", "F", "WHITE", "S1"]
    assert dm.loc["OTHER-7/0002", ["SEX", "RACE", "AGE"]].tolist() == ["M", "ASIAN", 48.0]
    ae = out["AE"].frame
    assert len(ae) == 3                                    # the blank row is filtered out
    rows = ae.set_index(["USUBJID", "AEDECOD"])
    # 03/03/2024 vs RFSTDTC 03/04/2024 → day -1, screening; 03/06/2024 14:02:09 → day 3, treatment
    assert rows.loc[("OTHER-7/0001", "RASH"), ["AESEV", "AESER", "AESTDY", "EPOCH"]].tolist() == \
        ["MILD", "N", -1.0, "SCREENING"]
    assert rows.loc[("OTHER-7/0001", "NAUSEA"), ["AESEV", "AESER", "AESTDTC", "AESTDY"]].tolist() == \
        ["SEVERE", "Y", "2024-03-06T14:02:09", 3.0]
    assert rows.loc[("OTHER-7/0002", "HEADACHE"), ["AESEV", "AESTDY", "AESEQ"]].tolist() == ["MODERATE", 1.0, 1.0]
