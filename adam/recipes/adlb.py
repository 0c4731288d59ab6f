"""ADLB: laboratory BDS, one record per LB result (PARAMCD = LBTESTCD), with baseline and change.

Expects LB (USUBJID LBSEQ LBTESTCD LBTEST LBCAT LBSTRESN LBSTRESC LBSTRESU LBSTNRLO LBSTNRHI LBNRIND LBDTC
[VISIT VISITNUM LBLOBXFL]). Study choices (spec ``adlb``): which tests, the baseline rule (the SDTM
last-observation-before-exposure flag, or the last non-missing value on/before an ADSL date) and the
reference date for ADY (the CAR-T infusion, so "post-infusion" is ADY >= 1).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..config import AdamConfig
from .._frame import char, mask, num, require, y_blank
from ..dates import derive_vars_dt, derive_vars_dy
from ..derive import derive_var_ablfl, derive_var_base, derive_var_chg, derive_var_pchg, derive_vars_merged
from .sdtm_input import SdtmSource

ADSL_VARS = ["TRT01P", "TRT01PN", "TRT01A", "TRT01AN", "DOSELVL", "PART", "LDSTDT", "TRTSDT", "SAFFL"]
ORDER = ["STUDYID", "USUBJID"] + ADSL_VARS + [
    "PARCAT1", "PARAMCD", "PARAM", "AVAL", "AVALC", "AVALU", "ADT", "ADTF", "ADY", "AVISIT", "AVISITN", "ABLFL",
    "BASE", "CHG", "PCHG", "ANRLO", "ANRHI", "ANRIND", "BNRIND", "LBSEQ", "SRCDOM", "SRCVAR", "SRCSEQ"]


def build_adlb(src: SdtmSource, adsl: pd.DataFrame, config: AdamConfig) -> pd.DataFrame:
    cfg = config["adlb"]
    keys = config.subject_keys
    lb = src.get("LB")
    if cfg["tests"]:
        lb = lb.loc[char(lb["LBTESTCD"]).isin(cfg["tests"])]
    pop = adsl.loc[mask(adsl, cfg["population"], where="adlb.population"), keys + [
        c for c in ADSL_VARS if c in adsl.columns]]
    lb = lb.merge(pop, on=keys, how="inner")
    lb = derive_vars_dt(lb, "A", "LBDTC", highest_imputation="n")
    out = lb[keys + [c for c in ADSL_VARS if c in lb.columns]].copy()
    out["PARCAT1"] = char(lb["LBCAT"]) if "LBCAT" in lb.columns else ""
    out["PARAMCD"] = char(lb["LBTESTCD"])
    unit = char(lb["LBSTRESU"]) if "LBSTRESU" in lb.columns else pd.Series("", index=lb.index)
    out["PARAM"] = char(lb["LBTEST"]) + np.where(unit != "", " (" + unit + ")", "")
    out["AVAL"] = num(lb["LBSTRESN"])
    out["AVALC"] = np.where(out["AVAL"].isna(), char(lb["LBSTRESC"]), "") if "LBSTRESC" in lb.columns else ""
    out["AVALU"] = unit
    out["ADT"] = lb["ADT"]
    out["AVISIT"] = char(lb["VISIT"]) if "VISIT" in lb.columns else ""
    out["AVISITN"] = num(lb["VISITNUM"]) if "VISITNUM" in lb.columns else np.nan
    out["ANRLO"] = num(lb["LBSTNRLO"]) if "LBSTNRLO" in lb.columns else np.nan
    out["ANRHI"] = num(lb["LBSTNRHI"]) if "LBSTNRHI" in lb.columns else np.nan
    out["ANRIND"] = char(lb["LBNRIND"]) if "LBNRIND" in lb.columns else ""
    out["LBSEQ"] = num(lb["LBSEQ"])
    out["SRCDOM"], out["SRCVAR"], out["SRCSEQ"] = "LB", "LBSTRESN", out["LBSEQ"]
    out = derive_vars_dy(out, cfg["reference_date"], {"ADY": "ADT"})
    by = keys + ["PARAMCD"]
    flag = cfg["baseline_flag"]
    if flag:
        require(lb, [flag], "LB")
        out["ABLFL"] = y_blank((char(lb[flag]) == "Y") & out["AVAL"].notna())
    else:
        out = derive_var_ablfl(out.sort_values(by + ["ADT", "LBSEQ"], kind="mergesort"), by,
                               ref_date=cfg["baseline_date"]).sort_index()
    out = derive_var_base(out, by)
    out = derive_var_chg(out)
    out = derive_var_pchg(out)
    base_ind = out.loc[out["ABLFL"] == "Y", by + ["ANRIND"]]
    out = derive_vars_merged(out, base_ind, by, {"BNRIND": "ANRIND"}, name_add="ADLB baseline records")
    out["BNRIND"] = char(out["BNRIND"])
    base_dt = out.loc[out["ABLFL"] == "Y", by + ["ADT"]].rename(columns={"ADT": "_BDT"})
    out = out.merge(base_dt, on=by, how="left")
    not_after = ~(out["ADT"] > out["_BDT"])      # change is a post-baseline quantity (admiral restricts it)
    out.loc[not_after, ["CHG", "PCHG"]] = np.nan
    out = out.drop(columns="_BDT")
    return out.sort_values(keys + ["PARAMCD", "ADT", "LBSEQ"], kind="mergesort").reset_index(drop=True)
