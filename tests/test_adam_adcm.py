"""ADCM (OCCDS from CM): record filter, date imputation, timing flags relative to the infusion, the study's
declared groupings, define metadata, and when it is built. Expected values worked out by hand below."""
from datetime import date

import pandas as pd
import pytest
import yaml

from trialforge.adam.build import build_adam
from trialforge.adam.config import adam_config_from_dict
from trialforge.errors import SpecError


def sas(y, m, d):
    return float((date(y, m, d) - date(1960, 1, 1)).days)


def sdtm():
    ids = ["S-1", "S-2"]
    dm = pd.DataFrame({"STUDYID": "S", "USUBJID": ids, "SUBJID": ["1", "2"], "SITEID": "1", "AGE": 50.0,
                       "AGEU": "YEARS", "SEX": "F", "RACE": "WHITE", "ETHNIC": "", "COUNTRY": "USA",
                       "ARM": "DL1", "ARMCD": "DL1", "ACTARM": "DL1", "ACTARMCD": "DL1", "ARMNRS": "",
                       "DTHDTC": "", "DTHFL": ""})
    ex = pd.DataFrame({"STUDYID": "S", "USUBJID": ids, "EXSEQ": [1, 1], "EXTRT": "CAR-T", "EXDOSE": 1.0,
                       "EXDOSU": "10^6 cells", "EXSTDTC": ["2024-01-10", "2024-02-01"], "EXENDTC": ""})
    cm = pd.DataFrame({
        "STUDYID": "S", "USUBJID": ["S-1"] * 4 + ["S-2"] * 2, "CMSEQ": [1, 2, 3, 4, 1, 2],
        "CMTRT": ["Acyclovir", "Tocilizumab", "Dexamethasone", "Paracetamol", "Carboplatin", "Tocilizumab"],
        "CMCAT": ["CONCOMITANT MEDICATION"] * 4 + ["PRIOR ANTI-CANCER THERAPY", "CONCOMITANT MEDICATION"],
        "CMINDC": ["Prophylaxis", "Cytokine release syndrome", "Cytokine release syndrome", "Fever", "Cancer",
                   "Cytokine release syndrome"],
        "CMSTDTC": ["2023-12", "2024-01-12", "2024-01", "2024-01-02", "2022-05", "2024-03-20"],
        "CMENDTC": ["", "2024-01-12", "2024-01-15", "2024-01-05", "2022-09", "2024-03-20"]})
    return {"DM": dm, "EX": ex, "CM": cm}


SPEC = """
adsl: {product_extrt: CAR-T}
adcm:
  filter: "CMCAT == 'CONCOMITANT MEDICATION'"
  end_window_days: 30
  category_flags:
    TOCIFL: {filter: "CMTRT == 'Tocilizumab'", label: Tocilizumab Flag}
    CORTFL: {filter: "CMTRT in ['Dexamethasone', 'Methylprednisolone']", label: Corticosteroid Flag}
    CRSMEDFL: {filter: "CMINDC == 'Cytokine release syndrome'", label: Given for CRS Flag}
"""


def build(spec: str = SPEC, data=None):
    return build_adam(data or sdtm(), adam_config_from_dict(yaml.safe_load(spec)))


def test_records_dates_and_timing_flags_by_hand():
    adcm = build()["ADCM"].frame.set_index(["USUBJID", "CMSEQ"])
    # the prior anticancer therapy of S-2 (CMSEQ 1) is not a concomitant medication: filtered out
    assert list(adcm.index) == [("S-1", 1.0), ("S-1", 2.0), ("S-1", 3.0), ("S-1", 4.0), ("S-2", 2.0)]
    t1 = sas(2024, 1, 10)
    # 2023-12 -> 1 Dec 2023 (the infusion is not in December 2023, so no clamping); ongoing
    assert adcm.loc[("S-1", 1), ["ASTDT", "ASTDTF"]].tolist() == [sas(2023, 12, 1), "D"]
    # 2024-01 -> 1 Jan 2024, moved to the infusion date 10 Jan (inside January): counted on treatment
    assert adcm.loc[("S-1", 3), ["ASTDT", "ASTDTF", "AENDT"]].tolist() == [t1, "D", sas(2024, 1, 15)]
    assert adcm.loc[("S-1", 2), "ASTDY"] == 3.0 and adcm.loc[("S-1", 1), "ASTDY"] == sas(2023, 12, 1) - t1
    flags = adcm[["PREFL", "ONTRTFL", "FUPFL"]].apply(lambda r: "".join(x or "-" for x in r), axis=1).to_dict()
    assert flags == {("S-1", 1): "YY-",     # started before the infusion, still taken after it
                     ("S-1", 2): "-Y-",
                     ("S-1", 3): "-Y-",
                     ("S-1", 4): "Y--",     # ended before the infusion
                     ("S-2", 2): "--Y"}     # 1 Feb + 30 days = 2 Mar < 20 Mar: follow-up
    assert adcm["TOCIFL"].tolist() == ["", "Y", "", "", "Y"]
    assert adcm["CORTFL"].tolist() == ["", "", "Y", "", ""]
    assert adcm["CRSMEDFL"].tolist() == ["", "Y", "Y", "", "Y"]
    assert adcm["TRTA"].tolist() == ["DL1"] * 5 and adcm.loc[("S-2", 2), "TRTSDT"] == sas(2024, 2, 1)


def test_open_window_has_no_follow_up_phase():
    adcm = build(SPEC.replace("end_window_days: 30", "end_window_days: null"))["ADCM"].frame
    assert "FUPFL" not in adcm.columns
    assert adcm.loc[adcm["USUBJID"] == "S-2", "ONTRTFL"].tolist() == ["Y"]


def test_define_metadata_labels_origins_and_methods():
    ds = build()["ADCM"]
    assert ds.meta.label == "Concomitant Medications Analysis Dataset"
    assert ds.meta.cls == "OCCURRENCE DATA STRUCTURE" and ds.meta.keys == ("STUDYID", "USUBJID", "CMSEQ")
    v = {x.name: x for x in ds.meta.variables}
    assert v["CMTRT"].label == "Reported Name of Drug, Med, or Therapy"     # SDTMIG CM label
    assert v["ONTRTFL"].label == "On Treatment Record Flag"                 # ADaMIG label
    assert v["TOCIFL"].label == "Tocilizumab Flag" and v["PREFL"].label == "Pre-treatment Flag"
    assert (v["CMTRT"].origin, v["CMTRT"].origin_detail) == ("Predecessor", "CM.CMTRT")
    assert (v["TRTA"].origin, v["TRTA"].origin_detail) == ("Predecessor", "ADSL.TRT01A")
    assert v["ASTDT"].origin == "Derived" and v["ASTDT"].method_type == "Imputation"
    assert "ADSL.TRTSDT" in v["ASTDT"].method and "CM.CMSTDTC" in v["ASTDT"].method
    assert "30 days" in v["FUPFL"].method and "ADSL.TRTEDT" in v["ONTRTFL"].method
    assert "CMTRT = 'Tocilizumab'" in v["TOCIFL"].method
    assert ds.frame["ASTDT"].dtype == "float64" and v["ASTDT"].format == "DATE9."


def test_built_only_when_declared():
    plain = "adsl: {product_extrt: CAR-T}\n"
    assert "ADCM" not in build(plain)                       # CM present, no adcm section: not built
    with pytest.raises(SpecError, match="adcm"):
        build(plain + "datasets: [ADSL, ADCM]\n")
    no_cm = {k: v for k, v in sdtm().items() if k != "CM"}
    assert "ADCM" not in build(data=no_cm)                  # declared, but the study has no CM


def test_flag_without_label_is_a_spec_error_naming_it():
    with pytest.raises(SpecError, match="CRSMEDFL"):
        build(SPEC.replace("{filter: \"CMINDC == 'Cytokine release syndrome'\", label: Given for CRS Flag}",
                           "\"CMINDC == 'Cytokine release syndrome'\""))


def test_bad_flag_name_is_a_spec_error():
    with pytest.raises(SpecError, match="adcm.category_flags"):
        adam_config_from_dict(yaml.safe_load(SPEC.replace("TOCIFL:", "toci_flag:")))
