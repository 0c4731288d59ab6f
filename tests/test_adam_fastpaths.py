"""The ADaM fast paths give what the pandas operations they replace give (issue 15).

Each fast path is checked against the pandas call it stands in for (``merge``, ``DataFrame.eval``) or the
vectorised path it skips, plus hand-worked values, on inputs chosen for the awkward cases: unmatched keys
(int/bool columns promote), empty frames, inner joins, missing values, NaN comparisons.
"""
from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from trialforge.adam import dates
from trialforge.simple_filter import simple_mask
from trialforge.adam._frame import fresh, mask
from trialforge.adam._join import join
from trialforge.objstrings import object_strings


def _frames(n_left: int, n_right: int, unmatched: bool, seed: int = 1):
    rng = np.random.default_rng(seed)
    subj = [f"S{i}" for i in range(n_right)]
    right = pd.DataFrame({"STUDYID": pd.Series(["X"] * n_right, dtype=object),
                          "USUBJID": pd.Series(subj, dtype=object),
                          "I": np.arange(n_right, dtype=np.int64), "F": rng.random(n_right),
                          "B": rng.random(n_right) > 0.5,
                          "O": pd.Series([f"v{i}" for i in range(n_right)], dtype=object),
                          "N": pd.Series([None if i % 2 else "a" for i in range(n_right)], dtype=object)})
    pool = subj + (["ZZ"] if unmatched or not subj else [])
    left_ids = [str(x) for x in rng.choice(pool, n_left)] if n_left else []
    left = pd.DataFrame({"STUDYID": pd.Series(["X"] * n_left, dtype=object),
                         "USUBJID": pd.Series(left_ids, dtype=object), "V": rng.random(n_left)},
                        index=pd.RangeIndex(10, 10 + n_left))      # an index merge does not keep
    return left, right


@pytest.mark.parametrize("n_left,n_right,unmatched,how", list(itertools.product(
    [0, 1, 40], [0, 1, 7], [False, True], ["left", "inner"])))
def test_join_is_merge(n_left, n_right, unmatched, how):
    with object_strings():
        left, right = _frames(n_left, n_right, unmatched)
        for on, narrow in itertools.product((["USUBJID"], ["STUDYID", "USUBJID"]), (False, True)):
            r = right if len(on) == 2 else right.drop(columns="STUDYID")
            if narrow:                      # a few columns are taken one by one, more in one reindex
                r = r[on + ["I", "B", "N"]]
            expected = left.merge(r, on=on, how=how)
            got = join(left, r, on, how)
            pd.testing.assert_frame_equal(got, expected, check_exact=True)
            assert list(got.dtypes) == list(expected.dtypes)


def test_join_unmatched_promotes_like_merge():
    """A left row without a right row: int becomes float (NaN), bool becomes object, as merge does."""
    with object_strings():
        left = pd.DataFrame({"K": pd.Series(["a", "z"], dtype=object)})
        right = pd.DataFrame({"K": pd.Series(["a"], dtype=object), "I": [3], "B": [True]})
        got = join(left, right, ["K"])
        assert got["I"].dtype == np.float64 and got["I"].tolist()[0] == 3.0 and np.isnan(got["I"].tolist()[1])
        assert got["B"].dtype == object and got["B"].tolist()[0] is True


def test_join_duplicates_fall_back_to_merge():
    with object_strings():
        left = pd.DataFrame({"K": pd.Series(["a", "b"], dtype=object)})
        right = pd.DataFrame({"K": pd.Series(["a", "a"], dtype=object), "X": [1.0, 2.0]})
        assert join(left, right, ["K"])["X"].tolist()[:2] == [1.0, 2.0]      # rows multiplied, as merge does
        with pytest.raises(pd.errors.MergeError):
            join(left, right, ["K"], validate="many_to_one")


def test_join_leaves_inputs_alone():
    with object_strings():
        left, right = _frames(5, 3, True)
        before = left.copy(deep=True)
        out = join(left, right, ["STUDYID", "USUBJID"])
        out.loc[:, "V"] = -1.0
        pd.testing.assert_frame_equal(left, before)


FRAME = pd.DataFrame({"A": pd.Series(["Y", "N", "", "Y"], dtype=object), "X": [1.0, np.nan, 3.0, 5.0],
                      "Z": [2.0, 2.0, np.nan, 1.0], "OK": [True, False, True, False]})


@pytest.mark.parametrize("expr", [
    "A == 'Y'", "A != 'Y'", "'Y' == A", "X > 2", "X >= 3 and A == 'Y'", "X < 2 or A == ''", "not X > 2",
    "A in ['Y', '']", "A not in ['Y']", "X - Z > 0", "X == X", "OK", "not OK", "OK and X > 2", "X > -1"])
def test_simple_mask_is_eval(expr):
    with object_strings():
        got = simple_mask(FRAME, expr)
        expected = FRAME.eval(expr, engine="python")
        assert got is not None
        assert got.tolist() == pd.Series(expected).astype("boolean").fillna(False).astype(bool).tolist()


@pytest.mark.parametrize("expr", ["A > 'M'", "X.isna()", "`A` == 'Y'", "@v == 1", "A == B", "1 < X < 4"])
def test_simple_mask_leaves_other_forms_to_eval(expr):
    assert simple_mask(FRAME, expr) is None


def test_mask_by_hand():
    with object_strings():
        assert mask(FRAME, "X >= 3 and A == 'Y'").tolist() == [False, False, False, True]
        assert mask(FRAME, "A in ['Y', '']").tolist() == [True, False, True, True]


TEXTS = ["", "2019", "2019-02", "2020-02", "2019-02-28", "2020-02-29", "2019---07", "2019-07-18T15:25",
         "--07-15", "1900-02", "0001-01", "1959-12", "1960-01-01"]


@pytest.mark.parametrize("level,rule", list(itertools.product("nDMY", ["first", "mid", "last", "06-15", "02-31"])))
def test_distinct_imputation_matches_vectorised_rules(level, rule):
    dates._IMPUTED.clear()
    text = pd.Series(TEXTS * 2)
    value, flag = dates._impute_distinct(text, dates._LEVELS[level], rule)
    parts = dates.parse_dtc(text)
    y, m, d, vflag, _ = dates._impute_date_parts(parts, dates._LEVELS[level], rule)
    expected = dates._sas_days(y, m, d)
    np.testing.assert_array_equal(value, expected)
    assert flag.tolist() == vflag.where(~np.isnan(expected), "").tolist()


def test_distinct_imputation_by_hand():
    dates._IMPUTED.clear()
    value, flag = dates.impute_dtc_dt(pd.Series(["2020-02", "2019", "", "2019-07-18"], index=[7, 8, 9, 10]),
                                      highest_imputation="M", date_imputation="last")
    # 2020-02-29 is day 21974 after 1960-01-01; 2019-12-31 is 21914; 2019-07-18 is 21748
    assert value.index.tolist() == [7, 8, 9, 10]
    assert value.tolist()[:2] == [21974.0, 21914.0] and np.isnan(value.tolist()[2]) and value.tolist()[3] == 21748.0
    assert flag.tolist() == ["D", "M", "", ""]


def test_malformed_date_still_named_by_the_vectorised_path():
    from trialforge.errors import DateFormatError
    with pytest.raises(DateFormatError) as err:
        dates.impute_dtc_dt(pd.Series(["2019-01-01", "2019-13-01"]), column="AESTDTC")
    assert err.value.row == 2 and err.value.value == "2019-13-01"


def test_fresh_copy_does_not_write_through():
    frame = pd.DataFrame({"A": [1.0, 2.0], "B": ["x", "y"]})
    out = fresh(frame)
    out["C"] = 1.0
    out.loc[0, "A"] = 99.0
    assert list(frame.columns) == ["A", "B"] and frame["A"].tolist() == [1.0, 2.0]


@pytest.mark.parametrize("first", [True, False])
def test_tte_pick_by_position_is_sort_and_drop_duplicates(first):
    """The first/last dated record per subject, picked by row position, is what sort + drop_duplicates keep
    (ties on the date kept in input order; undated rows and rows outside the filter left out)."""
    from trialforge.adam.tte import EventSource, _select
    rng = np.random.default_rng(7)
    n = 60
    data = pd.DataFrame({"STUDYID": "S", "USUBJID": pd.Series(rng.choice(["1", "2", "3", "4"], n), dtype=object),
                         "D": np.where(rng.random(n) < 0.2, np.nan, rng.integers(0, 8, n).astype(float)),
                         "SEQ": np.arange(n, dtype=float), "OK": rng.random(n) < 0.7},
                        index=pd.RangeIndex(100, 100 + n))
    with object_strings():
        src = EventSource("d", date="D", filter="OK", copy_vars={"SRCSEQ": "SEQ"})
        got = _select(src, {"d": data}, ["STUDYID", "USUBJID"], first=first, rank=0)
        rows = data.loc[data["OK"] & data["D"].notna()].sort_values("D", kind="mergesort")
        rows = rows.drop_duplicates(["STUDYID", "USUBJID"], keep="first" if first else "last")
    assert got["USUBJID"].tolist() == rows["USUBJID"].tolist()
    assert got["ADT"].tolist() == rows["D"].tolist() and got["SRCSEQ"].tolist() == rows["SEQ"].tolist()
