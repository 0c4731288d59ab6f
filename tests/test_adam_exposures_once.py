"""ADSL's exposure dates of several treatment groups (product, lymphodepletion) with the dose records dated once
(``adsl._exposures``) and ``exposure_dates`` itself, against the implementation they replace (kept below as the
reference: filter, then date, per group)."""
import numpy as np
import pandas as pd
import pytest

from trialforge.adam._frame import char, fresh, num, stable_sort
from trialforge.adam.dates import derive_vars_dt, derive_vars_dtm
from trialforge.adam.recipes.adsl import _exposures, exposure_dates
from trialforge.objstrings import object_strings


def _old_exposure_dates(ex, treatments, keys, *, zero_dose_counts=False, blank_end="start"):
    rows = fresh(ex.loc[char(ex["EXTRT"]).str.upper().isin([t.upper() for t in treatments])])
    if "EXOCCUR" in rows.columns:
        rows = rows.loc[char(rows["EXOCCUR"]).str.upper() != "N"]
    if "EXDOSE" in rows.columns:
        dose = num(rows["EXDOSE"])
        given = dose.isna() | (dose > 0)
        if zero_dose_counts is True:
            given |= dose == 0
        elif zero_dose_counts:
            given |= (dose == 0) & char(rows["EXTRT"]).str.upper().isin([t.upper() for t in zero_dose_counts])
        rows = rows.loc[given]
    if not len(rows):
        return pd.DataFrame(columns=keys + ["SDT", "SDTM", "STMF", "EDT", "EDTM"])
    rows = derive_vars_dt(rows, "S", "EXSTDTC")
    rows = derive_vars_dtm(rows, "S", "EXSTDTC", highest_imputation="h", time_imputation="first")
    end_dtc = "EXENDTC" if "EXENDTC" in rows.columns else "EXSTDTC"
    if blank_end == "start":
        rows[end_dtc] = char(rows[end_dtc]).where(char(rows[end_dtc]) != "", char(rows["EXSTDTC"]))
    rows = derive_vars_dt(rows, "E", end_dtc)
    rows = derive_vars_dtm(rows, "E", end_dtc, highest_imputation="h", time_imputation="last", flag_imputation="none")
    first = stable_sort(rows, ["SDTM", "SDT"]).drop_duplicates(keys, keep="first")[keys + ["SDT", "SDTM", "STMF"]]
    last = rows.groupby(keys, as_index=False).agg(EDT=("EDT", "max"), EDTM=("EDTM", "max"))
    return first.merge(last, on=keys, how="outer")


def _ex(n=400, seed=3):
    rng = np.random.default_rng(seed)
    days = rng.integers(1, 28, n)
    start = np.array([f"2024-0{m}-{d:02d}" + t for m, d, t in zip(rng.integers(1, 9, n), days,
                                                                    rng.choice(["", "T08:30", "T14:05:10"], n))])
    end = np.where(rng.random(n) < 0.3, "", start)
    return pd.DataFrame({"STUDYID": "S", "USUBJID": rng.choice([f"S-{i:02d}" for i in range(40)], n),
                         "EXTRT": rng.choice(["DRUG", "drug ", "CYCLO", "FLU", "PLACEBO"], n),
                         "EXOCCUR": rng.choice(["", "Y", "N"], n), "EXDOSE": rng.choice([0.0, 5.0, np.nan], n),
                         "EXSTDTC": start, "EXENDTC": end})


@pytest.mark.parametrize("zero", [False, True, ["PLACEBO"]])
@pytest.mark.parametrize("blank_end", ["start", "ignore"])
def test_groups_dated_once_are_each_group_alone(zero, blank_end):
    ex, keys = _ex(), ["STUDYID", "USUBJID"]
    groups = [["DRUG", "PLACEBO"], ["CYCLO", "FLU"], ["NONE GIVEN"]]
    with object_strings():
        got = _exposures(ex, groups, keys, zero_dose_counts=zero, blank_end=blank_end)
        for g, frame in zip(groups, got):
            want = _old_exposure_dates(ex, g, keys, zero_dose_counts=zero, blank_end=blank_end)
            pd.testing.assert_frame_equal(frame, want, check_exact=True)
            alone = exposure_dates(ex, g, keys, zero_dose_counts=zero, blank_end=blank_end)
            pd.testing.assert_frame_equal(alone, want, check_exact=True)
    assert len(got[0]) and len(got[1]) and not len(got[2])
