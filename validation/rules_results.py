"""Findings results: original vs standard result and units, character vs numeric result,
reference-range indicator vs ranges, not-done status vs reason and result, baseline flags."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .context import distinct_rows, findings_at, profile, series_of, str_test, text, texts_at
from .families import filled, in_scope, number, numeric_text
from .registry import RULES, SDTM, register

W = "warning"


def _p(dataset) -> str:
    return dataset.name.upper()[:2]


def _cols(dataset, *suffixes):
    p = _p(dataset)
    names = [p + s for s in suffixes]
    return names if all(n in dataset.frame for n in names) else None


def _rule(rid, message, p21=(), publisher=(), severity=W, category="Consistency"):
    return register(rid, severity, message, scope=SDTM, p21=p21, publisher=publisher, category=category)


@_rule("TF-RES-001", "--STRESN does not equal --STRESC", ("SD1212",), ("FDAB031",))
def stresn_equals_stresc(dataset, ctx):
    """A numeric standard result in character form is the same number as --STRESN, digit for digit
    at the precision --STRESC shows (a rounded or truncated --STRESC is a different value)."""
    cols = _cols(dataset, "STRESC", "STRESN")
    if not cols or not in_scope(dataset, ()):
        return []
    f = dataset.frame
    n = number(f[cols[1]])
    # --STRESC read as a number once per distinct value, then compared record by record
    prof = profile(f[cols[0]])
    texts = prof.values
    num_v = numeric_text(texts).to_numpy(dtype=bool)
    as_num = pd.to_numeric(texts.where(num_v), errors="coerce").to_numpy(dtype=float)[prof.codes]
    nv = n.to_numpy(dtype=float, na_value=np.nan)
    bad = num_v[prof.codes] & ~np.isnan(nv) & ~np.isclose(as_num, nv, rtol=1e-12, atol=0)
    return findings_at(RULES["TF-RES-001"], dataset, series_of(bad, f.index), variable=cols[1],
                       values=lambda: text(f[cols[0]]) + " vs " + n.astype(str))


@_rule("TF-RES-002", "--STRESN is populated when --STRESC value is not numeric", ("SD1448",), ("FDAB031",))
def stresn_when_text(dataset, ctx):
    """E-notation (5.5e+07), '<0.5' or 'BLQ' in --STRESC are not plain numbers, so --STRESN must be null."""
    cols = _cols(dataset, "STRESC", "STRESN")
    if not cols or not in_scope(dataset, ()):
        return []
    c = text(dataset.frame[cols[0]])
    bad = (c != "") & ~numeric_text(c) & filled(dataset.frame, cols[1])
    return findings_at(RULES["TF-RES-002"], dataset, bad, variable=cols[0])


@_rule("TF-RES-003", "Missing value for --STRESN when --STRESC is numeric", ("SD1122",), ("FDAB031",))
def stresn_missing(dataset, ctx):
    cols = _cols(dataset, "STRESC", "STRESN")
    if not cols or not in_scope(dataset, ()):
        return []
    c = text(dataset.frame[cols[0]])
    bad = numeric_text(c) & ~filled(dataset.frame, cols[1])
    return findings_at(RULES["TF-RES-003"], dataset, bad, variable=cols[1], values=c)


@_rule("TF-RES-004", "--STRESC does not equal --ORRES when --STRESU is equal to --ORRESU", ("SD1353",))
def stresc_equals_orres(dataset, ctx):
    cols = _cols(dataset, "ORRES", "ORRESU", "STRESC", "STRESU")
    if not cols:
        return []
    f = dataset.frame
    # judged once per distinct (ORRES, ORRESU, STRESC, STRESU), then expanded to the records
    combo, first = distinct_rows(f, cols)
    o, ou, s, su = (texts_at(f[c], first) for c in cols)
    same_unit = (ou != "") & (ou == su) & (o != "") & (s != "")
    # each result's number parsed once per distinct text of its column, then read for each combination
    on, sn = (_numbers_at(f[c], first) for c in (cols[0], cols[2]))
    both_num = on.notna() & sn.notna()
    differ = np.where(both_num, ~np.isclose(on.fillna(0), sn.fillna(0), rtol=1e-9), o != s)
    verdict = (same_unit.to_numpy() & differ.astype(bool))[combo]
    return findings_at(RULES["TF-RES-004"], dataset, series_of(verdict, f.index), variable=cols[2],
                       values=lambda: series_of((o + " vs " + s).to_numpy(dtype=object)[combo], f.index))


def _numbers_at(series: pd.Series, positions: np.ndarray) -> pd.Series:
    """``pd.to_numeric(t.where(numeric_text(t)), errors="coerce")`` of ``t``, the trimmed text of the records at
    ``positions`` (on a fresh RangeIndex), parsed once per distinct value of the column."""
    prof = profile(series)
    values = prof.values
    parsed = pd.to_numeric(values.where(numeric_text(values)), errors="coerce").to_numpy(dtype=float)
    return pd.Series(parsed[prof.codes[positions]], index=pd.RangeIndex(len(positions)))


def _unit_expected(f, test, unit_col, result):
    """Numeric results of a test that carries a unit on some other record (unitless tests never fire)."""
    if test not in f:
        return pd.Series(False, index=f.index)
    # on distinct (test, unit) pairs: the tests reported with a unit somewhere, and which pairs lack one
    cols = [test] + ([unit_col] if unit_col in f else [])
    combo, first = distinct_rows(f, cols)
    t = texts_at(f[test], first)
    no_unit = (texts_at(f[unit_col], first) == "").to_numpy() if unit_col in f else np.ones(len(first), dtype=bool)
    with_unit = set(t[~no_unit])
    expected = (t.isin(with_unit).to_numpy() & no_unit)[combo]
    return numeric_text(result) & series_of(expected, f.index)


@_rule("TF-RES-005", "Missing value for --ORRESU when --ORRES is provided", ("SD0026",))
def orresu_missing(dataset, ctx):
    p = _p(dataset)
    f = dataset.frame
    if f"{p}ORRES" not in f or f"{p}ORRESU" not in f:
        return []
    bad = _unit_expected(f, f"{p}TESTCD", f"{p}ORRESU", text(f[f"{p}ORRES"]))
    return findings_at(RULES["TF-RES-005"], dataset, bad, variable=f"{p}ORRESU",
                       message=f"{p}ORRESU is null for a numeric result of a test reported with units elsewhere")


@_rule("TF-RES-006", "Missing value for --STRESU when --STRESC is provided", ("SD0029",), ("CG0425",))
def stresu_missing(dataset, ctx):
    p = _p(dataset)
    f = dataset.frame
    if f"{p}STRESC" not in f or f"{p}STRESU" not in f:
        return []
    bad = _unit_expected(f, f"{p}TESTCD", f"{p}STRESU", text(f[f"{p}STRESC"]))
    return findings_at(RULES["TF-RES-006"], dataset, bad, variable=f"{p}STRESU",
                       message=f"{p}STRESU is null for a numeric result of a test reported with units elsewhere")


@_rule("TF-RES-007", "Unit populated on a record without a result (--STAT = NOT DONE or result null)")
def unit_without_result(dataset, ctx):
    """A unit describes a result: --ORRESU/--STRESU on a record with no result is a mapping slip."""
    p = _p(dataset)
    f = dataset.frame
    out = []
    for unit, result in ((f"{p}ORRESU", f"{p}ORRES"), (f"{p}STRESU", f"{p}STRESC")):
        if unit in f and result in f:
            out += findings_at(RULES["TF-RES-007"], dataset, filled(f, unit) & ~filled(f, result), variable=unit,
                               message=f"{unit} is populated but {result} is null")
    return out


@_rule("TF-RES-008", "Value for --STNRHI is less than value for --STNRLO", ("SD0028",), ("FDAB039",), category="Limit")
def range_order(dataset, ctx):
    cols = _cols(dataset, "STNRLO", "STNRHI")
    if not cols:
        return []
    lo, hi = number(dataset.frame[cols[0]]), number(dataset.frame[cols[1]])
    return findings_at(RULES["TF-RES-008"], dataset, hi < lo, variable=cols[1],
                       values=lambda: lo.astype(str) + " > " + hi.astype(str))


def _orres_numeric_when(rid, range_suffix):
    def check(dataset, ctx):
        p = _p(dataset)
        f = dataset.frame
        if f"{p}ORRES" not in f or f"{p}{range_suffix}" not in f:
            return []
        o = text(f[f"{p}ORRES"])
        # a collected result in E-notation (1.52E+05, common in vendor transfers) is a number as collected
        bad = filled(f, f"{p}ORRES") & ~numeric_text(o, scientific=True) & filled(f, f"{p}{range_suffix}")
        return findings_at(RULES[rid], dataset, bad, variable=f"{p}ORRES")
    return check


for _rid, _sfx, _p21, _cg in (("TF-RES-009", "ORNRLO", "SD1470", "CG0180"), ("TF-RES-010", "ORNRHI", "SD1471", "CG0181"),
                              ("TF-RES-011", "STNRLO", "SD1472", "CG0182"), ("TF-RES-012", "STNRHI", "SD1473", "CG0183")):
    _rule(_rid, f"--ORRES is not numeric value, when --{_sfx} is populated", (_p21,), (_cg,))(_orres_numeric_when(_rid, _sfx))


@_rule("TF-RES-013", "--NRIND does not agree with --STRESN and the standard reference range")
def nrind_vs_range(dataset, ctx):
    """HIGH needs STRESN > STNRHI, LOW needs STRESN < STNRLO, NORMAL needs STNRLO <= STRESN <= STNRHI."""
    p = _p(dataset)
    f = dataset.frame
    if f"{p}NRIND" not in f or f"{p}STRESN" not in f:
        return []
    val = number(f[f"{p}STRESN"])
    lo = number(f[f"{p}STNRLO"]) if f"{p}STNRLO" in f else pd.Series(np.nan, index=f.index)
    hi = number(f[f"{p}STNRHI"]) if f"{p}STNRHI" in f else pd.Series(np.nan, index=f.index)
    prof = profile(f[f"{p}NRIND"])            # the indicator read once per distinct value
    high, low, normal = (np.asarray(prof.texts == word, dtype=bool)[prof.codes] for word in ("HIGH", "LOW", "NORMAL"))
    v, lo_v, hi_v = (s.to_numpy(dtype=float, na_value=np.nan) for s in (val, lo, hi))
    with np.errstate(invalid="ignore"):       # a missing number compares False, as pandas compares it
        bad = (high & (v <= hi_v)) | (low & (v >= lo_v)) | (normal & ((v < lo_v) | (v > hi_v)))
    return findings_at(RULES["TF-RES-013"], dataset, series_of(bad, f.index), variable=f"{p}NRIND",
                       values=lambda: text(f[f"{p}NRIND"]) + " (" + val.astype(str) + " in " + lo.astype(str) + ".."
                       + hi.astype(str) + ")")


@_rule("TF-STAT-002", "--REASND is null when --STAT is 'NOT DONE'")
def reason_when_not_done(dataset, ctx):
    p = _p(dataset)
    f = dataset.frame
    if f"{p}STAT" not in f:
        return []
    bad = (text(f[f"{p}STAT"]) == "NOT DONE") & ~filled(f, f"{p}REASND")
    return findings_at(RULES["TF-STAT-002"], dataset, bad, variable=f"{p}REASND",
                       message=f"{p}STAT = NOT DONE but {p}REASND is null")


@_rule("TF-STAT-003", "--STRESC populated when --STAT is 'NOT DONE'")
def std_result_when_not_done(dataset, ctx):
    p = _p(dataset)
    f = dataset.frame
    if f"{p}STAT" not in f or f"{p}STRESC" not in f:
        return []
    bad = (text(f[f"{p}STAT"]) == "NOT DONE") & filled(f, f"{p}STRESC")
    return findings_at(RULES["TF-STAT-003"], dataset, bad, variable=f"{p}STRESC")


@_rule("TF-RES-014", "Missing value for --STRESC when --STAT is null", ("SD1320",))
def stresc_when_done(dataset, ctx):
    p = _p(dataset)
    f = dataset.frame
    if f"{p}STRESC" not in f or f"{p}ORRES" not in f:
        return []
    stat = text(f[f"{p}STAT"]) if f"{p}STAT" in f else pd.Series("", index=f.index)
    bad = (stat == "") & ~filled(f, f"{p}STRESC") & filled(f, f"{p}ORRES")
    return findings_at(RULES["TF-RES-014"], dataset, bad, variable=f"{p}STRESC")


@_rule("TF-RES-015", "Missing value for --ORRES when --STAT or --DRVFL is not populated", ("SD0047",), ("CG0348",))
def orres_when_done(dataset, ctx):
    p = _p(dataset)
    f = dataset.frame
    if f"{p}ORRES" not in f or f"{p}TESTCD" not in f:
        return []
    bad = ~filled(f, f"{p}ORRES") & ~filled(f, f"{p}STAT") & ~filled(f, f"{p}DRVFL")
    return findings_at(RULES["TF-RES-015"], dataset, bad, variable=f"{p}ORRES")


@_rule("TF-RES-016", "Non-missing value for --ORRES when --DRVFL='Y'", ("SD1137", "SD1138"))
def orres_when_derived(dataset, ctx):
    p = _p(dataset)
    f = dataset.frame
    if f"{p}DRVFL" not in f or f"{p}ORRES" not in f:
        return []
    bad = (text(f[f"{p}DRVFL"]) == "Y") & filled(f, f"{p}ORRES")
    return findings_at(RULES["TF-RES-016"], dataset, bad, variable=f"{p}ORRES")


# variables that, beside --TESTCD, tell one measurement of a subject from another (SDTMIG 3.4)
TEST_QUALIFIERS = ("CAT", "SCAT", "SPEC", "SPCCND", "METHOD", "POS", "TSTDTL", "TSTOPO", "TSTCND", "ANTREG", "BDAGNT",
                   "TPTREF", "TPTNUM", "LOC", "LAT", "DIR", "LNKID", "EVAL")


def _baseline_flags(dataset):
    p = _p(dataset)
    return [c for c in (f"{p}BLFL", f"{p}LOBXFL") if c in dataset.frame]


def _multiple_flags(rid, suffix):
    def check(dataset, ctx):
        p = _p(dataset)
        f = dataset.frame
        flag = f"{p}{suffix}"
        if flag not in f or f"{p}TESTCD" not in f or "USUBJID" not in f:
            return []
        keys = ["USUBJID", f"{p}TESTCD"] + [p + c for c in TEST_QUALIFIERS if p + c in f]
        prof = profile(f[flag])
        on = np.flatnonzero((prof.texts == "Y")[prof.codes])
        if len(on) < 2:
            return []
        dup = np.zeros(len(f), dtype=bool)
        dup[on[pd.Index(_subset_codes(f, keys, on)).duplicated(keep="first")]] = True
        return findings_at(RULES[rid], dataset, series_of(dup, f.index), variable=flag,
                           message=f"more than one {flag} = Y record for the subject and test")
    return check


def _subset_codes(frame, keys, rows: np.ndarray) -> np.ndarray:
    """One integer per record at ``rows`` naming its combination of ``keys``, missing and "" counted as one
    value (``frame.loc[rows, keys].astype(object).where(notna, "").duplicated()`` finds the same repeats)."""
    out, bound = np.zeros(len(rows), dtype=np.int64), 1
    for col in keys:
        series = frame[col]
        codes, uniques = pd.factorize(series.take(rows), use_na_sentinel=True)
        codes = np.asarray(codes, dtype=np.int64)
        # the distinct values as Python objects at once (iterating Arrow's uniques makes a scalar per value)
        empty = [i for i, v in enumerate(np.asarray(uniques, dtype=object).tolist()) if isinstance(v, str) and v == ""] \
            if not pd.api.types.is_numeric_dtype(series) else []
        codes = np.where(codes < 0, empty[0] if empty else len(uniques), codes)
        width = len(uniques) + 1
        if bound * width >= 2 ** 62:
            out, bound = pd.factorize(out)[0].astype(np.int64), len(out) + 1
        out, bound = out * width + codes, bound * width
    return out


_rule("TF-BL-001", "Multiple BASELINE records for the same test", ("SD1439",), ("FDAB026",))(
    _multiple_flags("TF-BL-001", "BLFL"))
_rule("TF-BL-002", "Multiple --LOBXFL records for the same test", ("SD1445",), ("FDAB026",))(
    _multiple_flags("TF-BL-002", "LOBXFL"))


@_rule("TF-BL-003", "Missing --STRESC value for Baseline record", ("SD1131",), ("FDAB026",))
def baseline_has_result(dataset, ctx):
    p = _p(dataset)
    f = dataset.frame
    out = []
    for flag in _baseline_flags(dataset):
        if f"{p}STRESC" in f:
            out += findings_at(RULES["TF-BL-003"], dataset, (text(f[flag]) == "Y") & ~filled(f, f"{p}STRESC"),
                               variable=f"{p}STRESC")
    return out


@_rule("TF-BL-004", "--ORRES is null when --LOBXFL = 'Y' (and --DRVFL is null)", ("SD1371",), ("CG0553",))
def lobxfl_has_orres(dataset, ctx):
    p = _p(dataset)
    f = dataset.frame
    if f"{p}LOBXFL" not in f or f"{p}ORRES" not in f:
        return []
    bad = (text(f[f"{p}LOBXFL"]) == "Y") & ~filled(f, f"{p}ORRES") & ~filled(f, f"{p}DRVFL")
    return findings_at(RULES["TF-BL-004"], dataset, bad, variable=f"{p}ORRES")


@_rule("TF-BL-005", "--STRESC is null when --LOBXFL = 'Y'", ("SD1372",), ("CG0569",))
def lobxfl_has_stresc(dataset, ctx):
    p = _p(dataset)
    f = dataset.frame
    if f"{p}LOBXFL" not in f or f"{p}STRESC" not in f:
        return []
    bad = (text(f[f"{p}LOBXFL"]) == "Y") & ~filled(f, f"{p}STRESC")
    return findings_at(RULES["TF-BL-005"], dataset, bad, variable=f"{p}STRESC")


@_rule("TF-RES-017", "--STREFN is null when --STREFC is numeric", ("SD1370",), ("CG0550",))
def strefn_when_numeric(dataset, ctx):
    cols = _cols(dataset, "STREFC", "STREFN")
    if not cols:
        return []
    c = text(dataset.frame[cols[0]])
    return findings_at(RULES["TF-RES-017"], dataset, numeric_text(c) & ~filled(dataset.frame, cols[1]),
                       variable=cols[1], values=c)


@_rule("TF-RES-018", "Mismatch between IEORRES and IESTRESC values", ("SD0085",), ("CG0177",))
def ie_results_agree(dataset, ctx):
    f = dataset.frame
    if dataset.name.upper() != "IE" or "IEORRES" not in f or "IESTRESC" not in f:
        return []
    o, s = text(f["IEORRES"]), text(f["IESTRESC"])
    return findings_at(RULES["TF-RES-018"], dataset, (o != "") & (s != "") & (o != s), variable="IESTRESC",
                       values=lambda: o + " vs " + s)


@_rule("TF-RES-019", "IESTRESC is not 'Y' when IECAT = 'EXCLUSION'", ("SD1045",), ("CG0175",))
def exclusion_met(dataset, ctx):
    f = dataset.frame
    if dataset.name.upper() != "IE" or "IECAT" not in f or "IESTRESC" not in f:
        return []
    bad = (text(f["IECAT"]) == "EXCLUSION") & (text(f["IESTRESC"]) != "Y")
    return findings_at(RULES["TF-RES-019"], dataset, bad, variable="IESTRESC")


@_rule("TF-RES-020", "IESTRESC is not 'N' when IECAT = 'INCLUSION'", ("SD1046",), ("CG0176",))
def inclusion_not_met(dataset, ctx):
    f = dataset.frame
    if dataset.name.upper() != "IE" or "IECAT" not in f or "IESTRESC" not in f:
        return []
    bad = (text(f["IECAT"]) == "INCLUSION") & (text(f["IESTRESC"]) != "N")
    return findings_at(RULES["TF-RES-020"], dataset, bad, variable="IESTRESC")


@_rule("TF-RES-021", "LBTOXGR is not a numeric value when a numeric scale is used", ("SD1298",), ("CG0185",))
def toxgr_numeric(dataset, ctx):
    f = dataset.frame
    if dataset.name.upper() != "LB" or "LBTOXGR" not in f:
        return []
    g = text(f["LBTOXGR"])
    return findings_at(RULES["TF-RES-021"], dataset, (g != "") & ~g.str.fullmatch(r"[0-5]"), variable="LBTOXGR")


@_rule("TF-OCC-001", "--OCCUR is populated when --PRESP is null or --STAT is 'NOT DONE'", ("SD1467", "SD0041"),
       ("CG0087", "CG0089"))
def occur_only_prespecified(dataset, ctx):
    p = _p(dataset)
    f = dataset.frame
    if f"{p}OCCUR" not in f:
        return []
    presp = text(f[f"{p}PRESP"]) if f"{p}PRESP" in f else pd.Series("", index=f.index)
    stat = text(f[f"{p}STAT"]) if f"{p}STAT" in f else pd.Series("", index=f.index)
    bad = filled(f, f"{p}OCCUR") & ((presp != "Y") | (stat == "NOT DONE"))
    return findings_at(RULES["TF-OCC-001"], dataset, bad, variable=f"{p}OCCUR")


@_rule("TF-OCC-002", "--STAT does not equal 'NOT DONE' when --PRESP='Y' and --OCCUR is null", ("SD0042",),
       ("CG0081", "CG0086", "CG0404"))
def prespecified_answered(dataset, ctx):
    p = _p(dataset)
    f = dataset.frame
    if f"{p}PRESP" not in f or f"{p}OCCUR" not in f:
        return []
    stat = text(f[f"{p}STAT"]) if f"{p}STAT" in f else pd.Series("", index=f.index)
    bad = (text(f[f"{p}PRESP"]) == "Y") & ~filled(f, f"{p}OCCUR") & (stat != "NOT DONE")
    return findings_at(RULES["TF-OCC-002"], dataset, bad, variable=f"{p}STAT")


@_rule("TF-EX-002", "Both --DOSE and --DOSTXT values are populated", ("SD1047",), ("CG0110", "CG0111"))
def dose_and_text(dataset, ctx):
    cols = _cols(dataset, "DOSE", "DOSTXT")
    if not cols:
        return []
    return findings_at(RULES["TF-EX-002"], dataset, filled(dataset.frame, cols[0]) & filled(dataset.frame, cols[1]),
                       variable=cols[1])


@_rule("TF-EX-003", "EXDOSE does not equal 0 when EXTRT = 'PLACEBO'", ("SD1249",), ("CG0102",))
def placebo_dose(dataset, ctx):
    f = dataset.frame
    if dataset.name.upper() != "EX" or "EXTRT" not in f or "EXDOSE" not in f:
        return []
    placebo = str_test(text(f["EXTRT"]), lambda v: v.str.upper() == "PLACEBO")     # once per distinct treatment
    bad = placebo & (number(f["EXDOSE"]) != 0) & filled(f, "EXDOSE")
    return findings_at(RULES["TF-EX-003"], dataset, bad, variable="EXDOSE")


@_rule("TF-EX-004", "--VAMTU value is populated when --TRTV is null", ("SD1251",), ("CG0106", "CG0108"))
def vamtu_without_vehicle(dataset, ctx):
    p = _p(dataset)
    f = dataset.frame
    if f"{p}VAMTU" not in f:
        return []
    return findings_at(RULES["TF-EX-004"], dataset, filled(f, f"{p}VAMTU") & ~filled(f, f"{p}TRTV"), variable=f"{p}VAMTU")


@_rule("TF-TPT-001", "--RFTDTC is populated when --TPTREF is not populated", ("SD1238",), ("FDAB037", "CG0026"))
def rftdtc_needs_tptref(dataset, ctx):
    p = _p(dataset)
    f = dataset.frame
    if f"{p}RFTDTC" not in f:
        return []
    return findings_at(RULES["TF-TPT-001"], dataset, filled(f, f"{p}RFTDTC") & ~filled(f, f"{p}TPTREF"),
                       variable=f"{p}TPTREF", message=f"{p}RFTDTC is populated but {p}TPTREF is null")


@_rule("TF-CAT-001", "Values for --CAT and --SCAT are identical", ("SD1041",), ("CG0027",))
def cat_scat_identical(dataset, ctx):
    cols = _cols(dataset, "CAT", "SCAT")
    if not cols:
        return []
    c, s = text(dataset.frame[cols[0]]), text(dataset.frame[cols[1]])
    return findings_at(RULES["TF-CAT-001"], dataset, (c != "") & (c == s), variable=cols[1])
