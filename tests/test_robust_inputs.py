"""Issue 10: inputs that used to be misread or misreported, each now read right or named where it breaks.

Raw CSV (encoding, delimiter, duplicated header, quoting) and XPT files cut short.
"""
from __future__ import annotations

import codecs

import pandas as pd
import pytest
from click.testing import CliRunner

from trialforge.cli import main
from trialforge.errors import DatasetReadError, RawDataError
from trialforge.sdtm.sources import read_raw
from trialforge.specs.metadata import CHAR, Dataset, DatasetMeta, VariableMeta
from trialforge.submission.xpt import read_xpt, write_xpt

HEADER = "SITE,PATNO,TERM,SEV"
ROWS = ["01,001,fever,Mild", "01,002,Patient\u2019s headache,Moderate", "02,001,rash,Severe"]
TEXT = "\n".join([HEADER, *ROWS]) + "\n"


def _raw(tmp_path, data: bytes, name="ae.csv"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


# ------------------------------------------------------------------------------------ encodings

@pytest.mark.parametrize("data", [
    codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"),         # Excel "Unicode text" / SAS UTF-16
    codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"),
    TEXT.encode("utf-16-le"),                               # no byte-order mark: recognised by its zero bytes
    codecs.BOM_UTF8 + TEXT.encode("utf-8"),
    TEXT.encode("cp1252"),                                  # Windows-1252 right quote
], ids=["utf16le-bom", "utf16be-bom", "utf16le", "utf8-bom", "cp1252"])
def test_encodings_read_to_the_same_text(tmp_path, data):
    frame = read_raw(_raw(tmp_path, data))
    assert list(frame.columns[:4]) == ["SITE", "PATNO", "TERM", "SEV"]
    assert frame["TERM"].tolist() == ["fever", "Patient\u2019s headache", "rash"]
    assert frame["_ROW"].tolist() == [2, 3, 4]


def test_undecodable_byte_under_a_declared_encoding_is_named_with_its_row(tmp_path):
    from trialforge.sdtm.raw_csv import read_csv_text
    path = _raw(tmp_path, TEXT.encode("cp1252"))
    with pytest.raises(RawDataError) as info:
        read_csv_text(path, "utf-8")
    assert info.value.row == 3 and "utf-8" in info.value.cause and "92" in info.value.cause


def test_an_excel_workbook_named_csv_is_named(tmp_path):
    with pytest.raises(RawDataError, match="Excel workbook"):
        read_raw(_raw(tmp_path, b"PK\x03\x04" + b"\0" * 100))


# ------------------------------------------------------------------------------ delimiter, header

@pytest.mark.parametrize("delim,name", [(";", "semicolon"), ("\t", "tab")])
def test_semicolon_and_tab_delimited_files_are_named(tmp_path, delim, name):
    path = _raw(tmp_path, TEXT.replace(",", delim).encode())
    with pytest.raises(RawDataError) as info:
        read_raw(path)
    err = info.value
    assert f"{name}-delimited" in err.cause and err.row == 1 and err.value == HEADER.replace(",", delim)
    assert err.file.endswith("ae.csv")


def test_duplicated_header_column_is_named(tmp_path):
    path = _raw(tmp_path, TEXT.replace("SEV", "TERM", 1).encode())
    with pytest.raises(RawDataError) as info:
        read_raw(path)
    assert info.value.column == "TERM" and info.value.row == 1 and "columns 3 and 4" in info.value.cause


# ------------------------------------------------------------------------------------- quoting

def test_unbalanced_quote_is_reported_where_it_opens(tmp_path):
    rows = [HEADER] + [f"01,{i:03},term {i},Mild" for i in range(1, 60)]
    rows[43] = '01,043,"Grade 2 headache,Mild'                    # line 44: the quote never closes
    path = _raw(tmp_path, ("\n".join(rows) + "\n").encode())
    with pytest.raises(RawDataError) as info:
        read_raw(path)
    err = info.value
    assert (err.row, err.column) == (44, "TERM") and err.value.startswith('"Grade 2 headache')
    assert "unbalanced quote" in err.cause


def test_quote_closing_on_a_later_line_is_reported_where_it_opens(tmp_path):
    rows = [HEADER] + [f"01,{i:03},term {i},Mild" for i in range(1, 20)]
    rows[5] = '01,005,"broken,Mild'
    rows[9] = '01,009,closes here",Mild'
    path = _raw(tmp_path, ("\n".join(rows) + "\n").encode())
    with pytest.raises(RawDataError) as info:
        read_raw(path)
    assert (info.value.row, info.value.column) == (6, "TERM")


def test_short_and_long_rows_are_named(tmp_path):
    path = _raw(tmp_path, (TEXT + "03,001,cough\n").encode())
    with pytest.raises(RawDataError) as info:
        read_raw(path)
    assert info.value.row == 5 and "3 fields, the header has 4" in info.value.cause


def test_a_quoted_value_over_two_lines_with_the_right_fields_is_data(tmp_path):
    path = _raw(tmp_path, (HEADER + '\n01,001,"two\nlines",Mild\n02,001,rash,Severe\n').encode())
    frame = read_raw(path)
    assert frame["TERM"].tolist() == ["two\nlines", "rash"]


# ------------------------------------------------------------------------------------ XPT cut short

def _xpt(tmp_path, n=245):
    meta = DatasetMeta("AE", "Adverse Events", variables=(
        VariableMeta("USUBJID", "Unique Subject Identifier", CHAR, 20),
        VariableMeta("AETERM", "Reported Term", CHAR, 50)))
    frame = pd.DataFrame({"USUBJID": [f"S-{i:018}" for i in range(n)],          # values fill the lengths:
                          "AETERM": [f"term {i:045}" for i in range(n)]})         # 70-byte observations
    path = tmp_path / "sdtm" / "ae.xpt"
    path.parent.mkdir()
    write_xpt(Dataset(meta, frame), path)
    return path


def test_xpt_cut_mid_record_is_a_named_error(tmp_path):
    path = _xpt(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2 + 37])
    with pytest.raises(DatasetReadError) as info:
        read_xpt(path)
    assert info.value.file == str(path) and "not a whole number of 80-byte records" in info.value.cause


def test_xpt_cut_inside_an_observation_on_a_record_boundary_is_a_named_error(tmp_path):
    path = _xpt(tmp_path)                   # 70-byte observations: a cut at 80-byte boundary splits one
    data = path.read_bytes()
    header_end = data.index(b"HEADER RECORD*******OBS") + 80
    cut = header_end + 80 * 100             # 8000 bytes = 114 observations and 20 bytes of the 115th
    path.write_bytes(data[:cut])
    with pytest.raises(DatasetReadError, match="cut short after 114 complete records"):
        read_xpt(path)


def test_validate_exits_2_naming_a_cut_xpt(tmp_path):
    path = _xpt(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[:-43])
    result = CliRunner().invoke(main, ["validate", str(path.parent)])
    assert result.exit_code == 2
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("error: ") and "ae.xpt: truncated XPT file" in last


def test_complete_xpt_still_reads_every_record(tmp_path):
    assert len(read_xpt(_xpt(tmp_path)).frame) == 245


# ------------------------------------------------------------------ study.yaml ascii: transliterate

def test_transliterate_spells_typographic_characters_in_ascii():
    from trialforge.submission.ascii import transliterate
    assert transliterate("Patient\u2019s \u201cbest\u201d response \u2013 see \u2026") == \
        "Patient's \"best\" response - see ..."
    assert transliterate("\u00b15 \u00b5g \u2014 \u2018a\u2019") == "+/-5 ug - 'a'"
    assert transliterate("caf\u00e9 na\u00efve") == "cafe naive"
    assert transliterate("\u65e5\u672c") == "\u65e5\u672c"               # no ASCII spelling: stays (refused later)


def _study_with_quote(mini_study, mode=None):
    from conftest import add_trial_summary
    ae = mini_study / "raw" / "ae.csv"
    ae.write_text(ae.read_text().replace("headache,Headache", "patient\u2019s headache,Headache"), encoding="utf-8")
    if mode is not None:
        cfg = mini_study / "study.yaml"
        cfg.write_text(cfg.read_text() + f"ascii: {mode}\n")
    return add_trial_summary(mini_study, """
        - {TSPARMCD: SSTDTC, TSPARM: Study Start Date, TSVAL: "2025-01-01"}
    """)


def test_non_ascii_value_is_refused_and_named_by_default(mini_study, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["sdtm", str(_study_with_quote(mini_study)), "--out", str(out)])
    assert result.exit_code == 1 and "TF-XPT-002" in result.output and "patient\u2019s headache" in result.output
    assert not out.exists()


def test_ascii_transliterate_writes_ascii_and_warns_per_value(mini_study, tmp_path):
    import pyreadstat
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["sdtm", str(_study_with_quote(mini_study, "transliterate")), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "warning: transliterated to ASCII: AE.AETERM 'patient\u2019s headache' -> \"patient's headache\" " \
           "(1 record)" in result.output
    ae, _ = pyreadstat.read_xport(str(out / "sdtm" / "ae.xpt"))
    assert "patient's headache" in ae["AETERM"].tolist()


def test_ascii_key_with_an_unknown_mode_is_a_spec_error(mini_study, tmp_path):
    result = CliRunner().invoke(main, ["sdtm", str(_study_with_quote(mini_study, "yes")), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "study.yaml" in result.output and "column ascii" in result.output


def test_validate_names_a_cut_xpt_beside_readable_ones_as_tf_io_001(tmp_path):
    path = _xpt(tmp_path)
    good = path.read_bytes()
    meta = DatasetMeta("DM", "Demographics", variables=(VariableMeta("USUBJID", "Unique Subject Identifier", CHAR, 20),))
    write_xpt(Dataset(meta, pd.DataFrame({"USUBJID": ["S-1"]})), path.parent / "dm.xpt")
    path.write_bytes(good[:-43])
    result = CliRunner().invoke(main, ["validate", str(path.parent)])
    assert result.exit_code == 1
    assert "TF-IO-001" in result.output and "truncated XPT file" in result.output
