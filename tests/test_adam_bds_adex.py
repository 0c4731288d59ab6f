"""Declared datasets beyond the built-in ones: findings → BDS (ADIS anti-CAR antibodies, CD7+ counts from
LB), ADEX (lymphodepletion total dose, cell dose per kg from a flat dose), a registered custom dataset,
a second response criterion per RSCAT, and ADSL options (screen failures, untreated TRT01A, DTHCAUS
priority, blank EXENDTC, EXOCCUR). Expected values by hand."""
from datetime import date

import numpy as np
import pandas as pd
import pytest
import yaml

from trialforge.adam.build import build_adam
from trialforge.adam.config import adam_config_from_dict
from trialforge.adam.registry import register_dataset


def sas(y, m, d):
    return float((date(y, m, d) - date(1960, 1, 1)).days)


def sdtm():
    ids = ["C-1", "C-2", "C-3"]
    dm = pd.DataFrame({"STUDYID": "C", "USUBJID": ids, "SUBJID": ["1", "2", "3"], "SITEID": "1", "AGE": 40.0,
                       "AGEU": "YEARS", "SEX": "M", "RACE": "ASIAN", "ETHNIC": "", "COUNTRY": "CHN",
                       "ARM": ["DL1", "DL1", ""], "ARMCD": ["DL1", "DL1", ""], "ACTARM": ["DL1", "", ""],
                       "ACTARMCD": ["DL1", "", ""], "ARMNRS": ["", "", "SCREEN FAILURE"],
                       "DTHDTC": ["2024-03-01", "", ""], "DTHFL": ["Y", "", ""]})
    ex = pd.DataFrame({"STUDYID": "C", "USUBJID": ["C-1"] * 4 + ["C-2"], "EXSEQ": [1, 2, 3, 4, 1],
                       "EXTRT": ["FLUDARABINE"] * 3 + ["CD7 CAR-T CELLS", "CD7 CAR-T CELLS"],
                       "EXDOSE": [30.0, 30.0, 30.0, 1e8, 1e8], "EXDOSU": ["mg/m2"] * 3 + ["cells", "cells"],
                       "EXOCCUR": ["Y", "Y", "Y", "Y", "N"],
                       "EXSTDTC": ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-06", "2024-01-06"],
                       "EXENDTC": ["", "", "", "", ""]})
    vs = pd.DataFrame({"STUDYID": "C", "USUBJID": ["C-1", "C-1"], "VSSEQ": [1, 2], "VSTESTCD": "WEIGHT",
                       "VSSTRESN": [52.0, 50.0], "VSDTC": ["2023-12-20", "2024-01-05"]})
    is_ = pd.DataFrame({"STUDYID": "C", "USUBJID": "C-1", "ISSEQ": [1, 2, 3], "ISTESTCD": "ACARAB",
                        "ISTEST": "Anti-CAR Antibody Titer", "ISSTRESN": [1.0, 40.0, 8.0], "ISSTRESC": ["1", "40", "8"],
                        "ISSTRESU": "titer", "ISSTNRLO": np.nan, "ISSTNRHI": 10.0,
                        "ISDTC": ["2024-01-04", "2024-02-06", "2024-03-01"]})
    lb = pd.DataFrame({"STUDYID": "C", "USUBJID": "C-1", "LBSEQ": [1, 2, 3], "LBTESTCD": ["CD7ABS", "CD7ABS", "HGB"],
                       "LBTEST": ["CD7+ Cells", "CD7+ Cells", "Hemoglobin"], "LBCAT": ["FLOW", "FLOW", "CHEM"],
                       "LBSTRESN": [500.0, 20.0, 120.0], "LBSTRESC": ["500", "20", "120"], "LBSTRESU": "cells/uL",
                       "LBDTC": ["2024-01-05", "2024-01-20", "2024-01-20"]})
    ds = pd.DataFrame({"STUDYID": "C", "USUBJID": ["C-1"], "DSSEQ": [1], "DSCAT": "DISPOSITION EVENT",
                       "DSDECOD": "DEATH", "DSTERM": "", "DSSTDTC": "2024-03-01"})
    dd = pd.DataFrame({"STUDYID": "C", "USUBJID": ["C-1"], "DDSEQ": [1], "DDTESTCD": "PRCDTH",
                       "DDORRES": "SEPSIS", "DDDTC": "2024-03-02"})
    rs = pd.DataFrame({"STUDYID": "C", "USUBJID": "C-1", "RSSEQ": [1, 2, 3, 4], "RSTESTCD": "OVRLRESP",
                       "RSCAT": ["HEME", "HEME", "PET", "PET"], "RSSTRESC": ["CRi", "CR", "PMR", "CMR"],
                       "RSDTC": ["2024-02-05", "2024-03-01", "2024-02-05", "2024-02-28"],
                       "VISIT": ["MONTH 1", "MONTH 2", "MONTH 1", "MONTH 2"]})
    return {"DM": dm, "EX": ex, "VS": vs, "IS": is_, "LB": lb, "DS": ds, "DD": dd, "RS": rs}


@register_dataset("subject_count_test")
def subject_count(src, adsl, config, label="N"):
    return pd.DataFrame({"STUDYID": adsl["STUDYID"].iloc[:1], "USUBJID": adsl["USUBJID"].iloc[:1],
                         "PARAMCD": ["NSUBJ"], "PARAM": [label], "AVAL": [float(len(adsl))]})


SPEC = yaml.safe_load("""
adsl:
  subjects: ""                        # screen failures stay in ADSL
  product_extrt: CD7 CAR-T CELLS
  lymphodepletion_extrt: [FLUDARABINE]
  untreated_trt01a: Not Treated
  screen_failure: {}
  dthcaus_sources:
    - {domain: DS, value: DSTERM, filter: "DSDECOD == 'DEATH'"}
    - {domain: DD, value: DDORRES, filter: "DDTESTCD == 'PRCDTH'"}
adrs:
  criterion: Acute leukemia
  ovr_filter: "RSCAT == 'HEME'"
  sumdiam: false
  more_criteria:
    - {criterion: Lugano 2014 PET, ovr_filter: "RSCAT == 'PET'", suffix: PET}
  landmarks:
    - {paramcd: ORRM1, param: Response at Month 1, visit: MONTH 1}
adtte: {parameters: [OS]}
adlb: {tests: [HGB]}
bds:
  - {dataset: ADIS, domain: IS, label: Anti-CAR Antibody Analysis Dataset, baseline_date: TRTSDT, anrind: derive}
  - {dataset: ADCD7, domain: LB, label: CD7+ Cell Count Analysis Dataset, filter: "LBCAT == 'FLOW'"}
adex:
  parameters:
    - {paramcd: FLUTOT, param: Fludarabine Total Dose (mg/m2), filter: "EXTRT == 'FLUDARABINE'"}
    - {paramcd: CELLKG, param: CAR-T Cell Dose (cells/kg), filter: "EXTRT == 'CD7 CAR-T CELLS'", per_weight: true}
custom:
  - {dataset: ADCOUNT, function: subject_count_test, label: Subject Count, args: {label: Subjects in ADSL}}
pk: {}
""")


@pytest.fixture(scope="module")
def built():
    return build_adam(sdtm(), adam_config_from_dict(SPEC))


def rows(built, name, code=None):
    f = built[name].frame
    return (f if code is None else f.loc[f["PARAMCD"] == code]).set_index("USUBJID")


def test_adsl_options(built):
    adsl = rows(built, "ADSL")
    assert list(adsl.index) == ["C-1", "C-2", "C-3"]
    # C-2's only infusion has EXOCCUR = N: not treated → TRT01A "Not Treated"
    assert np.isnan(adsl.loc["C-2", "TRTSDT"]) and adsl.loc["C-2", "TRT01A"] == "Not Treated"
    assert adsl.loc["C-1", "TRTSDT"] == sas(2024, 1, 6) and adsl.loc["C-1", "LDSTDT"] == sas(2024, 1, 1)
    assert (adsl.loc["C-3", "EOSSTT"], adsl.loc["C-3", "DCSREAS"]) == ("DISCONTINUED", "SCREEN FAILURE")
    # DS death record has a blank DSTERM: the next source (DD) gives the cause
    assert adsl.loc["C-1", "DTHCAUS"] == "SEPSIS"


def test_findings_to_bds(built):
    adis = rows(built, "ADIS")
    assert built["ADIS"].meta.label == "Anti-CAR Antibody Analysis Dataset"
    # baseline = last value on/before TRTSDT 01-06: titer 1 (01-04); 40 → CHG 39, PCHG 3900 %
    assert adis["ABLFL"].tolist() == ["Y", "", ""] and adis["BASE"].tolist() == [1.0] * 3
    assert adis["CHG"].tolist()[1:] == [39.0, 7.0] and adis["PCHG"].tolist()[1:] == [3900.0, 700.0]
    assert adis["ANRIND"].tolist() == ["NORMAL", "HIGH", "NORMAL"] and adis["BNRIND"].tolist() == ["NORMAL"] * 3
    assert adis["ISSEQ"].tolist() == [1.0, 2.0, 3.0] and set(adis["SRCDOM"]) == {"IS"}
    assert "IS.ISSTRESN" in built["ADIS"].meta.variable("AVAL").origin_detail
    cd7 = rows(built, "ADCD7")
    assert cd7["PARAMCD"].tolist() == ["CD7ABS", "CD7ABS"] and cd7["CHG"].tolist()[1] == -480.0
    assert set(rows(built, "ADLB")["PARAMCD"]) == {"HGB"}


def test_adex(built):
    flu, cells = rows(built, "ADEX", "FLUTOT"), rows(built, "ADEX", "CELLKG")
    assert (flu.loc["C-1", "AVAL"], flu.loc["C-1", "AVALU"]) == (90.0, "mg/m2")      # 3 x 30
    # flat 1e8 cells / 50 kg (the last weight on/before TRTSDT 01-06 is 01-05's 50 kg) = 2e6 cells/kg
    assert (cells.loc["C-1", "AVAL"], cells.loc["C-1", "AVALU"]) == (2e6, "cells/kg")


def test_second_criterion_and_visit_landmark(built):
    adrs = built["ADRS"].frame
    bor = adrs.loc[adrs["PARAMCD"].isin(["BOR", "BORPET"]) & (adrs["USUBJID"] == "C-1"),
                   ["PARAMCD", "AVALC", "PARAM"]].values.tolist()
    assert bor == [["BOR", "CR", "Best Overall Response (unconfirmed, Acute leukemia)"],
                   ["BORPET", "CMR", "Best Overall Response (unconfirmed, Lugano 2014 PET)"]]
    assert rows(built, "ADRS", "ORRM1").loc["C-1", "AVALC"] == "Y"        # CRi at MONTH 1 is a response


def test_custom_dataset_function(built):
    assert built["ADCOUNT"].frame["AVAL"].tolist() == [3.0]
    assert built["ADCOUNT"].meta.label == "Subject Count"


def test_plugin_module_registers_a_dataset(tmp_path):
    (tmp_path / "adam_functions.py").write_text(
        "import pandas as pd\n"
        "from trialforge.adam.registry import register_dataset\n\n"
        "@register_dataset('plugin_counts')\n"
        "def counts(sdtm, adsl, config):\n"
        "    return pd.DataFrame({'STUDYID': ['C'], 'USUBJID': ['C-1'], 'PARAMCD': ['NAE'], 'PARAM': ['x'],\n"
        "                         'AVAL': [float(len(sdtm.get('EX')))]})\n")
    spec = {"study": {"plugins": ["adam_functions.py"]}, "adsl": {"product_extrt": "CD7 CAR-T CELLS"},
            "custom": [{"dataset": "ADPLUG", "function": "plugin_counts"}], "datasets": ["ADSL", "ADPLUG"]}
    path = tmp_path / "adam.yaml"
    path.write_text(yaml.safe_dump(spec))
    from trialforge.adam.config import load_adam_config
    built = build_adam(sdtm(), load_adam_config(path))
    assert sorted(built) == ["ADPLUG", "ADSL"] and built["ADPLUG"].frame["AVAL"].tolist() == [5.0]


def _with_ada(flag: bool):
    """SDTM of ``sdtm()`` plus an anti-CAR antibody result POSITIVE/NEGATIVE (ISSTRESC only) for C-1."""
    data = sdtm()
    ada = pd.DataFrame({"STUDYID": "C", "USUBJID": "C-1", "ISSEQ": [4, 5, 6], "ISTESTCD": "ADA",
                        "ISTEST": "Anti-CAR Antibody", "ISSTRESN": np.nan, "ISSTRESC": ["NEGATIVE", "", "POSITIVE"],
                        "ISSTRESU": "", "ISSTNRLO": np.nan, "ISSTNRHI": np.nan,
                        "ISDTC": ["2024-01-02", "2024-01-05", "2024-02-06"]})
    data["IS"] = pd.concat([data["IS"], ada], ignore_index=True)
    # the SDTM flag marks the 01-02 result of ADA and the 01-04 titer
    data["IS"]["ISLOBXFL"] = ["Y", "", "", "Y", "", ""] if flag else ""
    spec = {**SPEC, "bds": [{"dataset": "ADIS", "domain": "IS", "baseline_flag": "ISLOBXFL" if flag else None}],
            "custom": []}
    return build_adam(data, adam_config_from_dict(spec))["ADIS"]


@pytest.mark.parametrize("flag", [False, True])
def test_character_parameter_baseline(flag):
    ds = _with_ada(flag)
    f = ds.frame
    ada = f.loc[f["PARAMCD"] == "ADA"].set_index("ISSEQ")
    # TRTSDT 2024-01-06: the last non-blank result on/before it is NEGATIVE of 01-02 (the 01-05 record is blank)
    assert ada["ABLFL"].tolist() == ["Y", "", ""]
    assert ada["BASEC"].tolist() == ["NEGATIVE"] * 3 and ada["AVALC"].tolist() == ["NEGATIVE", "", "POSITIVE"]
    assert ada[["BASE", "CHG", "PCHG"]].isna().all().all()
    titer = f.loc[f["PARAMCD"] == "ACARAB"]
    assert titer["ABLFL"].tolist() == ["Y", "", ""] and titer["BASE"].tolist() == [1.0] * 3
    assert titer["BASEC"].tolist() == [""] * 3 and titer["CHG"].tolist()[1:] == [39.0, 7.0]
    assert ds.meta.variable("BASEC").label == "Baseline Value (C)"
    assert "AVALC of the baseline record" in ds.meta.variable("BASEC").method
    assert "character parameter" in ds.meta.variable("ABLFL").method


def test_numeric_only_bds_has_no_basec(built):
    assert "BASEC" not in built["ADIS"].frame.columns and "BASEC" not in built["ADLB"].frame.columns


def test_status_results_take_the_baseline_flag_and_absent_sdtm_variables_are_left_out():
    """issue #17: an antibody status (ISSTRESC POSITIVE, no ISSTRESN) flagged ISLOBXFL is the baseline record;
    PARCAT1/ANRLO/ANRHI/ANRIND/BNRIND are not built when IS has no ISCAT/ISSTNRLO/ISSTNRHI/ISNRIND."""
    data = sdtm()
    data["IS"] = pd.DataFrame({"STUDYID": "C", "USUBJID": "C-1", "ISSEQ": [1, 2, 3], "ISTESTCD": "ADA_BAB",
                               "ISTEST": "Binding Antidrug Antibody", "ISSTRESC": ["POSITIVE", "NEGATIVE", "POSITIVE"],
                               "ISSTRESN": np.nan, "ISLOBXFL": ["Y", "", ""], "VISIT": ["DAY -5", "DAY 28", "MONTH 3"],
                               "ISDTC": ["2024-01-01", "2024-02-03", "2024-04-01"]})
    spec = yaml.safe_load("""
adsl: {product_extrt: CD7 CAR-T CELLS, subjects: ""}
datasets: [ADSL, ADIS]
bds:
  - {dataset: ADIS, domain: IS, label: Anti-CAR Antibody Analysis Dataset, baseline_flag: ISLOBXFL}
""")
    adis = build_adam(data, adam_config_from_dict(spec))["ADIS"]
    f = adis.frame
    assert f["AVALC"].tolist() == ["POSITIVE", "NEGATIVE", "POSITIVE"] and f["AVAL"].isna().all()
    assert f["ABLFL"].tolist() == ["Y", "", ""]
    assert not {"PARCAT1", "ANRLO", "ANRHI", "ANRIND", "BNRIND"} & set(f.columns)
    assert "AVALC is not missing" in adis.meta.variable("ABLFL").method
