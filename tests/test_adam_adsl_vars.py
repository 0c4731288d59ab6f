"""ADSL variables on BDS / OCCDS datasets declared in adam.yaml (``adsl_vars``): the standard default, a
per-dataset list in its order (a study variable such as DOSELVL), ``default`` for the rest, and spec errors.
Expected columns by hand from the declarations."""
import pandas as pd
import pytest

from trialforge.adam.build import build_adam
from trialforge.adam.config import adam_config_from_dict
from trialforge.errors import SpecError

KEYS = ["STUDYID", "USUBJID"]


def sdtm():
    dm = pd.DataFrame({"STUDYID": "S", "USUBJID": ["S-1", "S-2"], "SUBJID": ["1", "2"], "SITEID": "01",
                       "AGE": [50.0, 60.0], "AGEU": "YEARS", "SEX": ["F", "M"], "RACE": "WHITE", "ETHNIC": "",
                       "COUNTRY": "USA", "ARM": "A", "ARMCD": "A", "ACTARM": "A", "ACTARMCD": "A", "ARMNRS": "",
                       "DOSELVL": ["DL1", "DL2"]})
    ex = pd.DataFrame({"STUDYID": "S", "USUBJID": ["S-1", "S-2"], "EXSEQ": [1, 1], "EXTRT": "DRUG",
                       "EXDOSE": [1.0, 2.0], "EXSTDTC": ["2024-01-02", "2024-01-03"], "EXENDTC": ""})
    lb = pd.DataFrame({"STUDYID": "S", "USUBJID": ["S-1", "S-1", "S-2"], "LBSEQ": [1, 2, 1], "LBTESTCD": "HGB",
                       "LBTEST": "Hemoglobin", "LBSTRESN": [120.0, 110.0, 130.0], "LBSTRESC": ["120", "110", "130"],
                       "LBSTRESU": "g/L", "LBDTC": ["2024-01-01", "2024-01-20", "2024-01-01"]})
    ae = pd.DataFrame({"STUDYID": "S", "USUBJID": ["S-2"], "AESEQ": [1], "AETERM": "RASH", "AEDECOD": "Rash",
                       "AEBODSYS": "Skin", "AESTDTC": "2024-01-05", "AEENDTC": "", "AETOXGR": "1"})
    return {"DM": dm, "EX": ex, "LB": lb, "AE": ae}


def build(**adsl_vars):
    spec = {"adsl": {"product_extrt": "DRUG", "populations": {"EFFFL": "SAFFL == 'Y'"},
                     "merged_vars": [{"new_var": "DOSELVL", "domain": "DM", "value": "DOSELVL",
                                      "label": "Dose Level"}]},
            "study": {"labels": {"EFFFL": "Efficacy Population Flag"}}, "adsl_vars": adsl_vars, "pk": {}}
    return build_adam(sdtm(), adam_config_from_dict(spec))


def adsl_part(ds, first_own):
    cols = list(ds.frame.columns)
    return cols[:cols.index(first_own)]


def test_standard_default():
    out = build()
    # ADaMIG core set present in ADSL, then the population flags ENRLFL, SAFFL and the spec's EFFFL
    expected = KEYS + ["SUBJID", "SITEID", "AGE", "SEX", "RACE", "TRT01P", "TRT01PN", "TRT01A", "TRT01AN",
                       "TRTSDT", "TRTEDT", "ENRLFL", "SAFFL", "EFFFL"]
    assert adsl_part(out["ADLB"], "PARAMCD") == expected
    assert adsl_part(out["ADAE"], "TRTA") == expected
    assert "DOSELVL" not in out["ADLB"].frame.columns and "LDSTDT" not in out["ADAE"].frame.columns


def test_declared_lists_in_their_order():
    out = build(ADLB=["DOSELVL", "TRT01A", "SAFFL"], default=["TRT01P", "DOSELVL"])
    lb = out["ADLB"]
    assert adsl_part(lb, "PARAMCD") == KEYS + ["DOSELVL", "TRT01A", "SAFFL"]
    f = lb.frame.set_index("LBSEQ")
    assert f.loc[f["USUBJID"] == "S-2", "DOSELVL"].tolist() == ["DL2"]
    # TRTSDT was read for ADY and dropped: S-1's 01-20 result is day 19 from 01-02
    assert "TRTSDT" not in lb.frame.columns
    assert lb.frame.loc[lb.frame["USUBJID"] == "S-1", "ADY"].tolist() == [-1.0, 19.0]
    assert adsl_part(out["ADAE"], "TRTA") == KEYS + ["TRT01P", "DOSELVL"]
    assert out["ADAE"].frame["TRTA"].tolist() == ["A"]                     # from TRT01A, not kept
    var = lb.meta.variable("DOSELVL")
    assert (var.origin, var.origin_detail, var.label) == ("Predecessor", "ADSL.DOSELVL", "Dose Level")


@pytest.mark.parametrize("decl, key", [
    ({"ADLB": ["PART"]}, "adsl_vars.ADLB"),
    ({"default": ["TRT01P", "NOPE"]}, "adsl_vars.default"),
])
def test_a_name_adsl_lacks_is_a_spec_error(decl, key):
    with pytest.raises(SpecError, match=key.replace(".", r"\.")):
        build(**decl)


@pytest.mark.parametrize("decl", [{"ADSL": ["AGE"]}, {"ADXX": ["AGE"]}, {"ADLB": "AGE"}])
def test_bad_declarations_name_the_key(decl):
    spec = {"adsl": {"product_extrt": "DRUG"}, "adsl_vars": decl, "pk": {}}
    with pytest.raises(SpecError, match="adsl_vars"):
        adam_config_from_dict(spec)


def test_adsl_order_declared_first_then_standard():
    spec = {"adsl": {"product_extrt": "DRUG", "order": ["STUDYID", "USUBJID", "DOSELVL", "TRT01A"],
                     "merged_vars": [{"new_var": "DOSELVL", "domain": "DM", "value": "DOSELVL", "label": "Dose Level"}]},
            "pk": {}}
    cols = list(build_adam(sdtm(), adam_config_from_dict(spec))["ADSL"].frame.columns)
    assert cols[:6] == ["STUDYID", "USUBJID", "DOSELVL", "TRT01A", "SUBJID", "SITEID"]
    # without adsl.order the study variable follows the standard ones (after LSTALVDT)
    del spec["adsl"]["order"]
    cols = list(build_adam(sdtm(), adam_config_from_dict(spec))["ADSL"].frame.columns)
    assert cols.index("DOSELVL") > cols.index("LSTALVDT")
    spec["adsl"]["order"] = ["STUDYID", "PART"]
    with pytest.raises(SpecError, match=r"adsl\.order"):
        build_adam(sdtm(), adam_config_from_dict(spec))
