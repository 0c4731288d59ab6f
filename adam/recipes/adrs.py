"""ADRS: per-visit overall response (OVR), BOR/CBOR, responders, clinical benefit, landmark responses and
tumour sums, under the response criterion the spec picks (``adrs.criterion`` and ``adrs.more_criteria``).

Expects RS (USUBJID RSSEQ RSTESTCD RSCAT RSSTRESC RSDTC VISIT VISITNUM; OVR rows selected by the spec's
``ovr_filter``), optionally TR/TU for SUMDIAM, and optionally the domain holding new anticancer therapy
(spec ``new_therapy``).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from trialforge.errors import SpecError

from ..config import AdamConfig
from ..criteria import Criterion, get_criterion, load_criteria
from .._join import join
from .._frame import char, fresh, mask, num, read_with, rows_where, sort_rows, y_blank
from ..dates import derive_vars_dt, derive_vars_dy
from ..derive import derive_var_ablfl, derive_var_base, derive_var_chg, derive_var_pchg
from ..response import (confirmed_responses, derive_param_bor, derive_param_confirmed_bor,
                        derive_param_response)
from .sdtm_input import SdtmSource

ADSL_VARS = ["TRT01P", "TRT01PN", "TRT01A", "TRT01AN", "TRTSDT", "EFFFL", "SAFFL"]
ORDER = ["STUDYID", "USUBJID"] + ADSL_VARS + ["PARAMCD", "PARAM", "PARAMN", "AVALC", "AVAL", "AVALU", "ADT", "ADY",
                                              "AVISIT", "AVISITN", "ABLFL", "BASE", "CHG", "PCHG", "ANL01FL",
                                              "SRCDOM", "SRCVAR", "SRCSEQ"]
# PARAM templates ({criterion} = the criterion's name) and PARAMN of the parameters every criterion gets.
PARAMS = {
    "OVR": ("Overall Response by Investigator ({criterion})", 1),
    "BOR": ("Best Overall Response (unconfirmed, {criterion})", 2),
    "CBOR": ("Best Confirmed Overall Response ({criterion})", 3),
    "RSP": ("Objective Response (unconfirmed, {criterion})", 4),
    "CRSP": ("Confirmed Objective Response ({criterion})", 5),
    "CB": ("Clinical Benefit (unconfirmed BOR, {criterion})", 6),
    "CCB": ("Clinical Benefit (confirmed BOR, {criterion})", 7),
    "SUMDIAM": ("Sum of Diameters of Target Lesions (mm)", 8),
}


def criteria_for(config: AdamConfig) -> dict[str, Criterion]:
    """Shipped criteria plus the study's files (``study.criteria_files``, relative to the spec's folder)."""
    from pathlib import Path
    folder = Path(config.path).parent if config.path else None
    files = [(folder / f if folder else Path(f)) for f in config["study"]["criteria_files"]]
    if files:
        return load_criteria(files=files)
    return load_criteria(folder) if folder is not None else load_criteria()


def criterion_uses(config: AdamConfig) -> list[dict]:
    """The criteria ADRS builds: the primary one (suffix "") then ``more_criteria``, each with its Criterion
    (worked out once per config)."""
    cached = config.__dict__.get("_criterion_uses")
    if cached is None:
        cached = _criterion_uses(config)
        object.__setattr__(config, "_criterion_uses", cached)
    return cached


def _criterion_uses(config: AdamConfig) -> list[dict]:
    cfg = config["adrs"]
    known = criteria_for(config)
    primary = {k: cfg[k] for k in ("criterion", "ovr_filter", "ref_start_window", "ref_confirm", "max_nr_ne",
                                   "accept_sd")}
    uses = [{**primary, "suffix": "", "key": "adrs.criterion"}] + [
        {**m, "key": f"adrs.more_criteria[{i}].criterion"} for i, m in enumerate(cfg["more_criteria"])]
    for use in uses:
        use["crit"] = get_criterion(known, use["criterion"], file=config.path, key=use["key"])
        c = use["crit"].confirmation
        use["confirm"] = dict(ref_confirm=use["ref_confirm"], max_nr_ne=use["max_nr_ne"], accept_sd=use["accept_sd"])
        use["window"] = use["ref_start_window"] if use["ref_start_window"] is not None else (
            use["crit"].min_stable_days or 0)
        use["has_confirmation"] = c is not None and cfg["confirmed"]
    return uses


def use_for(config: AdamConfig, name: str | None, *, key: str) -> dict:
    """The ADRS criterion use a landmark / TTE parameter names (default: the primary criterion)."""
    uses = criterion_uses(config)
    if name is None:
        return uses[0]
    for use in uses:
        if name in (use["criterion"], use["suffix"]):
            return use
    raise SpecError("names a criterion ADRS does not use (adrs.criterion or adrs.more_criteria)",
                    file=config.path, column=key, value=name)


def new_therapy_dates(src: SdtmSource, config: AdamConfig) -> pd.DataFrame:
    """Start date of the first new anticancer therapy per subject (NACTDT), from the spec's source."""
    keys = config.subject_keys
    spec = config["new_therapy"]
    if not spec["domain"] or not src.has(spec["domain"]):
        return pd.DataFrame({**{k: pd.Series(dtype=object) for k in keys}, "NACTDT": pd.Series(dtype="float64")})
    data = src.get(spec["domain"], columns=read_with(spec["filter"], keys + [spec["date"]]))
    data = rows_where(data, spec["filter"], where="new_therapy.filter")
    d = derive_vars_dt(data[keys + [spec["date"]]], "NACT", spec["date"], highest_imputation="D")
    return d.groupby(keys, as_index=False)["NACTDT"].min()


def run_new_therapy_dates(src: SdtmSource, config: AdamConfig) -> pd.DataFrame:
    """``new_therapy_dates`` worked out once per run (ADRS and ADTTE both read it)."""
    return src.shared(new_therapy_dates, src, config)


def run_ovr_records(src: SdtmSource, adsl: pd.DataFrame, config: AdamConfig, use: dict) -> pd.DataFrame:
    """``ovr_records`` of a criterion use worked out once per run (ADRS and ADTTE both read them)."""
    return src.shared(_ovr_records_of_run, src, adsl, config, use)


def _ovr_records_of_run(src, adsl, config, use):
    return ovr_records(src, adsl, config, run_new_therapy_dates(src, config), use)


def ovr_records(src: SdtmSource, adsl: pd.DataFrame, config: AdamConfig, nact: pd.DataFrame,
                use: dict | None = None) -> pd.DataFrame:
    """OVR rows with ADT, ADY, AVISIT, AVAL coding, and ANL01FL (the assessments analyses use).

    RSSTRESC becomes the criterion's code (case and synonyms folded); a value the criterion does not know is
    an error naming it."""
    cfg = config["adrs"]
    use = use or criterion_uses(config)[0]
    crit = use["crit"]
    keys = config.subject_keys
    rs = src.get("RS", columns=read_with(use["ovr_filter"], keys + ["RSSTRESC", "RSDTC", "VISIT", "VISITNUM", "RSSEQ"]))
    rs = fresh(rs.loc[mask(rs, use["ovr_filter"], where=f"{use['key'].rsplit('.', 1)[0]}.ovr_filter")])
    imp = cfg["date_imputation"]
    rs = derive_vars_dt(rs, "A", "RSDTC", highest_imputation=imp["highest"], date_imputation=imp["rule"])
    out = fresh(rs[keys])
    out["PARAMCD"] = "OVR" + use["suffix"]
    out["AVALC"] = crit.standardize(rs["RSSTRESC"]) if "RSSTRESC" in rs.columns else ""
    out["AVAL"] = crit.aval(out["AVALC"])
    out["ADT"] = rs["ADT"]
    out["AVISIT"] = char(rs["VISIT"]) if "VISIT" in rs.columns else ""
    out["AVISITN"] = num(rs["VISITNUM"]) if "VISITNUM" in rs.columns else np.nan
    out["SRCDOM"], out["SRCVAR"], out["SRCSEQ"] = "RS", "RSSTRESC", num(rs["RSSEQ"]) if "RSSEQ" in rs else np.nan
    out = join(out, adsl[keys + [c for c in ADSL_VARS if c in adsl.columns]], keys, "inner")
    out = derive_vars_dy(out, "TRTSDT", {"ADY": "ADT"})
    out = join(out, nact, keys, "left")
    ref = num(out[cfg["reference_date"]])
    progression = list(crit.codes_where("progression"))
    pd_dt = out.loc[out["AVALC"].isin(progression)].groupby(keys)["ADT"].min().rename("_PDDT").reset_index()
    out = join(out, pd_dt, keys, "left")
    use_ = out["ADT"].notna() & (out["ADT"] >= ref)
    if cfg["exclude_after_pd"]:
        use_ &= ~(out["ADT"] > out["_PDDT"])
    if cfg["exclude_after_new_therapy"]:
        use_ &= ~(out["ADT"] >= num(out["NACTDT"]))
    out["ANL01FL"] = y_blank(use_)
    return out.drop(columns=["_PDDT", "NACTDT"]).sort_values(keys + ["ADT"], kind="mergesort").reset_index(drop=True)


def sumdiam_records(src: SdtmSource, adsl: pd.DataFrame, config: AdamConfig) -> pd.DataFrame:
    """SUMDIAM per assessment date: the sum of the target lesions' diameters (the primary criterion's
    ``target_sum``: TR.TRTESTCD codes of a lesion's measurement, e.g. RECIST 1.1 LDIAM, or LPERP short axis
    for nodes; lesions linked TR.TRLNKID = TU.TULNKID with the target TU.TUSTRESC), missing when a target
    lesion has no measurement that day. The CRF's own sum rows (``target_sum.sum_test``, often collected only
    after baseline) fill dates without lesion data and give SRCSEQ. BASE/CHG/PCHG from the last sum on/before
    TRTSDT. None when the criterion does not sum diameters (no ``target_sum``).
    """
    keys = config.subject_keys
    rule = criterion_uses(config)[0]["crit"].target_sum
    if not src.has("TR") or rule is None:
        return pd.DataFrame()
    # only the variables read here are normalised (and carried through the lesion merge below)
    tr = src.get("TR", columns=keys + ["TRDTC", "TRTESTCD", "VISIT", "TRSEQ", "TRSTRESN", "TRLNKID"])
    tr = derive_vars_dt(tr, "A", "TRDTC", highest_imputation="n")
    code = char(tr["TRTESTCD"])
    visit = char(tr["VISIT"]) if "VISIT" in tr.columns else pd.Series("", index=tr.index)
    is_sum = code == rule.sum_test
    crf = tr.loc[is_sum, keys + ["ADT", "TRSEQ"]].assign(_CRF=num(tr.loc[is_sum, "TRSTRESN"]), _V=visit[is_sum])
    crf = crf.drop_duplicates(keys + ["ADT"])
    sums = pd.DataFrame({**{k: pd.Series(dtype=object) for k in keys}, "ADT": pd.Series(dtype="float64"),
                         "_SUM": pd.Series(dtype="float64"), "_LV": pd.Series(dtype=object)})   # typed: merged on ADT
    if src.has("TU") and "TRLNKID" in tr.columns:
        tu = src.get("TU", columns=keys + ["TUSTRESC", "TULNKID"])
        targets = tu.loc[char(tu["TUSTRESC"]) == rule.target_status, keys + ["TULNKID"]].drop_duplicates()
        n_target = targets.groupby(keys).size().rename("_N").reset_index()
        lesions = tr.loc[code.isin(list(rule.lesion_tests))].assign(_LV=visit).merge(
            targets, left_on=keys + ["TRLNKID"], right_on=keys + ["TULNKID"])
        lesions = lesions.assign(_D=num(lesions["TRSTRESN"]))
        if len(lesions):
            sums = join(lesions.groupby(keys + ["ADT"], as_index=False).agg(
                _SUM=("_D", "sum"), _M=("_D", "count"), _LV=("_LV", "first")), n_target, keys, "inner")
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
    out = join(out, adsl[keys + [c for c in ADSL_VARS if c in adsl.columns]], keys, "inner")
    out = sort_rows(out, keys + ["ADT"]).reset_index(drop=True)
    out = derive_vars_dy(out, "TRTSDT", {"ADY": "ADT"})
    out = derive_var_ablfl(out, keys, ref_date="TRTSDT")
    out = derive_var_base(out, keys)
    out = derive_var_chg(out)
    out = derive_var_pchg(out)
    out.loc[out["ABLFL"] == "Y", ["CHG", "PCHG"]] = np.nan
    return out


def response_parameters(ovr: pd.DataFrame, pop: pd.DataFrame, config: AdamConfig, use: dict) -> list[pd.DataFrame]:
    """BOR, RSP, CB (and CBOR, CRSP, CCB when the criterion confirms) of one criterion, one record per subject."""
    cfg = config["adrs"]
    keys = config.subject_keys
    crit, sfx = use["crit"], use["suffix"]
    common = dict(filter_source="ANL01FL == 'Y'", reference_date=cfg["reference_date"],
                  ref_start_window=use["window"], missing_as_ne=cfg["missing_as_ne"], subject_keys=keys, criterion=crit)
    pop_ovr = join(ovr, pop[keys], keys, "inner")
    bor = derive_param_bor(pop_ovr, pop, set_values_to={"PARAMCD": "BOR" + sfx}, **common)
    out = [bor]
    if use["has_confirmation"]:
        cbor = derive_param_confirmed_bor(pop_ovr, pop, set_values_to={"PARAMCD": "CBOR" + sfx}, **use["confirm"],
                                          **common)
        out.append(cbor)
    responders, benefit = crit.codes_where("response"), crit.codes_where("benefit")
    out.append(derive_param_response(pop, bor, responses=responders, set_values_to={"PARAMCD": "RSP" + sfx},
                                     subject_keys=keys))
    if use["has_confirmation"]:
        out.append(derive_param_response(pop, cbor, responses=responders, set_values_to={"PARAMCD": "CRSP" + sfx},
                                         subject_keys=keys))
    out.append(derive_param_response(pop, bor, responses=benefit, set_values_to={"PARAMCD": "CB" + sfx},
                                     subject_keys=keys))
    if use["has_confirmation"]:
        out.append(derive_param_response(pop, cbor, responses=benefit, set_values_to={"PARAMCD": "CCB" + sfx},
                                         subject_keys=keys))
    return out


def landmark_parameter(ovr: pd.DataFrame, pop: pd.DataFrame, config: AdamConfig, item: dict, use: dict,
                       index: int) -> pd.DataFrame:
    """Response status at a scheduled time (``adrs.landmarks`` item): Y when the landmark assessment's response
    is one of ``responders`` (and no progression came before it, when ``no_prior_progression``), else N."""
    keys = config.subject_keys
    crit = use["crit"]
    where = f"adrs.landmarks[{index}]"
    codes = crit.select(item["responders"], where=f"{where}.responders", file=config.path)
    used = join(ovr.loc[ovr["ANL01FL"] == "Y"], pop[keys], keys, "inner")
    if item["confirmed"]:
        conf = confirmed_responses(used, filter_source=None, subject_keys=keys, criterion=crit, **use["confirm"])
        is_conf = pd.Series(used.index.isin(conf.index), index=used.index)
    else:
        is_conf = pd.Series(True, index=used.index)
    if item["visit"] is not None:
        cand = used.loc[char(used["AVISIT"]) == str(item["visit"])].assign(_D=0.0)
    else:
        lo, hi = item["window"] or [0, 0]
        dist = used["ADY"] - float(item["day"])
        cand = used.loc[(dist >= lo) & (dist <= hi)].assign(_D=dist.abs())
    cand = sort_rows(cand, keys + ["_D", "ADT"]).drop_duplicates(keys, keep="first")
    hit = cand["AVALC"].isin(codes) & is_conf.reindex(cand.index).fillna(False).astype(bool)
    if item["no_prior_progression"]:
        prog = used.loc[used["AVALC"].isin(crit.codes_where("progression"))].groupby(keys)["ADT"].min()
        prog = prog.rename("_PDDT").reset_index()
        cand = join(cand, prog, keys, "left").set_index(cand.index)
        hit &= ~(cand["_PDDT"] < cand["ADT"])
    cand = cand.assign(_Y=hit)
    out = join(pop[keys].drop_duplicates(), cand[keys + ["ADT", "AVISIT", "SRCDOM", "SRCVAR", "SRCSEQ", "_Y"]], keys, "left")
    yes = out["_Y"].eq(True)
    out["AVALC"] = np.where(yes, "Y", "N")
    out["AVAL"] = yes.astype("float64")
    out["AVISIT"] = char(out["AVISIT"])
    out["PARAMCD"] = item["paramcd"]
    return out.drop(columns="_Y")


def param_table(config: AdamConfig) -> dict[str, tuple[str, float]]:
    """PARAMCD → (PARAM, PARAMN) of every ADRS parameter the spec asks for."""
    cfg = config["adrs"]
    table: dict[str, tuple[str, float]] = {}
    for i, use in enumerate(criterion_uses(config)):
        for code, (text, n) in PARAMS.items():
            if code == "SUMDIAM":
                continue
            if code in ("CBOR", "CRSP", "CCB") and not use["has_confirmation"]:
                continue
            table[code + use["suffix"]] = (text.format(criterion=use["crit"].name), float(n + 10 * i))
    table["SUMDIAM"] = (PARAMS["SUMDIAM"][0], float(PARAMS["SUMDIAM"][1]))
    for j, item in enumerate(cfg["landmarks"], start=1):
        table[item["paramcd"]] = (item["param"], float(100 + j))
    for code, text in cfg["param_labels"].items():
        if code in table:
            table[code] = (str(text), table[code][1])
    return table


def build_adrs(src: SdtmSource, adsl: pd.DataFrame, config: AdamConfig) -> pd.DataFrame:
    cfg = config["adrs"]
    keys = config.subject_keys
    pop = rows_where(adsl, cfg["population"], where="adrs.population")
    adsl_cols = keys + [c for c in ADSL_VARS if c in adsl.columns]
    parts, derived = [], []
    ovrs = {}
    for use in criterion_uses(config):
        ovr = run_ovr_records(src, adsl, config, use)
        ovrs[use["suffix"]] = ovr
        parts.append(ovr)
        derived += response_parameters(ovr, pop, config, use)
    for i, item in enumerate(cfg["landmarks"]):
        use = use_for(config, item["criterion"], key=f"adrs.landmarks[{i}].criterion")
        derived.append(landmark_parameter(ovrs[use["suffix"]], pop, config, item, use, i))
    for d in derived:
        d = join(d[[c for c in d.columns if c not in ADSL_VARS or c in keys]], adsl[adsl_cols], keys, "left")
        d = derive_vars_dy(d, "TRTSDT", {"ADY": "ADT"})
        d["ANL01FL"] = "Y"
        parts.append(d)
    if cfg["sumdiam"]:
        sums = sumdiam_records(src, adsl, config)
        if len(sums):
            parts.append(sums)
    adrs = pd.concat(parts, ignore_index=True)
    table = param_table(config)
    adrs["PARAM"] = adrs["PARAMCD"].map(lambda p: table[p][0])
    adrs["PARAMN"] = adrs["PARAMCD"].map(lambda p: table[p][1])
    keep = [c for c in ORDER if c in adrs.columns]
    return sort_rows(adrs[keep], keys + ["PARAMN", "ADT"]).reset_index(drop=True)
