"""Declared ADaM end to end on a hand-made CD7-like leukaemia study (acute leukaemia criterion):
CRi counted as a response, relapse as a PFS event, DOR from the first response of any category, a
landmark response, EFS and transplant handling from declared sources. Expected values by hand (dates)."""
from datetime import date

import numpy as np
import pandas as pd
import pytest
import yaml

from trialforge.adam.build import build_adam
from trialforge.adam.config import adam_config_from_dict

D0 = date(2024, 1, 1)          # infusion (TRTSDT) of every subject


def sas(d: date) -> float:
    return float((d - date(1960, 1, 1)).days)


def days(a: date, b: date) -> float:
    """AVAL of a time-to-event from a to b (admiral: b - a + 1)."""
    return float((b - a).days + 1)


SPEC = yaml.safe_load("""
adsl: {product_extrt: CD7 CAR-T CELLS, lymphodepletion_extrt: [FLUDARABINE]}
adrs:
  criterion: Acute leukemia
  ovr_filter: "RSTESTCD == 'OVRLRESP'"
  sumdiam: false
  landmarks:
    - {paramcd: ORRM3, param: Objective Response at Month 3, day: 91, window: [-14, 14]}
    - {paramcd: CRM3, param: Complete Remission at Month 3, day: 91, window: [-14, 14], responders: [CR]}
adtte:
  sources:
    transplant: {domain: PR, date: PRSTDTC, filter: "PRTRT == 'ALLOGENEIC HSCT'", description: ALLOGENEIC TRANSPLANT}
  parameters:
    - OS
    - {paramcd: PFS, censor_at: [new_therapy, transplant]}
    - {paramcd: DOR, censor_at: [new_therapy, transplant]}
    - {paramcd: EFS, param: Event-Free Survival (days), events: [progression, death, transplant],
       censors: [last_adequate_assessment]}
pk: {}
""")


def sdtm():
    ids = ["L-1", "L-2", "L-3"]
    dm = pd.DataFrame({"STUDYID": "L", "USUBJID": ids, "SUBJID": ["1", "2", "3"], "SITEID": "01", "AGE": 30,
                       "AGEU": "YEARS", "SEX": "F", "RACE": "ASIAN", "ETHNIC": "", "COUNTRY": "CHN",
                       "ARM": "CD7 CAR-T", "ARMCD": "CD7", "ACTARM": "CD7 CAR-T", "ACTARMCD": "CD7", "ARMNRS": "",
                       "DTHDTC": ["", "", "2024-03-20"], "DTHFL": ["", "", "Y"]})
    ex = pd.DataFrame({"STUDYID": "L", "USUBJID": ids * 2, "EXSEQ": [1, 1, 1, 2, 2, 2],
                       "EXTRT": ["CD7 CAR-T CELLS"] * 3 + ["FLUDARABINE"] * 3, "EXDOSE": [1.0] * 3 + [30.0] * 3,
                       "EXSTDTC": ["2024-01-01"] * 3 + ["2023-12-27"] * 3, "EXENDTC": ""})
    # L-1: CRi d29, CR d92 (month 3), relapse d122. L-2: "CRI" (case folded) d29 and d61, transplant
    # 03-15, relapse 04-20. L-3: NR d29, PD d61, death 03-20.
    rs = pd.DataFrame({"STUDYID": "L", "USUBJID": ["L-1"] * 3 + ["L-2"] * 3 + ["L-3"] * 2,
                       "RSSEQ": [1, 2, 3, 1, 2, 3, 1, 2], "RSTESTCD": "OVRLRESP", "RSCAT": "ALL",
                       "RSSTRESC": ["CRi", "CR", "RELAPSE", "CRI", "CRi", "RELAPSE", "NR", "PD"],
                       "RSDTC": ["2024-01-29", "2024-04-01", "2024-05-01", "2024-01-29", "2024-03-01", "2024-04-20",
                                 "2024-01-29", "2024-03-01"],
                       "VISIT": ["DAY 28", "MONTH 3", "MONTH 4", "DAY 28", "MONTH 2", "MONTH 4", "DAY 28", "MONTH 2"]})
    pr = pd.DataFrame({"STUDYID": "L", "USUBJID": ["L-2"], "PRSEQ": [1], "PRTRT": ["ALLOGENEIC HSCT"],
                       "PRSTDTC": ["2024-03-15"]})
    return {"DM": dm, "EX": ex, "RS": rs, "PR": pr}


@pytest.fixture(scope="module")
def adam():
    out = build_adam(sdtm(), adam_config_from_dict(SPEC))
    return {k: v.frame for k, v in out.items()}


def param(frame, code):
    return frame.loc[frame["PARAMCD"] == code].set_index("USUBJID")


def test_cri_is_a_response_and_best_response_ranks(adam):
    bor, rsp = param(adam["ADRS"], "BOR"), param(adam["ADRS"], "RSP")
    assert bor["AVALC"].to_dict() == {"L-1": "CR", "L-2": "CRi", "L-3": "NR"}
    assert rsp["AVALC"].to_dict() == {"L-1": "Y", "L-2": "Y", "L-3": "N"}
    assert bor["AVAL"].to_dict() == {"L-1": 1.0, "L-2": 3.0, "L-3": 6.0}        # the criterion's n
    assert "CBOR" not in set(adam["ADRS"]["PARAMCD"])                              # no confirmation defined
    assert bor["PARAM"].iloc[0] == "Best Overall Response (unconfirmed, Acute leukemia)"


def test_landmark_response_at_month_3(adam):
    # window day 91 +/- 14 = ADY 77..105: L-1 CR (ADY 92) -> Y for ORR and CR; L-2 relapse (ADY 111) is
    # outside, its CRi at ADY 61 too -> N; L-3 nothing in the window -> N
    orr, crm = param(adam["ADRS"], "ORRM3"), param(adam["ADRS"], "CRM3")
    assert orr["AVALC"].to_dict() == {"L-1": "Y", "L-2": "N", "L-3": "N"}
    assert crm["AVALC"].to_dict() == {"L-1": "Y", "L-2": "N", "L-3": "N"}
    assert orr.loc["L-1", "ADT"] == sas(date(2024, 4, 1))


def test_relapse_is_a_pfs_event_and_transplant_ends_follow_up(adam):
    pfs = param(adam["ADTTE"], "PFS")
    # L-1 relapse 05-01 is the event
    assert (pfs.loc["L-1", "CNSR"], pfs.loc["L-1", "AVAL"]) == (0.0, days(D0, date(2024, 5, 1)))
    assert pfs.loc["L-1", "EVNTDESC"] == "RELAPSE"
    # L-2: transplant 03-15 ends follow-up: censored at the last assessment before it (03-01), relapse ignored
    assert (pfs.loc["L-2", "CNSR"], pfs.loc["L-2", "ADT"]) == (1.0, sas(date(2024, 3, 1)))
    assert pfs.loc["L-2", "CNSDTDSC"] == "LAST ADEQUATE ASSESSMENT BEFORE ALLOGENEIC TRANSPLANT"
    # L-3: PD 03-01 before death 03-20
    assert (pfs.loc["L-3", "CNSR"], pfs.loc["L-3", "AVAL"]) == (0.0, days(D0, date(2024, 3, 1)))
    assert pfs.loc["L-3", "EVNTDESC"] == "DISEASE PROGRESSION"


def test_dor_starts_at_the_first_response_of_any_category(adam):
    dor = param(adam["ADTTE"], "DOR")
    assert sorted(dor.index) == ["L-1", "L-2"]                     # responders only
    # L-1: first response CRi 01-29 (not the later CR 04-01) to relapse 05-01
    assert dor.loc["L-1", "STARTDT"] == sas(date(2024, 1, 29))
    assert (dor.loc["L-1", "CNSR"], dor.loc["L-1", "AVAL"]) == (0.0, days(date(2024, 1, 29), date(2024, 5, 1)))
    # L-2: CRi 01-29, censored at 03-01 (before the transplant)
    assert (dor.loc["L-2", "CNSR"], dor.loc["L-2", "AVAL"]) == (1.0, days(date(2024, 1, 29), date(2024, 3, 1)))


def test_efs_from_declared_sources(adam):
    efs = param(adam["ADTTE"], "EFS")
    assert efs["PARAM"].iloc[0] == "Event-Free Survival (days)"
    # L-1 relapse; L-2 the transplant is an EFS event (traced to PR); L-3 PD before death
    assert efs["CNSR"].to_dict() == {"L-1": 0.0, "L-2": 0.0, "L-3": 0.0}
    assert efs.loc["L-2", "ADT"] == sas(date(2024, 3, 15))
    assert (efs.loc["L-2", "EVNTDESC"], efs.loc["L-2", "SRCDOM"], efs.loc["L-2", "SRCSEQ"]) == (
        "ALLOGENEIC TRANSPLANT", "PR", 1.0)
    assert efs.loc["L-3", "AVAL"] == days(D0, date(2024, 3, 1))


def test_os(adam):
    os_ = param(adam["ADTTE"], "OS")
    assert (os_.loc["L-3", "CNSR"], os_.loc["L-3", "AVAL"]) == (0.0, days(D0, date(2024, 3, 20)))
    assert os_.loc["L-1", "CNSR"] == 1.0


def test_define_methods_come_from_the_declaration():
    built = build_adam(sdtm(), adam_config_from_dict(SPEC))
    adt = built["ADTTE"].meta.variable("ADT").method
    assert "EFS: from ADSL.TRTSDT" in adt and "transplant (PR.PRSTDTC where PRTRT = 'ALLOGENEIC HSCT')" in adt
    assert "(PD, RELAPSE)" in adt
    assert built["ADRS"].meta.label == "Leukemia Response Analysis Dataset"


def test_censoring_at_the_transplant_date_when_the_source_declares_it():
    """``censor_date: event_date``: follow-up ends at the transplant AND the censoring is on its date."""
    spec = yaml.safe_load(yaml.safe_dump(SPEC))
    spec["adsl"]["last_alive_sources"] = [{"domain": "RS", "date": "RSDTC"}]
    spec["adtte"]["sources"]["transplant"]["censor_date"] = "event_date"
    spec["adtte"]["parameters"] = [
        {"paramcd": "OS", "censor_at": ["transplant"]},
        {"paramcd": "PFS", "censor_at": ["new_therapy", "transplant"]},
        {"paramcd": "DOR", "censor_at": ["new_therapy", "transplant"]}]
    built = build_adam(sdtm(), adam_config_from_dict(spec))
    tte = built["ADTTE"].frame
    pfs, dor, os_ = param(tte, "PFS"), param(tte, "DOR"), param(tte, "OS")
    hsct = sas(date(2024, 3, 15))
    # L-2: censored at the transplant 03-15 itself (not the 03-01 assessment), traced to PR
    assert (pfs.loc["L-2", "CNSR"], pfs.loc["L-2", "ADT"], pfs.loc["L-2", "AVAL"]) == (
        1.0, hsct, days(D0, date(2024, 3, 15)))
    assert (pfs.loc["L-2", "CNSDTDSC"], pfs.loc["L-2", "SRCDOM"], pfs.loc["L-2", "SRCVAR"],
            pfs.loc["L-2", "SRCSEQ"]) == ("ALLOGENEIC TRANSPLANT", "PR", "PRSTDTC", 1.0)
    assert dor.loc["L-2", "AVAL"] == days(date(2024, 1, 29), date(2024, 3, 15))
    # subjects without a transplant keep their events
    assert (pfs.loc["L-1", "CNSR"], pfs.loc["L-1", "ADT"]) == (0.0, sas(date(2024, 5, 1)))
    # OS: the last-alive date 04-20 (an RS record after the transplant) is cut; censored at 03-15
    assert (os_.loc["L-2", "CNSR"], os_.loc["L-2", "ADT"], os_.loc["L-2", "CNSDTDSC"]) == (
        1.0, hsct, "ALLOGENEIC TRANSPLANT")
    assert (os_.loc["L-1", "CNSR"], os_.loc["L-1", "ADT"]) == (1.0, sas(date(2024, 5, 1)))
    assert "censored at that date" in built["ADTTE"].meta.variable("ADT").method


def test_censor_date_value_is_checked():
    from trialforge.errors import SpecError
    spec = yaml.safe_load(yaml.safe_dump(SPEC))
    spec["adtte"]["sources"]["transplant"]["censor_date"] = "transplant_date"
    with pytest.raises(SpecError, match="censor_date"):
        adam_config_from_dict(spec)
