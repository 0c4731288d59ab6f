"""TRTEMFL windows, occurrence flags, merge and baseline derivations, with hand-worked expectations."""
from datetime import date

import numpy as np
import pandas as pd
import pytest

from trialforge.adam.dates import derive_vars_dt
from trialforge.adam.derive import (derive_var_base, derive_var_chg, derive_var_extreme_flag, derive_var_pchg,
                                    derive_var_trtemfl, derive_vars_duration, derive_vars_merged)
from trialforge.errors import DatasetReadError


def sas(y, m, d):
    return float((date(y, m, d) - date(1960, 1, 1)).days)


LD, INF = sas(2023, 1, 10), sas(2023, 1, 15)   # lymphodepletion start, CAR-T infusion


@pytest.fixture
def ae():
    return pd.DataFrame({
        "AESTDTC": ["2023-01-08", "2023-01-11", "2023-01-15", "2023-01", "2023-03-01", ""],
        "AEENDTC": ["2023-01-09", "2023-01-12", "2023-01-20", "2023-01-25", "", "2023-01-20"],
        "LDSTDT": LD, "TRTSDT": INF, "TRTEDT": INF})


def _flags(ae, start, **kw):
    df = derive_vars_dt(ae, "AST", "AESTDTC", highest_imputation="M", min_dates=["TRTSDT"])
    df = derive_vars_dt(df, "AEN", "AEENDTC")
    return derive_var_trtemfl(df, trt_start_date=start, trt_end_date="TRTEDT", **kw)["TRTEMFL"].tolist()


def test_trtemfl_window_starting_at_infusion(ae):
    # 01-08 before LD: no; 01-11 between LD and infusion: no; 01-15 infusion day: yes;
    # "2023-01" imputed to max(01-01, TRTSDT 01-15 inside January) = 01-15: yes; 03-01: yes;
    # missing start with end 01-20 ≥ infusion: yes (conservative rule)
    assert _flags(ae, "TRTSDT") == ["", "", "Y", "Y", "Y", "Y"]


def test_trtemfl_window_starting_at_lymphodepletion(ae):
    # now 01-11 (after LD 01-10) counts; 01-08 still does not
    assert _flags(ae, "LDSTDT") == ["", "Y", "Y", "Y", "Y", "Y"]


def test_trtemfl_end_window(ae):
    # TRTEDT 01-15 + 30 days = 02-14: the 03-01 event is outside the window
    assert _flags(ae, "TRTSDT", end_window=30)[4] == ""
    assert _flags(ae, "TRTSDT", end_window=60)[4] == "Y"   # 01-15 + 60 = 03-16 ≥ 03-01


def test_untreated_subject_has_no_emergent_events():
    df = pd.DataFrame({"ASTDT": [100.0], "AENDT": [101.0], "TRTSDT": [np.nan]})
    assert derive_var_trtemfl(df)["TRTEMFL"].tolist() == [""]


def test_duration_inclusive_days():
    df = pd.DataFrame({"ASTDT": [sas(2023, 1, 30)], "AENDT": [sas(2023, 2, 2)]})
    # Jan 30, 31, Feb 1, 2 → 4 days
    assert derive_vars_duration(df, "ADURN", "ASTDT", "AENDT")["ADURN"].tolist() == [4.0]


def test_occurrence_flags_first_and_worst():
    ae = pd.DataFrame({"USUBJID": ["1"] * 4 + ["2"],
                       "AEDECOD": ["CRS", "CRS", "Fever", "CRS", "CRS"],
                       "ATOXGRN": [1.0, 3.0, 2.0, 3.0, 2.0],
                       "ASTDT": [5.0, 9.0, 2.0, 20.0, 1.0], "AESEQ": [1, 2, 3, 4, 1]})
    first = derive_var_extreme_flag(ae, ["USUBJID"], ["ASTDT", "AESEQ"], "AOCCFL")["AOCCFL"].tolist()
    assert first == ["", "", "Y", "", "Y"]               # subject 1's earliest is Fever on day 2
    pt = derive_var_extreme_flag(ae, ["USUBJID", "AEDECOD"], ["ASTDT", "AESEQ"], "AOCCPFL")["AOCCPFL"].tolist()
    assert pt == ["Y", "", "Y", "", "Y"]
    worst = derive_var_extreme_flag(ae, ["USUBJID", "AEDECOD"], ["-ATOXGRN", "ASTDT", "AESEQ"], "AOCCIFL")
    # CRS grades 1,3,3 on days 5,9,20: the first grade-3 (day 9) is flagged
    assert worst["AOCCIFL"].tolist() == ["", "Y", "Y", "", "Y"]


def test_merge_rejects_duplicates_without_mode():
    adsl = pd.DataFrame({"USUBJID": ["1"]})
    add = pd.DataFrame({"USUBJID": ["1", "1"], "X": [1, 2]})
    with pytest.raises(DatasetReadError):
        derive_vars_merged(adsl, add, ["USUBJID"], ["X"])
    assert derive_vars_merged(adsl, add, ["USUBJID"], ["X"], order=["X"], mode="first")["X"].tolist() == [1]


def test_base_chg_pchg():
    df = pd.DataFrame({"USUBJID": ["1", "1", "1"], "AVAL": [80.0, 60.0, 100.0], "ABLFL": ["Y", "", ""]})
    df = derive_var_pchg(derive_var_chg(derive_var_base(df, ["USUBJID"])))
    # 60 − 80 = −20 → −25 %; 100 − 80 = 20 → +25 %
    assert df["CHG"].tolist() == [0.0, -20.0, 20.0] and df["PCHG"].tolist() == [0.0, -25.0, 25.0]
