"""ADTTE: OS, PFS and DOR built with ``derive_param_tte`` from sources the spec configures.

* OS: event death (ADSL DTHDT, traced to the DS death record); censored at the last known alive date
  (the record behind ADSL LSTALVDT: the latest of the spec's last_alive_sources and TRTEDT), else at start.
* PFS (options in the spec's ``adtte.pfs``): event = first PD (RS OVR) or death; censored at the last
  adequate assessment (CR/PR/SD/NON-CR/NON-PD/PD) before the event. With ``censor_at_new_therapy``
  assessments and events on/after the first new anticancer therapy are ignored (censored at the last
  adequate assessment before it). With ``max_gap_days`` an event more than that many days after the last
  adequate assessment (or the start when there is none: two or more missed assessments) is not
  counted: censored at that assessment. With ``censor_no_baseline`` a subject without a baseline tumour
  assessment is censored at the start. No adequate post-baseline assessment and no event → censored at
  the start date.
* DOR: responders only (first confirmed CR/PR if ``dor.confirmed``, else first CR/PR), from that date to
  PD or death, the same censoring rules as PFS.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..config import AdamConfig
from .._frame import char, mask, num
from ..dates import derive_vars_dt
from ..response import confirmed_responses, first_response_date
from ..tte import CensorSource, EventSource, derive_param_tte
from .adrs import ADSL_VARS, new_therapy_dates, ovr_records
from .sdtm_input import SdtmSource

ADEQUATE = ("CR", "PR", "SD", "NON-CR/NON-PD", "PD")
ORDER = ["STUDYID", "USUBJID", "TRT01P", "TRT01PN", "TRT01A", "TRT01AN", "DOSELVL", "PART", "SAFFL", "EFFFL",
         "PARAMCD", "PARAM", "PARAMN", "AVAL", "AVALU", "CNSR", "STARTDT", "ADT", "EVNTDESC", "CNSDTDSC",
         "SRCDOM", "SRCVAR", "SRCSEQ"]
PARAMS = {"OS": ("Overall Survival (days)", 1), "PFS": ("Progression-Free Survival (days)", 2),
          "DOR": ("Duration of Response (days)", 3)}


def progression_frame(subjects: pd.DataFrame, ovr: pd.DataFrame, *, start: str, keys: list[str],
                      death_is_event: bool = True, censor_at_new_therapy: bool = True,
                      max_gap_days: float | None = None, censor_no_baseline: bool = False) -> pd.DataFrame:
    """Per subject: the candidate PD/death events and the censoring date under the PFS rules.

    ``subjects`` holds keys, ``start``, DTHDT, NACTDT (new therapy, may be missing) and HASBASE (bool);
    ``ovr`` holds keys, ADT, AVALC, SRCSEQ. Returns STARTDT, PDDT/PDSEQ/PD_OK, DTHDT/DTH_OK,
    CNSDT/CNSSEQ/CNSDESC/CNSDOM.
    """
    trace = [c for c in ("DTHDOM", "DTHVAR", "DTHSEQ") if c in subjects.columns]
    s = subjects[keys + [start, "DTHDT", "NACTDT", "HASBASE"] + trace].rename(columns={start: "STARTDT"}).copy()
    for col, default in (("DTHDOM", "ADSL"), ("DTHVAR", "DTHDT"), ("DTHSEQ", np.nan)):
        if col not in s.columns:
            s[col] = default
    a = ovr[keys + ["ADT", "AVALC", "SRCSEQ"]].merge(s[keys + ["STARTDT", "NACTDT"]], on=keys)
    a = a.loc[a["ADT"].notna() & (a["ADT"] > a["STARTDT"])]
    if censor_at_new_therapy:
        a = a.loc[~(a["ADT"] >= a["NACTDT"])]
    a = a.sort_values(keys + ["ADT"], kind="mergesort")
    pd_first = a.loc[a["AVALC"] == "PD"].drop_duplicates(keys)[keys + ["ADT", "SRCSEQ"]]
    s = s.merge(pd_first.rename(columns={"ADT": "PDDT", "SRCSEQ": "PDSEQ"}), on=keys, how="left")
    dth_ok = s["DTHDT"].notna() & (s["DTHDT"] >= s["STARTDT"]) if death_is_event else pd.Series(False, index=s.index)
    if censor_at_new_therapy:
        dth_ok &= ~(s["DTHDT"] >= s["NACTDT"])
    s["EVDT"] = np.fmin(s["PDDT"], s["DTHDT"].where(dth_ok))
    adequate = a.loc[a["AVALC"].isin(ADEQUATE)].merge(s[keys + ["EVDT"]], on=keys)
    adequate = adequate.loc[adequate["EVDT"].isna() | (adequate["ADT"] < adequate["EVDT"])]
    last = adequate.drop_duplicates(keys, keep="last")[keys + ["ADT", "SRCSEQ"]]
    s = s.merge(last.rename(columns={"ADT": "LAADT", "SRCSEQ": "LASEQ"}), on=keys, how="left")
    pd_ok = s["PDDT"].notna()
    if max_gap_days is not None:
        anchor = s["LAADT"].fillna(s["STARTDT"])
        pd_ok &= ~(s["PDDT"] - anchor > max_gap_days)
        dth_ok &= ~(s["DTHDT"] - anchor > max_gap_days)
    if censor_no_baseline:
        pd_ok &= s["HASBASE"]
        dth_ok &= s["HASBASE"]
    s["PD_OK"], s["DTH_OK"] = pd_ok, dth_ok
    at_start = s["LAADT"].isna() | (censor_no_baseline & ~s["HASBASE"])
    s["CNSDT"] = s["LAADT"].where(~at_start, s["STARTDT"])
    s["CNSSEQ"] = s["LASEQ"].where(~at_start)
    s["CNSDOM"] = np.where(at_start, "ADSL", "RS")
    s["CNSVAR"] = np.where(at_start, start, "RSDTC")
    new_therapy_first = censor_at_new_therapy & s["NACTDT"].notna()
    s["CNSDESC"] = np.select(
        [censor_no_baseline & ~s["HASBASE"], at_start, new_therapy_first],
        ["NO BASELINE ASSESSMENT", "NO ADEQUATE POST-BASELINE ASSESSMENT",
         "LAST ADEQUATE ASSESSMENT BEFORE NEW ANTICANCER THERAPY"], "LAST ADEQUATE ASSESSMENT")
    return s


def progression_sources(frame_name: str) -> tuple[list[EventSource], list[CensorSource]]:
    """Event/censor sources over a ``progression_frame`` (registered under ``frame_name``)."""
    events = [
        EventSource(frame_name, date="PDDT", filter="PD_OK", copy_vars={"SRCSEQ": "PDSEQ"},
                    set_values_to={"EVNTDESC": "DISEASE PROGRESSION", "CNSDTDSC": "", "SRCDOM": "RS",
                                   "SRCVAR": "RSDTC"}),
        EventSource(frame_name, date="DTHDT", filter="DTH_OK",
                    copy_vars={"SRCDOM": "DTHDOM", "SRCVAR": "DTHVAR", "SRCSEQ": "DTHSEQ"},
                    set_values_to={"EVNTDESC": "DEATH", "CNSDTDSC": ""}),
    ]
    censors = [CensorSource(frame_name, date="CNSDT",
                            copy_vars={"SRCSEQ": "CNSSEQ", "EVNTDESC": "CNSDESC", "CNSDTDSC": "CNSDESC",
                                       "SRCDOM": "CNSDOM", "SRCVAR": "CNSVAR"})]
    return events, censors


def death_trace(src: SdtmSource, adsl: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per subject with DTHDT: the record the death date traces to (DTHDOM/DTHVAR/DTHSEQ): the DS death
    record (DSDECOD "DEATH") dated DTHDT when there is one, else ADSL.DTHDT itself."""
    out = adsl.loc[num(adsl["DTHDT"]).notna(), keys + ["DTHDT"]].copy()
    out["DTHDOM"], out["DTHVAR"], out["DTHSEQ"] = "ADSL", "DTHDT", np.nan
    if src.has("DS") and {"DSDECOD", "DSSTDTC", "DSSEQ"} <= set(src.get("DS").columns):
        ds = src.get("DS")
        ds = derive_vars_dt(ds.loc[char(ds["DSDECOD"]) == "DEATH"], "_D", "DSSTDTC")
        hit = out[keys + ["DTHDT"]].merge(ds[keys + ["_DDT", "DSSEQ"]], left_on=keys + ["DTHDT"],
                                          right_on=keys + ["_DDT"]).drop_duplicates(keys)
        out = out.merge(hit[keys + ["DSSEQ"]], on=keys, how="left")
        found = out["DSSEQ"].notna()
        out.loc[found, ["DTHDOM", "DTHVAR"]] = ["DS", "DSSTDTC"]
        out["DTHSEQ"] = num(out["DSSEQ"])
        out = out.drop(columns="DSSEQ")
    return out.drop(columns="DTHDT")


def overall_survival(src: SdtmSource, pop: pd.DataFrame, config: AdamConfig, start: str) -> pd.DataFrame:
    """OS: death (traced by ``death_trace``) vs the latest date the subject was known alive.

    The censoring sources are ADSL's LSTALVDT sources (spec ``adsl.last_alive_sources``) plus TRTEDT and the
    start date, each a CensorSource over its own SDTM record, so the censoring date equals LSTALVDT and
    SRCDOM/SRCVAR/SRCSEQ name the record it came from.
    """
    keys = config.subject_keys
    sources = {"adsl": pop}
    death = EventSource("adsl", date="DTHDT", copy_vars={"SRCDOM": "DTHDOM", "SRCVAR": "DTHVAR", "SRCSEQ": "DTHSEQ"},
                        set_values_to={"EVNTDESC": "DEATH", "CNSDTDSC": ""})
    alive_desc = {"EVNTDESC": "LAST KNOWN ALIVE DATE", "CNSDTDSC": "LAST KNOWN ALIVE DATE"}
    censors = [CensorSource("adsl", date=start, set_values_to={
                   "EVNTDESC": "START OF TREATMENT", "CNSDTDSC": "START OF TREATMENT", "SRCDOM": "ADSL",
                   "SRCVAR": start, "SRCSEQ": np.nan}),
               CensorSource("adsl", date="TRTEDT", set_values_to={**alive_desc, "SRCDOM": "ADSL", "SRCVAR": "TRTEDT",
                                                                   "SRCSEQ": np.nan})]
    for i, item in enumerate(config["adsl"]["last_alive_sources"]):
        domain = item["domain"].upper()
        if not src.has(domain):
            continue
        data = src.get(domain)
        data = data.loc[mask(data, item["filter"], where=f"last_alive_sources {domain}")]
        seq = f"{domain}SEQ"
        data = derive_vars_dt(data, "_L", item["date"])
        data = data.assign(_SEQ=num(data[seq]) if seq in data.columns else np.nan)
        name = f"alive{i}"
        sources[name] = data
        censors.append(CensorSource(name, date="_LDT", copy_vars={"SRCSEQ": "_SEQ"},
                                    set_values_to={**alive_desc, "SRCDOM": domain, "SRCVAR": item["date"]}))
    return derive_param_tte(pop, sources, start_date=start, event_conditions=[death], censor_conditions=censors,
                            set_values_to={"PARAMCD": "OS"}, subject_keys=keys)


def _has_baseline(src: SdtmSource, subjects: pd.DataFrame, start: str, config: AdamConfig) -> pd.Series:
    keys = config.subject_keys
    spec = config["adtte"]["pfs"]["baseline_source"]
    if not src.has(spec["domain"]):
        return pd.Series(True, index=subjects.index)
    data = src.get(spec["domain"])
    data = data.loc[mask(data, spec["filter"], where="adtte.pfs.baseline_source.filter")]
    d = derive_vars_dt(data[keys + [spec["date"]]], "B", spec["date"], highest_imputation="n")
    d = d.merge(subjects[keys + [start]], on=keys)
    base = d.loc[d["BDT"] <= num(d[start]), keys].drop_duplicates().assign(_B=True)
    return subjects[keys].merge(base, on=keys, how="left")["_B"].fillna(False).astype(bool).to_numpy()


def build_adtte(src: SdtmSource, adsl: pd.DataFrame, config: AdamConfig) -> pd.DataFrame:
    cfg = config["adtte"]
    keys = config.subject_keys
    start = cfg["start_date"]
    pop = adsl.loc[mask(adsl, cfg["population"], where="adtte.population") & num(adsl[start]).notna()].copy()
    params = []
    pop = pop.merge(death_trace(src, pop, keys), on=keys, how="left")
    if "OS" in cfg["parameters"]:
        params.append(overall_survival(src, pop, config, start))
    need_rs = {"PFS", "DOR"} & set(cfg["parameters"])
    if need_rs:
        nact = new_therapy_dates(src, config)
        ovr = ovr_records(src, adsl, config, nact)
        pfs_cfg = cfg["pfs"]
        subjects = pop.merge(nact, on=keys, how="left")
        subjects["HASBASE"] = _has_baseline(src, subjects, start, config)
        opts = dict(keys=keys, death_is_event=pfs_cfg["death_is_event"],
                    censor_at_new_therapy=pfs_cfg["censor_at_new_therapy"], max_gap_days=pfs_cfg["max_gap_days"],
                    censor_no_baseline=pfs_cfg["censor_no_baseline"])
        if "PFS" in cfg["parameters"]:
            frame = progression_frame(subjects, ovr, start=start, **opts)
            events, censors = progression_sources("pfs")
            params.append(derive_param_tte(frame, {"pfs": frame}, start_date="STARTDT", event_conditions=events,
                                           censor_conditions=censors, set_values_to={"PARAMCD": "PFS"},
                                           subject_keys=keys))
        if "DOR" in cfg["parameters"]:
            acfg = config["adrs"]
            used = ovr.loc[ovr["ANL01FL"] == "Y"]
            if cfg["dor"]["confirmed"]:
                conf = confirmed_responses(used, filter_source=None, ref_confirm=acfg["ref_confirm"],
                                           max_nr_ne=acfg["max_nr_ne"], accept_sd=acfg["accept_sd"], subject_keys=keys)
                first = conf.drop_duplicates(keys)[keys + ["ADT"]]
            else:
                first = first_response_date(used, filter_source=None, subject_keys=keys)[keys + ["ADT"]]
            resp = subjects.merge(first.rename(columns={"ADT": "RSPDT"}), on=keys)
            resp = resp.loc[resp["RSPDT"].notna()]
            frame = progression_frame(resp, ovr, start="RSPDT", **{**opts, "censor_no_baseline": False})
            events, censors = progression_sources("dor")
            params.append(derive_param_tte(frame, {"dor": frame}, start_date="STARTDT", event_conditions=events,
                                           censor_conditions=censors, set_values_to={"PARAMCD": "DOR"},
                                           subject_keys=keys))
    adtte = pd.concat(params, ignore_index=True) if params else pd.DataFrame(columns=keys + ["PARAMCD"])
    adtte["PARAM"] = adtte["PARAMCD"].map(lambda p: PARAMS[p][0])
    adtte["PARAMN"] = adtte["PARAMCD"].map(lambda p: float(PARAMS[p][1]))
    adtte["AVALU"] = "DAYS"
    adtte["EVNTDESC"] = char(adtte["EVNTDESC"])
    adtte["CNSDTDSC"] = np.where(adtte["CNSR"] == 1, char(adtte["CNSDTDSC"]), "")
    adtte["SRCSEQ"] = num(adtte["SRCSEQ"]) if "SRCSEQ" in adtte.columns else np.nan
    adtte = adtte.merge(adsl[keys + [c for c in ADSL_VARS if c in adsl.columns and c != "TRTSDT"]], on=keys,
                        how="left")
    keep = [c for c in ORDER if c in adtte.columns]
    return adtte[keep].sort_values(keys + ["PARAMN"], kind="mergesort").reset_index(drop=True)
