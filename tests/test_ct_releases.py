"""Pinning CT releases: NCI text (with the CDISC Definition column) and Excel forms, several files combined
with a sponsor extension, the release each codelist came from, blank codelist names filled."""
from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from trialforge.errors import SpecError
from trialforge.sdtm.engine import build_sdtm
from trialforge.specs.ct import CTSource, codelist_releases, load_ct, read_ct_file
from trialforge.specs.study import load_study

NCI_HEADER = ["Code", "Codelist Code", "Codelist Extensible (Yes/No)", "Codelist Name", "CDISC Submission Value",
              "CDISC Synonym(s)", "CDISC Definition", "NCI Preferred Term"]
# A made-up later release in NCI's published 8-column layout (definitions are placeholders).
RELEASE = [
    ["C66769", "", "No", "Severity/Intensity Scale for Adverse Events", "AESEV", "Severity/Intensity Scale for Adverse Events", "def", "CDISC SDTM Severity Intensity Scale for Adverse Event Terminology"],
    ["C41338", "C66769", "", "Severity/Intensity Scale for Adverse Events", "MILD", "1", "def", "Mild Adverse Event"],
    ["C41339", "C66769", "", "Severity/Intensity Scale for Adverse Events", "MODERATE", "2", "def", "Moderate Adverse Event"],
    ["C41340", "C66769", "", "Severity/Intensity Scale for Adverse Events", "SEVERE", "3", "def", "Severe Adverse Event"],
    ["C66742", "", "No", "No Yes Response", "NY", "No Yes Response", "def", "CDISC SDTM Yes No Terminology"],
    ["C49487", "C66742", "", "No Yes Response", "N", "No", "def", "No"],
    ["C49488", "C66742", "", "No Yes Response", "Y", "Yes", "def", "Yes"],
    ["C66731", "", "No", "Sex", "SEX", "Sex", "def", "CDISC SDTM Sex of Individual Terminology"],
    ["C20197", "C66731", "", "Sex", "M", "Male", "def", "Male"],
    ["C16576", "C66731", "", "Sex", "F", "Female", "def", "Female"],
    ["C999001", "", "Yes", "", "DEMOX", "", "def", "CDISC SDTM Demo Extension Terminology"],     # blank name
    ["C999002", "C999001", "", "", "ALPHA", "", "def", "Alpha"],
    ["C66729", "", "Yes", "Route of Administration Response", "ROUTE", "Route", "def", "CDISC SDTM Route of Administration Terminology"],
    ["C38276", "C66729", "", "Route of Administration Response", "INTRAVENOUS", "IV", "def", "Intravenous Route of Administration"],
]
SPONSOR = [
    ["S100", "", "No", "Sponsor Dose Level", "DOSELVL", "", "", "Dose Level"],
    ["S101", "S100", "", "Sponsor Dose Level", "DL1", "", "", "Dose level 1"],
    ["C66729", "", "Yes", "Route of Administration Response", "ROUTE", "", "", ""],       # extends NCI ROUTE
    ["S102", "C66729", "", "Route of Administration Response", "INTRATUMORAL INJECTION", "", "", "Sponsor route"],
]


def write_text(path: Path, rows, header=NCI_HEADER) -> Path:
    path.write_text("\r\n".join("\t".join(r) for r in [header] + rows) + "\r\n", encoding="utf-8")
    return path


def write_excel(path: Path, rows, sheet="SDTM Terminology 2024-03-29") -> Path:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = sheet
    ws.append(NCI_HEADER)
    for r in rows:
        ws.append(r)
    book.save(path)
    return path


def test_nci_text_form_with_definition_column(tmp_path):
    path = write_text(tmp_path / "SDTM Terminology 2024-03-29.txt", RELEASE)
    ct = load_ct([path])
    assert ct.version == "SDTM CT 2024-03-29"
    sev = ct.codelist("AESEV")
    assert (sev.code, sev.values, sev.ct_version) == ("C66769", {"MILD", "MODERATE", "SEVERE"}, "SDTM CT 2024-03-29")
    assert sev.lookup("Moderate Adverse Event") == "MODERATE" and sev.lookup("3") == "SEVERE"


def test_nci_excel_form_takes_its_release_from_the_sheet(tmp_path):
    path = write_excel(tmp_path / "SDTM Terminology.xlsx", RELEASE)
    ct = load_ct([path])
    assert ct.version == "SDTM CT 2024-03-29"
    assert ct.codelist("NY").values == {"N", "Y"} and ct.codelist("SEX").ct_version == "SDTM CT 2024-03-29"


def test_blank_codelist_name_is_filled_from_the_nci_preferred_term(tmp_path):
    ct = load_ct([write_text(tmp_path / "SDTM Terminology 2024-03-29.txt", RELEASE)])
    assert ct.codelist("DEMOX").name == "Demo Extension"


def test_bundled_file_never_leaves_a_codelist_unnamed():
    ct = load_ct()
    assert all(cl.name for cl in ct.codelists)
    # C142179 (DM.ARMNRS) has neither name nor preferred term in the 2022-09-30 file: the SDTMIG label names it
    assert ct.codelist("C142179").name == "Reason Arm and/or Actual Arm is Null"
    assert ct.codelist("NY").name == "No Yes Response"                     # a named codelist is untouched


def test_several_files_with_a_sponsor_extension(tmp_path):
    nci = write_excel(tmp_path / "SDTM Terminology.xlsx", RELEASE)
    sponsor = write_text(tmp_path / "sponsor.txt", SPONSOR)
    ct = load_ct([CTSource(nci), CTSource(sponsor, "Sponsor CT 1.0", extends=True)])
    assert ct.version == "SDTM CT 2024-03-29"                  # the CDISC release; sponsor lists are not CDISC CT
    route = ct.codelist("ROUTE")
    assert route.values == {"INTRAVENOUS", "INTRATUMORAL INJECTION"} and route.name == "Route of Administration Response"
    assert route.code_of("INTRATUMORAL INJECTION") == "S102"
    assert [t.extended for t in route.terms] == [False, True]      # define.xml marks it def:ExtendedValue
    assert (route.ct_version, route.release) == ("SDTM CT 2024-03-29", "SDTM CT 2024-03-29 + Sponsor CT 1.0")
    dose = ct.codelist("DOSELVL")
    assert (dose.code, dose.ct_version, dose.release, dose.code_of("DL1")) == ("S100", None, "Sponsor CT 1.0", "S101")
    assert ct.codelist("NY").release == "SDTM CT 2024-03-29"


def test_a_sponsor_file_cannot_add_terms_to_a_non_extensible_codelist(tmp_path):
    nci = write_text(tmp_path / "SDTM Terminology 2024-03-29.txt", RELEASE)
    bad = write_text(tmp_path / "sponsor.txt", [["C66742", "", "No", "No Yes Response", "NY", "", "", ""],
                                                ["S1", "C66742", "", "No Yes Response", "MAYBE", "", "", ""]])
    with pytest.raises(SpecError) as err:
        load_ct([CTSource(nci), CTSource(bad, "Sponsor", extends=True)])
    assert "not extensible" in err.value.cause and "MAYBE" in err.value.value


def test_study_pins_releases_and_the_run_reports_each_codelist_release(mini_study):
    (mini_study / "ct").mkdir()
    write_excel(mini_study / "ct" / "SDTM Terminology.xlsx", RELEASE)
    write_text(mini_study / "ct" / "sponsor.txt", SPONSOR)
    config = mini_study / "study.yaml"
    config.write_text(config.read_text() + 'ct_files:\n  - ct/SDTM Terminology.xlsx\n'
                      '  - {file: ct/sponsor.txt, release: Sponsor CT 1.0, extends: true}\n')
    study = load_study(mini_study)
    ct = load_ct(list(study.ct_files))
    out = build_sdtm(study, ct=ct)
    rows = {r[0]: r for r in codelist_releases(ct, [out["AE"], out["DM"]])}
    assert rows["AE.AESEV"] == ("AE.AESEV", "C66769", "Severity/Intensity Scale for Adverse Events",
                                "SDTM CT 2024-03-29")
    assert rows["DM.SEX"][3] == "SDTM CT 2024-03-29"
    assert rows["DM.ARMNRS"][3] == "not in the loaded CT"           # the pinned release lacks C142179


def test_unknown_header_says_what_is_expected(tmp_path):
    path = tmp_path / "x.txt"
    path.write_text("Code\tName\n", encoding="utf-8")
    with pytest.raises(SpecError) as err:
        read_ct_file(path)
    assert "Codelist Code" in err.value.cause and err.value.row == 1
