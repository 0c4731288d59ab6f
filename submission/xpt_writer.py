"""Write one Dataset as a SAS XPORT v5 file: exact attributes, byte-identical reruns, never corrupt.

Why our own writer: the submission needs full control of lengths, labels and formats, and a file
whose bytes depend only on the data (pyreadstat stamps the wall-clock time into the header).
Every v5 limit is checked before a byte reaches the final path: the file is written to a temp file
in the same folder and moved into place with ``os.replace``.

Memory: every column is checked whole first (the same errors in the same order), then the observations
are encoded and written in blocks of ``CHUNK_ROWS`` rows, so a dataset's encoded bytes (526 MB for ADLB
at 10,000 subjects) are never held at once: one block is.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from trialforge.specs.metadata import CHAR, NUM, Dataset
from trialforge.submission import xpt_layout as lay
from trialforge.submission.arrow_text import byte_lengths, narrow_codes, text_codes
from trialforge.submission.atomic_file import write_atomically
from trialforge.submission.xpt_ibm import ibm_unrepresentable, ieee_to_ibm
from trialforge.submission.xpt_layout import XptWriteError

#: Header timestamp when neither ``created`` nor SOURCE_DATE_EPOCH is given: never the clock.
DEFAULT_CREATED = datetime(2000, 1, 1, 0, 0, 0)
#: Rows encoded per block: bounds memory for million-row datasets without per-row Python.
CHUNK_ROWS = 100_000
#: pandas.api.types.infer_dtype kinds a numeric variable accepts from an object column.
_NUMBER_KINDS = {"integer", "floating", "mixed-integer-float", "decimal", "boolean", "empty"}


@dataclass(frozen=True)
class _Column:
    """One variable as it will be written."""

    name: str
    label: str
    type: str
    length: int
    format: lay.SasFormat
    position: int
    encode: Callable[[int, int], np.ndarray] = field(repr=False)   # rows start..stop -> (rows, length) uint8


def write_xpt(dataset: Dataset, path, *, created: datetime | None = None) -> None:
    """Write ``dataset`` as a one-member XPT v5 file at ``path`` (atomically).

    Attributes come from ``dataset.meta`` (member name upper-cased, dataset label, per-variable
    label/type/length/format); a frame column without metadata is numeric if its dtype is
    numeric, else character, with an empty label. Character length is the metadata length or the
    longest value (minimum 1); numerics are 8-byte IBM doubles, NaN/NA written as SAS missing '.'.
    Header timestamps come from ``created``, else SOURCE_DATE_EPOCH, else 2000-01-01T00:00:00.
    Raises XptWriteError naming dataset, variable, row (1-based) and value for any v5 violation.
    """
    path = Path(path)
    member = str(dataset.meta.name).upper()
    where = _Where(member, path)
    member_b = _check_member(dataset, where)
    label_b = _ascii(dataset.meta.label or "", where, "dataset label", limit=lay.MAX_LABEL)
    columns = _plan_columns(dataset, where)
    stamp = lay.sas_timestamp(_created(created))

    head = (lay.library_header(stamp) + lay.member_header(member_b, label_b, stamp)
            + lay.namestr_header(len(columns)) + lay.blank_pad(_namestrs(columns))
            + lay.obs_header())
    row_length = sum(c.length for c in columns)
    _check_last_row_readable(columns, len(dataset.frame), row_length, where)
    write_atomically(path, head, _observation_blocks(len(dataset.frame), columns, row_length))


# --------------------------------------------------------------------------- metadata checks

@dataclass(frozen=True)
class _Where:
    dataset: str
    path: Path

    def error(self, cause: str, *, column=None, row=None, value=None) -> XptWriteError:
        return XptWriteError(f"XPT {self.dataset}: {cause}", file=self.path, column=column,
                             row=row, value=value)


def _ascii(text: str, where: _Where, what: str, *, limit: int, column=None) -> bytes:
    try:
        raw = str(text).encode("ascii")
    except UnicodeEncodeError:
        raise where.error(f"{what} is not ASCII", column=column, value=text) from None
    if len(raw) > limit:
        raise where.error(f"{what} longer than {limit} bytes", column=column, value=text)
    return raw


def _check_member(dataset: Dataset, where: _Where) -> bytes:
    name = str(dataset.meta.name).upper()
    if not lay.is_sas_name(name):
        raise where.error(f"dataset name must be a SAS name of at most {lay.MAX_NAME} characters",
                          value=dataset.meta.name)
    return name.encode("ascii")


def _plan_columns(dataset: Dataset, where: _Where) -> list[_Column]:
    """Attributes and encoded bytes of every frame column, in frame order."""
    frame = dataset.frame
    if frame.shape[1] > lay.MAX_VARIABLES:
        raise where.error(f"more than {lay.MAX_VARIABLES} variables", value=frame.shape[1])
    duplicated = frame.columns[frame.columns.duplicated()]
    if len(duplicated):
        raise where.error("duplicate column in the frame", column=duplicated[0], value=duplicated[0])
    seen: set[str] = set()
    columns: list[_Column] = []
    position = 0
    for name in frame.columns:
        if not isinstance(name, str) or not lay.is_sas_name(name):
            raise where.error(f"variable name must be a SAS name of at most {lay.MAX_NAME} "
                              "ASCII characters (letter or _ first)", column=name, value=name)
        if name.upper() in seen:
            raise where.error("duplicate variable name (SAS names ignore case)", column=name, value=name)
        seen.add(name.upper())
        meta = dataset.meta.variable(name)
        series = frame[name]
        if pd.api.types.is_datetime64_any_dtype(series) or isinstance(series.dtype, pd.PeriodDtype):
            raise where.error("date/time column must be converted to SAS date/datetime numbers "
                              "before writing XPT", column=name)
        vtype = meta.type if meta is not None else (NUM if _is_numeric(series) else CHAR)
        if vtype not in (CHAR, NUM):
            raise where.error(f"variable type must be {CHAR!r} or {NUM!r}", column=name, value=vtype)
        label = meta.label if meta is not None and meta.label else ""
        _ascii(label, where, "variable label", limit=lay.MAX_LABEL, column=name)
        try:
            fmt = lay.parse_format(meta.format if meta is not None else None)
        except ValueError as exc:
            raise where.error(str(exc), column=name, value=meta.format) from None
        if vtype == NUM:
            encode, length = _numeric_bytes(series, name, where), 8
        else:
            declared = meta.length if meta is not None and meta.length else None
            if declared is not None and not 1 <= declared <= lay.MAX_CHAR_LENGTH:
                raise where.error(f"character length must be 1..{lay.MAX_CHAR_LENGTH} bytes",
                                  column=name, value=declared)
            encode, length = _char_bytes(series, name, declared, where)
        columns.append(_Column(name, label, vtype, length, fmt, position, encode))
        position += length
    return columns


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series.dtype)


def _check_last_row_readable(columns: list[_Column], n: int, row_length: int, where: _Where) -> None:
    """Refuse a file whose last row readers would take for record padding.

    The format has no row count: a last row that is entirely blanks (all-character variables,
    all values missing) and fits inside the blank padding of the final 80-byte record is dropped
    by every reader (SAS included). Writing it would silently lose the row.
    """
    if n == 0 or row_length + (-(n * row_length) % lay.RECORD) >= lay.RECORD:
        return
    if all(col.type == CHAR and (col.encode(n - 1, n) == 0x20).all() for col in columns):
        raise where.error("last row is entirely blank: XPT readers cannot tell it from record "
                          "padding (drop or fill the row)", row=n)


def _namestrs(columns: list[_Column]) -> bytes:
    recs = np.zeros(len(columns), dtype=lay.NAMESTR_DTYPE)
    for i, col in enumerate(columns):
        recs[i] = (
            lay.NUM_TYPE if col.type == NUM else lay.CHAR_TYPE, 0, col.length, i + 1,
            lay.field(col.name, 8), lay.field(col.label, 40), lay.field(col.format.name, 8),
            col.format.width, col.format.decimals, 0, b"\0\0",
            lay.field("", 8), 0, 0, col.position, b"", 0, b"",
        )
    return recs.tobytes()


def _created(created: datetime | None) -> datetime:
    if created is not None:
        return created
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        try:
            return datetime.fromtimestamp(int(epoch), tz=timezone.utc)
        except (ValueError, OverflowError, OSError):
            raise XptWriteError("SOURCE_DATE_EPOCH must be an integer number of seconds",
                                value=epoch) from None
    return DEFAULT_CREATED


# --------------------------------------------------------------------------- observations

def _observation_blocks(n: int, columns: list[_Column], row_length: int):
    """Yield the observation bytes in blocks of rows, then the blank padding to 80.

    A block is a record array with one fixed-width field per variable: each column's rows are encoded
    for the block and copied in as whole values (one memcpy per cell, not per byte), and the block
    goes to the file as it is."""
    layout = np.dtype({"names": [f"v{i}" for i in range(len(columns))],
                       "formats": [f"V{col.length}" for col in columns],
                       "offsets": [col.position for col in columns], "itemsize": row_length})
    for start in range(0, n, CHUNK_ROWS):
        stop = min(n, start + CHUNK_ROWS)
        block = np.empty(stop - start, dtype=layout)
        for i, col in enumerate(columns):
            block[f"v{i}"] = np.ascontiguousarray(col.encode(start, stop)).view(f"V{col.length}").ravel()
        yield memoryview(block).cast("B")
    yield b" " * (-(n * row_length) % lay.RECORD)


def _numeric_bytes(series: pd.Series, name: str, where: _Where) -> Callable[[int, int], np.ndarray]:
    """The column checked whole, then its encoder: rows start..stop as IBM doubles, (rows, 8) uint8;
    NaN/NA -> SAS missing '.'. Text is refused, even "1"."""
    numbers = pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.infer_dtype(
        series, skipna=True) in _NUMBER_KINDS
    try:
        values = series.to_numpy(dtype=np.float64, na_value=np.nan) if numbers else None
    except (TypeError, ValueError):
        values = None
    if values is None:
        objects = series.to_numpy(dtype=object)
        i = next((i for i, v in enumerate(objects)
                  if not (pd.isna(v) or isinstance(v, (int, float, np.number)))), 0)
        raise where.error("non-numeric value in a numeric variable", column=name,
                          row=i + 1, value=objects[i])
    coded = _distinct_doubles(values)
    if coded is not None:                       # the checks and the conversion once per distinct value
        codes, distinct = coded
        wrong = ibm_unrepresentable(distinct)
        bad = np.flatnonzero(wrong[codes]) if wrong.any() else ()
    else:
        bad = np.flatnonzero(ibm_unrepresentable(values))
    if len(bad):
        i = int(bad[0])
        raise where.error("numeric value outside the IBM double range (|x| < 7.2E75, finite)",
                          column=name, row=i + 1, value=values[i])
    if coded is None:
        return lambda start, stop: ieee_to_ibm(values[start:stop])
    table = ieee_to_ibm(distinct).view("V8").ravel()        # one whole IBM double per distinct value
    return lambda start, stop: np.take(table, codes[start:stop]).view(np.uint8).reshape(-1, 8)


#: A column is coded by its distinct doubles when it has at most this share of distinct values per row,
#: and this many rows at least (below it the per-row passes' temporaries stay small and cost less than the
#: hashing: 0.2-0.4 ms either way at 4,000-16,000 rows, 1.9 against 0.8 ms at 20,000).
DISTINCT_SHARE = 0.5
DISTINCT_MIN_ROWS = 16_384


def _distinct_doubles(values: np.ndarray):
    """(codes, distinct) of a float64 column by bit pattern (``values[i]`` is ``distinct[codes[i]]`` bit for
    bit: -0.0 and each NaN kept as they are), or None when most rows are distinct. Why: ``ieee_to_ibm`` is
    ~20 array passes (~90 ns per value: 0.34 s for the 3.8 M numbers at 1,000 subjects), and a column mostly
    repeats a few values (sequence numbers, days, visits, results); hashing the bits is ~10 ns per row and
    every distinct value is then converted once."""
    if len(values) < DISTINCT_MIN_ROWS:
        return None
    codes, bits = pd.factorize(values.view(np.int64))
    if len(bits) > DISTINCT_SHARE * len(values):
        return None
    return narrow_codes(codes), np.asarray(bits, dtype=np.int64).view(np.float64)


def _char_bytes(series: pd.Series, name: str, declared: int | None,
                where: _Where) -> tuple[Callable[[int, int], np.ndarray], int]:
    """(encoder, length) of a checked text column: rows start..stop as blank-padded fixed-width ASCII,
    (rows, length) uint8; missing -> blanks.

    length = ``declared`` or the longest value (minimum 1). Text that is not Arrow-backed (the Arrow
    path encodes block by block) is encoded whole here: it goes through numpy's fixed-width
    unicode arrays in blocks of rows: code points > 127 locate non-ASCII values, and the ASCII
    code points *are* the bytes, so encoding is one ``astype(uint8)``.
    """
    n = len(series)
    fast = _arrow_char_bytes(series, name, declared, where)
    if fast is not None:
        return fast
    if isinstance(series.dtype, pd.CategoricalDtype):
        series = series.astype(object)
    if pd.api.types.infer_dtype(series, skipna=True) not in ("string", "empty"):
        values = series.to_numpy(dtype=object)
        i = next((i for i, v in enumerate(values) if not (isinstance(v, str) or pd.isna(v))), 0)
        raise where.error("non-text value in a character variable", column=name, row=i + 1,
                          value=values[i])
    objects = series.to_numpy(dtype=object, na_value="")
    blocks, longest = [], 0
    for start in range(0, n, CHUNK_ROWS):
        text = np.asarray(objects[start:start + CHUNK_ROWS], dtype=str)
        codes = text.view(np.uint32).reshape(len(text), -1)
        non_ascii = (codes > 127).any(axis=1)
        if non_ascii.any():
            i = int(np.argmax(non_ascii))
            raise where.error("non-ASCII character (XPT v5 allows ASCII only; study.yaml "
                              "'ascii: transliterate' converts typographic characters)", column=name,
                              row=start + i + 1, value=str(text[i]))
        lengths = np.strings.str_len(text)
        limit = declared if declared is not None else lay.MAX_CHAR_LENGTH
        too_long = lengths > limit
        if too_long.any():
            i = int(np.argmax(too_long))
            what = f"the variable length {declared}" if declared is not None else \
                f"{lay.MAX_CHAR_LENGTH} bytes (XPT v5 limit)"
            raise where.error(f"value longer than {what}", column=name, row=start + i + 1,
                              value=str(text[i]))
        longest = max(longest, int(lengths.max(initial=0)))
        blocks.append(codes.astype(np.uint8))
    width = declared if declared is not None else max(1, longest)
    out = np.full((n, width), 0x20, dtype=np.uint8)
    start = 0
    for block in blocks:
        used = min(width, block.shape[1])
        out[start:start + len(block), :used] = block[:, :used]
        start += len(block)
    out[out == 0] = 0x20            # fixed-width unicode pads with NUL; XPT pads with blanks
    return (lambda start, stop: out[start:stop]), width


def _arrow_char_bytes(series: pd.Series, name: str, declared: int | None, where: _Where):
    """``_char_bytes`` for Arrow text, on its distinct values (``text_codes``, shared with the Dataset-JSON
    and define.xml writers): the ASCII test, byte lengths and blank padding once per distinct value, then
    each block's rows taken from the padded values by code. None when the column is not Arrow text or
    holds a NUL (numpy's text arrays treat NUL as padding: that path keeps its exact bytes)."""
    found = text_codes(series)
    if found is None:
        return None
    values = found.dictionary                   # distinct, no nulls; code found.missing: a missing value
    data = _text_bytes(values) if len(values) else np.zeros(0, np.uint8)
    if not data.all():                          # a NUL somewhere
        return None
    limit = declared if declared is not None else lay.MAX_CHAR_LENGTH
    lengths = byte_lengths(values)
    non_ascii = (~pc.string_is_ascii(values).to_numpy(zero_copy_only=False) if (data >= 0x80).any()
                 else np.zeros(len(values), dtype=bool))
    too_long = lengths > limit
    if (non_ascii | too_long).any():
        _refuse_text(found, np.append(non_ascii, False), np.append(too_long, False), name, declared, where)
    width = declared if declared is not None else max(1, int(lengths.max(initial=0)))
    codes = found.codes
    if len(values) > CHUNK_ROWS:                # many distinct values: pad each block's rows (bounded memory)
        with_blank = pa.concat_arrays([values, pa.array([""], values.type)])
        return (lambda start, stop: _padded_bytes(with_blank.take(pa.array(codes[start:stop])), width)), width
    table = np.vstack([_padded_bytes(values, width), np.full((1, width), 0x20, dtype=np.uint8)])
    whole = table.view(f"V{width}").ravel()     # one item per value: np.take copies whole values
    return (lambda start, stop: np.take(whole, codes[start:stop]).view(np.uint8).reshape(-1, width)), width


def _refuse_text(found, non_ascii, too_long, name: str, declared: int | None, where: _Where):
    """Raise for the first bad row in the sequential order: the first block with a problem, and in it
    non-ASCII first (``non_ascii``/``too_long``: per code, the missing code last)."""
    non_ascii, too_long = non_ascii[found.codes], too_long[found.codes]
    bad = np.flatnonzero(non_ascii | too_long)
    start = bad[0] // CHUNK_ROWS * CHUNK_ROWS
    block = slice(start, start + CHUNK_ROWS)
    if non_ascii[block].any():
        i = start + int(np.argmax(non_ascii[block]))
        raise where.error("non-ASCII character (XPT v5 allows ASCII only; study.yaml "
                          "'ascii: transliterate' converts typographic characters)", column=name,
                          row=i + 1, value=found.dictionary[int(found.codes[i])].as_py())
    i = start + int(np.argmax(too_long[block]))
    what = f"the variable length {declared}" if declared is not None else \
        f"{lay.MAX_CHAR_LENGTH} bytes (XPT v5 limit)"
    raise where.error(f"value longer than {what}", column=name, row=i + 1,
                      value=found.dictionary[int(found.codes[i])].as_py())


def _padded_bytes(arr: pa.Array, width: int) -> np.ndarray:
    """Checked ASCII text (nulls as blanks) padded to ``width`` bytes, as (rows, width) uint8."""
    n = len(arr)
    if n == 0:
        return np.full((0, width), 0x20, dtype=np.uint8)
    filled = arr if arr.null_count == 0 else pc.fill_null(arr, "")
    padded = pc.ascii_rpad(filled, width=width, padding=" ")   # width bytes per value
    offsets = np.frombuffer(padded.buffers()[1], dtype=np.int64 if pa.types.is_large_string(padded.type)
                            else np.int32)
    first = int(offsets[padded.offset])
    data = np.frombuffer(padded.buffers()[2], dtype=np.uint8)[first:first + n * width]
    return data.reshape(n, width)


def _text_bytes(arr: pa.Array) -> np.ndarray:
    """The bytes of every value of a (large) string array, back to back."""
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64 if pa.types.is_large_string(arr.type) else np.int32)
    start, stop = int(offsets[arr.offset]), int(offsets[arr.offset + len(arr)])
    data = arr.buffers()[2]
    return np.frombuffer(data, dtype=np.uint8)[start:stop] if data is not None else np.zeros(0, np.uint8)
