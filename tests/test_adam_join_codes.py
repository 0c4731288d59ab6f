"""adam/_join.py finds right rows by a look-up table of key codes, or by a hash index when the codes are sparse
(several key columns of many values); both must give merge's result, and a repeated right key goes to merge."""
import numpy as np
import pandas as pd
import pytest

from trialforge.adam._join import _positions, join


def test_positions_by_hand():
    assert _positions(np.array([2, 0, 5, 2]), np.array([0, 2])).tolist() == [1, 0, -1, 1]
    assert _positions(np.array([1, 2]), np.array([], dtype=np.int64)).tolist() == [-1, -1]
    assert _positions(np.array([1]), np.array([1, 1])) is None
    sparse = np.array([10_000_000, 3])
    assert _positions(np.array([3, 10_000_000, 7]), sparse).tolist() == [1, 0, -1]
    assert _positions(np.array([3]), np.array([10_000_000, 10_000_000])) is None


@pytest.mark.parametrize("how", ["left", "inner"])
def test_three_key_columns_of_many_values_equal_merge(how):
    rng = np.random.default_rng(3)
    keys = {c: [f"{c}{v}" for v in rng.permutation(60)] for c in ("A", "B", "C")}
    right = pd.DataFrame({**keys, "X": np.arange(60.0), "Y": rng.integers(0, 5, 60)})
    left = right[["A", "B", "C"]].sample(frac=1.0, random_state=1).reset_index(drop=True)
    left = pd.concat([left, pd.DataFrame({"A": ["none"], "B": ["B1"], "C": ["C1"]})], ignore_index=True)
    got = join(left, right, ["A", "B", "C"], how)
    pd.testing.assert_frame_equal(got, left.merge(right, on=["A", "B", "C"], how=how))
