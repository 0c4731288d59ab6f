"""PK / cellular kinetics declared in the spec: profiles per analyte x specimen (plasma and urine never
pooled), time in hours honoured, linear vs linear-up/log-down AUC, partial-interval tolerance, nominal
times, and the time to return to baseline / below LLOQ. Expected values worked by hand."""
import math

import numpy as np
import pandas as pd
import pytest

from trialforge.adam.build import build_adam
from trialforge.adam.config import adam_config_from_dict


def study(pc_rows):
    dm = pd.DataFrame({"STUDYID": "K", "USUBJID": ["K-1"], "SUBJID": "1", "SITEID": "1", "AGE": 50.0,
                       "AGEU": "YEARS", "SEX": "M", "RACE": "WHITE", "ETHNIC": "", "COUNTRY": "USA", "ARM": "A",
                       "ARMCD": "A", "ACTARM": "A", "ACTARMCD": "A", "ARMNRS": ""})
    ex = pd.DataFrame({"STUDYID": "K", "USUBJID": ["K-1"], "EXTRT": "DRUG", "EXDOSE": 10.0,
                       "EXSTDTC": "2024-01-01T08:00", "EXENDTC": "2024-01-01T08:00"})
    pc = pd.DataFrame(pc_rows, columns=["PCSPEC", "PCDTC", "PCSTRESC", "PCELTM"])
    pc = pc.assign(STUDYID="K", USUBJID="K-1", PCSEQ=np.arange(1, len(pc) + 1, dtype=float), PCTESTCD="DRUG",
                   PCTEST="Drug", PCSTRESU="ng/mL", PCLLOQ=1.0,
                   PCSTRESN=pd.to_numeric(pc["PCSTRESC"], errors="coerce"))
    return {"DM": dm, "EX": ex, "PC": pc}


HOURS = [("PLASMA", "2024-01-01T08:00", "<LLOQ", "PT0H"), ("PLASMA", "2024-01-01T09:00", "10", "PT1H"),
         ("PLASMA", "2024-01-01T10:00", "20", "PT2H"), ("PLASMA", "2024-01-01T12:00", "10", "PT4H"),
         ("URINE", "2024-01-01T09:00", "1000", "PT1H"), ("URINE", "2024-01-01T10:00", "5000", "PT2H"),
         ("URINE", "2024-01-01T12:10", "2000", "PT4H")]


def adpp(rows, pk):
    built = build_adam(study(rows), adam_config_from_dict({"adsl": {"product_extrt": "DRUG"}, "pk": pk}))
    frame = built["ADPP"].frame
    return {(r.PARCAT1, r.PARAMCD): r.AVAL for r in frame.itertuples()}, built


def test_plasma_and_urine_are_separate_profiles_and_auc_is_in_hours():
    res, built = adpp(HOURS, {"time_unit": "h", "intervals": [[0, 4]]})
    assert res[("PLASMA", "CMAX")] == 20.0 and res[("URINE", "CMAX")] == 5000.0    # never pooled
    assert res[("PLASMA", "TMAX")] == 2.0                                              # hours
    # plasma AUC0-4h, linear up to 2 h then log-down: 0→1 h (0+10)/2 = 5; 1→2 h (10+20)/2 = 15;
    # 2→4 h (20−10)/ln(20/10)·2 = 28.8539...
    assert res[("PLASMA", "AUC4H")] == pytest.approx(5 + 15 + 10 / math.log(2) * 2, rel=1e-12)
    adpc = built["ADPC"].frame
    assert adpc.loc[adpc["PARCAT1"] == "URINE", "AFRLT"].tolist() == pytest.approx([1.0, 2.0, 4 + 10 / 60])
    assert set(built["ADPP"].frame.loc[built["ADPP"].frame["PARAMCD"] == "AUC4H", "AVALU"]) == {"h*ng/mL"}
    pp = built["PP"].frame
    auc = pp.loc[(pp["PPTESTCD"] == "AUCINT") & (pp["PPSPEC"] == "PLASMA")].iloc[0]
    assert (auc["PPSTINT"], auc["PPENINT"], auc["PPSTRESU"]) == ("PT0H", "PT4H", "h*ng/mL")
    # urine ends at 4 h 10 min: its AUC0-4h interpolates log-linearly at 4 h, so it exists too
    assert not np.isnan(res[("URINE", "AUC4H")])


def test_linear_auc_differs_from_log_down():
    res, _ = adpp(HOURS, {"time_unit": "h", "intervals": [[0, 4]], "auc_method": "linear"})
    assert res[("PLASMA", "AUC4H")] == pytest.approx(5 + 15 + (20 + 10) / 2 * 2)         # 50


def test_nominal_times():
    # nominal: urine's last sample is at 4 h exactly (PCELTM), so AUC0-4 = 500 + 3000 + (5000−2000)/ln(2.5)·2
    res, _ = adpp(HOURS, {"time_unit": "h", "intervals": [[0, 4]], "time": "nominal", "specimens": ["URINE"]})
    expected = (0 + 1000) / 2 + (1000 + 5000) / 2 + (5000 - 2000) / math.log(5000 / 2000) * 2
    assert res[("URINE", "AUC4H")] == pytest.approx(expected)
    assert ("PLASMA", "CMAX") not in res                                                # specimen filter


DAYS = [("BLOOD", "2023-12-31T08:00", "50", "-P1D"), ("BLOOD", "2024-01-08T08:00", "900", "P7D"),
        ("BLOOD", "2024-01-15T08:00", "300", "P14D"), ("BLOOD", "2024-01-28T08:00", "60", "P27D"),
        ("BLOOD", "2024-02-26T08:00", "20", "P56D"), ("BLOOD", "2024-03-25T08:00", "<LLOQ", "P84D")]


def test_partial_interval_rule():
    # last sample before day 28 is day 27: with a 2-day tolerance AUC0-28 runs to day 27, else missing
    strict, _ = adpp(DAYS[:4], {"intervals": [[0, 28]]})
    tolerant, _ = adpp(DAYS[:4], {"intervals": [[0, 28]], "interval_tolerance": 2})
    assert np.isnan(strict[("BLOOD", "AUC28D")])
    # 0→7 linear (0+900)/2·7; 7→14 log (900−300)/ln3·7; 14→27 log (300−60)/ln5·13
    expected = 900 / 2 * 7 + 600 / math.log(3) * 7 + 240 / math.log(5) * 13
    assert tolerant[("BLOOD", "AUC28D")] == pytest.approx(expected)


def test_time_to_return_to_baseline_and_below_lloq():
    pk = {"persistence": [{"paramcd": "TRTBL", "param": "Time to Return to Baseline"},
                          {"paramcd": "TBLQ", "param": "Time to Fall Below LLOQ", "rule": "lloq"}]}
    res, built = adpp(DAYS, pk)
    # pre-dose 50; after Tmax (day 7): 300, 60 are above 50, day 56: 20 <= 50 → 56 days; first BLQ: day 84
    assert res[("BLOOD", "TMAX")] == 7.0
    assert res[("BLOOD", "TRTBL")] == 56.0 and res[("BLOOD", "TBLQ")] == 84.0
    assert "first time after TMAX" in built["ADPP"].meta.variable("AVAL").method
