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

from .arrow_text import narrow_codes, table_codes, text_codes

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
        if integer:
            found = _whole_number_tokens(values)
            if found is not None:
                return found
        codes, bits = pd.factorize(values.view(np.int64))          # by bit pattern: -0.0 stays -0.0
        uniques = np.asarray(bits, dtype=np.int64).view(np.float64)
        words = [NULL if u != u else (str(int(u)) if integer else repr(float(u))) for u in uniques.tolist()]
    elif isinstance(dtype, np.dtype) and dtype.kind in "iu":
        codes, uniques = pd.factorize(nums.to_numpy())
        words = [str(int(u)) if integer else repr(float(u)) for u in uniques.tolist()]
    else:
        return None
    return as_codes(codes), pa.array(words, pa.string())


#: Whole numbers spanning at most this many values (or one per row) are coded through a table of the span.
WHOLE_SPAN = 1 << 16


def _whole_number_tokens(values: np.ndarray) -> tuple[np.ndarray, pa.Array] | None:
    """(codes, tokens) of a column of whole numbers (and NaN) in a narrow span, without hashing (``span_codes``)
    and with the digits of ``str(int(v))`` from Arrow's integer to text cast (-0.0 reads "0", as ``int(-0.0)``
    does); null last. A sequence number, a study day, an age, a visit number. None when the span is wide (or
    reaches 2**53): the caller factorises."""
    found = span_codes(values)
    if found is None:
        return None
    codes, used = found
    if len(used) <= SMALL_CAST:                 # the same digits; two kernel calls cost more than str() here
        return codes, pa.array([str(u) for u in used.tolist()] + [NULL], pa.string())
    words = pc.cast(pa.array(used, pa.int64()), pa.string())
    return codes, pa.concat_arrays([words, pa.array([NULL], pa.string())])


#: Up to this many distinct whole numbers are written with ``str`` (~0.2 us each) rather than Arrow's cast and
#: concatenation (~30 us a column whatever its size): most integer columns (visits, groups, flags) are small.
SMALL_CAST = 128


def span_codes(values: np.ndarray, low_limit: float = -2.0 ** 53, high_limit: float = 2.0 ** 53):
    """(codes, used) of whole numbers (float, NaN missing) whose span is narrow (at most ``WHOLE_SPAN`` values,
    or one per row) and inside (low_limit, high_limit): ``used`` the distinct values present, ascending
    (int64), each row's code its value's position there and ``len(used)`` for NaN. The values present are
    marked in a table of the span: a few array passes, no hashing. None otherwise (or when none is present)."""
    missing = np.isnan(values)
    present = values[~missing]
    if len(present) == 0:
        return None
    low, high = float(present.min()), float(present.max())
    span = high - low + 1
    if span > max(WHOLE_SPAN, len(values)) or low <= low_limit or high >= high_limit:
        return None
    span = int(span)
    offsets = np.where(missing, span, values - low).astype(np.int64)
    seen = np.zeros(span + 1, dtype=np.bool_)
    seen[offsets] = True
    used = np.flatnonzero(seen[:span])
    ids = np.empty(span + 1, dtype=np.int64)
    ids[used] = np.arange(len(used))
    ids[span] = len(used)
    return as_codes(ids[offsets]), used + int(low)


def cell_tokens(values: list, dump) -> tuple[np.ndarray, pa.Array]:
    """(codes, tokens) of Python values encoded one by one with ``dump`` (the slow, general path)."""
    words = [dump(v) for v in values]
    codes, uniques = pd.factorize(pd.Series(words, dtype=object))
    return as_codes(codes), pa.array(list(uniques), pa.string())


def take(codes: np.ndarray, tokens: pa.Array, start: int, stop: int) -> pa.Array:
    """The tokens of rows start..stop (codes of -1, pandas' missing, never occur: missing has a token)."""
    return tokens.take(pa.array(codes[start:stop]))


#: A run of adjacent columns is joined into one while its distinct rows stay at most this share of the rows.
GROUP_SHARE = 0.25
#: Datasets with fewer rows are joined column by column (grouping costs a few array passes per column).
GROUP_MIN_ROWS = 2048


def grouped(columns: list[tuple[np.ndarray, pa.Array]], n: int) -> list[tuple[np.ndarray, pa.Array]]:
    """The columns with each run of adjacent columns that has few distinct rows joined into one column
    (codes of its distinct rows, tokens "a,b,c" of each): a dataset repeats its subject-level and
    test-level columns on every row (LB's 24 columns are 4 such runs at 1,000 subjects), so the rows are
    then joined from a few columns, not from all of them. Same row text: only the order of joining changes.
    """
    if n < GROUP_MIN_ROWS or len(columns) < 2:
        return columns
    limit = int(n * GROUP_SHARE)
    out: list = []
    run: list = []
    key, k, first = None, 0, None

    def close():
        if len(run) == 1:
            out.append(run[0])
            return
        rows = _first_rows(key, k) if first is None else first
        parts = [tokens.take(pa.array(codes[rows])) for codes, tokens in run]
        out.append((as_codes(key), pc.binary_join_element_wise(*parts, ",")))

    for codes, tokens in columns:
        m = len(tokens)
        if run and k <= limit and m <= limit:
            if first is None:
                first = _first_rows(key, k)
            if np.array_equal(codes[first][key], codes):      # a function of the run's columns (a subject's
                run.append((codes, tokens))                     # age, a test's name): the same distinct rows
                continue
            joined = _joined_codes(key, k, codes, m, limit)
            if joined is not None:
                (key, k), first = joined, None
                run.append((codes, tokens))
                continue
        if run:
            close()
        run, key, k, first = [(codes, tokens)], codes.astype(np.int32), m, None
    close()
    return out


def _first_rows(key: np.ndarray, k: int) -> np.ndarray:
    """A row of each of the ``k`` values of ``key`` (the last one, as it happens; row 0 for a value no row
    has, such as the missing token of a column without missing values)."""
    rows = np.zeros(k, dtype=np.int64)
    rows[key] = np.arange(len(key), dtype=np.int64)
    return rows


#: Distinct pairs of two code columns are counted in a table of every possible pair, up to this many
#: (or four per row); beyond it the columns are not joined (hashing the pairs cost more than it saved).
PAIR_TABLE = 1 << 22


def _joined_codes(key: np.ndarray, k: int, codes: np.ndarray, m: int, limit: int):
    """(codes, count) of the distinct pairs of two code columns (k and m values), or None when there are
    more than ``limit`` of them or too many possible pairs to count in a table."""
    if k * m > min(max(PAIR_TABLE, 4 * len(key)), 2 ** 31 - 1):
        return None
    pair = key * np.int32(m) + codes                   # < k * m <= 2 ** 31 - 1 (a table's size)
    return table_codes(pair, k * m, limit, np.int32)


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
