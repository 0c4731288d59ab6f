"""ADSL: one record per enrolled subject (screen failures excluded), from DM/SUPPDM, EX, DS and others.

Expects (SDTMIG 3.4): DM (STUDYID USUBJID SUBJID SITEID AGE AGEU SEX RACE ETHNIC COUNTRY ARM ARMCD ACTARM
ACTARMCD ARMNRS RFICDTC DTHDTC DTHFL), EX (USUBJID EXTRT EXSTDTC EXENDTC [EXDOSE]), DS (USUBJID DSCAT
DSDECOD DSTERM DSSTDTC) optional, plus any domain named in the spec's merged_vars / last_alive_sources.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.api.extensions import take

from trialforge.errors import DatasetReadError, SpecError

from ..config import AdamConfig
from .._join import _codes, _positions, join
from .._frame import (char, fresh, mask, names_in, num, read_with, require, rows_where, sort_spec, stable_sort,
                      yn)
from ..dates import derive_vars_dt, derive_vars_dtm
from ..derive import derive_var_max_date, derive_vars_merged
from .sdtm_input import SdtmSource

DM_VARS = ["STUDYID", "USUBJID", "SUBJID", "SITEID", "AGE", "AGEU", "SEX", "RACE", "ETHNIC", "COUNTRY",
           "ARM", "ARMCD", "ACTARM", "ACTARMCD"]
# Standard ADSL column order; the spec's adsl.order puts its variables first, the study's other variables
# (merged_vars, date_vars, population flags) follow these in the order they are built.
ORDER = DM_VARS[:4] + ["AGE", "AGEU", "AGEGR1", "AGEGR1N", "SEX", "RACE", "ETHNIC", "COUNTRY", "ARM", "ARMCD",
                       "ACTARM", "ACTARMCD", "TRT01P", "TRT01PN", "TRT01A", "TRT01AN",
                       "RFICDT", "LDSTDT", "TRTSDT", "TRTSDTM", "TRTSTMF", "TRTEDT", "TRTEDTM",
                       "ENRLFL", "SAFFL", "EOSSTT", "DCSREAS", "DTHDT", "DTHDTF", "DTHFL", "DTHCAUS", "LSTALVDT"]


def adsl_order(frame: pd.DataFrame, config: AdamConfig) -> list[str]:
    """ADSL column order: the spec's ``adsl.order`` (each must be an ADSL variable), then ``ORDER``."""
    declared = list(config["adsl"]["order"])
    missing = [c for c in declared if c not in frame.columns]
    if missing:
        raise SpecError("adsl.order names a variable ADSL does not have", file=config.path, column="adsl.order",
                        value=missing[0])
    return declared + [c for c in ORDER if c not in declared]


def exposure_dates(ex: pd.DataFrame, treatments: list[str], keys: list[str], *, zero_dose_counts=False,
                   blank_end: str = "start") -> pd.DataFrame:
    """First start (date, datetime, time flag) and last end date per subject for the given EXTRT values.

    Doses count when given: EXOCCUR is not 'N', and EXDOSE > 0 or missing; EXDOSE 0 counts too when
    ``zero_dose_counts`` is True or lists the record's EXTRT (placebo). A blank EXENDTC ends the record on
    its EXSTDTC (``blank_end="start"``) or gives no end (``"ignore"``).

    >>> ex = pd.DataFrame({"USUBJID": ["1", "2"], "EXTRT": ["PLACEBO", "DRUG"], "EXDOSE": [0.0, 5.0],
    ...                    "EXSTDTC": ["2024-01-02", "2024-01-03"], "EXENDTC": ["", "2024-01-09"]})
    >>> exposure_dates(ex, ["PLACEBO", "DRUG"], ["USUBJID"], zero_dose_counts=["PLACEBO"])["SDT"].tolist()
    [23377.0, 23378.0]
    """
    rows = ex.loc[_given_doses(ex, treatments, zero_dose_counts)]
    if not len(rows):
        return pd.DataFrame(columns=keys + ["SDT", "SDTM", "STMF", "EDT", "EDTM"])
    return _first_last(_dated_doses(rows, blank_end), keys)


def _given_doses(ex: pd.DataFrame, treatments: list[str], zero_dose_counts) -> np.ndarray:
    """The EX records ``exposure_dates`` counts for ``treatments`` (a mask on ``ex``'s rows)."""
    extrt = char(ex["EXTRT"]).str.upper()
    given = extrt.isin([t.upper() for t in treatments]).to_numpy(dtype=bool)
    if "EXOCCUR" in ex.columns:
        given = given & (char(ex["EXOCCUR"]).str.upper() != "N").to_numpy(dtype=bool)
    if "EXDOSE" in ex.columns:
        dose = num(ex["EXDOSE"])
        counts = dose.isna() | (dose > 0)
        if zero_dose_counts is True:
            counts |= dose == 0
        elif zero_dose_counts:
            counts |= (dose == 0) & extrt.isin([t.upper() for t in zero_dose_counts])
        given = given & counts.to_numpy(dtype=bool)
    return given


def _dated_doses(rows: pd.DataFrame, blank_end: str) -> pd.DataFrame:
    """The dose records with their start (date, datetime, time flag) and end (date, datetime) derived: per
    record, so the records of several ``exposure_dates`` calls are dated once (``build_adsl``)."""
    rows = derive_vars_dt(rows, "S", "EXSTDTC")
    rows = derive_vars_dtm(rows, "S", "EXSTDTC", highest_imputation="h", time_imputation="first")
    end_dtc = "EXENDTC" if "EXENDTC" in rows.columns else "EXSTDTC"
    if blank_end == "start":
        rows[end_dtc] = char(rows[end_dtc]).where(char(rows[end_dtc]) != "", char(rows["EXSTDTC"]))
    rows = derive_vars_dt(rows, "E", end_dtc)
    return derive_vars_dtm(rows, "E", end_dtc, highest_imputation="h", time_imputation="last",
                           flag_imputation="none")


def _first_last(rows: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """First start (date, datetime, time flag) and last end date per subject of dated dose records."""
    first = stable_sort(rows, ["SDTM", "SDT"]).drop_duplicates(keys, keep="first")[keys + ["SDT", "SDTM", "STMF"]]
    last = rows.groupby(keys, as_index=False).agg(EDT=("EDT", "max"), EDTM=("EDTM", "max"))
    return first.merge(last, on=keys, how="outer")


def _exposures(ex: pd.DataFrame, groups: list[list[str]], keys: list[str], *, zero_dose_counts=False,
               blank_end: str = "start") -> list[pd.DataFrame]:
    """``exposure_dates`` of each treatment group, the records counted by any group dated once."""
    masks = [_given_doses(ex, list(g), zero_dose_counts) for g in groups]
    union = np.logical_or.reduce(masks) if masks else np.zeros(len(ex), dtype=bool)
    dated = _dated_doses(ex.loc[union], blank_end) if union.any() else None
    out = []
    for m in masks:
        if not m.any():
            out.append(pd.DataFrame(columns=keys + ["SDT", "SDTM", "STMF", "EDT", "EDTM"]))
        else:
            out.append(_first_last(dated.loc[m[union]], keys))
    return out


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
    dm = rows_where(dm, cfg["subjects"], where="adsl.subjects")
    if dm.duplicated(keys).any():
        dup = dm.loc[dm.duplicated(keys)].iloc[0]
        raise DatasetReadError("DM has more than one record per subject", file="DM", column="USUBJID",
                               value=dup["USUBJID"])
    adsl = fresh(dm[[c for c in DM_VARS if c in dm.columns]]).reset_index(drop=True)
    adsl["AGE"] = num(adsl["AGE"]) if "AGE" in adsl.columns else np.nan
    adsl["AGEGR1"], adsl["AGEGR1N"] = _age_groups(adsl["AGE"], cfg["age_groups"])
    extra = dm.reset_index(drop=True)
    if "RFICDTC" in extra.columns:
        adsl["RFICDT"] = derive_vars_dt(extra, "RFIC", "RFICDTC")["RFICDT"]

    ex = src.get("EX", columns=keys + ["EXTRT", "EXOCCUR", "EXDOSE", "EXSTDTC", "EXENDTC"])
    opts = dict(zero_dose_counts=cfg["zero_dose_counts"], blank_end=cfg["blank_end"])
    groups = [list(cfg["product_extrt"])] + ([list(cfg["lymphodepletion_extrt"])] if cfg["lymphodepletion_extrt"]
                                             else [])
    prod, *ld = _exposures(ex, groups, keys, **opts)      # what exposure_dates gives each, dated once
    adsl = derive_vars_merged(adsl, prod, keys, {"TRTSDT": "SDT", "TRTSDTM": "SDTM", "TRTSTMF": "STMF",
                                                  "TRTEDT": "EDT", "TRTEDTM": "EDTM"}, name_add="EX")
    if ld:
        adsl = derive_vars_merged(adsl, ld[0], keys, {"LDSTDT": "SDT"}, name_add="EX")
    adsl = _treatments(adsl, dm.reset_index(drop=True), cfg)

    for item in cfg["merged_vars"]:
        adsl = _merged_var(adsl, src, item, keys)
    for item in cfg["date_vars"]:
        adsl = _date_var(adsl, src, item, keys)

    adsl = _death(adsl, dm.reset_index(drop=True), src, keys, cfg["dthcaus_sources"])
    adsl = _disposition(adsl, src, keys, cfg["eos_filter"])
    adsl = _screen_failures(adsl, dm.reset_index(drop=True), cfg["screen_failure"])
    adsl = _last_alive(adsl, src, config, keys)

    populations = {"ENRLFL": "USUBJID == USUBJID", "SAFFL": "TRTSDT == TRTSDT", **cfg["populations"]}
    for flag, expr in populations.items():
        adsl[flag] = yn(mask(adsl, expr, where=f"adsl.populations.{flag}"))
    return adsl.drop(columns=[m["new_var"] for m in cfg["merged_vars"] if m["drop"]])


def _treatments(adsl: pd.DataFrame, dm: pd.DataFrame, cfg: dict) -> pd.DataFrame:
    """TRT01P/TRT01A (+N): the spec's ``treatments`` group arms by ARMCD / ACTARMCD (e.g. dose level x route,
    pooling parts); an arm code no group lists takes the ``trt_planned``/``trt_actual`` DM value as is,
    numbered in ``trt_order`` after the groups. TRT01A of a subject never given the product follows
    ``untreated_trt01a`` (blank, the planned group, or a text)."""
    treated = adsl["TRTSDT"].notna().to_numpy()
    groups = cfg["treatments"]
    label = {code: t["label"] for t in groups for code in t["armcd"]}
    codes_p = char(dm["ARMCD"]) if "ARMCD" in dm.columns else pd.Series("", index=dm.index)
    codes_a = char(dm["ACTARMCD"]) if "ACTARMCD" in dm.columns else pd.Series("", index=dm.index)
    text_p = char(dm[cfg["trt_planned"]]) if cfg["trt_planned"] in dm.columns else pd.Series("", index=dm.index)
    text_a = char(dm[cfg["trt_actual"]]) if cfg["trt_actual"] in dm.columns else pd.Series("", index=dm.index)
    planned = codes_p.map(label).where(codes_p.isin(list(label)), text_p).fillna("")
    actual = codes_a.map(label).where(codes_a.isin(list(label)), text_a).fillna("")
    listed_labels = {t["label"]: float(t["n"]) for t in groups}
    start = max(listed_labels.values(), default=0.0)
    others = sorted(v for v in set(planned) | set(actual) if v and v not in listed_labels and v not in cfg["trt_order"])
    numbering = {**listed_labels, **{v: start + i for i, v in enumerate(list(cfg["trt_order"]) + others, start=1)
                                     if v not in listed_labels}}
    adsl["TRT01P"] = planned.to_numpy()
    adsl["TRT01PN"] = planned.map(numbering).astype("float64").to_numpy()
    untreated = cfg["untreated_trt01a"]
    fill = planned.to_numpy() if untreated == "planned" else np.full(len(planned), untreated or "", dtype=object)
    adsl["TRT01A"] = np.where(treated, actual.to_numpy(), fill)
    adsl["TRT01AN"] = pd.Series(adsl["TRT01A"]).map(numbering).astype("float64").to_numpy()
    return adsl


def _date_var(adsl, src, item, keys):
    """One spec ``date_vars`` item: the first/last date (numeric) of the records meeting ``filter``."""
    read = keys + [item["date"]] + sort_spec(list(item["order"] or []))[0]
    data = src.with_supp(item["domain"], columns=read_with(item["filter"], read))
    data = rows_where(data, item["filter"], where=f"adsl.date_vars {item['new_var']} filter")
    imp = item["imputation"]
    data = derive_vars_dt(data, "_D", item["date"], highest_imputation=imp["highest"], date_imputation=imp["rule"])
    data = data.loc[data["_DDT"].notna()]
    picked = derive_vars_merged(adsl[keys], data, keys, {item["new_var"]: "_DDT"}, order=["_DDT"] + list(item["order"]),
                                mode=item["mode"], name_add=item["domain"])
    adsl[item["new_var"]] = num(picked[item["new_var"]]).to_numpy()
    return adsl


def _screen_failures(adsl, dm, spec):
    """EOSSTT/DCSREAS of screen failures when ADSL keeps them (``adsl.screen_failure``)."""
    if spec is None:
        return adsl
    hit = mask(dm, spec["filter"], where="adsl.screen_failure.filter").to_numpy()
    adsl["EOSSTT"] = np.where(hit, spec["eosstt"], adsl["EOSSTT"])
    adsl["DCSREAS"] = np.where(hit, spec["dcsreas"] or "", adsl["DCSREAS"])
    return adsl


_DATE_RULES = {"on_or_before": np.less_equal, "on_or_after": np.greater_equal, "after": np.greater}


def _merged_var(adsl, src, item, keys):
    """One spec ``merged_vars`` item: the value of the first/last record (``mode``) meeting ``filter``,
    or "Y"/"N" for whether such a record exists (``mode: exists``); see ``_merged_var_frames`` for the rules.

    Each record's ADSL row is found once (key codes), then the date rules, the pick per subject (stable sort by
    ``order``, first/last record per key) and the value are numpy on the item's few columns: no joins, no
    ``drop_duplicates``. Keys that need ``merge``'s rules (missing key values) and duplicate records without
    ``mode`` (an error) go through ``_merged_var_frames``.
    """
    read = keys + [item["value"], item["date"]] + sort_spec(list(item["order"] or []))[0]
    data = src.with_supp(item["domain"], columns=read_with(item["filter"], read))
    data = rows_where(data, item["filter"], where=f"adsl.merged_vars {item['new_var']} filter")
    data = data[[c for c in dict.fromkeys(read) if c and c in data.columns]]     # only what the pick reads
    codes = _codes(data, adsl, keys) if all(k in data.columns for k in keys) else None
    at = _positions(*codes) if codes is not None else None          # ADSL row of each record, -1: none
    if at is None or (item["mode"] is None and data.duplicated(keys).any()):
        return _merged_var_frames(adsl, src, item, keys)
    data = data.reset_index(drop=True)
    for rule, compare in _DATE_RULES.items():
        if not item[rule]:
            continue
        data = derive_vars_dt(data, "_M", item["date"])
        ref = num(adsl[item[rule]]).to_numpy()
        ref = np.where(at >= 0, ref[at], np.nan)
        dt = data["_MDT"].to_numpy()
        with np.errstate(invalid="ignore"):
            keep = compare(dt, ref) & ~np.isnan(dt)
        if rule == "on_or_before":
            keep |= np.isnan(ref)
        data, at = data.loc[keep].reset_index(drop=True), at[keep]
    if item["mode"] == "exists":
        found = np.zeros(len(adsl), dtype=bool)
        found[at[at >= 0]] = True
        adsl[item["new_var"]] = yn(pd.Series(found, index=adsl.index))
        return adsl
    require(data, keys + [item["value"]], item["domain"])
    rows = np.arange(len(data))
    if item["mode"] is not None:            # derive_vars_merged's sort: stable, by order, missing last
        rows = stable_sort(data, list(item["order"] or [])).index.to_numpy()
    owner = at[rows]
    rows, owner = rows[owner >= 0], owner[owner >= 0]
    if item["mode"] == "last":
        owner, rows = owner[::-1], rows[::-1]
    subjects, first = np.unique(owner, return_index=True)     # the first record per ADSL row in that order
    pick = np.full(len(adsl), -1, dtype=np.intp)
    pick[subjects] = rows[first]
    value = pd.Series(take(data[item["value"]].to_numpy(), pick, allow_fill=True), index=adsl.index)
    adsl[item["new_var"]] = num(value) if item["type"] == "Num" else char(value)
    return adsl


def _merged_var_frames(adsl, src, item, keys):
    """``_merged_var`` by frame joins and ``derive_vars_merged`` (keys it cannot place by position, a duplicate
    record without ``mode``: its error). One spec ``merged_vars`` item: the value of the first/last record
    (``mode``) meeting ``filter``,
    or "Y"/"N" for whether such a record exists (``mode: exists``).

    With ``date`` and ``on_or_before`` / ``on_or_after`` / ``after`` (an ADSL date) only records dated
    accordingly count, e.g. baseline = last assessment on/before lymphodepletion start; a subject
    without that ADSL date (not treated) keeps all its records for ``on_or_before`` and none otherwise.
    """
    read = keys + [item["value"], item["date"]] + sort_spec(list(item["order"] or []))[0]
    data = src.with_supp(item["domain"], columns=read_with(item["filter"], read))
    data = rows_where(data, item["filter"], where=f"adsl.merged_vars {item['new_var']} filter")
    data = data[[c for c in dict.fromkeys(read) if c and c in data.columns]]     # only what the pick reads
    for rule, compare in _DATE_RULES.items():
        if not item[rule]:
            continue
        data = derive_vars_dt(data, "_M", item["date"])
        ref = num(join(data[keys], adsl[keys + [item[rule]]], keys, "left")[item[rule]]).to_numpy()
        dt = data["_MDT"].to_numpy()
        with np.errstate(invalid="ignore"):
            keep = compare(dt, ref) & ~np.isnan(dt)
        if rule == "on_or_before":
            keep |= np.isnan(ref)
        data = data.loc[keep]
    if item["mode"] == "exists":
        hit = data[keys].drop_duplicates().assign(_HIT=True)
        found = join(adsl[keys], hit, keys, "left")["_HIT"].eq(True)
        adsl[item["new_var"]] = yn(pd.Series(found.to_numpy(), index=adsl.index))
        return adsl
    order = list(item["order"] or [])
    picked = derive_vars_merged(adsl[keys], data, keys, {item["new_var"]: item["value"]}, filter_add=None,
                                order=order, mode=item["mode"], name_add=item["domain"])
    value = picked[item["new_var"]]
    adsl[item["new_var"]] = num(value) if item["type"] == "Num" else char(value)
    return adsl


def _death(adsl, dm, src, keys, cause_sources):
    if "DTHDTC" in dm.columns:
        d = derive_vars_dt(dm[keys + ["DTHDTC"]], "DTH", "DTHDTC", highest_imputation="M", date_imputation="first")
        adsl = derive_vars_merged(adsl, d, keys, ["DTHDT", "DTHDTF"], name_add="DM")
    else:
        adsl["DTHDT"], adsl["DTHDTF"] = np.nan, ""
    dthfl = char(dm["DTHFL"]).to_numpy() if "DTHFL" in dm.columns else np.full(len(dm), "")
    adsl["DTHFL"] = np.where((dthfl == "Y") | adsl["DTHDT"].notna().to_numpy(), "Y", "")
    cause = pd.Series("", index=adsl.index, dtype=object)
    for i, item in enumerate(cause_sources):          # the first source with a value wins
        if not src.has(item["domain"]):
            continue
        needed = {item["value"]} | {c.lstrip("-") for c in item["order"]} | names_in(item["filter"])
        data = src.with_supp(item["domain"], columns=read_with(item["filter"], keys + sorted(needed)))
        if not needed <= set(data.columns):          # a source the study's SDTM cannot give is skipped
            continue
        data = rows_where(data, item["filter"], where=f"adsl.dthcaus_sources[{i}].filter")
        data = data.loc[char(data[item["value"]]) != ""]
        got = derive_vars_merged(adsl[keys], data, keys, {"_C": item["value"]}, order=list(item["order"]),
                                 mode="first", name_add=item["domain"])["_C"]
        got = pd.Series(char(got).to_numpy(), index=adsl.index)
        cause = cause.where(cause != "", got)
    adsl["DTHCAUS"] = np.where(adsl["DTHFL"] == "Y", cause.to_numpy(), "")
    return adsl


def _disposition(adsl, src, keys, eos_filter):
    """EOSSTT/DCSREAS from the last DS record meeting the spec's ``eos_filter`` (the study-participation
    disposition): COMPLETED, else DISCONTINUED with the reason; no record = ONGOING."""
    adsl["EOSSTT"], adsl["DCSREAS"] = "ONGOING", ""
    if not src.has("DS"):
        return adsl
    if "DSCAT" not in src.columns("DS"):
        return adsl
    ds = src.get("DS", columns=read_with(eos_filter, keys + ["DSCAT", "DSDECOD", "DSSTDTC"]))
    ev = rows_where(ds, eos_filter, where="adsl.eos_filter")
    picked = derive_vars_merged(adsl[keys], ev, keys, {"_D": "DSDECOD"}, order=["DSSTDTC"] if "DSSTDTC" in ev.columns
                                else [], mode="last", name_add="DS")["_D"]
    picked = char(picked)
    adsl["EOSSTT"] = np.select([picked == "COMPLETED", picked != ""], ["COMPLETED", "DISCONTINUED"], "ONGOING")
    adsl["DCSREAS"] = np.where(adsl["EOSSTT"] == "DISCONTINUED", picked, "")
    return adsl


def _last_alive(adsl, src, config, keys):
    frames = [adsl[keys + ["TRTEDT"]].rename(columns={"TRTEDT": "DT"})]
    for _, _, _, latest in last_alive_records(src, config):
        if latest is not None:
            frames.append(latest[keys + ["DT"]])
    return derive_var_max_date(adsl, "LSTALVDT", frames, keys)


def last_alive_records(src: SdtmSource, config: AdamConfig) -> tuple:
    """Per ``adsl.last_alive_sources`` item whose domain the SDTM has (in spec order): ``(index, item, records,
    latest)``; ``records`` holds every record meeting the item's filter (keys, DT = its date, SEQ = its --SEQ
    or NaN; None for an empty source without that date), ``latest`` the record per subject ``derive_param_tte`` picks as a censoring (the last in stable DT
    order among dated records), in DT order. Built once per run: ADSL.LSTALVDT (the latest date is the latest
    of the ``latest`` ones) and every ADTTE ``last_alive`` censoring read them; callers do not change them."""
    return src.shared(_last_alive_records, src, config)


def _columns(frame: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    return frame[[c for c in dict.fromkeys(names) if c in frame.columns]]


def _last_alive_records(src: SdtmSource, config: AdamConfig) -> tuple:
    from ..tte import _one_per_key
    keys = config.subject_keys
    out = []
    for i, s in enumerate(config["adsl"]["last_alive_sources"]):
        domain = s["domain"].upper()
        if not src.has(domain):
            continue
        seq = f"{domain}SEQ"
        data = src.get(domain, columns=read_with(s["filter"], keys + [s["date"], seq]))        # only what is read here is normalised
        data = rows_where(data, s["filter"], where=f"last_alive_sources {s['domain']}")
        if not len(data) and s["date"] not in data.columns:
            out.append((i, s, None, None))  # ADSL skips it; ADTTE's last_alive says the date is missing
            continue
        d = derive_vars_dt(_columns(data, keys + [s["date"]]), "", s["date"])
        records = pd.DataFrame({**{k: d[k].to_numpy() for k in keys}, "DT": d["DT"].to_numpy(),
                                "SEQ": num(data[seq]).to_numpy() if seq in data.columns else np.nan},
                               index=pd.RangeIndex(len(d)))
        dt = records["DT"].to_numpy()
        pos = np.flatnonzero(~np.isnan(dt))
        pos = pos[np.argsort(dt[pos], kind="stable")]
        pos = pos[_one_per_key(records, keys, pos, first=False)]
        out.append((i, s, records, records.take(pos).reset_index(drop=True)))
    return tuple(out)
