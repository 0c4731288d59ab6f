"""Fast paths of adam/_frame.py and adam/_join.py (fifth session): ``sort_rows`` must give exactly what
``sort_values(kind="mergesort")`` gives, ``rows_where`` what ``loc[mask]`` gives, and a join key holding one
study identifier on both sides (not factorised) must still give merge's result, also when the sides differ."""
import numpy as np
import pandas as pd
import pytest

from trialforge.adam._frame import rows_where, sort_rows, stable_sort
from trialforge.adam._join import _one_value, join
from trialforge.objstrings import object_strings


def _frame(seed: int, n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    dates = rng.integers(0, 6, n).astype(float)
    dates[rng.random(n) < 0.2] = np.nan
    return pd.DataFrame({
        "STUDYID": np.array(["S1"] * n, dtype=object),
        "USUBJID": np.array([f"S1-{v:02d}" for v in rng.integers(0, 15, n)], dtype=object),
        "PARAMCD": np.array(rng.choice(["HGB", "ALT", "", "alt", "Z9"], n), dtype=object),
        "ADT": dates,
        "SEQ": rng.permutation(n).astype(float),
        "N": rng.integers(-3, 3, n),
    }, index=rng.permutation(n) + 100)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("by", [["USUBJID"], ["STUDYID", "USUBJID", "PARAMCD", "ADT"], ["ADT", "N"],
                                ["PARAMCD", "ADT", "SEQ"], ["N"]])
def test_sort_rows_equals_pandas_mergesort(seed, by):
    with object_strings():
        df = _frame(seed)
        got = sort_rows(df, by)
        want = df.sort_values(by, kind="mergesort")
    pd.testing.assert_frame_equal(got, want)          # same rows, order, index labels and dtypes


def test_sort_rows_by_hand_and_fallbacks():
    df = pd.DataFrame({"K": np.array(["b", "a", "b", "a"], dtype=object), "D": [2.0, np.nan, 1.0, 0.5]},
                      index=[10, 11, 12, 13])
    assert sort_rows(df, ["K", "D"]).index.tolist() == [13, 11, 12, 10]      # NaN last within "a"
    assert sort_rows(df, ["D"]).index.tolist() == [13, 12, 10, 11]
    assert sort_rows(df.iloc[:0], ["K"]).empty
    mixed = pd.DataFrame({"K": np.array(["b", None, "a"], dtype=object), "F": [True, False, True]})
    for by in (["K"], ["F"]):                          # missing text / bool keys: pandas' own sort
        pd.testing.assert_frame_equal(sort_rows(mixed, by), mixed.sort_values(by, kind="mergesort"))
    with object_strings():
        df = _frame(7)
    # descending items keep pandas' sort; ascending ones take sort_rows
    pd.testing.assert_frame_equal(stable_sort(df, ["USUBJID", "-ADT"]),
                                  df.sort_values(["USUBJID", "ADT"], ascending=[True, False], kind="mergesort",
                                                 na_position="last"))
    pd.testing.assert_frame_equal(stable_sort(df, ["ADT", "SEQ"]), df.sort_values(["ADT", "SEQ"], kind="mergesort"))


@pytest.mark.parametrize("condition", [None, "", "ADT == ADT", "N > 0", "N > 100"])
def test_rows_where_equals_loc(condition):
    with object_strings():
        df = _frame(1)
    got = rows_where(df, condition)
    want = df if not condition else df.loc[df.eval(condition)]
    pd.testing.assert_frame_equal(got, want)
    got["NEW"] = 1.0                                   # a shallow copy: the input keeps its columns
    assert "NEW" not in df.columns


def test_one_value_by_hand():
    s = np.array(["S1", "S1"], dtype=object)
    assert _one_value(s, np.array(["S1"], dtype=object))
    assert not _one_value(np.array(["S1", "S2"], dtype=object), np.array(["S1"], dtype=object))
    assert not _one_value(s, np.array(["S1", "S2"], dtype=object))
    assert not _one_value(s, np.array(["S2"], dtype=object))
    assert not _one_value(s, np.array([np.nan], dtype=object))
    assert not _one_value(np.array([1.0, 1.0]), np.array([1.0]))
    assert not _one_value(s[:0], np.array(["S1"], dtype=object))


@pytest.mark.parametrize("how", ["left", "inner"])
@pytest.mark.parametrize("left_study", [["S1"] * 6, ["S1", "S2", "S1", "S1", "S2", "S1"], ["S2"] * 6])
def test_join_on_a_study_column_equals_merge(how, left_study):
    with object_strings():
        right = pd.DataFrame({"STUDYID": np.array(["S1"] * 3, dtype=object),
                              "USUBJID": np.array(["a", "b", "c"], dtype=object), "X": [1.0, 2.0, 3.0],
                              "T": np.array(["x", "y", "z"], dtype=object)})
        left = pd.DataFrame({"STUDYID": np.array(left_study, dtype=object),
                             "USUBJID": np.array(["c", "a", "d", "b", "a", "a"], dtype=object),
                             "V": np.arange(6.0)})
        got = join(left, right, ["STUDYID", "USUBJID"], how)
        want = left.merge(right, on=["STUDYID", "USUBJID"], how=how)
    pd.testing.assert_frame_equal(got, want)
