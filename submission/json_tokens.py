"""JSON text of a column's values, computed once per distinct value, and rows joined in Arrow.

Why: a Dataset-JSON file is mostly repeated values (a USUBJID, a test code, a unit) laid out one row
per line. Encoding every cell through ``json.dumps`` costs microseconds per cell; here each column is
factorised, each distinct value encoded once with the *same* functions ``json.dumps`` uses
(``encode_basestring``, ``int.__repr__``, ``float.__repr__``), and Arrow's element-wise join builds
the rows, so the bytes equal ``json.dumps(row, ensure_ascii=False, separators=(",", ":"))``.
"""
from __future__ import annotations

from json.encoder import encode_basestring

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .arrow_text import narrow_codes, text_codes

NULL = "null"


def as_codes(codes) -> np.ndarray:
    """Row codes (>= 0) in the narrowest of uint8, uint16 and int32 that holds them: every column's codes
    are held while a dataset's rows are written (``arrow_text.narrow_codes``)."""
    return narrow_codes(codes)


def string_tokens(col: pd.Series) -> tuple[np.ndarray, pa.Array]:
    """(codes, tokens) of a text column: missing (None, NaN, NA) as '""', others as JSON strings of str(v)."""
    found = text_codes(col)                             # shared with the XPT and define.xml writers
    if found is not None:                               # a missing value's code is len(words): '""' below
        words = found.dictionary.to_pylist()
        return found.codes, pa.array([encode_basestring(w) for w in words] + ['""'], pa.string())
    text = ["" if v is None or (isinstance(v, float) and v != v) or v is pd.NA else str(v) for v in col.tolist()]
    codes, words = pd.factorize(pd.Series(text, dtype=object))
    return as_codes(codes), pa.array([encode_basestring(w) for w in words], pa.string())


def number_tokens(nums: pd.Series, integer: bool) -> tuple[np.ndarray, pa.Array] | None:
    """(codes, tokens) of a numeric column: ``int(v)`` or ``float(v)`` as JSON, missing as null.

    None for a dtype this fast path does not cover (the caller encodes cell by cell).
    """
    dtype = nums.dtype
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        values = nums.to_numpy(dtype=np.float64)
        codes, bits = pd.factorize(values.view(np.int64))          # by bit pattern: -0.0 stays -0.0
        uniques = np.asarray(bits, dtype=np.int64).view(np.float64)
        words = [NULL if u != u else (str(int(u)) if integer else repr(float(u))) for u in uniques.tolist()]
    elif isinstance(dtype, np.dtype) and dtype.kind in "iu":
        codes, uniques = pd.factorize(nums.to_numpy())
        words = [str(int(u)) if integer else repr(float(u)) for u in uniques.tolist()]
    else:
        return None
    return as_codes(codes), pa.array(words, pa.string())


def cell_tokens(values: list, dump) -> tuple[np.ndarray, pa.Array]:
    """(codes, tokens) of Python values encoded one by one with ``dump`` (the slow, general path)."""
    words = [dump(v) for v in values]
    codes, uniques = pd.factorize(pd.Series(words, dtype=object))
    return as_codes(codes), pa.array(list(uniques), pa.string())


def take(codes: np.ndarray, tokens: pa.Array, start: int, stop: int) -> pa.Array:
    """The tokens of rows start..stop (codes of -1, pandas' missing, never occur: missing has a token)."""
    return tokens.take(pa.array(codes[start:stop]))


def framed(columns: list[tuple[np.ndarray, pa.Array]]) -> list[tuple[np.ndarray, pa.Array]]:
    """The columns with "[" before every token of the first and "],\\n" after every token of the last:
    the row's brackets cost one pass over the distinct values, not one over the rows."""
    if not columns:
        return columns
    out = list(columns)
    codes, tokens = out[0]
    out[0] = (codes, pc.binary_join_element_wise("[", tokens, ""))
    codes, tokens = out[-1]
    out[-1] = (codes, pc.binary_join_element_wise(tokens, "],\n", ""))
    return out


def rows_bytes(columns: list[pa.Array]) -> memoryview:
    """'[a,b,c],\\n' per row, back to back, as one buffer, from ``framed`` columns (>= 1, same length)."""
    rows = pc.binary_join_element_wise(*columns, ",") if len(columns) > 1 else columns[0]
    if isinstance(rows, pa.ChunkedArray):
        rows = rows.combine_chunks()
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int32 if pa.types.is_string(rows.type) else np.int64)
    start, stop = int(offsets[rows.offset]), int(offsets[rows.offset + len(rows)])
    return memoryview(rows.buffers()[2])[start:stop]
