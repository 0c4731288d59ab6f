"""ADPC (concentrations), ADPP (NCA and persistence parameters) and the SDTM PP domain.

Expects PC (USUBJID PCSEQ PCTESTCD PCTEST PCSTRESN PCSTRESC PCSTRESU PCLLOQ PCDTC [PCELTM PCTPT
PCTPTNUM PCSPEC]) and ADSL's first-dose datetime (TRTSDTM/TRTSDT). One profile per subject x analyte
(PCTESTCD, the spec's ``pk.analyte`` or all) x specimen (PCSPEC): plasma and urine are never pooled.
Time is in ``pk.time_unit`` (h or day) from the first dose: AFRLT from the sample datetime, NFRLT from
PCELTM (ISO 8601 duration, e.g. "P7D", "PT6H", "-PT1H"); NCA uses AFRLT or NFRLT (``pk.time``).
A sample is BLQ when PCSTRESC is one of the spec's ``blq_results``, starts with "<", or PCSTRESN < PCLLOQ.
Pre-dose samples (time < 0) and samples not done (PCSTAT, ANL01FL blank) stay in ADPC but are not used
for NCA; the last pre-dose sample is the baseline of the persistence parameters.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from trialforge.errors import DateFormatError

from ..config import HOURS_PER_UNIT, AdamConfig
from .._frame import char, mask, num, y_blank
from ..dates import derive_vars_dtm, derive_vars_dt, derive_vars_dy, sas_datetime_to_iso, sas_date_to_iso
from ..nca import NcaRules, interval_key, nca_by_subject, return_time
from .sdtm_input import SdtmSource

ADSL_VARS = ["TRT01P", "TRT01PN", "TRT01A", "TRT01AN", "DOSELVL", "PART", "TRTSDT", "TRTSDTM", "PKFL"]
ADPC_ORDER = ["STUDYID", "USUBJID"] + ADSL_VARS + ["PARCAT1", "PARAMCD", "PARAM", "AVAL", "AVALC", "AVALU", "ALLOQ",
                                                   "BLQFL",
                                                   "ANL01FL", "ADT", "ADTM", "ADY", "AFRLT", "NFRLT", "ATPT", "ATPTN",
                                                   "SRCDOM", "SRCVAR", "SRCSEQ"]
ADPP_ORDER = ["STUDYID", "USUBJID"] + [v for v in ADSL_VARS if v not in ("TRTSDTM",)] + [
    "PARCAT1", "PARCAT2", "PARAMCD", "PARAM", "PARAMN", "AVAL", "AVALU", "SRCDOM", "SRCVAR"]
PROFILE = ["_ANALYTE", "_SPEC"]          # a profile: subject keys + analyte + specimen
UNIT_WORDS = {"day": "days", "h": "h", "min": "min"}
UNIT_LETTER = {"day": "D", "h": "H", "min": "M"}
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


def iso_offset(value: float, unit: str) -> str:
    """A time offset as ISO 8601 duration in the PK time unit: 28 days → "P28D", 24 h → "PT24H".

    >>> iso_offset(28, "day"), iso_offset(24, "h"), iso_offset(0.5, "h")
    ('P28D', 'PT24H', 'PT0.5H')
    """
    return f"P{value:g}D" if unit == "day" else f"PT{value:g}{UNIT_LETTER[unit]}"


def build_adpc(src: SdtmSource, adsl: pd.DataFrame, config: AdamConfig) -> pd.DataFrame:
    cfg = config["pk"]
    keys = config.subject_keys
    pc = src.get("PC")
    if cfg["analyte"]:
        pc = pc.loc[char(pc["PCTESTCD"]).isin(cfg["analyte"])]
    if cfg["specimens"] and "PCSPEC" in pc.columns:
        pc = pc.loc[char(pc["PCSPEC"]).isin(cfg["specimens"])]
    pc = pc.copy()
    pc = pc.merge(adsl[keys + [c for c in ADSL_VARS if c in adsl.columns]], on=keys, how="inner")
    pc = derive_vars_dtm(pc, "A", "PCDTC", highest_imputation="h", time_imputation="first", flag_imputation="none")
    pc = derive_vars_dt(pc, "A", "PCDTC", flag_imputation=False)
    out = pc[keys + [c for c in ADSL_VARS if c in pc.columns]].copy()
    spec = char(pc["PCSPEC"]) if "PCSPEC" in pc.columns else pd.Series("", index=pc.index)
    out["PARCAT1"] = spec
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
    hours = HOURS_PER_UNIT[cfg["time_unit"]]
    by_time = (out["ADTM"] - num(out["TRTSDTM"])) / (3600.0 * hours)
    by_date = (out["ADT"] - num(out["TRTSDT"])) * (24.0 / hours)
    out["AFRLT"] = by_time.where(by_time.notna(), by_date)
    out["NFRLT"] = (iso_duration_days(pc["PCELTM"], column="PCELTM") * (24.0 / hours)
                    if "PCELTM" in pc.columns else np.nan)
    out["ATPT"] = char(pc["PCTPT"]) if "PCTPT" in pc.columns else ""
    out["ATPTN"] = num(pc["PCTPTNUM"]) if "PCTPTNUM" in pc.columns else np.nan
    out["SRCDOM"], out["SRCVAR"], out["SRCSEQ"] = "PC", "PCSTRESN", num(pc["PCSEQ"]) if "PCSEQ" in pc else np.nan
    out["_SPEC"] = spec
    out["_ANALYTE"] = out["PARAMCD"]
    out["_TEST"] = char(pc["PCTEST"])
    return out.sort_values(keys + ["AFRLT"], kind="mergesort").reset_index(drop=True)


def _time_col(config: AdamConfig) -> str:
    return "AFRLT" if config["pk"]["time"] == "actual" else "NFRLT"


def _nca(adpc: pd.DataFrame, adsl: pd.DataFrame, config: AdamConfig) -> tuple[pd.DataFrame, list]:
    cfg = config["pk"]
    keys = config.subject_keys
    time = _time_col(config)
    pop = adsl.loc[mask(adsl, cfg["population"], where="pk.population"), keys]
    used = adpc.merge(pop, on=keys).loc[lambda d: (d[time] >= 0) & (d["ANL01FL"] == "Y")]
    intervals = [(float(i["start"]), float(i["end"])) for i in cfg["intervals"]]
    rules = NcaRules(blq_between=cfg["blq_between"], blq_after=cfg["blq_after"], zero_at_dose=cfg["zero_at_dose"],
                     auc_method=cfg["auc_method"], interval_tolerance=float(cfg["interval_tolerance"]))
    res = nca_by_subject(used, by_vars=keys + PROFILE, time=time, intervals=intervals, rules=rules)
    for item in cfg["persistence"]:
        res[item["paramcd"]] = _persistence(adpc.merge(pop, on=keys), res, keys, time, item["rule"])
    return res, intervals


def _persistence(adpc: pd.DataFrame, res: pd.DataFrame, keys: list[str], time: str, rule: str) -> pd.Series:
    """Time to return to baseline (``rule: baseline``) or to fall below LLOQ (``lloq``) after Tmax, per profile.

    Baseline = the last pre-dose (time < 0) result of the profile; BLQ or no pre-dose sample: the first BLQ."""
    by = keys + PROFILE
    rows = adpc.loc[adpc["ANL01FL"] == "Y"].sort_values(by + [time], kind="mergesort")
    pre = rows.loc[rows[time] < 0].drop_duplicates(by, keep="last")
    base = pre.set_index(by)["AVAL"].where(pre.set_index(by)["BLQFL"] != "Y")
    post = rows.loc[rows[time] >= 0]
    groups = {k if isinstance(k, tuple) else (k,): g for k, g in post.groupby(by, sort=True)}
    values = []
    for key, tmax in zip(res[by].itertuples(index=False, name=None), res["TMAX"]):
        grp = groups.get(tuple(key))
        if grp is None or np.isnan(tmax):
            values.append(np.nan)
            continue
        b = np.nan if rule == "lloq" else base.get(tuple(key) if len(by) > 1 else key[0], np.nan)
        values.append(return_time(grp[time].to_numpy(), num(grp["AVAL"]).to_numpy(),
                                  grp["BLQFL"].eq("Y").to_numpy(), baseline=b, after=tmax))
    return pd.Series(values, index=res.index, dtype="float64")


def adpp_parameters(config: AdamConfig, conc_unit: str) -> list[tuple]:
    """(PARAMCD, PARAM, unit, NCA result column) of every ADPP parameter, in PARAMN order."""
    cfg = config["pk"]
    tu = cfg["time_unit"]
    specs = [("CMAX", "Max Conc", conc_unit, "CMAX"), ("TMAX", "Time of CMAX", tu, "TMAX"),
             ("CLST", "Last Nonzero Conc", conc_unit, "CLST"), ("TLST", "Time of Last Nonzero Conc", tu, "TLST")]
    for i in cfg["intervals"]:
        a, b = float(i["start"]), float(i["end"])
        code = i["paramcd"] or (f"AUC{b:g}{UNIT_LETTER[tu]}" if a == 0 else f"AUC{a:g}{b:g}")
        label = i["param"] or f"AUC from {a:g} to {b:g} {UNIT_WORDS[tu]}"
        specs.append((code, label, f"{tu}*{conc_unit}", interval_key(a, b)))
    for item in cfg["persistence"]:
        specs.append((item["paramcd"], item["param"], tu, item["paramcd"]))
    return specs


def _profile_units(adpc: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Concentration unit, analyte name and specimen of each profile."""
    first = adpc.drop_duplicates(keys + PROFILE)
    return first[keys + PROFILE + ["AVALU", "_TEST"]]


def build_adpp(adpc: pd.DataFrame, adsl: pd.DataFrame, config: AdamConfig) -> pd.DataFrame:
    keys = config.subject_keys
    res, _ = _nca(adpc, adsl, config)
    res = res.merge(_profile_units(adpc, keys), on=keys + PROFILE, how="left")
    rows = []
    conc_unit = adpc["AVALU"].iloc[0] if len(adpc) else ""
    for n, (code, label, unit, col) in enumerate(adpp_parameters(config, conc_unit), start=1):
        part = res[keys].copy()
        part["PARCAT1"], part["PARCAT2"] = res["_SPEC"], res["_ANALYTE"]
        part["PARAMCD"], part["PARAM"], part["PARAMN"] = code, label, float(n)
        part["AVAL"] = res[col].astype("float64")
        part["AVALU"] = _unit_for(unit, conc_unit, res["AVALU"])
        rows.append(part)
    adpp = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=keys)
    adpp["SRCDOM"], adpp["SRCVAR"] = "ADPC", "AVAL"
    adpp = adpp.merge(adsl[keys + [c for c in ADSL_VARS if c in adsl.columns and c != "TRTSDTM"]], on=keys,
                      how="left")
    return adpp.sort_values(keys + ["PARCAT2", "PARCAT1", "PARAMN"], kind="mergesort").reset_index(drop=True)


def _unit_for(unit: str, conc_unit: str, profile_unit: pd.Series) -> pd.Series:
    """A parameter's unit per profile: the concentration unit of that profile (analytes differ in units)."""
    if conc_unit and conc_unit in unit:
        return pd.Series([unit.replace(conc_unit, u) for u in profile_unit.fillna("")], index=profile_unit.index)
    return pd.Series(unit, index=profile_unit.index)


def build_pp(adpc: pd.DataFrame, adsl: pd.DataFrame, config: AdamConfig, pc_test: str = "") -> pd.DataFrame:
    """SDTM PP: the NCA results as findings, PPTESTCD/PPTEST from CDISC CT (PKPARMCD/PKPARM), one set per
    profile (PPCAT = analyte, PPSPEC = specimen).

    Units must be CDISC PKUNIT terms: TMAX/TLST stay in ``pk.time_unit`` ("day" and "h" are PKUNIT terms), AUCs
    are converted to ``pk.pp_auc_time_unit`` (default "h": PKUNIT has "h*DNA copies/ug" but no "day*DNA
    copies/ug"). ADPP keeps the analysis time unit the tables use.
    """
    keys = config.subject_keys
    res, intervals = _nca(adpc, adsl, config)
    res = res.merge(_profile_units(adpc, keys), on=keys + PROFILE, how="left")
    tu, auc_tu = config["pk"]["time_unit"], config["pk"]["pp_auc_time_unit"]
    auc_factor = HOURS_PER_UNIT[tu] / HOURS_PER_UNIT[auc_tu]      # e.g. day*copies/ug → h*copies/ug: × 24
    rows = []
    tests = [("CMAX", "CMAX", "{c}", "", "", 1.0), ("TMAX", "TMAX", tu, "", "", 1.0),
             ("CLST", "CLST", "{c}", "", "", 1.0), ("TLST", "TLST", tu, "", "", 1.0)]
    tests += [("AUCINT", interval_key(a, b), auc_tu + "*{c}", iso_offset(a, tu), iso_offset(b, tu), auc_factor)
              for a, b in intervals]
    conc = res["AVALU"].fillna("")
    for code, col, unit, st, en, factor in tests:
        part = res[keys].copy()
        value = res[col].astype("float64") * factor
        part["PPTESTCD"], part["PPTEST"] = code, PP_TESTS[code]
        part["PPSTRESN"] = value
        text = value.map(lambda v: "" if pd.isna(v) else f"{v:.6g}")
        part["PPORRES"], part["PPSTRESC"] = text, text
        units = conc.map(lambda c: unit.format(c=c))
        part["PPORRESU"] = np.where(value.notna(), units, "")
        part["PPSTRESU"] = part["PPORRESU"]
        part["PPSTAT"] = np.where(value.isna(), "NOT DONE", "")
        part["PPREASND"] = np.where(value.isna(), "PROFILE DOES NOT COVER THE INTERVAL" if st else
                                    "NO MEASURABLE CONCENTRATION", "")
        part["PPSTINT"], part["PPENINT"] = st, en
        part["PPCAT"], part["PPSPEC"] = res["_TEST"].fillna(""), res["_SPEC"]
        part["_ANALYTE"] = res["_ANALYTE"]
        rows.append(part)
    pp = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=keys)
    pp["DOMAIN"] = "PP"
    if len(pp):
        ref = adsl[keys + ["TRTSDTM", "TRTSDT"]].copy()
        iso = sas_datetime_to_iso(ref["TRTSDTM"])
        ref["PPRFTDTC"] = np.where(iso != "", iso, sas_date_to_iso(ref["TRTSDT"]))
        pp = pp.merge(ref[keys + ["PPRFTDTC"]], on=keys, how="left")
        order = {c: i for i, c in enumerate(["CMAX", "TMAX", "CLST", "TLST", "AUCINT"])}
        pp = pp.assign(_O=pp["PPTESTCD"].map(order)).sort_values(keys + ["_ANALYTE", "PPSPEC", "_O"],
                                                                 kind="mergesort")
        pp["PPSEQ"] = pp.groupby(keys, sort=False).cumcount().astype("float64") + 1
        pp = pp.drop(columns="_O")
    return pp.drop(columns=["_ANALYTE"], errors="ignore").reset_index(drop=True)
