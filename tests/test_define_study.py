"""study.yaml `submission:` -> define.xml documents and aCRF page references (issue 14), on the mini study."""
from __future__ import annotations

import pytest
from lxml import etree

from conftest import add_trial_summary
from trialforge.errors import SpecError
from trialforge.pipeline import run_study
from trialforge.submission.define import validate_define_xsd

NS = {"odm": "http://www.cdisc.org/ns/odm/v1.3", "def": "http://www.cdisc.org/ns/def/v2.1",
      "xlink": "http://www.w3.org/1999/xlink"}

SUBMISSION = """
submission:
  acrf: docs/acrf.pdf
  acrf_pages:
    ae.csv: 12
    DM.SEX: [3, 4]
    SUPPAE.QVAL.AECRSGR: 13
  reviewers_guide: {sdtm: docs/csdrg.pdf}
"""


def _with_submission(study, text=SUBMISSION, pdfs=("acrf.pdf", "csdrg.pdf")):
    """The mini study plus its TS record (the gate needs SSTDTC), a `submission:` block and its PDFs."""
    add_trial_summary(study, """
        - {TSPARMCD: SSTDTC, TSPARM: Study Start Date, TSVAL: "2025-01-01"}
    """)
    (study / "study.yaml").write_text((study / "study.yaml").read_text() + text)
    for name in pdfs:
        (study / "docs").mkdir(exist_ok=True)
        (study / "docs" / name).write_bytes(b"%PDF-1.4 " + name.encode())
    return study


def _pages(doc, oid):
    return doc.xpath(f"//odm:ItemDef[@OID='{oid}']/def:Origin/def:DocumentRef[@leafID='LF.acrf']"
                     "/def:PDFPageRef/@PageRefs", namespaces=NS)


def test_documents_and_crf_pages_reach_the_define(mini_study, tmp_path):
    study = _with_submission(mini_study)
    out = tmp_path / "out"
    run_study(study, out_dir=out, adam=False, tables=False)
    folder = out / "sdtm"
    assert (folder / "acrf.pdf").read_bytes() == (study / "docs" / "acrf.pdf").read_bytes()
    assert (folder / "csdrg.pdf").exists()
    doc = etree.parse(str(folder / "define.xml"))
    leaves = {lf.get("ID"): lf.get(f"{{{NS['xlink']}}}href") for lf in doc.xpath("//def:leaf", namespaces=NS)}
    assert leaves["LF.acrf"] == "acrf.pdf" and leaves["LF.guide"] == "csdrg.pdf"
    assert doc.xpath("//def:AnnotatedCRF/def:DocumentRef/@leafID", namespaces=NS) == ["LF.acrf"]
    assert doc.xpath("//def:SupplementalDoc/def:DocumentRef/@leafID", namespaces=NS) == ["LF.guide"]
    assert _pages(doc, "IT.AE.AETERM") == ["12"]              # from the raw form ae.csv
    assert _pages(doc, "IT.DM.SEX") == ["3 4"]                # one variable
    assert _pages(doc, "IT.SUPPAE.QVAL.AECRSGR") == ["13"]    # one QNAM at value level
    assert _pages(doc, "IT.AE.AESTDY") == []                  # derived: no page
    assert "csdrg.pdf" in (folder / "define.html").read_text(encoding="utf-8")
    if __import__("importlib").util.find_spec("defineutils"):
        assert validate_define_xsd(folder / "define.xml") == []


def test_a_named_document_that_does_not_exist_is_a_spec_error(mini_study, tmp_path):
    study = _with_submission(mini_study, pdfs=("acrf.pdf",))
    with pytest.raises(SpecError, match="submission.reviewers_guide"):
        run_study(study, out_dir=tmp_path / "out", adam=False, tables=False)
    assert not (tmp_path / "out").exists()                    # nothing written


def test_unknown_submission_key_is_a_spec_error(mini_study, tmp_path):
    study = _with_submission(mini_study, text="\nsubmission: {acrf_page: 3}\n", pdfs=())
    with pytest.raises(SpecError, match="unknown key 'acrf_page'"):
        run_study(study, out_dir=tmp_path / "out", adam=False, tables=False)


def test_mini_define_methods_are_said_from_the_spec(mini_study, tmp_path):
    run_study(_with_submission(mini_study, text="", pdfs=()), out_dir=tmp_path / "out", adam=False, tables=False)
    doc = etree.parse(str(tmp_path / "out" / "sdtm" / "define.xml"))
    text = doc.xpath("//odm:MethodDef[@OID='MT.DM.ARMNRS']/odm:Description/odm:TranslatedText/text()",
                     namespaces=NS)
    assert text == ["ARMNRS = 'SCREEN FAILURE' when the CRF field SF is 'Yes'; otherwise blank"]
