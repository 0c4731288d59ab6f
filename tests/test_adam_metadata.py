"""define.xml origins of the ADaM datasets and SDTM PP (trialforge.adam.origins), on the bundled example.

* every variable has an origin; Derived ones a method (Computation / Imputation), Predecessor ones a source;
* every Predecessor's values equal its named source (SDTM record, SUPP-- qualifier or ADSL subject), joined
  here with plain pandas; and the generic rule: a variable equal to the same-named variable of its record's
  SDTM parent (or of ADSL) is a Predecessor;
* method texts say what the data show (TEAE window start, imputation, AVAL = ADT - STARTDT + 1, ...), and
  change with the spec;
* SDTM PP units are CDISC PKUNIT terms (read from the CT file here) and AUCs are the ADPP AUCs x 24.
"""
from __future__ import annotations

import calendar
import re
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trialforge.adam.config import AdamConfig, load_adam_config
from trialforge.adam.origins import variable_origins

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "cd70-cart"
CT_FILE = ROOT / "specs" / "ct" / "sdtm-ct-2022-09-30-subset.tsv"
EPOCH = date(1960, 1, 1)

# How an ADaM record finds its source record: (dataset, source) -> [(ADaM column, source column)].
LINKS = {
    ("ADSL", "DM"): [("USUBJID", "USUBJID")],
    ("ADAE", "AE"): [("USUBJID", "USUBJID"), ("AESEQ", "AESEQ")],
    ("ADLB", "LB"): [("USUBJID", "USUBJID"), ("LBSEQ", "LBSEQ")],
    ("ADPC", "PC"): [("USUBJID", "USUBJID"), ("SRCSEQ", "PCSEQ")],
    ("PP", "PC"): [("USUBJID", "USUBJID")],            # subject-level identifiers only
    ("ADEX", "EX"): [("USUBJID", "USUBJID")],          # subject-level identifiers only
    ("ADIS", "IS"): [("USUBJID", "USUBJID"), ("ISSEQ", "ISSEQ")],
    ("ADCM", "CM"): [("USUBJID", "USUBJID"), ("CMSEQ", "CMSEQ")],
}
# Equal to the same-named SDTM variable on this example, but the recipe does more than copy it.
DERIVED_ALTHOUGH_EQUAL = {("ADSL", "DTHFL")}        # also "Y" when DTHDT exists without DM.DTHFL


@pytest.fixture(scope="module")
def built(example_build):
    b = example_build("cd70-cart")
    sdtm, adam, extra = b.sdtm(), b.adam(), b.extra()
    return {"sdtm": {k: v.frame for k, v in sdtm.items()}, "datasets": {**adam, **extra}}


def _text(s: pd.Series) -> pd.Series:
    return s.astype(object).where(s.notna(), "").astype(str).str.strip()


def _same(left: pd.Series, right: pd.Series) -> pd.Series:
    """Row-wise equality; numbers as floats (NaN == NaN), text stripped ("" == missing)."""
    ln, rn = pd.to_numeric(left, errors="coerce"), pd.to_numeric(right, errors="coerce")
    if pd.api.types.is_numeric_dtype(left):
        return ((ln - rn).abs() < 1e-9) | (ln.isna() & rn.isna() & (_text(right) == ""))
    return _text(left).to_numpy() == _text(right).to_numpy()


def _source_values(built, dataset: str, frame: pd.DataFrame, detail: str) -> pd.Series:
    """The values a Predecessor names, aligned to ``frame``'s rows."""
    supp = re.fullmatch(r"SUPP(\w+)\.QVAL where QNAM = '(\w+)'", detail)
    if supp:
        dom, qnam = supp.groups()
        s = built["sdtm"][f"SUPP{dom}"]
        s = s.loc[s["QNAM"] == qnam, ["USUBJID", "QVAL"]]
        assert not s.duplicated("USUBJID").any()
        return frame[["USUBJID"]].merge(s, on="USUBJID", how="left")["QVAL"]
    dom, var = detail.split(".")
    if dom == "ADSL":
        src, keys = built["datasets"]["ADSL"].frame, [("USUBJID", "USUBJID")]
    else:
        src, keys = built["sdtm"][dom], LINKS[(dataset, dom)]
    src = src.assign(_V=src[var]).rename(columns={s: a for a, s in keys})[[a for a, _ in keys] + ["_V"]]
    src = src.drop_duplicates([a for a, _ in keys])
    merged = frame[[a for a, _ in keys]].merge(src, on=[a for a, _ in keys], how="left", validate="many_to_one")
    return merged["_V"]


def test_every_variable_has_a_define_origin(built):
    for name, ds in built["datasets"].items():
        for v in ds.meta.variables:
            where = (name, v.name)
            assert v.origin in ("Predecessor", "Derived", "Assigned"), where
            if v.origin == "Derived":
                assert v.method and v.method_type in ("Computation", "Imputation"), where
                assert "{" not in v.method, where
            elif v.origin == "Predecessor":
                assert v.origin_detail and not v.method, where
            else:
                assert not v.method, where


def test_dates_that_impute_have_an_imputation_method(built):
    for name, ds in built["datasets"].items():
        cols = ds.meta.variable_names
        for v in ds.meta.variables:
            flagged = (v.name.endswith("DT") and v.name[:-2] + "DTF" in cols) or \
                      (v.name.endswith("DTM") and v.name[:-3] + "TMF" in cols)
            if flagged:
                assert (v.origin, v.method_type) == ("Derived", "Imputation"), (name, v.name)


def test_every_predecessor_equals_its_source(built):
    checked = 0
    for name, ds in built["datasets"].items():
        frame = ds.frame
        for v in ds.meta.variables:
            if v.origin != "Predecessor":
                continue
            values = _source_values(built, name, frame, v.origin_detail)
            same = _same(frame[v.name], values)
            assert same.all(), (name, v.name, v.origin_detail, frame.loc[~same, v.name].head(3).tolist(),
                                values[~same].head(3).tolist())
            checked += 1
    assert checked > 100


def test_a_variable_equal_to_its_parent_record_is_a_predecessor(built):
    """The generic rule: same name and same values as the record's SDTM parent (or ADSL) → Predecessor."""
    sdtm, datasets = built["sdtm"], built["datasets"]
    for (name, dom), keys in LINKS.items():
        if name not in datasets:                     # ADCM: not declared in this example
            continue
        frame, src = datasets[name].frame, sdtm[dom]
        for col in frame.columns:
            if col not in src.columns or col in [a for a, _ in keys] or (name, col) in DERIVED_ALTHOUGH_EQUAL:
                continue
            if _same(frame[col], _source_values(built, name, frame, f"{dom}.{col}")).all():
                assert datasets[name].meta.variable(col).origin == "Predecessor", (name, col)
    adsl = datasets["ADSL"].frame
    for name, ds in datasets.items():
        if name in ("ADSL", "PP"):
            continue
        for col in ds.frame.columns:
            if col in adsl.columns and col != "USUBJID" and (name, col) not in DERIVED_ALTHOUGH_EQUAL:
                if _same(ds.frame[col], _source_values(built, name, ds.frame, f"ADSL.{col}")).all():
                    assert ds.meta.variable(col).origin == "Predecessor", (name, col)


def _method(built, name, var):
    return built["datasets"][name].meta.variable(var).method


def _sas(y, m, d) -> float:
    return float((date(y, m, d) - EPOCH).days)


def test_teae_method_names_the_configured_start_and_reproduces_the_flag(built):
    text = _method(built, "ADAE", "TRTEMFL")
    start = re.search(r"ASTDT >= ADSL\.(\w+)", text).group(1)
    assert start == load_adam_config(EXAMPLE / "specs" / "adam.yaml")["adae"]["trtemfl"]["start"] == "LDSTDT"
    ae = built["datasets"]["ADAE"].frame
    ref = ae[["USUBJID"]].merge(built["datasets"]["ADSL"].frame[["USUBJID", start]], on="USUBJID")[start]
    st, en = ae["ASTDT"], ae["AENDT"]
    expected = ref.notna() & ((st >= ref) | (st.isna() & (en.isna() | (en >= ref))))
    assert (ae["TRTEMFL"] == np.where(expected, "Y", "")).all()


def test_ae_date_imputation_method_matches_the_data(built):
    """ASTDT: YYYY-MM → the 1st, moved up to TRTSDT inside that month; AENDT: → month end, back to DTHDT."""
    assert "first day of the month" in _method(built, "ADAE", "ASTDT") and "ADSL.TRTSDT" in _method(
        built, "ADAE", "ASTDT")
    assert "last day of the month" in _method(built, "ADAE", "AENDT") and "ADSL.DTHDT" in _method(
        built, "ADAE", "AENDT")
    ae = built["datasets"]["ADAE"].frame
    partial = 0
    for dtc, dt, flag, bound, first in (("AESTDTC", "ASTDT", "ASTDTF", "TRTSDT", True),
                                        ("AEENDTC", "AENDT", "AENDTF", "DTHDT", False)):
        for _, row in ae.iterrows():
            text = row[dtc]
            if len(text) >= 10:
                assert row[dt] == _sas(*map(int, text[:10].split("-"))) and row[flag] == ""
            elif len(text) == 7:
                y, m = map(int, text.split("-"))
                lo, hi = _sas(y, m, 1), _sas(y, m, calendar.monthrange(y, m)[1])
                want = lo if first else hi
                b = row[bound]
                if not np.isnan(b) and lo <= b <= hi:
                    want = max(want, b) if first else min(want, b)
                assert row[dt] == want and row[flag] == "D", (dtc, text)
                partial += 1
    assert partial >= 2


def test_computations_the_methods_state(built):
    d = {k: v.frame for k, v in built["datasets"].items()}
    assert _method(built, "ADTTE", "AVAL").startswith("ADT - STARTDT + 1")
    assert np.allclose(d["ADTTE"]["AVAL"], d["ADTTE"]["ADT"] - d["ADTTE"]["STARTDT"] + 1)
    ae = d["ADAE"]
    assert _method(built, "ADAE", "ATOXGRN").startswith("Numeric value of ATOXGR")
    assert _same(ae["ATOXGRN"], pd.to_numeric(ae["ATOXGR"].replace("", np.nan))).all()
    dur = ae["AENDT"] - ae["ASTDT"] + 1
    assert _same(ae["ADURN"], dur).all()
    lb = d["ADLB"]
    diff = lb["ADT"] - lb["TRTSDT"]
    assert "ADSL.TRTSDT" in _method(built, "ADLB", "ADY")
    assert _same(lb["ADY"], diff.where(diff < 0, diff + 1)).all()
    assert "LBLOBXFL" in _method(built, "ADLB", "ABLFL")


def test_methods_follow_the_spec():
    cfg = load_adam_config(EXAMPLE / "specs" / "adam.yaml")
    changed = AdamConfig({**cfg.sections, "adae": {
        **cfg["adae"], "trtemfl": {"start": "TRTSDT", "end_window_days": 30},
        "start_imputation": {"highest": "n", "rule": "first"}},
        "adlb": {**cfg["adlb"], "baseline_flag": None, "baseline_date": "LDSTDT"},
        "adsl": {**cfg["adsl"], "treatments": []}}, cfg.path)
    before = variable_origins("ADAE", ["TRTEMFL", "ASTDT"], cfg)
    after = variable_origins("ADAE", ["TRTEMFL", "ASTDT"], changed)
    assert "ADSL.LDSTDT" in before["TRTEMFL"].text and "ADSL.LDSTDT" not in after["TRTEMFL"].text
    assert "ASTDT >= ADSL.TRTSDT and ASTDT <= ADSL.TRTEDT + 30 days" in after["TRTEMFL"].text
    assert (before["ASTDT"].method_type, after["ASTDT"].method_type) == ("Imputation", "Computation")
    assert "on or before ADSL.LDSTDT" in variable_origins("ADLB", ["ABLFL"], changed)["ABLFL"].text
    # without treatment groups TRT01P is DM.ARM as is: a Predecessor
    trt = variable_origins("ADSL", ["TRT01P"], changed)["TRT01P"]
    assert (trt.origin, trt.text) == ("Predecessor", "DM.ARM")
    assert variable_origins("ADSL", ["TRT01P"], cfg)["TRT01P"].origin == "Derived"


def test_pp_units_are_cdisc_pkunit_terms_and_auc_is_in_hours(built):
    ct = pd.read_csv(CT_FILE, sep="\t", dtype=str).fillna("")
    pkunit = set(ct.loc[ct["Codelist Code"] == "C85494", "CDISC Submission Value"])
    pp = built["datasets"]["PP"].frame
    units = set(pp["PPORRESU"]) | set(pp["PPSTRESU"])
    assert units - {""} <= pkunit, units - pkunit
    assert set(pp.loc[pp["PPTESTCD"] == "AUCINT", "PPSTRESU"]) - {""} == {"h*DNA copies/ug"}
    assert set(pp.loc[pp["PPTESTCD"].isin(["TMAX", "TLST"]), "PPSTRESU"]) - {""} == {"day"}
    adpp = built["datasets"]["ADPP"].frame
    assert set(adpp.loc[adpp["PARAMCD"] == "AUC28D", "AVALU"]) == {"day*DNA copies/ug"}   # ADPP stays in days
    for code, end in (("AUC28D", "P28D"), ("AUC90D", "P90D"), ("TMAX", "")):
        a = adpp.loc[adpp["PARAMCD"] == code, ["USUBJID", "AVAL"]]
        test = "AUCINT" if end else code
        p = pp.loc[(pp["PPTESTCD"] == test) & (pp["PPENINT"] == end), ["USUBJID", "PPSTRESN"]]
        m = a.merge(p, on="USUBJID", validate="one_to_one")
        assert len(m) == len(a) > 0
        factor = 24.0 if end else 1.0
        # PP holds the value at 6 significant digits (pk.pp_significant_digits; issue #16), ADPP the full value
        six = (m["AVAL"] * factor).map(lambda v: float(f"{v:.6g}") if v == v else v)
        assert _same(m["PPSTRESN"], six).all(), code
