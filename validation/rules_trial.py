"""Trial design and domain consistency: DM arms against TA, TE elements, TS parameters, visits,
paired test code/name, adverse event seriousness, demographics."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .context import findings_at, profile, series_of, text
from .dates import iso8601_ok
from .registry import RULES, SDTM, register
from .rules_core import codelist_of
from .rules_relations import _one_to_one


def _col(frame, name):
    return text(frame[name]) if name in frame else pd.Series("", index=frame.index)


# ---- DM arms against TA ----------------------------------------------------------------------------

RESERVED_ARMCD = ("SCRNFAIL", "NOTASSGN", "NOTTRT", "UNPLAN")


def _ta_pairs(ctx):
    ta = ctx.get("TA")
    if ta is None or "ARMCD" not in ta.frame:
        return None
    return pd.DataFrame({"ARMCD": _col(ta.frame, "ARMCD"), "ARM": _col(ta.frame, "ARM")}).drop_duplicates()


@register("TF-ARM-001", "error", "Invalid ARMCD/ACTARMCD (not in TA)", p21=("SD0066", "SD2002"),
          publisher=("CG0126", "CG0124"), scope=SDTM, kind="study", category="Cross-reference")
def armcd_in_ta(ctx):
    dm, ta = ctx.get("DM"), _ta_pairs(ctx)
    if dm is None or ta is None:
        return []
    out = []
    for var in ("ARMCD", "ACTARMCD"):
        if var in dm.frame:
            code = _col(dm.frame, var)
            bad = (code != "") & ~code.isin(set(ta["ARMCD"]))
            reserved = bad & code.str.upper().isin(RESERVED_ARMCD)
            out += findings_at(RULES["TF-ARM-001"], dm, bad & ~reserved, variable=var,
                               message=f"{var} is not an ARMCD of TA")
            out += findings_at(RULES["TF-ARM-001"], dm, reserved, variable=var,
                               message=f"{var} holds a pre-3.3 reserved code, not an arm of TA: "
                                       f"leave it null and give the reason in {'ARMNRS' if var == 'ARMCD' else 'ARMNRS/ACTARMUD'}")
    return out


@register("TF-ARM-002", "error", "Inconsistent ARM/ARMCD (or ACTARM/ACTARMCD) pair vs TA", p21=("SD1033", "SD1034", "SD0071", "SD2003"),
          publisher=("FDAB009", "CG0120"), scope=SDTM, kind="study", category="Cross-reference")
def arm_pair_matches_ta(ctx):
    dm, ta = ctx.get("DM"), _ta_pairs(ctx)
    if dm is None or ta is None:
        return []
    known = set(ta["ARMCD"] + "\x1f" + ta["ARM"])
    out = []
    for code_var, name_var in (("ARMCD", "ARM"), ("ACTARMCD", "ACTARM")):
        if code_var not in dm.frame or name_var not in dm.frame:
            continue
        code, name = _col(dm.frame, code_var), _col(dm.frame, name_var)
        bad = (code != "") & code.isin(set(ta["ARMCD"])) & ~(code + "\x1f" + name).isin(known)
        out += findings_at(RULES["TF-ARM-002"], dm, bad, variable=name_var, values=lambda: code + " / " + name,
                           message=f"{name_var} is not the ARM that TA gives for this {code_var}")
    return out


@register("TF-ARM-003", "error", "Invalid value for ARMCD/ACTARMCD exceeding 20 characters", p21=("SD1004", "SD2001"),
          publisher=("CG0153", "CG0123"), scope=SDTM, domains=("DM", "TA", "TV"), category="Limit")
def armcd_length(dataset, ctx):
    out = []
    for var in ("ARMCD", "ACTARMCD"):
        if var in dataset.frame:
            out += findings_at(RULES["TF-ARM-003"], dataset, _col(dataset.frame, var).str.len() > 20, variable=var)
    return out


@register("TF-ARM-004", "error", "ARM populated but ARMCD null, or vice versa (same for ACTARM/ACTARMCD)",
          p21=("SD1361", "SD1362"), publisher=("CG0521", "CG0522"), scope=SDTM, domains=("DM",),
          category="Consistency")
def arm_pair_populated(dataset, ctx):
    out = []
    for code_var, name_var in (("ARMCD", "ARM"), ("ACTARMCD", "ACTARM")):
        if code_var in dataset.frame and name_var in dataset.frame:
            code, name = _col(dataset.frame, code_var), _col(dataset.frame, name_var)
            out += findings_at(RULES["TF-ARM-004"], dataset, (code == "") != (name == ""), variable=code_var,
                               values=lambda: code + " / " + name)
    return out


@register("TF-TA-001", "error", "Non-unique value for TAETORD within ARMCD", p21=("SD1052",), publisher=("CG0247",),
          scope=SDTM, domains=("TA",), category="Consistency")
def taetord_unique(dataset, ctx):
    if not {"ARMCD", "TAETORD"} <= set(dataset.frame.columns):
        return []
    dup = dataset.frame.duplicated(["ARMCD", "TAETORD"], keep="first")
    return findings_at(RULES["TF-TA-001"], dataset, dup, variable="TAETORD")


# ---- elements -------------------------------------------------------------------------------------

@register("TF-TE-001", "error", "Invalid ETCD (not in TE)", p21=("SD0067", "SD1009"), publisher=("CG0414", "CG0246"),
          scope=SDTM, kind="study", category="Cross-reference")
def etcd_in_te(ctx):
    te = ctx.get("TE")
    if te is None or "ETCD" not in te.frame:
        return []
    known = set(_col(te.frame, "ETCD"))
    out = []
    for name in ("TA", "SE"):
        ds = ctx.get(name)
        if ds is None or "ETCD" not in ds.frame:
            continue
        code = _col(ds.frame, "ETCD")
        out += findings_at(RULES["TF-TE-001"], ds, (code != "") & (code != "UNPLAN") & ~code.isin(known),
                           variable="ETCD")
    return out


@register("TF-TE-002", "error", "Duplicate ETCD value in TE", p21=("SD1064",), publisher=("FDAB009",), scope=SDTM,
          domains=("TE",), category="Consistency")
def etcd_unique(dataset, ctx):
    if "ETCD" not in dataset.frame:
        return []
    return findings_at(RULES["TF-TE-002"], dataset, dataset.frame.duplicated(["ETCD"], keep="first"), variable="ETCD")


# ---- trial summary ----------------------------------------------------------------------------------

# FDA-required TS parameters with Pinnacle 21's check id for each (STYPE-dependent ones only for
# interventional studies; CURTRT only for add-on studies). ONGOSIND (SD2287) is left out: CT
# 2022-09-30 has no such TSPARMCD term, so requiring it would contradict TF-CT-002.
TS_REQUIRED = {
    "ADDON": "SD2201", "AGEMAX": "SD2202", "AGEMIN": "SD2203", "LENGTH": "SD2204", "PLANSUB": "SD2205",
    "RANDOM": "SD2206", "SEXPOP": "SD2207", "STOPRULE": "SD2208", "TBLIND": "SD2209", "TCNTRL": "SD2210",
    "TDIGRP": "SD2211", "TINDTP": "SD2212", "TITLE": "SD2213", "TPHASE": "SD2214", "TTYPE": "SD2215",
    "OBJPRIM": "SD2217", "SPONSOR": "SD2218", "REGID": "SD2221", "OUTMSPRI": "SD2222", "FCNTRY": "SD2224",
    "ADAPT": "SD2225", "DCUTDTC": "SD2226", "DCUTDESC": "SD2227", "NARMS": "SD2229", "STYPE": "SD2230",
    "SENDTC": "SD2233", "ACTSUB": "SD2234", "HLTSUBJI": "SD2235", "EXTTIND": "SD2273", "NCOHORT": "SD2274",
    "OBJSEC": "SD2275", "PDPSTIND": "SD2276", "PDSTIND": "SD2277", "PIPIND": "SD2278", "RDIND": "SD2279",
    "SDTIGVER": "SD2280", "SDTMVER": "SD2281", "THERAREA": "SD2282",
}
TS_INTERVENTIONAL = {"TRT": "SD2219", "PCLAS": "SD2223", "INTMODEL": "SD2228", "INTTYPE": "SD2231"}
TS_ADDON = {"CURTRT": "SD2216"}
TS_DATES = {"SSTDTC": "SD2247", "SENDTC": "SD2248", "DCUTDTC": "SD2245"}


def _ts_values(ds):
    f = ds.frame
    return pd.DataFrame({"P": _col(f, "TSPARMCD"), "V": _col(f, "TSVAL")})


@register("TF-TS-001", "error", "Missing SSTDTC Trial Summary Parameter", p21=("SD2232",),
          publisher=("eCTD 1734", "FDAB011"), scope=SDTM, kind="study", category="Presence")
def ts_sstdtc(ctx):
    ts = ctx.get("TS")
    if ts is None:
        if any("USUBJID" in d.frame for d in ctx.datasets.values()):
            return [RULES["TF-TS-001"].finding("TS", message="TS dataset is missing (no study start date, SSTDTC)")]
        return []
    if "SSTDTC" in set(_ts_values(ts)["P"]):
        return []
    return [RULES["TF-TS-001"].finding("TS", variable="TSPARMCD", value="SSTDTC")]


@register("TF-TS-002", "warning", "Missing required Trial Summary Parameter", p21=tuple(sorted(
          set(TS_REQUIRED.values()) | set(TS_INTERVENTIONAL.values()) | set(TS_ADDON.values()))),
          publisher=("FDAB011", "CG0287"), scope=SDTM, domains=("TS",), category="Presence")
def ts_required(dataset, ctx):
    ts = _ts_values(dataset)
    present = set(ts["P"])
    value = dict(zip(ts["P"], ts["V"]))
    needed = dict(TS_REQUIRED)
    if value.get("STYPE", "INTERVENTIONAL").upper() == "INTERVENTIONAL":
        needed.update(TS_INTERVENTIONAL)
    if value.get("ADDON", "").upper() == "Y":
        needed.update(TS_ADDON)
    return [RULES["TF-TS-002"].finding(dataset.name, variable="TSPARMCD", value=p,
                                        message=f"Missing {p} Trial Summary Parameter (P21 {pid})")
            for p, pid in sorted(needed.items()) if p not in present]


@register("TF-TS-003", "error", "Invalid TSVAL value for a date parameter (SSTDTC/SENDTC/DCUTDTC)",
          p21=tuple(TS_DATES.values()) + ("SD2247A",), publisher=("CG0285", "CG0286", "CG0283"), scope=SDTM,
          domains=("TS",), category="Format")
def ts_dates(dataset, ctx):
    ts = _ts_values(dataset)
    bad = ts["P"].isin(set(TS_DATES)) & ((ts["V"].str.len() < 10) | ~iso8601_ok(ts["V"], intervals=False))
    bad &= ts["V"] != ""
    return findings_at(RULES["TF-TS-003"], dataset, bad, variable="TSVAL",
                       message="TSVAL of a date parameter must be a complete ISO 8601 date")


@register("TF-TS-004", "error", "Non-unique value for TSSEQ variable within TSPARMCD", p21=("SD1038",),
          publisher=("CG0268",), scope=SDTM, domains=("TS",), category="Consistency")
def tsseq_unique(dataset, ctx):
    if not {"TSPARMCD", "TSSEQ"} <= set(dataset.frame.columns):
        return []
    dup = dataset.frame.duplicated(["TSPARMCD", "TSSEQ"], keep="first")
    return findings_at(RULES["TF-TS-004"], dataset, dup, variable="TSSEQ")


@register("TF-TS-005", "warning", "TSVAL and TSVALNF both missing, or both populated", p21=("SD2017", "SD2018"),
          publisher=("CG0259", "CG0260"), scope=SDTM, domains=("TS",), category="Presence")
def tsval_or_null_flavor(dataset, ctx):
    f = dataset.frame
    if "TSVAL" not in f:
        return []
    val, nf = _col(f, "TSVAL"), _col(f, "TSVALNF")
    return findings_at(RULES["TF-TS-005"], dataset, (val == "") == (nf == ""), variable="TSVAL",
                       values=lambda: val + " / " + nf)


# ---- visits and tests -------------------------------------------------------------------------------

@register("TF-VIS-001", "warning", "Inconsistent value for VISIT within VISITNUM", p21=("SD0051",),
          publisher=("CG0035",), scope=SDTM, category="Consistency")
def visit_within_visitnum(dataset, ctx):
    f = dataset.frame
    if "VISITNUM" not in f or "VISIT" not in f:
        return []
    return _one_to_one(_by_visit_text(dataset, ctx), "VISITNUM", "VISIT", RULES["TF-VIS-001"])


@register("TF-VIS-002", "warning", "Inconsistent value for VISITNUM within VISIT", p21=("SD0052",),
          publisher=("CG0035",), scope=SDTM, category="Consistency")
def visitnum_within_visit(dataset, ctx):
    f = dataset.frame
    if "VISITNUM" not in f or "VISIT" not in f:
        return []
    return _one_to_one(_by_visit_text(dataset, ctx), "VISIT", "VISITNUM", RULES["TF-VIS-002"])


def _by_visit_text(dataset, ctx):
    """The dataset with VISITNUM as key text, made once per run for TF-VIS-001 and TF-VIS-002 (the same frame:
    its VISITNUM text is profiled once, not once per rule; LB's 137,000 records at 1,000 subjects)."""
    f = dataset.frame
    key = ("visitnum-text", dataset.name, id(f))
    hit = ctx._std_cache.get(key)
    if hit is None or hit[0] is not f:
        hit = ctx._std_cache[key] = (f, dataset.__class__(dataset.meta, f.assign(VISITNUM=_num_text(f["VISITNUM"]))))
    return hit[1]


def _num_text(series):
    from .rules_relations import key_text
    return key_text(series)


@register("TF-TEST-001", "warning", "Inconsistent value for --TEST within --TESTCD", p21=("SD0040",),
          publisher=("FDAB009",), scope=SDTM, category="Consistency")
def test_within_testcd(dataset, ctx):
    p = dataset.name.upper()[:2]
    return _one_to_one(dataset, f"{p}TESTCD", f"{p}TEST", RULES["TF-TEST-001"])


@register("TF-TEST-002", "warning", "Inconsistent value for --TESTCD within --TEST", p21=("SD1043",),
          publisher=("FDAB009",), scope=SDTM, category="Consistency")
def testcd_within_test(dataset, ctx):
    p = dataset.name.upper()[:2]
    return _one_to_one(dataset, f"{p}TEST", f"{p}TESTCD", RULES["TF-TEST-002"])


PAIRED = (("TESTCD", "TEST"), ("PARMCD", "PARM"))


@register("TF-CT-003", "error", "Coded and decoded values do not have the same code in CDISC CT", p21=("CT2003",),
          publisher=("FDAB009",), scope=SDTM, category="Terminology")
def paired_terms(dataset, ctx):
    """--TESTCD/--TEST (and TSPARMCD/TSPARM): both submission values must be the same NCI term."""
    out = []
    ids: dict = {}
    for code_sfx, name_sfx in PAIRED:
        for code_var in [c for c in dataset.frame.columns if c.endswith(code_sfx)]:
            name_var = code_var[:-len(code_sfx)] + name_sfx
            cv, nv = ctx.variable(dataset, code_var), ctx.variable(dataset, name_var)
            if name_var not in dataset.frame or cv is None or nv is None:
                continue
            ccl, ncl = codelist_of(cv, ctx), codelist_of(nv, ctx)
            if ccl is None or ncl is None:
                continue
            code_of_code = {t.value: t.code for t in ccl.terms if t.code}
            code_of_name = {t.value: t.code for t in ncl.terms if t.code}
            # each distinct value's NCI code as a number (-1: not a term), compared record by record
            f = dataset.frame
            a, b = _term_ids(f[code_var], code_of_code, ids), _term_ids(f[name_var], code_of_name, ids)
            bad = (a >= 0) & (b >= 0) & (a != b)
            out += findings_at(RULES["TF-CT-003"], dataset, series_of(bad, f.index), variable=name_var,
                               values=lambda: _col(f, code_var) + " / " + _col(f, name_var),
                               message=f"{code_var} and {name_var} are different CT terms")
    return out


def _term_ids(series, code_of, ids: dict) -> np.ndarray:
    """Per record, the NCI code of its (trimmed) value as a small integer (``ids`` numbers the codes), -1
    when the value is no term of the codelist: looked up once per distinct value."""
    prof = profile(series)
    per_value = np.fromiter((-1 if (c := code_of.get(v)) is None else ids.setdefault(c, len(ids))
                             for v in prof.texts), dtype=np.int64, count=len(prof.texts))
    return per_value[prof.codes]


# ---- events, findings and demographics ----------------------------------------------------------------

SERIOUS_CRITERIA = ("AESCAN", "AESCONG", "AESDISAB", "AESDTH", "AESHOSP", "AESLIFE", "AESOD", "AESMIE")


@register("TF-AE-001", "warning", "AESER is not 'Y' when a seriousness criterion is 'Y'", p21=("SD1062", "SD1132"),
          publisher=("CG0041", "CG0042"), scope=SDTM, domains=("AE",), category="Consistency")
def aeser_when_criterion(dataset, ctx):
    f = dataset.frame
    crit = [c for c in SERIOUS_CRITERIA if c in f]
    if "AESER" not in f or not crit:
        return []
    any_y = pd.concat([_col(f, c) == "Y" for c in crit], axis=1).any(axis=1)
    return findings_at(RULES["TF-AE-001"], dataset, any_y & (_col(f, "AESER") != "Y"), variable="AESER")


@register("TF-AE-002", "warning", "No seriousness criterion is 'Y' when AE is serious", p21=("SD0009",),
          scope=SDTM, domains=("AE",), category="Consistency")
def criterion_when_aeser(dataset, ctx):
    f = dataset.frame
    crit = [c for c in SERIOUS_CRITERIA if c in f]
    if "AESER" not in f or not crit:
        return []
    any_y = pd.concat([_col(f, c) == "Y" for c in crit], axis=1).any(axis=1)
    return findings_at(RULES["TF-AE-002"], dataset, (_col(f, "AESER") == "Y") & ~any_y, variable="AESER")


@register("TF-AE-003", "warning", "AESDTH and AEOUT='FATAL' disagree", p21=("SD0090", "SD0091"), scope=SDTM,
          domains=("AE",), category="Consistency")
def fatal_outcome(dataset, ctx):
    f = dataset.frame
    if "AESDTH" not in f or "AEOUT" not in f:
        return []
    sdth, out = _col(f, "AESDTH"), _col(f, "AEOUT")
    bad = ((out == "FATAL") & (sdth != "Y")) | ((sdth == "Y") & (out != "FATAL") & (out != ""))
    return findings_at(RULES["TF-AE-003"], dataset, bad, variable="AEOUT", values=lambda: out + " / AESDTH=" + sdth)


@register("TF-DM-003", "warning", "Negative or zero value for AGE", p21=("SD0084",), publisher=("FDAB040",),
          scope=SDTM, domains=("DM",), category="Consistency")
def age_positive(dataset, ctx):
    if "AGE" not in dataset.frame or not pd.api.types.is_numeric_dtype(dataset.frame["AGE"]):
        return []
    return findings_at(RULES["TF-DM-003"], dataset, dataset.frame["AGE"] <= 0, variable="AGE")


@register("TF-DM-004", "warning", "DTHFL and DTHDTC disagree (one populated without the other)", p21=("SD2004", "SD2005"),
          publisher=("CG0435", "FDAB006"), scope=SDTM, domains=("DM",), category="Consistency")
def death_flag_date(dataset, ctx):
    f = dataset.frame
    if "DTHFL" not in f or "DTHDTC" not in f:
        return []
    fl, dt = _col(f, "DTHFL"), _col(f, "DTHDTC")
    return findings_at(RULES["TF-DM-004"], dataset, ((dt != "") & (fl != "Y")) | ((fl == "Y") & (dt == "")),
                       variable="DTHFL", values=lambda: fl + " / " + dt)


@register("TF-STAT-001", "warning", "--ORRES value is populated when --STAT is 'NOT DONE'", p21=("SD1123",),
          publisher=("FDAB042", "CG0422"), scope=SDTM, category="Consistency")
def result_when_not_done(dataset, ctx):
    p = dataset.name.upper()[:2]
    f = dataset.frame
    if f"{p}STAT" not in f or f"{p}ORRES" not in f:
        return []
    bad = (_col(f, f"{p}STAT") == "NOT DONE") & (_col(f, f"{p}ORRES") != "")
    return findings_at(RULES["TF-STAT-001"], dataset, bad, variable=f"{p}ORRES")


@register("TF-EX-001", "warning", "Negative value for --DOSE", p21=("SD0014",), publisher=("FDAB040",), scope=SDTM,
          category="Consistency")
def dose_not_negative(dataset, ctx):
    col = f"{dataset.name.upper()[:2]}DOSE"
    if col not in dataset.frame or not pd.api.types.is_numeric_dtype(dataset.frame[col]):
        return []
    return findings_at(RULES["TF-EX-001"], dataset, dataset.frame[col] < 0, variable=col)

