"""Trial design (TS TA TE TI TV SE), disposition (DS), eligibility (IE), history (MH) and anticancer
therapy (CM) of the bundled CD70 CAR-T example, checked against the raw CSV files, study.yaml and the
shipped CT file read here with the csv module (never through the engine's own lookups)."""
from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest
import yaml

from trialforge.sdtm.engine import build_sdtm
from trialforge.specs.study import load_study

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "cd70-cart"
RAW = EXAMPLE / "raw"
CT_FILE = ROOT / "specs" / "ct" / "sdtm-ct-2022-09-30-subset.tsv"

# The TS parameters the issue names plus the FDA-required ones (TCG / P21 SD22xx): each must be
# present with a value or a null flavor.
TS_ISSUE = ["ADDON", "AGEMIN", "AGEMAX", "DCUTDTC", "INDIC", "INTMODEL", "INTTYPE", "NARMS", "OBJPRIM", "PLANSUB",
            "REGID", "RANDOM", "SEXPOP", "SPONSOR", "SSTDTC", "STOPRULE", "TBLIND", "TCNTRL", "TDIGRP", "TINDTP",
            "TITLE", "TPHASE", "TTYPE", "TRT", "PCLAS"]
TS_FDA = ["LENGTH", "OUTMSPRI", "FCNTRY", "ADAPT", "DCUTDESC", "STYPE", "SENDTC", "ACTSUB", "HLTSUBJI", "EXTTIND",
          "NCOHORT", "OBJSEC", "PDPSTIND", "PDSTIND", "PIPIND", "RDIND", "SDTIGVER", "SDTMVER", "THERAREA"]
# Parameters whose value is a CDISC CT term, and the codelist it belongs to.
TS_CODELIST = {"TPHASE": "TPHASE", "INTMODEL": "INTMODEL", "INTTYPE": "INTTYPE", "TTYPE": "TTYPE", "TBLIND": "TBLIND",
               "TCNTRL": "TCNTRL", "SEXPOP": "SEXPOP", "STYPE": "STYPE", "TINDTP": "TINDTP", "ROUTE": "ROUTE",
               "SDTIGVER": "SDTMIGRS", "ADDON": "NY", "RANDOM": "NY", "ADAPT": "NY", "HLTSUBJI": "NY"}
ISO_NULL_FLAVORS = {"NI", "INV", "DER", "OTH", "PINF", "NINF", "UNC", "MSK", "NA", "UNK", "ASKU", "NAV", "NASK",
                    "QS", "TRC", "NP"}


def raw(name: str) -> pd.DataFrame:
    return pd.read_csv(RAW / name, dtype=str, keep_default_na=False)


def iso(dates: pd.Series) -> pd.Series:
    """DD MON YYYY → YYYY-MM-DD, independently of the engine."""
    return pd.to_datetime(dates, format="%d %b %Y").dt.strftime("%Y-%m-%d")


def usubjid(frame: pd.DataFrame) -> pd.Series:
    return frame["STUDYID"] + "-" + frame["SUBJNO"]


@pytest.fixture(scope="module")
def ct() -> dict:
    """codelist submission value (short name) → {term value: NCI code}."""
    with open(CT_FILE, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    names = {r["Code"]: r["CDISC Submission Value"] for r in rows if not r["Codelist Code"]}
    out: dict[str, dict] = {}
    for r in rows:
        if r["Codelist Code"]:
            out.setdefault(names[r["Codelist Code"]], {})[r["CDISC Submission Value"]] = (r["Code"],
                                                                                        r["NCI Preferred Term"])
    return out


@pytest.fixture(scope="module")
def config() -> dict:
    return yaml.safe_load((EXAMPLE / "study.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def sdtm():
    return build_sdtm(load_study(EXAMPLE))


@pytest.fixture(scope="module")
def ts(sdtm):
    return sdtm["TS"].frame


# ---- TS ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("parmcd", TS_ISSUE + TS_FDA)
def test_ts_has_every_required_parameter_with_value_or_null_flavor(ts, parmcd):
    rows = ts[ts["TSPARMCD"] == parmcd]
    assert len(rows), f"{parmcd} missing from TS"
    assert ((rows["TSVAL"] != "") ^ (rows["TSVALNF"] != "")).all(), f"{parmcd}: exactly one of TSVAL/TSVALNF"
    assert set(rows.loc[rows["TSVALNF"] != "", "TSVALNF"]) <= ISO_NULL_FLAVORS


def test_ts_seq_is_one_to_n_within_parameter(ts):
    for parmcd, rows in ts.groupby("TSPARMCD"):
        assert sorted(rows["TSSEQ"]) == list(range(1, len(rows) + 1)), parmcd


def test_ts_parameter_code_and_name_are_the_same_ct_term(ts, ct):
    code_of_cd = {v: c[1] for v, c in ct["TSPARMCD"].items()}
    code_of_name = {v: c[1] for v, c in ct["TSPARM"].items()}
    assert set(ts["TSPARMCD"]) <= set(code_of_cd)
    assert (ts["TSPARMCD"].map(code_of_cd) == ts["TSPARM"].map(code_of_name)).all()


def test_ts_coded_values_carry_their_nci_code(ts, ct):
    for parmcd, codelist in TS_CODELIST.items():
        rows = ts[ts["TSPARMCD"] == parmcd]
        for _, r in rows.iterrows():
            assert r["TSVAL"] in ct[codelist], (parmcd, r["TSVAL"])
            assert r["TSVALCD"] == ct[codelist][r["TSVAL"]][0], (parmcd, r["TSVAL"])
            assert (r["TSVCDREF"], r["TSVCDVER"]) == ("CDISC CT", "2022-09-30")
    uncoded = ts[ts["TSVALCD"] == ""]
    assert (uncoded["TSVCDVER"] == "").all()


def test_ts_values_from_raw_data_and_study_yaml(ts, sdtm, config):
    val = ts.groupby("TSPARMCD")["TSVAL"].apply(list).to_dict()
    dm = raw("dm.csv")
    assert val["SSTDTC"] == [pd.to_datetime(dm["CONSDAT"], format="%d %b %Y").min().strftime("%Y-%m-%d")]
    assert val["DCUTDTC"] == [config["data_cutoff"]]
    assert val["ACTSUB"] == [str((dm["ENROLDAT"] != "").sum())]
    assert val["NARMS"] == [str(len(config["trial_design"]["ta"]))]
    assert val["TITLE"] == [config["study"]["title"]]
    assert val["SPONSOR"] == [config["study"]["sponsor"]]
    assert val["TPHASE"] == ["PHASE I TRIAL"]
    assert val["AGEMIN"] == ["P18Y"]
    assert val["FCNTRY"] == ["USA", "CAN", "AUS"]
    assert val["TRT"] == sorted(set(sdtm["EX"].frame.query("EXCAT == 'CAR-T INFUSION'")["EXTRT"]))
    regid = ts[ts["TSPARMCD"] == "REGID"].iloc[0]
    assert (regid["TSVAL"], regid["TSVALCD"], regid["TSVCDREF"]) == ("NCT07181720", "NCT07181720",
                                                                     "ClinicalTrials.gov")
    assert len(ts) == len(config["trial_design"]["ts"])
    assert (ts["TSVAL"].str.len() <= 200).all()


# ---- TA / TE / TV ----------------------------------------------------------------------------------

def test_ta_arms_cover_dm_arms_with_the_same_names(sdtm):
    ta, dm = sdtm["TA"].frame, sdtm["DM"].frame
    arms = set(zip(ta["ARMCD"], ta["ARM"]))
    for code, name in (("ARMCD", "ARM"), ("ACTARMCD", "ACTARM")):
        used = dm[dm[code] != ""]
        assert set(zip(used[code], used[name])) <= arms
    # every enrolled subject has an arm; screen failures and not-treated subjects say why they have none
    enrolled = raw("dm.csv")["ENROLDAT"] != ""
    assert (dm["ARMCD"] != "").sum() == enrolled.sum()


def test_ta_gives_every_arm_the_four_elements_in_order(sdtm, config):
    ta, te = sdtm["TA"].frame, sdtm["TE"].frame
    assert len(ta) == 4 * len(config["trial_design"]["ta"])
    for armcd, rows in ta.groupby("ARMCD"):
        rows = rows.sort_values("TAETORD")
        assert list(rows["TAETORD"]) == [1, 2, 3, 4]
        assert list(rows["ETCD"]) == ["SCRN", "LD", "CART", "FU"]
        assert list(rows["EPOCH"]) == ["SCREENING", "TREATMENT", "TREATMENT", "FOLLOW-UP"]
        assert rows["TABRANCH"].iloc[0].endswith(rows["ARM"].iloc[0]) and (rows["TABRANCH"].iloc[1:] == "").all()
    element = dict(zip(te["ETCD"], te["ELEMENT"]))
    assert set(ta["ETCD"]) == set(element)
    assert (ta["ELEMENT"] == ta["ETCD"].map(element)).all()
    assert set(ta["EPOCH"]) == {e["epoch"] for e in config["epochs"]}
    assert (te["TESTRL"] != "").all()


def test_epoch_in_every_domain_is_a_ta_epoch(sdtm):
    epochs = set(sdtm["TA"].frame["EPOCH"])
    with_epoch = [name for name, ds in sdtm.items() if "EPOCH" in ds.frame.columns]
    assert {"DS", "IE", "MH", "CM", "SE", "AE", "EX"} <= set(with_epoch)
    for name in with_epoch:
        values = set(sdtm[name].frame["EPOCH"]) - {""}
        assert values <= epochs, (name, values - epochs)


def test_tv_is_the_study_visit_schedule(sdtm, config):
    tv = sdtm["TV"].frame
    visits = {float(v["visitnum"]): (v["visit"], v.get("day")) for v in config["visits"]}
    assert sorted(tv["VISITNUM"]) == sorted(visits)
    for _, r in tv.iterrows():
        name, day = visits[r["VISITNUM"]]
        assert r["VISIT"] == name
        assert (pd.isna(r["VISITDY"]) and day is None) or r["VISITDY"] == day
    assert (tv["ARMCD"] == "").all() and (tv["TVSTRL"] != "").all()


# ---- SE ----------------------------------------------------------------------------------------

def test_se_elements_per_subject_from_raw_dates(sdtm):
    se = sdtm["SE"].frame
    ta_epoch = dict(zip(sdtm["TA"].frame["ETCD"], sdtm["TA"].frame["EPOCH"]))
    assert (se["EPOCH"] == se["ETCD"].map(ta_epoch)).all()
    dm, cart, ld = raw("dm.csv"), raw("ex_cart.csv"), raw("ex_ld.csv")
    # screening starts at consent, for every screened subject
    scrn = se[se["ETCD"] == "SCRN"].set_index("USUBJID")["SESTDTC"]
    assert scrn.sort_index().to_dict() == dict(zip(usubjid(dm), iso(dm["CONSDAT"])))
    # lymphodepletion starts at the first dose; infusion at its start; follow-up the day after
    ld = ld.assign(U=usubjid(ld), DTC=iso(ld["EXLDDAT"]) + "T" + ld["EXLDSTTM"]).groupby("U")["DTC"].min()
    assert se[se["ETCD"] == "LD"].set_index("USUBJID")["SESTDTC"].to_dict() == ld.to_dict()
    cart = cart.assign(U=usubjid(cart))
    start = dict(zip(cart["U"], iso(cart["EXCDAT"]) + "T" + cart["EXCSTTM"]))
    assert se[se["ETCD"] == "CART"].set_index("USUBJID")["SESTDTC"].to_dict() == start
    next_day = (pd.to_datetime(cart["EXCDAT"], format="%d %b %Y") + pd.Timedelta(days=1)).dt.strftime("%Y-%m-%d")
    assert se[se["ETCD"] == "FU"].set_index("USUBJID")["SESTDTC"].to_dict() == dict(zip(cart["U"], next_day))


def test_se_elements_are_contiguous_and_in_ta_order(sdtm):
    se = sdtm["SE"].frame
    for _, rows in se.groupby("USUBJID"):
        assert list(rows["TAETORD"]) == list(range(1, len(rows) + 1))
        assert list(rows["SESEQ"]) == list(range(1, len(rows) + 1))
        assert list(rows["SEENDTC"].iloc[:-1]) == list(rows["SESTDTC"].iloc[1:])
        assert (rows["SEENDTC"].str[:10] >= rows["SESTDTC"].str[:10]).all()


# ---- DS ----------------------------------------------------------------------------------------

MILESTONES = {"Informed consent obtained": "INFORMED CONSENT OBTAINED", "Enrolled": "ENTERED INTO TRIAL",
              "Lymphodepletion": "LYMPHODEPLETION STARTED", "CAR-T infusion": "CAR-T CELLS INFUSED"}
SCAT = {"Screen failure": "STUDY PARTICIPATION", "End of treatment": "STUDY TREATMENT", "End of study": "STUDY PARTICIPATION"}


def test_ds_records_recomputed_from_raw(sdtm):
    ds, r = sdtm["DS"].frame, raw("ds.csv")
    milestone = r["DSEVENT"].isin(list(MILESTONES))
    decod = r["DSEVENT"].map(MILESTONES)
    decod = decod.where(milestone, r["DSREAS"].str.upper())
    decod = decod.where(r["DSEVENT"] != "Screen failure", "SCREEN FAILURE")
    decod = decod.where(milestone | (r["DSSTAT"] != "Completed"), "COMPLETED")
    expected = pd.DataFrame({
        "USUBJID": usubjid(r), "DSSTDTC": iso(r["DSDAT"]), "DSDECOD": decod,
        "DSCAT": milestone.map({True: "PROTOCOL MILESTONE", False: "DISPOSITION EVENT"}),
        "DSSCAT": r["DSEVENT"].map(SCAT).fillna("")})
    cols = list(expected.columns)
    got = ds[cols].sort_values(cols).reset_index(drop=True)
    assert got.equals(expected.sort_values(cols).reset_index(drop=True))
    for _, rows in ds.groupby("USUBJID"):
        assert list(rows["DSSEQ"]) == list(range(1, len(rows) + 1))
        assert list(rows["DSSTDTC"]) == sorted(rows["DSSTDTC"])


def test_ds_decodes_are_ct_terms(sdtm, ct):
    ds = sdtm["DS"].frame
    events = ds[ds["DSCAT"] == "DISPOSITION EVENT"]
    assert set(events["DSDECOD"]) <= set(ct["NCOMPLT"])
    milestones = ds[ds["DSCAT"] == "PROTOCOL MILESTONE"]
    assert {"INFORMED CONSENT OBTAINED", "ENTERED INTO TRIAL"} <= set(ct["PROTMLST"])
    assert set(milestones["DSDECOD"]) - set(ct["PROTMLST"]) == {"LYMPHODEPLETION STARTED", "CAR-T CELLS INFUSED"}
    assert set(ds["DSCAT"]) <= set(ct["DSCAT"])
    assert set(ds["DSSCAT"]) - {""} <= {"STUDY PARTICIPATION", "STUDY TREATMENT"}  # C170443


def test_every_death_is_one_disposition_event_with_the_death_date(sdtm):
    ds, death, dm = sdtm["DS"].frame, raw("death.csv"), sdtm["DM"].frame
    deaths = ds[ds["DSDECOD"] == "DEATH"]
    assert (deaths["DSCAT"] == "DISPOSITION EVENT").all() and (deaths["DSSCAT"] == "STUDY PARTICIPATION").all()
    assert dict(zip(deaths["USUBJID"], deaths["DSSTDTC"])) == dict(zip(usubjid(death), iso(death["DTHDAT"])))
    assert len(deaths) == len(death)
    assert dict(zip(deaths["USUBJID"], deaths["DSSTDTC"])) == dict(dm.loc[dm["DTHDTC"] != "", ["USUBJID", "DTHDTC"]]
                                                                  .itertuples(index=False))
    assert deaths["DSTERM"].str.startswith("Death due to ").all()


def test_ds_epoch_and_study_day(sdtm):
    ds, dm = sdtm["DS"].frame, sdtm["DM"].frame.set_index("USUBJID")
    infusion = ds[ds["DSDECOD"] == "CAR-T CELLS INFUSED"]
    assert (infusion["DSSTDY"] == 1).all() and (infusion["EPOCH"] == "TREATMENT").all()
    consent = ds[ds["DSDECOD"] == "INFORMED CONSENT OBTAINED"]
    assert (consent["EPOCH"] == "SCREENING").all()
    eos = ds[(ds["DSSCAT"] == "STUDY PARTICIPATION") & ds["USUBJID"].map(dm["RFSTDTC"] != "")]
    assert (eos["EPOCH"] == "FOLLOW-UP").all()


# ---- IE / TI -----------------------------------------------------------------------------------

def test_ie_is_the_criteria_screen_failures_did_not_meet(sdtm):
    ie, ti, r = sdtm["IE"].frame, sdtm["TI"].frame, raw("ie.csv")
    failed = r[r["IEYN"] == "No"]
    assert sorted(zip(ie["USUBJID"], ie["IETESTCD"])) == sorted(zip(
        usubjid(failed), failed["IETESTCD"].str.replace("IN", "INCL").str.replace("EX", "EXCL")))
    crit = set(zip(ti["IETESTCD"], ti["IETEST"], ti["IECAT"]))
    assert set(zip(ie["IETESTCD"], ie["IETEST"], ie["IECAT"])) <= crit
    assert (ie["IEORRES"] == ie["IECAT"].map({"INCLUSION": "N", "EXCLUSION": "Y"})).all()
    assert (ie["IESTRESC"] == ie["IEORRES"]).all()
    dm = sdtm["DM"].frame
    assert set(ie["USUBJID"]) == set(dm.loc[dm["ARMNRS"] == "SCREEN FAILURE", "USUBJID"])
    assert (ie["EPOCH"] == "SCREENING").all()


def test_ti_criteria(sdtm, config):
    ti = sdtm["TI"].frame
    assert len(ti) == len(config["trial_design"]["ti"]) and ti["IETESTCD"].is_unique
    assert (ti["IETESTCD"].str.len() <= 8).all() and (ti["IETEST"].str.len() <= 200).all()
    assert (ti["IECAT"] == ti["IETESTCD"].str[:4].map({"INCL": "INCLUSION", "EXCL": "EXCLUSION"})).all()


# ---- MH / CM -----------------------------------------------------------------------------------

def test_mh_one_record_per_raw_row(sdtm):
    mh, r = sdtm["MH"].frame, raw("mh.csv")
    assert sorted(zip(mh["USUBJID"], mh["MHSPID"], mh["MHTERM"])) == sorted(zip(usubjid(r), r["MHNUM"], r["MHTERM"]))
    ongoing = set(zip(usubjid(r[r["MHONGO"] == "Yes"]), r.loc[r["MHONGO"] == "Yes", "MHNUM"]))
    assert set(zip(mh.loc[mh["MHENRTPT"] == "ONGOING", "USUBJID"], mh.loc[mh["MHENRTPT"] == "ONGOING", "MHSPID"])) \
        == ongoing


def test_cm_prior_and_subsequent_anticancer_therapy(sdtm):
    cm, prior, subs = sdtm["CM"].frame, raw("prior_tx.csv"), raw("subseq_tx.csv")
    assert (cm["CMCAT"] == "PRIOR CANCER THERAPY").sum() == len(prior)
    after = cm[cm["CMCAT"] == "SUBSEQUENT ANTI-CANCER THERAPY"]
    assert sorted(zip(after["USUBJID"], after["CMTRT"], after["CMSTDTC"])) == sorted(zip(
        usubjid(subs), subs["STTRT"], iso(subs["STSTDAT"])))
    assert (after["EPOCH"] == "FOLLOW-UP").all() and (after["CMSTDY"] > 1).all()
    dm = sdtm["DM"].frame.set_index("USUBJID")
    before = cm[(cm["CMCAT"] == "PRIOR CANCER THERAPY") & (cm["CMENDTC"].str.len() == 10)]
    assert (before["CMENDTC"] < before["USUBJID"].map(dm["RFICDTC"])).all()


# ---- the gate ------------------------------------------------------------------------------------

def test_sdtm_package_passes_the_validation_gate(sdtm):
    from trialforge.validation.runner import validate_datasets
    report = validate_datasets(sdtm, scope="SDTM")
    errors = [f for f in report.findings if f.severity == "error"]
    assert not errors, errors[:5]
    mine = {"TS", "TA", "TE", "TI", "TV", "SE", "DS", "IE", "MH", "CM"}
    assert mine <= set(report.datasets)
