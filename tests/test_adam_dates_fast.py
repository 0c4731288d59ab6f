"""The numpy reading of complete ISO 8601 texts (adam/dates.py ``_parse_texts``) against values by hand and the
regex reading (``_parse_one``) it must equal; anything not complete or impossible leaves the fast path."""
from datetime import date

import numpy as np
import pandas as pd
import pytest

from trialforge.adam import dates
from trialforge.errors import DateFormatError

N = np.nan
BY_HAND = {
    "2019": (2019, N, N, N, N, N),
    "2019-07": (2019, 7, N, N, N, N),
    "2019-07-18": (2019, 7, 18, N, N, N),
    "2019-07-18T15": (2019, 7, 18, 15, N, N),
    "2019-07-18T15:25": (2019, 7, 18, 15, 25, N),
    "2019-07-18T15:25:09": (2019, 7, 18, 15, 25, 9),
    "2019-07-18T15:25:09.75": (2019, 7, 18, 15, 25, 9),       # fraction: regex path, floored
    "2019---18": (2019, N, 18, N, N, N),
    "2020-02-29": (2020, 2, 29, N, N, N),                     # leap day
    "0000-01-01": (0, 1, 1, N, N, N),
    "": (N,) * 6,
}


def test_complete_and_partial_texts_by_hand():
    got = dates._parse_texts(list(BY_HAND))          # few texts: the regex path
    np.testing.assert_array_equal(got, np.array(list(BY_HAND.values()), dtype="float64"))
    got = dates._parse_texts(list(BY_HAND) * 5)[:len(BY_HAND)]     # many: the numpy path
    np.testing.assert_array_equal(got, np.array(list(BY_HAND.values()), dtype="float64"))


@pytest.mark.parametrize("text", ["2019-02-29", "1900-02-29", "2019-13-01", "2019-00-10", "2019-04-31",
                                  "2019-07-18T24:00", "2019-07-18T10:60", "2019-07-18T10:10:60", "2019/07/18",
                                  "2019-07-18 10:10", "20190718", "2019-7-18", "２０１９-07-18x"])
def test_impossible_or_malformed_text_is_refused_like_the_regex(text):
    assert dates._parse_one(text) is None
    assert dates._parse_texts(["2019-01-01", text]) is None
    many = [f"2019-01-{d:02d}" for d in range(1, 29)] + [f"2019-02-{d:02d}" for d in range(1, 29)]
    assert dates._parse_texts(many + [text]) is None                # the numpy path refuses it too


def test_fast_rows_equal_the_regex_rows():
    rng = np.random.default_rng(7)
    texts = []
    for _ in range(400):
        y, m, d = int(rng.integers(1890, 2100)), int(rng.integers(1, 13)), int(rng.integers(1, 29))
        h, mi, s = (int(v) for v in rng.integers(0, [24, 60, 60]))
        full = f"{y:04d}-{m:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}"
        texts.append(full[:int(rng.choice([4, 7, 10, 13, 16, 19]))])
    texts = list(dict.fromkeys(texts))
    np.testing.assert_array_equal(dates._parse_texts(texts), np.array([dates._parse_one(t) for t in texts]))


def test_complete_dates_give_sas_days_and_missing_text_is_blank():
    texts = pd.Series([" 2019-07-18", None, "2019-07-18T15:25", "1959-12-31", "2019-07", float("nan")])
    value, flag = dates.impute_dtc_dt(texts, highest_imputation="D")
    day = lambda s: float((date.fromisoformat(s) - date(1960, 1, 1)).days)      # noqa: E731
    expected = [day("2019-07-18"), N, day("2019-07-18"), -1.0, day("2019-07-31") - 30, N]
    np.testing.assert_array_equal(value.to_numpy(), np.array(expected))
    assert flag.tolist() == ["", "", "", "", "D", ""]


def test_impossible_date_still_named_with_its_row():
    with pytest.raises(DateFormatError) as err:
        dates.parse_dtc(pd.Series(["2019-01-01", "", "2019-02-30"]), column="LBDTC")
    assert err.value.row == 3 and err.value.value == "2019-02-30"


DTM_TEXTS = ["", "2019", "2019-02", "2020-02", "2019-02-28", "2020-02-29", "2019---07", "2019-07-18T15",
             "2019-07-18T15:25", "2019-07-18T15:25:09", "2019-07-18T15:25:09.5", "2019-07-18T-:25", "--07-15",
             "1959-12-31T23:59:59", "1960-01-01T00:00", "2019-07T10:00"]


@pytest.mark.parametrize("level", list("nsmhDMY"))
@pytest.mark.parametrize("date_rule,time_rule,ignore", [("first", "first", False), ("last", "last", True),
                                                         ("mid", "12:30:00", False), ("06-15", "first", True)])
def test_distinct_datetime_imputation_equals_the_vectorised_rules(level, date_rule, time_rule, ignore):
    text = pd.Series(DTM_TEXTS * 2 + [None], index=range(100, 100 + 2 * len(DTM_TEXTS) + 1))
    kw = dict(highest_imputation=level, date_imputation=date_rule, time_imputation=time_rule,
              ignore_seconds_flag=ignore)
    fast = dates.impute_dtc_dtm(text, **kw)
    assert dates._impute_dtm_distinct(text, dates._LEVELS[level], date_rule, time_rule, ignore) is not None
    # a missing reference date sends the call down the vectorised path and clamps nothing
    slow = dates.impute_dtc_dtm(text, max_dates=[pd.Series(np.nan, index=text.index)], **kw)
    for got, expected in zip(fast, slow):
        pd.testing.assert_series_equal(got, expected, check_exact=True)


def test_datetime_imputation_by_hand():
    dtm, dtf, tmf = dates.impute_dtc_dtm(pd.Series(["2020-02", "2019-07-18T15", "2019-07-18T15:25:09"]),
                                         highest_imputation="M", date_imputation="last", time_imputation="last")
    day = lambda s: (date.fromisoformat(s) - date(1960, 1, 1)).days * 86400.0      # noqa: E731
    assert dtm.tolist() == [day("2020-02-29") + 86399.0, day("2019-07-18") + 15 * 3600 + 59 * 60 + 59,
                            day("2019-07-18") + 15 * 3600 + 25 * 60 + 9]
    assert dtf.tolist() == ["D", "", ""] and tmf.tolist() == ["H", "M", ""]


def test_bad_time_rule_and_bad_text_keep_their_errors():
    from trialforge.errors import SpecError
    with pytest.raises(DateFormatError):          # the data error first, as before
        dates.impute_dtc_dtm(pd.Series(["2019-02-30"]), time_imputation="noon")
    with pytest.raises(SpecError):
        dates.impute_dtc_dtm(pd.Series(["2019-02-03"]), time_imputation="noon")
