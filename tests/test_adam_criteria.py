"""Response criteria as data: each shipped criterion's BOR and responder status on a hand-worked sequence.

Sequences are (day from the reference date 0, response). Expected BOR follows from each criterion's
publication: best category first; stable-type responses count only from the criterion's minimum interval.
"""
import pandas as pd
import pytest

from trialforge.adam.criteria import load_criteria
from trialforge.adam.response import derive_param_bor, derive_param_confirmed_bor, derive_param_response
from trialforge.errors import DatasetReadError, SpecError

CRITERIA = load_criteria()


def bor(name, seq, confirmed=False):
    crit = CRITERIA[name]
    adsl = pd.DataFrame({"STUDYID": ["S"], "USUBJID": ["1"], "TRTSDT": [0.0]})
    ovr = pd.DataFrame({"STUDYID": "S", "USUBJID": "1", "ADT": [float(d) for d, _ in seq],
                        "AVALC": [r for _, r in seq]})
    fn = derive_param_confirmed_bor if confirmed else derive_param_bor
    best = fn(ovr, adsl, filter_source=None, criterion=crit)
    rsp = derive_param_response(adsl, best, responses=crit.codes_where("response"))
    return best["AVALC"].iloc[0], best["ADT"].iloc[0], rsp["AVALC"].iloc[0]


def test_every_required_criterion_is_shipped():
    assert {"RECIST 1.1", "iRECIST", "Lugano 2014 CT", "Lugano 2014 PET", "iwCLL 2018", "ELN 2022 AML",
            "Acute leukemia"} <= set(CRITERIA)
    leuk = CRITERIA["Acute leukemia"]
    assert leuk.codes == ("CR", "CRh", "CRi", "MLFS", "PR", "NR", "PD", "RELAPSE", "NE", "ND")
    assert [r.rank for r in leuk.responses] == list(range(1, 11))


@pytest.mark.parametrize("name, seq, expected", [
    # RECIST 1.1: PR at d100 beats SD; ORR counts CR/PR
    ("RECIST 1.1", [(50, "SD"), (100, "PR"), (150, "PD")], ("PR", 100.0, "Y")),
    # RECIST 1.1: SD before the 42-day minimum is NE, so the PD decides
    ("RECIST 1.1", [(30, "SD"), (60, "PD")], ("PD", 60.0, "N")),
    # iRECIST: iSD from d50 (>= 42), unconfirmed then confirmed progression do not beat it; not a response
    ("iRECIST", [(50, "iSD"), (100, "iUPD"), (140, "iCPD")], ("iSD", 50.0, "N")),
    # Lugano CT: no minimum SD interval, CR is the best; a response
    ("Lugano 2014 CT", [(20, "SD"), (30, "PR"), (60, "CR")], ("CR", 60.0, "Y")),
    # Lugano PET: partial metabolic response is a response
    ("Lugano 2014 PET", [(30, "PMR"), (90, "PMD")], ("PMR", 30.0, "Y")),
    # iwCLL 2018: PR with lymphocytosis counts as a response
    ("iwCLL 2018", [(60, "PR-L"), (120, "PD")], ("PR-L", 60.0, "Y")),
    # ELN 2022: CRh ranks above MLFS; both responses
    ("ELN 2022 AML", [(28, "MLFS"), (56, "CRh")], ("CRh", 56.0, "Y")),
    ("ELN 2022 AML", [(28, "NR"), (90, "RELAPSE")], ("NR", 28.0, "N")),
    # acute leukaemia: CRi is a response; relapse afterwards does not change the best response
    ("Acute leukemia", [(28, "CRi"), (90, "RELAPSE")], ("CRi", 28.0, "Y")),
    ("Acute leukemia", [(28, "NR"), (60, "PD")], ("NR", 28.0, "N")),
])
def test_bor_and_orr_per_criterion(name, seq, expected):
    assert bor(name, seq) == expected


def test_iwcll_confirmation_needs_two_months():
    # CR d60 confirmed by CR d120 (60 >= 56 days): confirmed CR; CR d60 + CR d100 (40 days): SD
    assert bor("iwCLL 2018", [(60, "CR"), (120, "CR")], confirmed=True)[0] == "CR"
    assert bor("iwCLL 2018", [(60, "CR"), (100, "CR")], confirmed=True)[0] == "SD"


def test_flags_and_sets():
    leuk = CRITERIA["Acute leukemia"]
    assert leuk.codes_where("response") == ("CR", "CRh", "CRi", "MLFS", "PR")
    assert leuk.codes_where("progression") == ("PD", "RELAPSE")
    assert leuk.select("CRc") == ("CR", "CRh", "CRi") and leuk.select(["cri", "CR"]) == ("CRi", "CR")
    with pytest.raises(SpecError, match="not a response"):
        leuk.select(["iCR"])
    assert leuk.standardize(pd.Series(["CRI", "relapse", "", "Cri"])).tolist() == ["CRi", "RELAPSE", "", "CRi"]
    with pytest.raises(DatasetReadError, match="outside the Acute leukemia responses"):
        leuk.standardize(pd.Series(["VGPR"]))


@pytest.mark.parametrize("name", ["Acute leukemia", "ELN 2022 AML"])
def test_leukaemia_sets_accept_ct_submission_values_and_spelled_out_names(name):
    """CDISC CT C96785 (Oncology Response Assessment Result) values, e.g. RS mapped to CT by another tool."""
    crit = CRITERIA[name]
    given = ["MORPHOLOGIC LEUKEMIA-FREE STATE", "Morphologic CRi", "CR with incomplete hematologic recovery",
             "CR WITH PARTIAL HEMATOLOGIC RECOVERY", "MORPHOLOGIC CR", "RELAPSED DISEASE FROM CR", "NO RESPONSE",
             "Partial Remission", "NOT EVALUABLE"]
    assert crit.standardize(pd.Series(given)).tolist() == [
        "MLFS", "CRi", "CRi", "CRh", "CR", "RELAPSE", "NR", "PR", "NE"]
    # MLFS collected as the CT submission value (ADRS OVR holds the standardized code) is a response (ORR)
    ovr = crit.standardize(pd.Series(["NO RESPONSE", "MORPHOLOGIC LEUKEMIA-FREE STATE"])).tolist()
    assert bor(name, list(zip([28, 56], ovr))) == ("MLFS", 56.0, "Y")


def test_study_file_extends_and_overrides(tmp_path):
    (tmp_path / "criteria.yaml").write_text(
        "name: Study leukemia\nextends: Acute leukemia\nflags: {MLFS: {response: false}}\n"
        "sets: {CRCRI: [CR, CRi]}\n")
    crit = load_criteria(tmp_path)["Study leukemia"]
    assert crit.codes_where("response") == ("CR", "CRh", "CRi", "PR")
    assert crit.select("CRCRI") == ("CR", "CRi")
    assert "Acute leukemia" in load_criteria(tmp_path)         # shipped ones stay


@pytest.mark.parametrize("text, key", [
    ("name: X\nresponses: [{code: CR, respons: true}]\n", "respons"),
    ("name: X\nextends: Nope\n", "extends"),
    ("name: X\nresponses: [{code: CR}]\nconfirmation: {interval_days: 28, rules: {PR: {confirmed_by: [CR]}}}\n",
     "confirmation.rules"),
    ("name: X\nresponses: [{code: CR}, {code: CR}]\n", "responses"),
    ("name: X\nresponses: [{code: CR, synonyms: [REMISSION]}, {code: PR, synonyms: [remission]}]\n",
     "responses.PR.synonyms"),
])
def test_bad_study_criteria_name_the_key_and_file(tmp_path, text, key):
    path = tmp_path / "criteria.yaml"
    path.write_text(text)
    with pytest.raises(SpecError) as err:
        load_criteria(tmp_path)
    assert key in str(err.value) and str(path) in str(err.value)
