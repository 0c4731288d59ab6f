"""Text columns seen as Arrow arrays: the writers' set-wise questions (longest value in bytes, distinct
values) answered in Arrow's C kernels instead of a Python call per cell.

pandas 3 keeps text as Arrow strings (dtype ``str``); other columns (object, categorical) return None
and the callers keep their general path.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


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
    """Bytes of the longest value (0 when none is non-empty), or None when not Arrow-backed text."""
    arr = arrow_strings(values)
    if arr is None:
        return None
    if len(arr) == 0:
        return 0
    return int(pc.max(pc.binary_length(arr)).as_py() or 0)


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
