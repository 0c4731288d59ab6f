"""Compute on distinct values, broadcast back: raw columns repeat (dates, terms, units), so a
transformation done once per distinct value is the cheap way to stay vectorised at 10,000+ subjects.
"""
from __future__ import annotations

import ctypes

import numpy as np
import pandas as pd

# below this many values identity codes (a pointer hash, then a value hash of the distinct objects) cost more
# than hashing every value
IDENTITY_MIN = 2048


def object_identities(values: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(codes, objects) with ``values[i] is objects[codes[i]]``: the distinct Python objects of an object
    array in order of first appearance, found by hashing their addresses (int64 hashing in C).

    Text repeats as the very same str object: pandas' CSV parser boxes each distinct field of a column once
    (per parsing chunk), and values computed per distinct value are taken back from small tables. Hashing
    8-byte addresses costs a fifth of hashing every str, and whatever is then asked of the values (their
    codes, missing ones, Arrow text) is computed on the few distinct objects and taken back. Two live
    objects never share an address, so equal codes are the same object; different objects of equal value
    are told apart by the caller's own hashing of ``objects``. None for a short or non-object array, or
    when most objects are distinct (the caller's plain path is then the cheaper one).
    """
    if not isinstance(values, np.ndarray) or values.dtype != object or values.ndim != 1 or \
            len(values) < IDENTITY_MIN or values.itemsize != ctypes.sizeof(ctypes.c_void_p):
        return None
    arr = values if values.flags.c_contiguous else np.ascontiguousarray(values)
    n = len(arr)
    codes, distinct = pd.factorize(addresses(arr))
    if 2 * len(distinct) > n:
        return None
    codes = codes.astype(np.int64, copy=False)
    running = np.maximum.accumulate(codes)      # first-appearance codes: a code is new where the maximum steps up
    first = np.flatnonzero(np.concatenate(([True], running[1:] != running[:-1])))
    return codes, arr[first]


def addresses(values: np.ndarray) -> np.ndarray:
    """The references of a C-contiguous 1-D object array read as integers (a copy, so it stays valid however
    the array is used afterwards; equal integers = the same object while ``values`` keeps its objects)."""
    raw = (ctypes.c_char * (len(values) * values.itemsize)).from_address(values.__array_interface__["data"][0])
    return np.frombuffer(raw, dtype=np.uintp).copy()


def factorize(values, use_na_sentinel: bool = True):
    """``pd.factorize(values, use_na_sentinel=...)`` for a numpy array, the same codes and uniques; an object
    array of repeated objects is hashed by identity first (``object_identities``), its values only once per
    distinct object (the first appearance of a value is that of its first object, so the order is pandas')."""
    found = object_identities(values) if isinstance(values, np.ndarray) else None
    if found is None:
        return pd.factorize(values, use_na_sentinel=use_na_sentinel)
    codes, objects = found
    value_codes, uniques = pd.factorize(objects, use_na_sentinel=use_na_sentinel)
    return value_codes[codes], uniques


def missing_mask(values: np.ndarray) -> np.ndarray:
    """``pd.isna(values)`` of a 1-D object array, decided once per distinct object."""
    found = object_identities(values)
    if found is None:
        return pd.isna(values)
    codes, objects = found
    return pd.isna(objects)[codes]


def on_objects(series: pd.Series, fn) -> pd.Series:
    """``fn`` (element by element, a Series in, a Series out) on the distinct objects of an object column,
    taken back per row (``object_identities``): a ``.str`` method loops in Python per row, and a column's
    repeated texts are mostly the same objects. Any other column, or one of mostly distinct objects: ``fn``
    on the whole column."""
    if series.dtype == object:
        found = object_identities(series.to_numpy())
        if found is not None:
            codes, objects = found
            result = fn(pd.Series(objects, dtype=object, name=series.name))
            return pd.Series(result.array.take(codes), index=series.index, name=result.name)
    return fn(series)


def _factorize_series(series: pd.Series, use_na_sentinel: bool):
    """``pd.factorize`` of a Series (uniques as an array); an object column through ``factorize``."""
    if series.dtype == object:
        return factorize(series.to_numpy(), use_na_sentinel=use_na_sentinel)
    return pd.factorize(series, use_na_sentinel=use_na_sentinel)


def on_uniques(series: pd.Series, fn) -> pd.Series:
    """``fn`` applied to the distinct values of ``series`` (a Series in, a Series out), mapped back."""
    codes, uniques = _factorize_series(series, use_na_sentinel=True)
    if len(uniques) == len(series):
        return fn(series)
    result = fn(pd.Series(uniques, dtype=series.dtype if len(uniques) else object))
    values = np.asarray(result, dtype=object)
    out = np.empty(len(series), dtype=object)
    valid = codes >= 0
    out[valid] = values[codes[valid]]
    if (~valid).any():
        missing = fn(pd.Series([series[~valid].iloc[0]], dtype=series.dtype))
        out[~valid] = np.asarray(missing, dtype=object)[0]
    out = pd.Series(out, index=series.index)
    if pd.api.types.is_numeric_dtype(result):
        return out.astype(result.dtype)
    return out


def on_unique_pairs(first: pd.Series, second: pd.Series, fn) -> pd.Series:
    """``fn(first_uniq, second_uniq)`` on the distinct (first, second) pairs, mapped back."""
    key = pd.MultiIndex.from_arrays([first.fillna(""), second.fillna("")])
    codes, uniques = pd.factorize(key)
    a = pd.Series(uniques.get_level_values(0), dtype=object)
    b = pd.Series(uniques.get_level_values(1), dtype=object)
    result = np.asarray(fn(a, b), dtype=object)
    return pd.Series(result[codes], index=first.index, dtype=object)


def on_distinct(series: pd.Series, fn) -> pd.Series:
    """``fn`` (a Series in, a Series out of any dtype) on the distinct values, taken back per row.

    Unlike ``on_uniques`` the result keeps ``fn``'s dtype (datetimes, booleans, numbers) and missing
    values are one more distinct value, so ``fn`` sees them exactly as it would on the whole column.
    """
    codes, uniques = _factorize_series(series, use_na_sentinel=False)
    if 2 * len(uniques) > len(series):
        return fn(series)
    result = fn(pd.Series(uniques, dtype=series.dtype, name=series.name))
    return pd.Series(result.array.take(codes), index=series.index, name=result.name)


def text_array(series: pd.Series) -> np.ndarray | None:
    """An object column of text as a numpy array with missing values as ''; None if it holds anything else."""
    if series.dtype != object:
        return None
    values = series.to_numpy()
    if pd.api.types.infer_dtype(values, skipna=False) == "string":     # text, nothing missing: one C pass
        return values
    if pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
        return None
    missing = missing_mask(values)
    if missing.any():
        values = values.copy()
        values[missing] = ""
    return values


# below this many rows a distinct-row path costs more (factorize, sub-frame, take back) than it saves
DISTINCT_ROWS_MIN = 5000


def distinct_rows(*arrays: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes of the distinct rows of several equally long arrays (0, 1, ... in order of first appearance)
    and the position of each distinct row's first occurrence.

    Each array is factorized (C hashing; a missing value is one more distinct value), then the running
    pair (codes so far, this array's codes) is factorized again, so the combined key never exceeds
    rows x distinct values: no int64 overflow however many columns.
    """
    codes = None
    for values in arrays:
        c, width = _value_codes(values)
        codes = c if codes is None else pd.factorize(codes * width + c)[0].astype(np.int64, copy=False)
    if codes is None or not len(codes):
        return np.zeros(0 if codes is None else len(codes), dtype=np.int64), np.zeros(0, dtype=np.int64)
    running = np.maximum.accumulate(codes)     # a code is new exactly where the running maximum steps up
    first = np.flatnonzero(np.concatenate(([True], running[1:] != running[:-1])))
    return codes, first


def _value_codes(values) -> tuple[np.ndarray, int]:
    """Codes of one array's values and how many codes there are; each kind of missing value (None, NaN,
    pd.NA, NaT) is a value of its own, as a function of the row would tell them apart."""
    c, u = factorize(values)
    c = c.astype(np.int64, copy=False)
    missing = c < 0
    if missing.any():
        arr = np.asarray(values, dtype=object)
        kinds, kind_names = pd.factorize(np.array([f"{type(v).__name__}:{v!r}" for v in arr[missing]], dtype=object))
        c = c.copy()
        c[missing] = len(u) + kinds
        return pd.factorize(c)[0].astype(np.int64, copy=False), len(u) + len(kind_names)   # first-seen order
    return c, max(len(u), 1)


def factorize_rows(*arrays: np.ndarray) -> tuple[np.ndarray, list[tuple]]:
    """Codes of the distinct rows of several equally long arrays, and those rows as tuples (C hashing, no
    per-row Python); missing values (None, NaN) are values like any other."""
    codes, first = distinct_rows(*arrays)
    columns = [np.asarray(values, dtype=object)[first] for values in arrays]
    return codes, list(zip(*columns))


def stable_order(columns: list[pd.Series], memo=None) -> np.ndarray | None:
    """Row positions in the order ``DataFrame.sort_values(kind="stable")`` gives (missing values last).

    pandas ranks each key through a Categorical and lexsorts the ranks; here each text or number column is
    ranked from its distinct values (Python's string order, numeric order) without the Categorical. The ranks
    are packed into one int64 per row (mixed radix, as long as the product of the key widths fits) and that
    is sorted once, stably: ``np.lexsort`` sorts once per key and was ~10 times slower on a million records
    already near their order (the raw exports list a subject's records together).
    ``memo``: a working frame whose columns these are (``WorkingFrame.remembered``): each column's ranks are
    computed once while the column is unchanged.
    None (the caller sorts with pandas) for any other column.
    """
    keys = []
    for column in columns:
        ranked = _ranks(column) if memo is None else \
            memo.remembered(("ranks", id(column)), (column,), lambda column=column: _ranks(column))
        if ranked is None:
            return None
        keys.append(ranked)
    if not keys:
        return None
    packed = packed_keys(keys)
    return np.argsort(packed[0], kind="stable") if len(packed) == 1 else np.lexsort(packed[::-1])


def _ranks(column: pd.Series) -> tuple[np.ndarray, int] | None:
    """Each row's rank among the column's distinct values (missing last) and the number of ranks; None for a
    column that is not plain text or numbers."""
    values = column.to_numpy()
    if column.dtype == object:
        if pd.api.types.infer_dtype(values, skipna=False) != "string":
            return None
    elif column.dtype.kind not in "iuf":
        return None
    codes, uniques = factorize(values)
    if not len(uniques):                    # all missing: one tie (indexing an empty rank would fail)
        return np.zeros(len(values), dtype=np.int64), 1
    rank = np.empty(len(uniques), dtype=np.int64)
    rank[np.argsort(uniques, kind="stable")] = np.arange(len(uniques))
    return np.where(codes >= 0, rank[np.maximum(codes, 0)], len(uniques)), len(uniques) + 1


_PACK_LIMIT = 2 ** 62


def packed_keys(keys: list[tuple[np.ndarray, int]]) -> list[np.ndarray]:
    """Sort keys (int64 ranks 0 <= rank < width, most significant first) packed into as few int64 arrays as
    hold them: consecutive keys combine as ``packed * width + rank`` while the product of widths stays below
    2**62. Sorting the packed arrays (lexicographically, stably) orders the rows exactly as the keys do."""
    packed: list[np.ndarray] = []
    current, span = None, 1
    for rank, width in keys:
        if width <= 1:                          # one value: no order to add
            continue
        if current is not None and span * width < _PACK_LIMIT:
            current = current * width + rank
            span *= width
        else:
            if current is not None:
                packed.append(current)
            current, span = rank.astype(np.int64, copy=True), width
    if current is not None:
        packed.append(current)
    if not packed:                              # every key constant: the identity order
        n = len(keys[0][0]) if keys else 0
        packed.append(np.zeros(n, dtype=np.int64))
    return packed
