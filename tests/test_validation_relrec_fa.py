"""TF-REL-004 (CORE-000767): a Findings About record related by RELREC to a parent record names that
record's --DECOD in FAOBJ. Expected findings are worked out by hand from the small package."""
from __future__ import annotations

from test_validation_packages import S1, sdtm_package
from test_validation_rules import add_findings_about
from trialforge.validation.runner import validate_datasets


def _rel004(pkg):
    pkg.options["only"] = ["TF-REL-004", "TF-REF-004"]
    report = validate_datasets(pkg.datasets, scope="SDTM", options=pkg.options)
    return [f for f in report.findings if f.rule_id == "TF-REL-004"], \
        [f for f in report.findings if f.rule_id == "TF-REF-004"]


def test_faobj_naming_another_event_is_reported_on_the_parent_record():
    pkg = sdtm_package()
    add_findings_about(pkg, "VOMITING")
    found, dangling = _rel004(pkg)
    assert dangling == []                       # the RELREC rows themselves point at real records
    assert [(f.dataset, f.variable, f.usubjid, f.seq, f.value) for f in found] == \
        [("AE", "AEDECOD", S1, "1", "AEDECOD=Headache, FAOBJ=VOMITING")]
    assert found[0].severity == "warning"


def test_faobj_equal_to_the_decod_in_another_case_passes():
    pkg = sdtm_package()
    add_findings_about(pkg, "HEADACHE")
    assert _rel004(pkg)[0] == []


def test_findings_about_without_a_relrec_link_is_not_judged():
    pkg = sdtm_package()
    add_findings_about(pkg, "VOMITING", relate=False)
    assert _rel004(pkg)[0] == []


def test_relrec_pointing_at_a_missing_fa_record_is_a_dangling_reference_not_an_object_mismatch():
    pkg = sdtm_package()
    add_findings_about(pkg, "VOMITING")
    rel = pkg.frame("RELREC").copy()
    rel.loc[rel["RDOMAIN"] == "FA", "IDVARVAL"] = "9"
    pkg.set_frame("RELREC", rel)
    found, dangling = _rel004(pkg)
    assert found == []
    assert [(f.dataset, f.value) for f in dangling] == [("RELREC", "FA.FASEQ=9")]


def test_compare_core_matches_a_rule_by_the_core_id_it_carries():
    """CORE's report names CORE-000767 on AE record 1; trialforge's TF-REL-004 carries that id, so neither
    side is listed as missing (CORE's Rules_Report gives no CDISC rule id to go through)."""
    from trialforge.validation.core_report import compare
    pkg = sdtm_package()
    add_findings_about(pkg, "VOMITING")
    pkg.options["only"] = ["TF-REL-004"]
    report = validate_datasets(pkg.datasets, scope="SDTM", options=pkg.options)
    core = {"Rules_Report": [{"core_id": "CORE-000767", "cdisc_rule_id": ""}],
            "Issue_Details": [{"core_id": "CORE-000767", "dataset": "ae.xpt", "USUBJID": S1, "SEQ": 1, "row": 1}]}
    assert compare(report, core) == {"only_in_core": [], "only_in_trialforge": []}
    core["Issue_Details"][0]["USUBJID"] = "OTHER"
    diff = compare(report, core)
    assert [x["core_id"] for x in diff["only_in_core"]] == ["CORE-000767"]
    assert [x["rule_id"] for x in diff["only_in_trialforge"]] == ["TF-REL-004"]
