"""ADRS SUMDIAM reads its TR/TU codes from the response criterion (``target_sum``), not from package code.

Hand-made TR/TU of two subjects; expected sums added up by hand from the rows below.
"""
from datetime import date

import pandas as pd
import pytest

from trialforge.adam.config import adam_config_from_dict
from trialforge.adam.criteria import load_criteria
from trialforge.adam.recipes.adrs import sumdiam_records
from trialforge.adam.recipes.sdtm_input import SdtmSource
from trialforge.errors import SpecError


def sas(d: str) -> float:
    return float((date.fromisoformat(d) - date(1960, 1, 1)).days)


def source(lesion="LDIAM", node="LPERP", total="SUMDIAM", target="TARGET"):
    ids = ["S-1", "S-2"]
    tu = pd.DataFrame({"STUDYID": "S", "USUBJID": ["S-1", "S-1", "S-1", "S-2"], "TULNKID": ["T1", "T2", "NT1", "T1"],
                       "TUSTRESC": [target, target, "NON-" + target, target]})
    # S-1: baseline 2024-01-01 T1 30 + T2 (node) 12 (+ non-target 99, not summed) = 42;
    #      2024-03-01 T1 20, T2 not measured -> no lesion sum; the CRF sum 31 fills it.
    # S-2: baseline 2023-12-30 T1 50 = 50
    tr = pd.DataFrame({
        "STUDYID": "S",
        "USUBJID": ["S-1", "S-1", "S-1", "S-1", "S-1", "S-2"],
        "TRSEQ": [1, 2, 3, 4, 5, 1],
        "TRLNKID": ["T1", "T2", "NT1", "T1", "", "T1"],
        "TRTESTCD": [lesion, node, lesion, lesion, total, lesion],
        "TRSTRESN": [30.0, 12.0, 99.0, 20.0, 31.0, 50.0],
        "TRDTC": ["2024-01-01", "2024-01-01", "2024-01-01", "2024-03-01", "2024-03-01", "2023-12-30"],
        "VISIT": ["BASELINE", "BASELINE", "BASELINE", "WEEK 8", "WEEK 8", "BASELINE"]})
    adsl = pd.DataFrame({"STUDYID": "S", "USUBJID": ids, "TRTSDT": [sas("2024-01-02"), sas("2024-01-02")]})
    return SdtmSource({"TR": tr, "TU": tu}), adsl


def config(tmp_path, criterion_text=None):
    spec = {"adsl": {"product_extrt": "X"}, "adrs": {"criterion": "RECIST 1.1"}}
    if criterion_text is not None:
        (tmp_path / "criteria.yaml").write_text(criterion_text)
        spec["adrs"]["criterion"] = "Study sums"
        spec["study"] = {"criteria_files": ["criteria.yaml"]}
    return adam_config_from_dict(spec, path=tmp_path / "adam.yaml")


def sums(frame):
    return {(r.USUBJID, r.ADT): (r.AVAL, r.SRCDOM) for r in frame.itertuples()}


EXPECTED = {("S-1", sas("2024-01-01")): (42.0, ""), ("S-1", sas("2024-03-01")): (31.0, "TR"),
            ("S-2", sas("2023-12-30")): (50.0, "")}


def test_shipped_recist_declares_its_tr_codes():
    rule = load_criteria()["RECIST 1.1"].target_sum
    assert (rule.lesion_tests, rule.sum_test, rule.target_status) == (("LDIAM", "LPERP"), "SUMDIAM", "TARGET")
    assert load_criteria()["iRECIST"].target_sum == rule
    assert load_criteria()["Lugano 2014 CT"].target_sum is None      # sums products, not diameters


def test_recist_sums_target_lesions(tmp_path):
    src, adsl = source()
    assert sums(sumdiam_records(src, adsl, config(tmp_path))) == EXPECTED


def test_a_study_criterion_with_other_codes_is_followed(tmp_path):
    text = ("name: Study sums\nextends: RECIST 1.1\ntarget_sum: {lesion_tests: [DIAM, SAXIS], sum_test: SUMLD, "
            "target_status: MEASURED}\n")
    src, adsl = source(lesion="DIAM", node="SAXIS", total="SUMLD", target="MEASURED")
    assert sums(sumdiam_records(src, adsl, config(tmp_path, text))) == EXPECTED
    # the shipped RECIST codes no longer match anything in this TR: nothing is summed under RECIST 1.1
    assert len(sumdiam_records(src, adsl, config(tmp_path))) == 0


def test_a_criterion_without_target_sum_gives_no_sumdiam(tmp_path):
    text = "name: Study sums\nextends: Lugano 2014 CT\n"
    src, adsl = source()
    assert len(sumdiam_records(src, adsl, config(tmp_path, text))) == 0


@pytest.mark.parametrize("body, key", [
    ("{lesion_tests: [], sum_test: S, target_status: T}", "target_sum.lesion_tests"),
    ("{lesion_tests: [A], target_status: T}", "target_sum.sum_test"),
    ("{lesion_tests: [A], sum_test: S, target_status: T, unit: mm}", "target_sum.unit"),
])
def test_bad_target_sum_names_the_key(tmp_path, body, key):
    (tmp_path / "criteria.yaml").write_text(f"name: X\nextends: RECIST 1.1\ntarget_sum: {body}\n")
    with pytest.raises(SpecError) as err:
        load_criteria(tmp_path)
    assert key in str(err.value)
