"""The oncology findings domains of the CD70 CAR-T example (TU, TR, RS, MI, RELREC) against the raw CSVs.

Every check runs on all records. Expected values come from the raw exports read with pandas, the
CT subset file read as a table, and a RECIST 1.1 implementation written here from the guideline
(target response from the measurements; overall response from Table 1), never from the engine.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trialforge.sdtm.engine import build_sdtm
from trialforge.specs.study import load_study

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "cd70-cart"
RAW = EXAMPLE / "raw"
CT_FILE = ROOT / "specs" / "ct" / "sdtm-ct-2022-09-30-subset.tsv"
DOMAINS = ("DM", "EX", "SV", "TU", "TR", "RS", "MI")


def raw(name: str) -> pd.DataFrame:
    frame = pd.read_csv(RAW / name, dtype=str, keep_default_na=False)
    frame["USUBJID"] = frame["STUDYID"] + "-" + frame["SUBJNO"]
    return frame


def iso(dates: pd.Series) -> pd.Series:
    return pd.to_datetime(dates, format="%d %b %Y").dt.strftime("%Y-%m-%d")


@pytest.fixture(scope="module")
def datasets():
    return build_sdtm(replace(load_study(EXAMPLE), domains=DOMAINS))


@pytest.fixture(scope="module")
def sdtm(datasets):
    return {name: ds.frame for name, ds in datasets.items()}


@pytest.fixture(scope="module")
def ct():
    table = pd.read_csv(CT_FILE, sep="\t", dtype=str, keep_default_na=False)
    names = table[table["Codelist Code"] == ""].set_index("Code")["CDISC Submission Value"].to_dict()
    terms = table[table["Codelist Code"] != ""]
    by_code = terms.groupby("Codelist Code")["CDISC Submission Value"].apply(set).to_dict()
    by_name = {names[c]: v for c, v in by_code.items() if names.get(c)}
    return {**by_code, **by_name}


def test_every_oncology_domain_is_written(sdtm):
    for name in ("TU", "TR", "RS", "MI", "SUPPTU", "SUPPMI", "RELREC"):
        assert name in sdtm and len(sdtm[name]) > 0, name


# --- TU -----------------------------------------------------------------------------------------

def test_tu_one_record_per_raw_lesion(sdtm):
    tu, src = sdtm["TU"], raw("tu.csv")
    assert len(tu) == len(src)
    assert not tu.duplicated(["USUBJID", "TULNKID"]).any()
    got = tu.set_index(["USUBJID", "TULNKID"]).sort_index()
    exp = src.set_index(["USUBJID", "LESID"]).sort_index()
    assert list(got.index) == list(exp.index)
    stresc = exp["LESTYPE"].map({"Target": "TARGET", "Non-target": "NON-TARGET", "New": "NEW"})
    assert (got["TUSTRESC"] == stresc.values).all()
    assert (got["TUORRES"] == exp["LESTYPE"].str.upper().values).all()
    assert (got["TUDTC"] == iso(exp["TUDAT"]).values).all()
    assert (got["VISIT"] == exp["VISIT"].str.upper().values).all()
    assert (got["TULAT"] == exp["LATERAL"].str.upper().values).all()
    assert (got["TUMETHOD"] == exp["METHOD"].map({"CT": "CT SCAN", "MRI": "MRI"}).values).all()
    assert set(tu["TUTESTCD"]) == {"TUMIDENT"} and set(tu["TUTEST"]) == {"Tumor Identification"}
    assert set(tu["TUEVAL"]) == {"INVESTIGATOR"}


def test_tu_new_lesions_are_post_baseline_and_baseline_flagged_otherwise(sdtm):
    tu = sdtm["TU"]
    new = tu["TUSTRESC"] == "NEW"
    assert (tu.loc[new, "VISIT"] != "BASELINE").all() and (tu.loc[new, "TUDY"] > 1).all()
    assert (tu.loc[~new, "VISIT"] == "BASELINE").all()
    assert (tu.loc[new, "TULOBXFL"] == "").all()
    # baseline lesions of subjects who started lymphodepletion carry the last-before-exposure flag
    dm = sdtm["DM"].set_index("USUBJID")
    exposed = tu["USUBJID"].map(dm["RFXSTDTC"]).fillna("") != ""
    assert (tu.loc[~new & exposed, "TULOBXFL"] == "Y").all()


def test_tu_supp_keeps_location_detail_and_nodal_flag(sdtm):
    supp, tu, src = sdtm["SUPPTU"], sdtm["TU"], raw("tu.csv")
    seq = tu.assign(IDVARVAL=tu["TUSEQ"].astype(int).astype(str)).set_index(["USUBJID", "IDVARVAL"])["TULNKID"]
    supp = supp.assign(LESID=[seq[(u, v)] for u, v in zip(supp["USUBJID"], supp["IDVARVAL"])])
    wide = supp.pivot(index=["USUBJID", "LESID"], columns="QNAM", values="QVAL")
    exp = src.set_index(["USUBJID", "LESID"]).loc[wide.index]
    assert (wide["TULOCDTL"] == exp["LESDETL"]).all()
    assert (wide["TUNODAL"] == exp["NODAL"].map({"Yes": "Y", "No": "N"})).all()
    assert len(wide) == len(src)


# --- TR -----------------------------------------------------------------------------------------

def test_every_tr_lesion_record_links_to_a_tu_lesion_of_the_same_subject(sdtm):
    tr, tu = sdtm["TR"], sdtm["TU"]
    lesion = tr["TRTESTCD"] != "SUMDIAM"
    assert (tr.loc[lesion, "TRLNKID"] != "").all()
    assert (tr.loc[~lesion, "TRLNKID"] == "").all()          # a sum belongs to an assessment, not a lesion
    tu_keys = set(zip(tu["USUBJID"], tu["TULNKID"]))
    missing = [k for k in zip(tr.loc[lesion, "USUBJID"], tr.loc[lesion, "TRLNKID"]) if k not in tu_keys]
    assert missing == []
    # the lesion's TU type and its TR group agree
    kind = tu.set_index(["USUBJID", "TULNKID"])["TUSTRESC"]
    linked = [kind[k] for k in zip(tr.loc[lesion, "USUBJID"], tr.loc[lesion, "TRLNKID"])]
    assert (tr.loc[lesion, "TRGRPID"].to_numpy() == np.array(linked)).all()


def test_tr_lesion_results_match_the_raw_measurements(sdtm):
    tr, src, tu = sdtm["TR"], raw("tr.csv"), raw("tu.csv")
    lesion = tr[tr["TRTESTCD"] != "SUMDIAM"]
    assert len(lesion) == len(src)
    src = src.merge(tu[["USUBJID", "LESID", "NODAL"]], on=["USUBJID", "LESID"], how="left")
    src["VISIT"] = src["VISIT"].str.upper()
    m = lesion.merge(src, left_on=["USUBJID", "VISIT", "TRLNKID"], right_on=["USUBJID", "VISIT", "LESID"],
                     how="outer", indicator=True, validate="1:1")
    assert (m["_merge"] == "both").all()
    target = m["LESTYPE"] == "Target"
    # nodal target lesions are measured on the short axis (LPERP), others on the longest diameter
    assert (m.loc[target, "TRTESTCD"] == np.where(m.loc[target, "NODAL"] == "Yes", "LPERP", "LDIAM")).all()
    assert (m.loc[~target, "TRTESTCD"] == "TUMSTATE").all()
    done = m["LESSTAT"] != "Not evaluated"
    assert (m.loc[target & done, "TRSTRESN"] == pd.to_numeric(m.loc[target & done, "DIAM"])).all()
    assert (m.loc[target & done, "TRSTRESU"] == "mm").all() and (m.loc[target & done, "TRORRESU"] == "mm").all()
    state = {"Present": "PRESENT", "Absent": "ABSENT", "Unequivocal progression": "UNEQUIVOCAL"}
    assert (m.loc[~target & done, "TRSTRESC"] == m.loc[~target & done, "LESSTAT"].map(state)).all()
    assert (m.loc[~done, "TRSTAT"] == "NOT DONE").all() and (m.loc[~done, "TRORRES"] == "").all()
    assert (m.loc[done, "TRSTAT"] == "").all()
    assert (m["TRDTC"] == iso(m["TRDAT"])).all()


def test_sumdiam_from_the_response_form_equals_the_sum_of_target_diameters(sdtm):
    tr = sdtm["TR"]
    sums = tr[tr["TRTESTCD"] == "SUMDIAM"]
    assert len(sums) == len(raw("rs.csv"))
    # (a) against the raw lesion form, computed with pandas
    src = raw("tr.csv")
    tgt = src[src["LESTYPE"] == "Target"].assign(D=lambda f: pd.to_numeric(f["DIAM"]))
    by_visit = tgt.groupby(["USUBJID", tgt["VISIT"].str.upper()])["D"]
    expected = by_visit.sum().where(by_visit.count() == by_visit.size())
    done = sums["TRSTAT"] == ""
    keys = list(zip(sums["USUBJID"], sums["VISIT"]))
    exp = pd.Series([expected[k] for k in keys], index=sums.index)
    assert (sums.loc[done, "TRSTRESN"] == exp[done]).all()
    assert exp[~done].isna().all() and (sums.loc[~done, "TRORRES"] == "").all()
    assert (sums.loc[done, "TRSTRESU"] == "mm").all()
    # (b) inside TR: the same assessment's target-lesion records (TRLNKGRP groups an assessment)
    lesions = tr[tr["TRGRPID"] == "TARGET"].query("TRTESTCD != 'SUMDIAM'")
    in_tr = lesions.groupby(["USUBJID", "TRLNKGRP"])["TRSTRESN"].sum(min_count=1)
    assert (sums.loc[done, "TRSTRESN"].to_numpy() ==
            np.array([in_tr[k] for k in zip(sums.loc[done, "USUBJID"], sums.loc[done, "TRLNKGRP"])])).all()


def test_tr_test_codes_and_names_are_ct_pairs(sdtm, ct):
    tr = sdtm["TR"]
    assert set(tr["TRTESTCD"]) <= ct["TRTESTCD"] and set(tr["TRTEST"]) <= ct["TRTEST"]
    pairs = set(zip(tr["TRTESTCD"], tr["TRTEST"]))
    assert pairs == {("LDIAM", "Longest Diameter"), ("LPERP", "Longest Perpendicular"),
                     ("TUMSTATE", "Tumor State"), ("SUMDIAM", "Sum of Diameter")}
    state = tr.loc[tr["TRTESTCD"] == "TUMSTATE", "TRSTRESC"]
    assert set(state) - {""} <= ct["TRPROPRS"]
    assert set(tr["TRMETHOD"]) - {""} <= ct["METHOD"] and set(tr["TRSTAT"]) - {""} <= ct["ND"]


def test_baseline_measurements_carry_the_last_observation_before_exposure_flag(sdtm):
    tr, dm = sdtm["TR"], sdtm["DM"].set_index("USUBJID")
    exposed = tr["USUBJID"].map(dm["RFXSTDTC"]).fillna("") != ""
    base = tr["VISIT"] == "BASELINE"
    assert (tr.loc[base & exposed, "TRLOBXFL"] == "Y").all()
    assert (tr.loc[~base, "TRLOBXFL"] == "").all()


# --- RS: RECIST 1.1 -----------------------------------------------------------------------------

ABBREV = {"Complete Response (CR)": "CR", "Partial Response (PR)": "PR", "Stable Disease (SD)": "SD",
          "Progressive Disease (PD)": "PD", "Not Evaluable (NE)": "NE", "Non-CR/Non-PD": "NON-CR/NON-PD"}


def recist_overall(target: str, non_target: str | None, new: str) -> str:
    """RECIST 1.1 Table 1 (target lesions at baseline); ``non_target`` None = no non-target lesions."""
    if new == "Y" or target == "PD" or non_target == "PD":
        return "PD"
    if non_target is None:
        return target
    if target == "CR":
        return "CR" if non_target == "CR" else "PR"          # NON-CR/NON-PD or NE → PR
    if target == "PR":
        return "PR"
    if target == "SD":
        return "SD"
    return "NE"


def recist_target_responses(tr: pd.DataFrame) -> pd.DataFrame:
    """Target response per assessment from the TR lesion records (RECIST 1.1 section 4.3.1)."""
    tgt = tr[(tr["TRGRPID"] == "TARGET") & (tr["TRTESTCD"] != "SUMDIAM")].copy()
    tgt["zero"] = np.where(tgt["TRTESTCD"] == "LPERP", tgt["TRSTRESN"] < 10, tgt["TRSTRESN"] == 0)
    per = tgt.groupby(["USUBJID", "VISITNUM", "TRLNKGRP"]).agg(
        total=("TRSTRESN", "sum"), missing=("TRSTRESN", lambda s: s.isna().any()), cr=("zero", "all")
    ).reset_index().sort_values(["USUBJID", "VISITNUM"])
    rows = []
    for subject, a in per.groupby("USUBJID"):
        baseline = nadir = a["total"].iloc[0]
        for r in a.iloc[1:].itertuples():
            if r.missing:
                resp = "NE"
            elif r.total - nadir >= 5 and r.total >= 1.2 * nadir:
                resp = "PD"
            elif r.cr:
                resp = "CR"
            elif r.total <= 0.7 * baseline:
                resp = "PR"
            else:
                resp = "SD"
            if not r.missing:
                nadir = min(nadir, r.total)
            rows.append((subject, r.TRLNKGRP, resp))
    return pd.DataFrame(rows, columns=["USUBJID", "RSLNKGRP", "EXPECTED"])


@pytest.fixture(scope="module")
def assessments(sdtm):
    rs = sdtm["RS"]
    recist = rs[rs["RSCAT"] == "RECIST 1.1"]
    wide = recist.pivot(index=["USUBJID", "RSLNKGRP"], columns="RSTESTCD", values="RSSTRESC")
    return wide.reset_index()


def test_rs_has_one_set_of_responses_per_raw_assessment(sdtm, assessments):
    src = raw("rs.csv")
    assert len(assessments) == len(src)
    rs = sdtm["RS"]
    recist = rs[rs["RSCAT"] == "RECIST 1.1"]
    assert set(recist["RSTESTCD"]) == {"TRGRESP", "NTRGRESP", "NEWLPROG", "OVRLRESP"}
    expected_n = 4 * len(src) - (src["NTRGRESP"] == "Not Applicable").sum()
    assert len(recist) == expected_n
    m = assessments.merge(src.assign(RSLNKGRP=src["VISIT"].str.upper()), on=["USUBJID", "RSLNKGRP"], validate="1:1")
    assert len(m) == len(src)
    assert (m["TRGRESP_x"] == m["TRGRESP_y"].map(ABBREV)).all()
    assert (m["OVRLRESP_x"] == m["OVRLRESP_y"].map(ABBREV)).all()
    na = m["NTRGRESP_y"] == "Not Applicable"
    assert m.loc[na, "NTRGRESP_x"].isna().all()
    assert (m.loc[~na, "NTRGRESP_x"] == m.loc[~na, "NTRGRESP_y"].map(ABBREV)).all()
    assert (m["NEWLPROG"] == m["NEWLES"].map({"Yes": "Y", "No": "N"})).all()
    assert set(recist["RSEVAL"]) == {"INVESTIGATOR"}


def test_overall_response_follows_the_recist_table_for_every_assessment(assessments):
    expected = [recist_overall(t, None if pd.isna(nt) else nt, new)
                for t, nt, new in zip(assessments["TRGRESP"], assessments["NTRGRESP"], assessments["NEWLPROG"])]
    assert (assessments["OVRLRESP"] == expected).all()
    assert set(assessments["OVRLRESP"]) >= {"CR", "PR", "SD", "PD", "NE"}      # the table is exercised


def test_target_response_follows_from_the_tr_measurements(sdtm, assessments):
    expected = recist_target_responses(sdtm["TR"])
    m = assessments.merge(expected, on=["USUBJID", "RSLNKGRP"], how="outer", validate="1:1", indicator=True)
    assert (m["_merge"] == "both").all()
    assert (m["TRGRESP"] == m["EXPECTED"]).all()


def test_non_target_response_and_new_lesions_follow_from_tr_and_tu(sdtm, assessments):
    tr, tu = sdtm["TR"], sdtm["TU"]
    nt = tr[(tr["TRGRPID"] == "NON-TARGET") & (tr["VISIT"] != "BASELINE")]
    state = nt.groupby(["USUBJID", "TRLNKGRP"]).agg(
        pd_=("TRSTRESC", lambda s: (s == "UNEQUIVOCAL").any()), ne=("TRSTAT", lambda s: (s == "NOT DONE").any()),
        cr=("TRSTRESC", lambda s: (s == "ABSENT").all()))
    expected = np.select([state["pd_"], state["ne"], state["cr"]], ["PD", "NE", "CR"], "NON-CR/NON-PD")
    got = assessments.set_index(["USUBJID", "RSLNKGRP"])["NTRGRESP"]
    assert (got.loc[state.index].to_numpy() == expected).all()
    assert got.drop(state.index).isna().all()              # no non-target lesions: no NTRGRESP record
    new = set(zip(tu.loc[tu["TUSTRESC"] == "NEW", "USUBJID"], tu.loc[tu["TUSTRESC"] == "NEW", "VISIT"]))
    flagged = set(zip(assessments.loc[assessments["NEWLPROG"] == "Y", "USUBJID"],
                      assessments.loc[assessments["NEWLPROG"] == "Y", "RSLNKGRP"]))
    assert flagged == new


def test_rs_response_values_are_ct(sdtm, ct):
    rs = sdtm["RS"]
    recist = rs[rs["RSCAT"] == "RECIST 1.1"]
    assert set(recist["RSTESTCD"]) <= ct["ONCRTSCD"] and set(recist["RSTEST"]) <= ct["ONCRTS"]
    codes = dict(zip(recist["RSTESTCD"], recist["RSTEST"]))
    assert codes == {"TRGRESP": "Target Response", "NTRGRESP": "Non-target Response",
                     "NEWLPROG": "New Lesion Progression", "OVRLRESP": "Overall Response"}
    resp = recist[recist["RSTESTCD"] != "NEWLPROG"]
    assert set(resp["RSSTRESC"]) <= ct["ONCRSR"]
    assert set(recist.loc[recist["RSTESTCD"] == "NEWLPROG", "RSSTRESC"]) <= ct["NY"]
    assert set(recist["RSCAT"]) <= ct["ONCRSCAT"] and set(rs["RSCAT"]) <= ct["ONCRSCAT"] | ct["CCCAT"]
    assert set(recist["RSEVAL"]) <= ct["EVAL"]


def test_rs_links_each_assessment_to_its_tr_records(sdtm):
    rs, tr = sdtm["RS"], sdtm["TR"]
    recist = rs[rs["RSCAT"] == "RECIST 1.1"]
    tr_groups = set(zip(tr["USUBJID"], tr["TRLNKGRP"]))
    assert set(zip(recist["USUBJID"], recist["RSLNKGRP"])) <= tr_groups
    # TR and RS records of one link group share the assessment date
    tr_date = tr.groupby(["USUBJID", "TRLNKGRP"])["TRDTC"].agg(set)
    for key, date in zip(zip(recist["USUBJID"], recist["RSLNKGRP"]), recist["RSDTC"]):
        assert tr_date[key] == {date}


# --- RS: ECOG -----------------------------------------------------------------------------------

def test_ecog_performance_status_in_rs(sdtm, ct):
    rs, src = sdtm["RS"], raw("ecog.csv")
    ecog = rs[rs["RSCAT"] == "ECOG"]
    assert len(ecog) == len(src)
    assert set(ecog["RSCAT"]) <= ct["CCCAT"]
    assert set(ecog["RSTESTCD"]) == {"ECOG101"} and "ECOG101" in ct["ECOG TESTCD"]
    assert set(ecog["RSTEST"]) == {"ECOG1-Performance Status"} and "ECOG1-Performance Status" in ct["ECOG TEST"]
    m = ecog.merge(src.assign(VISIT=src["VISIT"].str.upper()), on=["USUBJID", "VISIT"], validate="1:1")
    assert len(m) == len(src)
    assert (m["RSORRES"] == m["ECOG"]).all()
    score = m["ECOG"].str.extract(r"^(\d) - ")[0]
    assert score.notna().all()
    assert (m["RSSTRESC"] == score).all() and (m["RSSTRESN"] == score.astype(float)).all()
    assert (m["RSDTC"] == iso(m["QSDAT"])).all()
    # ADaM's ECOGBL takes RSCAT 'ECOG' at VISIT 'SCREENING': one per screened subject
    screening = ecog[ecog["VISIT"] == "SCREENING"]
    assert not screening["USUBJID"].duplicated().any()
    assert set(screening["USUBJID"]) == set(sdtm["DM"]["USUBJID"])


def test_rs_timing_variables(sdtm):
    rs = sdtm["RS"]
    assert (rs["RSDY"] != 0).all()
    recist = rs[rs["RSCAT"] == "RECIST 1.1"]
    assert (recist["RSDY"] > 1).all() and (recist["EPOCH"] == "FOLLOW-UP").all()
    assert not rs.duplicated(["USUBJID", "RSCAT", "VISITNUM", "RSTESTCD"]).any()
    assert (rs.groupby("USUBJID")["RSSEQ"].apply(lambda s: sorted(s) == list(range(1, len(s) + 1)))).all()


# --- MI -----------------------------------------------------------------------------------------

def test_mi_cd70_ihc_score_and_percentage(sdtm, ct):
    mi, src = sdtm["MI"], raw("ihc.csv")
    assert set(mi["MITESTCD"]) == {"CD70"}
    assert set(mi["MITSTDTL"]) == {"STAINING INTENSITY", "PERCENT POSITIVE CELL"} <= ct["C125922"]
    assert set(mi["MISPEC"]) <= ct["SPECTYPE"] and set(mi["MILOC"]) <= ct["LOC"]
    assert set(mi["MIMETHOD"]) == {"IHC"} <= ct["METHOD"]
    intensity = mi[mi["MITSTDTL"] == "STAINING INTENSITY"].set_index("USUBJID")
    percent = mi[mi["MITSTDTL"] == "PERCENT POSITIVE CELL"].set_index("USUBJID")
    src = src.set_index("USUBJID")
    assert len(intensity) == len(percent) == len(src)
    assert (intensity.loc[src.index, "MISTRESC"] == src["IHCSCORE"]).all()
    assert set(intensity["MISTRESC"]) <= {"0", "1+", "2+", "3+"} and intensity["MISTRESN"].isna().all()
    assert (percent.loc[src.index, "MISTRESN"] == pd.to_numeric(src["IHCPCT"])).all()
    assert set(percent["MISTRESU"]) == {"%"} <= ct["UNIT"]
    assert (intensity.loc[src.index, "MIDTC"] == iso(src["SPECDAT"])).all()
    assert set(mi["VISIT"]) == {"SCREENING"}


# --- RELREC -------------------------------------------------------------------------------------

def test_relrec_declares_the_tu_tr_rs_links(sdtm):
    rel = sdtm["RELREC"]
    got = set(zip(rel["RELID"], rel["RDOMAIN"], rel["IDVAR"], rel["RELTYPE"]))
    assert got == {("TUTR", "TU", "TULNKID", "ONE"), ("TUTR", "TR", "TRLNKID", "MANY"),
                   ("TRRS", "TR", "TRLNKGRP", "MANY"), ("TRRS", "RS", "RSLNKGRP", "ONE")}
    assert (rel["USUBJID"] == "").all() and (rel["IDVARVAL"] == "").all()
    # ONE side is unique per subject
    tu = sdtm["TU"]
    assert not tu.duplicated(["USUBJID", "TULNKID"]).any()


def test_oncology_domains_pass_the_validation_gate(datasets):
    from trialforge.validation.runner import validate_datasets
    report = validate_datasets(datasets, scope="SDTM")
    ours = {"TU", "TR", "RS", "MI", "SUPPTU", "SUPPMI", "RELREC"}
    errors = [f for f in report.findings if f.severity == "error" and f.dataset in ours]
    assert errors == []


@pytest.mark.parametrize("name", ["TU", "TR", "RS", "MI"])
def test_natural_keys_are_unique_and_seq_runs_1_to_n(datasets, name):
    ds = datasets[name]
    frame = ds.frame
    assert not frame.duplicated(list(ds.meta.keys)).any()
    seq = frame.groupby("USUBJID")[f"{name}SEQ"].apply(lambda s: sorted(s) == list(range(1, len(s) + 1)))
    assert seq.all()
    dy = frame[f"{name}DY"]
    assert (dy != 0).all()
