"""Table rules (validation/families.py shapes): every row gets a violating and a conforming dataset,
built here from the row itself (names concretised from the pattern, values chosen by hand for the
value rules), and the rule must flag the first and not the second."""
from __future__ import annotations

import re

import pandas as pd
import pytest

from trialforge.specs.metadata import Dataset, DatasetMeta, VariableMeta
from trialforge.validation import rules_adam_tables as AT
from trialforge.validation import rules_design as D
from trialforge.validation import rules_reference_dates as RD
from trialforge.validation import rules_sdtm_tables as ST
from trialforge.validation.registry import RULES, load_all
from trialforge.validation.runner import validate_datasets

load_all()

SAMPLES = [(r"(0[2-9]|[1-9]\d)", "02"), (r"(\d\d)", "01"), (r"(\d)", "1"), (r"\d", "1"), (r"([A-Z0-9]+)", "XX"),
           (r"([A-Z0-9]*)", "A"), (r"[A-Z0-9]*", ""), (r"([A-Z]+)", "AGE"), (r"([AB]TOXGR[LH]?)", "ATOXGR"), ("BASEC?", "BASE"),
           ("(ST|EN)?", "")]


def concrete(pattern: str, prefix: str) -> str:
    name = pattern.replace("--", prefix)
    for rx, sample in SAMPLES:
        name = name.replace(rx, sample)
    name = re.sub(r"\(([A-Z0-9_]+)(\|[^)]*)?\)", r"\1", name)       # an alternation: its first name
    assert re.fullmatch(pattern.replace("--", prefix), name), (pattern, name)
    return name


def partner_of(pattern, template, prefix):
    name = concrete(pattern, prefix)
    return re.fullmatch(pattern.replace("--", prefix), name).expand(template.replace("--", prefix))


def dataset(name, columns: dict) -> Dataset:
    frame = pd.DataFrame(columns)
    meta = DatasetMeta(name=name, label=name, variables=tuple(VariableMeta(c, c, type="Char", length=20) for c in frame))
    return Dataset(meta, frame)


def run(rule_id, datasets, scope):
    report = validate_datasets({d.name: d for d in datasets}, scope=scope, options={"only": [rule_id]})
    return [f for f in report.findings if f.rule_id == rule_id]


def check_pair(rule_id, bad, good, scope):
    assert run(rule_id, bad, scope), f"{rule_id} missed the violating data"
    assert not run(rule_id, good, scope), f"{rule_id} flagged the conforming data"


def _domain(row_domains, default):
    if not row_domains:
        return default
    d = row_domains[0]
    return (d[:-1] + "AE") if d.endswith("*") else d


# ---- SDTM -----------------------------------------------------------------------------------------------

def _sdtm_missing_case(row):
    rid, target, conds = row[0], row[5], row[6]
    name = _domain(row[7] if len(row) > 7 else (), "LB")
    p = name[:2] if not name.startswith(("SUPP", "RELREC")) else ""
    cond = concrete(conds[0], p)
    tgt = partner_of(conds[0], target, p)
    cond_value = ST._CONDITION_VALUE.get(rid, (None, "x"))[1]
    base = {"STUDYID": ["S", "S"], "USUBJID": ["S-1", "S-2"]}
    bad = dataset(name, {**base, cond: [cond_value, ""], tgt: ["", ""]})
    good = dataset(name, {**base, cond: [cond_value, ""], tgt: ["y", ""]})
    return [bad], [good]


@pytest.mark.parametrize("row", ST.MISSING_WHEN, ids=lambda r: r[0])
def test_sdtm_missing_when(row):
    bad, good = _sdtm_missing_case(row)
    check_pair(row[0], bad, good, "SDTM")


@pytest.mark.parametrize("row", ST.VARIABLE_NEEDS, ids=lambda r: r[0])
def test_sdtm_variable_needs(row):
    name = _domain(row[7] if len(row) > 7 else (), "LB")
    p = name[:2]
    present = concrete(row[5], p)
    needed = partner_of(row[5], row[6][0], p)
    check_pair(row[0], [dataset(name, {present: ["x"]})], [dataset(name, {present: ["x"], needed: ["y"]})], "SDTM")


@pytest.mark.parametrize("row", ST.ONE_TO_ONE, ids=lambda r: r[0])
def test_sdtm_one_to_one(row):
    name = _domain(row[8] if len(row) > 8 else (), "LB")
    p = name[:2]
    key, val = concrete(row[5], p), partner_of(row[5], row[6], p)
    within = {w.replace("--", p): ["w", "w", "w"] for w in (row[7] if len(row) > 7 else ())}
    bad = dataset(name, {key: ["a", "a", "a"], val: ["1", "1", "2"], **within})
    good = dataset(name, {key: ["a", "a", "b"], val: ["1", "1", "2"], **within})
    check_pair(row[0], [bad], [good], "SDTM")


SDTM_VALUES = {   # rule id -> (violating value, conforming value)
    "TF-VAL-101": ("OTHER", "ALT"), "TF-VAL-102": ("OTHER", "ASPIRIN"), "TF-VAL-103": ("OTHER", "Headache"),
    "TF-VAL-104": ("MULTIPLE", "ALT"), "TF-VAL-105": ("MULTIPLE", "ASPIRIN"), "TF-VAL-106": ("MULTIPLE", "Rash"),
    "TF-VAL-107": ("100", "100 mg twice"), "TF-VAL-108": ("-P1D", "P1D"), "TF-VAL-109": ("-5", "5"),
    "TF-VAL-110": ("LBX", "LB"), "TF-VAL-111": ("ABCDEFGHI", "ABC"), "TF-VAL-112": ("0", "2"),
    "TF-VAL-113": ("about 60", "18-65"), "TF-VAL-114": ("SOME", "ONE"), "TF-VAL-115": ("-3", "3"),
}


@pytest.mark.parametrize("row", ST.VALUES, ids=lambda r: r[0])
def test_sdtm_values(row):
    name = _domain(row[7] if len(row) > 7 else (), "EX" if row[0] == "TF-VAL-115" else "LB")
    col = concrete(row[5], name[:2])
    bad, good = SDTM_VALUES[row[0]]
    check_pair(row[0], [dataset(name, {col: [bad]})], [dataset(name, {col: [good]})], "SDTM")


DATES = {"after": ("2024-02-01", "2024-01-01"), "before": ("2024-01-01", "2024-02-01"),
         "not_before": ("2024-01-01", "2024-01-01")}


@pytest.mark.parametrize("row", RD.DATE_ORDER, ids=lambda r: r[0])
def test_reference_date_order(row):
    rid, left, right, mode, domains = row[0], row[4], row[5], row[6], row[7]
    name = _domain(domains, "AE")
    p = name[:2]
    lcol = left.replace("--", p)
    bad_l, bad_r = DATES[mode]
    good_l, good_r = ("2024-01-01", "2024-03-01") if mode != "before" else ("2024-03-01", "2024-01-01")
    subj = {"USUBJID": ["S-1"]}

    def package(lv, rv):
        if right.startswith("DM."):
            dm_cols = {**subj, right[3:]: [rv]}
            if name == "DM":
                dm_cols[lcol] = [lv]
                return [dataset("DM", dm_cols)]
            return [dataset("DM", dm_cols), dataset(name, {**subj, lcol: [lv]})]
        return [dataset(name, {**subj, lcol: [lv], right.replace("--", p): [rv]})]
    check_pair(rid, package(bad_l, bad_r), package(good_l, good_r), "SDTM")


TS_GOOD = {"AGEMAX": "P65Y", "AGEMIN": "P18Y", "LENGTH": "P2Y", "PLANSUB": "40", "RANDOM": "Y", "ADDON": "N",
           "ADAPT": "N", "NARMS": "2", "ACTSUB": "38", "RANDQT": "0.5"}


def _ts(rows):
    return dataset("TS", {"TSPARMCD": [r[0] for r in rows], "TSVAL": [r[1] for r in rows]})


@pytest.mark.parametrize("row", D.TS_FORMATS, ids=lambda r: r[0])
def test_ts_formats(row):
    param = row[4]
    check_pair(row[0], [_ts([(param, "about two")])], [_ts([(param, TS_GOOD[param])])], "SDTM")


@pytest.mark.parametrize("param", sorted(D.TS_SINGLE))
def test_ts_single(param):
    rid = D.TS_SINGLE[param][0]
    check_pair(rid, [_ts([(param, TS_GOOD.get(param, "BOTH")), (param, "X")])], [_ts([(param, "X")])], "SDTM")


@pytest.mark.parametrize("row", D.TS_CONDITIONAL, ids=lambda r: r[0])
def test_ts_conditional(row):
    rid, param, cond, value = row[0], row[4], row[5], row[6]
    check_pair(rid, [_ts([(cond, value)])], [_ts([(cond, value), (param, "given")])], "SDTM")


@pytest.mark.parametrize("row", D.EXPECTED_DATASETS, ids=lambda r: r[0])
def test_expected_datasets(row):
    rid, name = row[0], row[1]
    dm = dataset("DM", {"USUBJID": ["S-1"]})
    check_pair(rid, [dm], [dm, dataset(name, {"USUBJID": ["S-1"]})], "SDTM")


# ---- ADaM -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("row", AT.PAIRS, ids=lambda r: r[0])
def test_adam_pairs(row):
    key = concrete(row[5], "")
    val = row[6]
    if "\\d" in val:
        val = concrete(re.fullmatch(row[5], key).expand(val.replace("\\d", "\x00")).replace("\x00", "\\d")
                       if "\\1" in val else val, "")
    else:
        val = partner_of(row[5], val, "")
    within = {w: ["w", "w", "w"] for w in (row[7] if len(row) > 7 else ()) if w not in (key, val)}
    bad = dataset("ADXX", {key: ["a", "a", "a"], val: ["1", "1", "2"], **within})
    good = dataset("ADXX", {key: ["a", "a", "b"], val: ["1", "1", "2"], **within})
    check_pair(row[0], [bad], [good], "ADaM")


@pytest.mark.parametrize("row", [r for r in AT.PRESENCE], ids=lambda r: r[0])
def test_adam_presence(row):
    name = _domain(row[7] if len(row) > 7 else (), "ADXX")
    present = concrete(row[5], "")
    needed = partner_of(row[5], row[6][0], "")
    extra = {}
    if row[0] == "TF-ADV-044":              # the actual group is needed only when TRTxxA exists
        extra = {"TRT01A": ["x"]}
    good_needed = {needed: ["y"]} if not needed.endswith("_ABSENT") else {"TR01AG1": ["y"]}
    check_pair(row[0], [dataset(name, {present: ["x"], **extra})],
               [dataset(name, {present: ["x"], **extra, **good_needed})], "ADaM")


@pytest.mark.parametrize("row", AT.POPULATED, ids=lambda r: r[0])
def test_adam_populated(row):
    rid = row[0]
    cond = concrete(row[6][0], "") if rid != "TF-ADQ-007" else "RANDFL"
    tgt = partner_of(row[6][0], row[5], "") if rid != "TF-ADQ-007" else "RANDDT"
    value = "Y" if rid == "TF-ADQ-007" else "x"
    name = "ADSL" if rid == "TF-ADQ-007" else "ADXX"
    check_pair(rid, [dataset(name, {cond: [value], tgt: [""]})], [dataset(name, {cond: [value], tgt: ["y"]})], "ADaM")


ADAM_VALUES = {"TF-ADX-001": ("2", "1"), "TF-ADX-002": ("0", "1"), "TF-ADX-003": ("N", "Y"), "TF-ADX-004": ("4", "3"),
               "TF-ADX-005": ("WIDE", "BROAD"), "TF-ADX-006": ("3", "2"), "TF-ADX-007": ("0", "1"),
               "TF-ADX-008": ("2", "1"), "TF-ADX-009": ("N", "Y")}


@pytest.mark.parametrize("row", AT.VALUES, ids=lambda r: r[0])
def test_adam_values(row):
    col = concrete(row[5], "")
    bad, good = ADAM_VALUES[row[0]]
    check_pair(row[0], [dataset("ADXX", {col: [bad]})], [dataset("ADXX", {col: [good]})], "ADaM")


@pytest.mark.parametrize("row", AT.LABELS, ids=lambda r: r[0])
def test_adam_labels(row):
    rid, suffix, words = row[0], row[3], row[4]
    name = "XYZ" + suffix

    def ds(label):
        frame = pd.DataFrame({name: [1.0]})
        return Dataset(DatasetMeta(name="ADXX", label="x", variables=(VariableMeta(name, label, type="Num", length=8),)),
                       frame)
    check_pair(rid, [ds("Something")], [ds(f"Analysis {words.title()}")], "ADaM")


def test_every_table_rule_is_registered():
    rows = ST.MISSING_WHEN + ST.VARIABLE_NEEDS + ST.ONE_TO_ONE + ST.VALUES + RD.DATE_ORDER + D.TS_FORMATS + \
        D.TS_CONDITIONAL + AT.PAIRS + AT.PRESENCE + AT.POPULATED + AT.VALUES + AT.LABELS
    assert all(r[0] in RULES for r in rows)
