"""ADSL: one record per enrolled subject (screen failures excluded), from DM/SUPPDM, EX, DS and others.

Expects (SDTMIG 3.4): DM (STUDYID USUBJID SUBJID SITEID AGE AGEU SEX RACE ETHNIC COUNTRY ARM ARMCD ACTARM
ACTARMCD ARMNRS RFICDTC DTHDTC DTHFL), EX (USUBJID EXTRT EXSTDTC EXENDTC [EXDOSE]), DS (USUBJID DSCAT
DSDECOD DSTERM DSSTDTC) optional, plus any domain named in the spec's merged_vars / last_alive_sources.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from trialforge.errors import DatasetReadError, SpecError

from ..config import AdamConfig
from .._frame import char, mask, num, stable_sort, yn
from ..dates import derive_vars_dt, derive_vars_dtm
from ..derive import derive_var_max_date, derive_vars_merged
from .sdtm_input import SdtmSource

DM_VARS = ["STUDYID", "USUBJID", "SUBJID", "SITEID", "AGE", "AGEU", "SEX", "RACE", "ETHNIC", "COUNTRY",
           "ARM", "ARMCD", "ACTARM", "ACTARMCD"]
ORDER = DM_VARS[:4] + ["AGE", "AGEU", "AGEGR1", "AGEGR1N", "SEX", "RACE", "ETHNIC", "COUNTRY", "ARM", "ARMCD",
                       "ACTARM", "ACTARMCD", "TRT01P", "TRT01PN", "TRT01A", "TRT01AN", "DOSELVL", "ROUTE", "PART",
                       "RFICDT", "LDSTDT", "TRTSDT", "TRTSDTM", "TRTSTMF", "TRTEDT", "TRTEDTM",
                       "ENRLFL", "SAFFL", "DLTEVLFL", "EFFFL", "PKFL", "TUMTYPE", "CD70IHC", "CD70PCT", "ECOGBL",
                       "PRIORLN", "EOSSTT", "DCSREAS", "DTHDT", "DTHDTF", "DTHFL", "DTHCAUS", "LSTALVDT"]


def exposure_dates(ex: pd.DataFrame, treatments: list[str], keys: list[str]) -> pd.DataFrame:
    """First start (date, datetime, time flag) and last end date per subject for the given EXTRT values.

    Only doses actually given count (EXDOSE > 0 where EXDOSE is present).
    """
    rows = ex.loc[char(ex["EXTRT"]).str.upper().isin([t.upper() for t in treatments])].copy()
    if "EXDOSE" in rows.columns:
        dose = num(rows["EXDOSE"])
        rows = rows.loc[dose.isna() | (dose > 0)]
    if not len(rows):
        return pd.DataFrame(columns=keys + ["SDT", "SDTM", "STMF", "EDT", "EDTM"])
    rows = derive_vars_dt(rows, "S", "EXSTDTC")
    rows = derive_vars_dtm(rows, "S", "EXSTDTC", highest_imputation="h", time_imputation="first")
    end_dtc = "EXENDTC" if "EXENDTC" in rows.columns else "EXSTDTC"
    rows[end_dtc] = char(rows[end_dtc]).where(char(rows[end_dtc]) != "", char(rows["EXSTDTC"]))
    rows = derive_vars_dt(rows, "E", end_dtc)
    rows = derive_vars_dtm(rows, "E", end_dtc, highest_imputation="h", time_imputation="last", flag_imputation="none")
    first = stable_sort(rows, ["SDTM", "SDT"]).drop_duplicates(keys, keep="first")[keys + ["SDT", "SDTM", "STMF"]]
    last = rows.groupby(keys, as_index=False).agg(EDT=("EDT", "max"), EDTM=("EDTM", "max"))
    return first.merge(last, on=keys, how="outer")


def _age_groups(age: pd.Series, groups: list[dict]) -> tuple[pd.Series, pd.Series]:
    label = pd.Series("", index=age.index, dtype=object)
    code = pd.Series(np.nan, index=age.index)
    for i, g in enumerate(groups, start=1):
        hit = age.notna() & label.eq("")
        if g["ge"] is not None:
            hit &= age >= g["ge"]
        if g["lt"] is not None:
            hit &= age < g["lt"]
        label = label.where(~hit, g["label"])
        code = code.where(~hit, float(i))
    return label, code


def _order_codes(values: pd.Series, order: list[str]) -> pd.Series:
    levels = list(order) + sorted(v for v in set(values) if v and v not in order)
    return values.map({v: float(i) for i, v in enumerate(levels, start=1)}).astype("float64")


def build_adsl(src: SdtmSource, config: AdamConfig) -> pd.DataFrame:
    """The ADSL frame (see module docstring for the SDTM it reads)."""
    cfg = config["adsl"]
    keys = config.subject_keys
    dm = src.with_supp("DM")
    dm = dm.loc[mask(dm, cfg["subjects"], where="adsl.subjects")]
    if dm.duplicated(keys).any():
        dup = dm.loc[dm.duplicated(keys)].iloc[0]
        raise DatasetReadError("DM has more than one record per subject", file="DM", column="USUBJID",
                               value=dup["USUBJID"])
    adsl = dm[[c for c in DM_VARS if c in dm.columns]].copy().reset_index(drop=True)
    adsl["AGE"] = num(adsl["AGE"]) if "AGE" in adsl.columns else np.nan
    adsl["AGEGR1"], adsl["AGEGR1N"] = _age_groups(adsl["AGE"], cfg["age_groups"])
    extra = dm.reset_index(drop=True)
    if "RFICDTC" in extra.columns:
        adsl["RFICDT"] = derive_vars_dt(extra, "RFIC", "RFICDTC")["RFICDT"]

    ex = src.get("EX")
    prod = exposure_dates(ex, [cfg["product_extrt"]], keys)
    adsl = derive_vars_merged(adsl, prod, keys, {"TRTSDT": "SDT", "TRTSDTM": "SDTM", "TRTSTMF": "STMF",
                                                  "TRTEDT": "EDT", "TRTEDTM": "EDTM"}, name_add="EX")
    if cfg["lymphodepletion_extrt"]:
        ld = exposure_dates(ex, list(cfg["lymphodepletion_extrt"]), keys)
        adsl = derive_vars_merged(adsl, ld, keys, {"LDSTDT": "SDT"}, name_add="EX")
    adsl = _treatments(adsl, dm.reset_index(drop=True), cfg)

    for item in cfg["merged_vars"]:
        adsl = _merged_var(adsl, src, item, keys)

    adsl = _death(adsl, dm.reset_index(drop=True), src, keys)
    adsl = _disposition(adsl, src, keys, cfg["eos_filter"])
    adsl = _last_alive(adsl, src, cfg["last_alive_sources"], keys)

    populations = {"ENRLFL": "USUBJID == USUBJID", "SAFFL": "TRTSDT == TRTSDT", **cfg["populations"]}
    for flag, expr in populations.items():
        adsl[flag] = yn(mask(adsl, expr, where=f"adsl.populations.{flag}"))
    return adsl.drop(columns=[m["new_var"] for m in cfg["merged_vars"] if m["drop"]])


def _treatments(adsl: pd.DataFrame, dm: pd.DataFrame, cfg: dict) -> pd.DataFrame:
    """TRT01P/TRT01A (+N): the spec's ``treatments`` groups arms by ARMCD / ACTARMCD (e.g. dose level x
    route, pooling parts); without them the ``trt_planned``/``trt_actual`` DM variables are used as is,
    numbered in ``trt_order``. TRT01A is blank for a subject never given the product."""
    treated = adsl["TRTSDT"].notna().to_numpy()
    if cfg["treatments"]:
        label = {code: t["label"] for t in cfg["treatments"] for code in t["armcd"]}
        number = {code: float(t["n"]) for t in cfg["treatments"] for code in t["armcd"]}
        planned, actual = char(dm["ARMCD"]), char(dm["ACTARMCD"])
        unknown = sorted(set(planned[planned != ""]) - set(label))
        if unknown:
            raise SpecError("ARMCD not in any ADaM spec treatment group", column="adsl.treatments",
                            value=unknown[0])
        adsl["TRT01P"] = planned.map(label).fillna("").to_numpy()
        adsl["TRT01PN"] = planned.map(number).astype("float64").to_numpy()
        adsl["TRT01A"] = np.where(treated, actual.map(label).fillna("").to_numpy(), "")
        adsl["TRT01AN"] = np.where(treated, actual.map(number).astype("float64").to_numpy(), np.nan)
        missing = treated & (adsl["TRT01A"].to_numpy() == "")
        if missing.any():
            raise SpecError("treated subject's ACTARMCD not in any ADaM spec treatment group",
                            column="adsl.treatments", value=char(dm["ACTARMCD"]).to_numpy()[missing][0])
        return adsl
    adsl["TRT01P"] = char(dm[cfg["trt_planned"]]).to_numpy()
    adsl["TRT01A"] = np.where(treated, char(dm[cfg["trt_actual"]]).to_numpy(), "")
    adsl["TRT01PN"] = _order_codes(adsl["TRT01P"], cfg["trt_order"])
    adsl["TRT01AN"] = _order_codes(adsl["TRT01A"], cfg["trt_order"])
    return adsl


_DATE_RULES = {"on_or_before": np.less_equal, "on_or_after": np.greater_equal, "after": np.greater}


def _merged_var(adsl, src, item, keys):
    """One spec ``merged_vars`` item: the value of the first/last record (``mode``) meeting ``filter``,
    or "Y"/"N" for whether such a record exists (``mode: exists``).

    With ``date`` and ``on_or_before`` / ``on_or_after`` / ``after`` (an ADSL date) only records dated
    accordingly count, e.g. baseline = last assessment on/before lymphodepletion start; a subject
    without that ADSL date (not treated) keeps all its records for ``on_or_before`` and none otherwise.
    """
    data = src.with_supp(item["domain"])
    data = data.loc[mask(data, item["filter"], where=f"adsl.merged_vars {item['new_var']} filter")]
    for rule, compare in _DATE_RULES.items():
        if not item[rule]:
            continue
        data = derive_vars_dt(data, "_M", item["date"])
        ref = num(data[keys].merge(adsl[keys + [item[rule]]], on=keys, how="left")[item[rule]]).to_numpy()
        dt = data["_MDT"].to_numpy()
        with np.errstate(invalid="ignore"):
            keep = compare(dt, ref) & ~np.isnan(dt)
        if rule == "on_or_before":
            keep |= np.isnan(ref)
        data = data.loc[keep]
    if item["mode"] == "exists":
        hit = data[keys].drop_duplicates().assign(_HIT=True)
        found = adsl[keys].merge(hit, on=keys, how="left")["_HIT"].eq(True)
        adsl[item["new_var"]] = yn(pd.Series(found.to_numpy(), index=adsl.index))
        return adsl
    order = list(item["order"] or [])
    picked = derive_vars_merged(adsl[keys], data, keys, {item["new_var"]: item["value"]}, filter_add=None,
                                order=order, mode=item["mode"], name_add=item["domain"])
    value = picked[item["new_var"]]
    adsl[item["new_var"]] = num(value) if item["type"] == "Num" else char(value)
    return adsl


def _death(adsl, dm, src, keys):
    if "DTHDTC" in dm.columns:
        d = derive_vars_dt(dm[keys + ["DTHDTC"]], "DTH", "DTHDTC", highest_imputation="M", date_imputation="first")
        adsl = derive_vars_merged(adsl, d, keys, ["DTHDT", "DTHDTF"], name_add="DM")
    else:
        adsl["DTHDT"], adsl["DTHDTF"] = np.nan, ""
    dthfl = char(dm["DTHFL"]).to_numpy() if "DTHFL" in dm.columns else np.full(len(dm), "")
    dm_flag = pd.Series(dthfl, index=dm.index)
    adsl["DTHFL"] = np.where((dm_flag.to_numpy() == "Y") | adsl["DTHDT"].notna().to_numpy(), "Y", "")
    adsl["DTHCAUS"] = ""
    if src.has("DS"):
        ds = src.get("DS")
        if {"DSDECOD", "DSTERM"} <= set(ds.columns):
            death = ds.loc[char(ds["DSDECOD"]) == "DEATH"]
            adsl = derive_vars_merged(adsl, death, keys, {"DTHCAUS": "DSTERM"}, order=["DSSTDTC"] if
                                      "DSSTDTC" in death.columns else [], mode="first", name_add="DS")
    if src.has("AE"):
        ae = src.get("AE")
        if {"AEOUT", "AEDECOD"} <= set(ae.columns):
            fatal = ae.loc[char(ae["AEOUT"]) == "FATAL"]
            alt = derive_vars_merged(adsl[keys], fatal, keys, {"_C": "AEDECOD"}, mode="first", name_add="AE")["_C"]
            adsl["DTHCAUS"] = np.where(char(adsl["DTHCAUS"]) == "", char(alt), char(adsl["DTHCAUS"]))
    adsl["DTHCAUS"] = np.where(adsl["DTHFL"] == "Y", char(adsl["DTHCAUS"]), "")
    return adsl


def _disposition(adsl, src, keys, eos_filter):
    """EOSSTT/DCSREAS from the last DS record meeting the spec's ``eos_filter`` (the study-participation
    disposition): COMPLETED, else DISCONTINUED with the reason; no record = ONGOING."""
    adsl["EOSSTT"], adsl["DCSREAS"] = "ONGOING", ""
    if not src.has("DS"):
        return adsl
    ds = src.get("DS")
    if "DSCAT" not in ds.columns:
        return adsl
    ev = ds.loc[mask(ds, eos_filter, where="adsl.eos_filter")]
    picked = derive_vars_merged(adsl[keys], ev, keys, {"_D": "DSDECOD"}, order=["DSSTDTC"] if "DSSTDTC" in ev.columns
                                else [], mode="last", name_add="DS")["_D"]
    picked = char(picked)
    adsl["EOSSTT"] = np.select([picked == "COMPLETED", picked != ""], ["COMPLETED", "DISCONTINUED"], "ONGOING")
    adsl["DCSREAS"] = np.where(adsl["EOSSTT"] == "DISCONTINUED", picked, "")
    return adsl


def _last_alive(adsl, src, sources, keys):
    frames = [adsl[keys + ["TRTEDT"]].rename(columns={"TRTEDT": "DT"})]
    for s in sources:
        if not src.has(s["domain"]):
            continue
        data = src.get(s["domain"])
        data = data.loc[mask(data, s["filter"], where=f"last_alive_sources {s['domain']}")]
        if not len(data):
            continue
        d = derive_vars_dt(data[keys + [s["date"]]], "", s["date"])
        frames.append(d[keys + ["DT"]])
    return derive_var_max_date(adsl, "LSTALVDT", frames, keys)
