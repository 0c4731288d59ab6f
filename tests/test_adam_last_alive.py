"""Last-alive dates derived once per run (adam/recipes/adsl.last_alive_records), read by ADSL.LSTALVDT and by
ADTTE's ``last_alive`` censoring. Expected values: by hand on a small study, and on random records against
pandas (groupby max, sort_values + drop_duplicates) and against ``derive_param_tte`` over every record (the
path before the per-subject reduction)."""
from datetime import date

import numpy as np
import pandas as pd
import pytest
import yaml

from trialforge.adam.build import build_adam
from trialforge.adam.config import adam_config_from_dict
from trialforge.adam.recipes.adsl import last_alive_records
from trialforge.adam.recipes.sdtm_input import SdtmSource
from trialforge.adam.tte import CensorSource, derive_param_tte
from trialforge.objstrings import object_strings


def sas(d: date) -> float:
    return float((d - date(1960, 1, 1)).days)


SPEC = yaml.safe_load("""
datasets: [ADSL, ADTTE]
adsl:
  product_extrt: CAR-T
  last_alive_sources:
    - {domain: AE, date: AESTDTC}
    - {domain: AE, date: AEENDTC}
    - {domain: LB, date: LBDTC}
    - {domain: DS, date: DSSTDTC, filter: "DSDECOD != 'DEATH'"}
adtte:
  parameters:
    - OS
    - {paramcd: OSCUT, param: OS cut at new therapy, events: [death], censors: [start, last_alive],
       censor_at: [new_therapy]}
new_therapy: {domain: CM, date: CMSTDTC, filter: "CMCAT == 'ANTICANCER'"}
pk: {}
""")


def sdtm():
    ids = ["S-1", "S-2", "S-3", "S-4"]
    dm = pd.DataFrame({"STUDYID": "S", "USUBJID": ids, "SUBJID": ["1", "2", "3", "4"], "SITEID": "01", "AGE": 50,
                       "AGEU": "YEARS", "SEX": "M", "RACE": "WHITE", "ETHNIC": "", "COUNTRY": "USA", "ARM": "A",
                       "ARMCD": "A", "ACTARM": "A", "ACTARMCD": "A", "ARMNRS": "",
                       "DTHDTC": ["", "", "", "2024-02-10"], "DTHFL": ["", "", "", "Y"]})
    ex = pd.DataFrame({"STUDYID": "S", "USUBJID": ids[:3] + ["S-4"], "EXSEQ": 1, "EXTRT": "CAR-T", "EXDOSE": 1.0,
                       "EXSTDTC": "2024-01-01", "EXENDTC": ""})
    # S-1: latest date 03-05 in AE (end of AESEQ 2) and LB (LBSEQ 7) alike: a tie goes to the later source (LB);
    #      within LB, two records on 03-05: the later row (LBSEQ 8) is picked.
    # S-2: only partial / blank dates in LB (not dated), the latest is the AE start 01-20.
    # S-3: the DS record 04-01 is the latest, its DEATH record (05-01) is filtered out; new therapy 02-01 cuts
    #      OSCUT follow-up: the latest before the cut is LB 01-15.
    # S-4: died (event), records after death do not matter.
    ae = pd.DataFrame({"STUDYID": "S", "USUBJID": ["S-1", "S-1", "S-2", "S-3"], "AESEQ": [1, 2, 1, 1],
                       "AESTDTC": ["2024-01-10", "2024-02-01", "2024-01-20", "2024-01-05"],
                       "AEENDTC": ["2024-01-12", "2024-03-05", "", ""]})
    lb = pd.DataFrame({"STUDYID": "S", "USUBJID": ["S-1", "S-1", "S-1", "S-2", "S-2", "S-3", "S-4"],
                       "LBSEQ": [6, 7, 8, 1, 2, 1, 1],
                       "LBDTC": ["2024-01-02", "2024-03-05", "2024-03-05T10:00", "2024-02", "", "2024-01-15",
                                 "2024-03-01"]})
    ds = pd.DataFrame({"STUDYID": "S", "USUBJID": ["S-3", "S-3"], "DSSEQ": [1, 2], "DSCAT": "DISPOSITION EVENT",
                       "DSDECOD": ["COMPLETED", "DEATH"], "DSSTDTC": ["2024-04-01", "2024-05-01"]})
    cm = pd.DataFrame({"STUDYID": "S", "USUBJID": ["S-3"], "CMSEQ": [1], "CMCAT": "ANTICANCER",
                       "CMSTDTC": ["2024-02-01"]})
    return {"DM": dm, "EX": ex, "AE": ae, "LB": lb, "DS": ds, "CM": cm}


@pytest.fixture(scope="module")
def built():
    out = build_adam(sdtm(), adam_config_from_dict(SPEC))
    return {k: v.frame for k, v in out.items()}


def test_lstalvdt_by_hand(built):
    adsl = built["ADSL"].set_index("USUBJID")
    assert adsl["LSTALVDT"].to_dict() == {"S-1": sas(date(2024, 3, 5)), "S-2": sas(date(2024, 1, 20)),
                                          "S-3": sas(date(2024, 4, 1)), "S-4": sas(date(2024, 3, 1))}


def test_os_last_alive_censoring_by_hand(built):
    tte = built["ADTTE"]
    os_ = tte.loc[tte["PARAMCD"] == "OS"].set_index("USUBJID")
    got = os_[["CNSR", "ADT", "SRCDOM", "SRCVAR", "SRCSEQ"]].to_dict("index")
    assert got["S-1"] == {"CNSR": 1.0, "ADT": sas(date(2024, 3, 5)), "SRCDOM": "LB", "SRCVAR": "LBDTC",
                          "SRCSEQ": 8.0}
    assert got["S-2"] == {"CNSR": 1.0, "ADT": sas(date(2024, 1, 20)), "SRCDOM": "AE", "SRCVAR": "AESTDTC",
                          "SRCSEQ": 1.0}
    assert got["S-3"] == {"CNSR": 1.0, "ADT": sas(date(2024, 4, 1)), "SRCDOM": "DS", "SRCVAR": "DSSTDTC",
                          "SRCSEQ": 1.0}
    assert (got["S-4"]["CNSR"], got["S-4"]["ADT"]) == (0.0, sas(date(2024, 2, 10)))
    cut = tte.loc[tte["PARAMCD"] == "OSCUT"].set_index("USUBJID")      # follow-up cut: the full records path
    assert (cut.loc["S-3", "ADT"], cut.loc["S-3", "SRCDOM"], cut.loc["S-3", "SRCSEQ"]) == (
        sas(date(2024, 1, 15)), "LB", 1.0)
    assert cut.loc["S-1", "ADT"] == sas(date(2024, 3, 5))


def _random_study(seed: int, n_subj: int = 40):
    rng = np.random.default_rng(seed)
    ids = [f"R-{i:03d}" for i in range(n_subj)]
    frames = {}
    for dom in ("AE", "LB"):
        n = int(rng.integers(0, 8 * n_subj))
        day = rng.integers(0, 60, n)                    # few distinct days: many ties
        texts = np.array([f"2024-{1 + d // 28:02d}-{1 + d % 28:02d}" for d in day], dtype=object)
        texts[rng.random(n) < 0.15] = ""                # undated
        texts[rng.random(n) < 0.1] = "2024-02"          # partial (not imputed by default)
        frames[dom] = pd.DataFrame({"STUDYID": "R", "USUBJID": rng.choice(ids + ["R-OUT"], n),
                                    f"{dom}SEQ": rng.permutation(n).astype(float) + 1,
                                    f"{dom}DTC": texts})
    return ids, frames


@pytest.mark.parametrize("seed", range(12))
def test_records_against_pandas_and_the_full_pick(seed):
    ids, frames = _random_study(seed)
    spec = {"adsl": {"product_extrt": "X", "last_alive_sources": [
        {"domain": "AE", "date": "AEDTC"}, {"domain": "LB", "date": "LBDTC"}]}, "pk": {}}
    config = adam_config_from_dict(spec)
    keys = config.subject_keys
    with object_strings():
        src = SdtmSource(frames)
        got = last_alive_records(src, config)
        assert last_alive_records(src, config) is got                  # once per run
        assert [i for i, *_ in got] == [0, 1]
        adsl = pd.DataFrame({"STUDYID": "R", "USUBJID": ids, "TRTSDT": 0.0})
        full, reduced = {}, {}
        for i, item, records, latest in got:
            raw = frames[item["domain"]]
            assert len(records) == len(raw)
            dated = records.loc[records["DT"].notna()]
            # pandas: the last record in stable date order per subject
            want = dated.sort_values("DT", kind="mergesort").drop_duplicates(keys, keep="last")
            pd.testing.assert_frame_equal(latest, want.reset_index(drop=True))
            assert (latest.groupby("USUBJID")["DT"].max() == dated.groupby("USUBJID")["DT"].max()).all()
            full[f"a{i}"], reduced[f"a{i}"] = records, latest
        censors = [CensorSource(f"a{i}", date="DT", copy_vars={"SRCSEQ": "SEQ"}, set_values_to={"SRCDOM": str(i)})
                   for i in range(len(got))]
        args = dict(start_date="TRTSDT", event_conditions=[], censor_conditions=censors,
                    set_values_to={"PARAMCD": "T"}, subject_keys=keys)
        pd.testing.assert_frame_equal(derive_param_tte(adsl, reduced, **args), derive_param_tte(adsl, full, **args))


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("strict,last", [(False, False), (True, False), (True, True), (False, True)])
def test_first_record_in_window_against_the_frame_path(seed, strict, last, monkeypatch):
    """adtte._first (key codes + numpy) picks the same records as _first_frames (join, filters, sort_values,
    drop_duplicates), kept as the reference: ties in date, undated records, subjects outside the parameter,
    missing start or cut dates."""
    from trialforge.adam.recipes import adtte
    rng = np.random.default_rng(seed)
    ids = [f"R-{i:02d}" for i in range(30)]
    n = int(rng.integers(0, 200))
    with object_strings():
        records = pd.DataFrame({"STUDYID": "R", "USUBJID": rng.choice(ids + ["R-OUT"], n),
                                "DT": np.where(rng.random(n) < 0.1, np.nan, rng.integers(0, 15, n).astype(float)),
                                "SRCDOM": rng.choice(["AE", "LB"], n), "SRCVAR": "X", "SRCSEQ": np.arange(n) + 1.0,
                                "DESC": "D"})
        subj = pd.DataFrame({"STUDYID": "R", "USUBJID": ids,
                             "STARTDT": np.where(rng.random(30) < 0.1, np.nan, rng.integers(0, 6, 30).astype(float)),
                             "CUTDT": np.where(rng.random(30) < 0.5, np.nan, rng.integers(5, 15, 30).astype(float))})
    keys = ["STUDYID", "USUBJID"]
    with object_strings():                  # as in the build
        want = adtte._first_frames(records, subj, keys, strict=strict, last=last)
        monkeypatch.setattr(adtte, "_first_frames", None)      # the array path must not fall back
        got = adtte._first(records, subj, keys, strict=strict, last=last)
    order = lambda f: f.sort_values("USUBJID").reset_index(drop=True)   # noqa: E731  (rows: one per subject)
    pd.testing.assert_frame_equal(order(got), order(want))
    assert got["DT"].is_monotonic_increasing
