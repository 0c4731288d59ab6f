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
