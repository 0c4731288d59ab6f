"""ADRS: per-visit overall response (OVR), BOR/CBOR, responders, clinical benefit, tumour sums.

Expects RS (USUBJID RSSEQ RSTESTCD RSCAT RSSTRESC RSDTC VISIT VISITNUM; OVR rows selected by the spec's
``ovr_filter``, default RSTESTCD "OVRLRESP" and RSCAT "RECIST 1.1"), optionally TR/TU for SUMDIAM, and
optionally the domain holding new anticancer therapy (spec ``new_therapy``).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..config import AdamConfig
from .._frame import char, mask, num, y_blank
from ..dates import derive_vars_dt, derive_vars_dy
from ..derive import derive_var_ablfl, derive_var_base, derive_var_chg, derive_var_pchg
from ..response import (aval_resp, derive_param_bor, derive_param_confirmed_bor, derive_param_response)
from .sdtm_input import SdtmSource

ADSL_VARS = ["TRT01P", "TRT01PN", "TRT01A", "TRT01AN", "DOSELVL", "PART", "TRTSDT", "EFFFL", "SAFFL"]
ORDER = ["STUDYID", "USUBJID"] + ADSL_VARS + ["PARAMCD", "PARAM", "PARAMN", "AVALC", "AVAL", "AVALU", "ADT", "ADY",
                                              "AVISIT", "AVISITN", "ABLFL", "BASE", "CHG", "PCHG", "ANL01FL",
                                              "SRCDOM", "SRCVAR", "SRCSEQ"]
PARAMS = {
    "OVR": ("Overall Response by Investigator (RECIST 1.1)", 1),
    "BOR": ("Best Overall Response (unconfirmed)", 2),
    "CBOR": ("Best Confirmed Overall Response", 3),
    "RSP": ("Objective Response (unconfirmed)", 4),
    "CRSP": ("Confirmed Objective Response", 5),
    "CB": ("Clinical Benefit (unconfirmed BOR)", 6),
    "CCB": ("Clinical Benefit (confirmed BOR)", 7),
    "SUMDIAM": ("Sum of Diameters of Target Lesions (mm)", 8),
}
BENEFIT = ("CR", "PR", "SD", "NON-CR/NON-PD")


def new_therapy_dates(src: SdtmSource, config: AdamConfig) -> pd.DataFrame:
    """Start date of the first new anticancer therapy per subject (NACTDT), from the spec's source."""
    keys = config.subject_keys
    spec = config["new_therapy"]
    if not spec["domain"] or not src.has(spec["domain"]):
        return pd.DataFrame({**{k: pd.Series(dtype=object) for k in keys}, "NACTDT": pd.Series(dtype="float64")})
    data = src.get(spec["domain"])
    data = data.loc[mask(data, spec["filter"], where="new_therapy.filter")]
    d = derive_vars_dt(data[keys + [spec["date"]]], "NACT", spec["date"], highest_imputation="D")
    return d.groupby(keys, as_index=False)["NACTDT"].min()


def ovr_records(src: SdtmSource, adsl: pd.DataFrame, config: AdamConfig, nact: pd.DataFrame) -> pd.DataFrame:
    """OVR rows with ADT, ADY, AVISIT, AVAL coding, and ANL01FL (the assessments analyses use)."""
    cfg = config["adrs"]
    keys = config.subject_keys
    rs = src.get("RS")
    rs = rs.loc[mask(rs, cfg["ovr_filter"], where="adrs.ovr_filter")].copy()
    imp = cfg["date_imputation"]
    rs = derive_vars_dt(rs, "A", "RSDTC", highest_imputation=imp["highest"], date_imputation=imp["rule"])
    out = rs[keys].copy()
    out["PARAMCD"] = "OVR"
    out["AVALC"] = char(rs["RSSTRESC"])
    out["AVAL"] = aval_resp(out["AVALC"])
    out["ADT"] = rs["ADT"]
    out["AVISIT"] = char(rs["VISIT"]) if "VISIT" in rs.columns else ""
    out["AVISITN"] = num(rs["VISITNUM"]) if "VISITNUM" in rs.columns else np.nan
    out["SRCDOM"], out["SRCVAR"], out["SRCSEQ"] = "RS", "RSSTRESC", num(rs["RSSEQ"]) if "RSSEQ" in rs else np.nan
    out = out.merge(adsl[keys + [c for c in ADSL_VARS if c in adsl.columns]], on=keys, how="inner")
    out = derive_vars_dy(out, "TRTSDT", {"ADY": "ADT"})
    out = out.merge(nact, on=keys, how="left")
    ref = num(out[cfg["reference_date"]])
    pd_dt = out.loc[out["AVALC"] == "PD"].groupby(keys)["ADT"].min().rename("_PDDT").reset_index()
    out = out.merge(pd_dt, on=keys, how="left")
    use = out["ADT"].notna() & (out["ADT"] >= ref)
    if cfg["exclude_after_pd"]:
        use &= ~(out["ADT"] > out["_PDDT"])
    if cfg["exclude_after_new_therapy"]:
        use &= ~(out["ADT"] >= num(out["NACTDT"]))
    out["ANL01FL"] = y_blank(use)
    return out.drop(columns=["_PDDT", "NACTDT"]).sort_values(keys + ["ADT"], kind="mergesort").reset_index(drop=True)


def sumdiam_records(src: SdtmSource, adsl: pd.DataFrame, config: AdamConfig) -> pd.DataFrame:
    """SUMDIAM per assessment date: the sum of the target lesions' diameters (RECIST 1.1: LDIAM, or LPERP
    short axis for nodes; lesions linked TR.TRLNKID = TU.TULNKID with TUSTRESC "TARGET"), missing when a
    target lesion has no measurement that day. The CRF's own SUMDIAM rows (often collected only after
    baseline) fill dates without lesion data and give SRCSEQ. BASE/CHG/PCHG from the last sum on/before TRTSDT.
    """
    keys = config.subject_keys
    if not src.has("TR"):
        return pd.DataFrame()
    tr = src.get("TR")
    tr = derive_vars_dt(tr, "A", "TRDTC", highest_imputation="n")
    code = char(tr["TRTESTCD"])
    visit = char(tr["VISIT"]) if "VISIT" in tr.columns else pd.Series("", index=tr.index)
    crf = tr.loc[code == "SUMDIAM", keys + ["ADT", "TRSEQ"]].assign(
        _CRF=num(tr.loc[code == "SUMDIAM", "TRSTRESN"]), _V=visit[code == "SUMDIAM"])
    crf = crf.drop_duplicates(keys + ["ADT"])
    sums = pd.DataFrame(columns=keys + ["ADT", "_SUM", "_LV"])
    if src.has("TU") and "TRLNKID" in tr.columns:
        tu = src.get("TU")
        targets = tu.loc[char(tu["TUSTRESC"]) == "TARGET", keys + ["TULNKID"]].drop_duplicates()
        n_target = targets.groupby(keys).size().rename("_N").reset_index()
        lesions = tr.loc[code.isin(["LDIAM", "LPERP"])].assign(_LV=visit).merge(
            targets, left_on=keys + ["TRLNKID"], right_on=keys + ["TULNKID"])
        lesions = lesions.assign(_D=num(lesions["TRSTRESN"]))
        if len(lesions):
            sums = lesions.groupby(keys + ["ADT"], as_index=False).agg(
                _SUM=("_D", "sum"), _M=("_D", "count"), _LV=("_LV", "first")).merge(n_target, on=keys)
            sums["_SUM"] = sums["_SUM"].where(sums["_M"] == sums["_N"])
            sums = sums[keys + ["ADT", "_SUM", "_LV"]]
    out = sums.merge(crf, on=keys + ["ADT"], how="outer")
    if not len(out):
        return pd.DataFrame()
    out["AVAL"] = num(out["_SUM"]).where(num(out["_SUM"]).notna(), num(out["_CRF"]))
    out["AVISIT"] = char(out["_LV"]).where(char(out["_LV"]) != "", char(out["_V"]))
    has_crf = num(out["TRSEQ"]).notna()
    out["SRCDOM"] = np.where(has_crf, "TR", "")
    out["SRCVAR"] = np.where(has_crf, "TRSTRESN", "")
    out["SRCSEQ"] = num(out["TRSEQ"])
    out = out.drop(columns=["_SUM", "_LV", "_CRF", "_V", "TRSEQ"]).loc[lambda d: d["ADT"].notna()]
    out["PARAMCD"] = "SUMDIAM"
    out["AVALU"] = "mm"
    out = out.merge(adsl[keys + [c for c in ADSL_VARS if c in adsl.columns]], on=keys, how="inner")
    out = out.sort_values(keys + ["ADT"], kind="mergesort").reset_index(drop=True)
    out = derive_vars_dy(out, "TRTSDT", {"ADY": "ADT"})
    out = derive_var_ablfl(out, keys, ref_date="TRTSDT")
    out = derive_var_base(out, keys)
    out = derive_var_chg(out)
    out = derive_var_pchg(out)
    out.loc[out["ABLFL"] == "Y", ["CHG", "PCHG"]] = np.nan
    return out


def build_adrs(src: SdtmSource, adsl: pd.DataFrame, config: AdamConfig) -> pd.DataFrame:
    cfg = config["adrs"]
    keys = config.subject_keys
    nact = new_therapy_dates(src, config)
    ovr = ovr_records(src, adsl, config, nact)
    pop = adsl.loc[mask(adsl, cfg["population"], where="adrs.population")]
    common = dict(filter_source="ANL01FL == 'Y'", reference_date=cfg["reference_date"],
                  ref_start_window=cfg["ref_start_window"], missing_as_ne=cfg["missing_as_ne"], subject_keys=keys)
    pop_ovr = ovr.merge(pop[keys], on=keys)
    bor = derive_param_bor(pop_ovr, pop, set_values_to={"PARAMCD": "BOR"}, **common)
    cbor = derive_param_confirmed_bor(pop_ovr, pop, ref_confirm=cfg["ref_confirm"], max_nr_ne=cfg["max_nr_ne"],
                                      accept_sd=cfg["accept_sd"], set_values_to={"PARAMCD": "CBOR"}, **common)
    derived = [bor, cbor,
               derive_param_response(pop, bor, set_values_to={"PARAMCD": "RSP"}, subject_keys=keys),
               derive_param_response(pop, cbor, set_values_to={"PARAMCD": "CRSP"}, subject_keys=keys),
               derive_param_response(pop, bor, responses=BENEFIT, set_values_to={"PARAMCD": "CB"}, subject_keys=keys),
               derive_param_response(pop, cbor, responses=BENEFIT, set_values_to={"PARAMCD": "CCB"},
                                     subject_keys=keys)]
    adsl_cols = keys + [c for c in ADSL_VARS if c in adsl.columns]
    parts = [ovr]
    for d in derived:
        d = d[[c for c in d.columns if c not in ADSL_VARS or c in keys]].merge(adsl[adsl_cols], on=keys, how="left")
        d = derive_vars_dy(d, "TRTSDT", {"ADY": "ADT"})
        d["ANL01FL"] = "Y"
        parts.append(d)
    if cfg["sumdiam"]:
        sums = sumdiam_records(src, adsl, config)
        if len(sums):
            parts.append(sums)
    adrs = pd.concat(parts, ignore_index=True)
    adrs["PARAM"] = adrs["PARAMCD"].map(lambda p: PARAMS[p][0])
    adrs["PARAMN"] = adrs["PARAMCD"].map(lambda p: float(PARAMS[p][1]))
    keep = [c for c in ORDER if c in adrs.columns]
    return adrs[keep].sort_values(keys + ["PARAMN", "ADT"], kind="mergesort").reset_index(drop=True)
