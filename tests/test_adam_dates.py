"""Date imputation: expected SAS dates computed independently with the standard library's calendar."""
from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest

from trialforge.adam.dates import derive_vars_dt, derive_vars_dtm, derive_vars_dy, impute_dtc_dt
from trialforge.errors import DateFormatError


def sas(y, m, d):
    """Days since 1960-01-01 by the stdlib calendar (an independent reference)."""
    return float((date(y, m, d) - date(1960, 1, 1)).days)


def sasdtm(y, mo, d, h=0, mi=0, s=0):
    return (datetime(y, mo, d, h, mi, s) - datetime(1960, 1, 1)).total_seconds()


def dt(values, **kw):
    value, flag = impute_dtc_dt(pd.Series(values, dtype=object), **kw)
    return value.tolist(), flag.tolist()


def test_complete_dates_and_datetimes_are_not_flagged():
    v, f = dt(["2019-07-18", "2019-07-18T15:25:40", "1960-01-01"])
    assert v == [sas(2019, 7, 18), sas(2019, 7, 18), 0.0]
    assert f == ["", "", ""]


def test_no_imputation_leaves_partial_dates_missing():
    v, f = dt(["2019-02", "2019", "", None, np.nan], highest_imputation="n")
    assert all(np.isnan(x) for x in v) and f == [""] * 5


def test_day_level_imputes_only_the_day():
    # highest "D": 2019-02 → day imputed; 2019 (month missing) stays missing.
    v, f = dt(["2019-02", "2019"], highest_imputation="D", date_imputation="first")
    assert v[0] == sas(2019, 2, 1) and np.isnan(v[1])
    assert f == ["D", ""]


@pytest.mark.parametrize("rule, expected", [
    # month known, day missing: first → 1st, mid → 15th, last → last day of that month
    ("first", [sas(2019, 2, 1), sas(2020, 2, 1), sas(2000, 2, 1), sas(1900, 2, 1)]),
    ("mid", [sas(2019, 2, 15), sas(2020, 2, 15), sas(2000, 2, 15), sas(1900, 2, 15)]),
    # last: Feb 2019 → 28 (not leap), 2020 → 29 (÷4), 2000 → 29 (÷400), 1900 → 28 (÷100 not ÷400)
    ("last", [sas(2019, 2, 28), sas(2020, 2, 29), sas(2000, 2, 29), sas(1900, 2, 28)]),
])
def test_missing_day_rules_and_leap_years(rule, expected):
    v, f = dt(["2019-02", "2020-02", "2000-02", "1900-02"], highest_imputation="M", date_imputation=rule)
    assert v == expected and f == ["D"] * 4


@pytest.mark.parametrize("rule, expected", [
    ("first", sas(2019, 1, 1)),  # Jan 1
    ("mid", sas(2019, 6, 30)),   # admiral "mid" for a missing month: June 30
    ("last", sas(2019, 12, 31)),  # Dec 31
    ("04-15", sas(2019, 4, 15)),  # fixed MM-DD
])
def test_missing_month_rules(rule, expected):
    v, f = dt(["2019", "2019---07"], highest_imputation="M", date_imputation=rule)
    # "2019---07": the collected day is not preserved when the month is imputed (admiral preserve=FALSE)
    assert v == [expected, expected] and f == ["M", "M"]


def test_min_dates_only_inside_the_possible_range():
    df = pd.DataFrame({"AESTDTC": ["2020-12", "2020-11", "2020-12-02"],
                       "TRTSDT": [sas(2020, 12, 6)] * 3})
    out = derive_vars_dt(df, "AST", "AESTDTC", highest_imputation="M", min_dates=["TRTSDT"])
    # 2020-12 → first 2020-12-01 < TRTSDT 2020-12-06 within Dec → 2020-12-06;
    # 2020-11 → TRTSDT outside Nov → 2020-11-01; a complete date never moves.
    assert out["ASTDT"].tolist() == [sas(2020, 12, 6), sas(2020, 11, 1), sas(2020, 12, 2)]
    assert out["ASTDTF"].tolist() == ["D", "D", ""]


def test_max_dates_cap_last_imputation():
    df = pd.DataFrame({"AEENDTC": ["2020-12", "2021"], "DTHDT": [sas(2020, 12, 20), sas(2021, 3, 3)]})
    out = derive_vars_dt(df, "AEN", "AEENDTC", highest_imputation="M", date_imputation="last",
                         max_dates=["DTHDT"])
    # 2020-12 → 12-31 capped at death 12-20; 2021 → 12-31 capped at 2021-03-03
    assert out["AENDT"].tolist() == [sas(2020, 12, 20), sas(2021, 3, 3)]
    assert out["AENDTF"].tolist() == ["D", "M"]


def test_year_imputation_needs_reference_dates():
    df = pd.DataFrame({"DTC": ["", "2019-05-05"], "TRTSDT": [sas(2021, 1, 9), sas(2021, 1, 9)]})
    out = derive_vars_dt(df, "AST", "DTC", highest_imputation="Y", min_dates=["TRTSDT"])
    assert out["ASTDT"].tolist() == [sas(2021, 1, 9), sas(2019, 5, 5)]
    assert out["ASTDTF"].tolist() == ["Y", ""]
    out = derive_vars_dt(df, "AST", "DTC", highest_imputation="Y")  # no reference: stays missing
    assert np.isnan(out["ASTDT"].iloc[0])


@pytest.mark.parametrize("bad", ["2019-13-01", "2019-02-30", "2021-02-29", "18JUL2019", "2019-07-18T25:00"])
def test_malformed_or_impossible_dates_are_errors(bad):
    with pytest.raises(DateFormatError) as err:
        dt(["2019-01-01", bad])
    assert err.value.row == 2 and err.value.value == bad


def test_datetime_imputation_and_time_flags():
    df = pd.DataFrame({"DTC": ["2019-07-18T15:25:40", "2019-07-18T15:25", "2019-07-18T15", "2019-07-18", "2019-07"]})
    out = derive_vars_dtm(df, "AST", "DTC", highest_imputation="D", time_imputation="first")
    assert out["ASTDTM"].tolist() == [sasdtm(2019, 7, 18, 15, 25, 40), sasdtm(2019, 7, 18, 15, 25),
                                      sasdtm(2019, 7, 18, 15), sasdtm(2019, 7, 18), sasdtm(2019, 7, 1)]
    assert out["ASTTMF"].tolist() == ["", "S", "M", "H", "H"]
    assert out["ASTDTF"].tolist() == ["", "", "", "", "D"]
    last = derive_vars_dtm(df, "AEN", "DTC", highest_imputation="h", time_imputation="last")
    # 2019-07-18 → 23:59:59; 2019-07 needs a date imputation, not allowed at level "h" → missing
    assert last["AENDTM"].iloc[3] == sasdtm(2019, 7, 18, 23, 59, 59)
    assert np.isnan(last["AENDTM"].iloc[4])


def test_study_day_has_no_day_zero():
    df = pd.DataFrame({"TRTSDT": [sas(2020, 1, 10)] * 3,
                       "ADT": [sas(2020, 1, 10), sas(2020, 1, 9), sas(2020, 2, 1)]})
    # same day → 1; day before → -1; Feb 1 is 22 days after Jan 10 → 23
    assert derive_vars_dy(df, "TRTSDT", {"ADY": "ADT"})["ADY"].tolist() == [1.0, -1.0, 23.0]
