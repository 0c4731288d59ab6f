"""ADTTE: AVAL = ADT − STARTDT + 1, event/censor selection, PFS censoring options, DOR, OS."""
import numpy as np
import pandas as pd

from trialforge.adam.recipes.adtte import progression_frame, progression_sources
from trialforge.adam.tte import CensorSource, EventSource, derive_param_tte

KEYS = ["STUDYID", "USUBJID"]


def test_event_wins_and_aval_and_trace():
    adsl = pd.DataFrame({"STUDYID": "S", "USUBJID": ["1", "2"], "TRTSDT": [100.0, 100.0]})
    rs = pd.DataFrame({"STUDYID": "S", "USUBJID": ["1", "1", "2"], "ADT": [150.0, 190.0, 160.0],
                       "AVALC": ["PD", "PD", "SD"], "RSSEQ": [7.0, 8.0, 3.0]})
    pd_ev = EventSource("rs", date="ADT", filter="AVALC == 'PD'", copy_vars={"SRCSEQ": "RSSEQ"},
                        set_values_to={"SRCDOM": "RS"})
    last = CensorSource("rs", date="ADT", copy_vars={"SRCSEQ": "RSSEQ"}, set_values_to={"SRCDOM": "RS"})
    out = derive_param_tte(adsl, {"rs": rs}, event_conditions=[pd_ev], censor_conditions=[last],
                           set_values_to={"PARAMCD": "PFS"})
    # subject 1: first PD day 150 (RSSEQ 7) wins although the last assessment (190) is later;
    # AVAL = 150 − 100 + 1 = 51. Subject 2: censored at 160 → 61, traced to RSSEQ 3.
    assert out[["USUBJID", "ADT", "AVAL", "CNSR", "SRCSEQ"]].values.tolist() == [
        ["1", 150.0, 51.0, 0.0, 7.0], ["2", 160.0, 61.0, 1.0, 3.0]]


def test_event_and_censor_same_day_event_wins():
    adsl = pd.DataFrame({"STUDYID": "S", "USUBJID": ["1"], "TRTSDT": [0.0], "DTHDT": [30.0], "LSTALVDT": [30.0]})
    out = derive_param_tte(adsl, {"a": adsl}, event_conditions=[EventSource("a", date="DTHDT")],
                           censor_conditions=[CensorSource("a", date="LSTALVDT")], set_values_to={"PARAMCD": "OS"})
    assert out["CNSR"].tolist() == [0.0] and out["AVAL"].tolist() == [31.0]


def _pfs(ovr_rows, death=np.nan, nact=np.nan, hasbase=True, **opts):
    subjects = pd.DataFrame({"STUDYID": ["S"], "USUBJID": ["1"], "TRTSDT": [0.0], "DTHDT": [death],
                             "NACTDT": [nact], "HASBASE": [hasbase]})
    ovr = pd.DataFrame({"STUDYID": "S", "USUBJID": "1", "ADT": [float(d) for d, _ in ovr_rows],
                        "AVALC": [r for _, r in ovr_rows], "SRCSEQ": [float(i + 1) for i in range(len(ovr_rows))]})
    frame = progression_frame(subjects, ovr, start="TRTSDT", keys=KEYS, **opts)
    ev, cn = progression_sources("pfs")
    out = derive_param_tte(frame, {"pfs": frame}, start_date="STARTDT", event_conditions=ev, censor_conditions=cn,
                           set_values_to={"PARAMCD": "PFS"})
    r = out.iloc[0]
    return r["ADT"], r["CNSR"], r["AVAL"], r["EVNTDESC"], r["SRCSEQ"]


def test_pfs_event_pd():
    # SD d56, PD d112 → event at 112, AVAL 113, traced to the PD record (2nd → SRCSEQ 2)
    adt, cnsr, aval, desc, seq = _pfs([(56, "SD"), (112, "PD")])
    assert (adt, cnsr, aval, desc, seq) == (112.0, 0.0, 113.0, "DISEASE PROGRESSION", 2.0)


def test_pfs_event_death_before_pd():
    assert _pfs([(56, "SD"), (112, "PD")], death=90.0)[:4] == (90.0, 0.0, 91.0, "DEATH")


def test_pfs_censored_at_last_adequate_assessment():
    # SD d56, NE d112 (not adequate) → censored at 56, AVAL 57
    adt, cnsr, aval, desc, seq = _pfs([(56, "SD"), (112, "NE")])
    assert (adt, cnsr, aval, desc, seq) == (56.0, 1.0, 57.0, "LAST ADEQUATE ASSESSMENT", 1.0)


def test_pfs_new_anticancer_therapy():
    rows = [(56, "PR"), (112, "SD"), (168, "PD")]
    # new therapy on d100: assessments from d100 on are ignored → censored at d56 (PR), AVAL 57
    adt, cnsr, aval, desc, _ = _pfs(rows, nact=100.0)
    assert (adt, cnsr, aval) == (56.0, 1.0, 57.0)
    assert desc == "LAST ADEQUATE ASSESSMENT BEFORE NEW ANTICANCER THERAPY"
    # option off: PD d168 is the event
    assert _pfs(rows, nact=100.0, censor_at_new_therapy=False)[:2] == (168.0, 0.0)


def test_pfs_event_after_missed_assessments():
    rows = [(56, "SD"), (250, "PD")]
    # gap 250 − 56 = 194 > 126 allowed → censored at d56; within 200 → event
    assert _pfs(rows, max_gap_days=126)[:2] == (56.0, 1.0)
    assert _pfs(rows, max_gap_days=200)[:2] == (250.0, 0.0)


def test_pfs_no_post_baseline_or_no_baseline_censored_at_start():
    # no assessment at all, no death: censored at start → AVAL 1
    adt, cnsr, aval, desc, _ = _pfs([(-5, "SD")])
    assert (adt, cnsr, aval, desc) == (0.0, 1.0, 1.0, "NO ADEQUATE POST-BASELINE ASSESSMENT")
    # no baseline assessment with the option on: even a PD is censored at start
    assert _pfs([(56, "PD")], hasbase=False, censor_no_baseline=True)[:3] == (0.0, 1.0, 1.0)
    assert _pfs([(56, "PD")], hasbase=False)[:2] == (56.0, 0.0)


def test_dor_starts_at_first_response():
    subjects = pd.DataFrame({"STUDYID": ["S"], "USUBJID": ["1"], "RSPDT": [50.0], "DTHDT": [np.nan],
                             "NACTDT": [np.nan], "HASBASE": [True]})
    ovr = pd.DataFrame({"STUDYID": "S", "USUBJID": "1", "ADT": [50.0, 85.0, 140.0],
                        "AVALC": ["PR", "PR", "PD"], "SRCSEQ": [1.0, 2.0, 3.0]})
    frame = progression_frame(subjects, ovr, start="RSPDT", keys=KEYS)
    ev, cn = progression_sources("dor")
    out = derive_param_tte(frame, {"dor": frame}, start_date="STARTDT", event_conditions=ev, censor_conditions=cn,
                           set_values_to={"PARAMCD": "DOR"})
    # response d50 → PD d140: AVAL = 140 − 50 + 1 = 91
    assert out[["STARTDT", "ADT", "AVAL", "CNSR"]].values.tolist() == [[50.0, 140.0, 91.0, 0.0]]
