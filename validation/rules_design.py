"""Trial-design references (visits vs TV and SV, elements vs TE/TA/SE, IE vs TI), Trial Summary value
formats and multiplicity, expected datasets, and package-level text and identifier checks."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .context import (distinct_rows, findings_at, numeric, plain_unpadded_text, profile, series_of, str_test, text,
                      texts_at)
from .dates import DURATION_RX
from .families import TRIAL_DESIGN, filled, numeric_text
from .registry import RULES, SDTM, register
from .rules_relations import key_text, key_text_distinct

E, W, N = "error", "warning", "notice"


def _rule(rid, severity, message, p21=(), publisher=(), domains=(), kind="dataset", category="Cross-reference"):
    return register(rid, severity, message, scope=SDTM, p21=p21, publisher=publisher, domains=domains, kind=kind,
                    category=category)


def _col(f, name):
    return text(f[name]) if name in f else pd.Series("", index=f.index)


# ---- visits ------------------------------------------------------------------------------------------

def _planned(frame) -> pd.Series:
    """Planned-visit records: SV rows without SVUPDES (other domains: every row with a VISITNUM)."""
    return ~filled(frame, "SVUPDES")


def _unplanned_visitnums(ctx) -> set:
    sv = ctx.get("SV")
    if sv is None or "SVUPDES" not in sv.frame or "VISITNUM" not in sv.frame:
        return set()
    f = sv.frame
    return set(key_text(f["VISITNUM"])[filled(f, "SVUPDES")])


@_rule("TF-TV-001", W, "VISITNUM value does not match TV domain data", p21=("SD1017",), publisher=("CG0213",),
       kind="study")
def visitnum_in_tv(ctx):
    tv = ctx.get("TV")
    if tv is None or "VISITNUM" not in tv.frame:
        return []
    known = set(key_text(tv.frame["VISITNUM"]))
    unplanned = _unplanned_visitnums(ctx)
    out = []
    for ds in ctx.datasets.values():
        if ds.name.upper() in TRIAL_DESIGN or "VISITNUM" not in ds.frame or "USUBJID" not in ds.frame:
            continue
        distinct = key_text_distinct(ds.frame["VISITNUM"])
        if distinct is None:
            vn = key_text(ds.frame["VISITNUM"])
            unknown = (vn != "") & ~vn.isin(known) & ~vn.isin(unplanned)
        else:                                # judged once per distinct VISITNUM
            codes, texts = distinct
            per = np.fromiter((t != "" and t not in known and t not in unplanned for t in texts.tolist()),
                              dtype=bool, count=len(texts))
            unknown = series_of(per[codes], ds.frame.index)
        out += findings_at(RULES["TF-TV-001"], ds, unknown & _planned(ds.frame), variable="VISITNUM")
    return out


@_rule("TF-TV-002", W, "VISITNUM/VISIT/VISITDY values do not match TV domain data", p21=("SD1018",),
       publisher=("CG0215",), kind="study")
def sv_visit_matches_tv(ctx):
    tv, sv = ctx.get("TV"), ctx.get("SV")
    if tv is None or sv is None or not {"VISITNUM", "VISIT"} <= set(tv.frame.columns) \
            or not {"VISITNUM", "VISIT"} <= set(sv.frame.columns):
        return []

    def combo(f):
        out = key_text(f["VISITNUM"]) + "\x1f" + text(f["VISIT"])
        if "VISITDY" in f and "VISITDY" in tv.frame:
            out = out + "\x1f" + key_text(f["VISITDY"])
        return out
    known = set(combo(tv.frame))
    vn = key_text(sv.frame["VISITNUM"])
    mine = combo(sv.frame)
    bad = _planned(sv.frame) & vn.isin(set(key_text(tv.frame["VISITNUM"]))) & ~mine.isin(known)
    return findings_at(RULES["TF-TV-002"], sv, bad, variable="VISIT",       # the text built only when reporting
                       values=lambda: mine.str.replace("\x1f", " / "))


def _ids_at(series: pd.Series, positions: np.ndarray, ids: dict) -> np.ndarray:
    """``ids`` of the trimmed text of the records at ``positions`` (-1 for a text not in it), looked up once per
    distinct value of the column."""
    prof = profile(series)
    per_value = np.fromiter((ids.get(t, -1) for t in prof.texts.tolist()), dtype=np.int64, count=len(prof.texts))
    return per_value[prof.codes[positions]]


def _key_ids_at(series: pd.Series, positions: np.ndarray, ids: dict) -> tuple[np.ndarray, np.ndarray]:
    """(``ids`` of ``key_text(series)`` at ``positions``, -1 for a text not in it; which of those texts are ""),
    looked up once per distinct value when the column's profile spells its key text."""
    distinct = key_text_distinct(series)
    if distinct is None:
        texts = np.array(key_text(series).to_numpy()[positions].tolist() + [""], dtype=object)
        codes = np.arange(len(positions))
    else:
        codes, texts = distinct
        codes = codes[positions]
    per_value = np.fromiter((ids.get(t, -1) for t in texts.tolist()), dtype=np.int64, count=len(texts))
    return per_value[codes], (texts == "")[codes]


def _key_texts_at(series: pd.Series, positions: np.ndarray) -> list:
    """``key_text(series)`` of the records at ``positions``, from the column's distinct values when it can be."""
    distinct = key_text_distinct(series)
    if distinct is None:
        return key_text(series).to_numpy()[positions].tolist()
    codes, texts = distinct
    return texts[codes[positions]].tolist()


@_rule("TF-TV-003", W, "VISIT/VISITNUM values do not match TV domain data", p21=("SD1023",), kind="study")
def visit_label_matches_tv(ctx):
    tv = ctx.get("TV")
    if tv is None or not {"VISITNUM", "VISIT"} <= set(tv.frame.columns):
        return []
    label: dict = {}                  # VISITNUM text -> TV's first VISIT text for it
    for vn, v in zip(key_text(tv.frame["VISITNUM"]).tolist(), text(tv.frame["VISIT"]).tolist()):
        label.setdefault(vn, v)
    out = []
    for ds in ctx.datasets.values():
        if ds.name.upper() in TRIAL_DESIGN + ("SV",) or not {"VISITNUM", "VISIT"} <= set(ds.frame.columns):
            continue
        f = ds.frame
        # judged once per distinct (VISITNUM, VISIT) pair with a dict look-up, then expanded to the records
        combo, first = distinct_rows(f, ["VISITNUM", "VISIT"])
        missing = object()
        wrong = np.fromiter(((v != "" and label.get(vn, missing) is not missing and v != label[vn])
                             for vn, v in zip(_key_texts_at(f["VISITNUM"], first), texts_at(f["VISIT"], first).tolist())),
                            dtype=bool, count=len(first))
        out += findings_at(RULES["TF-TV-003"], ds, series_of(wrong[combo], f.index), variable="VISIT",
                           values=lambda: key_text(f["VISITNUM"]) + " / " + text(f["VISIT"]))
    return out


@_rule("TF-TV-004", W, "USUBJID/VISIT/VISITNUM values do not match SV domain data", p21=("SD0065",),
       publisher=("CG0034",), kind="study")
def visit_in_sv(ctx):
    sv = ctx.get("SV")
    if sv is None or not {"USUBJID", "VISITNUM"} <= set(sv.frame.columns):
        return []
    # SV's (USUBJID, VISITNUM) pairs as numbers: each distinct text of either gets one, a pair is s * width + v
    _, sv_first = distinct_rows(sv.frame, ["USUBJID", "VISITNUM"])
    subjects, visits = texts_at(sv.frame["USUBJID"], sv_first).tolist(), _key_texts_at(sv.frame["VISITNUM"], sv_first)
    subject_id = {t: k for k, t in enumerate(dict.fromkeys(subjects))}
    visit_id = {t: k for k, t in enumerate(dict.fromkeys(visits))}
    width = len(visit_id) + 1
    known = np.unique(np.fromiter((subject_id[a] * width + visit_id[b] for a, b in zip(subjects, visits)),
                                  dtype=np.int64, count=len(subjects)))
    out = []
    for ds in ctx.datasets.values():
        name = ds.name.upper()
        if name in TRIAL_DESIGN + ("SV",) or not {"USUBJID", "VISITNUM"} <= set(ds.frame.columns):
            continue
        f = ds.frame
        # judged once per distinct (USUBJID, VISITNUM, --STAT), each distinct text looked up once, then expanded
        cols = ["USUBJID", "VISITNUM"] + ([f"{name[:2]}STAT"] if f"{name[:2]}STAT" in f else [])
        combo, first = distinct_rows(f, cols)
        subject = _ids_at(f["USUBJID"], first, subject_id)
        visit, blank = _key_ids_at(f["VISITNUM"], first, visit_id)
        stated = texts_at(f[cols[2]], first).to_numpy() != "" if len(cols) > 2 else np.zeros(len(first), bool)
        seen = (subject >= 0) & (visit >= 0) & np.isin(subject * width + visit, known)
        wrong = ~blank & ~stated & ~seen
        out += findings_at(RULES["TF-TV-004"], ds, series_of(wrong[combo], f.index), variable="VISITNUM")
    return out


@_rule("TF-TV-005", W, "VISITDY is populated for unplanned visit", p21=("SD1019",), publisher=("CG0216",),
       domains=("SV",), category="Consistency")
def visitdy_unplanned(dataset, ctx):
    f = dataset.frame
    return findings_at(RULES["TF-TV-005"], dataset, filled(f, "SVUPDES") & filled(f, "VISITDY"), variable="VISITDY")


@_rule("TF-TV-006", E, "Duplicate VISITNUM in TV", p21=("SD1060",), publisher=("CG0410",), domains=("TV",),
       category="Consistency")
def tv_visitnum_unique(dataset, ctx):
    f = dataset.frame
    if "VISITNUM" not in f:
        return []
    keys = ["VISITNUM"] + (["ARMCD"] if "ARMCD" in f else [])
    return findings_at(RULES["TF-TV-006"], dataset, f.duplicated(keys, keep="first"), variable="VISITNUM")


# ---- elements: TE, TA, SE ---------------------------------------------------------------------------

@_rule("TF-TE-003", W, "Invalid ETCD/ELEMENT (pair not as in TE)", p21=("SD1012",), kind="study")
def element_pair_in_te(ctx):
    te = ctx.get("TE")
    if te is None or not {"ETCD", "ELEMENT"} <= set(te.frame.columns):
        return []
    known = set(text(te.frame["ETCD"]) + "\x1f" + text(te.frame["ELEMENT"]))
    out = []
    for name in ("TA", "SE"):
        ds = ctx.get(name)
        if ds is None or not {"ETCD", "ELEMENT"} <= set(ds.frame.columns):
            continue
        code, el = text(ds.frame["ETCD"]), text(ds.frame["ELEMENT"])
        bad = (code != "") & (code != "UNPLAN") & (el != "") & ~(code + "\x1f" + el).isin(known)
        out += findings_at(RULES["TF-TE-003"], ds, bad, variable="ELEMENT", values=lambda: code + " / " + el)
    return out


@_rule("TF-SE-001", W, "ELEMENT value is populated when ETCD = 'UNPLAN'", p21=("SD1010",), publisher=("CG0152",),
       domains=("SE",), category="Consistency")
def unplanned_element(dataset, ctx):
    f = dataset.frame
    return findings_at(RULES["TF-SE-001"], dataset, (_col(f, "ETCD") == "UNPLAN") & filled(f, "ELEMENT"),
                       variable="ELEMENT")


@_rule("TF-SE-002", W, "TAETORD is populated, ETCD = 'UNPLAN'", p21=("SD1013",), publisher=("CG0206",),
       domains=("SE",), category="Consistency")
def unplanned_taetord(dataset, ctx):
    f = dataset.frame
    return findings_at(RULES["TF-SE-002"], dataset, (_col(f, "ETCD") == "UNPLAN") & filled(f, "TAETORD"),
                       variable="TAETORD")


@_rule("TF-SE-003", W, "Invalid TAETORD (not the order of this element in the subject's arm in TA)", p21=("SD1014",),
       publisher=("CG0418",), kind="study")
def taetord_in_ta(ctx):
    se, ta, dm = ctx.get("SE"), ctx.get("TA"), ctx.get("DM")
    if se is None or ta is None or dm is None or "TAETORD" not in se.frame or "TAETORD" not in ta.frame:
        return []
    arm = dm.frame.drop_duplicates("USUBJID").set_index("USUBJID")
    armcd = text(se.frame["USUBJID"]).map(text(arm["ACTARMCD"]) if "ACTARMCD" in arm else text(arm["ARMCD"]))
    known = set(text(ta.frame["ARMCD"]) + "\x1f" + text(ta.frame["ETCD"]) + "\x1f" + key_text(ta.frame["TAETORD"]))
    ords = key_text(se.frame["TAETORD"])
    combo = armcd.fillna("") + "\x1f" + text(se.frame["ETCD"]) + "\x1f" + ords
    bad = (ords != "") & armcd.fillna("").isin(set(text(ta.frame["ARMCD"]))) & ~combo.isin(known)
    return findings_at(RULES["TF-SE-003"], se, bad, variable="TAETORD")


@_rule("TF-TE-004", W, "Missing values for TEENRL and TEDUR", p21=("SD0089",), publisher=("CG0328", "CG0329"),
       domains=("TE",), category="Consistency")
def element_has_end(dataset, ctx):
    f = dataset.frame
    return findings_at(RULES["TF-TE-004"], dataset, ~filled(f, "TEENRL") & ~filled(f, "TEDUR"), variable="TEENRL")


@_rule("TF-TE-005", E, "Duplicate ELEMENT value in TE", p21=("SD1068",), publisher=("FDAB009",), domains=("TE",),
       category="Consistency")
def element_unique(dataset, ctx):
    if "ELEMENT" not in dataset.frame:
        return []
    return findings_at(RULES["TF-TE-005"], dataset, dataset.frame.duplicated(["ELEMENT"]), variable="ELEMENT")


@_rule("TF-TE-006", W, "ETCD value of TE is not present in TA", p21=("SD1378",), kind="study")
def te_element_in_ta(ctx):
    te, ta = ctx.get("TE"), ctx.get("TA")
    if te is None or ta is None or "ETCD" not in te.frame or "ETCD" not in ta.frame:
        return []
    code = text(te.frame["ETCD"])
    return findings_at(RULES["TF-TE-006"], te, (code != "") & ~code.isin(set(text(ta.frame["ETCD"]))), variable="ETCD")


@_rule("TF-TE-007", N, "ETCD value of TA is not present in SE", p21=("SD1379",), kind="study")
def ta_element_in_se(ctx):
    se, ta = ctx.get("SE"), ctx.get("TA")
    if se is None or ta is None or "ETCD" not in se.frame or "ETCD" not in ta.frame:
        return []
    code = text(ta.frame["ETCD"])
    first = ~ta.frame.duplicated(["ETCD"])
    return findings_at(RULES["TF-TE-007"], ta, first & (code != "") & ~code.isin(set(text(se.frame["ETCD"]))),
                       variable="ETCD")


# ---- inclusion / exclusion against TI --------------------------------------------------------------------

@_rule("TF-TI-001", W, "IETESTCD value doesn't exist in TI domain", p21=("SD0068",), publisher=("CG0179",), kind="study")
def ie_test_in_ti(ctx):
    ie, ti = ctx.get("IE"), ctx.get("TI")
    if ie is None or ti is None or "IETESTCD" not in ie.frame or "IETESTCD" not in ti.frame:
        return []
    code = text(ie.frame["IETESTCD"])
    return findings_at(RULES["TF-TI-001"], ie, (code != "") & ~code.isin(set(text(ti.frame["IETESTCD"]))),
                       variable="IETESTCD")


@_rule("TF-TI-002", W, "IETESTCD/IETEST/IECAT values do not exist in TI domain", p21=("SD1016",), publisher=("CG0178",),
       kind="study")
def ie_triplet_in_ti(ctx):
    ie, ti = ctx.get("IE"), ctx.get("TI")
    cols = ["IETESTCD", "IETEST", "IECAT"]
    if ie is None or ti is None or not set(cols) <= set(ie.frame.columns) or not set(cols) <= set(ti.frame.columns):
        return []
    combo = lambda f: text(f["IETESTCD"]) + " / " + text(f["IETEST"]) + " / " + text(f["IECAT"])  # noqa: E731
    known = set(combo(ti.frame))
    mine = combo(ie.frame)
    code_known = text(ie.frame["IETESTCD"]).isin(set(text(ti.frame["IETESTCD"])))
    return findings_at(RULES["TF-TI-002"], ie, code_known & ~mine.isin(known), variable="IETEST", values=mine)


@_rule("TF-TI-003", E, "IETESTCD is not unique within TIVERS", p21=("SD1286",), publisher=("CG0255", "CG0256"),
       domains=("TI",), category="Consistency")
def ti_unique(dataset, ctx):
    f = dataset.frame
    if "IETESTCD" not in f:
        return []
    keys = ["IETESTCD"] + (["TIVERS"] if "TIVERS" in f else [])
    return findings_at(RULES["TF-TI-003"], dataset, f.duplicated(keys), variable="IETESTCD")


# ---- Trial Summary ------------------------------------------------------------------------------------

def _ts(dataset):
    f = dataset.frame
    return _col(f, "TSPARMCD"), _col(f, "TSVAL")


def _duration(v):
    return v.str.match(DURATION_RX.pattern)


TS_FORMATS = [   # (id, message, p21, publisher, TSPARMCD, valid(values) -> mask)
    ("TF-TS-010", "Invalid TSVAL value for AGEMAX (ISO 8601 duration such as P65Y)", ("SD1215",), ("CG0270",), "AGEMAX",
     _duration),
    ("TF-TS-011", "Invalid TSVAL value for AGEMIN (ISO 8601 duration such as P18Y)", ("SD1217",), ("CG0438",), "AGEMIN",
     _duration),
    ("TF-TS-012", "Invalid TSVAL value for LENGTH (ISO 8601 duration)", ("SD1219",), ("CG0439",), "LENGTH", _duration),
    ("TF-TS-013", "Invalid TSVAL value for PLANSUB (a number)", ("SD1221",), ("CG0440",), "PLANSUB", numeric_text),
    ("TF-TS-014", "Invalid TSVAL value for RANDOM (Y or N)", ("SD1223",), ("CG0271",), "RANDOM",
     lambda v: v.isin(["Y", "N"])),
    ("TF-TS-015", "Invalid TSVAL value for ADDON parameter (Y or N)", ("SD1295",), ("CG0269",), "ADDON",
     lambda v: v.isin(["Y", "N"])),
    ("TF-TS-016", "Invalid TSVAL value for ADAPT parameter (Y or N)", ("SD1296",), ("CG0282",), "ADAPT",
     lambda v: v.isin(["Y", "N"])),
    ("TF-TS-017", "Invalid TSVAL value for NARMS (a number)", ("SD2246",), ("CG0284",), "NARMS", numeric_text),
    ("TF-TS-018", "Invalid TSVAL value for ACTSUB (a number)", ("SD2249",), ("CG0457",), "ACTSUB", numeric_text),
    ("TF-TS-019", "TSVAL is not between 0 and 1 when TSPARMCD = 'RANDQT'", ("SD1269",), ("CG0280",), "RANDQT",
     lambda v: pd.to_numeric(v, errors="coerce").between(0, 1)),
]


def _ts_format(row):
    rid, message, p21, pub, param, valid = row

    @_rule(rid, W, message, p21=p21, publisher=pub, domains=("TS",), category="Format")
    def check(dataset, ctx):
        params, values, _, v = _ts_arrays(dataset, ctx)
        rows = np.flatnonzero((params == param) & (values != ""))
        if not len(rows):                      # the parameter is absent: nothing to judge
            return []
        bad = rows[~valid(v.iloc[rows]).fillna(False).astype(bool).to_numpy()]
        return findings_at(RULES[rid], dataset, dataset.frame.index[bad], variable="TSVAL")
    return check


def _ts_arrays(dataset, ctx):
    """TSPARMCD and TSVAL text as arrays (and Series), once per run: two dozen TS rules each look up one
    parameter, which is a few microseconds on an array and a few pandas operations on a Series."""
    key = ("ts-arrays", dataset.name, id(dataset.frame))
    hit = ctx._std_cache.get(key)
    if hit is None:
        p, v = _ts(dataset)
        hit = ctx._std_cache[key] = (p.to_numpy(dtype=object), v.to_numpy(dtype=object), p, v)
    return hit


for _row in TS_FORMATS:
    _ts_format(_row)

TS_SINGLE = {"ADDON": ("TF-TS-020", "SD1214"), "AGEMAX": ("TF-TS-021", "SD1216"), "AGEMIN": ("TF-TS-022", "SD1218"),
             "LENGTH": ("TF-TS-023", "SD1220"), "PLANSUB": ("TF-TS-024", "SD1222"), "RANDOM": ("TF-TS-025", "SD1224"),
             "SEXPOP": ("TF-TS-026", "SD1225"), "NARMS": ("TF-TS-027", "SD1227")}


def _ts_single(param, rid, p21):
    @_rule(rid, W, f"Multiple {param} records", p21=(p21,), publisher=("FDAB011",), domains=("TS",),
           category="Consistency")
    def check(dataset, ctx):
        rows = np.flatnonzero(_ts_arrays(dataset, ctx)[0] == param)
        if len(rows) < 2:
            return []
        return findings_at(RULES[rid], dataset, dataset.frame.index[rows[1:]], variable="TSPARMCD")
    return check


for _param, (_rid, _p21) in TS_SINGLE.items():
    _ts_single(_param, _rid, _p21)

NULL_FLAVORS = ("NI", "INV", "DER", "OTH", "PINF", "NINF", "UNC", "MSK", "NA", "UNK", "ASKU", "NAV", "NASK", "QS",
                "TRC", "NP")


@_rule("TF-TS-030", W, "TSVAL is populated with a value from the ISO 21090 null flavor codelist", p21=("SD1297",),
       publisher=("CG0291",), domains=("TS",), category="Consistency")
def tsval_null_flavor(dataset, ctx):
    _, v = _ts(dataset)
    return findings_at(RULES["TF-TS-030"], dataset, v.isin(NULL_FLAVORS), variable="TSVAL")


@_rule("TF-TS-031", W, "Value for TSVALNF not found in ISO 21090", p21=("SD2283",), publisher=("FDAB011", "CG0459"),
       domains=("TS",), category="Terminology")
def tsvalnf_iso21090(dataset, ctx):
    nf = _col(dataset.frame, "TSVALNF")
    return findings_at(RULES["TF-TS-031"], dataset, (nf != "") & ~nf.isin(NULL_FLAVORS), variable="TSVALNF")


@_rule("TF-TS-032", W, "TSVCDREF is null when TSVCDVER is populated", p21=("SD1268",), publisher=("CG0266",),
       domains=("TS",), category="Consistency")
def tsvcdref_with_version(dataset, ctx):
    f = dataset.frame
    return findings_at(RULES["TF-TS-032"], dataset, filled(f, "TSVCDVER") & ~filled(f, "TSVCDREF"), variable="TSVCDREF")


TS_CONDITIONAL = [   # (id, message, p21, publisher, required TSPARMCD, condition TSPARMCD, condition value)
    ("TF-TS-033", "TSVAL is missing for the CURTRT Trial Summary Parameter when ADDON parameter equals 'Y'", "SD1308",
     "CG0275", "CURTRT", "ADDON", "Y"),
    ("TF-TS-034", "TSVAL is missing for the TRT Trial Summary Parameter when STYPE parameter equals 'INTERVENTIONAL'",
     "SD1309", "CG0276", "TRT", "STYPE", "INTERVENTIONAL"),
    ("TF-TS-035", "TSVAL is missing for the INTMODEL Trial Summary Parameter when STYPE parameter equals "
     "'INTERVENTIONAL'", "SD1310", "CG0277", "INTMODEL", "STYPE", "INTERVENTIONAL"),
    ("TF-TS-036", "TSVAL is missing for the INTTYPE Trial Summary Parameter when STYPE parameter equals "
     "'INTERVENTIONAL'", "SD1311", "CG0278", "INTTYPE", "STYPE", "INTERVENTIONAL"),
    ("TF-TS-037", "TSVAL is missing for the PCLAS Trial Summary Parameter when STYPE parameter equals "
     "'INTERVENTIONAL'", "SD1312", "CG0279", "PCLAS", "STYPE", "INTERVENTIONAL"),
    ("TF-TS-038", "TSVAL is missing for the TDIGRP Trial Summary Parameter when HLTSUBJI parameter equals 'N'",
     "SD1307", "CG0273", "TDIGRP", "HLTSUBJI", "N"),
]


def _ts_conditional(row):
    rid, message, p21, pub, param, cond, value = row

    @_rule(rid, W, message, p21=(p21,), publisher=(pub,), domains=("TS",), category="Presence")
    def check(dataset, ctx):
        p, v = _ts(dataset)
        if not ((p == cond) & (v.str.upper() == value)).any():
            return []
        if ((p == param) & (v != "")).any():
            return []
        return [RULES[rid].finding(dataset.name, variable="TSVAL", value=param,
                                    message=f"{cond} = {value} but {param} has no TSVAL")]
    return check


for _row in TS_CONDITIONAL:
    _ts_conditional(_row)


@_rule("TF-TS-039", W, "The TDIGRP parameter is not provided with TSVAL null when HLTSUBJI equals 'Y'", p21=("SD1306",),
       publisher=("CG0272",), domains=("TS",), category="Presence")
def tdigrp_healthy(dataset, ctx):
    p, v = _ts(dataset)
    if not ((p == "HLTSUBJI") & (v == "Y")).any():
        return []
    return findings_at(RULES["TF-TS-039"], dataset, (p == "TDIGRP") & (v != ""), variable="TSVAL")


# ---- expected datasets ---------------------------------------------------------------------------------

EXPECTED_DATASETS = [   # (id, dataset, p21, publisher, severity)
    ("TF-DS-101", "AE", "SD1106", "FDAB004", W), ("TF-DS-102", "LB", "SD1107", "FDAB004", N),
    ("TF-DS-103", "VS", "SD1108", "FDAB004", N), ("TF-DS-104", "EX", "SD1109", "FDAB004", W),
    ("TF-DS-105", "DS", "SD1110", "FDAB004", W), ("TF-DS-106", "SE", "SD1111", "FDAB004", W),
    ("TF-DS-107", "TA", "SD1112", "FDAB011", W), ("TF-DS-108", "TE", "SD1113", "FDAB011", W),
    ("TF-DS-109", "TS", "SD1115", "eCTD 1734", W),
]


def _expected_dataset(rid, name, p21, pub, severity):
    @_rule(rid, severity, f"Missing {name} dataset", p21=(p21,), publisher=(pub,), kind="study", category="Presence")
    def check(ctx):
        if ctx.get("DM") is None or ctx.get(name) is not None:
            return []
        return [RULES[rid].finding(name, value=name, message=f"Missing {name} dataset")]
    return check


for _row in EXPECTED_DATASETS:
    _expected_dataset(*_row)


@_rule("TF-DS-110", W, "Missing PC dataset when PP dataset is present", p21=("SD1270",), publisher=("CG0318",),
       kind="study", category="Presence")
def pc_for_pp(ctx):
    if ctx.get("PP") is None or ctx.get("PC") is not None:
        return []
    return [RULES["TF-DS-110"].finding("PC", value="PC")]


@_rule("TF-DS-111", W, "Missing MB dataset when MS dataset is present", p21=("SD1061",), publisher=("CG0191",),
       kind="study", category="Presence")
def mb_for_ms(ctx):
    if ctx.get("MS") is None or ctx.get("MB") is not None:
        return []
    return [RULES["TF-DS-111"].finding("MB", value="MB")]


# ---- identifiers and text ---------------------------------------------------------------------------------

@_rule("TF-ID-001", E, "Inconsistent STUDYID (more than one value in the package)", p21=("SD1349",), kind="study",
       category="Consistency")
def one_studyid(ctx):
    dm = ctx.get("DM")
    if dm is None or "STUDYID" not in dm.frame:
        return []
    main = text(dm.frame["STUDYID"]).mode()
    if main.empty:
        return []
    out, usual = [], main.iloc[0]
    for ds in ctx.datasets.values():
        if "STUDYID" in ds.frame:
            prof = profile(ds.frame["STUDYID"])         # judged once per distinct value
            texts = prof.texts
            wrong = np.fromiter((v != "" and v != usual for v in texts), dtype=bool, count=len(texts))
            out += findings_at(RULES["TF-ID-001"], ds, series_of(wrong[prof.codes], ds.frame.index), variable="STUDYID")
    return out


@_rule("TF-TXT-001", W, "Unexpected character value in variable (leading space, line break, or '.' alone)",
       p21=("SD1021",), publisher=("FDAB015",), category="Format")
def unexpected_text(dataset, ctx):
    out = []
    for col in dataset.frame.columns:
        if col.startswith(("COVAL", "TSVAL")) or numeric(dataset.frame[col]):
            continue
        if plain_unpadded_text(dataset.frame[col]):      # its bytes show no value could be reported
            continue
        prof = ctx.profile(dataset, col)
        bad_value = np.fromiter((v[:1] == " " or "\n" in v or "\r" in v or v.strip() == "." for v in prof.raw),
                                dtype=bool, count=len(prof.raw))
        if bad_value.any():
            out += findings_at(RULES["TF-TXT-001"], dataset, pd.Series(prof.mask(bad_value), index=dataset.frame.index),
                               variable=col)
    return out


@_rule("TF-SUPP-007", W, "QEVAL is null when QORIG equals 'ASSIGNED'", p21=("SD1265",), publisher=("CG0202",),
       domains=("SUPP*",), category="Consistency")
def qeval_assigned(dataset, ctx):
    f = dataset.frame
    assigned = str_test(_col(f, "QORIG"), lambda v: v.str.upper() == "ASSIGNED")    # once per distinct QORIG
    return findings_at(RULES["TF-SUPP-007"], dataset, assigned & ~filled(f, "QEVAL"),
                       variable="QEVAL")


@_rule("TF-SUPP-008", W, "Invalid usage of SUPPQUAL for non-general-observation-class Domain", p21=("SD0095",),
       domains=("SUPP*",), category="Presence")
def supp_of_design(dataset, ctx):
    parent = dataset.name.upper()[4:]
    if parent not in TRIAL_DESIGN + ("SE", "SV", "SM", "RELREC"):
        return []
    return [RULES["TF-SUPP-008"].finding(dataset.name, value=parent,
                                          message=f"{dataset.name} supplements {parent}, which cannot have SUPP--")]


@_rule("TF-REL-003", W, "IDVAR equals --SEQ when IDVARVAL is null and USUBJID is null", p21=("SD1264",),
       publisher=("CG0201",), domains=("RELREC",), category="Consistency")
def dataset_level_relation(dataset, ctx):
    f = dataset.frame
    bad = _col(f, "IDVAR").str.endswith("SEQ") & ~filled(f, "IDVARVAL") & ~filled(f, "USUBJID")
    return findings_at(RULES["TF-REL-003"], dataset, bad, variable="IDVAR")


@_rule("TF-CO-001", W, "CODTC is populated when comment is a child record of another domain", p21=("SD1008",),
       publisher=("CG0168",), domains=("CO",), category="Consistency")
def child_comment_date(dataset, ctx):
    f = dataset.frame
    return findings_at(RULES["TF-CO-001"], dataset, filled(f, "RDOMAIN") & filled(f, "CODTC"), variable="CODTC")


@_rule("TF-STR-014", W, "No timing variables are present in dataset", p21=("SD1299",), publisher=("CG0219",),
       category="Presence")
def has_timing(dataset, ctx):
    std = ctx.standard_dataset(dataset.name)
    if std is None or (std.cls or "").upper() not in ("EVENTS", "INTERVENTIONS", "FINDINGS", "FINDINGS ABOUT"):
        return []
    cols = dataset.frame.columns
    if any(c.endswith(("DTC", "DY", "TPT", "TPTNUM", "ELTM", "DUR")) or c in ("VISITNUM", "VISIT", "EPOCH") for c in cols):
        return []
    return [RULES["TF-STR-014"].finding(dataset.name, message=f"{dataset.name} has no timing variable")]

