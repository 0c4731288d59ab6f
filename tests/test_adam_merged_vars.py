"""ADSL ``merged_vars`` on arrays (adsl._merged_var) against the frame path it replaced (adsl._merged_var_frames:
filters, joins, ``derive_vars_merged``), kept as the reference and as the fallback, on random records: ties in
the order, missing order values, descending keys, records of subjects ADSL lacks, missing ADSL reference dates,
every mode and date rule; and by hand on a few records."""
import numpy as np
import pandas as pd
import pytest

from trialforge.adam.config import adam_config_from_dict
from trialforge.adam.recipes import adsl as adsl_recipe
from trialforge.adam.recipes.sdtm_input import SdtmSource
from trialforge.objstrings import object_strings

KEYS = ["STUDYID", "USUBJID"]


def _item(**given) -> dict:
    spec = {"adsl": {"product_extrt": "X", "merged_vars": [{"new_var": "NEWV", "domain": "XX", **given}]}, "pk": {}}
    return adam_config_from_dict(spec)["adsl"]["merged_vars"][0]


def _study(seed: int):
    rng = np.random.default_rng(seed)
    ids = [f"S-{i:02d}" for i in range(25)]
    n = int(rng.integers(0, 150))
    day = rng.integers(0, 20, n)
    dtc = np.array([f"2024-01-{1 + d:02d}" for d in day], dtype=object)
    dtc[rng.random(n) < 0.1] = ""
    xx = pd.DataFrame({"STUDYID": "T", "USUBJID": rng.choice(ids + ["S-XX", "S-YY"], n),
                       "XXSEQ": rng.permutation(n).astype(float),
                       "XXCAT": rng.choice(["A", "B"], n),
                       "XXRANK": np.where(rng.random(n) < 0.2, np.nan, rng.integers(0, 4, n).astype(float)),
                       "XXVAL": rng.choice(["LOW", "MID", "HIGH", ""], n),
                       "XXNUM": np.where(rng.random(n) < 0.1, np.nan, rng.normal(size=n).round(2)),
                       "XXDTC": dtc})
    ref = np.where(rng.random(len(ids)) < 0.2, np.nan, 23376.0 + rng.integers(0, 20, len(ids)))
    with object_strings():                  # ADSL text as the build has it (object)
        adsl = pd.DataFrame({"STUDYID": "T", "USUBJID": ids, "REFDT": ref})
    return xx, adsl


def _frames_path_refused(*args, **kwargs):
    raise AssertionError("the array path fell back to the frame path")


ITEMS = [
    dict(value="XXVAL"),
    dict(value="XXVAL", mode="last"),
    dict(value="XXNUM", type="Num", order=["XXRANK", "XXSEQ"], mode="last"),
    dict(value="XXVAL", order=["-XXRANK", "XXDTC"], mode="first", filter="XXCAT == 'A'"),
    dict(value="XXNUM", type="Num", order=["XXDTC"], mode="first", date="XXDTC", on_or_before="REFDT"),
    dict(value="XXVAL", order=["XXDTC", "XXSEQ"], mode="last", date="XXDTC", on_or_after="REFDT"),
    dict(mode="exists", date="XXDTC", after="REFDT", filter="XXCAT == 'B'"),
    dict(mode="exists"),
    dict(value="XXVAL", order=["XXRANK"], mode="first", filter="XXCAT == 'C'"),       # no record at all
]


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("given", ITEMS, ids=[str(i) for i in range(len(ITEMS))])
def test_arrays_equal_the_frame_path(seed, given, monkeypatch):
    xx, adsl = _study(seed)
    item = _item(**given)
    reference = adsl_recipe._merged_var_frames
    with object_strings():
        src = SdtmSource({"XX": xx})
        want = reference(adsl.copy(), src, item, KEYS)
        monkeypatch.setattr(adsl_recipe, "_merged_var_frames", _frames_path_refused)
        got = adsl_recipe._merged_var(adsl.copy(), src, item, KEYS)
    pd.testing.assert_series_equal(got["NEWV"], want["NEWV"])


def test_unique_records_without_mode_and_duplicates_still_an_error():
    xx, adsl = _study(3)
    one = xx.drop_duplicates("USUBJID").reset_index(drop=True)
    with object_strings():
        item = {**_item(value="XXVAL"), "mode": None}       # the config fills "first"; the function allows None
        got = adsl_recipe._merged_var(adsl.copy(), SdtmSource({"XX": one}), item, KEYS)
        want = adsl_recipe._merged_var_frames(adsl.copy(), SdtmSource({"XX": one}), item, KEYS)
        pd.testing.assert_series_equal(got["NEWV"], want["NEWV"])
        with pytest.raises(Exception, match="more than one record"):
            adsl_recipe._merged_var(adsl.copy(), SdtmSource({"XX": xx}), item, KEYS)


def test_by_hand():
    xx = pd.DataFrame({"STUDYID": "T", "USUBJID": ["1", "1", "1", "2", "9"], "XXSEQ": [1.0, 2.0, 3.0, 1.0, 1.0],
                       "XXVAL": ["a", "b", "c", "d", "z"], "XXRANK": [2.0, np.nan, 2.0, 1.0, 0.0],
                       "XXDTC": ["2024-01-05", "2024-01-01", "2024-01-09", "2024-01-03", "2024-01-01"]})
    with object_strings():
        adsl = pd.DataFrame({"STUDYID": "T", "USUBJID": ["1", "2", "3"], "REFDT": [23380.0, np.nan, 23380.0]})
        src = SdtmSource({"XX": xx})
        run = lambda **g: adsl_recipe._merged_var(adsl.copy(), src, _item(**g), KEYS)["NEWV"].tolist()  # noqa: E731
        # rank 2 twice for subject 1 (SEQ 1 and 3), the missing rank sorts last: last = the missing rank (b)
        assert run(value="XXVAL", order=["XXRANK"], mode="last") == ["b", "d", ""]
        assert run(value="XXVAL", order=["XXRANK"], mode="first") == ["a", "d", ""]
        assert run(value="XXVAL", order=["-XXRANK"], mode="first") == ["a", "d", ""]
        # on or before 2024-01-05 (23380): subject 1 a (01-05) and b (01-01), last by date = a; subject 2 has no
        # reference date: all its records count
        assert run(value="XXVAL", order=["XXDTC"], mode="last", date="XXDTC", on_or_before="REFDT") == ["a", "d", ""]
        assert run(mode="exists", date="XXDTC", after="REFDT") == ["Y", "N", "N"]
        last_seq = run(value="XXSEQ", type="Num", order=["XXDTC"], mode="last")
        assert last_seq[:2] == [3.0, 1.0] and np.isnan(last_seq[2])
