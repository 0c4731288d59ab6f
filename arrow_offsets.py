"""Where each value of an Arrow text array ends in its bytes: the offsets buffer read as integers.

Why: the writers (byte lengths of a dictionary's values) and the gate (UTF-8 lengths, printable ASCII, leading
blanks of a column's values) read lengths and bytes straight from an Arrow array's buffers instead of one
compute-kernel call per column (~0.1 ms fixed cost, most of the work on a few distinct values); this is the one
place that knows the buffers' layout for ``string`` (int32 offsets) and ``large_string`` (int64).
"""
from __future__ import annotations

import numpy as np


def value_ends(array) -> np.ndarray | None:
    """The ``len(array) + 1`` offsets of a ``string`` or ``large_string`` array as int64 (value ``i`` is the
    bytes ``ends[i]:ends[i+1]`` of its data buffer; a null's slot is empty), honouring the array's slice offset;
    None for any other type or an array without an offsets buffer."""
    width = offset_width(array.type)
    if width is None:
        return None
    offsets = array.buffers()[1]
    if offsets is None:
        return None
    return np.frombuffer(offsets, dtype=width, count=len(array) + 1,
                         offset=array.offset * np.dtype(width).itemsize).astype(np.int64)


def offset_width(arrow_type):
    """The numpy integer type of a text type's offsets (int32 for ``string``, int64 for ``large_string``), or
    None for a type ``value_ends`` does not read."""
    import pyarrow as pa
    if pa.types.is_string(arrow_type):
        return np.int32
    if pa.types.is_large_string(arrow_type):
        return np.int64
    return None
