"""ADaM of the bundled CD70 CAR-T example, built from its real SDTM exactly as ``trialforge run`` does
(``pipeline.build_adam_stage``), checked against the SDTM with plain pandas and gated like ``run``.

Expected values are recomputed here from SDTM records (never read back from the code under test).
"""
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trialforge.pipeline import GATE
from trialforge.validation.runner import validate_datasets

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "cd70-cart"
EPOCH = date(1960, 1, 1)


def sas(dtc) -> float:
    """SAS date of a full ISO date (YYYY-MM-DD...), NaN for partial/blank."""
    text = "" if dtc is None or (isinstance(dtc, float) and np.isnan(dtc)) else str(dtc).strip()
    if len(text) < 10:
        return np.nan
    return float((date.fromisoformat(text[:10]) - EPOCH).days)


@pytest.fixture(scope="module")
def built(example_build):
    b = example_build("cd70-cart")
    ct, sdtm, adam, extra = b.ct, b.sdtm(), b.adam(), b.extra()
    sdtm_frames = {k: v.frame for k, v in sdtm.items()}
    return {"sdtm": sdtm, "s": sdtm_frames, "adam": adam, "a": {k: v.frame for k, v in adam.items()},
            "extra": extra, "ct": ct}


def test_run_builds_every_adam_dataset_and_pp(built):
    assert set(built["adam"]) == {"ADSL", "ADAE", "ADLB", "ADRS", "ADTTE", "ADPC", "ADPP", "ADEX", "ADIS"}   # ADEX/ADIS declared since #17
    assert set(built["extra"]) == {"PP"}
    dm = built["s"]["DM"]
    enrolled = dm.loc[dm["ARMNRS"].fillna("") != "SCREEN FAILURE", "USUBJID"]
    assert sorted(built["a"]["ADSL"]["USUBJID"]) == sorted(enrolled)          # one record per enrolled subject


def test_adam_and_pp_pass_the_run_gate(built):
    report = validate_datasets(built["adam"], ct=built["ct"], scope="ADaM", options=GATE)
    assert report.count("error") == 0, [f for f in report.findings if f.severity == "error"][:5]
    pp = validate_datasets({"DM": built["sdtm"]["DM"], **built["extra"]}, ct=built["ct"], scope="SDTM", options=GATE)
    assert [f for f in pp.findings if f.severity == "error" and f.dataset == "PP"] == []


def test_adtte_aval_and_every_date_traces_to_its_source_record(built):
    a, s = built["a"], built["s"]
    tte = a["ADTTE"]
    assert set(tte["PARAMCD"]) == {"OS", "PFS", "DOR"}
    assert (tte["AVAL"] == tte["ADT"] - tte["STARTDT"] + 1).all()
    adsl = a["ADSL"].set_index("USUBJID")
    checked = {}
    for row in tte.itertuples(index=False):
        if row.SRCDOM == "ADSL":                 # start-of-treatment / TRTEDT censoring: the ADSL variable
            assert adsl.loc[row.USUBJID, row.SRCVAR] == row.ADT, row
            continue
        source = a[row.SRCDOM] if row.SRCDOM.startswith("AD") else s[row.SRCDOM]
        seq = f"{row.SRCDOM}SEQ"
        hit = source.loc[(source["USUBJID"] == row.USUBJID) & (source[seq] == row.SRCSEQ)]
        assert len(hit) == 1, row
        assert sas(hit[row.SRCVAR].iloc[0]) == row.ADT, row
        checked[row.SRCDOM] = checked.get(row.SRCDOM, 0) + 1
    assert {"RS", "DS"} <= set(checked)           # PD/assessments from RS, deaths from DS


def test_pfs_censors_before_new_anticancer_therapy(built):
    a, s = built["a"], built["s"]
    cm = s["CM"]
    nact = cm.loc[cm["CMCAT"] == "SUBSEQUENT ANTI-CANCER THERAPY"].assign(
        NACT=lambda d: d["CMSTDTC"].map(sas)).groupby("USUBJID")["NACT"].min()
    pfs = a["ADTTE"].loc[a["ADTTE"]["PARAMCD"] == "PFS"].set_index("USUBJID")
    with_nact = pfs.index.intersection(nact.index)
    assert len(with_nact) > 0
    # nothing on/after the new therapy counts: events and censorings are all earlier
    assert (pfs.loc[with_nact, "ADT"] < nact.loc[with_nact]).all()
    # a subject censored for it: the censoring date is the last adequate RECIST assessment before the therapy
    flagged = pfs.loc[pfs["CNSDTDSC"] == "LAST ADEQUATE ASSESSMENT BEFORE NEW ANTICANCER THERAPY"]
    assert len(flagged) >= 1
    rs = s["RS"]
    ovr = rs.loc[(rs["RSTESTCD"] == "OVRLRESP") & rs["RSSTRESC"].isin(["CR", "PR", "SD", "NON-CR/NON-PD", "PD"])]
    for usubjid, row in flagged.iterrows():
        dates = ovr.loc[ovr["USUBJID"] == usubjid, "RSDTC"].map(sas)
        before = dates[(dates < nact[usubjid]) & (dates > row["STARTDT"])]
        assert row["ADT"] == before.max() and row["CNSR"] == 1


def test_adsl_subject_variables_against_sdtm(built):
    a, s = built["a"], built["s"]
    adsl = a["ADSL"].set_index("USUBJID")
    mi = s["MI"]
    pct = mi.loc[mi["MITSTDTL"] == "PERCENT POSITIVE CELL"].set_index("USUBJID")["MISTRESN"]
    ihc = mi.loc[mi["MITSTDTL"] == "STAINING INTENSITY"].set_index("USUBJID")["MISTRESC"]
    common = adsl.index.intersection(pct.index)
    assert len(common) == len(adsl)
    assert (adsl.loc[common, "CD70PCT"] == pct.loc[common]).all()
    assert (adsl.loc[common, "CD70IHC"] == ihc.loc[common]).all()
    # LDSTDT = first fludarabine/cyclophosphamide dose; ECOGBL = last ECOG on or before it
    ex = s["EX"]
    ld = ex.loc[ex["EXTRT"].isin(["FLUDARABINE", "CYCLOPHOSPHAMIDE"])].assign(D=lambda d: d["EXSTDTC"].map(sas))
    ldstdt = ld.groupby("USUBJID")["D"].min()
    assert (adsl.loc[ldstdt.index, "LDSTDT"] == ldstdt).all()
    rs = s["RS"]
    ecog = rs.loc[rs["RSCAT"] == "ECOG"].assign(D=lambda d: d["RSDTC"].map(sas))
    for usubjid, ref in ldstdt.items():
        mine = ecog.loc[(ecog["USUBJID"] == usubjid) & (ecog["D"] <= ref)].sort_values("D")
        assert adsl.loc[usubjid, "ECOGBL"] == float(mine["RSSTRESN"].iloc[-1]), usubjid
    # end of study from the study-participation disposition; none → ONGOING
    ds = s["DS"]
    eos = ds.loc[(ds["DSCAT"] == "DISPOSITION EVENT") & (ds["DSSCAT"] == "STUDY PARTICIPATION")].set_index("USUBJID")
    for usubjid, row in adsl.iterrows():
        if usubjid in eos.index:
            assert (row["EOSSTT"], row["DCSREAS"]) == ("DISCONTINUED", eos.loc[usubjid, "DSDECOD"]), usubjid
        else:
            assert (row["EOSSTT"], row["DCSREAS"]) == ("ONGOING", ""), usubjid
    dm = s["DM"].set_index("USUBJID")
    assert (adsl["DTHFL"] == dm.loc[adsl.index, "DTHFL"].fillna("")).all()
    assert (adsl["DTHDT"].fillna(-1) == dm.loc[adsl.index, "DTHDTC"].map(sas).fillna(-1)).all()
    # treatment groups: dose level x route from ARMCD; the not-infused have no actual treatment
    armcd = dm.loc[adsl.index, "ARMCD"]
    assert (adsl["TRT01P"] == armcd.str.split("-").map(lambda p: f"{p[2]} {p[1]}")).all()
    assert set(adsl.loc[adsl["SAFFL"] == "N", "TRT01A"]) == {""}
    assert adsl["DLTEVLFL"].eq("Y").sum() > 0 and adsl.loc[adsl["PART"] == "B", "DLTEVLFL"].eq("N").all()


def test_adae_against_ae(built):
    a, s = built["a"], built["s"]
    adae = a["ADAE"]
    ae = s["AE"].set_index(["USUBJID", "AESEQ"])
    # traceability (one AE record per ADAE record) and carried variables
    src = ae.loc[list(zip(adae["USUBJID"], adae["SRCSEQ"]))]
    assert (adae["SRCDOM"] == "AE").all() and len(src) == len(adae) == len(s["AE"])
    assert (src["AEDECOD"].to_numpy() == adae["AEDECOD"].to_numpy()).all()
    assert (src["AESDTH"].fillna("").to_numpy() == adae["AESDTH"].to_numpy()).all()
    # TRTEMFL from lymphodepletion start, on complete start dates
    ld = a["ADSL"].set_index("USUBJID")["LDSTDT"]
    start = src["AESTDTC"].map(sas).to_numpy()
    full = ~np.isnan(start)
    expected = np.where(start >= ld.loc[adae["USUBJID"]].to_numpy(), "Y", "")
    assert (adae["TRTEMFL"].to_numpy()[full] == expected[full]).all()
    # CRS flag and ASTCT grade from SUPPAE AECRSGR
    supp = s["SUPPAE"]
    crs = supp.loc[supp["QNAM"] == "AECRSGR"]
    crs_seq = set(zip(crs["USUBJID"], crs["IDVARVAL"].astype(float)))
    flagged = set(zip(adae.loc[adae["CRSFL"] == "Y", "USUBJID"], adae.loc[adae["CRSFL"] == "Y", "AESEQ"]))
    assert flagged == crs_seq


def test_adlb_cytokines_baseline_and_change(built):
    a, s = built["a"], built["s"]
    adlb = a["ADLB"]
    assert {"CRP", "INTLK6", "FERRITIN"} <= set(adlb["PARAMCD"])
    lb = s["LB"].set_index(["USUBJID", "LBSEQ"])
    src = lb.loc[list(zip(adlb["USUBJID"], adlb["SRCSEQ"]))]
    assert (src["LBTESTCD"].to_numpy() == adlb["PARAMCD"].to_numpy()).all()
    assert np.allclose(src["LBSTRESN"].to_numpy(dtype=float), adlb["AVAL"].to_numpy(), equal_nan=True)
    assert ((src["LBLOBXFL"].fillna("") == "Y").to_numpy() == (adlb["ABLFL"] == "Y").to_numpy()).all()
    post = adlb.loc[adlb["CHG"].notna()]
    assert len(post) > 0 and np.allclose(post["CHG"], post["AVAL"] - post["BASE"])
    crp = adlb.loc[(adlb["PARAMCD"] == "CRP") & (adlb["ADY"] >= 1)]
    assert len(crp) > 0 and (crp["AVALU"] == "mg/L").all()


def test_adpc_keeps_samples_not_done_out_of_analysis(built):
    a, s = built["a"], built["s"]
    adpc = a["ADPC"]
    pc = s["PC"].set_index(["USUBJID", "PCSEQ"])
    src = pc.loc[list(zip(adpc["USUBJID"], adpc["SRCSEQ"]))]
    not_done = (src["PCSTAT"].fillna("") == "NOT DONE").to_numpy()
    assert not_done.sum() > 0
    assert (adpc.loc[not_done, "ANL01FL"] == "").all() and adpc.loc[not_done, "AVAL"].isna().all()
    assert (adpc.loc[~not_done, "ANL01FL"] == "Y").all()
    assert set(a["ADPP"]["PARAMCD"]) == {"CMAX", "TMAX", "CLST", "TLST", "AUC28D", "AUC90D"}


def test_adrs_sumdiam_baseline_is_the_sum_of_target_lesions(built):
    a, s = built["a"], built["s"]
    adrs = a["ADRS"]
    base = adrs.loc[(adrs["PARAMCD"] == "SUMDIAM") & (adrs["ABLFL"] == "Y")].set_index("USUBJID")
    assert len(base) > 0 and base["AVAL"].notna().all()
    tu, tr = s["TU"], s["TR"]
    targets = tu.loc[tu["TUSTRESC"] == "TARGET", ["USUBJID", "TULNKID"]]
    lesions = tr.loc[tr["TRTESTCD"].isin(["LDIAM", "LPERP"])].merge(
        targets, left_on=["USUBJID", "TRLNKID"], right_on=["USUBJID", "TULNKID"])
    lesions = lesions.assign(D=lesions["TRDTC"].map(sas))
    for usubjid, row in base.iterrows():
        day = lesions.loc[(lesions["USUBJID"] == usubjid) & (lesions["D"] == row["ADT"]), "TRSTRESN"]
        assert row["AVAL"] == day.astype(float).sum() and row["ADY"] < 1, usubjid
    post = adrs.loc[(adrs["PARAMCD"] == "SUMDIAM") & adrs["PCHG"].notna()]
    assert np.allclose(post["PCHG"], (post["AVAL"] - post["BASE"]) / post["BASE"] * 100)
