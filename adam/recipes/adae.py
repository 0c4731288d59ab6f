"""ADAE: one record per AE, with ADSL treatment/population variables and analysis flags.

Expects AE (STUDYID USUBJID AESEQ AETERM AEDECOD AEBODSYS AESTDTC AEENDTC AETOXGR AESER ...) and SUPPAE
(QNAM/QVAL joined by IDVAR AESEQ) for study qualifiers such as the ASTCT grade or the DLT assessment.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..config import AdamConfig
from .._join import join
from .._frame import char, fresh, mask, num, sort_rows, y_blank
from ..dates import derive_vars_dt, derive_vars_dy
from ..derive import (derive_var_extreme_flag, derive_var_grade_numeric, derive_var_trtemfl, derive_vars_duration)
from .sdtm_input import SdtmSource

ADSL_VARS = ["SUBJID", "SITEID", "AGE", "AGEGR1", "AGEGR1N", "SEX", "RACE", "TRT01P", "TRT01PN", "TRT01A",
             "TRT01AN", "LDSTDT", "TRTSDT", "TRTEDT", "DTHDT", "SAFFL", "DLTEVLFL"]
AE_VARS = ["AESEQ", "AETERM", "AEDECOD", "AEHLT", "AEBODSYS", "AESOC", "AETOXGR", "AESER", "AESDTH", "AEOUT",
           "AEREL", "AEACN", "AESTDTC", "AEENDTC"]
ORDER = ["STUDYID", "USUBJID"] + ADSL_VARS + ["TRTA", "TRTAN"] + AE_VARS[:-2] + [
    "ATOXGR", "ATOXGRN", "ASTDT", "ASTDTF", "ASTDY", "AENDT", "AENDTF", "AENDY", "ADURN", "ADURU", "TRTEMFL",
    "CRSFL", "ICANSFL", "ASTCTGR", "ASTCTGRN", "DLTFL", "AOCCFL", "AOCCSFL", "AOCCPFL", "AOCCIFL",
    "SRCDOM", "SRCVAR", "SRCSEQ"]


def build_adae(src: SdtmSource, adsl: pd.DataFrame, config: AdamConfig) -> pd.DataFrame:
    cfg = config["adae"]
    keys = config.subject_keys
    ae = fresh(src.with_supp("AE"))
    ae["AESEQ"] = num(ae["AESEQ"])
    supp_cols = [c for c in ae.columns if c not in src.get("AE").columns]
    keep = keys + [c for c in AE_VARS if c in ae.columns and c not in keys] + supp_cols
    adae = fresh(ae[keep])
    for qnam in cfg["supp_qualifiers"]:     # SUPP-- holds only non-blank values: a qualifier no AE has is absent
        if qnam not in adae.columns:
            adae[qnam] = ""
            supp_cols.append(qnam)          # read by filters, dropped with the other qualifiers
    adae = join(adae, adsl[keys + [c for c in ADSL_VARS if c in adsl.columns]], keys, "inner")
    adae["TRTA"], adae["TRTAN"] = adae.get("TRT01A", ""), adae.get("TRT01AN", np.nan)
    si, ei = cfg["start_imputation"], cfg["end_imputation"]
    adae = derive_vars_dt(adae, "AST", "AESTDTC", highest_imputation=si["highest"], date_imputation=si["rule"],
                          min_dates=["TRTSDT"] if si["rule"] == "first" else [])
    adae = derive_vars_dt(adae, "AEN", "AEENDTC", highest_imputation=ei["highest"], date_imputation=ei["rule"],
                          max_dates=["DTHDT"] if ei["rule"] == "last" and "DTHDT" in adae.columns else [])
    adae = derive_vars_dy(adae, "TRTSDT", {"ASTDY": "ASTDT", "AENDY": "AENDT"})
    adae = derive_vars_duration(adae, "ADURN", "ASTDT", "AENDT", new_var_unit="ADURU")
    te = cfg["trtemfl"]
    adae = derive_var_trtemfl(adae, start_date="ASTDT", end_date="AENDT", trt_start_date=te["start"],
                              trt_end_date="TRTEDT", end_window=te["end_window_days"])
    adae["ATOXGR"] = char(adae["AETOXGR"]) if "AETOXGR" in adae.columns else ""
    adae = derive_var_grade_numeric(adae, "ATOXGR", "ATOXGRN")
    adae["ASTCTGR"] = ""
    for flag, item in cfg["category_flags"].items():
        adae[flag] = y_blank(mask(adae, item["filter"], where=f"adae.category_flags.{flag}"))
        qnam = cfg["astct_grade"].get(flag)
        if qnam and qnam in adae.columns:
            adae["ASTCTGR"] = np.where(adae[flag] == "Y", char(adae[qnam]), adae["ASTCTGR"])
    adae = derive_var_grade_numeric(adae, "ASTCTGR", "ASTCTGRN")
    dlt = cfg["dlt"]
    if dlt["filter"]:
        start = num(adae[dlt["window_start"]])
        in_window = (adae["ASTDT"] >= start) & (adae["ASTDT"] < start + dlt["window_days"])
        adae["DLTFL"] = y_blank(mask(adae, dlt["filter"], where="adae.dlt.filter") & in_window)
    te_rows = "TRTEMFL == 'Y'"
    adae = derive_var_extreme_flag(adae, keys, ["ASTDT", "AESEQ"], "AOCCFL", filter=te_rows)
    adae = derive_var_extreme_flag(adae, keys + ["AEBODSYS"], ["ASTDT", "AESEQ"], "AOCCSFL", filter=te_rows)
    adae = derive_var_extreme_flag(adae, keys + ["AEBODSYS", "AEDECOD"], ["ASTDT", "AESEQ"], "AOCCPFL",
                                   filter=te_rows)
    adae = derive_var_extreme_flag(adae, keys + ["AEBODSYS", "AEDECOD"], ["-ATOXGRN", "ASTDT", "AESEQ"],
                                   "AOCCIFL", filter=te_rows)
    adae["SRCDOM"], adae["SRCVAR"], adae["SRCSEQ"] = "AE", "AEDECOD", adae["AESEQ"]
    adae = adae.drop(columns=[c for c in supp_cols if c not in ORDER])
    return sort_rows(adae, keys + ["AESEQ"]).reset_index(drop=True)
