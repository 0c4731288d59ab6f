"""A mapping authored as an Excel sheet (one row per target variable) becomes the YAML spec; `spec --to-yaml` shows it."""
from __future__ import annotations

import textwrap

import openpyxl
import pytest
from click.testing import CliRunner

from trialforge.cli import main
from trialforge.errors import SpecError
from trialforge.sdtm.engine import build_sdtm
from trialforge.specs.mapping_sheet import mapping_specs
from trialforge.specs.study import load_study

MAPPING = [
    ("Dataset", "Variable", "Rule", "Source", "Arguments", "Condition"),
    ("AE", "STUDYID", "constant", "${study.id}", "", ""),
    ("AE", "DOMAIN", "constant", "AE", "", ""),
    ("AE", "USUBJID", "template", "{STUDYID}-{SITE}-{PATNO}", "", ""),
    ("AE", "AESEQ", "seq", "", "", ""),
    ("AE", "AETERM", "from", "TERM", "", ""),
    ("AE", "AEDECOD", "", "PT", "", ""),
    ("AE", "AESEV", "from", "SEV", "ct: AESEV", ""),
    ("AE", "AESER", "constant", "Y", "", "SERIOUS == 'Yes'"),
    ("AE", "AESER", "constant", "N", "", ""),
    ("AE", "AESTDTC", "datetime", "STDAT", "time: STTIM, format: DD MON YYYY", ""),
    ("AE", "AESTDY", "study_day", "AESTDTC", "", ""),
    ("AE", "SUPP.AECRSGR", "from", "CRSGR", "qlabel: ASTCT CRS Grade, map: {Grade 3: '3'}", ""),
]
SOURCES = [("Dataset", "Name", "File", "Filter", "Keys"),
           ("AE", "ae", "ae.csv", "TERM != ''", "STUDYID, USUBJID, AEDECOD, AESTDTC")]

EXPECTED = textwrap.dedent("""\
    domain: AE
    keys: [STUDYID, USUBJID, AEDECOD, AESTDTC]
    sources:
      ae: {file: ae.csv, filter: TERM != ''}
    variables:
      STUDYID: {constant: '${study.id}'}
      DOMAIN: {constant: AE}
      USUBJID: {template: '{STUDYID}-{SITE}-{PATNO}'}
      AESEQ: {seq: true}
      AETERM: {from: TERM}
      AEDECOD: {from: PT}
      AESEV: {from: SEV, ct: AESEV}
      AESER: {when: [{if: SERIOUS == 'Yes', then: Y}], else: N}
      AESTDTC: {datetime: {date: STDAT, time: STTIM, format: DD MON YYYY}}
      AESTDY: {study_day: AESTDTC}
    supp:
      - {qnam: AECRSGR, from: CRSGR, qlabel: ASTCT CRS Grade, map: {Grade 3: '3'}}
    """)


def workbook(path, mapping=MAPPING, sources=SOURCES):
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in (("Mapping", mapping), ("Sources", sources)):
        ws = book.create_sheet(name)
        for row in rows:
            ws.append(list(row))
    book.save(path)
    return path


def test_spec_to_yaml_prints_the_yaml_spec(tmp_path):
    path = workbook(tmp_path / "mapping.xlsx")
    result = CliRunner().invoke(main, ["spec", "AE", "--to-yaml", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output == EXPECTED


def test_converted_spec_maps_like_the_hand_written_one(mini_study, tmp_path):
    path = workbook(tmp_path / "mapping.xlsx")
    text = CliRunner().invoke(main, ["spec", "AE", "--to-yaml", str(path)]).output
    (mini_study / "specs" / "ae.yaml").write_text(text)
    out = build_sdtm(load_study(mini_study))
    ae = out["AE"].frame
    assert ae[["AETERM", "AESEV", "AESER", "AESTDTC"]].values.tolist() == [
        ["CRS", "SEVERE", "Y", "2025-01"], ["fever", "MILD", "N", "2025-01-11T08:30"],
        ["headache", "MODERATE", "N", "2025-01-05"]]
    assert ae.AESTDY.isna().tolist() == [True, False, False] and ae.AESTDY.tolist()[1:] == [2.0, -7.0]
    assert out["SUPPAE"].frame.QVAL.tolist() == ["3"]


def test_unknown_rule_kind_names_sheet_row_and_valid_kinds(tmp_path):
    rows = MAPPING[:5] + [("AE", "AETERM", "copy", "TERM", "", "")]
    path = workbook(tmp_path / "mapping.xlsx", rows)
    with pytest.raises(SpecError) as err:
        mapping_specs(path)
    assert err.value.row == 6 and err.value.value == "copy" and err.value.column == "Mapping!Rule"
    assert "datetime" in err.value.cause and "from" in err.value.cause


def test_bad_arguments_and_bad_modifier_name_the_row(tmp_path):
    path = workbook(tmp_path / "a.xlsx", MAPPING[:2] + [("AE", "DOMAIN", "constant", "AE", "ct: [", "")])
    with pytest.raises(SpecError) as err:
        mapping_specs(path)
    assert err.value.row == 3 and err.value.column == "Mapping!Arguments"
    path = workbook(tmp_path / "b.xlsx", MAPPING[:2] + [("AE", "DOMAIN", "constant", "AE", "colour: red", "")])
    with pytest.raises(SpecError) as err:
        mapping_specs(path)
    assert err.value.row == 3 and err.value.value == "colour"
