"""Text columns seen as Arrow arrays: the writers' set-wise questions (longest value in bytes, distinct
values) answered in Arrow's C kernels instead of a Python call per cell.

pandas 3 keeps text as Arrow strings (dtype ``str``); other columns (object, categorical) return None
and the callers keep their general path.
"""
from __future__ import annotations

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
