"""Define spec workbooks in the Pinnacle 21 layout: round trip from the CD70 example, and a hand-written
workbook whose label, length and codelist reach the XPT file and define.xml."""
from __future__ import annotations

from pathlib import Path

import openpyxl
import pyreadstat
import pytest
from lxml import etree

from trialforge.errors import SpecError
from trialforge.sdtm.engine import build_sdtm
from trialforge.specs.ct import load_ct
from trialforge.specs.define_workbook import SHEETS, apply_workbook, read_define_workbook
from trialforge.specs.define_workbook_writer import write_define_workbook
from trialforge.specs.study import load_study
from trialforge.submission.define import write_define
from trialforge.submission.define_vlm import value_lists
from trialforge.submission.xpt import write_xpt

CD70 = Path(__file__).resolve().parents[1] / "examples" / "cd70-cart"
NS = {"odm": "http://www.cdisc.org/ns/odm/v1.3", "def": "http://www.cdisc.org/ns/def/v2.1"}
INFO = {"id": "MINI-01", "name": "Mini study", "created": "2026-01-31T00:00:00"}


@pytest.fixture(scope="module")
def cd70(tmp_path_factory):
    study = load_study(CD70)
    ct = load_ct(list(study.ct_files) or None)
    datasets = build_sdtm(study, ct=ct)
    path = write_define_workbook(datasets.values(), tmp_path_factory.mktemp("wb") / "cd70.xlsx",
                                 study={"id": study.id, "name": "CD70"}, standard="SDTMIG 3.4", ct=ct,
                                 value_lists=value_lists)
    return datasets, path


def test_cd70_round_trip_gives_identical_metadata(cd70):
    datasets, path = cd70
    book = read_define_workbook(path)
    assert sorted(book.datasets) == sorted(datasets)
    for name, ds in datasets.items():
        back = book.datasets[name]
        assert back.variables == ds.meta.variables, name          # every attribute, in order
        assert (back.label, back.cls, back.structure, back.keys, back.comment) == \
            (ds.meta.label, ds.meta.cls, ds.meta.structure, ds.meta.keys, ds.meta.comment), name
        # applying the workbook to the engine's metadata changes nothing but the stated value-level rows
        applied = apply_workbook(ds.meta, book)
        assert applied.variables == ds.meta.variables and applied.keys == ds.meta.keys
        assert len(applied.value_level) == sum(len(vl.items) for vl in value_lists(ds)), name


def test_cd70_workbook_has_the_p21_sheets_and_links(cd70):
    datasets, path = cd70
    book = openpyxl.load_workbook(path, read_only=True)
    assert book.sheetnames == list(SHEETS)
    for sheet, columns in SHEETS.items():
        assert [c.value for c in next(book[sheet].iter_rows(max_row=1))] == list(columns), sheet
    variables = {(r[1], r[2]): r for r in book["Variables"].iter_rows(min_row=2, values_only=True)}
    aeseq = variables[("AE", "AESEQ")]
    assert aeseq[4] == "integer" and aeseq[12] == "Derived" and aeseq[15] == "MT.AE.AESEQ"
    assert variables[("DM", "SEX")][10] == "SEX" and variables[("AE", "AESTDTC")][4] == "datetime"
    codelists = [r for r in book["Codelists"].iter_rows(min_row=2, values_only=True) if r[0] == "SEX"]
    assert {r[5]: r[6] for r in codelists} == {"F": "C16576", "M": "C20197"}     # NCI term codes (C66731)
    assert codelists[0][2] == "C66731"
    methods = {r[0]: r for r in book["Methods"].iter_rows(min_row=2, values_only=True)}
    assert methods["MT.AE.AESEQ"][3] == datasets["AE"].meta.variable("AESEQ").method


# A workbook written by hand for the mini study's AE: AETERM relabelled, AEDECOD length 60,
# AESEV on a sponsor codelist with its own codes.
AE_ROWS = [
    # Variable, Label, Data Type, Length, Codelist, Origin, Method
    ("STUDYID", "Study Identifier", "text", "", "", "Assigned", ""),
    ("DOMAIN", "Domain Abbreviation", "text", "", "", "Assigned", ""),
    ("USUBJID", "Unique Subject Identifier", "text", "", "", "Derived", ""),
    ("AESEQ", "Sequence Number", "integer", "", "", "Derived", "MT.SEQ"),
    ("AETERM", "Verbatim Adverse Event", "text", "", "", "Collected", ""),
    ("AEDECOD", "Dictionary-Derived Term", "text", "60", "", "Collected", ""),
    ("AEBODSYS", "Body System or Organ Class", "text", "", "", "Collected", ""),
    ("AESEV", "Severity/Intensity", "text", "", "SPSEV", "Collected", ""),
    ("AESER", "Serious Event", "text", "", "NY", "Collected", ""),
    ("EPOCH", "Epoch", "text", "", "", "Derived", ""),
    ("AESTDTC", "Start Date/Time of Adverse Event", "datetime", "", "", "Collected", ""),
    ("AEENDTC", "End Date/Time of Adverse Event", "datetime", "", "", "Collected", ""),
    ("AESTDY", "Study Day of Start of Adverse Event", "integer", "", "", "Derived", ""),
    ("AEENDY", "Study Day of End of Adverse Event", "integer", "", "", "Derived", ""),
]


def hand_written_workbook(path: Path) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    sheets = {name: book.create_sheet(name) for name in ("Datasets", "Variables", "Codelists", "Methods")}
    sheets["Datasets"].append(["Dataset", "Description", "Class", "Structure", "Purpose", "Key Variables"])
    sheets["Datasets"].append(["AE", "Adverse Events", "EVENTS", "One record per event per subject", "Tabulation",
                               "STUDYID, USUBJID, AEDECOD, AESTDTC"])
    sheets["Variables"].append(["Order", "Dataset", "Variable", "Label", "Data Type", "Length", "Codelist", "Origin",
                                "Method"])
    for i, (var, label, dtype, length, codelist, origin, method) in enumerate(AE_ROWS, start=1):
        sheets["Variables"].append([i, "AE", var, label, dtype, length, codelist, origin, method])
    sheets["Codelists"].append(["ID", "Name", "NCI Codelist Code", "Data Type", "Order", "Term", "NCI Term Code",
                                "Decoded Value"])
    for i, (term, code) in enumerate([("MILD", "SP001"), ("MODERATE", "SP002"), ("SEVERE", "SP003")], start=1):
        sheets["Codelists"].append(["SPSEV", "Sponsor Severity", "", "text", i, term, code, term.title()])
    sheets["Codelists"].append(["NY", "No Yes Response", "C66742", "text", 1, "Y", "C49488", "Yes"])
    sheets["Methods"].append(["ID", "Name", "Type", "Description"])
    sheets["Methods"].append(["MT.SEQ", "Sequence", "Computation", "Numbered by onset within subject"])
    book.save(path)
    return path


def test_hand_written_workbook_changes_xpt_and_define(mini_study, tmp_path):
    hand_written_workbook(mini_study / "specs" / "define-spec.xlsx")
    config = mini_study / "study.yaml"
    config.write_text(config.read_text() + "define_spec: specs/define-spec.xlsx\n")
    study = load_study(mini_study)
    ct = load_ct(list(study.ct_files))
    ae = build_sdtm(study, ct=ct)["AE"]
    xpt = tmp_path / "ae.xpt"
    write_xpt(ae, xpt)
    frame, meta = pyreadstat.read_xport(str(xpt))
    labels = dict(zip(meta.column_names, meta.column_labels))
    assert labels["AETERM"] == "Verbatim Adverse Event"                    # SDTMIG: Reported Term for the AE
    assert meta.variable_storage_width["AEDECOD"] == 60                    # data alone would give 25
    assert frame.AEDECOD.tolist() == ["Cytokine release syndrome", "Pyrexia", "Headache"]
    define = write_define([ae], tmp_path / "define.xml", study=INFO, standard="SDTMIG 3.4", ct=ct,
                          created="2026-01-31T00:00:00")
    root = etree.parse(str(define))
    item = root.find(".//odm:ItemDef[@OID='IT.AE.AETERM']", NS)
    assert item.find("odm:Description/odm:TranslatedText", NS).text == "Verbatim Adverse Event"
    assert root.find(".//odm:ItemDef[@OID='IT.AE.AEDECOD']", NS).get("Length") == "60"
    sev = root.find(".//odm:ItemDef[@OID='IT.AE.AESEV']", NS)
    ref = sev.find("odm:CodeListRef", NS).get("CodeListOID")
    codelist = root.find(f".//odm:CodeList[@OID='{ref}']", NS)
    assert ref == "CL.SPSEV" and codelist.get("Name") == "Sponsor Severity"
    terms = {e.get("CodedValue"): e.find("odm:Alias", NS) for e in codelist if e.get("CodedValue")}
    assert set(terms) == {"MILD", "MODERATE", "SEVERE"}                   # the terms the data use
    assert terms["MILD"].get("Name") == "SP001" and terms["SEVERE"].get("Name") == "SP003"
    method = root.find(".//odm:MethodDef[@OID='MT.AE.AESEQ']", NS)
    assert method.find("odm:Description/odm:TranslatedText", NS).text == "Numbered by onset within subject"


def test_workbook_mistakes_name_sheet_row_and_value(mini_study):
    path = hand_written_workbook(mini_study / "specs" / "define-spec.xlsx")
    book = openpyxl.load_workbook(path)
    book["Variables"]["G9"] = "NOSUCH"                                      # AESEV codelist cell (row 9)
    book.save(path)
    config = mini_study / "study.yaml"
    config.write_text(config.read_text() + "define_spec: specs/define-spec.xlsx\n")
    with pytest.raises(SpecError) as err:
        build_sdtm(load_study(mini_study))
    assert err.value.row == 9 and err.value.value == "NOSUCH" and err.value.column == "Variables!Codelist"
    assert "Codelists" in err.value.cause and err.value.file.endswith("define-spec.xlsx")


def test_workbook_variable_not_mapped_is_an_error(mini_study):
    path = hand_written_workbook(mini_study / "specs" / "define-spec.xlsx")
    book = openpyxl.load_workbook(path)
    book["Variables"].append([15, "AE", "AEOUT", "Outcome", "text", "", "", "Collected", ""])
    book.save(path)
    config = mini_study / "study.yaml"
    config.write_text(config.read_text() + "define_spec: specs/define-spec.xlsx\n")
    with pytest.raises(SpecError) as err:
        build_sdtm(load_study(mini_study))
    assert err.value.value == "AEOUT" and "ae.yaml" in err.value.cause


def test_spec_excel_command_is_byte_identical_on_rerun_and_reads_back(mini_study, tmp_path):
    from click.testing import CliRunner
    from trialforge.cli import main
    first, second = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    for out in (first, second):
        result = CliRunner().invoke(main, ["spec", "--excel", str(out), str(mini_study)])
        assert result.exit_code == 0, result.output
    assert first.read_bytes() == second.read_bytes()                     # no clock time in the file
    book = read_define_workbook(first)
    assert sorted(book.datasets) == ["AE", "DM", "EX", "SUPPAE", "SUPPDM"]
    ae = book.datasets["AE"]
    assert ae.variable("AESEQ").method == "Sequence number 1..n within USUBJID in the order of the dataset keys"
    assert ae.variable("AESEV").codelist == "AESEV" and ae.variable("AESEV").codelist_code == "C66769"
    assert ae.keys == ("STUDYID", "USUBJID", "AEDECOD", "AESTDTC")


def test_stated_value_level_wins_in_define(tmp_path):
    """A ValueLevel row (LBORRES where LBTESTCD EQ ALT: length 12, origin Derived) reaches the define's VLM."""
    import dataclasses

    import pandas as pd

    from trialforge.specs.metadata import Dataset, DatasetMeta, ValueLevelMeta, VariableMeta
    meta = DatasetMeta("LB", "Laboratory Test Results", cls="FINDINGS", keys=("STUDYID", "USUBJID"), variables=(
        VariableMeta("STUDYID", "Study Identifier"), VariableMeta("USUBJID", "Unique Subject Identifier"),
        VariableMeta("LBTESTCD", "Lab Test or Examination Short Name"),
        VariableMeta("LBORRES", "Result or Finding in Original Units", origin="Collected")))
    frame = pd.DataFrame({"STUDYID": ["S"] * 2, "USUBJID": ["S-1"] * 2, "LBTESTCD": ["ALT", "HGB"],
                          "LBORRES": ["31", "12.5"]})
    plain = value_lists(Dataset(meta, frame))[0].items
    stated = ValueLevelMeta("LBORRES", (("LBTESTCD", "EQ", ("ALT",)),),
                            VariableMeta("LBORRES", "", length=12, origin="Derived"), "WC.ALT")
    items = value_lists(Dataset(dataclasses.replace(meta, value_level=(stated,)), frame))[0].items
    alt = {i.value: i for i in items}["ALT"]
    assert (alt.attrs.length, alt.origin) == (12, "Derived")
    assert {i.value: i for i in plain}["ALT"].attrs.length == 2                  # what the data alone say
    assert {i.value: i for i in items}["HGB"] == {i.value: i for i in plain}["HGB"]   # unstated slice unchanged


def test_study_sheet_names_the_study_in_define(mini_study):
    from trialforge.pipeline import study_info
    path = hand_written_workbook(mini_study / "specs" / "define-spec.xlsx")
    book = openpyxl.load_workbook(path)
    ws = book.create_sheet("Study", 0)
    ws.append(["Attribute", "Value"])
    ws.append(["StudyName", "MINI-01 Phase I"])
    ws.append(["ProtocolName", "MINI-PROT-7"])
    book.save(path)
    config = mini_study / "study.yaml"
    config.write_text(config.read_text() + "define_spec: specs/define-spec.xlsx\n")
    info = study_info(load_study(mini_study))
    assert (info["name"], info["protocol"], info["description"]) == ("MINI-01 Phase I", "MINI-PROT-7", "Mini study")


def test_cd70_with_its_own_workbook_writes_identical_xpt_and_define(cd70, tmp_path):
    import shutil
    datasets, path = cd70
    study_dir = tmp_path / "cd70"
    shutil.copytree(CD70, study_dir, ignore=shutil.ignore_patterns("out"))
    shutil.copy(path, study_dir / "specs" / "define-spec.xlsx")
    (study_dir / "study.yaml").write_text((study_dir / "study.yaml").read_text()
                                          + "\ndefine_spec: specs/define-spec.xlsx\n")
    study = load_study(study_dir)
    ct_with = load_ct(list(study.ct_files))
    again = build_sdtm(study, ct=ct_with)
    assert sorted(again) == sorted(datasets)
    for name in datasets:
        write_xpt(datasets[name], tmp_path / f"a_{name}.xpt")
        write_xpt(again[name], tmp_path / f"b_{name}.xpt")
        assert (tmp_path / f"a_{name}.xpt").read_bytes() == (tmp_path / f"b_{name}.xpt").read_bytes(), name
    info = {"id": "CD70-CART-101", "name": "CD70", "created": "2025-10-15T00:00:00"}
    a = write_define(list(datasets.values()), tmp_path / "a.xml", study=info, standard="SDTMIG 3.4",
                     ct=load_ct(list(load_study(CD70).ct_files) or None), created=info["created"])
    b = write_define(list(again.values()), tmp_path / "b.xml", study=info, standard="SDTMIG 3.4", ct=ct_with,
                     created=info["created"])
    assert a.read_bytes() == b.read_bytes()
