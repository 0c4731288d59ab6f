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

from trialforge.errors import DateFormatError, SpecError

from ..config import HOURS_PER_UNIT, AdamConfig
from .._join import join
from .._frame import char, fresh, mask, num, sort_rows, y_blank
from ..dates import derive_vars_dtm, derive_vars_dt, derive_vars_dy, sas_datetime_to_iso, sas_date_to_iso
from ..nca import NcaRules, interval_key, nca_by_subject, return_time
from .sdtm_input import SdtmSource

ADSL_VARS = ["TRT01P", "TRT01PN", "TRT01A", "TRT01AN", "TRTSDT", "TRTSDTM", "PKFL"]
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
            "PPSTRESC", "PPSTRESN", "PPSTRESU", "PPSTAT", "PPREASND", "PPSPEC", "PPTPTREF", "PPRFTDTC", "PPSTINT", "PPENINT"]
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
    codes, uniques = pd.factorize(text.to_numpy(dtype=object))     # a few distinct times: each read once
    distinct = pd.Series(uniques, dtype=object)
    parts = distinct.str.extract(_DURATION)
    bad = (distinct != "") & (~distinct.str.match(_DURATION) | (distinct.isin(["P", "-P", "PT", "-PT"])))
    if bad.any():
        row = int(np.flatnonzero(np.isin(codes, np.flatnonzero(bad.to_numpy())))[0])
        raise DateFormatError("not an ISO 8601 duration", column=column, row=row + 1, value=text.iloc[row])
    f = parts.iloc[:, 1:].apply(pd.to_numeric, errors="coerce").fillna(0.0)
    days = f.iloc[:, 0] * 7 + f.iloc[:, 1] + f.iloc[:, 2] / 24 + f.iloc[:, 3] / 1440 + f.iloc[:, 4] / 86400
    days = days.where(parts[0] != "-", -days).where(distinct != "").to_numpy(dtype="float64")
    return pd.Series(days[codes] if len(codes) else np.empty(0), index=text.index, dtype="float64")


def iso_offset(value: float, unit: str) -> str:
    """A time offset as ISO 8601 duration in the PK time unit: 28 days → "P28D", 24 h → "PT24H".

    >>> iso_offset(28, "day"), iso_offset(24, "h"), iso_offset(0.5, "h")
    ('P28D', 'PT24H', 'PT0.5H')
    """
    return f"P{value:g}D" if unit == "day" else f"PT{value:g}{UNIT_LETTER[unit]}"


# the PC variables build_adpc reads (with the subject keys)
_ADPC_READ = ("TESTCD", "SPEC", "DTC", "TEST", "STRESU", "STRESN", "STRESC", "LLOQ", "STAT", "ELTM", "TPT", "TPTNUM",
              "SEQ")


def build_adpc(src: SdtmSource, adsl: pd.DataFrame, config: AdamConfig) -> pd.DataFrame:
    cfg = config["pk"]
    keys = config.subject_keys
    pc = src.get("PC", columns=keys + [f"PC{v}" for v in _ADPC_READ])     # only what ADPC reads is normalised
    if cfg["analyte"]:
        pc = pc.loc[char(pc["PCTESTCD"]).isin(cfg["analyte"])]
    if cfg["specimens"] and "PCSPEC" in pc.columns:
        pc = pc.loc[char(pc["PCSPEC"]).isin(cfg["specimens"])]
    pc = fresh(pc)
    pc = join(pc, adsl[keys + [c for c in ADSL_VARS if c in adsl.columns]], keys, "inner")
    pc = derive_vars_dtm(pc, "A", "PCDTC", highest_imputation="h", time_imputation="first", flag_imputation="none")
    pc = derive_vars_dt(pc, "A", "PCDTC", flag_imputation=False)
    out = fresh(pc[keys + [c for c in ADSL_VARS if c in pc.columns]])
    spec = char(pc["PCSPEC"]) if "PCSPEC" in pc.columns else pd.Series("", index=pc.index)
    out["PARCAT1"] = spec
    out["_SPEC"] = spec
    out["_ANALYTE"] = char(pc["PCTESTCD"])
    out["_TEST"] = char(pc["PCTEST"])
    unit = char(pc["PCSTRESU"]) if "PCSTRESU" in pc.columns else pd.Series("", index=pc.index)
    out["PARAMCD"], out["PARAM"], out["AVALU"] = _adpc_params(out, unit, config)
    out["AVAL"] = num(pc["PCSTRESN"])
    out["AVALC"] = char(pc["PCSTRESC"]) if "PCSTRESC" in pc.columns else ""
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
    return sort_rows(out, keys + ["AFRLT"]).reset_index(drop=True)


def profile_names(profiles: pd.DataFrame, config: AdamConfig) -> pd.DataFrame:
    """One row per analyte x specimen profile (_ANALYTE, _SPEC, _TEST) with the PARAMCD suffix (_SUFFIX) and
    PARAM qualifier (_LABEL) that keep PARAMCD/PARAM one-to-one (ADaMIG 1.3) when a study has several profiles.

    Declared in ``pk.profiles`` ({analyte, specimen, paramcd_suffix, param_label}); otherwise, with several
    profiles, the suffix is the profile's number (1, 2, ... in analyte, specimen order) and the qualifier
    "<PCTEST> (<PCSPEC>)"; with one profile both are blank (PARAMCD/PARAM as the parameter's own name).

    >>> p = pd.DataFrame({"_ANALYTE": ["B", "A"], "_SPEC": ["BLOOD", "BLOOD"], "_TEST": ["Bee", "Ay"]})
    >>> cfg = AdamConfig({"pk": {"profiles": []}})
    >>> profile_names(p, cfg)[["_ANALYTE", "_SUFFIX", "_LABEL"]].values.tolist()
    [['A', '1', 'Ay (BLOOD)'], ['B', '2', 'Bee (BLOOD)']]
    """
    prof = profiles.drop_duplicates(PROFILE).sort_values(PROFILE, kind="mergesort").reset_index(drop=True)
    several = len(prof) > 1
    declared = config["pk"]["profiles"]
    suffixes, labels, declared_labels = [], [], []
    for i, (analyte, spec, test) in enumerate(zip(prof["_ANALYTE"], prof["_SPEC"], prof["_TEST"]), start=1):
        item = next((p for p in declared if p["analyte"] == analyte and p["specimen"] in (None, spec)), {})
        suffix, label = item.get("paramcd_suffix"), item.get("param_label")
        suffixes.append(str(suffix) if suffix is not None else (str(i) if several else ""))
        declared_labels.append(label is not None)
        labels.append(str(label) if label is not None else
                      ((f"{test} ({spec})" if spec else str(test)) if several else ""))
    prof["_SUFFIX"], prof["_LABEL"], prof["_LABEL_DECLARED"] = suffixes, labels, declared_labels
    for col, key in (("_SUFFIX", "paramcd_suffix"), ("_LABEL", "param_label")):
        dup = prof[col].duplicated(keep=False)
        if several and dup.any():
            names = ", ".join(f"{a}/{s}" for a, s in zip(prof.loc[dup, "_ANALYTE"], prof.loc[dup, "_SPEC"]))
            raise SpecError(f"PK profiles {names} would share PARAMCD/PARAM: declare a distinct "
                            f"pk.profiles[].{key} for each", column=f"pk.profiles[].{key}",
                            value=prof.loc[dup, col].iloc[0])
    return prof


def _paramcd(base: str, suffix: str, where: str) -> str:
    code = base + suffix
    if len(code) > 8:
        raise SpecError(f"PARAMCD {code!r} is longer than 8 characters: declare a shorter {where} or "
                        "pk.profiles[].paramcd_suffix", column="pk.profiles[].paramcd_suffix", value=code)
    return code


def _adpc_params(out: pd.DataFrame, unit: pd.Series, config: AdamConfig) -> tuple:
    """PARAMCD, PARAM and AVALU of each ADPC record: one PARAMCD per analyte x specimen x unit.

    PARAMCD is PCTESTCD (with the profile suffix when the analyte has several specimens); the unit is the
    profile's non-null PCSTRESU, so samples not done (no unit in SDTM) keep the PARAM of their profile."""
    if not len(out):
        empty = pd.Series("", index=out.index, dtype=object)
        return empty, empty, empty
    names = profile_names(out[PROFILE + ["_TEST"]], config)
    units = pd.DataFrame({"_ANALYTE": out["_ANALYTE"], "_SPEC": out["_SPEC"], "_U": unit}).loc[lambda d: d["_U"] != ""]
    per = units.drop_duplicates()
    # a profile with two units is a data error the ADaM gate reports (TF-BDS-002): those records keep their own
    per = per.loc[~per.duplicated(PROFILE, keep=False)]
    names = join(names, per, PROFILE, "left")
    names["_U"] = names["_U"].fillna("")
    multi = names.groupby("_ANALYTE")["_SPEC"].transform("nunique") > 1
    names["PARAMCD"] = [(_paramcd(a[:8 - len(s)], s, "PCTESTCD") if m else a)
                        for a, s, m in zip(names["_ANALYTE"], names["_SUFFIX"], multi)]
    base = np.where(multi, np.where(names["_LABEL_DECLARED"], names["_LABEL"], names["_TEST"] + ", " + names["_SPEC"]),
                    names["_TEST"])
    names["PARAM"] = base + np.where(names["_U"] != "", " (" + names["_U"] + ")", "")
    got = join(out[PROFILE], names, PROFILE, "left").set_axis(out.index)
    mixed = got["_U"] == ""
    got.loc[mixed, "_U"] = unit.loc[mixed]
    got.loc[mixed, "PARAM"] = got.loc[mixed, "PARAM"] + np.where(unit.loc[mixed] != "", " (" + unit.loc[mixed] + ")", "")
    return got["PARAMCD"], got["PARAM"], got["_U"]


def _time_col(config: AdamConfig) -> str:
    return "AFRLT" if config["pk"]["time"] == "actual" else "NFRLT"


def _nca(adpc: pd.DataFrame, adsl: pd.DataFrame, config: AdamConfig) -> tuple[pd.DataFrame, list]:
    cfg = config["pk"]
    keys = config.subject_keys
    time = _time_col(config)
    pop = adsl.loc[mask(adsl, cfg["population"], where="pk.population"), keys]
    used = join(adpc, pop, keys, "inner").loc[lambda d: (d[time] >= 0) & (d["ANL01FL"] == "Y")]
    intervals = [(float(i["start"]), float(i["end"])) for i in cfg["intervals"]]
    rules = NcaRules(blq_between=cfg["blq_between"], blq_after=cfg["blq_after"], zero_at_dose=cfg["zero_at_dose"],
                     auc_method=cfg["auc_method"], interval_tolerance=float(cfg["interval_tolerance"]))
    res = nca_by_subject(used, by_vars=keys + PROFILE, time=time, intervals=intervals, rules=rules)
    for item in cfg["persistence"]:
        res[item["paramcd"]] = _persistence(join(adpc, pop, keys, "inner"), res, keys, time, item["rule"])
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


def nca_results(adpc: pd.DataFrame, adsl: pd.DataFrame, config: AdamConfig) -> tuple[pd.DataFrame, list]:
    """The NCA of every profile and the intervals: what ADPP and PP both report (worked out once by the build)."""
    return _nca(adpc, adsl, config)


def build_adpp(adpc: pd.DataFrame, adsl: pd.DataFrame, config: AdamConfig, nca=None) -> pd.DataFrame:
    """``nca``: ``nca_results`` of the same inputs when already worked out."""
    keys = config.subject_keys
    res, _ = nca if nca is not None else _nca(adpc, adsl, config)
    res = join(res, _profile_units(adpc, keys), keys + PROFILE, "left")
    names = profile_names(adpc[PROFILE + ["_TEST"]], config) if len(adpc) else None
    if names is not None:
        names["_PIDX"] = np.arange(len(names), dtype="float64")
        res = join(res, names[PROFILE + ["_SUFFIX", "_LABEL", "_PIDX"]], PROFILE, "left")
    rows = []
    conc_unit = adpc["AVALU"].iloc[0] if len(adpc) else ""
    params = adpp_parameters(config, conc_unit)
    for n, (code, label, unit, col) in enumerate(params, start=1):
        part = {k: res[k] for k in keys}     # built as one frame below (no column insertion per variable)
        part["PARCAT1"], part["PARCAT2"] = res["_SPEC"], res["_ANALYTE"]
        if names is not None and len(res):
            part["PARAMCD"] = [_paramcd(code, s, "pk.intervals[].paramcd") for s in res["_SUFFIX"]]
            part["PARAM"] = [f"{label}, {q}" if q else label for q in res["_LABEL"]]
        else:
            part["PARAMCD"], part["PARAM"] = code, label
        # PARAMN one-to-one with PARAM too: the parameters of the second profile follow those of the first
        part["PARAMN"] = (res["_PIDX"] * len(params) + n) if names is not None and len(res) else float(n)
        part["AVAL"] = res[col].astype("float64")
        part["AVALU"] = _unit_for(unit, conc_unit, res["AVALU"])
        rows.append(_frame_of(part, res.index))
    adpp = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=keys)
    _one_to_one(adpp)
    adpp["SRCDOM"], adpp["SRCVAR"] = "ADPC", "AVAL"
    adpp = join(adpp, adsl[keys + [c for c in ADSL_VARS if c in adsl.columns and c != "TRTSDTM"]], keys, "left")
    return sort_rows(adpp, keys + ["PARCAT2", "PARCAT1", "PARAMN"]).reset_index(drop=True)


def _frame_of(columns: dict, index: pd.Index) -> pd.DataFrame:
    """One frame of ``columns`` on ``index`` (Series aligned on it, arrays and lists by position, scalars
    broadcast): what setting each on a frame of ``index`` in turn gives, without a block insertion per column
    (each cost ~0.1-1 ms on the PP/ADPP parameter frames)."""
    return pd.DataFrame(columns, index=index)


def _one_to_one(adpp: pd.DataFrame) -> None:
    """PARAMCD and PARAM are one-to-one (ADaMIG 1.3): two declared names that collide are a spec error."""
    if not len(adpp) or "PARAMCD" not in adpp:
        return
    pairs = adpp[["PARAMCD", "PARAM"]].drop_duplicates()
    for col in ("PARAMCD", "PARAM"):
        dup = pairs[col].duplicated(keep=False)
        if dup.any():
            raise SpecError(f"ADPP {col} {pairs.loc[dup, col].iloc[0]!r} names two parameters: declare distinct "
                            "pk.intervals[].paramcd/param, pk.persistence[].paramcd/param or "
                            "pk.profiles[].paramcd_suffix/param_label", column="pk", value=pairs.loc[dup, col].iloc[0])


def significant_text(values: pd.Series, digits: int) -> pd.Series:
    """Numbers as plain decimal text rounded to ``digits`` significant digits (never E-notation); "" for missing.

    >>> significant_text(pd.Series([1234567.0, 0.000123456789, 12.5, 0.0, np.nan]), 6).tolist()
    ['1234570', '0.000123457', '12.5', '0', '']
    """
    return values.map(lambda v: "" if pd.isna(v) else
                      np.format_float_positional(float(v), precision=digits, unique=False, fractional=False,
                                                 trim="-"))


def _unit_for(unit: str, conc_unit: str, profile_unit: pd.Series) -> pd.Series:
    """A parameter's unit per profile: the concentration unit of that profile (analytes differ in units)."""
    if conc_unit and conc_unit in unit:
        return pd.Series([unit.replace(conc_unit, u) for u in profile_unit.fillna("")], index=profile_unit.index)
    return pd.Series(unit, index=profile_unit.index)


def build_pp(adpc: pd.DataFrame, adsl: pd.DataFrame, config: AdamConfig, pc_test: str = "", nca=None) -> pd.DataFrame:
    """SDTM PP: the NCA results as findings, PPTESTCD/PPTEST from CDISC CT (PKPARMCD/PKPARM), one set per
    profile (PPCAT = analyte, PPSPEC = specimen).

    Units must be CDISC PKUNIT terms: TMAX/TLST stay in ``pk.time_unit`` ("day" and "h" are PKUNIT terms), AUCs
    are converted to ``pk.pp_auc_time_unit`` (default "h": PKUNIT has "h*DNA copies/ug" but no "day*DNA
    copies/ug"). ADPP keeps the analysis time unit the tables use.
    """
    keys = config.subject_keys
    res, intervals = nca if nca is not None else _nca(adpc, adsl, config)
    res = join(res, _profile_units(adpc, keys), keys + PROFILE, "left")
    tu, auc_tu = config["pk"]["time_unit"], config["pk"]["pp_auc_time_unit"]
    auc_factor = HOURS_PER_UNIT[tu] / HOURS_PER_UNIT[auc_tu]      # e.g. day*copies/ug → h*copies/ug: × 24
    rows = []
    tests = [("CMAX", "CMAX", "{c}", "", "", 1.0), ("TMAX", "TMAX", tu, "", "", 1.0),
             ("CLST", "CLST", "{c}", "", "", 1.0), ("TLST", "TLST", tu, "", "", 1.0)]
    tests += [("AUCINT", interval_key(a, b), auc_tu + "*{c}", iso_offset(a, tu), iso_offset(b, tu), auc_factor)
              for a, b in intervals]
    conc = res["AVALU"].fillna("")
    for code, col, unit, st, en, factor in tests:
        part = {k: res[k] for k in keys}     # built as one frame below (no column insertion per variable)
        value = res[col].astype("float64") * factor
        part["PPTESTCD"], part["PPTEST"] = code, PP_TESTS[code]
        text = significant_text(value, config["pk"]["pp_significant_digits"])
        part["PPSTRESN"] = pd.to_numeric(text.where(text != ""), errors="coerce").astype("float64")
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
        rows.append(_frame_of(part, res.index))
    pp = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=keys)
    pp["DOMAIN"] = "PP"
    if len(pp):
        ref = fresh(adsl[keys + ["TRTSDTM", "TRTSDT"]])
        iso = sas_datetime_to_iso(ref["TRTSDTM"])
        ref["PPRFTDTC"] = np.where(iso != "", iso, sas_date_to_iso(ref["TRTSDT"]))
        pp = join(pp, ref[keys + ["PPRFTDTC"]], keys, "left")
        pp["PPTPTREF"] = np.where(char(pp["PPRFTDTC"]) != "", config["pk"]["pp_tptref"], "")
        order = {c: i for i, c in enumerate(["CMAX", "TMAX", "CLST", "TLST", "AUCINT"])}
        pp = pp.assign(_O=pp["PPTESTCD"].map(order)).sort_values(keys + ["_ANALYTE", "PPSPEC", "_O"],
                                                                 kind="mergesort")
        pp["PPSEQ"] = pp.groupby(keys, sort=False).cumcount().astype("float64") + 1
        pp = pp.drop(columns="_O")
    return pp.drop(columns=["_ANALYTE"], errors="ignore").reset_index(drop=True)
