"""ADCM (OCCDS): one record per concomitant or prior medication, with timing flags and study groupings.

CM records (``adcm.filter``, e.g. concomitant medications only) of ADSL subjects (``adcm.population``) get
ASTDT/AENDT with imputation flags, study days, the flags of the record's timing relative to the subject's
treatment (PREFL, ONTRTFL, FUPFL from ``adcm.reference_start``/``reference_end``/``end_window_days``), and the
study's own groupings as Y/blank flags (``adcm.category_flags``: "tocilizumab", "corticosteroid", "given for
CRS or ICANS" are the study's filters over CMTRT/CMDECOD/CMCLAS/CMINDC, never names in this code).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..config import AdamConfig
from .._join import join
from .._frame import fresh, mask, num, rows_where, sort_rows, y_blank
from ..dates import derive_vars_dt, derive_vars_dy
from .sdtm_input import SdtmSource

ADSL_VARS = ["SUBJID", "SITEID", "AGE", "AGEGR1", "SEX", "RACE", "TRT01P", "TRT01PN", "TRT01A", "TRT01AN",
             "TRTSDT", "TRTEDT", "SAFFL"]
CM_VARS = ["CMSEQ", "CMTRT", "CMDECOD", "CMCAT", "CMSCAT", "CMCLAS", "CMCLASCD", "CMINDC", "CMDOSE", "CMDOSU",
           "CMDOSFRQ", "CMROUTE", "CMSTDTC", "CMENDTC", "CMENRTPT"]
ORDER = ["STUDYID", "USUBJID"] + ADSL_VARS + ["TRTA", "TRTAN"] + CM_VARS + [
    "ASTDT", "ASTDTF", "ASTDY", "AENDT", "AENDTF", "AENDY", "PREFL", "ONTRTFL", "FUPFL", "SRCDOM", "SRCSEQ"]


def timing_flags(start: pd.Series, end: pd.Series, ref_start: pd.Series, ref_end: pd.Series,
                 window: float | None) -> tuple[pd.Series, pd.Series, pd.Series]:
    """PREFL, ONTRTFL, FUPFL (Y/blank) of records from their analysis dates and the subject's reference dates.

    PREFL: started before ``ref_start`` (or start unknown). ONTRTFL: taken at some time from ``ref_start``
    to ``ref_end`` + ``window`` days (``window`` None: no end), i.e. not ended before ``ref_start`` and not
    started after the window. FUPFL: started after the window (never when ``window`` is None). A subject
    without ``ref_start`` (not treated) gets blanks.

    >>> f = timing_flags(pd.Series([1., 5., np.nan, 20.]), pd.Series([2., np.nan, 6., 21.]),
    ...                  pd.Series(4.0, index=range(4)), pd.Series(4.0, index=range(4)), 10)
    >>> [list(x) for x in f]
    [['Y', '', 'Y', ''], ['', 'Y', 'Y', ''], ['', '', '', 'Y']]
    """
    treated = ref_start.notna()
    if window is None:
        close = pd.Series(np.inf, index=start.index)
    else:
        close = ref_end.where(ref_end.notna(), ref_start) + window
    pre = treated & (start.isna() | (start < ref_start))
    on = treated & ~(end < ref_start) & ~(start > close)
    fup = treated & (start > close) if window is not None else pd.Series(False, index=start.index)
    return y_blank(pre), y_blank(on), y_blank(fup)


def build_adcm(src: SdtmSource, adsl: pd.DataFrame, config: AdamConfig) -> pd.DataFrame:
    cfg = config["adcm"]
    keys = config.subject_keys
    cm = fresh(src.with_supp("CM"))
    cm = rows_where(cm, cfg["filter"], where="adcm.filter")
    cm["CMSEQ"] = num(cm["CMSEQ"])
    supp_cols = [c for c in cm.columns if c not in src.get("CM").columns]
    cm = cm[keys + [c for c in CM_VARS if c in cm.columns and c not in keys] + supp_cols]
    pop = rows_where(adsl, cfg["population"], where="adcm.population")
    refs = [c for c in (cfg["reference_start"], cfg["reference_end"]) if c not in ADSL_VARS]
    adcm = join(cm, pop[keys + [c for c in ADSL_VARS + refs if c in pop.columns]], keys, "inner")
    adcm["TRTA"], adcm["TRTAN"] = adcm.get("TRT01A", ""), adcm.get("TRT01AN", np.nan)
    si, ei = cfg["start_imputation"], cfg["end_imputation"]
    start_ref, end_ref = cfg["reference_start"], cfg["reference_end"]
    adcm = derive_vars_dt(adcm, "AST", "CMSTDTC", highest_imputation=si["highest"], date_imputation=si["rule"],
                          min_dates=[start_ref] if si["rule"] == "first" else [])
    adcm = derive_vars_dt(adcm, "AEN", "CMENDTC", highest_imputation=ei["highest"], date_imputation=ei["rule"])
    adcm = derive_vars_dy(adcm, start_ref, {"ASTDY": "ASTDT", "AENDY": "AENDT"})
    adcm["PREFL"], adcm["ONTRTFL"], fup = timing_flags(
        adcm["ASTDT"], adcm["AENDT"], num(adcm[start_ref]), num(adcm[end_ref]), cfg["end_window_days"])
    if cfg["end_window_days"] is not None:         # an open window has no follow-up phase: no FUPFL
        adcm["FUPFL"] = fup
    for flag, item in cfg["category_flags"].items():
        adcm[flag] = y_blank(mask(adcm, item["filter"], where=f"adcm.category_flags.{flag}"))
    adcm["SRCDOM"], adcm["SRCSEQ"] = "CM", adcm["CMSEQ"]
    drop = [c for c in supp_cols if c not in ORDER] + [c for c in refs if c not in ORDER]
    adcm = adcm.drop(columns=drop)
    return sort_rows(adcm, keys + ["CMSEQ"]).reset_index(drop=True)
