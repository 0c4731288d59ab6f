"""arrow_offsets.value_ends reads a text array's offsets as Arrow's own kernels see the values."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from trialforge.arrow_offsets import offset_width, value_ends


@pytest.mark.parametrize("arrow_type", [pa.string(), pa.large_string()])
def test_lengths_from_the_ends_match_binary_length_on_slices(arrow_type):
    whole = pa.array(["ab", "", None, "ÄÖ", "x" * 300, "T", None, "12:00"], type=arrow_type)
    for start, stop in [(0, 8), (1, 8), (3, 6), (5, 5), (7, 8)]:
        part = whole.slice(start, stop - start)
        ends = value_ends(part)
        assert ends.dtype == np.int64 and len(ends) == len(part) + 1
        expected = [0 if v is None else v for v in pc.binary_length(part).to_pylist()]
        assert np.diff(ends).tolist() == expected
        data = part.buffers()[2]
        got = [None if not part[i].is_valid else bytes(data)[ends[i]:ends[i + 1]].decode("utf-8")
               for i in range(len(part))]
        assert got == part.to_pylist()


def test_other_types_have_no_ends():
    assert value_ends(pa.array([1, 2])) is None
    assert value_ends(pa.array(["a", "b"]).dictionary_encode()) is None
    assert offset_width(pa.string()) is np.int32 and offset_width(pa.large_string()) is np.int64
    assert offset_width(pa.binary()) is None
