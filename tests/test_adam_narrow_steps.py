"""Steps that now read only the columns they need: derive_var_extreme_flag sorts and de-duplicates the by/order
columns alone (reference: the whole frame sorted with sort_values and de-duplicated, what it did before), and
make_dataset keeps float64 columns without an astype copy (values and independence from the recipe frame)."""
import numpy as np
import pandas as pd
import pytest

from trialforge.adam.derive import derive_var_extreme_flag
from trialforge.adam.metadata import make_dataset
from trialforge.objstrings import object_strings


def _reference(frame, by_vars, order, mode, keep):
    cols = [o.lstrip("-") for o in order]
    asc = [not o.startswith("-") for o in order]
    cand = frame.loc[keep].sort_values(cols, ascending=asc, kind="mergesort", na_position="last")
    chosen = cand.drop_duplicates(by_vars, keep="first" if mode == "first" else "last").index
    return np.where(frame.index.isin(chosen), "Y", "")


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("order,mode", [(["ASTDT", "AESEQ"], "first"), (["-GR", "ASTDT"], "first"),
                                        (["ASTDT"], "last")])
def test_extreme_flag_against_the_whole_frame_sort(seed, order, mode):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 3000))          # both sort paths (np.lexsort up to 2,000 rows, pandas above)
    with object_strings():
        ae = pd.DataFrame({"USUBJID": rng.choice(["1", "2", "3", "4"], n), "SOC": rng.choice(["A", "B"], n),
                           "ASTDT": np.where(rng.random(n) < 0.1, np.nan, rng.integers(0, 9, n).astype(float)),
                           "AESEQ": rng.permutation(n).astype(float),
                           "GR": np.where(rng.random(n) < 0.1, np.nan, rng.integers(1, 5, n).astype(float)),
                           "OTHER": rng.choice(["x", "y"], n), "TE": rng.random(n) < 0.7},
                          index=rng.permutation(n) + 100)
        got = derive_var_extreme_flag(ae, ["USUBJID", "SOC"], order, "FL", mode=mode, filter="TE")
    want = _reference(ae, ["USUBJID", "SOC"], order, mode, ae["TE"].to_numpy())
    assert got["FL"].tolist() == want.tolist()
    assert list(got.columns) == list(ae.columns) + ["FL"]


def test_make_dataset_float_columns_are_values_not_views():
    with object_strings():
        frame = pd.DataFrame({"STUDYID": ["S", "S"], "USUBJID": ["1", "2"], "AVAL": [1.5, np.nan],
                              "AGE": np.array([30, 40], dtype=np.int64)}, index=[5, 9])
        ds = make_dataset("ADSL", frame, ["STUDYID", "USUBJID", "AGE", "AVAL"], {"AVAL": "Analysis Value"})
    out = ds.frame
    assert out.index.tolist() == [0, 1]
    assert out["AVAL"].dtype == np.float64 and out["AGE"].dtype == np.float64
    assert out["AVAL"].tolist()[0] == 1.5 and np.isnan(out["AVAL"].tolist()[1]) and out["AGE"].tolist() == [30.0, 40.0]
    frame.loc[5, "AVAL"] = 99.0             # the recipe frame changing afterwards leaves the dataset alone
    assert out["AVAL"].tolist()[0] == 1.5


def test_bds_text_from_sdtm_columns_of_any_type():
    """build_bds takes the normalised SDTM text as it is (sdtm_text): padded text arrives stripped, numbers stored
    in text variables by another tool arrive as text, blanks and missing as "" (expected by hand)."""
    from trialforge.adam.config import adam_config_from_dict
    from trialforge.adam.recipes.adlb import build_adlb
    from trialforge.adam.recipes.sdtm_input import SdtmSource
    lb = pd.DataFrame({"STUDYID": "S", "USUBJID": ["1", "1", "2"], "LBSEQ": [1, 2, 1],
                       "LBTESTCD": [" HGB", "HGB ", "ALT"], "LBTEST": ["Hemoglobin", "Hemoglobin", "ALT"],
                       "LBCAT": [1.0, 1.0, np.nan], "LBSTRESC": [" 5 ", None, "<3"], "LBSTRESN": [np.nan, 6.0, np.nan],
                       "LBSTRESU": ["g/L", "g/L", ""], "LBNRIND": ["", "HIGH", None], "VISIT": [1.0, 2.0, 1.0],
                       "LBLOBXFL": ["Y", "", " Y"], "LBDTC": ["2024-01-01", "2024-01-09", "2024-01-01"]})
    config = adam_config_from_dict({"adsl": {"product_extrt": "X"}, "pk": {},
                                    "adlb": {"baseline_flag": "LBLOBXFL", "reference_date": "TRTSDT"}})
    with object_strings():
        adsl = pd.DataFrame({"STUDYID": "S", "USUBJID": ["1", "2"], "TRTSDT": [23376.0, 23376.0], "SAFFL": "Y"})
        out = build_adlb(SdtmSource({"LB": lb}), adsl, config)
    rows = out.set_index(["USUBJID", "LBSEQ"])
    assert rows["PARAMCD"].to_dict() == {("1", 1.0): "HGB", ("1", 2.0): "HGB", ("2", 1.0): "ALT"}
    assert rows["PARCAT1"].to_dict() == {("1", 1.0): "1", ("1", 2.0): "1", ("2", 1.0): ""}
    assert rows["AVALC"].to_dict() == {("1", 1.0): "5", ("1", 2.0): "", ("2", 1.0): "<3"}
    assert rows["AVISIT"].to_dict() == {("1", 1.0): "1", ("1", 2.0): "2", ("2", 1.0): "1"}
    assert rows["ANRIND"].to_dict() == {("1", 1.0): "", ("1", 2.0): "HIGH", ("2", 1.0): ""}
    assert rows["PARAM"].to_dict() == {("1", 1.0): "Hemoglobin (g/L)", ("1", 2.0): "Hemoglobin (g/L)", ("2", 1.0): "ALT"}
    # ABLFL: the flag ' Y' is stripped; the HGB flag row has no AVAL but AVALC '5' is not a value of a numeric
    # parameter (HGB has an AVAL on another record), so no baseline there; ALT is character-only: AVALC '<3' counts
    assert rows["ABLFL"].to_dict() == {("1", 1.0): "", ("1", 2.0): "", ("2", 1.0): "Y"}
