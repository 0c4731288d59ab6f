"""XPT v5 codec: IBM doubles against hand-computed bytes, round trips through our reader AND
pyreadstat (independent), determinism, v5 limits, and pyreadstat-written files through our reader."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from trialforge.errors import DatasetReadError, TrialforgeError
from trialforge.specs.metadata import CHAR, NUM, Dataset, DatasetMeta, VariableMeta
from trialforge.submission import xpt_writer
from trialforge.submission.xpt import (
    XptWriteError, ibm_to_ieee, ieee_to_ibm, parse_format, read_xpt, read_xpt_folder, write_xpt,
)


# --------------------------------------------------------------------------- IBM doubles

# Hand-computed: value = sign * 0.F(hex) * 16**(exp - 64); first byte = sign bit | (exp + 64).
IBM_CASES = [
    (1.0, "41 10 00 00 00 00 00 00"),         # 0.1(hex) * 16**1
    (-1.0, "C1 10 00 00 00 00 00 00"),
    (0.5, "40 80 00 00 00 00 00 00"),         # 0.8(hex) * 16**0
    (100.0, "42 64 00 00 00 00 00 00"),       # 0x64 = 100 -> 0.64(hex) * 16**2
    (-118.625, "C2 76 A0 00 00 00 00 00"),    # 118.625 = 0x76.A
    (0.1, "40 19 99 99 99 99 99 9A"),         # IEEE 0x3FB999999999999A: mantissa 1999999999999A
    (0.0, "00 00 00 00 00 00 00 00"),
    (-0.0, "00 00 00 00 00 00 00 00"),
    (16.0 ** -65, "00 10 00 00 00 00 00 00"),  # smallest normalised IBM double
    (16.0 ** -66, "00 01 00 00 00 00 00 00"),  # below range: stored unnormalised
    (2.0 ** 251, "7F 80 00 00 00 00 00 00"),   # 0.8(hex) * 16**63
    (np.nan, "2E 00 00 00 00 00 00 00"),       # SAS missing '.'
]


def _hex(raw: np.ndarray) -> str:
    return " ".join(f"{b:02X}" for b in raw)


@pytest.mark.parametrize("value, expected", IBM_CASES)
def test_ieee_to_ibm_matches_hand_computed_bytes(value, expected):
    assert _hex(ieee_to_ibm(np.array([value]))[0]) == expected


@pytest.mark.parametrize("value, expected", [c for c in IBM_CASES if c[0] != 16.0 ** -66])
def test_ibm_to_ieee_inverts_hand_computed_bytes(value, expected):
    raw = np.frombuffer(bytes.fromhex(expected), dtype=np.uint8).reshape(1, 8)
    back = ibm_to_ieee(raw)[0]
    assert (np.isnan(back) and np.isnan(value)) or back == value


@pytest.mark.parametrize("first_byte", [0x2E, 0x41, 0x5A, 0x5F])   # ., .A, .Z, ._
def test_every_sas_missing_reads_as_nan(first_byte):
    raw = np.array([[first_byte, 0, 0, 0, 0, 0, 0, 0]], dtype=np.uint8)
    assert np.isnan(ibm_to_ieee(raw)[0])


def test_ibm_round_trip_is_exact_over_the_ibm_range():
    rng = np.random.default_rng(7)
    values = rng.uniform(-1, 1, 20_000) * 10.0 ** rng.integers(-70, 70, 20_000)
    assert np.array_equal(ibm_to_ieee(ieee_to_ibm(values)), values)


def test_truncated_numeric_lengths_read_as_prefix():
    # A length-4 numeric keeps the first 4 bytes: 100.0 survives, 0.1 loses its low bits.
    raw = ieee_to_ibm(np.array([100.0, 0.1]))[:, :4]
    back = ibm_to_ieee(raw)
    assert back[0] == 100.0
    assert back[1] == pytest.approx(0.1, rel=1e-6) and back[1] != 0.1


# --------------------------------------------------------------------------- formats

@pytest.mark.parametrize("text, name, width, decimals", [
    ("DATE9.", "DATE", 9, 0), ("DATETIME20.", "DATETIME", 20, 0), ("TIME8.", "TIME", 8, 0),
    ("8.2", "", 8, 2), ("$CHAR20.", "$CHAR", 20, 0), ("$20.", "$", 20, 0), ("BEST12.", "BEST", 12, 0),
    ("E8601DA10.", "E8601DA", 10, 0), ("yymmdd10.", "YYMMDD", 10, 0), ("BEST.", "BEST", 0, 0),
])
def test_parse_format(text, name, width, decimals):
    fmt = parse_format(text)
    assert (fmt.name, fmt.width, fmt.decimals) == (name, width, decimals)
    assert str(fmt) == text.upper()


@pytest.mark.parametrize("text", ["DATE9", "LONGFORMATNAME9.", "9.2.1", "DA TE9."])
def test_parse_format_rejects_non_formats(text):
    with pytest.raises(ValueError):
        parse_format(text)


# --------------------------------------------------------------------------- fixtures

def _adsl_like() -> Dataset:
    frame = pd.DataFrame({
        "STUDYID": ["CD70-001"] * 4,
        "USUBJID": ["CD70-001-01-001", "CD70-001-01-002", "CD70-001-02-003", "CD70-001-02-004"],
        "AGE": [54.0, 61.0, np.nan, 47.0],
        "SEX": ["M", "F", None, "F"],
        "TRTSDT": [22646.0, 22650.0, np.nan, 22700.0],      # SAS dates (days since 1960-01-01)
        "TRTSDTM": [1956614400.0, np.nan, 1956700800.5, 0.0],
        "DOSE": [1.5e6, -0.25, 1e-5, 123456789.125],
        "COMMENT": ["  leading kept", "trailing dropped   ", "", "x"],
        "NOMETA": [1, 2, 3, 4],
    })
    meta = DatasetMeta(
        name="adsl", label="Subject-Level Analysis Dataset",
        variables=(
            VariableMeta("STUDYID", "Study Identifier", CHAR, length=12),
            VariableMeta("USUBJID", "Unique Subject Identifier", CHAR),
            VariableMeta("AGE", "Age", NUM, format="8."),
            VariableMeta("SEX", "Sex", CHAR, length=1),
            VariableMeta("TRTSDT", "Date of First Exposure to Treatment", NUM, format="DATE9."),
            VariableMeta("TRTSDTM", "Datetime of First Exposure to Treatment", NUM, format="DATETIME20."),
            VariableMeta("DOSE", "Dose", NUM, format="12.3"),
            VariableMeta("COMMENT", "Comment", CHAR, length=40, format="$CHAR40."),
        ),
    )
    return Dataset(meta, frame)


EXPECTED = {  # what both readers must return for _adsl_like()
    "SEX": ["M", "F", "", "F"],
    "COMMENT": ["  leading kept", "trailing dropped", "", "x"],
}


@pytest.fixture
def written(tmp_path) -> Path:
    path = tmp_path / "adsl.xpt"
    write_xpt(_adsl_like(), path)
    return path


# --------------------------------------------------------------------------- round trips

def test_round_trip_through_our_reader(written):
    source = _adsl_like()
    back = read_xpt(written)
    assert back.meta.name == "ADSL"
    assert back.meta.label == "Subject-Level Analysis Dataset"
    assert list(back.frame.columns) == list(source.frame.columns)
    for col in ["STUDYID", "USUBJID"]:
        assert back.frame[col].tolist() == source.frame[col].tolist()
    for col, values in EXPECTED.items():
        assert back.frame[col].tolist() == values
    for col in ["AGE", "TRTSDT", "TRTSDTM", "DOSE", "NOMETA"]:
        np.testing.assert_array_equal(back.frame[col].to_numpy(float), source.frame[col].to_numpy(float))
    attrs = {v.name: (v.label, v.type, v.length, v.format) for v in back.meta.variables}
    assert attrs["STUDYID"] == ("Study Identifier", "Char", 12, None)
    assert attrs["USUBJID"] == ("Unique Subject Identifier", "Char", 15, None)   # longest value
    assert attrs["SEX"] == ("Sex", "Char", 1, None)
    assert attrs["TRTSDT"] == ("Date of First Exposure to Treatment", "Num", 8, "DATE9.")
    assert attrs["TRTSDTM"][3] == "DATETIME20."
    assert attrs["DOSE"][3] == "12.3"
    assert attrs["COMMENT"] == ("Comment", "Char", 40, "$CHAR40.")
    assert attrs["NOMETA"] == ("", "Num", 8, None)     # no metadata: numeric dtype -> Num


def test_round_trip_through_pyreadstat(written):
    source = _adsl_like()
    frame, meta = pyreadstat.read_xport(str(written), disable_datetime_conversion=True)
    assert meta.table_name == "ADSL"
    assert meta.file_label == "Subject-Level Analysis Dataset"
    assert list(frame.columns) == list(source.frame.columns)
    assert frame["USUBJID"].tolist() == source.frame["USUBJID"].tolist()
    for col, values in EXPECTED.items():
        assert frame[col].fillna("").tolist() == values
    for col in ["AGE", "TRTSDT", "TRTSDTM", "DOSE", "NOMETA"]:
        np.testing.assert_array_equal(frame[col].to_numpy(float), source.frame[col].to_numpy(float))
    assert meta.column_names_to_labels["TRTSDT"] == "Date of First Exposure to Treatment"
    # pyreadstat >= 1.3 reports a format with its terminating period ("DATE9."), older releases without it
    formats = {k: (v or "").rstrip(".") for k, v in meta.original_variable_types.items()}
    assert formats["TRTSDT"] == "DATE9"
    assert formats["TRTSDTM"] == "DATETIME20"
    assert formats["DOSE"] == "12.3"
    assert formats["COMMENT"] == "$CHAR40"
    assert meta.variable_storage_width["STUDYID"] == 12
    assert meta.variable_storage_width["USUBJID"] == 15
    assert meta.variable_storage_width["AGE"] == 8
    assert meta.readstat_variable_types["SEX"] == "string"
    assert meta.readstat_variable_types["NOMETA"] == "double"


def test_file_layout_is_80_byte_records_with_ts140_headers(written):
    data = written.read_bytes()
    assert len(data) % 80 == 0
    assert data[:80] == (b"HEADER RECORD*******LIBRARY HEADER RECORD!!!!!!!"
                         + b"0" * 30 + b"  ")
    assert data[80:120] == b"SAS     SAS     SASLIB  9.4     LINUX   "
    assert data[240:320] == (b"HEADER RECORD*******MEMBER  HEADER RECORD!!!!!!!"
                             + b"000000000000000001600000000140  ")
    assert data[400:424] == b"SAS     ADSL    SASDATA "
    assert data[560:640] == (b"HEADER RECORD*******NAMESTR HEADER RECORD!!!!!!!"
                             + b"0000000009" + b"0" * 20 + b"  ")
    obs = data.index(b"HEADER RECORD*******OBS     HEADER RECORD!!!!!!!")
    assert obs % 80 == 0 and obs == 640 + -(-9 * 140 // 80) * 80
    # first observation starts with STUDYID padded to 12, then USUBJID (15)
    assert data[obs + 80:obs + 80 + 27] == b"CD70-001    CD70-001-01-001"


@pytest.mark.parametrize("version", [5, 8])
def test_pyreadstat_written_file_reads_like_pyreadstat(tmp_path, version):
    frame = pd.DataFrame({
        "ID": ["a", "bb", "dddd", ""],
        "X": [1.25, np.nan, -3e10, 0.0],
        "DT": [0.0, 365.0, np.nan, -1.0],
    })
    path = tmp_path / "prs.xpt"
    pyreadstat.write_xport(frame, str(path), table_name="PRS", file_label="Written by pyreadstat",
                           column_labels=["Identifier", "Ex", "Date"],
                           variable_format={"DT": "DATE9", "X": "8.2"}, file_format_version=version)
    assert path.read_bytes()[20:25] == (b"LIBRA" if version == 5 else b"LIBV8")
    theirs, meta = pyreadstat.read_xport(str(path), disable_datetime_conversion=True)
    ours = read_xpt(path)
    assert ours.meta.name == meta.table_name == "PRS"
    assert ours.meta.label == meta.file_label
    assert ours.frame["ID"].tolist() == theirs["ID"].fillna("").tolist()
    for col in ["X", "DT"]:
        np.testing.assert_array_equal(ours.frame[col].to_numpy(float), theirs[col].to_numpy(float))
    for var in ours.meta.variables:
        assert var.label == meta.column_names_to_labels[var.name]
        assert var.length == meta.variable_storage_width[var.name]
        assert (var.format or "").rstrip(".") == (meta.original_variable_types[var.name] or "").rstrip(".")


def test_pyreadstat_v8_file_with_long_names_and_labels(tmp_path):
    frame = pd.DataFrame({"LONGVARIABLENAME": [1.0, 2.0], "S": ["a", "bb"]})
    long_label = "A label that is definitely longer than forty characters here"
    path = tmp_path / "v8.xpt"
    pyreadstat.write_xport(frame, str(path), file_format_version=8, table_name="LONGTABLENAME1",
                           column_labels=[long_label, "s"], file_label="lbl")
    ours = read_xpt(path)
    assert ours.meta.name == "LONGTABLENAME1"
    assert list(ours.frame.columns) == ["LONGVARIABLENAME", "S"]
    assert ours.meta.variable("LONGVARIABLENAME").label == long_label
    assert ours.frame["S"].tolist() == ["a", "bb"]
    assert ours.frame["LONGVARIABLENAME"].tolist() == [1.0, 2.0]


def test_v8_row_count_keeps_trailing_blank_rows(tmp_path):
    frame = pd.DataFrame({"SEX": ["M", "F", ""]})
    path = tmp_path / "v8.xpt"
    pyreadstat.write_xport(frame, str(path), file_format_version=8)
    assert read_xpt(path).frame["SEX"].tolist() == ["M", "F", ""]


def test_empty_dataset_writes_and_reads_back(tmp_path):
    source = _adsl_like()
    empty = Dataset(source.meta, source.frame.iloc[:0])
    path = tmp_path / "empty.xpt"
    write_xpt(empty, path)
    back = read_xpt(path)
    assert len(back.frame) == 0 and list(back.frame.columns) == list(source.frame.columns)
    assert back.meta.variable("USUBJID").length == 1           # no values: minimum length
    assert back.meta.variable("STUDYID").length == 12
    frame, meta = pyreadstat.read_xport(str(path))
    assert frame.shape == (0, 9) and meta.table_name == "ADSL"


def test_all_character_dataset_with_short_rows(tmp_path):
    # 3-byte rows: the last 80-byte record holds blank padding that must not read as rows.
    frame = pd.DataFrame({"A": ["x", "yy", "z"] * 7, "B": ["1", "", "3"] * 7})
    path = tmp_path / "short.xpt"
    write_xpt(Dataset(DatasetMeta("SHORT", "Short rows"), frame), path)
    back = read_xpt(path)
    assert back.frame["A"].tolist() == frame["A"].tolist()
    assert back.frame["B"].tolist() == frame["B"].tolist()
    theirs, _ = pyreadstat.read_xport(str(path))
    assert theirs["A"].tolist() == frame["A"].tolist()


def test_blocks_across_chunk_boundaries(tmp_path, monkeypatch):
    monkeypatch.setattr(xpt_writer, "CHUNK_ROWS", 3)
    n = 11
    frame = pd.DataFrame({"C": [f"v{i}" * (i % 4 + 1) for i in range(n)], "N": np.arange(n) / 7})
    path = tmp_path / "chunks.xpt"
    write_xpt(Dataset(DatasetMeta("CHUNKS", ""), frame), path)
    theirs, meta = pyreadstat.read_xport(str(path))
    assert theirs["C"].tolist() == frame["C"].tolist()
    np.testing.assert_array_equal(theirs["N"].to_numpy(), frame["N"].to_numpy())
    assert meta.variable_storage_width["C"] == max(len(v) for v in frame["C"])


def test_nullable_and_bool_columns(tmp_path):
    frame = pd.DataFrame({"I": pd.array([1, None, 3], dtype="Int64"),
                          "F": pd.array([0.5, None, 2.0], dtype="Float64"),
                          "S": pd.array(["a", None, "c"], dtype="string")})
    path = tmp_path / "nullable.xpt"
    write_xpt(Dataset(DatasetMeta("NULLS", ""), frame), path)
    theirs, meta = pyreadstat.read_xport(str(path))
    assert np.isnan(theirs["I"][1]) and theirs["I"][2] == 3.0
    assert np.isnan(theirs["F"][1]) and theirs["F"][0] == 0.5
    assert meta.readstat_variable_types["S"] == "string"
    assert read_xpt(path).frame["S"].tolist() == ["a", "", "c"]


# --------------------------------------------------------------------------- determinism

def test_two_writes_are_byte_identical(tmp_path):
    a, b = tmp_path / "a.xpt", tmp_path / "b.xpt"
    write_xpt(_adsl_like(), a)
    write_xpt(_adsl_like(), b)
    assert a.read_bytes() == b.read_bytes()


def _stamps(path: Path) -> list[bytes]:
    data = path.read_bytes()
    return [data[144:160], data[160:176], data[464:480], data[480:496]]   # created/modified x2


def test_created_timestamp_default_and_explicit(tmp_path, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    path = tmp_path / "t.xpt"
    write_xpt(_adsl_like(), path)
    assert _stamps(path) == [b"01JAN00:00:00:00"] * 4
    write_xpt(_adsl_like(), path, created=datetime(2024, 3, 5, 14, 7, 9))
    assert _stamps(path) == [b"05MAR24:14:07:09"] * 4
    _, meta = pyreadstat.read_xport(str(path), metadataonly=True)
    assert meta.creation_time == datetime(2024, 3, 5, 14, 7, 9)


def test_source_date_epoch(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(86400 + 3600 + 61))   # 1970-01-02T01:01:01Z
    path = tmp_path / "t.xpt"
    write_xpt(_adsl_like(), path)
    assert _stamps(path) == [b"02JAN70:01:01:01"] * 4


# --------------------------------------------------------------------------- limits

def _with(frame: pd.DataFrame, *variables: VariableMeta, name="AE", label="Adverse Events") -> Dataset:
    return Dataset(DatasetMeta(name, label, variables=variables), frame)


def _raises(dataset: Dataset, path: Path, **where) -> XptWriteError:
    with pytest.raises(XptWriteError) as info:
        write_xpt(dataset, path)
    err = info.value
    assert isinstance(err, TrialforgeError)
    assert dataset.meta.name.upper() in err.message
    for key, expected in where.items():
        assert getattr(err, key) == expected, (key, err.message)
    return err


def test_non_ascii_value_names_variable_row_and_value(tmp_path):
    frame = pd.DataFrame({"AETERM": ["HEADACHE", "NAUSEA", "Alzheimer’s"]})
    _raises(_with(frame), tmp_path / "ae.xpt", column="AETERM", row=3, value="Alzheimer’s")


def test_multibyte_value_is_rejected_not_truncated(tmp_path):
    frame = pd.DataFrame({"AETERM": ["OK", "Ödem"]})
    err = _raises(_with(frame, VariableMeta("AETERM", "Reported Term", CHAR, length=4)),
                  tmp_path / "ae.xpt", column="AETERM", row=2, value="Ödem")
    assert "ASCII" in err.message


def test_error_row_counts_across_blocks(tmp_path, monkeypatch):
    monkeypatch.setattr(xpt_writer, "CHUNK_ROWS", 5)
    frame = pd.DataFrame({"AETERM": ["A"] * 11 + ["é"]})
    _raises(_with(frame), tmp_path / "ae.xpt", column="AETERM", row=12)


def test_value_longer_than_declared_length(tmp_path):
    frame = pd.DataFrame({"AESEV": ["MILD", "MODERATE"]})
    _raises(_with(frame, VariableMeta("AESEV", "Severity", CHAR, length=5)), tmp_path / "ae.xpt",
            column="AESEV", row=2, value="MODERATE")


def test_character_value_over_200_bytes(tmp_path):
    frame = pd.DataFrame({"AETERM": ["x", "y" * 201]})
    _raises(_with(frame), tmp_path / "ae.xpt", column="AETERM", row=2)


def test_declared_length_over_200(tmp_path):
    frame = pd.DataFrame({"AETERM": ["x"]})
    _raises(_with(frame, VariableMeta("AETERM", "Term", CHAR, length=201)), tmp_path / "ae.xpt",
            column="AETERM", value=201)


@pytest.mark.parametrize("frame, variables, where", [
    (pd.DataFrame({"AELONGNAME": ["x"]}), (), dict(column="AELONGNAME")),
    (pd.DataFrame({"1AE": ["x"]}), (), dict(column="1AE")),
    (pd.DataFrame({"AETERM": ["x"]}), (VariableMeta("AETERM", "L" * 41),), dict(column="AETERM")),
    (pd.DataFrame({"AETERM": ["x"]}), (VariableMeta("AETERM", "Terme signalé"),), dict(column="AETERM")),
    (pd.DataFrame({"AESTDT": [1.0]}), (VariableMeta("AESTDT", "Start", NUM, format="DATE"),),
     dict(column="AESTDT")),
    (pd.DataFrame({"AETERM": ["x"], "aeterm": ["y"]}), (), dict(column="aeterm")),
    (pd.DataFrame([["x", "y"]], columns=["AETERM", "AETERM"]), (), dict(column="AETERM")),
])
def test_metadata_limits(tmp_path, frame, variables, where):
    _raises(_with(frame, *variables), tmp_path / "ae.xpt", **where)


def test_dataset_name_and_label_limits(tmp_path):
    frame = pd.DataFrame({"A": ["x"]})
    _raises(_with(frame, name="TOOLONGNAME"), tmp_path / "x.xpt", value="TOOLONGNAME")
    _raises(_with(frame, label="D" * 41), tmp_path / "x.xpt")


def test_numeric_out_of_ibm_range_and_non_numeric(tmp_path):
    frame = pd.DataFrame({"AVAL": [1.0, np.inf]})
    _raises(_with(frame), tmp_path / "x.xpt", column="AVAL", row=2)
    frame = pd.DataFrame({"AVAL": [1.0, 2.0, 1e76]})
    _raises(_with(frame), tmp_path / "x.xpt", column="AVAL", row=3)
    frame = pd.DataFrame({"AVAL": [1.5, "two"]}, dtype=object)
    _raises(_with(frame, VariableMeta("AVAL", "Value", NUM)), tmp_path / "x.xpt", column="AVAL",
            row=2, value="two")
    frame = pd.DataFrame({"AVAL": [None, "1"]})            # numeric-looking text is still text
    _raises(_with(frame, VariableMeta("AVAL", "Value", NUM)), tmp_path / "x.xpt", column="AVAL",
            row=2, value="1")
    frame = pd.DataFrame({"AVAL": [None, 2, 3.5]}, dtype=object)   # numbers in object: fine
    write_xpt(_with(frame, VariableMeta("AVAL", "Value", NUM)), tmp_path / "x.xpt")
    assert read_xpt(tmp_path / "x.xpt").frame["AVAL"].tolist()[1:] == [2.0, 3.5]


def test_non_text_in_character_variable(tmp_path):
    frame = pd.DataFrame({"AVALC": ["1", 2, "3"]}, dtype=object)
    _raises(_with(frame), tmp_path / "x.xpt", column="AVALC", row=2, value=2)


def test_failed_write_leaves_existing_file_and_no_temp(tmp_path):
    path = tmp_path / "ae.xpt"
    path.write_bytes(b"previous")
    with pytest.raises(XptWriteError):
        write_xpt(_with(pd.DataFrame({"AETERM": ["ok", "é"]})), path)
    assert path.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["ae.xpt"]


# --------------------------------------------------------------------------- reader

def test_reader_encodings(tmp_path):
    path = tmp_path / "enc.xpt"
    write_xpt(Dataset(DatasetMeta("ENC", ""), pd.DataFrame({"T": ["CAFE??"]})), path)
    data = path.read_bytes()
    cp1252 = data.replace(b"CAFE??", b"CAF\xe9\x92 ")
    utf8 = data.replace(b"CAFE??", b"CAF\xc3\xa9 ")
    (tmp_path / "a.xpt").write_bytes(cp1252)
    (tmp_path / "b.xpt").write_bytes(utf8)
    assert read_xpt(tmp_path / "a.xpt").frame["T"].tolist() == ["CAFé’"]
    assert read_xpt(tmp_path / "b.xpt").frame["T"].tolist() == ["CAFé"]
    assert read_xpt(tmp_path / "b.xpt", encoding="latin-1").frame["T"].tolist() == ["CAFÃ©"]


def test_reader_special_missing_values(tmp_path):
    path = tmp_path / "miss.xpt"
    write_xpt(Dataset(DatasetMeta("MISS", ""), pd.DataFrame({"X": [1.0, 2.0]})), path)
    data = path.read_bytes().replace(bytes.fromhex("4120000000000000"), bytes.fromhex("4100000000000000"))
    path.write_bytes(data)                                    # 2.0 -> .A
    ours = read_xpt(path).frame["X"].to_numpy()
    theirs = pyreadstat.read_xport(str(path))[0]["X"].to_numpy()
    assert ours[0] == theirs[0] == 1.0 and np.isnan(ours[1]) and np.isnan(theirs[1])


@pytest.mark.parametrize("content", [b"", b"not an xpt file at all" * 10, None])
def test_reader_rejects_non_xpt_and_truncated(tmp_path, written, content):
    path = tmp_path / "bad.xpt"
    path.write_bytes(written.read_bytes()[:700] if content is None else content)
    with pytest.raises(DatasetReadError) as info:
        read_xpt(path)
    assert info.value.file == str(path)


def test_reader_missing_file(tmp_path):
    with pytest.raises(DatasetReadError) as info:
        read_xpt(tmp_path / "nope.xpt")
    assert "nope.xpt" in info.value.message


def test_read_xpt_folder(tmp_path):
    frame = pd.DataFrame({"A": ["x"]})
    for name in ["ts", "ae", "dm"]:
        write_xpt(Dataset(DatasetMeta(name, ""), frame), tmp_path / f"{name}.xpt")
    (tmp_path / "notes.txt").write_text("ignored")
    found = read_xpt_folder(tmp_path)
    assert list(found) == ["AE", "DM", "TS"]
    assert found["DM"].meta.name == "DM"
    with pytest.raises(DatasetReadError):
        read_xpt_folder(tmp_path / "missing")


def test_character_values_are_blank_padded_and_missing_is_blank(tmp_path):
    frame = pd.DataFrame({"C": ["a", "bbb", None, ""], "N": [1.0, np.nan, 0.5, -1.0]})
    path = tmp_path / "pad.xpt"
    write_xpt(_with(frame, VariableMeta("C", "C", CHAR, length=4), name="PAD"), path)
    data = path.read_bytes()
    obs = data.index(b"HEADER RECORD*******OBS     ") + 80
    rows = [data[obs + i * 12:obs + (i + 1) * 12] for i in range(4)]
    assert rows == [b"a   " + bytes.fromhex("4110000000000000"),
                    b"bbb " + bytes.fromhex("2E00000000000000"),
                    b"    " + bytes.fromhex("4080000000000000"),
                    b"    " + bytes.fromhex("C110000000000000")]
    assert data[obs + 48:] == b" " * 32                    # blank padding to the 80-byte record


def test_categorical_text_column(tmp_path):
    frame = pd.DataFrame({"SEX": pd.Categorical(["M", None, "F"])})
    path = tmp_path / "cat.xpt"
    write_xpt(_with(frame, name="DM"), path)
    assert pyreadstat.read_xport(str(path))[0]["SEX"].fillna("").tolist() == ["M", "", "F"]


def test_trailing_blank_row_that_readers_would_drop_is_refused(tmp_path):
    # Row length 1: a blank last row sits inside the final record's blank padding, and
    # pyreadstat (like SAS) drops it, so writing it would lose a row.
    frame = pd.DataFrame({"SEX": ["M", "F", None]})
    path = tmp_path / "dm.xpt"
    _raises(_with(frame, name="DM"), path, row=3)
    pyreadstat.write_xport(frame.fillna(""), str(path), file_format_version=5)
    assert len(pyreadstat.read_xport(str(path))[0]) == 2      # the loss being prevented
    # with a numeric variable the row is not blank ('.' missing), so it is written
    frame["N"] = np.nan
    write_xpt(_with(frame, name="DM"), path)
    assert len(pyreadstat.read_xport(str(path))[0]) == 3


# ---- Arrow text columns take a kernel path; its bytes and errors equal the object-column path -------

def _text_dataset(values, dtype, length=None) -> Dataset:
    meta = DatasetMeta("TX", "Text", variables=(VariableMeta("A", "A", CHAR, length=length),
                                                VariableMeta("N", "N", NUM)))
    return Dataset(meta, pd.DataFrame({"A": pd.Series(values, dtype=dtype), "N": np.arange(len(values), dtype=float)}))


@pytest.mark.parametrize("length", [None, 12])
def test_arrow_text_bytes_equal_object_text_bytes(tmp_path, monkeypatch, length):
    values = ["abc", None, "", "  lead", "trail  ", "x" * 12, "a\x00b", "tab\tend"]
    monkeypatch.setattr(xpt_writer, "CHUNK_ROWS", 3)
    a, b = tmp_path / "a.xpt", tmp_path / "b.xpt"
    write_xpt(_text_dataset(values, "str", length), a)
    write_xpt(_text_dataset(values, object, length), b)
    assert a.read_bytes() == b.read_bytes()
    write_xpt(_text_dataset(values[:6], "str", length), a)         # no NUL: the Arrow kernels write it
    write_xpt(_text_dataset(values[:6], object, length), b)
    assert a.read_bytes() == b.read_bytes()
    assert read_xpt(a).frame["A"].tolist()[:3] == ["abc", "", ""]


@pytest.mark.parametrize("values,length,cause,row", [
    (["ok", "caf\u00e9", "y" * 30], 10, "non-ASCII", 2),      # same block: non-ASCII is named first
    (["y" * 30, "ok", "caf\u00e9"], 10, "non-ASCII", 3),
    (["ok", "ok", "y" * 30, "ok", "caf\u00e9"], 10, "longer than the variable length 10", 3),   # earlier block
    (["ok", "z" * 201], None, "200 bytes", 2)])
def test_arrow_text_errors_equal_object_text_errors(tmp_path, monkeypatch, values, length, cause, row):
    monkeypatch.setattr(xpt_writer, "CHUNK_ROWS", 3)
    found = []
    for dtype in ("str", object):
        with pytest.raises(XptWriteError) as err:
            write_xpt(_text_dataset(values, dtype, length), tmp_path / "x.xpt")
        found.append((err.value.cause, err.value.row, err.value.value))
    assert found[0] == found[1]
    assert cause in found[0][0] and found[0][1] == row


def test_streamed_blocks_check_every_column_whole_first(tmp_path, monkeypatch):
    """Rows are encoded block by block, but each column is checked whole before any block: a bad value in
    a later block of an earlier column is named before a bad value in the first block of a later column."""
    monkeypatch.setattr(xpt_writer, "CHUNK_ROWS", 3)
    frame = pd.DataFrame({"A": ["ok"] * 9 + ["y" * 30], "B": ["caf\u00e9"] + ["ok"] * 9})
    for dtype in ("str", object):
        meta = DatasetMeta("TX", "Text", variables=(VariableMeta("A", "A", CHAR, length=10),
                                                    VariableMeta("B", "B", CHAR, length=10)))
        with pytest.raises(XptWriteError) as err:
            write_xpt(Dataset(meta, frame.astype(dtype)), tmp_path / "x.xpt")
        assert (err.value.column, err.value.row) == ("A", 10)
    assert not list(tmp_path.iterdir())                           # nothing written, not even a temp file


@pytest.mark.parametrize("chunk", [1, 4, 7, 1000])
def test_streamed_blocks_equal_one_block(tmp_path, monkeypatch, chunk):
    """The file is the same whatever the block size (one block = every row encoded at once, as before)."""
    n = 23
    frame = pd.DataFrame({"C": pd.Series([None if i % 5 == 0 else f"v{i}" * (i % 3 + 1) for i in range(n)],
                                         dtype="str"),
                          "O": pd.Series([f"o{i}" for i in range(n)], dtype=object),
                          "N": np.where(np.arange(n) % 4 == 0, np.nan, np.arange(n) / 3)})
    ds = Dataset(DatasetMeta("BLK", "Blocks"), frame)
    monkeypatch.setattr(xpt_writer, "CHUNK_ROWS", 10 ** 6)
    write_xpt(ds, tmp_path / "one.xpt")
    monkeypatch.setattr(xpt_writer, "CHUNK_ROWS", chunk)
    write_xpt(ds, tmp_path / "many.xpt")
    assert (tmp_path / "one.xpt").read_bytes() == (tmp_path / "many.xpt").read_bytes()
    theirs, _ = pyreadstat.read_xport(str(tmp_path / "many.xpt"))
    assert theirs["C"].tolist() == frame["C"].fillna("").tolist()
    np.testing.assert_array_equal(theirs["N"].to_numpy(), frame["N"].to_numpy())


@pytest.mark.parametrize("chunk", [2, 1000])
@pytest.mark.parametrize("length", [None, 9])
def test_arrow_text_repeated_values_equal_object_text(tmp_path, monkeypatch, chunk, length):
    """Arrow text is padded once per distinct value and taken by code: with few distinct values (a table
    of them) and with more distinct values than a block's rows (padded per block), the bytes equal the
    object-column path's, whose padding is per row."""
    values = ["ab", None, "", "ab", "c d", None, "ab", "xyzxyzxyz"] * 5
    monkeypatch.setattr(xpt_writer, "CHUNK_ROWS", chunk)
    a, b = tmp_path / "a.xpt", tmp_path / "b.xpt"
    write_xpt(_text_dataset(values, "str", length), a)
    write_xpt(_text_dataset(values, object, length), b)
    assert a.read_bytes() == b.read_bytes()
    theirs, _ = pyreadstat.read_xport(str(a))
    assert theirs["A"].tolist() == ["" if v is None else v for v in values]


def test_numbers_coded_by_distinct_doubles_equal_the_per_row_conversion(tmp_path, monkeypatch):
    """A column that repeats its values is converted once per distinct double (bit pattern) and taken by
    code; the bytes equal ``ieee_to_ibm`` of every row (-0.0, NaN payloads, subnormals, the IBM underflow
    range, huge values), across blocks, and pyreadstat reads the numbers back."""
    monkeypatch.setattr(xpt_writer, "CHUNK_ROWS", 1000)
    monkeypatch.setattr(xpt_writer, "DISTINCT_MIN_ROWS", 100)
    rng = np.random.default_rng(370)
    special = np.array([0.0, -0.0, np.nan, 5e-324, 1e-80, 16.0 ** -65, -1e75, 7e75, 0.1, -2.5, 1 / 3])
    other_nan = np.array([0x7FF8000000000123], dtype=np.int64).view(np.float64)
    n = 3500
    repeated = np.concatenate([special, other_nan, rng.choice(special, n - len(special) - 1)])
    distinct = rng.standard_normal(n) * 1e6                       # mostly distinct: the per-row path
    frame = pd.DataFrame({"A": repeated, "B": distinct, "C": np.round(distinct / 1e6) * 7})
    ds = _with(frame, *(VariableMeta(c, c, NUM) for c in "ABC"))
    assert xpt_writer._distinct_doubles(frame["A"].to_numpy()) is not None
    assert xpt_writer._distinct_doubles(frame["B"].to_numpy()) is None
    where = xpt_writer._Where("AE", tmp_path / "x.xpt")
    for c in "ABC":
        encode = xpt_writer._numeric_bytes(frame[c], c, where)
        assert np.array_equal(encode(0, n), ieee_to_ibm(frame[c].to_numpy())), c
        assert np.array_equal(encode(1200, 2100), ieee_to_ibm(frame[c].to_numpy()[1200:2100])), c
    write_xpt(ds, tmp_path / "x.xpt")
    monkeypatch.setattr(xpt_writer, "DISTINCT_SHARE", -1.0)      # every column converted row by row
    write_xpt(ds, tmp_path / "rows.xpt")
    assert (tmp_path / "x.xpt").read_bytes() == (tmp_path / "rows.xpt").read_bytes()
    back, _meta = pyreadstat.read_xport(str(tmp_path / "x.xpt"))
    normal = (np.abs(repeated) > 1e-70) | (repeated == 0)
    np.testing.assert_array_equal(back["A"].to_numpy()[normal], repeated[normal])
    assert back["A"].isna().sum() == np.isnan(repeated).sum()
    np.testing.assert_array_equal(back["C"].to_numpy(), frame["C"].to_numpy())


def test_unrepresentable_number_in_a_coded_column_names_its_first_row(tmp_path, monkeypatch):
    monkeypatch.setattr(xpt_writer, "DISTINCT_MIN_ROWS", 100)
    values = np.tile([1.0, 2.0, 3.0], 100)
    assert xpt_writer._distinct_doubles(values) is not None
    values[[150, 40]] = [np.inf, 1e76]                            # row 41 comes first
    _raises(_with(pd.DataFrame({"AVAL": values})), tmp_path / "x.xpt", column="AVAL", row=41, value=1e76)
