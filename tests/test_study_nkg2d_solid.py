"""The bundled NKG2D CAR-T (KD-025) solid-tumour study: its raw export, its SDTM, and endpoints
recomputed from the SDTM by hand (independently of the ADaM code).

Expected values were read off the bundled raw files and worked out by hand (dates, RECIST 1.1
response table from the paper); the tests never call the code under test twice to get them.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from trialforge.pipeline import build_adam_stage
from trialforge.sdtm.engine import build_sdtm
from trialforge.specs.study import load_study
from trialforge.synth.command import synth_command
from trialforge.synth.nkg2d_solid import DEFAULT_N, DEFAULT_SEED, FORMS, build_forms
from trialforge.validation.runner import validate_datasets

STUDY = Path(__file__).resolve().parents[1] / "examples" / "nkg2d-solid"
LANDMARKS = {1: "MONTH 1", 2: "MONTH 2", 3: "MONTH 3", 6: "MONTH 6", 12: "MONTH 12"}


# ---------------------------------------------------------------- raw export
def test_bundled_raw_equals_the_generator_default_output(tmp_path):
    out = tmp_path / "raw"
    res = CliRunner().invoke(synth_command, ["--study", "nkg2d-solid", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert f"{DEFAULT_N} screened subjects (seed {DEFAULT_SEED})" in res.output
    written = sorted(p.name for p in out.iterdir())
    bundled = sorted(p.name for p in (STUDY / "raw").iterdir())
    assert written == bundled == sorted(f"{name}.csv" for name in FORMS)
    for name in written:
        assert (out / name).read_bytes() == (STUDY / "raw" / name).read_bytes(), name


def test_raw_layout_is_redcap_like_with_vendor_transfers():
    enrol = pd.read_csv(STUDY / "raw" / "enrolment.csv", dtype=str, keep_default_na=False)
    assert list(enrol.columns[:3]) == ["record_id", "redcap_event_name", "consent_date"]
    assert {"race___1", "race___2", "race___3", "race___4"} <= set(enrol.columns)      # checkbox columns
    assert set(enrol[["race___1", "race___2", "race___3", "race___4"]].stack()) <= {"0", "1"}
    assert enrol["consent_date"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()              # ISO dates
    mh = pd.read_csv(STUDY / "raw" / "medical_history.csv", dtype=str, keep_default_na=False)
    assert mh["mh_start"].str.contains("UNK").any()                                     # partial dates with UNK
    assert (mh["redcap_repeat_instrument"] == "medical_history").all()
    lab = pd.read_csv(STUDY / "raw" / "central_lab_transfer.csv", dtype=str, keep_default_na=False)
    assert lab["Result"].str.fullmatch(r"\d\.\d{2}E[+-]\d{2}|<\d+(\.\d+)?").all()       # scientific notation
    pk = pd.read_csv(STUDY / "raw" / "cell_kinetics_transfer.csv", dtype=str, keep_default_na=False)
    assert pk["RESULT"].str.fullmatch(r"\d\.\d{2}E[+-]\d{2}|BQL|POSITIVE|NEGATIVE|").all()


def test_generator_is_deterministic_and_scales(tmp_path):
    a = build_forms(7, 3)
    b = build_forms(7, 3)
    for name in FORMS:
        pd.testing.assert_frame_equal(a[name], b[name])
    assert build_forms(7, 4)["enrolment"]["consent_date"].tolist() != a["enrolment"]["consent_date"].tolist()
    one = build_forms(1, 5)
    assert len(one["enrolment"]) == 1 and len(one["subject_status"]) == 1


# RECIST 1.1 overall response (Eisenhauer 2009, tables 1 and 2), written from the paper with the
# generator's codes: target 1 CR 2 PR 3 SD 4 PD 5 NE 6 no target lesions; non-target 1 CR
# 2 non-CR/non-PD 3 PD 4 NE 5 no non-target lesions; overall 1 CR 2 PR 3 SD 4 PD 5 NE 6 non-CR/non-PD.
def _recist_overall(trg: str, ntg: str, new: str) -> str:
    if new == "1" or trg == "4" or ntg == "3":
        return "4"
    if trg == "6":                                   # non-measurable disease only (table 2)
        return {"1": "1", "2": "6", "4": "5"}[ntg]
    if trg == "1":
        return "1" if ntg in ("1", "5") else "2"
    if trg == "2":
        return "2"
    if trg == "3":
        return "3"
    return "5"


@pytest.fixture(scope="module")
def big():
    return build_forms(100, 11)


def test_clinical_course_is_coherent(big):
    def dates(name, col, by="record_id"):
        f = big[name]
        return f[f[col] != ""].groupby(by)[col].agg(["min", "max"])
    consent = big["enrolment"].set_index("record_id")["consent_date"]
    ld = dates("lymphodepletion", "ld_date")
    inf = big["car_t_infusion"].set_index("record_id")["inf_date"]
    assert (consent[ld.index] < ld["min"]).all()
    assert (ld["max"] < inf[ld.index]).all()
    assert set(ld.index) == set(inf.index)
    # first lymphodepletion dose is day -5
    days = (pd.to_datetime(inf[ld.index]) - pd.to_datetime(ld["min"])).dt.days
    assert (days == 5).all()
    # responses: overall follows the RECIST table, nothing after progression, nothing after death
    rs = big["recist_response"]
    derived = [_recist_overall(t, n, w) for t, n, w in zip(rs["target_resp"], rs["nontarget_resp"], rs["new_lesions"])]
    assert derived == rs["overall_resp"].tolist()
    last = rs.groupby("record_id")["resp_date"].max()
    first_pd = rs[rs["overall_resp"] == "4"].groupby("record_id")["resp_date"].min()
    assert (first_pd == last[first_pd.index]).all()
    st = big["subject_status"].set_index("record_id")
    dead = st[st["death_yn"] == "1"]
    assert (dead["death_date"] != "").all() and (st.loc[st["death_yn"] == "0", "death_date"] == "").all()
    both = last.index.intersection(dead.index)
    assert (last[both] <= dead.loc[both, "death_date"]).all()
    ae = big["adverse_events"]
    ae_dead = ae[ae["record_id"].isin(dead.index)]
    assert (ae_dead["ae_start_date"].to_numpy() <= dead.loc[ae_dead["record_id"], "death_date"].to_numpy()).all()
    assert (inf <= st.loc[inf.index, "last_contact_date"]).all()
    assert (st["last_contact_date"] <= "2025-06-30").all()


# ---------------------------------------------------------------- SDTM
@pytest.fixture(scope="module")
def sdtm():
    return build_sdtm(load_study(STUDY))


@pytest.fixture(scope="module")
def adam(sdtm):
    datasets, _pp = build_adam_stage(load_study(STUDY), sdtm)
    return datasets


def test_sdtm_gate_has_no_errors(sdtm):
    expected = {"DM", "AE", "SUPPAE", "EX", "DS", "MH", "CM", "LB", "PC", "IS", "TU", "TR", "RS", "TS", "TA",
                "TE", "TI", "TV", "SE", "RELREC", "VS"}
    assert expected <= set(sdtm)
    report = validate_datasets(sdtm, scope="SDTM")
    assert not report.has_errors, [f for f in report.findings if f.severity == "error"][:5]


def test_dm_maps_the_redcap_codes(sdtm):
    dm = sdtm["DM"].frame.set_index("SUBJID")
    # enrolment.csv row 1001: sex 1, race___1 ticked, dose cohort 1 in part 1, infused 2023-05-04 11:05
    assert dm.loc["1001", ["SEX", "RACE", "ARMCD", "RFSTDTC", "RFICDTC"]].tolist() == \
        ["M", "ASIAN", "ESC-DL1", "2023-05-04T11:05", "2023-03-31"]
    assert dm.loc["1008", "ARMNRS"] == "SCREEN FAILURE" and dm.loc["1008", "ARMCD"] == ""
    assert dm.loc["1015", "ARMNRS"] == "ASSIGNED, NOT TREATED" and dm.loc["1015", "ARMCD"] == "EXP-DL2"
    assert dm.loc["1018", "BRTHDTC"] == "1986"                                    # 1986-UNK-UNK


def _frame(sdtm, name):
    return sdtm[name].frame


def test_time_to_return_to_baseline_of_one_subject_from_pc(sdtm, adam):
    """Subject 1003, NKG2D CAR transgene by qPCR. Baseline: the pre-lymphodepletion sample (BLQ).
    Peak at Day 7 (9.26E+03 copies/ug). The first later sample back at baseline (BLQ again) is the
    Month 3 sample of 2023-09-27T08:05. Times run from the start of the infusion (DM.RFSTDTC
    2023-06-26T10:55, the ADaM's TRTSDTM): 93 days minus 2 h 50 min = 92.8819 days, within 6 months."""
    pc = _frame(sdtm, "PC")
    dm = _frame(sdtm, "DM").set_index("USUBJID")
    subject = "KD025-NKG2D-101-1003"
    start = pd.Timestamp(dm.loc[subject, "RFSTDTC"])
    assert start == pd.Timestamp("2023-06-26T10:55")
    p = pc[(pc["USUBJID"] == subject) & (pc["PCTESTCD"] == "NKG2DCAR") & (pc["PCSTAT"] != "NOT DONE")]
    p = p.assign(t=(pd.to_datetime(p["PCDTC"]) - start).dt.total_seconds() / 86400).sort_values("t")
    base = p[p["t"] < 0].iloc[0]                   # pre-lymphodepletion sample
    assert base["PCTPT"] == "PRE-LD" and base["PCSTRESC"] == "BLQ"
    peak = p.loc[p["PCSTRESN"].idxmax()]
    assert (peak["VISIT"], peak["PCSTRESN"]) == ("DAY 7", 9260.0)
    returned = p[(p["t"] > peak["t"]) & (p["PCSTRESC"] == "BLQ")].iloc[0]
    assert returned["PCDTC"] == "2023-09-27T08:05"
    expected = (datetime(2023, 9, 27, 8, 5) - datetime(2023, 6, 26, 10, 55)).total_seconds() / 86400
    assert returned["t"] == pytest.approx(expected) == pytest.approx(92.8819, abs=1e-4)
    assert returned["t"] <= 183                    # within 6 months of the infusion
    # time to peak: Day 7 sample 2023-07-03T08:40, 6 days 21 h 45 min after the start of the infusion
    assert peak["t"] == pytest.approx(6 + 21 / 24 + 45 / 1440)
    # the ADaM (declared pk.persistence / NCA) agrees
    pp = adam["ADPP"].frame
    mine = pp[(pp["USUBJID"] == subject) & (pp["PARCAT2"] == "NKG2DCAR")].set_index("PARAMCD")["AVAL"]
    # two profiles: the transgene's parameters carry the declared suffix TG (adam.yaml pk.profiles; issue #16)
    assert mine["TRTBLTG"] == pytest.approx(expected)
    assert mine["TMAXTG"] == pytest.approx(peak["t"])


def test_complete_response_rate_at_each_landmark_month_from_rs(sdtm, adam):
    """CR rate at months 1, 2, 3, 6 and 12: subjects whose RECIST 1.1 overall response at that
    month's assessment is CR, over treated subjects with measurable disease at baseline (a target
    lesion in TU), as in the ORR population. Read off recist_response.csv by hand: 15 measurable
    treated subjects; CR at Month 2: 1009; Month 3 and 6: 1005, 1009, 1017; Month 12: 1005, 1009."""
    dm = _frame(sdtm, "DM")
    treated = set(dm.loc[dm["ACTARMCD"] != "", "USUBJID"])
    tu = _frame(sdtm, "TU")
    measurable = set(tu.loc[tu["TUSTRESC"] == "TARGET", "USUBJID"]) & treated
    supp = _frame(sdtm, "SUPPDM")
    flagged = set(supp.loc[(supp["QNAM"] == "MEASDIS") & (supp["QVAL"] == "Y"), "USUBJID"]) & treated
    assert measurable == flagged
    rs = _frame(sdtm, "RS")
    ovr = rs[(rs["RSTESTCD"] == "OVRLRESP") & (rs["RSCAT"] == "RECIST 1.1") & rs["USUBJID"].isin(measurable)]
    rates = {}
    for month, visit in LANDMARKS.items():
        cr = set(ovr.loc[(ovr["VISIT"] == visit) & (ovr["RSSTRESC"] == "CR"), "USUBJID"])
        rates[month] = (len(cr), len(measurable))
    assert len(measurable) == 15
    assert rates == {1: (0, 15), 2: (1, 15), 3: (3, 15), 6: (3, 15), 12: (2, 15)}
    # the ADaM landmark parameters (adam.yaml adrs.landmarks) agree
    rs_adam = adam["ADRS"].frame
    for month, (n_cr, n) in rates.items():
        lm = rs_adam[rs_adam["PARAMCD"] == f"CRM{month}"]
        assert (int((lm["AVALC"] == "Y").sum()), len(lm)) == (n_cr, n), month


def test_adam_gate_has_no_errors_and_every_endpoint_has_a_parameter(adam):
    report = validate_datasets(adam, scope="ADaM")
    assert not report.has_errors, [f for f in report.findings if f.severity == "error"][:5]
    params = {name: set(ds.frame["PARAMCD"]) for name, ds in adam.items() if "PARAMCD" in ds.frame}
    assert {"OS", "PFS", "DOR"} <= params["ADTTE"]
    assert {"BOR", "RSP", "CRM1", "CRM2", "CRM3", "CRM6", "CRM12"} <= params["ADRS"]
    # one PARAMCD per analyte x specimen profile (issue #16): TG = transgene by qPCR, FC = CAR+ cells by flow
    assert {f"{c}{s}" for c in ("TMAX", "TRTBL", "CMAX") for s in ("TG", "FC")} <= params["ADPP"]
    assert {"FLUDOSE", "CYCDOSE", "CARTDKG"} <= params["ADEX"]
    adae = adam["ADAE"].frame
    assert {"TRTEMFL", "DLTFL", "CRSFL", "ICANSFL", "ASTCTGR"} <= set(adae.columns)
    # DLTs only within the 3-month window after the infusion
    dlt = adae[adae["DLTFL"] == "Y"]
    assert len(dlt) and ((dlt["ASTDT"] - dlt["TRTSDT"]) <= 90).all()
