"""BOR and confirmed BOR, admiralonco rules, on hand-built assessment sequences (days from start 0)."""
import pandas as pd
import pytest

from trialforge.adam.response import derive_param_bor, derive_param_confirmed_bor, derive_param_response


def run(seq, confirmed=True, **kw):
    """seq: list of (day, response) for one subject whose treatment started on day 0."""
    adsl = pd.DataFrame({"STUDYID": ["S"], "USUBJID": ["1"], "TRTSDT": [0.0]})
    ovr = pd.DataFrame({"STUDYID": "S", "USUBJID": "1", "ADT": [float(d) for d, _ in seq],
                        "AVALC": [r for _, r in seq]})
    fn = derive_param_confirmed_bor if confirmed else derive_param_bor
    out = fn(ovr, adsl, filter_source=None, **kw)
    return out["AVALC"].iloc[0], out["ADT"].iloc[0], out["AVAL"].iloc[0]


def test_cr_then_ne_then_cr_is_confirmed_with_one_ne_allowed():
    # CR d50, NE d64, CR d85: 85 − 50 = 35 ≥ 28, one NE between ≤ max_nr_ne 1 → CR from d50
    assert run([(50, "CR"), (64, "NE"), (85, "CR")]) == ("CR", 50.0, 1.0)


def test_cr_then_ne_then_cr_not_confirmed_when_no_ne_allowed():
    # max_nr_ne 0: CR d50 unconfirmed; CR d85 has no later confirmation → both count as SD (≥ day 42)
    assert run([(50, "CR"), (64, "NE"), (85, "CR")], max_nr_ne=0)[:2] == ("SD", 50.0)


def test_confirmation_needs_ref_confirm_days():
    # CR d50 and CR d70: only 20 days apart < 28 → SD
    assert run([(50, "CR"), (70, "CR")])[0] == "SD"
    assert run([(50, "CR"), (70, "CR")], ref_confirm=14)[0] == "CR"


def test_pr_then_pd_is_sd_when_pr_after_window():
    # PR d43 (≥ 42) unconfirmed → SD; PD d70 ranks below SD
    assert run([(43, "PR"), (70, "PD")]) == ("SD", 43.0, 3.0)


def test_pr_then_pd_is_pd_when_pr_too_early():
    # PR d30 (< 42) unconfirmed and too early for SD → NE; PD d70 is better than NE
    assert run([(30, "PR"), (70, "PD")]) == ("PD", 70.0, 5.0)


def test_sd_too_early_is_ne():
    assert run([(20, "SD")]) == ("NE", 20.0, 6.0)
    assert run([(20, "SD")], ref_start_window=14)[0] == "SD"


def test_pr_confirmed_and_pr_unconfirmed():
    # PR d45, PR d80 (35 days later, nothing between) → confirmed PR
    assert run([(45, "PR"), (80, "PR")])[0] == "PR"
    # PR d45, SD d60, PR d80: SD in the confirmation window is not accepted by default → SD
    assert run([(45, "PR"), (60, "SD"), (80, "PR")])[0] == "SD"
    assert run([(45, "PR"), (60, "SD"), (80, "PR")], accept_sd=True)[0] == "PR"


def test_pr_confirmed_by_cr_then_cr_not_confirmed():
    # PR d45, CR d80: PR confirmed by the CR; the CR itself has no confirmation → PR
    assert run([(45, "PR"), (80, "CR")])[0] == "PR"


def test_unconfirmed_bor_counts_single_pr():
    assert run([(30, "PR"), (70, "PD")], confirmed=False) == ("PR", 30.0, 2.0)


def test_subject_without_assessments_is_missing_or_ne():
    adsl = pd.DataFrame({"STUDYID": ["S"], "USUBJID": ["9"], "TRTSDT": [0.0]})
    ovr = pd.DataFrame({"STUDYID": ["S"], "USUBJID": ["1"], "ADT": [50.0], "AVALC": ["CR"]})
    out = derive_param_bor(ovr, adsl, filter_source=None)
    assert (out["AVALC"].iloc[0], out["AVAL"].iloc[0]) == ("MISSING", 7.0)
    assert derive_param_bor(ovr, adsl, filter_source=None, missing_as_ne=True)["AVALC"].iloc[0] == "NE"


def test_responder_and_clinical_benefit():
    adsl = pd.DataFrame({"STUDYID": "S", "USUBJID": ["1", "2", "3"]})
    bor = pd.DataFrame({"STUDYID": "S", "USUBJID": ["1", "2", "3"], "AVALC": ["CR", "SD", "PD"],
                        "ADT": [50.0, 60.0, 70.0]})
    rsp = derive_param_response(adsl, bor)
    cb = derive_param_response(adsl, bor, responses=("CR", "PR", "SD", "NON-CR/NON-PD"))
    assert rsp["AVALC"].tolist() == ["Y", "N", "N"] and cb["AVALC"].tolist() == ["Y", "Y", "N"]
