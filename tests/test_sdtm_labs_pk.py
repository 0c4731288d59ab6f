"""LB, PC and IS of the bundled CD70 CAR-T example, checked against the RAW csv files with plain pandas.

Every expected value here is recomputed from raw/*.csv (and the CDISC CT file read as a plain TSV)
with this file's own tables - unit factors, test codes, windows - never taken from the engine or
from the study's units.yaml. The properties are asserted on all records.
"""
from __future__ import annotations

import csv
import math
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trialforge.sdtm.engine import build_sdtm
from trialforge.specs.study import load_study

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "cd70-cart"
RAW = EXAMPLE / "raw"
CT_TSV = ROOT / "specs" / "ct" / "sdtm-ct-2022-09-30-subset.tsv"
NEEDED = ["dm", "ex", "sv", "ds", "ae", "cm", "lb", "pc", "is"]  # LB/PC/IS and the domains they read (DM: SV EX DS AE CM)

# ---- this test's own reference tables (not the study's units.yaml) ---------------------------------
# raw test name -> (LBTESTCD, LBTEST)
TESTS = {
    "White blood cell count": ("WBC", "Leukocytes"), "White cell count": ("WBC", "Leukocytes"),
    "Absolute neutrophil count": ("NEUT", "Neutrophils"), "Neutrophils": ("NEUT", "Neutrophils"),
    "Absolute lymphocyte count": ("LYM", "Lymphocytes"), "Lymphocytes": ("LYM", "Lymphocytes"),
    "Platelet count": ("PLAT", "Platelets"), "Platelets": ("PLAT", "Platelets"),
    "Hemoglobin": ("HGB", "Hemoglobin"), "Haemoglobin": ("HGB", "Hemoglobin"),
    "ALT (SGPT)": ("ALT", "Alanine Aminotransferase"), "Alanine aminotransferase": ("ALT", "Alanine Aminotransferase"),
    "AST (SGOT)": ("AST", "Aspartate Aminotransferase"),
    "Aspartate aminotransferase": ("AST", "Aspartate Aminotransferase"),
    "Bilirubin, total": ("BILI", "Bilirubin"), "Total bilirubin": ("BILI", "Bilirubin"),
    "Creatinine": ("CREAT", "Creatinine"),
    "C-reactive protein": ("CRP", "C Reactive Protein"), "Interleukin-6": ("INTLK6", "Interleukin 6"),
    "Ferritin": ("FERRITIN", "Ferritin"),
}
# raw unit -> CDISC UNIT submission value of the same quantity
CT_UNIT = {"10^3/uL": "10^9/L", "10^9/L": "10^9/L", "g/dL": "g/dL", "g/L": "g/L", "U/L": "U/L",
           "mg/dL": "mg/dL", "umol/L": "umol/L", "mg/L": "mg/L", "pg/mL": "ng/L", "ng/mL": "ug/L",
           "ug/L": "ug/L"}
# (test, raw unit) -> factor to the standard unit; 10^3/uL = 10^9/L, pg/mL = ng/L, ng/mL = ug/L
FACTOR = {("HGB", "g/dL"): 10.0, ("BILI", "mg/dL"): 17.1, ("CREAT", "mg/dL"): 88.42, ("CRP", "mg/dL"): 10.0}
STD_UNIT = {"WBC": "10^9/L", "NEUT": "10^9/L", "LYM": "10^9/L", "PLAT": "10^9/L", "HGB": "g/L", "ALT": "U/L",
            "AST": "U/L", "BILI": "umol/L", "CREAT": "umol/L", "CRP": "mg/L", "INTLK6": "ng/L",
            "FERRITIN": "ug/L"}
# decimals of converted standard results: what the SI sites report (g/L, umol/L creatinine: integers)
# or the precision the conversion supports (0.1 mg/dL bilirubin = 1.71 umol/L -> 0.1; CRP exact)
DECIMALS = {"HGB": 0, "BILI": 1, "CREAT": 0, "CRP": 1}


def _dt(date: pd.Series, time: pd.Series | None = None) -> pd.Series:
    if time is None:
        return pd.to_datetime(date, format="%d %b %Y", errors="coerce")
    return pd.to_datetime(date + " " + time, format="%d %b %Y %H:%M", errors="coerce")


def _iso(ts: pd.Series) -> pd.Series:
    return ts.dt.strftime("%Y-%m-%dT%H:%M")


def _raw(name: str) -> pd.DataFrame:
    frame = pd.read_csv(RAW / name, dtype=str, keep_default_na=False)
    frame["USUBJID"] = frame["STUDYID"] + "-" + frame["SUBJNO"]
    return frame


def _copy_example(dest: Path) -> Path:
    """The example with only the specs LB/PC/IS need, so other domains' work in progress cannot interfere."""
    shutil.copytree(RAW, dest / "raw")
    shutil.copy(EXAMPLE / "study.yaml", dest / "study.yaml")
    (dest / "specs").mkdir()
    for name in NEEDED + ["units"]:
        shutil.copy(EXAMPLE / "specs" / f"{name}.yaml", dest / "specs" / f"{name}.yaml")
    return dest


def _build(study_root: Path) -> dict:
    return build_sdtm(load_study(study_root))


@pytest.fixture(scope="module")
def sdtm(tmp_path_factory):
    return _build(_copy_example(tmp_path_factory.mktemp("cd70")))


@pytest.fixture(scope="module")
def first_ld():
    """First lymphodepletion dose start per subject, from ex_ld.csv."""
    ld = _raw("ex_ld.csv")
    ld["T"] = _dt(ld["EXLDDAT"], ld["EXLDSTTM"])
    return ld.groupby("USUBJID")["T"].min()


@pytest.fixture(scope="module")
def infusion():
    cart = _raw("ex_cart.csv")
    cart["START"] = _dt(cart["EXCDAT"], cart["EXCSTTM"])
    cart["END"] = _dt(cart["EXCDAT"], cart["EXCENTM"])
    assert cart["USUBJID"].is_unique
    return cart.set_index("USUBJID")[["START", "END"]]


@pytest.fixture(scope="module")
def lb_matched(sdtm):
    """Raw lb.csv + cyto.csv rows joined 1:1 to their LB records on subject, test and collection datetime."""
    raw = pd.concat([_raw("lb.csv"), _raw("cyto.csv")], ignore_index=True)
    raw["TESTCD"] = raw["LBTEST"].map(lambda t: TESTS[t][0])
    raw["LBDTC"] = _iso(_dt(raw["LBDAT"], raw["LBTIM"]))
    lb = sdtm["LB"].frame
    assert len(lb) == len(raw)
    merged = raw.merge(lb, left_on=["USUBJID", "TESTCD", "LBDTC"], right_on=["USUBJID", "LBTESTCD", "LBDTC"],
                       how="outer", suffixes=("_RAW", ""), validate="one_to_one", indicator=True)
    assert (merged["_merge"] == "both").all()
    return merged


def _expected_standard(frame: pd.DataFrame, column: str) -> pd.Series:
    """Raw value x this file's factor, rounded to the test's decimals (Python round, per value)."""
    out = []
    for test, unit, text in zip(frame["TESTCD"], frame["LBORRESU_RAW"], frame[column]):
        value = float(text) * FACTOR.get((test, unit), 1.0)
        out.append(round(value, DECIMALS[test]) if test in DECIMALS else value)
    return pd.Series(out, index=frame.index)


# ---- LB ------------------------------------------------------------------------------------------------

def test_lb_test_codes_are_ct_pairs(lb_matched):
    rows = list(csv.reader(CT_TSV.open(encoding="utf-8"), delimiter="\t"))
    lists = {r[4]: r[0] for r in rows if r[1] == ""}
    code_of = {cl: {r[4]: r[0] for r in rows if r[1] == lists[cl]} for cl in ("LBTESTCD", "LBTEST")}
    expected = lb_matched["LBTEST_RAW"].map(lambda t: TESTS[t][1])
    assert (lb_matched["LBTEST"] == expected).all()
    pairs = lb_matched[["LBTESTCD", "LBTEST"]].drop_duplicates()
    assert len(pairs) == 12
    for cd, name in pairs.itertuples(index=False):
        assert code_of["LBTESTCD"].get(cd) and code_of["LBTESTCD"][cd] == code_of["LBTEST"].get(name), (cd, name)


def test_lb_original_results_and_units(lb_matched):
    m = lb_matched
    assert (m["LBORRES"] == m["LBORRES_RAW"]).all()
    assert (m["LBORRESU"] == m["LBORRESU_RAW"].map(CT_UNIT)).all()
    assert (m["LBORNRLO"] == m["LBORNRLO_RAW"]).all() and (m["LBORNRHI"] == m["LBORNRHI_RAW"]).all()
    cat = m["LBCAT_RAW"].map({"Haematology": "HEMATOLOGY", "Chemistry": "CHEMISTRY",
                              "Cytokines and inflammatory markers": "CYTOKINES AND INFLAMMATORY MARKERS"})
    assert (m["LBCAT"] == cat).all()
    assert (m["LBSPEC"] == np.where(cat == "HEMATOLOGY", "BLOOD", "SERUM OR PLASMA")).all()


def test_lb_unit_conversion_every_record(lb_matched):
    m = lb_matched
    expected = _expected_standard(m, "LBORRES_RAW")
    assert expected.notna().all()
    assert ((m["LBSTRESN"] - expected).abs() <= 1e-9).all()
    assert (m["LBSTRESU"] == m["TESTCD"].map(STD_UNIT)).all()
    # the number and the text agree exactly
    assert (pd.to_numeric(m["LBSTRESC"]) == m["LBSTRESN"]).all()
    # tests never converted keep the collected text; converted tests use one number of decimals for all
    # records (HGB 0, BILI 1, CREAT 0, CRP 1), whichever unit the site reported
    kept = m[~m["TESTCD"].isin(DECIMALS)]
    assert (kept["LBSTRESC"] == kept["LBORRES_RAW"]).all()
    fixed = m[m["TESTCD"].isin(DECIMALS)]
    decimals = fixed["LBSTRESC"].str.partition(".")[2].str.len()
    assert (decimals == fixed["TESTCD"].map(DECIMALS)).all()
    # every conversion was exercised: US sites report conventional units, CA/AU sites SI units
    converted = m[[k in FACTOR for k in zip(m["TESTCD"], m["LBORRESU_RAW"])]]
    assert set(converted["TESTCD"]) == {t for t, _ in FACTOR} == {"HGB", "BILI", "CREAT", "CRP"}


def test_lb_hand_worked_conversions(lb_matched):
    m = lb_matched
    def one(testcd, raw_value, raw_unit):
        rows = m[(m["TESTCD"] == testcd) & (m["LBORRES_RAW"] == raw_value) & (m["LBORRESU_RAW"] == raw_unit)]
        assert len(rows), (testcd, raw_value)
        return rows
    # worked by hand: creatinine 1.00 mg/dL x 88.42 = 88.42 -> 88 umol/L; bilirubin 0.4 mg/dL x 17.1 = 6.84
    # -> 6.8 umol/L; haemoglobin 12.5 g/dL = 125 g/L; CRP 0.52 mg/dL = 5.2 mg/L
    for testcd, raw_value, raw_unit, text in (("CREAT", "1.00", "mg/dL", "88"), ("BILI", "0.4", "mg/dL", "6.8"),
                                              ("HGB", "12.5", "g/dL", "125"), ("CRP", "0.52", "mg/dL", "5.2")):
        rows = one(testcd, raw_value, raw_unit)
        assert set(rows["LBSTRESC"]) == {text} and set(rows["LBSTRESN"]) == {float(text)}, testcd


def test_lb_normal_ranges_converted(lb_matched):
    m = lb_matched
    for orig, std in (("LBORNRLO_RAW", "LBSTNRLO"), ("LBORNRHI_RAW", "LBSTNRHI")):
        assert ((m[std] - _expected_standard(m, orig)).abs() <= 1e-9).all(), std
    # creatinine 0.70-1.30 mg/dL (male) is 62-115 umol/L, the SI sites' own male range
    cr = m[(m["TESTCD"] == "CREAT") & (m["LBORNRLO_RAW"] == "0.70")]
    assert set(cr["LBSTNRLO"]) == {62.0} and set(cr["LBSTNRHI"]) == {115.0}


def test_lb_nrind_every_record(lb_matched):
    m = lb_matched
    value, lo, hi = m["LBSTRESN"], m["LBSTNRLO"], m["LBSTNRHI"]
    expected = np.select([value < lo, value > hi], ["LOW", "HIGH"], "NORMAL")
    assert (m["LBNRIND"] == expected).all()
    # and it agrees with the local labs' own L/H flags (original units) on every lb.csv record
    site = m[m["LBNRIND_RAW"].notna()]
    assert len(site) == 4905
    assert (site["LBNRIND"] == site["LBNRIND_RAW"].map({"L": "LOW", "H": "HIGH", "": "NORMAL"})).all()


def test_lb_lobxfl_every_subject_and_test(lb_matched, first_ld):
    m = lb_matched.copy()
    m["T"] = pd.to_datetime(m["LBDTC"], format="%Y-%m-%dT%H:%M")
    m["REF"] = m["USUBJID"].map(first_ld)
    eligible = m[(m["LBORRES_RAW"] != "") & m["REF"].notna() & (m["T"] <= m["REF"])]
    last = eligible.sort_values("T").groupby(["USUBJID", "TESTCD"]).tail(1)
    expected = set(zip(last["USUBJID"], last["TESTCD"], last["LBDTC"]))
    flagged = m[m["LBLOBXFL"] == "Y"]
    assert set(zip(flagged["USUBJID"], flagged["TESTCD"], flagged["LBDTC"])) == expected
    assert set(m["LBLOBXFL"]) <= {"Y", ""}
    # every lymphodepleted subject has one baseline per test of the safety panel
    panel = m[m["LBCAT"] != "CYTOKINES AND INFLAMMATORY MARKERS"]
    per = panel[panel["LBLOBXFL"] == "Y"].groupby("USUBJID")["TESTCD"].nunique()
    assert set(per.index) == set(first_ld.index) and (per == 9).all()
    assert "LBBLFL" not in m.columns


def test_lb_timing(lb_matched, infusion):
    m = lb_matched
    visit = m["VISIT_RAW"].str.upper()
    assert (m["VISIT"] == visit).all()
    ref = m["USUBJID"].map(infusion["START"]).dt.normalize()
    day = (pd.to_datetime(m["LBDTC"].str.slice(0, 10)) - ref).dt.days
    expected = day.where(day < 0, day + 1)            # no day 0
    has = ref.notna()
    assert (m.loc[has, "LBDY"] == expected[has]).all()
    assert m.loc[~has, "LBDY"].isna().all()


# ---- PC ------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def pc_matched(sdtm):
    raw = _raw("pc.csv")
    pc = sdtm["PC"].frame
    assert len(pc) == len(raw)
    merged = raw.merge(pc, left_on=["USUBJID", "ACCSNNO"], right_on=["USUBJID", "PCREFID"], how="outer",
                       suffixes=("_RAW", ""), validate="one_to_one", indicator=True)
    assert (merged["_merge"] == "both").all()
    return merged


def _hours(duration: str) -> float:
    """ISO 8601 duration (PnD, PTnHnM, with an optional leading '-') in hours, parsed here."""
    m = re.fullmatch(r"(-?)P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?", duration)
    assert m and duration not in ("P", "-P", "PT", "-PT"), duration
    hours = int(m.group(2) or 0) * 24 + int(m.group(3) or 0) + int(m.group(4) or 0) / 60
    return -hours if m.group(1) else hours


def test_pc_nominal_times_consistent_with_infusion(pc_matched, infusion):
    m = pc_matched
    end = m["USUBJID"].map(infusion["END"])
    start = m["USUBJID"].map(infusion["START"])
    assert end.notna().all()                         # kinetics only for infused subjects
    assert (m["PCRFTDTC"] == _iso(end)).all()
    assert (m["PCTPTREF"] == "END OF CAR-T INFUSION").all()
    nominal = m["PCNOMHR"].astype(float)
    assert (m["PCTPTNUM"] == nominal).all()
    assert all(math.isclose(_hours(d), h) for d, h in zip(m["PCELTM"], nominal))
    assert (m["PCTPT"] == m["PCTPT_RAW"].str.upper()).all()
    # actual collection vs nominal, on every collected sample
    timed = m[m["PCDTC"].str.len() == 16]
    assert len(timed) == (m["PCTIM"] != "").sum()
    t = pd.to_datetime(timed["PCDTC"], format="%Y-%m-%dT%H:%M")
    e, s, nom = end[timed.index], start[timed.index], nominal[timed.index]
    day_offset = (t.dt.normalize() - e.dt.normalize()).dt.days
    nominal_day = np.where(nom.abs() < 24, 0, nom / 24)
    window = np.select([nom <= 336, nom <= 672, nom >= 17520], [0, 2, 0], 7)   # protocol visit windows (days)
    assert ((day_offset - nominal_day).abs() <= window).all()
    pre = timed["PCTPT"] == "PRE-INFUSION"
    assert pre.any() and (t[pre] < s[pre]).all()
    post = timed["PCTPT"] == "1 HOUR POST-INFUSION"
    hours_after = (t[post] - e[post]).dt.total_seconds() / 3600
    assert post.any() and ((hours_after > 0) & (hours_after <= 2)).all()
    pre_ld = timed["PCTPT"] == "PRE-LYMPHODEPLETION"
    assert (day_offset[pre_ld] == -5).all()
    # PCDY from the same dates (infusion day = day 1)
    d = (pd.to_datetime(m["PCDTC"].str.slice(0, 10)) - start.dt.normalize()).dt.days
    assert (m["PCDY"] == d.where(d < 0, d + 1)).all()


def test_pc_blq_convention_every_record(pc_matched):
    m = pc_matched
    blq = m["PCORRES_RAW"] == "BLQ"
    done = m["PCSTAT_RAW"] == ""
    numeric = done & ~blq
    assert blq.any() and numeric.any() and (~done).any()
    lloq = pd.to_numeric(m["PCLLOQ_RAW"])
    # no unit without a result (issue 16): samples not done have no PCLLOQ, whose unit is PCSTRESU
    assert (m.loc[done, "PCLLOQ"] == lloq[done]).all() and m.loc[~done, "PCLLOQ"].isna().all()
    assert (m.loc[blq, "PCORRES"] == "BLQ").all() and (m.loc[blq, "PCSTRESC"] == "BLQ").all()
    assert m.loc[blq, "PCSTRESN"].isna().all()
    value = pd.to_numeric(m.loc[numeric, "PCORRES_RAW"])
    assert (m.loc[numeric, "PCSTRESN"] == value).all()
    assert (m.loc[numeric, "PCSTRESC"] == m.loc[numeric, "PCORRES_RAW"]).all()
    assert (value >= lloq[numeric]).all()            # a number is never below the LLOQ
    nd = ~done
    assert (m.loc[nd, "PCSTAT"] == "NOT DONE").all() and (m.loc[nd, "PCREASND"] == m.loc[nd, "PCREASND_RAW"]).all()
    assert (m.loc[nd, ["PCORRES", "PCSTRESC", "PCORRESU"]] == "").all().all()
    # PCSTRESU is the unit of PCLLOQ, one per test; samples not done have neither (issue 16)
    assert m[done].groupby("PCTESTCD")["PCSTRESU"].nunique().eq(1).all() and (m.loc[done, "PCSTRESU"] != "").all()
    assert (m.loc[nd, "PCSTRESU"] == "").all()
    assert m.loc[nd, "PCSTRESN"].isna().all()
    assert (m.loc[done, "PCSTAT"] == "").all()


def test_pc_tests_units_specimen_method(pc_matched):
    m = pc_matched
    qpcr = m["PCMETHOD_RAW"] == "qPCR"
    assert (m.loc[qpcr, "PCTESTCD"] == "CD70CAR").all() and (m.loc[~qpcr, "PCTESTCD"] == "CARTCELL").all()
    assert (m.loc[qpcr, "PCMETHOD"] == "REAL-TIME POLYMERASE CHAIN REACTION ASSAY").all()
    assert (m.loc[~qpcr, "PCMETHOD"] == "FLOW CYTOMETRY").all()
    done = m["PCSTAT_RAW"] == ""
    unit = np.where(qpcr, "DNA copies/ug", "10^6/L")
    assert (m.loc[done, "PCORRESU"] == unit[done.to_numpy()]).all()
    assert (m.loc[done, "PCSTRESU"] == unit[done.to_numpy()]).all() and (m.loc[~done, "PCSTRESU"] == "").all()
    assert (m["PCSPEC"] == "BLOOD").all()
    text = m[["PCTEST", "PCORRESU", "PCSTRESU", "PCTPT", "PCMETHOD"]].astype(str)
    assert text.map(str.isascii).all().all()
    assert m.groupby("USUBJID")["PCSEQ"].apply(lambda s: sorted(s) == list(range(1, len(s) + 1))).all()


# ---- IS ------------------------------------------------------------------------------------------------

def test_is_status_and_titre(sdtm, first_ld):
    raw = _raw("ada.csv")
    raw["ISDTC"] = _dt(raw["ADADAT"]).dt.strftime("%Y-%m-%d")
    isd = sdtm["IS"].frame
    status = isd[isd["ISTSTOPO"] == ""]
    titre = isd[isd["ISTSTOPO"] == "QUANTIFY"]
    assert len(status) == len(raw) and len(titre) == (raw["ADATITER"] != "").sum()
    assert len(isd) == len(status) + len(titre)
    assert set(isd["ISTESTCD"]) == {"ADA_BAB"} and set(isd["ISTEST"]) == {"Binding Antidrug Antibody"}
    s = raw.merge(status, on=["USUBJID", "ISDTC"], validate="one_to_one")
    assert len(s) == len(raw)
    assert (s["ISORRES"] == s["ADARES"].str.upper()).all() and (s["ISSTRESC"] == s["ISORRES"]).all()
    assert set(s["ISORRES"]) == {"POSITIVE", "NEGATIVE"} and s["ISSTRESN"].isna().all()
    assert (s["VISIT_y"] == s["VISIT_x"].str.upper()).all()
    withtitre = raw[raw["ADATITER"] != ""]
    assert (withtitre["ADARES"] == "Positive").all()
    t = withtitre.merge(titre, on=["USUBJID", "ISDTC"], validate="one_to_one")
    assert (t["ISORRES"] == t["ADATITER"]).all()
    assert (t["ISSTRESN"] == t["ADATITER"].str.split(":").str[1].astype(float)).all()
    assert (t["ISORRESU"] == "titer").all() and (t["ISSTRESU"] == "titer").all()
    # baseline: the last sample dated on/before the first lymphodepletion day, per subject and record type
    ref_day = isd["USUBJID"].map(first_ld).dt.normalize()
    eligible = isd[pd.to_datetime(isd["ISDTC"]) <= ref_day]
    last = eligible.sort_values("ISDTC").groupby(["USUBJID", "ISTSTOPO"]).tail(1)
    assert set(isd.index[isd["ISLOBXFL"] == "Y"]) == set(last.index)
    assert (isd.loc[isd["ISLOBXFL"] == "Y", "VISIT"] == "DAY -5").all()


# ---- below a limit of detection (the bundled seed has none: inject one) ------------------------------------

def test_lb_result_below_detection_limit(tmp_path):
    study = _copy_example(tmp_path)
    cyto = (study / "raw" / "cyto.csv").read_text(encoding="utf-8").splitlines()
    i = next(i for i, line in enumerate(cyto) if ",Interleukin-6," in line)
    fields = cyto[i].split(",")
    subj = fields[2]
    fields[8] = "<1.5"
    cyto[i] = ",".join(fields)
    (study / "raw" / "cyto.csv").write_text("\n".join(cyto) + "\n", encoding="utf-8")
    lb = _build(study)["LB"].frame
    row = lb[(lb["LBORRES"] == "<1.5")]
    assert len(row) == 1 and row["USUBJID"].iloc[0].endswith(subj)
    assert row["LBSTRESC"].iloc[0] == "<1.5" and pd.isna(row["LBSTRESN"].iloc[0])
    assert row["LBSTRESU"].iloc[0] == "ng/L" and row["LBNRIND"].iloc[0] == "NORMAL"   # range 0.0-7.0


# ---- the gate ------------------------------------------------------------------------------------------

def test_validation_has_no_errors_on_lb_pc_is(sdtm):
    from trialforge.validation.runner import validate_datasets
    report = validate_datasets(sdtm)
    mine = [f for f in report.findings if f.severity == "error" and f.dataset in {"LB", "PC", "IS"}]
    assert not mine, mine[:5]


def test_visits_exist_in_the_visit_log(sdtm):
    """Every LB/PC/IS visit is a visit the subject attended per sv.csv (P21 SD0065)."""
    sv = _raw("sv.csv")
    done = set(zip(sv.loc[sv["VISITYN"] == "Yes", "USUBJID"], sv.loc[sv["VISITYN"] == "Yes", "VISIT"].str.upper()))
    for name in ("LB", "PC", "IS"):
        frame = sdtm[name].frame
        missing = {k for k in zip(frame["USUBJID"], frame["VISIT"]) if k not in done}
        assert not missing, (name, sorted(missing)[:5])
