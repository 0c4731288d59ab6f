"""ADEX: exposure per subject and declared parameter (lymphodepletion doses, cell dose flat or per kg).

Each ``adex.parameters`` item selects EX records (``filter``), takes ``value`` (EXDOSE) and summarises it per
subject (``stat``: sum, first, last, max, count). ``per_weight`` divides by the subject's body weight (the
last ``adex.weight`` record on/before its ADSL date), e.g. a flat CAR-T cell dose to cells/kg.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from trialforge.errors import SpecError

from ..config import AdamConfig
from .._join import join
from .._frame import char, names_in, num, require, rows_where, sort_rows
from ..dates import derive_vars_dt
from .sdtm_input import SdtmSource

ADSL_VARS = ["TRT01P", "TRT01PN", "TRT01A", "TRT01AN", "TRTSDT", "SAFFL"]
ORDER = ["STUDYID", "USUBJID"] + ADSL_VARS + ["PARAMCD", "PARAM", "PARAMN", "AVAL", "AVALU", "ASTDT", "AENDT",
                                              "SRCDOM", "SRCVAR"]


def body_weight(src: SdtmSource, adsl: pd.DataFrame, config: AdamConfig) -> pd.Series:
    """Weight (kg) per ADSL subject: the last record on/before ``adex.weight.on_or_before`` (NaN when none)."""
    w = config["adex"]["weight"]
    keys = config.subject_keys
    if not src.has(w["domain"]):
        raise SpecError("adex.parameters[].per_weight needs the weight domain", file=config.path,
                        column="adex.weight.domain", value=w["domain"])
    data = src.get(w["domain"])
    require(data, keys + [w["value"], w["date"]], w["domain"])
    data = rows_where(data, w["filter"], where="adex.weight.filter")
    data = derive_vars_dt(data, "_W", w["date"])
    data = join(data, adsl[keys + [w["on_or_before"]]], keys, "inner")
    data = data.loc[data["_WDT"].notna() & ~(data["_WDT"] > num(data[w["on_or_before"]]))]
    data = data.assign(_V=num(data[w["value"]])).loc[lambda d: d["_V"].notna()]
    last = sort_rows(data, keys + ["_WDT"]).drop_duplicates(keys, keep="last")
    return join(adsl[keys], last[keys + ["_V"]], keys, "left")["_V"]


def build_adex(src: SdtmSource, adsl: pd.DataFrame, config: AdamConfig) -> pd.DataFrame:
    cfg = config["adex"]
    keys = config.subject_keys
    items = cfg["parameters"]
    ex = src.get("EX", columns=None if any(callable(i["filter"]) for i in items) else keys + ["EXSTDTC", "EXDOSU"] + [
        i["value"] for i in items if i["stat"] != "count" and i["value"]] + sorted(set().union(
            *(names_in(i["filter"]) for i in items))))
    pop = rows_where(adsl, cfg["population"], where="adex.population")
    weight = None
    parts = []
    for n, item in enumerate(cfg["parameters"], start=1):
        where = f"adex.parameters[{n - 1}]"
        rows = rows_where(ex, item["filter"], where=f"{where}.filter")
        if item["stat"] != "count":
            require(rows, [item["value"]], "EX")
        rows = derive_vars_dt(rows, "_S", "EXSTDTC").assign(_V=num(rows[item["value"]]) if item["stat"] != "count"
                                                           else 1.0)
        rows = join(rows, pop[keys], keys, "inner")
        rows = sort_rows(rows, keys + ["_SDT"])
        grouped = rows.groupby(keys, sort=False)
        agg = {"sum": "sum", "first": "first", "last": "last", "max": "max", "count": "sum"}[item["stat"]]
        summary = grouped.agg(AVAL=("_V", agg), ASTDT=("_SDT", "min"), AENDT=("_SDT", "max")).reset_index()
        unit = item["unit"]
        if unit is None:
            units = grouped["EXDOSU"].first().reset_index() if "EXDOSU" in rows.columns else None
            summary = join(summary, units, keys, "left") if units is not None else summary.assign(EXDOSU="")
            summary["AVALU"] = char(summary["EXDOSU"]) if item["stat"] != "count" else ""
            summary = summary.drop(columns="EXDOSU")
        else:
            summary["AVALU"] = unit
        out = join(pop[keys], summary, keys, "inner")
        if item["per_weight"]:
            if weight is None:
                weight = pd.concat([pop[keys].reset_index(drop=True), body_weight(src, pop, config).rename("_WT")],
                                   axis=1)
            out = join(out, weight, keys, "left")
            out["AVAL"] = out["AVAL"] / out["_WT"].where(out["_WT"] > 0)
            out = out.drop(columns="_WT")
            if unit is None:
                out["AVALU"] = np.where(char(out["AVALU"]) != "", char(out["AVALU"]) + "/kg", "")
        out["PARAMCD"], out["PARAM"], out["PARAMN"] = item["paramcd"], item["param"], float(n)
        out["SRCDOM"], out["SRCVAR"] = "EX", item["value"] if item["stat"] != "count" else "EXSEQ"
        parts.append(out)
    adex = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=keys + ["PARAMCD"])
    adex = join(adex, adsl[keys + [c for c in ADSL_VARS if c in adsl.columns]], keys, "left")
    return sort_rows(adex, keys + ["PARAMN"]).reset_index(drop=True)
