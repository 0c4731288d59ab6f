"""define.xml as a reviewer opens it (issue 14), checked on one build of the bundled example.

Expected values come from the data (XPT read with pyreadstat), the CT file read with csv, the
shipped stylesheet run by lxml here, and the schemas shipped by defineutils: never from the writer.
"""
from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pyreadstat
import pytest
from lxml import etree

from trialforge.errors import SpecError
from trialforge.specs.spec import parse_rule
from trialforge.submission.define import validate_define_xsd
from trialforge.submission.define_arm import arm_displays, where_checks
from trialforge.submission.define_methods import _value

NS = {"odm": "http://www.cdisc.org/ns/odm/v1.3", "def": "http://www.cdisc.org/ns/def/v2.1",
      "arm": "http://www.cdisc.org/ns/arm/v1.0"}
PKG = Path(__file__).resolve().parents[1]
CT_FILE = PKG / "specs" / "ct" / "sdtm-ct-2022-09-30-subset.tsv"
RESULT_SUFFIXES = ("ORRES", "STRESC", "QVAL", "AVALC")


@pytest.fixture(scope="module")
def out(example_package):
    return example_package


def _doc(out, pkg):
    return etree.parse(str(out / pkg / "define.xml"))


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


# ---------------------------------------------------------------- schema, stylesheet, html
@pytest.mark.parametrize("pkg", ["sdtm", "adam"])
def test_define_validates_against_define_2_1_and_arm_schemas(out, pkg):
    pytest.importorskip("defineutils")
    assert validate_define_xsd(out / pkg / "define.xml") == []


def test_adam_define_carries_arm_for_the_key_displays_of_study_yaml(out):
    import yaml
    config = yaml.safe_load((PKG / "examples" / "cd70-cart" / "study.yaml").read_text())["submission"]["arm"]
    doc = _doc(out, "adam")
    names = [d.get("Name") for d in doc.xpath("//arm:ResultDisplay", namespaces=NS)]
    assert sorted(names) == sorted(config)
    # every analysis dataset and variable points to something the define describes
    oids = set(doc.xpath("//@OID"))
    for ref in doc.xpath("//arm:AnalysisDataset/@ItemGroupOID | //arm:AnalysisVariable/@ItemOID"
                         " | //arm:AnalysisDataset/def:WhereClauseRef/@WhereClauseOID", namespaces=NS):
        assert ref in oids
    # the PFS result selects PARAMCD = PFS in ADTTE and names the ParameterOID
    pfs = [r for r in doc.xpath("//arm:ResultDisplay[@Name='14.2.2.1']/arm:AnalysisResult", namespaces=NS)]
    assert pfs and pfs[0].get("ParameterOID") == "IT.ADTTE.PARAMCD"
    wc_oid = pfs[0].xpath(".//arm:AnalysisDataset[@ItemGroupOID='IG.ADTTE']/def:WhereClauseRef/@WhereClauseOID",
                          namespaces=NS)[0]
    rc = doc.xpath(f"//def:WhereClauseDef[@OID='{wc_oid}']/odm:RangeCheck", namespaces=NS)[0]
    assert (rc.get(f"{{{NS['def']}}}ItemOID"), rc.get("Comparator"), rc.findtext("odm:CheckValue", namespaces=NS)) \
        == ("IT.ADTTE.PARAMCD", "EQ", "PFS")


@pytest.mark.parametrize("pkg", ["sdtm", "adam"])
def test_stylesheet_and_licence_ship_beside_the_define_with_the_instruction(out, pkg):
    import defineutils
    src = Path(defineutils.__file__).parent / "definehtml"
    assert (out / pkg / "define2-1.xsl").read_bytes() == (src / "define2-1.xsl").read_bytes()
    assert (out / pkg / "define2-1.xsl.LICENSE").read_bytes() == (src / "define2-1.xsl.LICENSE").read_bytes()
    head = (out / pkg / "define.xml").read_text(encoding="utf-8").splitlines()[:2]
    assert head[1] == '<?xml-stylesheet type="text/xsl" href="define2-1.xsl"?>'


@pytest.mark.parametrize("pkg", ["sdtm", "adam"])
def test_define_html_is_the_stylesheet_output_and_shows_every_section(out, pkg):
    transform = etree.XSLT(etree.parse(str(out / pkg / "define2-1.xsl")))
    html = bytes(transform(etree.parse(str(out / pkg / "define.xml"))))
    assert (out / pkg / "define.html").read_bytes() == html
    text = html.decode("utf-8")
    doc = _doc(out, pkg)
    for ig in doc.xpath("//odm:ItemGroupDef", namespaces=NS):
        assert f'id="IG.{ig.get("OID")}"' in text
        assert f'href="{ig.get("Name").lower()}.xpt"' in text                  # link to the XPT
        for ref in ig.xpath("odm:ItemRef/@ItemOID", namespaces=NS):
            assert f'id="{ig.get("OID")}.{ref}"' in text
    for cl in doc.xpath("//odm:CodeList/@OID", namespaces=NS):
        assert f'id="CL.{cl}"' in text


# ---------------------------------------------------------------- codelists
def _result_values(folder: Path) -> dict[str, set[str]]:
    """dataset -> the numeric values any result variable holds (XPT read with pyreadstat)."""
    out = {}
    for xpt in folder.glob("*.xpt"):
        frame, _meta = pyreadstat.read_xport(str(xpt))
        cols = [c for c in frame.columns if c.endswith(RESULT_SUFFIXES)]
        values = set()
        for c in cols:
            values |= {str(v) for v in frame[c].dropna().astype(str) if v != "" and _is_number(v)}
        out[xpt.stem.upper()] = values
    return out


@pytest.mark.parametrize("pkg", ["sdtm", "adam"])
def test_no_codelist_term_is_a_numeric_result_value(out, pkg):
    doc = _doc(out, pkg)
    numbers = set().union(*_result_values(out / pkg).values())
    assert numbers                                                          # the check can bite
    for item in doc.xpath("//odm:ItemDef", namespaces=NS):
        if not item.get("Name").endswith(RESULT_SUFFIXES):
            continue
        for cl_oid in item.xpath("odm:CodeListRef/@CodeListOID", namespaces=NS):
            terms = doc.xpath(f"//odm:CodeList[@OID='{cl_oid}']/*/@CodedValue", namespaces=NS)
            assert not [t for t in terms if t in numbers], (item.get("OID"), cl_oid)


@pytest.mark.parametrize("pkg", ["sdtm", "adam"])
def test_every_ct_term_has_its_c_code_or_is_flagged_extended(out, pkg):
    """Terms of CT codelists: Alias nci:ExtCodeID, or def:ExtendedValue="Yes". The only exception is a
    term whose CT release row leaves the C-code blank (read from the CT file here): codes are not made up."""
    blank = set()
    with CT_FILE.open(encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            if row["Codelist Code"] and not row["Code"]:
                blank.add((row["Codelist Code"], row["CDISC Submission Value"]))
    doc = _doc(out, pkg)
    ext = f"{{{NS['def']}}}ExtendedValue"
    for cl in doc.xpath("//odm:CodeList[@def:StandardOID]", namespaces=NS):
        code = cl.xpath("odm:Alias/@Name", namespaces=NS)
        for term in cl.xpath("odm:EnumeratedItem | odm:CodeListItem", namespaces=NS):
            assert term.get("CodedValue") != ""
            has_code = bool(term.xpath("odm:Alias[@Context='nci:ExtCodeID']", namespaces=NS))
            if not (has_code or term.get(ext) == "Yes"):
                value = term.get("CodedValue")
                if code:
                    assert (code[0], value) in blank, (cl.get("OID"), value)
                else:                                        # a list merged from several (DSDECOD)
                    assert value in {v for _c, v in blank}, (cl.get("OID"), value)


def test_codelist_names_are_never_bare_c_codes(out):
    for pkg in ("sdtm", "adam"):
        names = _doc(out, pkg).xpath("//odm:CodeList/@Name", namespaces=NS)
        assert names and not [n for n in names if n[0] == "C" and n[1:].isdigit()]


def test_adam_define_has_paramcd_codelists_with_the_parameters_in_the_data(out):
    doc = _doc(out, "adam")
    for xpt in sorted((out / "adam").glob("*.xpt")):
        frame, _ = pyreadstat.read_xport(str(xpt))
        if "PARAMCD" not in frame.columns:
            continue
        name = xpt.stem.upper()
        ref = doc.xpath(f"//odm:ItemDef[@OID='IT.{name}.PARAMCD']/odm:CodeListRef/@CodeListOID", namespaces=NS)
        assert ref, name
        items = doc.xpath(f"//odm:CodeList[@OID='{ref[0]}']/odm:CodeListItem", namespaces=NS)
        listed = {i.get("CodedValue"): i.findtext("odm:Decode/odm:TranslatedText", namespaces=NS) for i in items}
        expected = dict(zip(frame["PARAMCD"], frame["PARAM"]))
        assert listed == expected
        # value-level metadata per parameter, labelled by PARAM
        for code, param in expected.items():
            labels = doc.xpath(f"//odm:ItemDef[@OID='IT.{name}.AVAL.{code}']/odm:Description/odm:TranslatedText/text()",
                               namespaces=NS)
            assert labels in ([], [param])


def test_adam_flags_and_treatment_variables_have_codelists(out):
    doc = _doc(out, "adam")
    refs = {i.get("OID"): i.xpath("odm:CodeListRef/@CodeListOID", namespaces=NS)
            for i in doc.xpath("//odm:ItemDef", namespaces=NS)}
    assert refs["IT.ADSL.SAFFL"] == ["CL.NY"]
    assert refs["IT.ADAE.TRTEMFL"] == ["CL.NY"]
    assert refs["IT.ADSL.TRT01A"] == ["CL.TRT01A"] and refs["IT.ADSL.TRT01P"] == ["CL.TRT01P"]
    assert refs["IT.ADRS.AVALC.BOR"] and refs["IT.ADRS.AVALC.RSP"] == ["CL.NY"]


# ---------------------------------------------------------------- origins, labels, Y/N on flags
@pytest.mark.parametrize("pkg", ["sdtm", "adam"])
def test_every_item_def_has_an_origin_and_a_label(out, pkg):
    doc = _doc(out, pkg)
    items = doc.xpath("//odm:ItemDef", namespaces=NS)
    assert [i.get("OID") for i in items if not i.xpath("def:Origin", namespaces=NS)] == []
    assert [i.get("OID") for i in items if not i.xpath("odm:Description", namespaces=NS)] == []


def test_relrec_is_assigned_and_supp_flag_qval_has_ny(out):
    doc = _doc(out, "sdtm")
    assert set(doc.xpath("//odm:ItemDef[starts-with(@OID, 'IT.RELREC.')]/def:Origin/@Type", namespaces=NS)) == {"Assigned"}
    dlt = doc.xpath("//odm:ItemDef[@OID='IT.SUPPAE.QVAL.AEDLT']", namespaces=NS)[0]
    assert dlt.xpath("odm:CodeListRef/@CodeListOID", namespaces=NS) == ["CL.NY"]
    assert dlt.findtext("odm:Description/odm:TranslatedText", namespaces=NS) == "Dose-Limiting Toxicity"
    assert dlt.xpath("def:Origin/@Type", namespaces=NS) == ["Collected"]             # QORIG CRF


def test_method_texts_are_plain_english(out):
    doc = _doc(out, "sdtm")
    texts = {m.get("OID"): m.findtext("odm:Description/odm:TranslatedText", namespaces=NS)
             for m in doc.xpath("//odm:MethodDef", namespaces=NS)}
    assert texts["MT.AE.AEENRTPT"] == "AEENRTPT = 'ONGOING' when the CRF field AEONGO is 'Yes'; otherwise blank"
    assert not [t for t in texts.values() if "otherwise as specified" in t or t.startswith("Conditional:")]


@pytest.mark.parametrize("pkg", ["sdtm", "adam"])
def test_creation_date_not_before_a_cited_ct_release(out, pkg):
    doc = _doc(out, pkg)
    created = doc.getroot().get("CreationDateTime")[:10]
    versions = doc.xpath("//def:Standard[@Type='CT']/@Version", namespaces=NS)
    assert versions and all(v <= created for v in versions)


@pytest.mark.parametrize("pkg", ["sdtm", "adam"])
def test_validate_define_finds_no_mismatch(out, pkg):
    run = subprocess.run([sys.executable, "-m", "trialforge", "validate", str(out / pkg), "--define",
                          str(out / pkg / "define.xml")], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "TF-DEF-" not in run.stdout + run.stderr


# ---------------------------------------------------------------- units (no build)
def test_when_rule_said_in_english():
    rule = parse_rule("ARMNRS", {"when": [{"if": "SCRNFAIL == 'Yes'", "then": "SCREEN FAILURE"},
                                          {"if": "blank(EXCDAT) and AGE >= 18", "then": {"from": "X", "ct": "NY"}}],
                                 "else": {"expr": "num(AGE)"}}, file="dm.yaml")
    assert _value(rule, {"ARMNRS", "AGE"}) == (
        "'SCREEN FAILURE' when the CRF field SCRNFAIL is 'Yes'; the CRF field X as its term in the CT codelist NY "
        "when the CRF field EXCDAT is blank and AGE is at least 18; otherwise the number in AGE")


def test_selection_said_in_words_keeps_grouping():
    from trialforge.submission.define_arm import said
    assert said("TRTEMFL == 'Y' and (AESDTH == 'Y' or ATOXGRN == 5)") == \
        "TRTEMFL is 'Y' and (AESDTH is 'Y' or ATOXGRN is 5)"


def test_where_checks_read_conjunctions_only():
    assert where_checks("PARAMCD == 'RSP' and AVALC == 'Y'") == [("PARAMCD", "EQ", ["RSP"]), ("AVALC", "EQ", ["Y"])]
    assert where_checks("ATOXGRN >= 3.0 and AEDECOD in ['A', 'B']") == [("ATOXGRN", "GE", ["3"]),
                                                                        ("AEDECOD", "IN", ["A", "B"])]
    assert where_checks("AESDTH == 'Y' or ATOXGRN == 5") is None


def test_arm_config_naming_an_unknown_display_is_a_spec_error():
    from trialforge.tables.catalogue import default_catalogue
    TABLES = default_catalogue().tables
    with pytest.raises(SpecError, match="does not have"):
        arm_displays(TABLES, {"99.9": {}})
    with pytest.raises(SpecError, match="purpose must be one of"):
        arm_displays(TABLES, {TABLES[0].id: {"purpose": "KEY"}})
