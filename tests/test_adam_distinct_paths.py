"""Per-key and per-distinct-value shortcuts of the ADaM build, by hand and against the pandas operations they
replace: the latest date per subject (derive_var_max_date) and ISO 8601 durations read once per text."""
import numpy as np
import pandas as pd
import pytest

from trialforge.adam.derive import _latest_per_key, derive_var_max_date
from trialforge.adam.recipes.pk import iso_duration_days
from trialforge.errors import DateFormatError


def test_latest_date_per_subject_by_hand():
    adsl = pd.DataFrame({"STUDYID": "S", "USUBJID": ["1", "2", "3"]})
    ae = pd.DataFrame({"STUDYID": "S", "USUBJID": ["1", "1", "2", None], "DT": [10.0, np.nan, 5.0, 99.0]})
    lb = pd.DataFrame({"STUDYID": "S", "USUBJID": ["1", "3"], "DT": [12.0, np.nan]})
    out = derive_var_max_date(adsl, "LSTALVDT", [ae, lb], ["STUDYID", "USUBJID"])
    assert out["LSTALVDT"].tolist()[:2] == [12.0, 5.0] and np.isnan(out["LSTALVDT"].iloc[2])


def test_latest_per_key_equals_groupby_max():
    rng = np.random.default_rng(5)
    frames = []
    for n in (500, 300, 0, 50):
        frames.append(pd.DataFrame({"A": rng.choice(["x", "y", None], n).astype(object),
                                    "B": rng.choice([f"S{i}" for i in range(40)], n).astype(object),
                                    "DT": np.where(rng.random(n) < 0.2, np.nan, rng.integers(0, 900, n) + 0.5)}))
    got = _latest_per_key(frames, ["A", "B"], "DT")
    allx = pd.concat(frames, ignore_index=True)
    expected = allx.dropna(subset=["DT"]).groupby(["A", "B"], as_index=False)["DT"].max()
    got = got.sort_values(["A", "B"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)


def test_durations_read_once_per_text_by_hand():
    text = pd.Series(["P7D", "PT12H", "", "P7D", "-PT1H", "P1W", "P1DT6H", "PT12H"], index=range(10, 18))
    got = iso_duration_days(text)
    assert got.index.tolist() == list(range(10, 18)) and got.dtype == "float64"
    expected = [7.0, 0.5, np.nan, 7.0, -1 / 24, 7.0, 1.25, 0.5]
    np.testing.assert_allclose(got.to_numpy(), expected, rtol=0, atol=1e-15)


def test_bad_duration_names_its_first_row():
    with pytest.raises(DateFormatError) as err:
        iso_duration_days(pd.Series(["P1D", "PT", "P2D", "PT"]), column="PCELTM")
    assert err.value.row == 2 and err.value.value == "PT" and err.value.column == "PCELTM"


def test_study_day_by_hand_with_missing_dates():
    from trialforge.adam.dates import derive_vars_dy
    df = pd.DataFrame({"TRTSDT": [100.0, 100.0, np.nan, 100.0, 100.0], "ADT": [100.0, 99.0, 105.0, np.nan, 130.0],
                       "AENDT": [101.0, 101.0, 101.0, 101.0, np.nan]}, index=[7, 3, 9, 1, 0])
    out = derive_vars_dy(df, "TRTSDT", {"ADY": "ADT", "AENDY": "AENDT"})
    assert out.index.tolist() == [7, 3, 9, 1, 0]
    np.testing.assert_array_equal(out["ADY"].to_numpy(), [1.0, -1.0, np.nan, np.nan, 31.0])
    np.testing.assert_array_equal(out["AENDY"].to_numpy(), [2.0, 2.0, np.nan, 2.0, np.nan])
    assert "ADY" not in df.columns
