"""Text columns seen as Arrow arrays: the writers' set-wise questions (longest value in bytes, distinct
values) answered in Arrow's C kernels instead of a Python call per cell.

pandas 3 keeps text as Arrow strings (dtype ``str``); other columns (object, categorical) return None
and the callers keep their general path.

``text_codes`` is a text column's dictionary encoding (distinct values, a code per row), computed once per
column and shared by the package writers that each needed it: XPT (checks and padding per distinct value),
Dataset-JSON (one JSON string per distinct value) and define.xml (facts per distinct value). Encoding a
column costs ~30 ns per cell, about the cost of the writer's own work on it; each writer used to encode
it again. The codes are kept while the column lives, or until ``forget_text_codes`` (the define bundle,
the package's last writer, calls it), so a package's codes are not held through the rest of a run.
"""
from __future__ import annotations

import weakref
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..arrow_offsets import value_ends


def arrow_strings(values: pd.Series) -> pa.Array | None:
    """The column as one Arrow string array (nulls kept), or None when it is not Arrow-backed text."""
    dtype = values.dtype
    if not (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"):
        return None
    data = values.array._pa_array
    if isinstance(data, pa.ChunkedArray):
        data = data.combine_chunks() if data.num_chunks != 1 else data.chunk(0)
    return data


def longest_utf8(values: pd.Series) -> int | None:
    """Bytes of the longest value (0 when none is non-empty), or None when not Arrow-backed text.
    From the distinct values when the column's ``text_codes`` are at hand, else one kernel over the rows."""
    known = known_text_codes(values)
    if known is not None:
        return known.longest
    arr = arrow_strings(values)
    if arr is None:
        return None
    if len(arr) == 0:
        return 0
    return int(pc.max(pc.binary_length(arr)).as_py() or 0)


def byte_lengths(arr: pa.Array) -> np.ndarray:
    """UTF-8 bytes of each value of a string array (0 for a null), from its offsets: no compute-kernel call,
    whose fixed cost (~0.1 ms) is most of the work on a column's few distinct values."""
    if len(arr) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.diff(value_ends(arr))


def narrow_codes(codes) -> np.ndarray:
    """Codes (>= 0) in the narrowest of uint8, uint16 and int32 that holds them: a code indexes a column's
    distinct values, mostly a few hundred at most (at 10,000 subjects ADLB's text codes took 240 MB as
    int32, ~70 MB narrowed)."""
    codes = np.asarray(codes)
    top = int(codes.max(initial=0)) if codes.size else 0
    dtype = np.uint8 if top < 2 ** 8 else np.uint16 if top < 2 ** 16 else np.int32
    return codes.astype(dtype, copy=False)


def table_codes(keys: np.ndarray, size: int, limit: int | None = None, dtype=np.int64):
    """(codes, count) of integer keys in [0, size): each key's position among the distinct keys present, in
    ascending key order, marked in a table of the ``size`` possible keys: a scatter and a gather, no hashing
    (~5x faster than ``pd.factorize`` on a column's codes). The caller keeps ``size`` small (a table
    entry per possible key). None when more than ``limit`` distinct keys are present."""
    seen = np.zeros(size, dtype=np.bool_)
    seen[keys] = True
    present = np.flatnonzero(seen)
    if limit is not None and len(present) > limit:
        return None
    ids = np.empty(size, dtype=dtype)
    ids[present] = np.arange(len(present), dtype=dtype)
    return ids[keys], len(present)


class TextCodes(NamedTuple):
    """A text column's dictionary encoding: ``dictionary`` (the distinct non-null values, in order of first
    appearance; a string array without nulls) and ``codes`` (per row, the value's position in it, and
    ``len(dictionary)`` for a missing value; ``narrow_codes``)."""

    codes: np.ndarray
    dictionary: pa.Array

    @property
    def missing(self) -> int:
        """The code of a missing value."""
        return len(self.dictionary)

    @property
    def longest(self) -> int:
        """Bytes of the longest value (0 when none is non-empty)."""
        return int(byte_lengths(self.dictionary).max(initial=0))


_CODES: dict[int, tuple[weakref.ref, TextCodes]] = {}      # id(column's Arrow data) -> (its ref, codes)


def _source(values: pd.Series):
    """The Arrow data object behind an Arrow text column (the same object for every ``frame[name]``)."""
    dtype = values.dtype
    if not (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"):
        return None
    return values.array._pa_array


def known_text_codes(values: pd.Series) -> TextCodes | None:
    """The column's ``TextCodes`` when a writer has computed them, else None (nothing is computed)."""
    data = _source(values)
    if data is None:
        return None
    entry = _CODES.get(id(data))
    return entry[1] if entry is not None and entry[0]() is data else None


def text_codes(values: pd.Series) -> TextCodes | None:
    """The column's ``TextCodes`` (computed on first use, then shared), or None when not Arrow text."""
    data = _source(values)
    if data is None:
        return None
    key = id(data)
    entry = _CODES.get(key)
    if entry is not None and entry[0]() is data:
        return entry[1]
    arr = arrow_strings(values)
    encoded = pc.dictionary_encode(arr)                 # a missing value gets a null code
    indices = encoded.indices
    if indices.null_count:
        indices = pc.fill_null(indices, len(encoded.dictionary))
    found = TextCodes(narrow_codes(indices.to_numpy(zero_copy_only=False)), encoded.dictionary)
    _CODES[key] = (weakref.ref(data, lambda _ref, key=key: _drop(key, _ref)), found)
    return found


def _drop(key: int, ref) -> None:
    entry = _CODES.get(key)
    if entry is not None and entry[0] is ref:
        del _CODES[key]


def forget_text_codes(frames=None) -> None:
    """Drop the shared codes of every column of `frames` (the package they were computed for is written), or
    every column's when None. Codes of other frames stay: the tables stage encodes the ADaM columns before
    the SDTM package's define is written, for the ADaM package's writers."""
    if frames is None:
        _CODES.clear()
        return
    for frame in frames:
        mgr = getattr(frame, "_mgr", None)          # the columns' arrays without a Series each (~20 us a column)
        arrays = mgr.arrays if mgr is not None else [values.array for _, values in frame.items()]
        for array in arrays:
            data = getattr(array, "_pa_array", None)
            if data is not None:
                _CODES.pop(id(data), None)


def first_positions(*columns: pd.Series) -> np.ndarray:
    """Row positions of the first record of each distinct combination of ``columns`` (aligned by
    position), in row order; missing values (None, NaN, NA) count as one value.

    Each column is factorised (Arrow text: dictionary encoding) and the codes are combined pairwise,
    so a frame's distinct rows cost a few vectorised passes instead of pandas' drop_duplicates.
    """
    key = None
    for col in columns:
        codes, uniques = pd.factorize(col, use_na_sentinel=True)
        codes = np.asarray(codes, dtype=np.int64) + 1                     # missing -> 0
        if key is None:
            key = codes
        else:
            key, _ = pd.factorize(key * (len(uniques) + 1) + codes)       # < n * (n + 1): no overflow
            key = np.asarray(key, dtype=np.int64)
    if key is None or len(key) == 0:
        return np.zeros(0, dtype=np.int64)
    _, first = np.unique(key, return_index=True)
    first.sort()
    return first


def distinct_frame(**columns: pd.Series) -> pd.DataFrame:
    """The distinct rows of aligned columns (by position), first records in row order, fresh index;
    each column keeps its dtype and its values as they were (a missing value stays None or NaN)."""
    positions = first_positions(*columns.values())
    return pd.DataFrame({name: col.array.take(positions) for name, col in columns.items()})
