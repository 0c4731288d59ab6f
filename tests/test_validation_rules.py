"""Every catalogue rule has a pair: the conforming package (no finding for the rule) and the same
package broken in exactly the way the rule describes (at least one finding). A rule registered
without a pair fails ``test_every_rule_has_a_pair``."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from test_validation_packages import S1, S2, Package, adam_package, build, sdtm_package
from trialforge.validation.registry import RULES, load_all
from trialforge.validation.runner import validate_datasets

load_all()


def _set(pkg: Package, name: str, row: int, **values):
    frame = pkg.frame(name).copy()
    for col, value in values.items():
        if col not in frame:
            frame[col] = np.nan if isinstance(value, (int, float)) and not isinstance(value, bool) else ""
        frame.loc[frame.index[row], col] = value
    pkg.set_frame(name, frame)


def _var(pkg, name, var, **changes):
    ds = pkg.datasets[name]
    variables = tuple(replace(v, **changes) if v.name == var else v for v in ds.meta.variables)
    pkg.set_frame(name, ds.frame, variables=variables)


def _drop(pkg, name, *cols):
    ds = pkg.datasets[name]
    pkg.set_frame(name, ds.frame.drop(columns=list(cols)),
                  variables=tuple(v for v in ds.meta.variables if v.name not in cols))


def _add_column(pkg, name, col, values, label=None, type_="Char", length=None):
    from trialforge.specs.metadata import VariableMeta
    ds = pkg.datasets[name]
    frame = ds.frame.copy()
    frame[col] = values
    var = VariableMeta(col, label or col.title(), type=type_, length=length or 8)
    pkg.set_frame(name, frame, variables=ds.meta.variables + (var,))


def _dup_row(pkg, name, row=0, **changes):
    frame = pkg.frame(name)
    extra = frame.iloc[[row]].copy()
    for k, v in changes.items():
        extra[k] = v
    pkg.set_frame(name, pd.concat([frame, extra], ignore_index=True))


def _ts_drop(pkg, param):
    ts = pkg.frame("TS")
    pkg.set_frame("TS", ts[ts["TSPARMCD"] != param].reset_index(drop=True))


def _ts_set(pkg, param, **values):
    ts = pkg.frame("TS").copy()
    for col, value in values.items():
        ts.loc[ts["TSPARMCD"] == param, col] = value
    pkg.set_frame("TS", ts)


def _io(pkg):
    pkg.options["unreadable"] = [("broken.xpt", "truncated XPT file")]


def _keys(pkg):
    ds = pkg.datasets["AE"]
    pkg.set_frame("AE", ds.frame, keys=("STUDYID", "USUBJID", "AEDECOD"))
    _set(pkg, "AE", 1, USUBJID=S1, AESEQ=2, AEDECOD="Headache")


def _custom_dataset(pkg):
    from trialforge.specs.metadata import Dataset, DatasetMeta, VariableMeta
    frame = pd.DataFrame({"STUDYID": ["ST1"], "DOMAIN": ["XX"]})
    meta = DatasetMeta("XX", "Custom", variables=(VariableMeta("STUDYID", "Study Identifier", length=3),
                                                 VariableMeta("DOMAIN", "Domain Abbreviation", length=2)))
    pkg.datasets["XX"] = Dataset(meta, frame)


def _reorder(pkg):
    ds = pkg.datasets["AE"]
    cols = list(ds.frame.columns)
    cols.remove("AETERM")
    cols.append("AETERM")
    pkg.set_frame("AE", ds.frame[cols])


def _empty_ex(pkg):
    pkg.set_frame("EX", pkg.frame("EX").iloc[:0])


def _adsl_copy(pkg):
    _set(pkg, "ADTTE", 0, AGE=56)


S, A = "sdtm", "adam"
# rule id -> (package, how to break it)
BREAK = {
    "TF-VAL-001": (S, lambda p: _set(p, "AE", 0, AETERM="")),
    "TF-VAL-002": (S, lambda p: (p.set_frame("AE", p.frame("AE").assign(AESEQ=["1", "x"])))),
    "TF-CT-001": (S, lambda p: _set(p, "DM", 0, SEX="Male")),
    "TF-CT-002": (S, lambda p: _set(p, "EX", 0, EXDOSU="tablets")),
    "TF-CT-003": (S, lambda p: _set(p, "LB", 0, LBTEST="Aspartate Aminotransferase")),
    "TF-DT-001": (S, lambda p: _set(p, "AE", 0, AESTDTC="2024-02-30")),
    "TF-DT-006": (S, lambda p: _add_column(p, "AE", "AEDUR", ["P1D", "1 day"])),
    "TF-XPT-001": (S, lambda p: _set(p, "AE", 0, AETERM="x" * 201)),
    "TF-XPT-002": (S, lambda p: _set(p, "AE", 0, AETERM="café")),
    "TF-STR-001": (S, lambda p: _drop(p, "AE", "AETERM")),
    "TF-STR-002": (S, lambda p: _drop(p, "AE", "AESER")),
    "TF-STR-003": (S, _reorder),
    "TF-STR-004": (S, lambda p: _var(p, "AE", "AETERM", label="Adverse Event")),
    "TF-STR-005": (S, lambda p: _var(p, "AE", "AESEQ", type="Char")),
    "TF-STR-006": (S, lambda p: _set(p, "AE", 0, DOMAIN="XE")),
    "TF-STR-007": (S, _empty_ex),
    "TF-STR-008": (S, lambda p: _var(p, "AE", "AETERM", length=200)),
    "TF-STR-009": (S, _custom_dataset),
    "TF-STR-010": (S, lambda p: _add_column(p, "AE", "AEFOO", ["a", "b"])),
    "TF-STR-011": (S, lambda p: _add_column(p, "AE", "AEDTC", ["2024-01-21", "2024-01-26"])),
    "TF-XPT-003": (S, lambda p: _add_column(p, "AE", "AEVERYLONGNAME", ["a", "b"])),
    "TF-XPT-004": (S, lambda p: _var(p, "AE", "AETERM", label="R" * 41)),
    "TF-XPT-005": (S, lambda p: p.set_frame("AE", p.frame("AE"), label="L" * 41)),
    "TF-XPT-006": (S, lambda p: p.set_frame("AE", p.frame("AE"), label="")),
    "TF-XPT-007": (S, lambda p: _var(p, "AE", "AETERM", length=201)),
    "TF-SEQ-001": (S, lambda p: _set(p, "AE", 1, USUBJID=S1)),
    "TF-KEY-001": (S, _keys),
    "TF-KEY-002": (S, lambda p: _dup_row(p, "AE", 0, AESEQ=3.0)),
    "TF-DM-001": (S, lambda p: _set(p, "DM", 1, USUBJID=S1)),
    "TF-DM-002": (S, lambda p: p.datasets.pop("DM")),
    "TF-DM-003": (S, lambda p: _set(p, "DM", 0, AGE=0.0)),
    "TF-DM-004": (S, lambda p: _set(p, "DM", 0, DTHDTC="2024-02-20")),
    "TF-DY-001": (S, lambda p: _set(p, "AE", 0, AESTDY=0.0)),
    "TF-DY-002": (S, lambda p: _set(p, "AE", 0, AESTDY=5.0)),
    "TF-DY-003": (S, lambda p: _drop(p, "AE", "AESTDY")),
    "TF-DT-002": (S, lambda p: _set(p, "AE", 0, AEENDTC="2024-01-14", AEENDY=5.0)),
    "TF-DT-003": (S, lambda p: _set(p, "EX", 0, EXSTDY=30.0)),
    "TF-DT-004": (S, lambda p: _set(p, "LB", 0, LBENDTC="2024-01-09")),
    "TF-EP-001": (S, lambda p: _set(p, "AE", 0, EPOCH="FOLLOW-UP")),
    "TF-EP-002": (S, lambda p: _set(p, "AE", 0, EPOCH="SCREENING")),
    "TF-REF-001": (S, lambda p: _set(p, "AE", 0, USUBJID="ST1-01-999")),
    "TF-REF-002": (S, lambda p: _set(p, "SUPPAE", 0, RDOMAIN="CM")),
    "TF-REF-003": (S, lambda p: _set(p, "SUPPAE", 0, IDVAR="AEXSEQ")),
    "TF-REF-004": (S, lambda p: _set(p, "SUPPAE", 0, IDVARVAL="7")),
    "TF-SUPP-001": (S, lambda p: _set(p, "SUPPAE", 0, QNAM="1TRTEM")),
    "TF-SUPP-002": (S, lambda p: _dup_row(p, "SUPPAE", 0, USUBJID=S2, QLABEL="Emergent")),
    "TF-SUPP-003": (S, lambda p: _set(p, "SUPPAE", 0, QLABEL="T" * 41)),
    "TF-SUPP-004": (S, lambda p: _dup_row(p, "SUPPAE", 0)),
    "TF-SUPP-005": (S, lambda p: _set(p, "SUPPAE", 0, QNAM="AESEV")),
    "TF-REL-001": (S, lambda p: _set(p, "RELREC", 1, RELID="R2")),
    "TF-REL-002": (S, lambda p: _set(p, "RELREC", 0, RELTYPE="ONE")),
    "TF-ARM-001": (S, lambda p: _set(p, "DM", 0, ARMCD="B", ACTARMCD="B")),
    "TF-ARM-002": (S, lambda p: _set(p, "DM", 0, ARM="Drug B")),
    "TF-ARM-003": (S, lambda p: _set(p, "TV", 0, ARMCD="A" * 21)),
    "TF-ARM-004": (S, lambda p: _set(p, "DM", 0, ARM="")),
    "TF-TA-001": (S, lambda p: _set(p, "TA", 1, TAETORD=1.0)),
    "TF-TE-001": (S, lambda p: _set(p, "SE", 0, ETCD="FU")),
    "TF-TE-002": (S, lambda p: _dup_row(p, "TE", 0)),
    "TF-TS-001": (S, lambda p: _ts_drop(p, "SSTDTC")),
    "TF-TS-002": (S, lambda p: _ts_drop(p, "TITLE")),
    "TF-TS-003": (S, lambda p: _ts_set(p, "SSTDTC", TSVAL="2024-01")),
    "TF-TS-004": (S, lambda p: _dup_row(p, "TS", 0)),
    "TF-TS-005": (S, lambda p: _ts_set(p, "TITLE", TSVAL="")),
    "TF-VIS-001": (S, lambda p: _set(p, "LB", 1, VISIT="DAY 2")),
    "TF-VIS-002": (S, lambda p: _set(p, "LB", 1, VISITNUM=2.0)),
    "TF-TEST-001": (S, lambda p: _set(p, "LB", 1, LBTESTCD="ALT")),
    "TF-TEST-002": (S, lambda p: _set(p, "LB", 1, LBTEST="Alanine Aminotransferase")),
    "TF-AE-001": (S, lambda p: _set(p, "AE", 0, AESHOSP="Y")),
    "TF-AE-002": (S, lambda p: _set(p, "AE", 0, AESER="Y")),
    "TF-AE-003": (S, lambda p: _set(p, "AE", 0, AEOUT="FATAL")),
    "TF-STAT-001": (S, lambda p: _set(p, "LB", 0, LBSTAT="NOT DONE")),
    "TF-EX-001": (S, lambda p: _set(p, "EX", 0, EXDOSE=-1.0)),
    "TF-IO-001": (S, _io),
    # ADaM
    "TF-ADSL-001": (A, lambda p: _set(p, "ADSL", 1, USUBJID=S1)),
    "TF-ADSL-002": (A, lambda p: p.datasets.pop("ADSL")),
    "TF-ADSL-003": (A, lambda p: _set(p, "ADTTE", 0, USUBJID="ST1-01-999")),
    "TF-ADSL-004": (A, _adsl_copy),
    "TF-ADSL-005": (A, lambda p: _set(p, "ADSL", 0, SAFFL="")),
    "TF-BDS-001": (A, lambda p: _drop(p, "ADTTE", "AVAL")),
    "TF-BDS-002": (A, lambda p: _set(p, "ADLB", 1, PARAM="ALT (U/L)")),
    "TF-BDS-003": (A, lambda p: _set(p, "ADTTE", 0, PARAMCD="OVERALLSURV")),
    "TF-BDS-004": (A, lambda p: _set(p, "ADLB", 1, ABLFL="Y", AVAL=20.0, CHG=0.0, PCHG=0.0)),
    "TF-BDS-005": (A, lambda p: _set(p, "ADLB", 1, CHG=11.0)),
    "TF-BDS-006": (A, lambda p: _set(p, "ADLB", 0, AVAL=21.0, CHG=1.0, PCHG=5.0)),
    "TF-TTE-001": (A, lambda p: _set(p, "ADTTE", 0, CNSR=-1.0)),
    "TF-TTE-002": (A, lambda p: _set(p, "ADTTE", 0, ADT=np.nan)),
    "TF-AD-001": (A, lambda p: (p.set_frame("ADSL", p.frame("ADSL").assign(TRTSDT=["2024-01-10", "2024-01-12"])),
                                _var(p, "ADSL", "TRTSDT", type="Char"))),
    "TF-AD-002": (A, lambda p: _var(p, "ADSL", "TRTSDT", format="BEST12.")),
    "TF-AD-003": (A, lambda p: _set(p, "ADSL", 0, ITTFL="YES")),
    "TF-AD-004": (A, lambda p: _set(p, "ADLB", 1, ABLFL="N")),
    "TF-AD-006": (A, lambda p: _set(p, "ADSL", 0, TRTEDT=23380.0)),
    "TF-AD-005": (A, lambda p: _add_column(p, "ADLB", "ANL01FN", [1.0, 1.0, 2.0, 1.0], type_="Num")),
}


def _report(pkg: Package):
    return validate_datasets(pkg.datasets, scope=pkg.scope, options=pkg.options)


_CLEAN = {S: sdtm_package(), A: adam_package()}


def test_every_rule_has_a_pair():
    missing = sorted(set(RULES) - set(BREAK))
    assert missing == [], f"rules without a violating/conforming test pair: {missing}"
    assert sorted(set(BREAK) - set(RULES)) == []


@pytest.fixture(scope="module")
def clean_findings():
    """Every rule on the conforming packages, run once (test_validation_packages asserts it is empty)."""
    return {which: _report(pkg).findings for which, pkg in _CLEAN.items()}


@pytest.mark.parametrize("rule_id", sorted(BREAK))
def test_rule_pair(rule_id, clean_findings):
    which, breaker = BREAK[rule_id]
    assert not [f for f in clean_findings[which] if f.rule_id == rule_id], "conforming package flagged"
    broken = _CLEAN[which].copy()
    breaker(broken)
    broken.options["only"] = [rule_id]
    hits = [f for f in _report(broken).findings if f.rule_id == rule_id]
    assert hits, f"{rule_id} did not flag the violating package"
    assert all(f.severity == RULES[rule_id].severity for f in hits)


def test_findings_point_at_the_record():
    pkg = sdtm_package()
    _set(pkg, "AE", 1, AESTDTC="2024-13-01")
    hits = [f for f in _report(pkg).findings if f.rule_id == "TF-DT-001"]
    assert [(f.dataset, f.variable, f.usubjid, f.seq, f.row, f.value) for f in hits] == \
        [("AE", "AESTDTC", S2, "1", 2, "2024-13-01")]


def test_pandera_path_gives_the_same_findings():
    pkg = sdtm_package()
    _set(pkg, "DM", 0, SEX="Male")
    _set(pkg, "AE", 0, AESTDTC="2024-02-30", AETERM="")
    direct = _report(pkg)
    via = validate_datasets(pkg.datasets, scope="SDTM", options={"pandera": True})
    assert sorted(f.as_dict().items() for f in via.findings) == sorted(f.as_dict().items() for f in direct.findings)
    assert {f.rule_id for f in direct.findings} >= {"TF-CT-001", "TF-DT-001", "TF-VAL-001"}


def test_result_qualifier_codelists_are_value_level():
    """LBSTRESC's codelist applies per test (VLM), so numeric results are not CT findings."""
    pkg = sdtm_package()
    _set(pkg, "LB", 0, LBSTRESC="12.5")
    assert not [f for f in _report(pkg).findings if f.rule_id.startswith("TF-CT")]


def test_partial_dates_never_prove_start_after_end():
    pkg = sdtm_package()
    _set(pkg, "AE", 0, AESTDTC="2024-01", AEENDTC="2024-01-05", AESTDY=np.nan, AEENDY=np.nan)
    assert not [f for f in _report(pkg).findings if f.rule_id in ("TF-DT-002", "TF-DT-001", "TF-DY-002")]


def test_reserved_armcd_gets_the_armnrs_hint():
    pkg = sdtm_package()
    _set(pkg, "DM", 1, ARMCD="SCRNFAIL", ARM="Screen Failure")
    hits = [f for f in _report(pkg).findings if f.rule_id == "TF-ARM-001"]
    assert hits and "ARMNRS" in hits[0].message


def test_unknown_codelist_in_subset_ct_is_not_judged():
    """A variable whose codelist the loaded CT lacks is not checked (no false CT findings)."""
    pkg = sdtm_package()
    _add_column(pkg, "EX", "EXLOC", ["ARM", "LEG"])   # LOC is in the subset: checked
    found = {f.value for f in _report(pkg).findings if f.rule_id.startswith("TF-CT")}
    assert "LEG" not in found or "ARM" not in found   # sanity: LOC values are real terms
    assert build is not None


def test_instrument_tests_may_come_from_their_own_codelist():
    """RS tests such as ECOG come from the instrument's codelist (ECOG TESTCD), not only ONCRTSCD."""
    from trialforge.specs.ct import load_ct
    from trialforge.validation.context import ValidationContext
    from trialforge.validation.rules_core import ct_extensible
    from test_validation_packages import SDTMIG
    ct = load_ct()
    ecog = next(t.value for t in ct.codelist("C101815").terms)        # a real ECOG TESTCD term
    ctx = ValidationContext(datasets={}, ct=ct, standard=SDTMIG)
    var = SDTMIG.variable("RS", "RSTESTCD")
    flagged = ct_extensible(pd.Series([ecog, "NOTATEST"]), var, ctx)
    assert flagged.tolist() == [False, True]
