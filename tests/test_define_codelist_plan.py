"""Which codelist a variable or value-level slice references (define_codelist_plan), on hand-made data."""
from __future__ import annotations

import pandas as pd

from test_define import NS, STUDY, Codelist, FakeCT, Term, xml
from trialforge.specs.metadata import Dataset, DatasetMeta, VariableMeta as V
from trialforge.submission.define import write_define

CREATED = "2026-01-31T00:00:00"


def _ct() -> FakeCT:
    lists = [
        Codelist("C66742", "No Yes Response", "NY", False, (Term("C49487", "N"), Term("C49488", "Y"))),
        Codelist("C102580", "Laboratory Test Standard Character Result", "LBSTRESC", True,
                 (Term("C10001", "NEGATIVE"), Term("C10002", "POSITIVE"))),
    ]
    return FakeCT(lists={c.short_name: c for c in lists})


def _lb() -> Dataset:
    frame = pd.DataFrame({
        "STUDYID": "S1", "DOMAIN": "LB", "USUBJID": ["S1-1"] * 6,
        "LBTESTCD": ["ALT", "ALT", "HCG", "HCG", "CRP", "NITRITE"],
        "LBTEST": ["Alanine Aminotransferase"] * 2 + ["Choriogonadotropin"] * 2 + ["C Reactive Protein", "Nitrite"],
        "LBSTRESC": ["32", "118", "NEGATIVE", "POSITIVE", "<1.5", "Y"],
    })
    meta = DatasetMeta("LB", "Laboratory Test Results", "FINDINGS", "One record per test per subject",
                       ("STUDYID", "USUBJID", "LBTESTCD"), (
                           V("STUDYID", "Study Identifier", core="Req", origin="Protocol"),
                           V("DOMAIN", "Domain Abbreviation", core="Req", origin="Assigned"),
                           V("USUBJID", "Unique Subject Identifier", core="Req", origin="Derived"),
                           V("LBTESTCD", "Lab Test or Examination Short Name", core="Req", origin="Assigned"),
                           V("LBTEST", "Lab Test or Examination Name", core="Req", origin="Assigned"),
                           V("LBSTRESC", "Character Result/Finding in Std Format", core="Exp",
                             codelist="LBSTRESC", codelist_code="C102580", origin="Derived")))
    return Dataset(meta, frame)


def _refs(doc, oid):
    return doc.xpath(f"//odm:ItemDef[@OID='{oid}']/odm:CodeListRef/@CodeListOID", namespaces=NS)


def test_numeric_and_measured_slices_get_no_codelist_text_slices_the_list_that_holds_them(tmp_path):
    path = write_define([_lb()], tmp_path / "define.xml", study=STUDY, standard="SDTMIG 3.4", ct=_ct(),
                        created=CREATED, extra={"codelists": {"LB.LBSTRESC.*": ["NY"]}})
    doc = xml(path)
    assert _refs(doc, "IT.LB.LBSTRESC.ALT") == []                 # numbers: never terms
    assert _refs(doc, "IT.LB.LBSTRESC.CRP") == []                 # "<1.5": a measurement, not a term
    assert _refs(doc, "IT.LB.LBSTRESC.HCG") == ["CL.LBSTRESC"]    # the variable's own CT list holds them
    assert _refs(doc, "IT.LB.LBSTRESC.NITRITE") == ["CL.NY"]      # a branch candidate holds "Y"
    assert _refs(doc, "IT.LB.LBSTRESC") == []                     # slices differ: no variable-level list
    terms = doc.xpath("//odm:CodeList[@OID='CL.LBSTRESC']/odm:EnumeratedItem/@CodedValue", namespaces=NS)
    assert terms == ["NEGATIVE", "POSITIVE"]
    labels = doc.xpath("//odm:ItemDef[@OID='IT.LB.LBSTRESC.HCG']/odm:Description/odm:TranslatedText/text()",
                       namespaces=NS)
    assert labels == ["Choriogonadotropin"]                       # value-level label from LBTEST


def test_a_codelist_no_value_uses_is_not_written(tmp_path):
    lb = _lb()
    variables = list(lb.meta.variables) + [V("LBSPCCND", "Specimen Condition", codelist="NY", origin="Collected")]
    ds = Dataset(lb.meta.with_variables(variables), lb.frame.assign(LBSPCCND=""))
    ct = _ct()
    ct.lists["NY"] = Codelist("C66742", "No Yes Response", "NY", True, (Term("C49487", "N"), Term("C49488", "Y")))
    doc = xml(write_define([ds], tmp_path / "define.xml", study=STUDY, standard="SDTMIG 3.4", ct=ct,
                           created=CREATED))
    assert _refs(doc, "IT.LB.LBSPCCND") == []
    assert doc.xpath("//odm:EnumeratedItem[@CodedValue='']", namespaces=NS) == []


def test_a_numeric_result_whose_slices_are_all_numeric_reads_no_code_texts(tmp_path, monkeypatch):
    """LBSTRESN split by LBTESTCD: every slice is numeric, so no slice gets a codelist and the variable's
    code texts and slice pairs are never read (they were read up front: 3,778 values of LBSTRESN at 1,000
    subjects); watching the reads changes nothing in the define."""
    from trialforge.submission import define_columns
    lb = _lb()
    lb.frame["LBSTRESN"] = [32.0, 118.0, None, None, 1.5, None]
    meta = DatasetMeta(lb.meta.name, lb.meta.label, lb.meta.cls, lb.meta.structure, lb.meta.keys,
                       lb.meta.variables + (V("LBSTRESN", "Numeric Result", "Num", origin="Derived",
                                              codelist="LBSTRESC"),))
    lb = Dataset(meta, lb.frame)
    before = write_define([lb], tmp_path / "a.xml", study=STUDY, standard="SDTMIG 3.4", ct=_ct(),
                          created=CREATED).read_bytes()
    read = []
    real = define_columns.Column.code_texts
    monkeypatch.setattr(define_columns.Column, "code_texts",
                        lambda self, numeric: read.append(numeric) or real(self, numeric))
    again = write_define([lb], tmp_path / "b.xml", study=STUDY, standard="SDTMIG 3.4", ct=_ct(),
                         created=CREATED).read_bytes()
    assert again == before
    assert True not in read                                       # no numeric column's code texts
    assert b'OID="IT.LB.LBSTRESN.ALT"' in again and b'CL.LBSTRESC' in again
