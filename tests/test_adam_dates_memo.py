"""Complete --DTC dates remembered across calls (adam/dates.py ``_COMPLETE``): every call, with the memory empty,
warm from another column or rule, or holding part of the texts, gives the vectorised path's values and flags
(``parse_dtc`` and the part-wise imputation, reached with an all-missing min date), and values by hand; a
malformed text still leaves the fast path (the vectorised error), however much is remembered."""
import numpy as np
import pandas as pd
import pytest

from trialforge.adam import dates
from trialforge.errors import DateFormatError


def _vectorised(series, highest, rule):
    no_bound = pd.Series(np.nan, index=series.index)        # clamps nothing; takes the vectorised path
    return dates.impute_dtc_dt(series, highest_imputation=highest, date_imputation=rule, min_dates=[no_bound])


def _texts(seed, n):
    rng = np.random.default_rng(seed)
    days = pd.Timestamp("2018-12-20") + pd.to_timedelta(rng.integers(0, 800, n), unit="D")
    full = days.strftime("%Y-%m-%d").to_numpy(dtype=object)
    kind = rng.integers(0, 6, n)
    out = np.where(kind == 0, pd.Index(full).str[:7], full)                    # year-month
    out = np.where(kind == 1, pd.Index(full).str[:4], out)                     # year
    out = np.where(kind == 2, full + "T10:15", out)                            # date-time
    out = np.where(kind == 3, "", out)
    return pd.Series(out, dtype=object)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("highest,rule", [("n", "first"), ("D", "last"), ("M", "mid"), ("M", "06-15")])
def test_remembered_dates_equal_the_vectorised_path(seed, highest, rule):
    dtc = _texts(seed, 3000)
    want_v, want_f = _vectorised(dtc, highest, rule)
    dates._COMPLETE.clear()
    for part in (dtc.iloc[::3], dtc, dtc.iloc[::-1]):        # empty memory, part of the texts, all of them
        got_v, got_f = dates.impute_dtc_dt(part, highest_imputation=highest, date_imputation=rule)
        pd.testing.assert_series_equal(got_v, want_v.loc[part.index])
        assert got_f.tolist() == want_f.loc[part.index].tolist()
    assert dates._COMPLETE                                   # the fast path did remember


def test_remembered_values_by_hand():
    dates._COMPLETE.clear()
    texts = pd.Series(["2019-07-18", "2019-07-18T15:25", "2019-07", ""] * 20)
    for _ in range(2):                                       # cold, then warm
        value, flag = dates.impute_dtc_dt(texts, highest_imputation="D", date_imputation="first")
        assert value.tolist()[:3] == [21748.0, 21748.0, 21731.0] and np.isnan(value.tolist()[3])
        assert flag.tolist()[:4] == ["", "", "D", ""]
    assert dates._COMPLETE["2019-07-18"] == 21748.0 and "2019-07" not in dates._COMPLETE


def test_malformed_text_still_refused_when_the_rest_is_remembered():
    dates._COMPLETE.clear()
    good = pd.Series(["2019-07-18", "2019-07-19"] * 30)
    dates.impute_dtc_dt(good)
    with pytest.raises(DateFormatError):
        dates.impute_dtc_dt(pd.Series(["2019-07-18", "2019-07-19", "2019-02-30"] * 30), column="AESTDTC")
    assert "2019-02-30" not in dates._COMPLETE
