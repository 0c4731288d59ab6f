"""engine._blank (missing or whitespace-only, decided per distinct value): hand-written expectations."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trialforge.tables.engine import _blank


@pytest.mark.parametrize("values,dtype,want", [
    (["a", " ", "", None, np.nan, "b ", pd.NA, " "], object, [False, True, True, True, True, False, True, True]),
    (["a", " ", None, ""], "str", [False, True, True, True]),
    ([1.0, np.nan, 0.0], "float64", [False, True, False]),
    ([0, 1], "int64", [False, False]),
    ([], object, []),
])
def test_blank_by_hand(values, dtype, want):
    s = pd.Series(values, dtype=dtype, index=range(10, 10 + len(values)))
    got = _blank(s)
    assert got.tolist() == want and got.dtype == bool and got.index.equals(s.index)
