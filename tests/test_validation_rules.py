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
    """Table rules get their pair in test_validation_families.py, every other rule here."""
    missing = sorted(set(RULES) - set(BREAK) - TABLE_RULES)
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


def test_pandera_path_gives_the_same_findings_on_adam():
    """``trialforge adam`` and ``run`` gate ADaM through the direct path: pandera must agree there too."""
    pkg = adam_package()
    _set(pkg, "ADSL", 0, SEX="Male", AGEU="")
    _set(pkg, "ADLB", 1, PARAMCD="")
    direct = _report(pkg)
    via = validate_datasets(pkg.datasets, scope="ADaM", options={"pandera": True})
    assert sorted(f.as_dict().items() for f in via.findings) == sorted(f.as_dict().items() for f in direct.findings)
    assert {f.rule_id for f in direct.findings} >= {"TF-CT-001", "TF-VAL-001"}


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


# ---- the rules added for issue 16 that are not table rows (table rows: test_validation_families.py) ------

def _new(pkg, name, cols, standard=None, **kw):
    from test_validation_packages import ADAMIG
    pkg.datasets[name] = build(name, cols, standard or (ADAMIG if pkg.scope == "ADaM" else
                                                        __import__("test_validation_packages").SDTMIG), **kw)


def _keep(pkg, name, mask_fn):
    frame = pkg.frame(name)
    pkg.set_frame(name, frame[mask_fn(frame)].reset_index(drop=True))


_IE = {"STUDYID": ["ST1"], "DOMAIN": ["IE"], "USUBJID": [S1], "IESEQ": [1], "IETESTCD": ["IN01"],
       "IETEST": ["Age >= 18"], "IECAT": ["INCLUSION"], "IEORRES": ["N"], "IESTRESC": ["N"]}
_TI = {"STUDYID": ["ST1"], "DOMAIN": ["TI"], "IETESTCD": ["IN01"], "IETEST": ["Age >= 18"], "IECAT": ["INCLUSION"]}


def _ie(pkg, **changes):
    _new(pkg, "IE", {**_IE, **{k: [v] for k, v in changes.items()}}, add_expected=False)


def _ie_ti(pkg, **changes):
    _new(pkg, "TI", _TI, add_expected=False)
    _ie(pkg, **changes)


def _sdtm_subject(name, extra):
    return lambda p: _new(p, name, {"STUDYID": ["ST1"], "DOMAIN": [name], "USUBJID": [S1], f"{name}SEQ": [1], **extra},
                          add_expected=False)


NAN = np.nan
NEW_BREAK = {
    "TF-AE-004": (S, lambda p: _set(p, "AE", 0, AEOUT="NOT RECOVERED/NOT RESOLVED")),
    "TF-AE-005": (S, lambda p: _set(p, "AE", 0, AEENDTC="", AEENDY=NAN)),
    "TF-AE-006": (S, lambda p: (_set(p, "DM", 0, DTHDTC="2024-01-25", DTHFL="Y"), _set(p, "AE", 0, AEOUT="FATAL"))),
    "TF-AE-007": (S, lambda p: _set(p, "SUPPAE", 0, QNAM="AEOTHER")),
    "TF-ARM-005": (S, lambda p: _set(p, "DM", 0, ARM="Drug B")),
    "TF-ARM-006": (S, lambda p: _set(p, "DM", 0, ARMCD="SCRNFAIL", ARM="Screen Failure")),
    "TF-ARM-007": (S, lambda p: _set(p, "DM", 0, ACTARMCD="NOTTRT", ACTARM="Not Treated")),
    "TF-ARM-008": (S, lambda p: _set(p, "DM", 0, ACTARMCD="", ACTARM="")),
    "TF-ARM-009": (S, lambda p: _set(p, "DM", 0, ARMCD="", ARM="")),
    "TF-ARM-010": (S, lambda p: _add_column(p, "DM", "ARMNRS", ["SCREEN FAILURE", ""])),
    "TF-ARM-011": (S, lambda p: _add_column(p, "DM", "ARMNRS", ["SCREEN FAILURE", ""])),
    "TF-ARM-012": (S, lambda p: _set(p, "DM", 0, ACTARMCD="B")),
    "TF-ARM-013": (S, lambda p: _set(p, "DM", 0, ACTARM="Drug B")),
    "TF-ARM-014": (S, lambda p: _set(p, "TA", 0, ARMCD="SCRNFAIL")),
    "TF-ARM-015": (S, lambda p: _dup_row(p, "TA", 0, ARMCD="B")),
    "TF-BL-001": (S, lambda p: (_dup_row(p, "LB", 0, LBSEQ=3.0), _add_column(p, "LB", "LBBLFL", ["Y", "", "Y"]))),
    "TF-BL-002": (S, lambda p: (_dup_row(p, "LB", 0, LBSEQ=3.0), _set(p, "LB", 0, LBLOBXFL="Y"),
                                _set(p, "LB", 2, LBLOBXFL="Y"))),
    "TF-BL-003": (S, lambda p: _set(p, "LB", 0, LBLOBXFL="Y", LBSTRESC="")),
    "TF-BL-004": (S, lambda p: _set(p, "LB", 0, LBLOBXFL="Y", LBORRES="")),
    "TF-BL-005": (S, lambda p: _set(p, "LB", 0, LBLOBXFL="Y", LBSTRESC="")),
    "TF-CAT-001": (S, lambda p: (_set(p, "LB", 0, LBCAT="CHEMISTRY"), _add_column(p, "LB", "LBSCAT", ["CHEMISTRY", ""]))),
    "TF-CO-001": (S, lambda p: _new(p, "CO", {"STUDYID": ["ST1"], "DOMAIN": ["CO"], "RDOMAIN": ["AE"], "USUBJID": [S1],
                                              "COSEQ": [1], "IDVAR": ["AESEQ"], "IDVARVAL": ["1"], "COVAL": ["note"],
                                              "CODTC": ["2024-01-16"]}, add_expected=False)),
    "TF-DIC-001": (S, lambda p: _set(p, "AE", 0, AESOC="Cardiac disorders")),
    "TF-DIC-002": (S, lambda p: _add_column(p, "AE", "AESOCCD", [10000000.0, 10017947.0], type_="Num")),
    "TF-DM-010": (S, lambda p: _set(p, "DM", 0, RFSTDTC="")),
    "TF-DM-011": (S, lambda p: _set(p, "DM", 0, RFENDTC="")),
    "TF-DM-012": (S, lambda p: _set(p, "DM", 0, RFSTDTC="")),
    "TF-DM-013": (S, lambda p: _set(p, "DM", 0, RFENDTC="")),
    "TF-DM-014": (S, lambda p: _set(p, "DM", 0, RFXSTDTC="")),
    "TF-DM-015": (S, lambda p: _keep(p, "EX", lambda f: f["USUBJID"] != S1)),
    "TF-DM-016": (S, lambda p: _set(p, "DM", 0, ARMCD="")),
    "TF-DM-017": (S, lambda p: _set(p, "DM", 0, ACTARMCD="")),
    "TF-DM-018": (S, lambda p: (_set(p, "DM", 0, ACTARMCD="", RFXSTDTC=""), _keep(p, "EX", lambda f: f["USUBJID"] != S1))),
    "TF-DM-019": (S, lambda p: _set(p, "DM", 1, SUBJID="001")),
    "TF-DM-020": (S, lambda p: _set(p, "DM", 0, AGE=NAN)),
    "TF-DM-021": (S, lambda p: _add_column(p, "DM", "AGETXT", ["18-65", ""])),
    "TF-DM-022": (S, lambda p: _set(p, "DM", 0, AGE=NAN)),
    "TF-DS-001": (S, lambda p: (_set(p, "DM", 0, DTHDTC="2024-03-02", DTHFL="Y"), _set(p, "DS", 1, DSDECOD="DEATH"))),
    "TF-DS-002": (S, lambda p: _keep(p, "DS", lambda f: f["USUBJID"] == S1)),
    "TF-DS-003": (S, lambda p: _set(p, "DS", 1, DSCAT="OTHER EVENT")),
    "TF-DS-004": (S, lambda p: _set(p, "DS", 0, DSDECOD="OTHER")),
    "TF-DS-005": (S, lambda p: _set(p, "DS", 1, DSDECOD="ADVERSE EVENT")),
    "TF-DS-006": (S, lambda p: _dup_row(p, "DS", 1, DSSEQ=3.0)),
    "TF-DS-110": (S, _sdtm_subject("PP", {"PPTESTCD": ["CMAX"], "PPTEST": ["Max Conc"]})),
    "TF-DS-111": (S, _sdtm_subject("MS", {"MSTESTCD": ["MIC"], "MSTEST": ["MIC"]})),
    "TF-DTH-001": (S, lambda p: _set(p, "AE", 0, AEOUT="FATAL")),
    "TF-DTH-002": (S, lambda p: _set(p, "AE", 0, AESDTH="Y")),
    "TF-DTH-003": (S, lambda p: _set(p, "DS", 1, DSDECOD="DEATH")),
    "TF-DTH-004": (S, _sdtm_subject("SS", {"SSTESTCD": ["SURVSTAT"], "SSTEST": ["Survival Status"],
                                           "SSORRES": ["DEAD"], "SSSTRESC": ["DEAD"]})),
    "TF-DTH-005": (S, _sdtm_subject("DD", {"DDTESTCD": ["PRCDTH"], "DDTEST": ["Primary Cause of Death"]})),
    "TF-DTH-006": (S, lambda p: _set(p, "DM", 0, DTHFL="Y", DTHDTC="2024-03-01")),
    "TF-DY-004": (S, lambda p: _set(p, "LB", 0, LBDY=NAN)),
    "TF-DY-005": (S, lambda p: _set(p, "AE", 0, AESTDY=NAN)),
    "TF-DY-006": (S, lambda p: _set(p, "AE", 0, AEENDY=NAN)),
    "TF-EP-003": (S, lambda p: _set(p, "AE", 0, EPOCH="")),
    "TF-EX-002": (S, lambda p: _add_column(p, "EX", "EXDOSTXT", ["10 mg", ""])),
    "TF-EX-003": (S, lambda p: _set(p, "EX", 0, EXTRT="PLACEBO")),
    "TF-EX-004": (S, lambda p: _add_column(p, "EX", "EXVAMTU", ["mL", ""])),
    "TF-ID-001": (S, lambda p: _set(p, "AE", 0, STUDYID="ST2")),
    "TF-OCC-001": (S, lambda p: _add_column(p, "AE", "AEOCCUR", ["Y", ""])),
    "TF-OCC-002": (S, lambda p: (_add_column(p, "AE", "AEPRESP", ["Y", ""]), _add_column(p, "AE", "AEOCCUR", ["", ""]))),
    "TF-REL-003": (S, lambda p: _set(p, "RELREC", 0, USUBJID="", IDVARVAL="")),
    "TF-RES-001": (S, lambda p: _set(p, "LB", 0, LBSTRESC="20.0001")),
    "TF-RES-002": (S, lambda p: _set(p, "LB", 0, LBSTRESC="5.55422e+07")),
    "TF-RES-003": (S, lambda p: _set(p, "LB", 0, LBSTRESN=NAN)),
    "TF-RES-004": (S, lambda p: _set(p, "LB", 0, LBSTRESC="21", LBSTRESN=21.0)),
    "TF-RES-005": (S, lambda p: (_dup_row(p, "LB", 0, LBSEQ=3.0), _set(p, "LB", 2, LBORRESU=""))),
    "TF-RES-006": (S, lambda p: (_dup_row(p, "LB", 0, LBSEQ=3.0), _set(p, "LB", 2, LBSTRESU=""))),
    "TF-RES-007": (S, lambda p: _set(p, "LB", 0, LBORRES="", LBSTRESC="", LBSTRESN=NAN, LBSTAT="NOT DONE")),
    "TF-RES-008": (S, lambda p: _set(p, "LB", 0, LBSTNRLO=40.0, LBSTNRHI=10.0)),
    "TF-RES-009": (S, lambda p: _set(p, "LB", 0, LBORRES="<20", LBORNRLO="10")),
    "TF-RES-010": (S, lambda p: _set(p, "LB", 0, LBORRES="<20", LBORNRHI="40")),
    "TF-RES-011": (S, lambda p: _set(p, "LB", 0, LBORRES="<20", LBSTNRLO=10.0)),
    "TF-RES-012": (S, lambda p: _set(p, "LB", 0, LBORRES="<20", LBSTNRHI=40.0)),
    "TF-RES-013": (S, lambda p: _set(p, "LB", 0, LBNRIND="HIGH", LBSTNRHI=40.0)),
    "TF-RES-014": (S, lambda p: _set(p, "LB", 0, LBSTRESC="")),
    "TF-RES-015": (S, lambda p: _set(p, "LB", 0, LBORRES="")),
    "TF-RES-016": (S, lambda p: _add_column(p, "LB", "LBDRVFL", ["Y", ""])),
    "TF-RES-017": (S, lambda p: (_add_column(p, "LB", "LBSTREFC", ["5", ""]),
                                 _add_column(p, "LB", "LBSTREFN", [NAN, NAN], type_="Num"))),
    "TF-RES-018": (S, lambda p: _ie(p, IESTRESC="Y")),
    "TF-RES-019": (S, lambda p: _ie(p, IECAT="EXCLUSION", IETESTCD="EX01")),
    "TF-RES-020": (S, lambda p: _ie(p, IEORRES="Y", IESTRESC="Y")),
    "TF-RES-021": (S, lambda p: _add_column(p, "LB", "LBTOXGR", ["G2", ""])),
    "TF-SE-001": (S, lambda p: _set(p, "SE", 0, ETCD="UNPLAN")),
    "TF-SE-002": (S, lambda p: _set(p, "SE", 0, ETCD="UNPLAN")),
    "TF-SE-003": (S, lambda p: _set(p, "SE", 0, TAETORD=2.0)),
    "TF-STAT-002": (S, lambda p: _set(p, "LB", 0, LBSTAT="NOT DONE")),
    "TF-STAT-003": (S, lambda p: _set(p, "LB", 0, LBSTAT="NOT DONE")),
    "TF-STR-014": (S, _sdtm_subject("CM", {"CMTRT": ["ASPIRIN"]})),
    "TF-SUPP-006": (S, lambda p: _new(p, "SUPPDM", {"STUDYID": ["ST1"], "RDOMAIN": ["DM"], "USUBJID": [S1],
                                                    "IDVAR": [""], "IDVARVAL": [""], "QNAM": ["ITT"],
                                                    "QLABEL": ["Intent to Treat"], "QVAL": ["Y"], "QORIG": ["Derived"],
                                                    "QEVAL": [""]})),
    "TF-SUPP-007": (S, lambda p: _set(p, "SUPPAE", 0, QORIG="ASSIGNED")),
    "TF-SUPP-008": (S, lambda p: _new(p, "SUPPTS", {"STUDYID": ["ST1"], "RDOMAIN": ["TS"], "USUBJID": [""],
                                                    "IDVAR": ["TSSEQ"], "IDVARVAL": ["1"], "QNAM": ["X"],
                                                    "QLABEL": ["X"], "QVAL": ["Y"], "QORIG": ["Derived"],
                                                    "QEVAL": [""]})),
    "TF-TE-003": (S, lambda p: _set(p, "SE", 0, ELEMENT="Screen")),
    "TF-TE-004": (S, lambda p: _set(p, "TE", 0, TEENRL="")),
    "TF-TE-005": (S, lambda p: _set(p, "TE", 1, ELEMENT="Screening")),
    "TF-TE-006": (S, lambda p: _dup_row(p, "TE", 0, ETCD="FU", ELEMENT="Follow-up")),
    "TF-TE-007": (S, lambda p: (_set(p, "SE", 1, ETCD="SCRN"), _set(p, "SE", 3, ETCD="SCRN"))),
    "TF-TI-001": (S, lambda p: _ie_ti(p, IETESTCD="IN02")),
    "TF-TI-002": (S, lambda p: _ie_ti(p, IETEST="Age >= 21")),
    "TF-TI-003": (S, lambda p: (_new(p, "TI", _TI, add_expected=False), _dup_row(p, "TI", 0))),
    "TF-TIM-020": (S, lambda p: _set(p, "AE", 0, AESTDTC="2024-03-10")),
    "TF-TIM-021": (S, lambda p: _set(p, "EX", 0, EXENDTC="2024-03-10")),
    "TF-TIM-022": (S, lambda p: _set(p, "EX", 0, EXSTDTC="2024-03-10")),
    "TF-TPT-001": (S, lambda p: _add_column(p, "LB", "LBRFTDTC", ["2024-01-10", ""])),
    "TF-TS-030": (S, lambda p: _ts_set(p, "TITLE", TSVAL="UNK")),
    "TF-TS-031": (S, lambda p: _ts_set(p, "TITLE", TSVALNF="XYZ")),
    "TF-TS-032": (S, lambda p: _ts_set(p, "TITLE", TSVCDVER="1.0")),
    "TF-TS-039": (S, lambda p: _ts_set(p, "HLTSUBJI", TSVAL="Y")),
    "TF-TV-001": (S, lambda p: _set(p, "SV", 0, VISITNUM=2.0)),
    "TF-TV-002": (S, lambda p: _set(p, "SV", 0, VISIT="DAY ONE")),
    "TF-TV-003": (S, lambda p: _set(p, "LB", 0, VISIT="DAY ONE")),
    "TF-TV-004": (S, lambda p: _set(p, "LB", 0, VISITNUM=2.0)),
    "TF-TV-005": (S, lambda p: (_add_column(p, "SV", "SVUPDES", ["Unplanned"]),
                                _add_column(p, "SV", "VISITDY", [1.0], type_="Num"))),
    "TF-TV-006": (S, lambda p: _dup_row(p, "TV", 0)),
    "TF-TXT-001": (S, lambda p: _set(p, "AE", 0, AETERM=" headache")),
    # ADaM
    "TF-ADC-001": (A, lambda p: _add_column(p, "ADSL", "SAFFN", [0.0, 1.0], type_="Num")),
    "TF-ADC-002": (A, lambda p: _add_column(p, "ADLB", "R2BASE", [1.0, 9.0, 1.0, 0.75], type_="Num")),
    "TF-ADC-003": (A, lambda p: (_add_column(p, "ADLB", "A1LO", [10.0] * 4, type_="Num"),
                                 _add_column(p, "ADLB", "R2A1LO", [2.0, 5.0, 4.0, 3.0], type_="Num"))),
    "TF-ADC-004": (A, lambda p: (_add_column(p, "ADLB", "A1HI", [40.0] * 4, type_="Num"),
                                 _add_column(p, "ADLB", "R2A1HI", [0.5, 0.9, 1.0, 0.75], type_="Num"))),
    "TF-ADC-005": (A, lambda p: (_set(p, "ADLB", 2, BASE=0.0), _add_column(p, "ADLB", "R2BASE", [1.0] * 4, type_="Num"))),
    "TF-ADC-006": (A, lambda p: (_add_column(p, "ADLB", "A1LO", [0.0] * 4, type_="Num"),
                                 _add_column(p, "ADLB", "R2A1LO", [1.0] * 4, type_="Num"))),
    "TF-ADC-007": (A, lambda p: (_add_column(p, "ADLB", "A1HI", [0.0] * 4, type_="Num"),
                                 _add_column(p, "ADLB", "R2A1HI", [1.0] * 4, type_="Num"))),
    "TF-ADC-008": (A, lambda p: _set(p, "ADLB", 0, BASE=0.0)),
    "TF-ADC-009": (A, lambda p: _set(p, "ADLB", 1, AVAL=NAN)),
    "TF-ADC-010": (A, lambda p: _add_column(p, "ADLB", "BCHG", [0.0, 5.0, 0.0, 10.0], type_="Num")),
    "TF-ADC-011": (A, lambda p: _add_column(p, "ADLB", "PBCHG", [0.0, 1.0, 0.0, 2.0], type_="Num")),
    "TF-ADC-012": (A, lambda p: _set(p, "ADLB", 0, ABLFL="")),
    "TF-ADC-013": (A, lambda p: (_add_column(p, "ADLB", "SPDEVID", ["D1"] * 4), _set(p, "ADLB", 1, ABLFL="Y"))),
    "TF-ADC-014": (A, lambda p: (_add_column(p, "ADLB", "BTOXGR", ["1"] * 4), _add_column(p, "ADLB", "ATOXGR", ["2"] * 4))),
    "TF-ADC-015": (A, lambda p: (_add_column(p, "ADLB", "BNRIND", ["NORMAL"] * 4),
                                 _add_column(p, "ADLB", "ANRIND", ["HIGH"] * 4))),
    "TF-ADC-016": (A, lambda p: (_add_column(p, "ADLB", "B1IND", ["NORMAL"] * 4),
                                 _add_column(p, "ADLB", "A1IND", ["HIGH"] * 4))),
    "TF-ADC-017": (A, lambda p: _add_column(p, "ADLB", "TRTEM1FL", ["Y"] * 4)),
    "TF-ADC-018": (A, lambda p: _add_column(p, "ADLB", "ONTRT1FL", ["Y"] * 4)),
    "TF-ADC-019": (A, lambda p: _add_column(p, "ADSL", "TR01EDT", [23400.0, 23411.0], type_="Num")),
    "TF-ADO-001": (A, lambda p: (_add_column(p, "ADSL", "ASDY", [5.0, 1.0], type_="Num"),
                                 _add_column(p, "ADSL", "AEDY", [1.0, 2.0], type_="Num"))),
    "TF-ADO-002": (A, lambda p: (_add_column(p, "ADSL", "ASTDY", [5.0, 1.0], type_="Num"),
                                 _add_column(p, "ADSL", "AENDY", [1.0, 2.0], type_="Num"))),
    "TF-ADO-003": (A, lambda p: (_add_column(p, "ADSL", "ASTDTM", [5.0, 1.0], type_="Num"),
                                 _add_column(p, "ADSL", "AENDTM", [1.0, 2.0], type_="Num"))),
    "TF-ADO-004": (A, lambda p: (_add_column(p, "ADSL", "ASTM", [5.0, 1.0], type_="Num"),
                                 _add_column(p, "ADSL", "AETM", [1.0, 2.0], type_="Num"))),
    "TF-ADO-005": (A, lambda p: (_add_column(p, "ADSL", "ASDTM", [5.0, 1.0], type_="Num"),
                                 _add_column(p, "ADSL", "AEDTM", [1.0, 2.0], type_="Num"))),
    "TF-ADO-006": (A, lambda p: (_add_column(p, "ADSL", "DEVIPDT", [5.0, 1.0], type_="Num"),
                                 _add_column(p, "ADSL", "DEVXPDT", [1.0, 2.0], type_="Num"))),
    "TF-ADO-007": (A, lambda p: _set(p, "ADTTE", 0, ADT=23380.0)),
    "TF-ADO-008": (A, lambda p: _add_column(p, "ADSL", "TRTSDTM", [23385 * 86400 + 3600.0, 23388 * 86400.0],
                                            type_="Num")),
    "TF-ADO-009": (A, lambda p: (_add_column(p, "ADSL", "ASTTM", [3600.0, 0.0], type_="Num"),
                                 _add_column(p, "ADSL", "ASTDTM", [23385 * 86400 + 3600.0, 23387 * 86400 + 60.0],
                                             type_="Num"))),
    "TF-ADQ-025": (A, lambda p: _add_column(p, "ADSL", "RANDDT", [23380.0, NAN], type_="Num")),
    "TF-ADS-001": (A, lambda p: _drop(p, "ADSL", "SAFFL", "ITTFL")),
    "TF-ADS-002": (A, lambda p: p.set_frame("ADSL", p.frame("ADSL"), label="Subject Level Data")),
    "TF-ADS-003": (A, lambda p: _drop(p, "ADTTE", "TRTA")),
    "TF-ADS-004": (A, lambda p: _add_column(p, "ADLB", "ANL00FL", ["Y"] * 4)),
    "TF-ADS-005": (A, lambda p: _add_column(p, "ADLB", "Anl1", ["Y"] * 4)),
    "TF-ADS-006": (A, lambda p: _new(p, "ADAE", {"STUDYID": ["ST1"], "USUBJID": [S1], "AVAL": [1.0]})),
    "TF-ADS-007": (A, lambda p: _add_column(p, "ADLB", "SMQ01NAM", ["X"] * 4)),
    "TF-ADS-008": (A, lambda p: (_add_column(p, "ADLB", "APERIOD", [1.0] * 4, type_="Num"),
                                 _drop(p, "ADSL", "TRT01P", "TRT01A"))),
    "TF-ADS-009": (A, lambda p: _add_column(p, "ADLB", "APERIOD", [1.0] * 4, type_="Num")),
    "TF-ADV-046": (A, lambda p: _add_column(p, "ADLB", "TRTPG1", ["G"] * 4)),
    "TF-REL-004": (S, lambda p: add_findings_about(p, "VOMITING")),
}
BREAK.update(NEW_BREAK)


def add_findings_about(pkg, faobj, *, relate=True):
    """An FA record about subject 1's AE (AEDECOD Headache), related to it in RELREC by RELID R2."""
    _new(pkg, "FA", {"STUDYID": ["ST1"], "DOMAIN": ["FA"], "USUBJID": [S1], "FASEQ": [1], "FATESTCD": ["SEV"],
                     "FATEST": ["Severity/Intensity"], "FAOBJ": [faobj], "FAORRES": ["MILD"],
                     "FASTRESC": ["MILD"], "FADTC": ["2024-01-15"]})
    if relate:
        _dup_row(pkg, "RELREC", 0, RDOMAIN="AE", IDVAR="AESEQ", IDVARVAL="1", RELID="R2")
        _dup_row(pkg, "RELREC", 0, RDOMAIN="FA", IDVAR="FASEQ", IDVARVAL="1", RELID="R2")


@pytest.mark.parametrize("rule_id", sorted(NEW_BREAK))
def test_rule_pair_added(rule_id, clean_findings):
    test_rule_pair(rule_id, clean_findings)


def _table_rule_ids():
    from trialforge.validation import rules_adam_tables as AT, rules_design as D, rules_reference_dates as RD
    from trialforge.validation import rules_sdtm_tables as ST
    rows = ST.MISSING_WHEN + ST.VARIABLE_NEEDS + ST.ONE_TO_ONE + ST.VALUES + RD.DATE_ORDER + D.TS_FORMATS + \
        D.TS_CONDITIONAL + AT.PAIRS + AT.PRESENCE + AT.POPULATED + AT.VALUES + AT.LABELS
    return {r[0] for r in rows} | {v[0] for v in D.TS_SINGLE.values()} | {r[0] for r in D.EXPECTED_DATASETS}


TABLE_RULES = _table_rule_ids()


def test_orres_in_scientific_notation_is_numeric_for_the_range_rules():
    """SD1470-SD1473 flag a non-numeric ORRES beside a reference range; 1.52E+05 is a number as collected."""
    from trialforge.validation.families import numeric_text
    import pandas as pd
    values = pd.Series(["1.52E+05", "2e-3", "15.3", "<20", "POSITIVE", "1.5E"])
    assert numeric_text(values, scientific=True).tolist() == [True, True, True, False, False, False]
    assert numeric_text(values).tolist() == [False, False, True, False, False, False]
