"""ADPC (concentrations), ADPP (NCA parameters) and the SDTM PP domain, for the spec's analyte.

Expects PC (USUBJID PCSEQ PCTESTCD PCTEST PCSTRESN PCSTRESC PCSTRESU PCLLOQ PCDTC [PCELTM PCTPT
PCTPTNUM PCSPEC]) and ADSL's infusion datetime (TRTSDTM/TRTSDT). Time is in days from the infusion:
AFRLT from the sample datetime, NFRLT from PCELTM (ISO 8601 duration, e.g. "P7D", "PT6H", "-PT1H").
A sample is BLQ when PCSTRESC is one of the spec's ``blq_results``, starts with "<", or PCSTRESN < PCLLOQ.
Pre-dose samples (AFRLT < 0) and samples not done (PCSTAT, ANL01FL blank) stay in ADPC but are not used
for NCA.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from trialforge.errors import DateFormatError

from ..config import HOURS_PER_UNIT, AdamConfig
from .._frame import char, mask, num, y_blank
from ..dates import derive_vars_dtm, derive_vars_dt, derive_vars_dy, sas_datetime_to_iso, sas_date_to_iso
from ..nca import NcaRules, interval_key, nca_by_subject
from .sdtm_input import SdtmSource

ADSL_VARS = ["TRT01P", "TRT01PN", "TRT01A", "TRT01AN", "DOSELVL", "PART", "TRTSDT", "TRTSDTM", "PKFL"]
ADPC_ORDER = ["STUDYID", "USUBJID"] + ADSL_VARS + ["PARAMCD", "PARAM", "AVAL", "AVALC", "AVALU", "ALLOQ", "BLQFL",
                                                   "ANL01FL", "ADT", "ADTM", "ADY", "AFRLT", "NFRLT", "ATPT", "ATPTN",
                                                   "SRCDOM", "SRCVAR", "SRCSEQ"]
ADPP_ORDER = ["STUDYID", "USUBJID"] + [v for v in ADSL_VARS if v not in ("TRTSDTM",)] + [
    "PARAMCD", "PARAM", "PARAMN", "AVAL", "AVALU", "SRCDOM", "SRCVAR"]
PP_ORDER = ["STUDYID", "DOMAIN", "USUBJID", "PPSEQ", "PPTESTCD", "PPTEST", "PPCAT", "PPORRES", "PPORRESU",
            "PPSTRESC", "PPSTRESN", "PPSTRESU", "PPSTAT", "PPREASND", "PPSPEC", "PPRFTDTC", "PPSTINT", "PPENINT"]
# PKPARMCD / PKPARM (CDISC CT) for each NCA result
PP_TESTS = {"CMAX": "Max Conc", "TMAX": "Time of CMAX", "CLST": "Last Nonzero Conc",
            "TLST": "Time of Last Nonzero Conc", "AUCINT": "AUC from T1 to T2"}
_DURATION = re.compile(r"^(-)?P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?"
                       r"(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


def iso_duration_days(values: pd.Series, *, column: str = "--ELTM") -> pd.Series:
    """ISO 8601 duration (weeks/days/hours/minutes/seconds, optional leading "-") → days.

    >>> iso_duration_days(pd.Series(["P7D", "PT12H", "-PT1H", "P1DT6H", ""])).round(4).tolist()
    [7.0, 0.5, -0.0417, 1.25, nan]
    """
    text = char(values)
    parts = text.str.extract(_DURATION)
    bad = (text != "") & (~text.str.match(_DURATION) | (text.isin(["P", "-P", "PT", "-PT"])))
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DateFormatError("not an ISO 8601 duration", column=column, row=row + 1, value=text.iloc[row])
    f = parts.iloc[:, 1:].apply(pd.to_numeric, errors="coerce").fillna(0.0)
    days = f.iloc[:, 0] * 7 + f.iloc[:, 1] + f.iloc[:, 2] / 24 + f.iloc[:, 3] / 1440 + f.iloc[:, 4] / 86400
    days = days.where(parts[0] != "-", -days)
    return days.where(text != "").astype("float64")


def build_adpc(src: SdtmSource, adsl: pd.DataFrame, config: AdamConfig) -> pd.DataFrame:
    cfg = config["pk"]
    keys = config.subject_keys
    pc = src.get("PC")
    pc = pc.loc[char(pc["PCTESTCD"]) == cfg["analyte"]].copy()
    pc = pc.merge(adsl[keys + [c for c in ADSL_VARS if c in adsl.columns]], on=keys, how="inner")
    pc = derive_vars_dtm(pc, "A", "PCDTC", highest_imputation="h", time_imputation="first", flag_imputation="none")
    pc = derive_vars_dt(pc, "A", "PCDTC", flag_imputation=False)
    out = pc[keys + [c for c in ADSL_VARS if c in pc.columns]].copy()
    out["PARAMCD"] = char(pc["PCTESTCD"])
    unit = char(pc["PCSTRESU"]) if "PCSTRESU" in pc.columns else pd.Series("", index=pc.index)
    out["PARAM"] = char(pc["PCTEST"]) + np.where(unit != "", " (" + unit + ")", "")
    out["AVAL"] = num(pc["PCSTRESN"])
    out["AVALC"] = char(pc["PCSTRESC"]) if "PCSTRESC" in pc.columns else ""
    out["AVALU"] = unit
    out["ALLOQ"] = num(pc["PCLLOQ"]) if "PCLLOQ" in pc.columns else np.nan
    res = char(out["AVALC"]).str.upper()
    blq = res.isin([r.upper() for r in cfg["blq_results"]]) | res.str.startswith("<") | (out["AVAL"] < out["ALLOQ"])
    out["BLQFL"] = y_blank(blq)
    # Samples not done (PCSTAT "NOT DONE") stay for traceability with AVAL missing; ANL01FL marks the
    # records concentration summaries and NCA use: a result or a BLQ, and not a sample marked not done.
    not_done = char(pc["PCSTAT"]).str.upper().eq("NOT DONE") if "PCSTAT" in pc.columns else False
    out["ANL01FL"] = y_blank((out["AVAL"].notna() | blq) & ~not_done)
    out["ADT"], out["ADTM"] = pc["ADT"], pc["ADTM"]
    out = derive_vars_dy(out, "TRTSDT", {"ADY": "ADT"})
    by_time = (out["ADTM"] - num(out["TRTSDTM"])) / 86400.0
    by_date = out["ADT"] - num(out["TRTSDT"])
    out["AFRLT"] = by_time.where(by_time.notna(), by_date)
    out["NFRLT"] = iso_duration_days(pc["PCELTM"], column="PCELTM") if "PCELTM" in pc.columns else np.nan
    out["ATPT"] = char(pc["PCTPT"]) if "PCTPT" in pc.columns else ""
    out["ATPTN"] = num(pc["PCTPTNUM"]) if "PCTPTNUM" in pc.columns else np.nan
    out["SRCDOM"], out["SRCVAR"], out["SRCSEQ"] = "PC", "PCSTRESN", num(pc["PCSEQ"]) if "PCSEQ" in pc else np.nan
    out["_SPEC"] = char(pc["PCSPEC"]) if "PCSPEC" in pc.columns else ""
    return out.sort_values(keys + ["AFRLT"], kind="mergesort").reset_index(drop=True)


def _nca(adpc: pd.DataFrame, adsl: pd.DataFrame, config: AdamConfig) -> tuple[pd.DataFrame, list]:
    cfg = config["pk"]
    keys = config.subject_keys
    pop = adsl.loc[mask(adsl, cfg["population"], where="pk.population"), keys]
    used = adpc.merge(pop, on=keys).loc[lambda d: (d["AFRLT"] >= 0) & (d["ANL01FL"] == "Y")]
    intervals = [(float(a), float(b)) for a, b in cfg["intervals"]]
    rules = NcaRules(blq_between=cfg["blq_between"], blq_after=cfg["blq_after"], zero_at_dose=cfg["zero_at_dose"])
    return nca_by_subject(used, by_vars=keys, intervals=intervals, rules=rules), intervals


def build_adpp(adpc: pd.DataFrame, adsl: pd.DataFrame, config: AdamConfig) -> pd.DataFrame:
    keys = config.subject_keys
    res, intervals = _nca(adpc, adsl, config)
    conc_unit = adpc["AVALU"].iloc[0] if len(adpc) else ""
    tu = config["pk"]["time_unit"]
    specs = [("CMAX", "Max Conc", conc_unit), ("TMAX", "Time of CMAX", tu), ("CLST", "Last Nonzero Conc", conc_unit),
             ("TLST", "Time of Last Nonzero Conc", tu)]
    for a, b in intervals:
        code = f"AUC{b:g}D" if a == 0 else f"AUC{a:g}{b:g}"
        specs.append((code, f"AUC from {a:g} to {b:g} days", f"{tu}*{conc_unit}", interval_key(a, b)))
    rows = []
    for n, spec in enumerate(specs, start=1):
        code, label, unit = spec[:3]
        col = spec[3] if len(spec) > 3 else code
        part = res[keys].copy()
        part["PARAMCD"], part["PARAM"], part["PARAMN"] = code, label, float(n)
        part["AVAL"], part["AVALU"] = res[col].astype("float64"), unit
        rows.append(part)
    adpp = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=keys)
    adpp["SRCDOM"], adpp["SRCVAR"] = "ADPC", "AVAL"
    adpp = adpp.merge(adsl[keys + [c for c in ADSL_VARS if c in adsl.columns and c != "TRTSDTM"]], on=keys,
                      how="left")
    return adpp.sort_values(keys + ["PARAMN"], kind="mergesort").reset_index(drop=True)


def build_pp(adpc: pd.DataFrame, adsl: pd.DataFrame, config: AdamConfig, pc_test: str = "") -> pd.DataFrame:
    """SDTM PP: the NCA results as findings, PPTESTCD/PPTEST from CDISC CT (PKPARMCD/PKPARM).

    Units must be CDISC PKUNIT terms: TMAX/TLST stay in ``pk.time_unit`` ("day" is a PKUNIT term), AUCs are
    converted to ``pk.pp_auc_time_unit`` (default "h": PKUNIT has "h*DNA copies/ug" but no "day*DNA copies/ug").
    ADPP keeps the analysis time unit (days) the tables use.
    """
    keys = config.subject_keys
    res, intervals = _nca(adpc, adsl, config)
    conc_unit = adpc["AVALU"].iloc[0] if len(adpc) else ""
    cat = adpc["PARAM"].iloc[0].split(" (")[0] if len(adpc) else ""
    spec = adpc.drop_duplicates(keys).set_index(keys)["_SPEC"] if len(adpc) else pd.Series(dtype=object)
    tu, auc_tu = config["pk"]["time_unit"], config["pk"]["pp_auc_time_unit"]
    auc_factor = HOURS_PER_UNIT[tu] / HOURS_PER_UNIT[auc_tu]      # e.g. day*copies/ug → h*copies/ug: × 24
    rows = []
    tests = [("CMAX", "CMAX", conc_unit, "", "", 1.0), ("TMAX", "TMAX", tu, "", "", 1.0),
             ("CLST", "CLST", conc_unit, "", "", 1.0), ("TLST", "TLST", tu, "", "", 1.0)]
    tests += [("AUCINT", interval_key(a, b), f"{auc_tu}*{conc_unit}", f"P{a:g}D", f"P{b:g}D", auc_factor)
              for a, b in intervals]
    for code, col, unit, st, en, factor in tests:
        part = res[keys].copy()
        value = res[col].astype("float64") * factor
        part["PPTESTCD"], part["PPTEST"] = code, PP_TESTS[code]
        part["PPSTRESN"] = value
        text = value.map(lambda v: "" if pd.isna(v) else f"{v:.6g}")
        part["PPORRES"], part["PPSTRESC"] = text, text
        part["PPORRESU"] = np.where(value.notna(), unit, "")
        part["PPSTRESU"] = part["PPORRESU"]
        part["PPSTAT"] = np.where(value.isna(), "NOT DONE", "")
        part["PPREASND"] = np.where(value.isna(), "PROFILE DOES NOT COVER THE INTERVAL" if st else
                                    "NO MEASURABLE CONCENTRATION", "")
        part["PPSTINT"], part["PPENINT"] = st, en
        rows.append(part)
    pp = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=keys)
    pp["DOMAIN"], pp["PPCAT"] = "PP", cat
    if len(pp):
        pp["PPSPEC"] = [spec.get(tuple(k), "") if len(keys) > 1 else spec.get(k[0], "")
                        for k in pp[keys].itertuples(index=False)]
        ref = adsl[keys + ["TRTSDTM", "TRTSDT"]].copy()
        iso = sas_datetime_to_iso(ref["TRTSDTM"])
        ref["PPRFTDTC"] = np.where(iso != "", iso, sas_date_to_iso(ref["TRTSDT"]))
        pp = pp.merge(ref[keys + ["PPRFTDTC"]], on=keys, how="left")
        order = {c: i for i, c in enumerate(["CMAX", "TMAX", "CLST", "TLST", "AUCINT"])}
        pp = pp.assign(_O=pp["PPTESTCD"].map(order)).sort_values(keys + ["_O"], kind="mergesort")
        pp["PPSEQ"] = pp.groupby(keys, sort=False).cumcount().astype("float64") + 1
        pp = pp.drop(columns="_O")
    return pp.reset_index(drop=True)
