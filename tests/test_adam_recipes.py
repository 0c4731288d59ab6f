"""End to end on hand-made SDTMIG 3.4 frames: ADSL/ADAE/ADRS/ADTTE/ADPC/ADPP/PP values and metadata."""
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from trialforge.adam.build import build_adam
from trialforge.adam.config import adam_config_from_dict, load_adam_config
from trialforge.errors import SpecError

SPEC = Path(__file__).resolve().parents[1] / "examples" / "cd70-cart" / "specs" / "adam.yaml"


def sas(y, m, d):
    return float((date(y, m, d) - date(1960, 1, 1)).days)


def sdtm():
    """Two enrolled subjects and a screen failure; text columns with blanks/NaN mixed on purpose."""
    dm = pd.DataFrame({"STUDYID": "CD70", "USUBJID": ["CD70-01", "CD70-02", "CD70-03"], "SUBJID": ["01", "02", "03"],
                       "SITEID": "S1", "AGE": [64, 70, 50], "AGEU": "YEARS", "SEX": ["F", "M", "M"],
                       "RACE": "WHITE", "ETHNIC": "NOT HISPANIC OR LATINO", "COUNTRY": "USA",
                       "ARM": ["DL1", "DL1", ""], "ARMCD": ["A-IV-DL1", "A-IV-DL1", ""], "ACTARM": ["DL1", "DL1", ""],
                       "ACTARMCD": ["A-IV-DL1", "A-IV-DL1", ""], "ARMNRS": [np.nan, "", "SCREEN FAILURE"],
                       "RFICDTC": ["2023-01-02", "2023-01-03", "2023-01-04"], "DTHDTC": ["", "2023-03-01", np.nan],
                       "DTHFL": ["", "Y", ""]})
    suppdm = pd.DataFrame({"STUDYID": "CD70", "RDOMAIN": "DM", "USUBJID": ["CD70-01", "CD70-02"] * 4, "IDVAR": "",
                           "IDVARVAL": "", "QNAM": ["PART"] * 2 + ["DOSELVL"] * 2 + ["TUMTYPE"] * 2 + ["PRIORLN"] * 2,
                           "QLABEL": "x", "QVAL": ["A", "A", "DL1", "DL1", "RCC", "RCC", "2", "3"]})
    # CD70 IHC: an old biopsy (1+, 20 %) and a recent one (3+, 80 %): the latest of each detail counts
    mi = pd.DataFrame({"STUDYID": "CD70", "USUBJID": "CD70-01", "MISEQ": [1, 2, 3, 4], "MITESTCD": "CD70",
                       "MITSTDTL": ["STAINING INTENSITY", "PERCENT POSITIVE CELL"] * 2,
                       "MISTRESC": ["1+", "20", "3+", "80"], "MISTRESN": [np.nan, 20, np.nan, 80],
                       "MIDTC": ["2022-12-01", "2022-12-01", "2023-01-05", "2023-01-05"]})
    tu = pd.DataFrame({"STUDYID": "CD70", "USUBJID": ["CD70-01", "CD70-02"], "TUSEQ": [1, 1], "TULNKID": "T01",
                       "TUTESTCD": "TUMIDENT", "TUSTRESC": "TARGET", "TUDTC": ["2023-01-04", "2023-01-05"]})
    ex = pd.DataFrame({"STUDYID": "CD70", "USUBJID": ["CD70-01"] * 2 + ["CD70-02"] * 2,
                       "EXTRT": ["FLUDARABINE", "CD70 CAR-T CELLS"] * 2, "EXDOSE": [30, 1, 30, 1],
                       "EXROUTE": ["INTRAVENOUS"] * 4,
                       "EXSTDTC": ["2023-01-10", "2023-01-15T10:00", "2023-01-10", "2023-01-15"],
                       "EXENDTC": ["2023-01-12", "2023-01-15T10:30", "2023-01-12", ""]})
    ae = pd.DataFrame({"STUDYID": "CD70", "USUBJID": ["CD70-01"] * 4, "AESEQ": [1, 2, 3, 4],
                       "AETERM": ["HEADACHE", "NAUSEA", "CRS", "FATIGUE"],
                       "AEDECOD": ["Headache", "Nausea", "Cytokine release syndrome", "Fatigue"],
                       "AEBODSYS": ["Nervous", "GI", "Immune", "General"],
                       "AESTDTC": ["2023-01-08", "2023-01-11", "2023-01-20", "2023-02"],
                       "AEENDTC": ["2023-01-09", "2023-01-12", "2023-01-25", ""], "AETOXGR": ["1", "2", "3", "1"],
                       "AESER": ["N", "N", "Y", "N"]})
    # the CD70 spec's TOCIFL/CORTFL read the SUPPAE qualifiers AETOCI/AESTER of its AE form
    suppae = pd.DataFrame({"STUDYID": "CD70", "RDOMAIN": "AE", "USUBJID": "CD70-01", "IDVAR": "AESEQ",
                           "IDVARVAL": ["3", "3", "3", "3"], "QNAM": ["AECRSGR", "AEDLT", "AETOCI", "AESTER"],
                           "QVAL": ["2", "Y", "Y", "N"]})
    rs = pd.DataFrame({"STUDYID": "CD70", "USUBJID": ["CD70-01"] * 4 + ["CD70-02"], "RSSEQ": [1, 2, 3, 4, 1],
                       "RSTESTCD": ["ECOG101", "OVRLRESP", "OVRLRESP", "OVRLRESP", "OVRLRESP"],
                       "RSCAT": ["ECOG", "RECIST 1.1", "RECIST 1.1", "RECIST 1.1", "RECIST 1.1"],
                       "RSSTRESC": ["1", "PR", "PR", "PD", "SD"], "RSSTRESN": [1, np.nan, np.nan, np.nan, np.nan],
                       "RSDTC": ["2023-01-03", "2023-02-26", "2023-03-28", "2023-05-01", "2023-02-10"],
                       "VISIT": ["SCREENING", "WEEK 6", "WEEK 10", "WEEK 15", "WEEK 4"],
                       "VISITNUM": [1, 6, 10, 15, 4]})
    ds = pd.DataFrame({"STUDYID": "CD70", "USUBJID": ["CD70-02"], "DSSEQ": [1], "DSCAT": "DISPOSITION EVENT",
                       "DSSCAT": "STUDY PARTICIPATION",
                       "DSDECOD": "DEATH", "DSTERM": "DISEASE PROGRESSION", "DSSTDTC": "2023-03-01"})
    pc = pd.DataFrame({"STUDYID": "CD70", "USUBJID": "CD70-01", "PCSEQ": [1, 2, 3, 4],
                       "PCTESTCD": "CD70CAR", "PCTEST": "CD70 CAR Transgene",
                       "PCSTRESC": ["<LLOQ", "100", "1000", "500"], "PCSTRESN": [np.nan, 100, 1000, 500],
                       "PCSTRESU": "copies/ug", "PCLLOQ": 10, "PCSPEC": "BLOOD",
                       "PCDTC": ["2023-01-15T09:00", "2023-01-16T10:00", "2023-01-22T10:00", "2023-01-29T10:00"],
                       "PCELTM": ["-PT1H", "P1D", "P7D", "P14D"], "PCTPT": ["PRE", "D2", "D8", "D15"],
                       "PCTPTNUM": [0, 1, 7, 14]})
    return {"DM": dm, "SUPPDM": suppdm, "MI": mi, "EX": ex, "AE": ae, "SUPPAE": suppae, "RS": rs, "DS": ds, "PC": pc, "TU": tu}


@pytest.fixture(scope="module")
def adam():
    config = load_adam_config(SPEC)
    return build_adam(sdtm(), config)


def test_adsl(adam):
    adsl = adam["ADSL"].frame.set_index("USUBJID")
    assert list(adsl.index) == ["CD70-01", "CD70-02"]                   # screen failure excluded
    assert adsl.loc["CD70-01", "TRTSDT"] == sas(2023, 1, 15)
    # 2023-01-15T10:00 → seconds since 1960: days × 86400 + 10 h
    assert adsl.loc["CD70-01", "TRTSDTM"] == sas(2023, 1, 15) * 86400 + 36000
    assert adsl.loc["CD70-01", "LDSTDT"] == sas(2023, 1, 10)
    assert adsl.loc["CD70-01", "AGEGR1"] == "<65" and adsl.loc["CD70-02", "AGEGR1N"] == 2.0
    assert adsl.loc["CD70-02", "DTHDT"] == sas(2023, 3, 1) and adsl.loc["CD70-02", "DTHCAUS"] == "DISEASE PROGRESSION"
    assert adsl.loc["CD70-01", "PART"] == "A" and adsl.loc["CD70-01", "DLTEVLFL"] == "Y"
    # last known alive for subject 1: latest of AE end 01-25, RS 05-01, PC 01-29 → 2023-05-01
    assert adsl.loc["CD70-01", "LSTALVDT"] == sas(2023, 5, 1)
    meta = adam["ADSL"].meta
    assert meta.variable("TRTSDT").format == "DATE9." and meta.variable("TRTSDTM").format == "DATETIME20."
    assert adsl.loc["CD70-02", "PRIORLN"] == 3.0 and meta.variable("PRIORLN").type == "Num"
    assert adsl.loc["CD70-01", "CD70IHC"] == "3+" and adsl.loc["CD70-01", "CD70PCT"] == 80.0
    # ECOG 1 on 01-03, before lymphodepletion (01-10): baseline; subject 2 has no ECOG
    assert adsl.loc["CD70-01", "ECOGBL"] == 1.0 and np.isnan(adsl.loc["CD70-02", "ECOGBL"])
    assert meta.variable("PART").label == "Study Part" and meta.variable("ECOGBL").type == "Num"
    assert adsl.loc["CD70-01", "TRT01A"] == "DL1 IV" and adsl.loc["CD70-01", "TRT01AN"] == 1.0
    # populations: both have a baseline target lesion and a post-infusion RECIST assessment → EFFFL;
    # subject 2: no DLT, last known alive 02-10 = day 27 of the 28-day window → not DLT-evaluable
    assert adsl["EFFFL"].tolist() == ["Y", "Y"] and adsl.loc["CD70-02", "DLTEVLFL"] == "N"
    assert adsl["PKFL"].tolist() == ["Y", "N"] and "BLMEASFL" not in adsl.columns     # helper flags dropped
    assert adsl.loc["CD70-01", "ROUTE"] == "INTRAVENOUS"


def test_adae(adam):
    adae = adam["ADAE"].frame.set_index("AESEQ")
    # TEAE window from lymphodepletion (01-10): 01-08 no, 01-11 yes
    assert adae["TRTEMFL"].tolist() == ["", "Y", "Y", "Y"]
    assert adae.loc[3, "CRSFL"] == "Y" and adae.loc[3, "ASTCTGR"] == "2" and adae.loc[3, "ASTCTGRN"] == 2.0
    # tocilizumab given for the CRS (AETOCI = Y), corticosteroids not (AESTER = N)
    assert adae["TOCIFL"].tolist() == ["", "", "Y", ""] and adae["CORTFL"].tolist() == [""] * 4
    # CRS day 01-20 − infusion 01-15 = 5 < 28 days and AEDLT = Y
    assert adae.loc[3, "DLTFL"] == "Y" and adae.loc[2, "DLTFL"] == ""
    assert adae.loc[4, "ASTDT"] == sas(2023, 2, 1) and adae.loc[4, "ASTDTF"] == "D"
    assert adae.loc[3, "ASTDY"] == 6.0                                   # 01-20 is day 6 from 01-15
    assert adae.loc[2, "AOCCFL"] == "Y" and adae.loc[3, "AOCCFL"] == ""
    assert adae.loc[3, "SRCSEQ"] == 3.0


def test_adrs(adam):
    adrs = adam["ADRS"].frame
    get = lambda s, p: adrs.loc[(adrs.USUBJID == s) & (adrs.PARAMCD == p)].iloc[0]
    # subject 1: PR 02-26 (day 43) and PR 03-28 (30 days later ≥ 28) → confirmed PR, then PD
    assert get("CD70-01", "CBOR")["AVALC"] == "PR" and get("CD70-01", "CBOR")["ADT"] == sas(2023, 2, 26)
    assert get("CD70-01", "CRSP")["AVALC"] == "Y"
    # subject 2: SD on day 27 < 42 → NE; no clinical benefit
    assert get("CD70-02", "BOR")["AVALC"] == "NE" and get("CD70-02", "CB")["AVALC"] == "N"
    assert get("CD70-01", "OVR")["SRCDOM"] == "RS"


def test_adtte(adam):
    adtte = adam["ADTTE"].frame
    get = lambda s, p: adtte.loc[(adtte.USUBJID == s) & (adtte.PARAMCD == p)].iloc[0]
    pfs1 = get("CD70-01", "PFS")
    # PD 05-01 from infusion 01-15: 106 days later → AVAL 107, traced to RSSEQ 3
    assert (pfs1["CNSR"], pfs1["AVAL"], pfs1["SRCDOM"], pfs1["SRCSEQ"]) == (0.0, 107.0, "RS", 4.0)
    os2 = get("CD70-02", "OS")
    assert (os2["CNSR"], os2["AVAL"], os2["EVNTDESC"]) == (0.0, 46.0, "DEATH")   # 03-01 − 01-15 = 45 → 46
    os1 = get("CD70-01", "OS")
    assert (os1["CNSR"], os1["ADT"]) == (1.0, sas(2023, 5, 1))
    dor = get("CD70-01", "DOR")
    # first confirmed response 02-26 → PD 05-01: 64 days later → 65
    assert (dor["STARTDT"], dor["AVAL"], dor["CNSR"]) == (sas(2023, 2, 26), 65.0, 0.0)
    assert set(adtte.loc[adtte.PARAMCD == "DOR", "USUBJID"]) == {"CD70-01"}


def test_adpc_adpp_pp(adam):
    adpc = adam["ADPC"].frame
    # pre-dose sample 1 h before infusion; then 1, 7, 14 days after
    assert adpc["AFRLT"].round(4).tolist() == [round(-1 / 24, 4), 1.0, 7.0, 14.0]
    assert adpc["NFRLT"].round(4).tolist() == [round(-1 / 24, 4), 1.0, 7.0, 14.0]
    assert adpc["BLQFL"].tolist() == ["Y", "", "", ""]
    adpp = adam["ADPP"].frame.set_index("PARAMCD")
    assert adpp.loc["CMAX", "AVAL"] == 1000.0 and adpp.loc["TMAX", "AVAL"] == 7.0
    assert np.isnan(adpp.loc["AUC28D", "AVAL"])          # profile ends on day 14 < 28: not extrapolated
    assert adpp.loc["AUC28D", "AVALU"] == "day*copies/ug"
    pp = adam["PP"].frame
    assert pp["PPTESTCD"].tolist() == ["CMAX", "TMAX", "CLST", "TLST", "AUCINT", "AUCINT"]
    assert pp["PPTEST"].iloc[0] == "Max Conc" and pp["PPENINT"].tolist()[-2:] == ["P28D", "P90D"]
    assert pp["PPSTAT"].tolist()[-1] == "NOT DONE" and pp["PPSEQ"].tolist() == [1, 2, 3, 4, 5, 6]
    assert pp["PPRFTDTC"].iloc[0] == "2023-01-15T10:00:00" and pp["PPSPEC"].iloc[0] == "BLOOD"


def test_every_output_has_complete_metadata(adam):
    for name, ds in adam.items():
        assert ds.meta.variable_names == list(ds.frame.columns), name
        for v in ds.meta.variables:
            assert len(v.name) <= 8 and 0 < len(v.label) <= 40, (name, v.name)
            if v.name.endswith("DT") and v.type == "Num":
                assert v.format == "DATE9."
        if "PARAMCD" in ds.frame:
            assert ds.frame["PARAMCD"].str.len().max() <= 8


def test_rerun_is_identical(adam):
    again = build_adam(sdtm(), load_adam_config(SPEC))
    for name in adam:
        pd.testing.assert_frame_equal(adam[name].frame, again[name].frame)


def test_unknown_spec_key_is_named(tmp_path):
    bad = tmp_path / "adam.yaml"
    bad.write_text("adsl: {product_extrt: X, prodcut: Y}\npk: {analyte: A}\n")
    with pytest.raises(SpecError) as err:
        load_adam_config(bad)
    assert "prodcut" in str(err.value) and str(bad) in str(err.value)
    with pytest.raises(SpecError):
        adam_config_from_dict({"adsl": {}, "pk": {"analyte": "A"}})   # product_extrt is required


def lb_frame():
    """CRP for subject 1 (infusion 01-15, lymphodepletion 01-10): screening, pre-infusion (LOBXFL), two after."""
    return pd.DataFrame({"STUDYID": "CD70", "USUBJID": "CD70-01", "LBSEQ": [1, 2, 3, 4], "LBTESTCD": "CRP",
                         "LBTEST": "C Reactive Protein", "LBCAT": "CYTOKINES", "LBSTRESC": ["5", "8", "40", "20"],
                         "LBSTRESN": [5.0, 8.0, 40.0, 20.0], "LBSTRESU": "mg/L", "LBSTNRLO": 0.0, "LBSTNRHI": 10.0,
                         "LBNRIND": ["NORMAL", "NORMAL", "HIGH", "HIGH"], "LBLOBXFL": ["", "Y", "", ""],
                         "LBDTC": ["2023-01-03", "2023-01-14", "2023-01-17", "2023-01-20"]})


def test_adlb_baseline_from_lobxfl_and_change_after_it():
    out = build_adam({**sdtm(), "LB": lb_frame()}, load_adam_config(SPEC))["ADLB"].frame
    assert out["PARAM"].iloc[0] == "C Reactive Protein (mg/L)" and out["AVALU"].iloc[0] == "mg/L"
    assert out["ABLFL"].tolist() == ["", "Y", "", ""] and out["BASE"].tolist() == [8.0] * 4
    # 40 − 8 = 32 (+400 %), 20 − 8 = 12 (+150 %); screening and baseline records carry no change
    assert out["CHG"].tolist()[2:] == [32.0, 12.0] and out["PCHG"].tolist()[2:] == [400.0, 150.0]
    assert out["CHG"].iloc[:2].isna().all()
    assert out["ADY"].tolist() == [-12.0, -1.0, 3.0, 6.0]           # from the 01-15 infusion, no day 0
    assert out["BNRIND"].tolist() == ["NORMAL"] * 4 and out["SRCSEQ"].tolist() == [1.0, 2.0, 3.0, 4.0]


def test_adlb_baseline_derived_on_or_before_a_chosen_date():
    raw = yaml.safe_load(SPEC.read_text())
    raw["adlb"] = {"baseline_date": "LDSTDT"}        # no baseline_flag: derive it
    out = build_adam({**sdtm(), "LB": lb_frame()}, adam_config_from_dict(raw))["ADLB"].frame
    # last value on/before lymphodepletion (01-10) is the screening 5.0
    assert out["ABLFL"].tolist() == ["Y", "", "", ""] and out["CHG"].tolist()[1:] == [3.0, 35.0, 15.0]


def test_arm_code_no_group_lists_takes_its_dm_arm():
    # Changed deliberately (issue #15): an ARMCD the spec's treatment groups do not list is no longer an
    # error; TRT01P/TRT01A come from DM ARM/ACTARM ("DL1"), numbered after the highest group number (2 + 1).
    raw = yaml.safe_load(SPEC.read_text())
    raw["adsl"]["treatments"] = [{"label": "DL2 IV", "n": 2, "armcd": ["A-IV-DL2"]}]
    adsl = build_adam(sdtm(), adam_config_from_dict(raw))["ADSL"].frame
    assert adsl["TRT01P"].tolist() == ["DL1", "DL1"] and adsl["TRT01A"].tolist() == ["DL1", "DL1"]
    assert adsl["TRT01PN"].tolist() == [3.0, 3.0] and adsl["TRT01AN"].tolist() == [3.0, 3.0]


def test_declared_supp_qualifier_no_record_carries_is_blank_not_an_error():
    """SUPPAE keeps only non-blank values: in a study where no AE was treated with tocilizumab, AETOCI is
    absent from SUPPAE; the CD70 spec declares it in adae.supp_qualifiers, so TOCIFL is simply blank."""
    data = sdtm()
    data["SUPPAE"] = data["SUPPAE"][~data["SUPPAE"]["QNAM"].isin(["AETOCI", "AESTER"])]
    adae = build_adam(data, load_adam_config(SPEC))["ADAE"].frame
    assert adae["TOCIFL"].tolist() == [""] * 4 and adae["CORTFL"].tolist() == [""] * 4
    assert adae.loc[adae["AESEQ"] == 3, "CRSFL"].tolist() == ["Y"]


def test_an_undeclared_absent_variable_in_a_flag_filter_is_still_a_spec_error():
    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    spec["adae"]["supp_qualifiers"] = []
    data = sdtm()
    data["SUPPAE"] = data["SUPPAE"][data["SUPPAE"]["QNAM"] != "AETOCI"]
    with pytest.raises(SpecError, match="AETOCI"):
        build_adam(data, adam_config_from_dict(spec, path=SPEC))
