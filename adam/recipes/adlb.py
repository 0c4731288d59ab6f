"""ADLB and any findings domain as a BDS dataset (ADIS, ADVS, cell counts...), declared in the spec.

One record per result (PARAMCD = --TESTCD), with baseline and change. Expects the findings domain with the
SDTMIG --prefix variables (--SEQ --TESTCD --TEST --CAT --STRESN --STRESC --STRESU --STNRLO --STNRHI --NRIND
--DTC [VISIT VISITNUM --LOBXFL]); missing optional ones are left blank. Study choices (``adlb`` / ``bds[]``):
which tests, the record filter, the baseline rule (an SDTM flag such as LBLOBXFL, or the last non-missing
value on/before an ADSL date), the ADY reference date, and whether ANRIND is copied or derived. A parameter
with character results only (AVALC, no AVAL) gets its baseline from AVALC (BASEC) by the same rule; its
CHG/PCHG stay missing.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.api.extensions import take

from ...sdtm.uniques import factorize
from ..config import AdamConfig
from .._join import _codes, _positions, join
from .._frame import char, fresh, mask, num, read_with, require, rows_where, sdtm_text, sort_rows, y_blank
from ..dates import derive_vars_dt, derive_vars_dy
from ..derive import derive_var_ablfl, derive_var_base, derive_var_chg, derive_var_pchg, derive_vars_merged
from .sdtm_input import SdtmSource

ADSL_VARS = ["TRT01P", "TRT01PN", "TRT01A", "TRT01AN", "LDSTDT", "TRTSDT", "SAFFL"]
ORDER = ["STUDYID", "USUBJID"] + ADSL_VARS + [
    "PARCAT1", "PARAMCD", "PARAM", "AVAL", "AVALC", "AVALU", "ADT", "ADTF", "ADY", "AVISIT", "AVISITN", "ABLFL",
    "BASE", "BASEC", "CHG", "PCHG", "ANRLO", "ANRHI", "ANRIND", "BNRIND", "LBSEQ", "SRCDOM", "SRCVAR", "SRCSEQ"]


def bds_order(item: dict) -> list[str]:
    """Column order of a declared BDS dataset (ADLB's, with the domain's --SEQ)."""
    seq = f"{item['domain'].upper()}SEQ"
    return [seq if c == "LBSEQ" else c for c in ORDER]


def build_adlb(src: SdtmSource, adsl: pd.DataFrame, config: AdamConfig) -> pd.DataFrame:
    """ADLB: the ``adlb`` section is the BDS declaration of domain LB."""
    return build_bds(src, adsl, config, {**config["adlb"], "dataset": "ADLB", "domain": "LB", "filter": None})


def derive_anrind(aval: pd.Series, lo: pd.Series, hi: pd.Series) -> pd.Series:
    """LOW / HIGH / NORMAL from the reference range; blank when AVAL or both limits are missing.

    >>> derive_anrind(pd.Series([1.0, 5.0, 9.0, np.nan]), pd.Series([2.0] * 4), pd.Series([8.0] * 4)).tolist()
    ['LOW', 'NORMAL', 'HIGH', '']
    """
    known = aval.notna() & (lo.notna() | hi.notna())
    out = np.select([known & (aval < lo), known & (aval > hi), known], ["LOW", "HIGH", "NORMAL"], "")
    return pd.Series(out, index=aval.index, dtype=object)


def character_params(out: pd.DataFrame) -> np.ndarray:
    """Records of a character parameter: a PARAMCD with no numeric result (AVAL) on any record, e.g. an
    anti-drug antibody result POSITIVE / NEGATIVE. Its baseline is the last non-blank AVALC (BASEC);
    a parameter with any AVAL keeps the numeric rule, so its AVALC-only records (e.g. '<0.5') never
    become baseline.

    >>> character_params(pd.DataFrame({"PARAMCD": ["ADA", "ADA", "HGB", "HGB"], "AVAL": [np.nan, np.nan, 1.0, np.nan]}))
    array([ True,  True, False, False])
    """
    numeric = out["AVAL"].notna().groupby(out["PARAMCD"]).transform("any")
    return ~numeric.to_numpy(dtype=bool)


def _param_text(test: pd.Series, unit: pd.Series) -> np.ndarray:
    """PARAM = test name plus " (unit)" when there is a unit, once per distinct (test, unit) pair."""
    t_codes, t_uniq = factorize(test.to_numpy(dtype=object))
    u_codes, u_uniq = factorize(unit.to_numpy(dtype=object))
    if not len(t_codes):
        return np.array([], dtype=object)
    pair_codes, pairs = pd.factorize(t_codes.astype(np.int64) * (len(u_uniq) + 1) + u_codes)
    texts = []
    for pair in pairs.tolist():
        t, u = t_uniq[pair // (len(u_uniq) + 1)], u_uniq[pair % (len(u_uniq) + 1)]
        texts.append(t + (" (" + u + ")" if u != "" else ""))
    return np.array(texts, dtype=object)[pair_codes]


def _baseline_values(out: pd.DataFrame, by: list[str], character: np.ndarray, dataset: str) -> pd.DataFrame:
    """BASE (BASEC where a parameter has character results alone), CHG, PCHG and BNRIND from each record's
    baseline record (ABLFL "Y" in its ``by`` group); CHG/PCHG missing up to the baseline date (change is a
    post-baseline quantity, as admiral restricts it).

    Each record's baseline row is found once (key codes of the records and of the flagged ones, ``_join``) and
    every baseline value taken from it, where ``_baseline_frames`` merges the baseline records three or four
    times (each merge factorising the keys of every record); same values, dtypes and column order. Keys only
    ``merge`` handles (missing values) and a group with two baseline records (its error) go that way."""
    flagged = np.flatnonzero(out["ABLFL"].to_numpy() == "Y")
    codes = _codes(out, out.iloc[flagged], by)
    at = _positions(*codes) if codes is not None else None
    if at is None:
        return _baseline_frames(out, by, character, dataset)
    rows = np.where(at >= 0, flagged[np.maximum(at, 0)], -1) if len(flagged) else at

    def baseline(col: str) -> np.ndarray:
        return take(out[col].to_numpy(), rows, allow_fill=True)

    out = fresh(out)
    out["BASE"] = baseline("AVAL")
    if character.any():
        out["BASEC"] = np.where(character_params(out), char(pd.Series(baseline("AVALC"), index=out.index)), "")
    out = derive_var_chg(out)
    out = derive_var_pchg(out)
    out["BNRIND"] = char(pd.Series(baseline("ANRIND"), index=out.index))
    not_after = ~(out["ADT"].to_numpy() > baseline("ADT"))
    out.loc[not_after, ["CHG", "PCHG"]] = np.nan
    return out


def _baseline_frames(out: pd.DataFrame, by: list[str], character: np.ndarray, dataset: str) -> pd.DataFrame:
    """``_baseline_values`` by merging the baseline records onto the records (``derive_var_base``)."""
    out = derive_var_base(out, by)
    if character.any():                 # BASEC only where a parameter has character results alone
        out = derive_var_base(out, by, source_var="AVALC", new_var="BASEC")
        out["BASEC"] = np.where(character_params(out), char(out["BASEC"]), "")
    out = derive_var_chg(out)
    out = derive_var_pchg(out)
    base_ind = out.loc[out["ABLFL"] == "Y", by + ["ANRIND"]]
    out = derive_vars_merged(out, base_ind, by, {"BNRIND": "ANRIND"}, name_add=f"{dataset} baseline records")
    out["BNRIND"] = char(out["BNRIND"])
    base_dt = out.loc[out["ABLFL"] == "Y", by + ["ADT"]].rename(columns={"ADT": "_BDT"})
    out = join(out, base_dt, by, "left")
    not_after = ~(out["ADT"] > out["_BDT"])      # change is a post-baseline quantity (admiral restricts it)
    out.loc[not_after, ["CHG", "PCHG"]] = np.nan
    return out.drop(columns="_BDT")


# the --variables build_bds reads (with the subject keys, VISIT, VISITNUM and the baseline flag)
_READ = ("TESTCD", "DTC", "CAT", "TEST", "STRESU", "STRESN", "STRESC", "STNRLO", "STNRHI", "NRIND", "SEQ")


def build_bds(src: SdtmSource, adsl: pd.DataFrame, config: AdamConfig, item: dict) -> pd.DataFrame:
    """One declared findings → BDS dataset (``item`` is the ``adlb`` section or a ``bds`` entry)."""
    keys = config.subject_keys
    dom = item["domain"].upper()
    where = "adlb" if item["dataset"].upper() == "ADLB" else f"bds {item['dataset']}"

    def col(frame, var, default=""):
        name = f"{dom}{var}"
        return frame[name] if name in frame.columns else pd.Series(default, index=frame.index)

    pop_cols = keys + [c for c in ADSL_VARS if c in adsl.columns]
    read = keys + [f"{dom}{v}" for v in _READ] + ["VISIT", "VISITNUM", item["baseline_flag"]] + pop_cols
    # only the variables read here (and by the filter) are normalised; a callable filter may read any
    data = src.get(dom, columns=read_with(item["filter"], read))
    require(data, keys + [f"{dom}TESTCD", f"{dom}DTC"], dom)
    data = rows_where(data, item["filter"], where=f"{where}.filter")
    if item["tests"]:
        data = data.loc[sdtm_text(data[f"{dom}TESTCD"]).isin(item["tests"])]
    pop = adsl.loc[mask(adsl, item["population"], where=f"{where}.population"), pop_cols]
    have = set(src.columns(dom))            # the domain's variables (which BDS variables exist, below)
    data = data[[c for c in dict.fromkeys(read) if c and c in have]]      # the join copies only these
    data = join(data, pop, keys, "inner")
    data = derive_vars_dt(data, "A", f"{dom}DTC", highest_imputation="n")
    out = fresh(data[keys + [c for c in ADSL_VARS if c in data.columns]])
    out["PARCAT1"] = sdtm_text(col(data, "CAT"))
    out["PARAMCD"] = sdtm_text(data[f"{dom}TESTCD"])
    unit = sdtm_text(col(data, "STRESU"))
    out["PARAM"] = _param_text(sdtm_text(col(data, "TEST")), unit)
    out["AVAL"] = num(col(data, "STRESN", np.nan))
    out["AVALC"] = np.where(out["AVAL"].isna(), sdtm_text(col(data, "STRESC")), "")
    out["AVALU"] = unit
    out["ADT"] = data["ADT"]
    out["AVISIT"] = sdtm_text(data["VISIT"]) if "VISIT" in data.columns else ""
    out["AVISITN"] = num(data["VISITNUM"]) if "VISITNUM" in data.columns else np.nan
    out["ANRLO"] = num(col(data, "STNRLO", np.nan))
    out["ANRHI"] = num(col(data, "STNRHI", np.nan))
    if item["anrind"] == "derive":
        out["ANRIND"] = derive_anrind(out["AVAL"], out["ANRLO"], out["ANRHI"])
    else:
        out["ANRIND"] = sdtm_text(col(data, "NRIND"))
    seq = f"{dom}SEQ"
    out[seq] = num(col(data, "SEQ", np.nan))
    out["SRCDOM"], out["SRCVAR"], out["SRCSEQ"] = dom, f"{dom}STRESN", out[seq]
    out = derive_vars_dy(out, item["reference_date"], {"ADY": "ADT"})
    by = keys + ["PARAMCD"]
    character = character_params(out)
    out["_HASV"] = np.where(np.where(character, out["AVALC"] != "", out["AVAL"].notna()), 1.0, np.nan)
    flag = item["baseline_flag"]
    if flag:
        require(data, [flag], dom)
        out["ABLFL"] = y_blank((sdtm_text(data[flag]) == "Y") & out["_HASV"].notna())
    else:
        out = derive_var_ablfl(sort_rows(out, by + ["ADT", seq]), by,
                               ref_date=item["baseline_date"], value="_HASV").sort_index()
    out = out.drop(columns="_HASV")
    out = _baseline_values(out, by, character, item["dataset"])
    # a variable copied from an SDTM variable the domain does not have would be blank with a define.xml
    # origin naming a variable that does not exist: left out instead
    absent = {"PARCAT1": "CAT", "ANRLO": "STNRLO", "ANRHI": "STNRHI"}
    if item["anrind"] == "copy":
        absent.update({"ANRIND": "NRIND", "BNRIND": "NRIND"})
    out = out.drop(columns=[v for v, s in absent.items() if f"{dom}{s}" not in have])
    return sort_rows(out, keys + ["PARAMCD", "ADT", seq]).reset_index(drop=True)
