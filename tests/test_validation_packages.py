"""Small, hand-written SDTM and ADaM packages that conform to every catalogue rule.

The rule tests break them one rule at a time. Values are facts looked up in the shipped CT and
the standard metadata (labels, order, types), not produced by the code under test.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from trialforge.specs.metadata import Dataset, DatasetMeta, VariableMeta
from trialforge.specs.standards import load_standard

SDTMIG = load_standard("SDTMIG 3.4")
ADAMIG = load_standard("ADaMIG 1.3")
S1, S2 = "ST1-01-001", "ST1-01-002"


@dataclass
class Package:
    datasets: dict[str, Dataset]
    scope: str
    options: dict = field(default_factory=dict)

    def copy(self) -> "Package":
        return Package({k: Dataset(v.meta, v.frame.copy(deep=True)) for k, v in self.datasets.items()},
                       self.scope, copy.deepcopy(self.options))

    def frame(self, name: str) -> pd.DataFrame:
        return self.datasets[name].frame

    def set_frame(self, name: str, frame: pd.DataFrame, **meta_changes) -> None:
        ds = self.datasets[name]
        self.datasets[name] = Dataset(replace(ds.meta, **meta_changes) if meta_changes else ds.meta, frame)


def _length(values: pd.Series) -> int:
    text = values.astype(object).where(values.notna(), "").astype(str)
    return max(1, int(text.str.encode("utf-8").str.len().max() or 0))


def build(name: str, columns: dict, standard=SDTMIG, *, add_expected: bool = True) -> Dataset:
    """A dataset in standard order with standard labels/types, Exp variables added (blank) and,
    for SDTM, the --DY variable of every --DTC the domain defines; XPT-like lengths and formats."""
    std = standard.dataset(name)
    n = len(next(iter(columns.values())))
    cols = dict(columns)
    if add_expected and standard is SDTMIG:
        for v in std.variables:
            if v.core == "Exp" and v.name not in cols:
                cols[v.name] = [np.nan] * n if v.type == "Num" else [""] * n
        for c in list(cols):
            if c.endswith("DTC") and standard.variable(name, c[:-3] + "DY") is not None and c[:-3] + "DY" not in cols:
                cols[c[:-3] + "DY"] = [np.nan] * n
    order = {v.name: i for i, v in enumerate(std.variables)}
    names = sorted(cols, key=lambda c: (order.get(c, 10_000), c))
    frame = pd.DataFrame({c: cols[c] for c in names})
    variables = []
    for c in names:
        sv = standard.variable(name, c)
        vtype = sv.type if sv else ("Num" if pd.api.types.is_numeric_dtype(frame[c]) else "Char")
        if vtype == "Num":
            frame[c] = pd.to_numeric(frame[c]).astype(float)
        fmt = None
        if standard is ADAMIG and vtype == "Num" and c.endswith("DTM"):
            fmt = "DATETIME20."
        elif standard is ADAMIG and vtype == "Num" and c.endswith("DT"):
            fmt = "DATE9."
        variables.append(VariableMeta(name=c, label=sv.label if sv else c.title(), type=vtype,
                                      length=8 if vtype == "Num" else _length(frame[c]), format=fmt))
    meta = DatasetMeta(name=name, label=std.label, cls=std.cls, variables=tuple(variables),
                       standard=standard.name)
    return Dataset(meta, frame)


def _ts_rows() -> dict:
    from trialforge.specs.ct import load_ct
    from trialforge.validation.rules_trial import TS_INTERVENTIONAL, TS_REQUIRED
    ct = load_ct()
    codes, names = ct.codelist("TSPARMCD"), ct.codelist("TSPARM")
    name_of = {t.code: t.value for t in names.terms}
    values = {"SSTDTC": "2024-01-01", "SENDTC": "2024-06-01", "DCUTDTC": "2024-06-01", "STYPE": "INTERVENTIONAL",
              "ADDON": "N", "TITLE": "A small study", "AGEMAX": "P65Y", "AGEMIN": "P18Y", "LENGTH": "P1Y",
              "PLANSUB": "20", "RANDOM": "N", "ADAPT": "N", "NARMS": "1", "ACTSUB": "2"}
    params = sorted(set(TS_REQUIRED) | set(TS_INTERVENTIONAL) | {"SSTDTC"})
    return {"STUDYID": ["ST1"] * len(params), "DOMAIN": ["TS"] * len(params),
            "TSSEQ": [1] * len(params), "TSPARMCD": params,
            "TSPARM": [name_of[codes.code_of(p)] for p in params],
            "TSVAL": [values.get(p, "X") for p in params], "TSVALNF": [""] * len(params)}


def sdtm_package() -> Package:
    subj = [S1, S2]
    dm = build("DM", {
        "STUDYID": ["ST1"] * 2, "DOMAIN": ["DM"] * 2, "USUBJID": subj, "SUBJID": ["001", "002"],
        "RFSTDTC": ["2024-01-10", "2024-01-12"], "RFENDTC": ["2024-03-01", "2024-03-05"],
        "RFXSTDTC": ["2024-01-10", "2024-01-12"], "RFXENDTC": ["2024-02-01", "2024-02-05"],
        "RFICDTC": ["2024-01-02", "2024-01-03"], "RFPENDTC": ["2024-03-01", "2024-03-05"],
        "DTHDTC": ["", ""], "DTHFL": ["", ""], "SITEID": ["01", "01"], "AGE": [55, 61], "AGEU": ["YEARS"] * 2,
        "SEX": ["M", "F"], "RACE": ["WHITE"] * 2, "ETHNIC": ["NOT HISPANIC OR LATINO"] * 2,
        "ARMCD": ["A", "A"], "ARM": ["Drug A", "Drug A"], "ACTARMCD": ["A", "A"], "ACTARM": ["Drug A", "Drug A"],
        "COUNTRY": ["USA", "USA"]})
    ta = build("TA", {"STUDYID": ["ST1"] * 2, "DOMAIN": ["TA"] * 2, "ARMCD": ["A", "A"], "ARM": ["Drug A"] * 2,
                      "TAETORD": [1, 2], "ETCD": ["SCRN", "TRT"], "ELEMENT": ["Screening", "Treatment"],
                      "EPOCH": ["SCREENING", "TREATMENT"]})
    te = build("TE", {"STUDYID": ["ST1"] * 2, "DOMAIN": ["TE"] * 2, "ETCD": ["SCRN", "TRT"],
                      "ELEMENT": ["Screening", "Treatment"], "TESTRL": ["Informed consent", "First dose"],
                      "TEENRL": ["First dose", "End of study"]})
    se = build("SE", {"STUDYID": ["ST1"] * 4, "DOMAIN": ["SE"] * 4, "USUBJID": [S1, S1, S2, S2],
                      "SESEQ": [1, 2, 1, 2], "ETCD": ["SCRN", "TRT"] * 2, "ELEMENT": ["Screening", "Treatment"] * 2,
                      "TAETORD": [1, 2, 1, 2], "EPOCH": ["SCREENING", "TREATMENT"] * 2,
                      "SESTDTC": ["2024-01-02", "2024-01-10", "2024-01-03", "2024-01-12"],
                      "SEENDTC": ["2024-01-10", "2024-03-01", "2024-01-12", "2024-03-05"],
                      "SESTDY": [-8, 1, -9, 1], "SEENDY": [1, 52, 1, 54]})
    ae = build("AE", {
        "STUDYID": ["ST1"] * 2, "DOMAIN": ["AE"] * 2, "USUBJID": subj, "AESEQ": [1, 1],
        "AETERM": ["headache", "nausea"], "AEDECOD": ["Headache", "Nausea"],
        "AEBODSYS": ["Nervous system disorders", "Gastrointestinal disorders"], "AESEV": ["MILD", "MODERATE"],
        "AESOC": ["Nervous system disorders", "Gastrointestinal disorders"], "AEBDSYCD": [10029205, 10017947],
        "AESER": ["N", "N"], "AEACN": ["DOSE NOT CHANGED"] * 2, "AEREL": ["NOT RELATED"] * 2,
        "AEOUT": ["RECOVERED/RESOLVED"] * 2, "AESDTH": ["N", "N"], "AESHOSP": ["N", "N"], "EPOCH": ["TREATMENT"] * 2,
        "AESTDTC": ["2024-01-15", "2024-01-20"], "AEENDTC": ["2024-01-20", "2024-01-25"],
        "AESTDY": [6, 9], "AEENDY": [11, 14]})
    suppae = build("SUPPAE", {"STUDYID": ["ST1"], "RDOMAIN": ["AE"], "USUBJID": [S1], "IDVAR": ["AESEQ"],
                              "IDVARVAL": ["1"], "QNAM": ["AETRTEM"], "QLABEL": ["Treatment Emergent Flag"],
                              "QVAL": ["Y"], "QORIG": ["Derived"], "QEVAL": [""]})
    lb = build("LB", {
        "STUDYID": ["ST1"] * 2, "DOMAIN": ["LB"] * 2, "USUBJID": [S1, S1], "LBSEQ": [1, 2],
        "LBTESTCD": ["ALT", "AST"], "LBTEST": ["Alanine Aminotransferase", "Aspartate Aminotransferase"],
        "LBORRES": ["20", "25"], "LBORRESU": ["U/L"] * 2, "LBSTRESC": ["20", "25"], "LBSTRESN": [20, 25],
        "LBSTRESU": ["U/L"] * 2, "LBSTAT": ["", ""], "VISITNUM": [1, 1], "VISIT": ["DAY 1"] * 2,
        "EPOCH": ["TREATMENT"] * 2, "LBDTC": ["2024-01-10"] * 2, "LBENDTC": ["", ""], "LBDY": [1, 1]})
    relrec = build("RELREC", {"STUDYID": ["ST1"] * 2, "RDOMAIN": ["AE", "LB"], "USUBJID": [S1, S1],
                              "IDVAR": ["AESEQ", "LBSEQ"], "IDVARVAL": ["1", "1"], "RELTYPE": ["", ""],
                              "RELID": ["R1", "R1"]})
    ex = build("EX", {"STUDYID": ["ST1"] * 2, "DOMAIN": ["EX"] * 2, "USUBJID": subj, "EXSEQ": [1, 1],
                      "EXTRT": ["DRUG A"] * 2, "EXDOSE": [10, 10], "EXDOSU": ["mg"] * 2, "EXDOSFRM": ["TABLET"] * 2,
                      "EPOCH": ["TREATMENT"] * 2, "EXSTDTC": ["2024-01-10", "2024-01-12"],
                      "EXENDTC": ["2024-02-01", "2024-02-05"], "EXSTDY": [1, 1], "EXENDY": [23, 25]})
    ts = build("TS", _ts_rows())
    ts.frame["TSSEQ"] = 1.0
    tv = build("TV", {"STUDYID": ["ST1"], "DOMAIN": ["TV"], "VISITNUM": [1], "VISIT": ["DAY 1"], "TVSTRL": ["Day 1"]})
    sv = build("SV", {"STUDYID": ["ST1"], "DOMAIN": ["SV"], "USUBJID": [S1], "VISITNUM": [1], "VISIT": ["DAY 1"],
                      "SVSTDTC": ["2024-01-10"], "SVENDTC": ["2024-01-10"],
                      "SVSTDY": [1], "SVENDY": [1]})
    ds = build("DS", {"STUDYID": ["ST1"] * 4, "DOMAIN": ["DS"] * 4, "USUBJID": [S1, S1, S2, S2],
                      "DSSEQ": [1, 2, 1, 2], "DSTERM": ["Informed consent obtained", "Completed"] * 2,
                      "DSDECOD": ["INFORMED CONSENT OBTAINED", "COMPLETED"] * 2,
                      "DSCAT": ["PROTOCOL MILESTONE", "DISPOSITION EVENT"] * 2,
                      "EPOCH": ["SCREENING", "TREATMENT"] * 2,
                      "DSSTDTC": ["2024-01-02", "2024-03-01", "2024-01-03", "2024-03-05"],
                      "DSSTDY": [-8, 52, -9, 54]})
    vs = build("VS", {"STUDYID": ["ST1"], "DOMAIN": ["VS"], "USUBJID": [S1], "VSSEQ": [1], "VSTESTCD": ["PULSE"],
                      "VSTEST": ["Pulse Rate"], "VSORRES": ["72"], "VSORRESU": ["beats/min"], "VSSTRESC": ["72"],
                      "VSSTRESN": [72], "VSSTRESU": ["beats/min"], "VISITNUM": [1], "VISIT": ["DAY 1"],
                      "EPOCH": ["TREATMENT"], "VSDTC": ["2024-01-10"], "VSDY": [1]})
    items = [dm, ta, te, se, ae, suppae, lb, relrec, ex, ts, tv, sv, ds, vs]
    return Package({d.name: d for d in items}, "SDTM")


def adam_package() -> Package:
    subj = [S1, S2]
    adsl = build("ADSL", {
        "STUDYID": ["ST1"] * 2, "USUBJID": subj, "SUBJID": ["001", "002"], "SITEID": ["01", "01"],
        "AGE": [55, 61], "AGEU": ["YEARS"] * 2, "SEX": ["M", "F"], "RACE": ["WHITE"] * 2, "ARM": ["Drug A"] * 2,
        "TRT01P": ["Drug A"] * 2, "TRT01A": ["Drug A"] * 2, "SAFFL": ["Y", "Y"], "ITTFL": ["Y", "N"],
        "TRTSDT": [23385.0, 23387.0], "TRTEDT": [23407.0, 23411.0]}, ADAMIG)
    adtte = build("ADTTE", {
        "STUDYID": ["ST1"] * 2, "USUBJID": subj, "AGE": [55, 61], "PARAMCD": ["OS", "OS"],
        "PARAM": ["Overall Survival (days)"] * 2, "AVAL": [100, 120], "STARTDT": [23385.0, 23387.0],
        "ADT": [23484.0, 23506.0], "CNSR": [0, 1], "EVNTDESC": ["DEATH", ""], "CNSDTDSC": ["", "LAST CONTACT"],
        "TRTA": ["Drug A"] * 2}, ADAMIG)
    adlb = build("ADLB", {
        "STUDYID": ["ST1"] * 4, "USUBJID": [S1, S1, S2, S2], "PARAMCD": ["ALT"] * 4,
        "PARAM": ["Alanine Aminotransferase (U/L)"] * 4, "AVISIT": ["BASELINE", "WEEK 2"] * 2,
        "AVISITN": [0, 2, 0, 2], "ADT": [23385.0, 23399.0, 23387.0, 23401.0], "ADY": [1, 15, 1, 15],
        "AVAL": [20, 30, 40, 30], "BASE": [20, 20, 40, 40], "CHG": [0, 10, 0, -10], "PCHG": [0, 50, 0, -25],
        "ABLFL": ["Y", "", "Y", ""], "ANL01FL": ["Y"] * 4, "TRTA": ["Drug A"] * 4}, ADAMIG)
    adsl = Dataset(replace(adsl.meta, label="Subject-Level Analysis Dataset"), adsl.frame)   # ADaMIG's name
    return Package({d.name: d for d in (adsl, adtte, adlb)}, "ADaM")


def test_clean_packages_have_no_findings():
    from trialforge.validation.runner import validate_datasets
    for package in (sdtm_package(), adam_package()):
        report = validate_datasets(package.datasets, scope=package.scope)
        assert [(f.rule_id, f.dataset, f.variable, f.message) for f in report.findings] == []
