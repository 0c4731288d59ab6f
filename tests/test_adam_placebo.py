"""A placebo-controlled two-arm study's SDTM written by pyreadstat (not trialforge) → ``trialforge adam
--sdtm DIR --spec FILE``: every subject gets TRTSDT (placebo EXDOSE 0 counts as exposure when the spec says
so), TRT01P/TRT01A come from DM ARM/ACTARM (no treatment groups declared), a placebo subject's AE after
the first dose is treatment emergent. Expected dates by hand."""
from datetime import date
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
from click.testing import CliRunner

from trialforge.adam.command import adam_command

SPEC = """
adsl:
  product_extrt: [PLACEBO, XANOMELINE]
  zero_dose_counts: [PLACEBO]          # placebo is recorded with EXDOSE 0
  trt_order: [Placebo, Xanomeline]
  date_vars:
    - {new_var: RANDDT, domain: DS, date: DSSTDTC, filter: "DSDECOD == 'RANDOMIZED'", label: Date of Randomization}
  populations:
    RANDFL: "RANDDT == RANDDT"         # a randomized study carries RANDFL with RANDDT (ADaMIG; P21 AD0366B)
pk: {}
"""
IDS = [f"P-{i}" for i in range(1, 7)]
ARMS = ["Placebo", "Xanomeline"] * 3


def sas(y, m, d):
    return float((date(y, m, d) - date(1960, 1, 1)).days)


def sdtm() -> dict[str, pd.DataFrame]:
    dm = pd.DataFrame({"STUDYID": "PBO", "DOMAIN": "DM", "USUBJID": IDS, "SUBJID": [i[2:] for i in IDS],
                       "SITEID": "701", "AGE": [70.0, 65, 80, 77, 59, 68], "AGEU": "YEARS",
                       "SEX": ["F", "M"] * 3, "RACE": "WHITE", "ETHNIC": "NOT HISPANIC OR LATINO", "COUNTRY": "USA",
                       "ARM": ARMS, "ARMCD": ["PBO", "XAN"] * 3, "ACTARM": ARMS, "ACTARMCD": ["PBO", "XAN"] * 3,
                       "ARMNRS": "", "DTHDTC": "", "DTHFL": ""})
    starts = [f"2014-01-{d:02d}" for d in (2, 3, 6, 7, 8, 9)]
    ex = pd.DataFrame({"STUDYID": "PBO", "DOMAIN": "EX", "USUBJID": IDS, "EXSEQ": 1.0,
                       "EXTRT": ["PLACEBO", "XANOMELINE"] * 3, "EXDOSE": [0.0, 54.0] * 3, "EXDOSU": "mg",
                       "EXSTDTC": starts, "EXENDTC": ["2014-03-01", "2014-03-02", "", "2014-03-04", "2014-03-05",
                                                     "2014-03-06"]})
    ae = pd.DataFrame({"STUDYID": "PBO", "DOMAIN": "AE", "USUBJID": ["P-1", "P-1", "P-2"], "AESEQ": [1.0, 2.0, 1.0],
                       "AETERM": ["HEADACHE", "RASH", "NAUSEA"], "AEDECOD": ["Headache", "Rash", "Nausea"],
                       "AEBODSYS": ["Nervous", "Skin", "GI"], "AESTDTC": ["2013-12-28", "2014-01-10", "2014-01-05"],
                       "AEENDTC": ["2013-12-30", "2014-01-12", ""], "AETOXGR": ["1", "1", "2"], "AESER": "N"})
    ds = pd.DataFrame({"STUDYID": "PBO", "DOMAIN": "DS", "USUBJID": IDS, "DSSEQ": 1.0, "DSCAT": "PROTOCOL MILESTONE",
                       "DSDECOD": "RANDOMIZED", "DSTERM": "RANDOMIZED",
                       "DSSTDTC": [f"2014-01-{d:02d}" for d in (1, 2, 5, 6, 7, 8)]})
    return {"DM": dm, "EX": ex, "AE": ae, "DS": ds}


def write_xpt(folder: Path) -> None:
    folder.mkdir()
    for name, frame in sdtm().items():
        pyreadstat.write_xport(frame, str(folder / f"{name.lower()}.xpt"), file_format_version=5, table_name=name)


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("placebo")
    write_xpt(tmp / "sdtm")
    (tmp / "adam.yaml").write_text(SPEC)
    res = CliRunner().invoke(adam_command, ["--sdtm", str(tmp / "sdtm"), "--spec", str(tmp / "adam.yaml"),
                                            "--out", str(tmp / "out")])
    assert res.exit_code == 0, res.output
    adsl, _ = pyreadstat.read_xport(str(tmp / "out" / "adsl.xpt"))
    adae, _ = pyreadstat.read_xport(str(tmp / "out" / "adae.xpt"))
    return {"adsl": adsl.set_index("USUBJID"), "adae": adae}


def to_sas(value) -> float:
    """pyreadstat reads DATE9. numbers as dates; back to SAS day numbers."""
    return float((pd.Timestamp(value).date() - date(1960, 1, 1)).days)


def test_every_subject_has_trtsdt(out):
    adsl = out["adsl"]
    assert adsl["TRTSDT"].notna().all() and len(adsl) == 6
    # placebo subject P-1: EXDOSE 0 on 2014-01-02 counts; P-3 blank EXENDTC ends on its start date
    assert to_sas(adsl.loc["P-1", "TRTSDT"]) == sas(2014, 1, 2)
    assert to_sas(adsl.loc["P-3", "TRTEDT"]) == sas(2014, 1, 6)
    assert to_sas(adsl.loc["P-4", "RANDDT"]) == sas(2014, 1, 6)


def test_treatment_from_dm_arms(out):
    adsl = out["adsl"]
    assert adsl["TRT01A"].tolist() == ARMS and adsl["TRT01P"].tolist() == ARMS
    assert adsl["TRT01PN"].tolist() == [1.0, 2.0] * 3


def test_placebo_subject_teae_flag(out):
    adae = out["adae"].set_index(["USUBJID", "AESEQ"])
    # P-1 (placebo, first dose 01-02): headache 2013-12-28 before → not emergent; rash 01-10 → emergent
    assert adae.loc[("P-1", 1.0), "TRTEMFL"] == "" and adae.loc[("P-1", 2.0), "TRTEMFL"] == "Y"
    assert adae.loc[("P-1", 2.0), "TRTA"] == "Placebo"
