"""define.xml 2.1 writer: schema-valid, deterministic, and saying what the hand-made data say.

Fixtures follow SDTMIG 3.4 / ADaMIG 1.3 (names, labels, core, roles); CT facts (codes, values)
are copied from CDISC CT 2022-09-30 into a tiny fake with the ControlledTerminology API.
Expected values are computed by hand from the fixture rows, never by the code under test.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest
from lxml import etree

from trialforge.errors import SpecError
from trialforge.specs.metadata import NUM, Dataset, DatasetMeta, VariableMeta as V
from trialforge.submission.define import (build_define, render_define_html, validate_define_xsd,
                                          write_define)

NS = {"odm": "http://www.cdisc.org/ns/odm/v1.3", "def": "http://www.cdisc.org/ns/def/v2.1",
      "xlink": "http://www.w3.org/1999/xlink"}
STUDY = {"id": "CD70-CART-101", "name": "CD70-CART-101",
         "description": "Phase I study of an anti-CD70 CAR-T cell product",
         "protocol": "CD70-CART-101", "acrf": "acrf.pdf"}
CREATED = "2026-01-31T00:00:00"


# ------------------------------------------------------------------ a tiny fake CT
@dataclass(frozen=True)
class Term:
    code: str
    value: str
    synonyms: tuple = ()
    preferred_term: str | None = None


@dataclass(frozen=True)
class Codelist:
    code: str
    name: str
    short_name: str
    extensible: bool
    terms: tuple = ()


@dataclass
class FakeCT:
    version: str = "2022-09-30"
    lists: dict = field(default_factory=dict)

    def codelist(self, ref):
        for cl in self.lists.values():
            if ref in (cl.code, cl.short_name):
                return cl
        raise KeyError(ref)


def fake_ct() -> FakeCT:
    cls = [
        Codelist("C66742", "No Yes Response", "NY", False, (
            Term("C49487", "N", preferred_term="No"), Term("C48660", "NA", preferred_term="Not Applicable"),
            Term("C17998", "U", preferred_term="Unknown"), Term("C49488", "Y", preferred_term="Yes"))),
        Codelist("C66731", "Sex", "SEX", False, (
            Term("C16576", "F", preferred_term="Female"), Term("C20197", "M", preferred_term="Male"),
            Term("C17998", "U", preferred_term="Unknown"),
            Term("C45908", "UNDIFFERENTIATED", preferred_term="Intersex"))),
        Codelist("C66769", "Severity/Intensity Scale for Adverse Events", "AESEV", False, (
            Term("C41338", "MILD"), Term("C41339", "MODERATE"), Term("C41340", "SEVERE"))),
        Codelist("C66781", "Age Unit", "AGEU", False, (
            Term("C25301", "DAYS"), Term("C25529", "HOURS"), Term("C29846", "MONTHS"),
            Term("C29844", "WEEKS"), Term("C29848", "YEARS"))),
        Codelist("C65047", "Laboratory Test Code", "LBTESTCD", True, (
            Term("C64433", "ALT"), Term("C64467", "AST"), Term("C64548", "CRP"), Term("C64848", "HGB"))),
        Codelist("C67154", "Laboratory Test Name", "LBTEST", True, (
            Term("C64433", "Alanine Aminotransferase"), Term("C64848", "Hemoglobin"))),
    ]
    return FakeCT(lists={c.short_name: c for c in cls})


# ------------------------------------------------------------------ hand-made datasets
SID = "CD70-CART-101"
U1, U2 = f"{SID}-01-001", f"{SID}-01-002"


def dm() -> Dataset:
    meta = DatasetMeta("DM", "Demographics", "Special-Purpose", "One record per subject",
                       ("STUDYID", "USUBJID"), (
        V("STUDYID", "Study Identifier", core="Req", role="Identifier", origin="Protocol"),
        V("DOMAIN", "Domain Abbreviation", core="Req", role="Identifier", origin="Assigned"),
        V("USUBJID", "Unique Subject Identifier", core="Req", role="Identifier", origin="Derived",
          origin_detail="STUDYID, SITEID and SUBJID joined by '-'"),
        V("SUBJID", "Subject Identifier for the Study", core="Req", role="Topic", origin="Collected",
          origin_detail="1"),
        V("RFSTDTC", "Subject Reference Start Date/Time", core="Exp", role="Record Qualifier",
          origin="Derived", origin_detail="Date/time of CAR-T infusion"),
        V("SITEID", "Study Site Identifier", core="Req", role="Record Qualifier", origin="Collected",
          origin_detail="1"),
        V("AGE", "Age", NUM, core="Exp", role="Record Qualifier", origin="Collected", origin_detail="2"),
        V("AGEU", "Age Units", core="Exp", role="Variable Qualifier", codelist="AGEU",
          codelist_code="C66781", origin="Assigned"),
        V("SEX", "Sex", core="Req", role="Record Qualifier", codelist="SEX", codelist_code="C66731",
          origin="Collected", origin_detail="2"),
        V("ARMCD", "Planned Arm Code", core="Exp", role="Record Qualifier", origin="Assigned"),
        V("ARM", "Description of Planned Arm", core="Exp", role="Synonym Qualifier", origin="Assigned"),
    ))
    frame = pd.DataFrame({
        "STUDYID": [SID, SID], "DOMAIN": ["DM", "DM"], "USUBJID": [U1, U2], "SUBJID": ["001", "002"],
        "RFSTDTC": ["2025-03-04T09:30", "2025-03-11"], "SITEID": ["01", "01"], "AGE": [54.0, 61.0],
        "AGEU": ["YEARS", "YEARS"], "SEX": ["M", "F"], "ARMCD": ["DL1", "DL2"],
        "ARM": ["Dose level 1", "Dose level 2"]})
    return Dataset(meta, frame)


def ae() -> Dataset:
    meta = DatasetMeta("AE", "Adverse Events", "Events", "One record per adverse event per subject",
                       ("STUDYID", "USUBJID", "AEDECOD", "AESTDTC"), (
        V("STUDYID", "Study Identifier", core="Req", role="Identifier", origin="Protocol"),
        V("DOMAIN", "Domain Abbreviation", core="Req", role="Identifier", origin="Assigned"),
        V("USUBJID", "Unique Subject Identifier", core="Req", role="Identifier", origin="Predecessor",
          origin_detail="DM.USUBJID"),
        V("AESEQ", "Sequence Number", NUM, core="Req", role="Identifier", origin="Derived",
          origin_detail="Sequential number per subject ordered by AEDECOD, AESTDTC"),
        V("AETERM", "Reported Term for the Adverse Event", core="Req", role="Topic",
          origin="Collected", origin_detail="5"),
        V("AEDECOD", "Dictionary-Derived Term", core="Req", role="Synonym Qualifier", origin="Assigned"),
        V("AESEV", "Severity/Intensity", core="Perm", role="Record Qualifier", codelist="AESEV",
          codelist_code="C66769", origin="Collected", origin_detail="5"),
        V("AESER", "Serious Event", core="Exp", role="Record Qualifier", codelist="NY",
          codelist_code="C66742", origin="Collected", origin_detail="5"),
        V("AESTDTC", "Start Date/Time of Adverse Event", core="Exp", role="Timing",
          origin="Collected", origin_detail="5"),
        V("AESTDY", "Study Day of Start of Adverse Event", NUM, core="Perm", role="Timing",
          origin="Derived", origin_detail="AESTDTC minus DM.RFSTDTC, +1 on or after"),
    ))
    frame = pd.DataFrame({
        "STUDYID": [SID] * 3, "DOMAIN": ["AE"] * 3, "USUBJID": [U1, U1, U2], "AESEQ": [1.0, 2.0, 1.0],
        "AETERM": ["Cytokine release syndrome", "FEVER", "Neutropenia"],
        "AEDECOD": ["Cytokine release syndrome", "Pyrexia", "Neutropenia"],
        "AESEV": ["MODERATE", "MILD", "SEVERE"], "AESER": ["Y", "N", "N"],
        "AESTDTC": ["2025-03-05T14:00", "2025-03-06", "2025-03-20"], "AESTDY": [2.0, 3.0, 10.0]})
    return Dataset(meta, frame)


def lb() -> Dataset:
    meta = DatasetMeta("LB", "Laboratory Test Results", "Findings",
                       "One record per lab test per time point per visit per subject",
                       ("STUDYID", "USUBJID", "LBTESTCD", "LBDTC"), (
        V("STUDYID", "Study Identifier", core="Req", role="Identifier", origin="Protocol"),
        V("DOMAIN", "Domain Abbreviation", core="Req", role="Identifier", origin="Assigned"),
        V("USUBJID", "Unique Subject Identifier", core="Req", role="Identifier", origin="Predecessor",
          origin_detail="DM.USUBJID"),
        V("LBSEQ", "Sequence Number", NUM, core="Req", role="Identifier", origin="Derived",
          origin_detail="Sequential number per subject ordered by LBTESTCD, LBDTC"),
        V("LBTESTCD", "Lab Test or Examination Short Name.", core="Req", role="Topic",
          codelist="LBTESTCD", codelist_code="C65047", origin="Assigned"),
        V("LBTEST", "Lab Test or Examination Name", core="Req", role="Synonym Qualifier",
          codelist="LBTEST", codelist_code="C67154", origin="Assigned"),
        V("LBORRES", "Result or Finding in Original Units", core="Exp", role="Result Qualifier",
          origin="Collected", origin_detail="9"),
        V("LBSTRESC", "Character Result/Finding in Std Format", core="Exp", role="Result Qualifier",
          origin="Derived", origin_detail="LBORRES converted to standard units"),
        V("LBSTRESN", "Numeric Result/Finding in Standard Units", NUM, core="Exp",
          role="Result Qualifier", origin="Derived", origin_detail="Numeric form of LBSTRESC"),
        V("LBDTC", "Date/Time of Specimen Collection", core="Exp", role="Timing",
          origin="Collected", origin_detail="9"),
    ))
    frame = pd.DataFrame({
        "STUDYID": [SID] * 5, "DOMAIN": ["LB"] * 5, "USUBJID": [U1, U1, U1, U2, U2],
        "LBSEQ": [1.0, 2.0, 3.0, 1.0, 2.0],
        "LBTESTCD": ["ALT", "HGB", "CARVCN", "ALT", "HGB"],
        "LBTEST": ["Alanine Aminotransferase", "Hemoglobin", "CAR Transgene Vector Copy Number",
                   "Alanine Aminotransferase", "Hemoglobin"],
        "LBORRES": ["32", "13.1", "15400", "118", "9.85"],
        "LBSTRESC": ["32", "13.1", "15400", "118", "9.85"],
        "LBSTRESN": [32.0, 13.1, 15400.0, 118.0, 9.85],
        "LBDTC": ["2025-03-04", "2025-03-04", "2025-03-11", "2025-03-11", "2025-03-11"]})
    return Dataset(meta, frame)


def suppae() -> Dataset:
    meta = DatasetMeta("SUPPAE", "Supplemental Qualifiers for AE", "Relationship",
                       "One record per IDVAR, IDVARVAL, and QNAM value per subject",
                       ("STUDYID", "RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL", "QNAM"), (
        V("STUDYID", "Study Identifier", core="Req", role="Identifier", origin="Protocol"),
        V("RDOMAIN", "Related Domain Abbreviation", core="Req", role="Identifier", origin="Assigned"),
        V("USUBJID", "Unique Subject Identifier", core="Req", role="Identifier", origin="Predecessor",
          origin_detail="AE.USUBJID"),
        V("IDVAR", "Identifying Variable", core="Exp", role="Identifier", origin="Assigned"),
        V("IDVARVAL", "Identifying Variable Value", core="Exp", role="Identifier", origin="Derived",
          origin_detail="AESEQ of the parent record"),
        V("QNAM", "Qualifier Variable Name", core="Req", role="Topic", origin="Assigned"),
        V("QLABEL", "Qualifier Variable Label", core="Req", role="Synonym Qualifier", origin="Assigned"),
        V("QVAL", "Data Value", core="Req", role="Result Qualifier", origin="Collected", origin_detail="6"),
        V("QORIG", "Origin", core="Req", role="Record Qualifier", origin="Assigned"),
        V("QEVAL", "Evaluator", core="Exp", role="Record Qualifier", origin="Assigned"),
    ))
    frame = pd.DataFrame({
        "STUDYID": [SID], "RDOMAIN": ["AE"], "USUBJID": [U1], "IDVAR": ["AESEQ"], "IDVARVAL": ["1"],
        "QNAM": ["AECRSGR"], "QLABEL": ["ASTCT CRS Grade"], "QVAL": ["2"], "QORIG": ["CRF"],
        "QEVAL": [""]})
    return Dataset(meta, frame)


def adsl() -> Dataset:
    meta = DatasetMeta("ADSL", "Subject-Level Analysis Dataset", "SUBJECT LEVEL ANALYSIS DATASET",
                       "One record per subject", ("STUDYID", "USUBJID"), (
        V("STUDYID", "Study Identifier", core="Req", origin="Predecessor", origin_detail="DM.STUDYID"),
        V("USUBJID", "Unique Subject Identifier", core="Req", origin="Predecessor", origin_detail="DM.USUBJID"),
        V("AGE", "Age", NUM, core="Req", origin="Predecessor", origin_detail="DM.AGE"),
        V("SEX", "Sex", core="Req", codelist="SEX", codelist_code="C66731", origin="Predecessor",
          origin_detail="DM.SEX"),
        V("TRTSDT", "Date of First Exposure to Treatment", NUM, core="Cond", format="DATE9.",
          origin="Derived", origin_detail="Date part of EX.EXSTDTC of the CAR-T infusion"),
        V("SAFFL", "Safety Population Flag", core="Cond", codelist="NY", codelist_code="C66742",
          origin="Derived", origin_detail="Y if the subject received CAR-T, else N"),
    ), standard="ADaMIG 1.3")
    frame = pd.DataFrame({"STUDYID": [SID, SID], "USUBJID": [U1, U2], "AGE": [54.0, 61.0],
                          "SEX": ["M", "F"], "TRTSDT": [23804.0, 23811.0], "SAFFL": ["Y", "Y"]})
    return Dataset(meta, frame)


def adtte() -> Dataset:
    meta = DatasetMeta("ADTTE", "Time-to-Event Analysis Dataset", "BASIC DATA STRUCTURE",
                       "One record per subject per parameter", ("STUDYID", "USUBJID", "PARAMCD"), (
        V("STUDYID", "Study Identifier", core="Req", origin="Predecessor", origin_detail="ADSL.STUDYID"),
        V("USUBJID", "Unique Subject Identifier", core="Req", origin="Predecessor", origin_detail="ADSL.USUBJID"),
        V("PARAM", "Parameter", core="Req", origin="Assigned"),
        V("PARAMCD", "Parameter Code", core="Req", codelist="PARAMCD", origin="Assigned"),
        V("AVAL", "Analysis Value", NUM, core="Cond", origin="Derived", origin_detail="ADT - STARTDT + 1"),
        V("STARTDT", "Time-to-Event Origin Date for Subject", NUM, core="Cond", format="DATE9.",
          origin="Derived", origin_detail="ADSL.TRTSDT"),
        V("ADT", "Analysis Date", NUM, core="Cond", format="DATE9.", origin="Derived",
          origin_detail="Date of event or censoring"),
        V("CNSR", "Censor", NUM, core="Cond", origin="Derived", origin_detail="0 event, 1 censored"),
        V("EVNTDESC", "Event or Censoring Description", core="Perm", origin="Assigned"),
    ), standard="ADaMIG 1.3")
    frame = pd.DataFrame({
        "STUDYID": [SID] * 4, "USUBJID": [U1, U1, U2, U2],
        "PARAM": ["Progression-Free Survival (days)", "Overall Survival (months)"] * 2,
        "PARAMCD": ["PFS", "OS"] * 2, "AVAL": [57.0, 6.25, 12.0, 3.5],
        "STARTDT": [23804.0, 23804.0, 23811.0, 23811.0], "ADT": [23860.0, 23994.0, 23822.0, 23917.0],
        "CNSR": [0.0, 1.0, 0.0, 0.0],
        "EVNTDESC": ["DISEASE PROGRESSION", "LAST KNOWN ALIVE", "DEATH", "DEATH"]})
    return Dataset(meta, frame)


def sdtm_define(tmp_path: Path, datasets=None, **kw) -> Path:
    return write_define(datasets or [lb(), ae(), suppae(), dm()], tmp_path / "define.xml",
                        study=STUDY, standard="SDTMIG 3.4", ct=fake_ct(), created=CREATED, **kw)


def adam_define(tmp_path: Path) -> Path:
    return write_define([adtte(), adsl()], tmp_path / "adam" / "define.xml", study=STUDY,
                        standard="ADaMIG 1.3", ct=fake_ct(), created=CREATED)


def xml(path: Path):
    return etree.parse(str(path))


def one(doc, xpath: str):
    found = doc.xpath(xpath, namespaces=NS)
    assert len(found) == 1, (xpath, len(found))
    return found[0]


# ------------------------------------------------------------------ schema + determinism
def test_sdtm_define_is_valid_against_official_define_2_1_xsd(tmp_path):
    pytest.importorskip("defineutils")
    assert validate_define_xsd(sdtm_define(tmp_path)) == []


def test_adam_define_is_valid_against_official_define_2_1_xsd(tmp_path):
    pytest.importorskip("defineutils")
    assert validate_define_xsd(adam_define(tmp_path)) == []


def test_xsd_reports_errors_for_a_broken_define(tmp_path):
    pytest.importorskip("defineutils")
    path = sdtm_define(tmp_path)
    doc = xml(path)
    one(doc, "//odm:ItemGroupDef[@Name='DM']").attrib.pop("Repeating")
    doc.write(str(path))
    errors = validate_define_xsd(path)
    assert errors and any("Repeating" in e for e in errors)


def test_bytes_are_identical_across_runs_and_input_orders(tmp_path):
    a = sdtm_define(tmp_path / "a").read_bytes()
    b = sdtm_define(tmp_path / "b", datasets=[dm(), suppae(), ae(), lb()]).read_bytes()
    assert a == b
    assert b'CreationDateTime="2026-01-31T00:00:00"' in a


def test_source_system_version_is_the_callers_else_the_distributions(tmp_path):
    """A run passes its own version (as it does to Dataset-JSON); without one the installed distribution's
    (importlib.metadata), left out when trialforge is not installed."""
    from importlib.metadata import PackageNotFoundError, version
    given = xml(sdtm_define(tmp_path / "a", tool_version="9.8.7")).getroot()
    assert given.get("SourceSystemVersion") == "9.8.7"
    try:
        installed = version("trialforge")
    except PackageNotFoundError:
        installed = None
    assert xml(sdtm_define(tmp_path / "b")).getroot().get("SourceSystemVersion") == installed


def test_created_must_be_iso_datetime(tmp_path):
    with pytest.raises(SpecError):
        write_define([dm()], tmp_path / "d.xml", study=STUDY, standard="SDTMIG 3.4", ct=fake_ct(),
                     created="31JAN2026")


# ------------------------------------------------------------------ header, standards, groups
def test_odm_header_and_standards(tmp_path):
    doc = xml(sdtm_define(tmp_path))
    root = doc.getroot()
    assert root.get("ODMVersion") == "1.3.2"
    assert root.get("FileType") == "Snapshot"
    assert root.get(f"{{{NS['def']}}}Context") == "Submission"
    assert one(doc, "//odm:StudyName").text == "CD70-CART-101"
    mdv = one(doc, "//odm:MetaDataVersion")
    assert mdv.get(f"{{{NS['def']}}}DefineVersion") == "2.1.0"
    ig = one(doc, "//def:Standard[@Type='IG']")
    assert (ig.get("Name"), ig.get("Version"), ig.get("Status")) == ("SDTMIG", "3.4", "Final")
    ct = one(doc, "//def:Standard[@Type='CT']")
    assert (ct.get("Name"), ct.get("PublishingSet"), ct.get("Version")) == ("CDISC/NCI", "SDTM", "2022-09-30")
    assert one(doc, "//def:AnnotatedCRF/def:DocumentRef").get("leafID") == "LF.acrf"
    assert one(doc, "//odm:MetaDataVersion/def:leaf[@ID='LF.acrf']").get(f"{{{NS['xlink']}}}href") == "acrf.pdf"


def test_item_groups_order_class_and_archive(tmp_path):
    doc = xml(sdtm_define(tmp_path))
    names = [g.get("Name") for g in doc.xpath("//odm:ItemGroupDef", namespaces=NS)]
    assert names == ["DM", "AE", "LB", "SUPPAE"]      # Special-Purpose, Events, Findings, Relationship
    dm_ig = one(doc, "//odm:ItemGroupDef[@Name='DM']")
    assert dm_ig.get("Repeating") == "No" and dm_ig.get("IsReferenceData") == "No"
    assert dm_ig.get("Purpose") == "Tabulation" and dm_ig.get("SASDatasetName") == "DM"
    assert dm_ig.get(f"{{{NS['def']}}}Structure") == "One record per subject"
    assert one(doc, "//odm:ItemGroupDef[@Name='DM']/def:Class").get("Name") == "SPECIAL PURPOSE"
    assert one(doc, "//odm:ItemGroupDef[@Name='AE']").get("Repeating") == "Yes"
    assert one(doc, "//odm:ItemGroupDef[@Name='DM']/odm:Description/odm:TranslatedText").text == "Demographics"
    leaf = one(doc, "//odm:ItemGroupDef[@Name='LB']/def:leaf")
    assert leaf.get("ID") == "LF.LB" == one(doc, "//odm:ItemGroupDef[@Name='LB']").get(
        f"{{{NS['def']}}}ArchiveLocationID")
    assert leaf.get(f"{{{NS['xlink']}}}href") == "lb.xpt"


def test_item_refs_order_mandatory_keys_methods_roles(tmp_path):
    doc = xml(sdtm_define(tmp_path))
    refs = doc.xpath("//odm:ItemGroupDef[@Name='AE']/odm:ItemRef", namespaces=NS)
    assert [r.get("ItemOID") for r in refs][:4] == ["IT.AE.STUDYID", "IT.AE.DOMAIN", "IT.AE.USUBJID", "IT.AE.AESEQ"]
    assert [r.get("OrderNumber") for r in refs] == [str(i) for i in range(1, 11)]
    by = {r.get("ItemOID"): r for r in refs}
    assert by["IT.AE.AESEV"].get("Mandatory") == "No"          # Perm
    assert by["IT.AE.AETERM"].get("Mandatory") == "Yes"        # Req
    assert [by[f"IT.AE.{v}"].get("KeySequence") for v in ("STUDYID", "USUBJID", "AEDECOD", "AESTDTC")] == ["1", "2", "3", "4"]
    assert by["IT.AE.AESEQ"].get("KeySequence") is None
    assert by["IT.AE.AESEQ"].get("MethodOID") == "MT.AE.AESEQ"
    assert by["IT.AE.AETERM"].get("MethodOID") is None
    assert by["IT.AE.AETERM"].get("Role") == "Topic"
    method = one(doc, "//odm:MethodDef[@OID='MT.AE.AESEQ']")
    assert method.get("Type") == "Computation"
    assert method.findtext("odm:Description/odm:TranslatedText", namespaces=NS).startswith("Sequential number")


# ------------------------------------------------------------------ item defs from the data
def item(doc, oid):
    return one(doc, f"//odm:MetaDataVersion/odm:ItemDef[@OID='{oid}']")


def test_datatypes_and_lengths_come_from_the_data(tmp_path):
    doc = xml(sdtm_define(tmp_path))
    # longest AETERM "Cytokine release syndrome" = 25 bytes
    assert (item(doc, "IT.AE.AETERM").get("DataType"), item(doc, "IT.AE.AETERM").get("Length")) == ("text", "25")
    assert item(doc, "IT.DM.USUBJID").get("Length") == str(len("CD70-CART-101-01-001"))
    # AESTDTC has a value with a time part -> datetime; LBDTC only dates -> date; no Length for ISO types
    assert item(doc, "IT.AE.AESTDTC").get("DataType") == "datetime"
    assert item(doc, "IT.LB.LBDTC").get("DataType") == "date"
    assert item(doc, "IT.LB.LBDTC").get("Length") is None
    # AGE 54, 61 -> integer, 2 digits; LBSTRESN 15400 and 9.85 -> float, 5+2 digits, 2 decimals
    assert (item(doc, "IT.DM.AGE").get("DataType"), item(doc, "IT.DM.AGE").get("Length")) == ("integer", "2")
    stresn = item(doc, "IT.LB.LBSTRESN")
    assert (stresn.get("DataType"), stresn.get("Length"), stresn.get("SignificantDigits")) == ("float", "7", "2")
    assert item(doc, "IT.AE.AETERM").findtext("odm:Description/odm:TranslatedText", namespaces=NS) == \
        "Reported Term for the Adverse Event"


def test_multibyte_text_length_counts_bytes(tmp_path):
    d = dm()
    d.frame.loc[0, "ARM"] = "Dose level 1 \u2265"     # 14 chars + 3-byte sign = 16 bytes
    doc = xml(sdtm_define(tmp_path, datasets=[d]))
    assert item(doc, "IT.DM.ARM").get("Length") == "16"


def test_numeric_dates_get_display_format(tmp_path):
    doc = xml(adam_define(tmp_path))
    trtsdt = item(doc, "IT.ADSL.TRTSDT")
    assert (trtsdt.get("DataType"), trtsdt.get(f"{{{NS['def']}}}DisplayFormat")) == ("integer", "DATE9.")


def test_origins(tmp_path):
    doc = xml(sdtm_define(tmp_path))
    sex = one(doc, "//odm:ItemDef[@OID='IT.DM.SEX']/def:Origin")
    assert (sex.get("Type"), sex.get("Source")) == ("Collected", "Investigator")
    page = one(doc, "//odm:ItemDef[@OID='IT.DM.SEX']/def:Origin/def:DocumentRef/def:PDFPageRef")
    assert (page.get("PageRefs"), page.get("Type")) == ("2", "PhysicalRef")
    pred = one(doc, "//odm:ItemDef[@OID='IT.AE.USUBJID']/def:Origin")
    assert pred.get("Type") == "Predecessor"
    assert pred.findtext("odm:Description/odm:TranslatedText", namespaces=NS) == "DM.USUBJID"
    assert one(doc, "//odm:ItemDef[@OID='IT.AE.AESEQ']/def:Origin").get("Source") == "Sponsor"
    assert one(doc, "//odm:ItemDef[@OID='IT.DM.STUDYID']/def:Origin").get("Type") == "Protocol"


def test_unknown_origin_is_a_spec_error(tmp_path):
    d = dm()
    bad = d.meta.with_variables([v if v.name != "SEX" else V("SEX", "Sex", origin="eCRF")
                                 for v in d.meta.variables])
    with pytest.raises(SpecError, match="origin"):
        sdtm_define(tmp_path, datasets=[Dataset(bad, d.frame)])


# ------------------------------------------------------------------ codelists
def coded(doc, oid):
    cl = one(doc, f"//odm:CodeList[@OID='{oid}']")
    return [i.get("CodedValue") for i in cl.xpath("odm:EnumeratedItem|odm:CodeListItem", namespaces=NS)]


def test_nonextensible_short_list_is_listed_whole_with_c_codes(tmp_path):
    doc = xml(sdtm_define(tmp_path))
    assert coded(doc, "CL.NY") == ["N", "NA", "U", "Y"]     # data use N, Y; list has 4 terms
    cl = one(doc, "//odm:CodeList[@OID='CL.NY']")
    assert cl.get("Name") == "No Yes Response" and cl.get("DataType") == "text"
    assert one(doc, "//odm:CodeList[@OID='CL.NY']/odm:Alias").get("Name") == "C66742"
    y = one(doc, "//odm:CodeList[@OID='CL.NY']/odm:EnumeratedItem[@CodedValue='Y']/odm:Alias")
    assert (y.get("Context"), y.get("Name")) == ("nci:ExtCodeID", "C49488")
    assert one(doc, "//odm:ItemDef[@OID='IT.AE.AESER']/odm:CodeListRef").get("CodeListOID") == "CL.NY"


def test_extensible_list_has_only_used_terms_decodes_and_extension(tmp_path):
    doc = xml(sdtm_define(tmp_path))
    # LBTESTCD is extensible: AST and CRP are unused and left out; CARVCN is a sponsor extension
    assert coded(doc, "CL.LBTESTCD") == ["ALT", "HGB", "CARVCN"]
    alt = one(doc, "//odm:CodeList[@OID='CL.LBTESTCD']/odm:CodeListItem[@CodedValue='ALT']")
    assert alt.findtext("odm:Decode/odm:TranslatedText", namespaces=NS) == "Alanine Aminotransferase"
    assert one(doc, "//odm:CodeListItem[@CodedValue='ALT']/odm:Alias").get("Name") == "C64433"
    ext = one(doc, "//odm:CodeList[@OID='CL.LBTESTCD']/odm:CodeListItem[@CodedValue='CARVCN']")
    assert ext.get(f"{{{NS['def']}}}ExtendedValue") == "Yes"
    assert ext.xpath("odm:Alias", namespaces=NS) == []


def test_value_outside_nonextensible_list_is_left_out(tmp_path):
    d = ae()
    d.frame.loc[0, "AESEV"] = "LIFE THREATENING"
    doc = xml(sdtm_define(tmp_path, datasets=[d]))
    assert coded(doc, "CL.AESEV") == ["MILD", "MODERATE", "SEVERE"]


def test_sponsor_codelist_with_decodes_from_paired_variable(tmp_path):
    doc = xml(adam_define(tmp_path))
    assert coded(doc, "CL.PARAMCD") == ["OS", "PFS"]
    pfs = one(doc, "//odm:CodeList[@OID='CL.PARAMCD']/odm:CodeListItem[@CodedValue='PFS']")
    assert pfs.findtext("odm:Decode/odm:TranslatedText", namespaces=NS) == "Progression-Free Survival (days)"


def test_external_dictionary(tmp_path):
    doc = xml(sdtm_define(tmp_path, extra={"dictionaries": {"AE.AEDECOD": {"dictionary": "MedDRA", "version": "26.0"}}}))
    ext = one(doc, "//odm:CodeList[@OID='CL.MEDDRA']/odm:ExternalCodeList")
    assert (ext.get("Dictionary"), ext.get("Version")) == ("MedDRA", "26.0")
    assert one(doc, "//odm:ItemDef[@OID='IT.AE.AEDECOD']/odm:CodeListRef").get("CodeListOID") == "CL.MEDDRA"


# ------------------------------------------------------------------ value-level metadata
def test_lb_value_level_metadata_by_testcd(tmp_path):
    doc = xml(sdtm_define(tmp_path))
    assert one(doc, "//odm:ItemDef[@OID='IT.LB.LBORRES']/def:ValueListRef").get("ValueListOID") == "VL.LB.LBORRES"
    refs = doc.xpath("//def:ValueListDef[@OID='VL.LB.LBORRES']/odm:ItemRef", namespaces=NS)
    assert [r.get("ItemOID") for r in refs] == ["IT.LB.LBORRES.ALT", "IT.LB.LBORRES.CARVCN", "IT.LB.LBORRES.HGB"]
    # ALT "32", "118": integer, 3 bytes; HGB "13.1", "9.85": float, 4 bytes, 2 decimals
    alt, hgb = item(doc, "IT.LB.LBORRES.ALT"), item(doc, "IT.LB.LBORRES.HGB")
    assert (alt.get("DataType"), alt.get("Length")) == ("integer", "3")
    assert (hgb.get("DataType"), hgb.get("Length"), hgb.get("SignificantDigits")) == ("float", "4", "2")
    wc = one(doc, "//def:WhereClauseDef[@OID='WC.LB.LBTESTCD.HGB']/odm:RangeCheck")
    assert (wc.get("Comparator"), wc.get("SoftHard"), wc.get(f"{{{NS['def']}}}ItemOID")) == ("EQ", "Soft", "IT.LB.LBTESTCD")
    assert wc.findtext("odm:CheckValue", namespaces=NS) == "HGB"
    assert refs[2].xpath("def:WhereClauseRef/@WhereClauseOID", namespaces=NS) == ["WC.LB.LBTESTCD.HGB"]


def test_supp_by_qnam_and_bds_by_paramcd(tmp_path):
    sdoc = xml(sdtm_define(tmp_path))
    qval = item(sdoc, "IT.SUPPAE.QVAL.AECRSGR")
    assert (qval.get("DataType"), qval.get("Length")) == ("integer", "1")
    assert one(sdoc, "//def:ValueListDef[@OID='VL.SUPPAE.QVAL']/odm:ItemRef").get("Mandatory") == "Yes"
    adoc = xml(adam_define(tmp_path))
    refs = adoc.xpath("//def:ValueListDef[@OID='VL.ADTTE.AVAL']/odm:ItemRef/@ItemOID", namespaces=NS)
    assert refs == ["IT.ADTTE.AVAL.OS", "IT.ADTTE.AVAL.PFS"]
    # OS 6.25, 3.5 -> float with 2 decimals; PFS 57, 12 -> integer
    os_ = item(adoc, "IT.ADTTE.AVAL.OS")
    assert (os_.get("DataType"), os_.get("SignificantDigits")) == ("float", "2")
    assert item(adoc, "IT.ADTTE.AVAL.PFS").get("DataType") == "integer"
    assert one(adoc, "//odm:ItemGroupDef[@Name='ADTTE']/def:Class/def:SubClass").get("Name") == "TIME-TO-EVENT"
    assert one(adoc, "//odm:ItemGroupDef[@Name='ADTTE']").get("Purpose") == "Analysis"
    assert one(adoc, "//odm:ItemGroupDef[@Name='ADTTE']").get("Domain") is None


def test_comments_from_meta_and_extra(tmp_path):
    d = dm()
    d = Dataset(DatasetMeta(**{**d.meta.__dict__, "comment": "Screen failures are not included"}), d.frame)
    doc = xml(sdtm_define(tmp_path, datasets=[d], extra={"comments": {"DM.ARMCD": "Dose level assigned at enrolment"}}))
    assert one(doc, "//odm:ItemGroupDef[@Name='DM']").get(f"{{{NS['def']}}}CommentOID") == "COM.DM"
    assert item(doc, "IT.DM.ARMCD").get(f"{{{NS['def']}}}CommentOID") == "COM.DM.ARMCD"
    assert sorted(doc.xpath("//def:CommentDef/@OID", namespaces=NS)) == ["COM.DM", "COM.DM.ARMCD"]


def test_render_html_with_user_stylesheet(tmp_path):
    xsl = tmp_path / "tiny.xsl"
    xsl.write_text("""<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
      xmlns:odm="http://www.cdisc.org/ns/odm/v1.3"><xsl:output method="html"/>
      <xsl:template match="/"><html><body><xsl:for-each select="//odm:ItemGroupDef">
      <h2><xsl:value-of select="@Name"/></h2></xsl:for-each></body></html></xsl:template>
      </xsl:stylesheet>""")
    out = render_define_html(sdtm_define(tmp_path), xsl, tmp_path / "define.html")
    html = out.read_text()
    assert "<h2>DM</h2>" in html and "<h2>SUPPAE</h2>" in html


# ------------------------------------------------------------------ define vs data checks
from trialforge.validation.define_checks import check_define_vs_data  # noqa: E402


def sdtm_data():
    return {d.name: d for d in (dm(), ae(), lb(), suppae())}


def rules(findings):
    return sorted({(f.rule_id, f.dataset, f.variable) for f in findings})


def test_clean_define_has_no_findings(tmp_path):
    assert check_define_vs_data(sdtm_define(tmp_path), sdtm_data()) == []
    adam = {d.name: d for d in (adsl(), adtte())}
    assert check_define_vs_data(adam_define(tmp_path), adam) == []


def test_missing_and_extra_datasets_and_variables(tmp_path):
    path = sdtm_define(tmp_path)
    data = sdtm_data()
    del data["SUPPAE"]
    data["XX"] = Dataset(DatasetMeta("XX", "Extra"), pd.DataFrame({"A": ["1"]}))
    data["DM"].frame = data["DM"].frame.drop(columns=["ARM"]).assign(RACE="ASIAN")
    found = rules(check_define_vs_data(path, data))
    assert ("TF-DEF-001", "SUPPAE", None) in found
    assert ("TF-DEF-002", "XX", None) in found
    assert ("TF-DEF-003", "DM", "ARM") in found
    assert ("TF-DEF-004", "DM", "RACE") in found


def test_type_and_length_disagreements(tmp_path):
    path = sdtm_define(tmp_path)
    data = sdtm_data()
    data["DM"].frame["AGE"] = ["54", "61"]                           # Char where define says integer
    data["AE"].frame.loc[1, "AETERM"] = "Immune effector cell-associated neurotoxicity syndrome"  # 54 bytes > 25
    data["LB"].frame["LBDTC"] = ["2025-03-04T08:00"] + ["2025-03-04"] * 4   # time part under DataType date
    found = check_define_vs_data(path, data)
    assert ("TF-DEF-005", "DM", "AGE") in rules(found)
    six = [f for f in found if f.rule_id == "TF-DEF-006"]
    assert [(f.variable, f.value, f.severity) for f in six] == [("AETERM", "54", "error")]
    fourteen = [f for f in found if f.rule_id == "TF-DEF-014"]
    assert [(f.usubjid, f.seq, f.row) for f in fourteen] == [(U1, "1", 1)]


def test_length_longer_than_data_is_a_warning_when_data_derived(tmp_path):
    path = sdtm_define(tmp_path)
    data = sdtm_data()
    data["AE"].frame["AETERM"] = ["CRS", "Fever", "Neutropenia"]     # longest now 11 < 25
    found = [f for f in check_define_vs_data(path, data) if f.rule_id == "TF-DEF-007"]
    assert [(f.variable, f.value, f.severity) for f in found] == [("AETERM", "11", "warning")]


def test_codelist_value_not_in_define_points_to_record(tmp_path):
    data = sdtm_data()
    path = sdtm_define(tmp_path)
    data["AE"].frame.loc[2, "AESEV"] = "LIFE THREATENING"
    found = [f for f in check_define_vs_data(path, data) if f.rule_id == "TF-DEF-008"]
    assert [(f.variable, f.value, f.usubjid, f.seq, f.row) for f in found] == \
        [("AESEV", "LIFE THREATENING", U2, "1", 3)]


def test_value_level_slice_breaking_its_datatype(tmp_path):
    path = sdtm_define(tmp_path)
    data = sdtm_data()
    data["LB"].frame.loc[3, "LBORRES"] = "<5"                       # ALT slice is integer, length 3
    found = [f for f in check_define_vs_data(path, data) if f.rule_id == "TF-DEF-009"]
    assert [(f.variable, f.value, f.row) for f in found] == [("LBORRES", "<5", 4)]


def test_label_mismatch_broken_reference_and_missing_method(tmp_path):
    path = sdtm_define(tmp_path)
    doc = xml(path)
    one(doc, "//odm:ItemDef[@OID='IT.DM.SEX']/odm:CodeListRef").set("CodeListOID", "CL.GENDER")
    one(doc, "//odm:ItemRef[@ItemOID='IT.AE.AESEQ']").attrib.pop("MethodOID")
    doc.write(str(path))
    data = sdtm_data()
    data["DM"] = Dataset(DatasetMeta(**{**data["DM"].meta.__dict__, "label": "Demography"}), data["DM"].frame)
    found = rules(check_define_vs_data(path, data))
    assert ("TF-DEF-010", "DM", None) in found
    assert ("TF-DEF-012", "define.xml", None) in found
    assert ("TF-DEF-013", "AE", "AESEQ") in found


def test_every_rule_has_a_docstring_naming_its_id():
    from trialforge.validation import define_checks
    for rule in define_checks.RULES:
        rid = rule.__name__.upper().replace("_", "-")
        assert rule.__doc__ and rule.__doc__.startswith(rid), rule.__name__


# ------------------------------------------------------------------ with the project's own CT
def test_with_shipped_controlled_terminology(tmp_path):
    ct_module = pytest.importorskip("trialforge.specs.ct")
    ct = ct_module.load_ct()
    path = write_define([dm(), ae(), lb(), suppae()], tmp_path / "define.xml", study=STUDY,
                        standard="SDTMIG 3.4", ct=ct, created=CREATED)
    doc = xml(path)
    sets = sorted((s.get("PublishingSet"), s.get("Version"))
                  for s in doc.xpath("//def:Standard[@Type='CT']", namespaces=NS))
    assert ("SDTM", "2022-09-30") in sets
    # NY is non-extensible with 4 terms in CT 2022-09-30: listed whole, Y = C49488
    assert coded(doc, "CL.NY") == ["N", "NA", "U", "Y"]
    assert one(doc, "//odm:CodeList[@OID='CL.NY']/odm:EnumeratedItem[@CodedValue='Y']/odm:Alias").get("Name") == "C49488"
    if "defineutils" in __import__("sys").modules or __import__("importlib").util.find_spec("defineutils"):
        assert validate_define_xsd(path) == []
    assert check_define_vs_data(path, sdtm_data()) == []
    assert sets == [("SDTM", "2022-09-30")]           # ADaM CT is not a standard of an SDTM define
    assert one(doc, "//odm:CodeList[@OID='CL.NY']").get(f"{{{NS['def']}}}StandardOID") == "STD.CT.SDTM.2022-09-30"


# ------------------------------------------------------------------ facts from the metadata model
def _with(ds: Dataset, **changes_by_var) -> Dataset:
    """Copy of ds with VariableMeta fields replaced per variable: _with(d, SEX={"crf_pages": (3, 7)})."""
    from dataclasses import replace
    variables = [replace(v, **changes_by_var.get(v.name, {})) for v in ds.meta.variables]
    return Dataset(ds.meta.with_variables(variables), ds.frame)


def test_method_comment_pages_source_and_dictionary_from_variable_meta(tmp_path):
    d = _with(dm(), SEX={"crf_pages": (3, 7), "origin_detail": None, "origin_source": "Subject"},
              RFSTDTC={"method": "Date/time of the CAR-T infusion from EX", "method_type": "Imputation",
                       "comment": "Infusion date is study day 1"})
    a = _with(ae(), AEDECOD={"dictionary": ("MedDRA", "27.1")})
    doc = xml(sdtm_define(tmp_path, datasets=[d, a]))
    ref = one(doc, "//odm:ItemGroupDef[@Name='DM']/odm:ItemRef[@ItemOID='IT.DM.RFSTDTC']")
    assert ref.get("MethodOID") == "MT.DM.RFSTDTC"
    md = one(doc, "//odm:MethodDef[@OID='MT.DM.RFSTDTC']")
    assert md.get("Type") == "Imputation"
    assert md.findtext("odm:Description/odm:TranslatedText", namespaces=NS) == "Date/time of the CAR-T infusion from EX"
    assert item(doc, "IT.DM.RFSTDTC").get(f"{{{NS['def']}}}CommentOID") == "COM.DM.RFSTDTC"
    assert one(doc, "//def:CommentDef[@OID='COM.DM.RFSTDTC']").findtext(
        "odm:Description/odm:TranslatedText", namespaces=NS) == "Infusion date is study day 1"
    sex = one(doc, "//odm:ItemDef[@OID='IT.DM.SEX']/def:Origin")
    assert sex.get("Source") == "Subject"
    assert one(doc, "//odm:ItemDef[@OID='IT.DM.SEX']//def:PDFPageRef").get("PageRefs") == "3 7"
    ext = one(doc, "//odm:CodeList[@OID='CL.MEDDRA']/odm:ExternalCodeList")
    assert (ext.get("Dictionary"), ext.get("Version")) == ("MedDRA", "27.1")
    assert one(doc, "//odm:ItemDef[@OID='IT.AE.AEDECOD']/odm:CodeListRef").get("CodeListOID") == "CL.MEDDRA"
    if __import__("importlib").util.find_spec("defineutils"):
        assert validate_define_xsd(tmp_path / "define.xml") == []


def test_extra_overrides_variable_meta(tmp_path):
    d = _with(dm(), RFSTDTC={"method": "from meta", "comment": "meta comment"},
              SEX={"crf_pages": (3,), "origin_source": "Subject"})
    doc = xml(sdtm_define(tmp_path, datasets=[d], extra={
        "methods": {"DM.RFSTDTC": "from extra"}, "comments": {"DM.RFSTDTC": "extra comment"},
        "pages": {"DM.SEX": "9"}, "origin_sources": {"DM.SEX": "Investigator"}}))
    assert one(doc, "//odm:MethodDef[@OID='MT.DM.RFSTDTC']").findtext(
        "odm:Description/odm:TranslatedText", namespaces=NS) == "from extra"
    assert one(doc, "//def:CommentDef[@OID='COM.DM.RFSTDTC']").findtext(
        "odm:Description/odm:TranslatedText", namespaces=NS) == "extra comment"
    assert one(doc, "//odm:ItemDef[@OID='IT.DM.SEX']//def:PDFPageRef").get("PageRefs") == "9"
    assert one(doc, "//odm:ItemDef[@OID='IT.DM.SEX']/def:Origin").get("Source") == "Investigator"


def test_method_type_must_be_computation_or_imputation(tmp_path):
    d = _with(dm(), RFSTDTC={"method": "x", "method_type": "Guess"})
    with pytest.raises(SpecError, match="Computation or Imputation"):
        sdtm_define(tmp_path, datasets=[d])


def test_adam_define_with_shipped_ct_names_each_codelists_ct_release(tmp_path):
    """One CT object loaded from the SDTM and the ADaM CT files: each CodeList points to the release
    it came from (NY is SDTM CT, file sdtm-ct-2022-09-30-subset.tsv) and both are def:Standards."""
    from trialforge.specs.ct import load_ct
    # created after the ADaM CT release the define cites (2026-03-27): an earlier date is an error
    path = write_define([adtte(), adsl()], tmp_path / "define.xml", study=STUDY, standard="ADaMIG 1.3",
                        ct=load_ct(), created="2026-04-01T00:00:00")
    doc = xml(path)
    sets = sorted((s.get("OID"), s.get("PublishingSet"), s.get("Version"))
                  for s in doc.xpath("//def:Standard[@Type='CT']", namespaces=NS))
    assert sets == [("STD.CT.ADaM.2026-03-27", "ADaM", "2026-03-27"),
                    ("STD.CT.SDTM.2022-09-30", "SDTM", "2022-09-30")]
    assert one(doc, "//odm:CodeList[@OID='CL.NY']").get(f"{{{NS['def']}}}StandardOID") == "STD.CT.SDTM.2022-09-30"
    assert one(doc, "//odm:CodeList[@OID='CL.PARAMCD']").get(f"{{{NS['def']}}}StandardOID") is None  # sponsor list
    if __import__("importlib").util.find_spec("defineutils"):
        assert validate_define_xsd(path) == []


def test_ct_codelist_with_blank_name_gets_a_name_not_its_code(tmp_path):
    """NCI EVS leaves some codelist names blank (C142179 in SDTM CT 2022-09-30); the XSD needs one, and
    issue #13 asks for a name rather than the bare C-code: the CT reader fills it (here from the SDTMIG
    label of DM.ARMNRS, since the file gives no NCI preferred term either)."""
    from trialforge.specs.ct import load_ct
    d = dm()
    variables = list(d.meta.variables) + [V("ARMNRS", "Reason Arm and/or Actual Arm is Null", core="Exp",
                                            codelist_code="C142179", origin="Assigned")]
    frame = d.frame.assign(ARMNRS=["SCREEN FAILURE", ""])
    path = write_define([Dataset(d.meta.with_variables(variables), frame)], tmp_path / "define.xml",
                        study=STUDY, standard="SDTMIG 3.4", ct=load_ct(), created=CREATED)
    cl = one(xml(path), "//odm:CodeList[@OID='CL.C142179']")
    assert cl.get("Name") == "Reason Arm and/or Actual Arm is Null"
    if __import__("importlib").util.find_spec("defineutils"):
        assert validate_define_xsd(path) == []


def test_supp_value_level_origin_from_qorig(tmp_path):
    s = _with(suppae(), QVAL={"origin": None, "origin_detail": None})
    frame = pd.concat([s.frame, s.frame.assign(IDVARVAL="2", QNAM="AETOCI", QLABEL="Toci given",
                                               QVAL="Y", QORIG="DERIVED")], ignore_index=True)
    frame = pd.concat([frame, frame.iloc[[1]].assign(IDVARVAL="3", QORIG="CRF")], ignore_index=True)
    doc = xml(sdtm_define(tmp_path, datasets=[Dataset(s.meta, frame)]))
    crs = one(doc, "//odm:ItemDef[@OID='IT.SUPPAE.QVAL.AECRSGR']/def:Origin")
    assert (crs.get("Type"), crs.get("Source")) == ("Collected", "Investigator")      # QORIG CRF
    # AETOCI slice: one DERIVED and one CRF record -> both origins; the parent QVAL lists its slices'
    def origins(oid):
        return [o.get("Type") for o in doc.xpath(f"//odm:ItemDef[@OID='{oid}']/def:Origin", namespaces=NS)]
    assert origins("IT.SUPPAE.QVAL.AETOCI") == ["Collected", "Derived"]
    assert origins("IT.SUPPAE.QVAL") == ["Collected", "Derived"]
    if __import__("importlib").util.find_spec("defineutils"):
        assert validate_define_xsd(tmp_path / "define.xml") == []
