"""ADaM rules: ADSL one row per subject, BDS structure and parameters, time-to-event censoring,
numeric dates with date formats, flag values, and ADSL variables copied consistently."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from .context import (blank, findings_at, group_codes, profile, series_of, text, text_in, text_is, text_match,
                      unknown_subjects)
from .registry import ADAM, RULES, register

POPULATION_FLAGS = ("SAFFL", "ITTFL", "FASFL", "PPROTFL", "COMPLFL", "RANDFL", "ENRLFL")
# flags ADaMIG defines as Y or null (no N)
Y_ONLY_FLAG = re.compile(r"^(ABLFL|ANL[0-9]{2}FL|ONTRTFL|AOCC[A-Z0-9]*FL)$")
DATE_FORMATS = ("DATE", "YYMMDD", "E8601DA", "IS8601DA", "MMDDYY", "DDMMYY", "B8601DA", "NLDATE", "WORDDATE",
                "MONYY", "DAY", "WEEKDATE", "YYMMDDN")
DATETIME_FORMATS = ("DATETIME", "E8601DT", "IS8601DT", "B8601DT", "NLDATM", "DATEAMPM", "MDYAMPM")
TIME_FORMATS = ("TIME", "TOD", "E8601TM", "IS8601TM", "B8601TM", "HHMM", "HOUR", "NLTIME")


def _is_adsl(dataset) -> bool:
    return dataset.name.upper() == "ADSL"


def _is_bds(dataset, ctx) -> bool:
    if _is_adsl(dataset):
        return False
    std = ctx.standard_dataset(dataset.name)
    structure = (getattr(std, "structure", "") or "") if std is not None else ""
    return "PARAMCD" in dataset.frame.columns or structure in ("BDS", "TTE")


def _kind_of(name: str) -> str | None:
    """'DT' / 'DTM' / 'TM' for ADaM timing variable names (*DT, *DTM, *TM)."""
    if name.endswith("DTM"):
        return "DTM"
    if name.endswith("DT") and len(name) > 2:
        return "DT"
    if name.endswith("TM") and len(name) > 2 and not name.endswith(("RELTM", "ELTM")):
        return "TM"
    return None


@register("TF-ADSL-001", "error", "ADSL has more than one record per subject", p21=("AD0054",), scope=ADAM,
          domains=("ADSL",), classes=("ADSL",), category="Consistency")
def adsl_one_row_per_subject(dataset, ctx):
    if "USUBJID" not in dataset.frame:
        return []
    return findings_at(RULES["TF-ADSL-001"], dataset, dataset.frame.duplicated(["USUBJID"], keep="first"),
                       variable="USUBJID")


@register("TF-ADSL-002", "error", "Missing ADSL dataset", p21=("AD0001",), scope=ADAM, kind="study",
          classes=("ADSL",), category="Presence")
def adsl_present(ctx):
    if ctx.get("ADSL") is not None:
        return []
    return [RULES["TF-ADSL-002"].finding("ADSL", message="an ADaM package must include ADSL")]


@register("TF-ADSL-003", "error", "USUBJID value does not exist in ADSL", p21=("AD0256",), scope=ADAM, kind="study",
          classes=("BDS", "OCCDS"), category="Cross-reference")
def subjects_in_adsl(ctx):
    adsl = ctx.get("ADSL")
    if adsl is None or "USUBJID" not in adsl.frame:
        return []
    known = set(text(adsl.frame["USUBJID"]))
    out = []
    for ds in ctx.datasets.values():
        if _is_adsl(ds) or "USUBJID" not in ds.frame:
            continue
        out += findings_at(RULES["TF-ADSL-003"], ds, unknown_subjects(ds.frame["USUBJID"], known), variable="USUBJID")
    return out


@register("TF-ADSL-004", "error", "ADSL variable in a BDS/OCCDS dataset differs from its ADSL value",
          p21=("AD0868", "AD0873", "AD0813", "AD0818", "AD0823", "AD0803"), scope=ADAM, kind="study",
          classes=("BDS", "OCCDS"), category="Consistency")
def adsl_copies_consistent(ctx):
    """A variable a BDS/OCCDS dataset shares with ADSL is ADSL's value for that subject, unchanged."""
    adsl = ctx.get("ADSL")
    if adsl is None or "USUBJID" not in adsl.frame:
        return []
    frame = adsl.frame
    first = np.flatnonzero(~frame.duplicated("USUBJID").to_numpy())
    subjects = pd.Index(frame["USUBJID"].to_numpy()[first])
    out = []
    for ds in ctx.datasets.values():
        if _is_adsl(ds) or "USUBJID" not in ds.frame:
            continue
        shared = [c for c in ds.frame.columns if c in frame.columns and c not in ("STUDYID", "USUBJID")]
        if not shared:
            continue
        pos = _subject_rows(subjects, ds.frame["USUBJID"])   # the subject's ADSL row, -1 when unknown
        known = pos >= 0
        rows = []         # each record's ADSL row as an Arrow array, made once for all shared text columns
        for col in shared:
            out += _adsl_copy_findings(ds, col, frame[col], first, pos, known, rows)
    return out


def _adsl_copy_findings(ds, col, adsl_col, first, pos, known, rows=None):
    """Records of ``ds`` whose ``col`` is not the ADSL value of their subject (compared on distinct
    (value, ADSL value) pairs; the text of both is built only when something is reported)."""
    mine = ds.frame[col]
    if pd.api.types.is_numeric_dtype(mine) and pd.api.types.is_numeric_dtype(adsl_col):
        a = mine.astype(float).to_numpy()
        b = np.where(known, adsl_col.astype(float).to_numpy()[first][pos], np.nan)
        both_nan = np.isnan(a) & np.isnan(b)
        if ((a == b) | both_nan | ~known).all():     # exact copies (the usual case): nothing can differ
            return []
        bad = known & ~(both_nan | np.isclose(a, b, rtol=1e-12, atol=0, equal_nan=False))
    elif _same_raw_text(mine, adsl_col, first, pos, known, rows):
        return []
    else:
        mp, ap = profile(mine), profile(adsl_col)
        ref_codes = np.where(known, ap.codes[first][pos], ap.width - 1)
        width = ap.width
        inverse, pairs = pd.factorize(mp.codes.astype(np.int64) * width + ref_codes)
        differ = mp.texts[pairs // width] != ap.texts[pairs % width]
        bad = known & differ[inverse]
    if not bad.any():
        return []

    def shown():
        ap = profile(adsl_col)
        ref_codes = np.where(known, ap.codes[first][pos], ap.width - 1)
        ref = pd.Series(ap.values.to_numpy()[ref_codes], index=mine.index, dtype=object)
        return text(mine) + " (ADSL: " + ref + ")"
    return findings_at(RULES["TF-ADSL-004"], ds, pd.Series(bad, index=mine.index), variable=col, values=shown,
                       message=f"{col} differs from ADSL.{col} for the subject")


def _subject_rows(subjects: pd.Index, usubjid: pd.Series) -> np.ndarray:
    """``subjects.get_indexer(usubjid)``, looked up once per distinct USUBJID (one record of each stands for
    all records holding its value) and spread to the records by the column's profile codes."""
    prof = profile(usubjid)
    codes = prof.codes
    if len(codes) < 4 * prof.width:
        return subjects.get_indexer(usubjid)
    stand_in = np.full(prof.width, -1, dtype=np.int64)
    stand_in[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)      # the first record of each value
    present = np.flatnonzero(stand_in >= 0)
    per_value = np.full(prof.width, -1, dtype=np.int64)
    per_value[present] = subjects.get_indexer(usubjid.iloc[stand_in[present]])
    return per_value[codes]


def _same_raw_text(mine, adsl_col, first, pos, known, rows=None) -> bool:
    """True when both columns are Arrow text of one type and every record of a known subject holds exactly
    (byte for byte, or both null) its subject's ADSL value: then no record can differ in trimmed text either.
    False means "not known" (another kind of column, or some raw value differs): judge by the profiles.

    Why: the copies of ADSL variables are nearly always exact, and comparing the raw values in Arrow costs a
    fraction of dictionary-encoding a 1.7-million-record copy (what a profile does) for each shared column."""
    data, ref = getattr(mine._values, "_pa_array", None), getattr(adsl_col._values, "_pa_array", None)
    if data is None or ref is None or data.type != ref.type:
        return False
    import pyarrow as pa
    if not (pa.types.is_string(data.type) or pa.types.is_large_string(data.type)):
        return False
    if rows is None:
        rows = []
    if not rows:             # the same for every column of the dataset (``rows``: the caller's memo)
        rows.append(pa.array(np.where(known, first[np.maximum(pos, 0)], 0)))
        rows.append(_subject_runs(pos, known))
    if rows[1] is not None:
        return _same_by_runs(data, ref, first, pos, rows[1])
    return _same_by_take(data, ref, known, rows[0])


def _subject_runs(pos: np.ndarray, known: np.ndarray):
    """(first record of each run of records of one subject, which records continue a run) when every subject
    is known and runs are long (records sorted or grouped by subject: ADaM's order), else None."""
    if not len(pos) or not known.all():
        return None
    continues = pos[1:] == pos[:-1]
    starts = np.flatnonzero(np.r_[True, ~continues])
    return (starts, continues) if len(starts) * 4 <= len(pos) else None


def _same_values(a, b):
    """Per position: equal, or both null (Arrow arrays of one text type, same length)."""
    import pyarrow.compute as pc
    if not a.null_count and not b.null_count:
        return pc.equal(a, b)
    return pc.or_(pc.fill_null(pc.equal(a, b), False), pc.and_(pc.is_null(a), pc.is_null(b)))


def _same_by_runs(data, ref, first, pos, runs) -> bool:
    """``_same_by_take`` for records in runs of one subject without gathering ADSL's text per record: every record
    that continues a run holds what the record before it holds, and the first record of each run its subject's
    ADSL value (then every record of the run does)."""
    import pyarrow as pa
    starts, continues = runs
    n = len(data)
    if n > 1:
        adjacent = _bools(_same_values(data.slice(1), data.slice(0, n - 1)))
        if not (adjacent | ~continues).all():
            return False
    heads = pa.array(starts)
    return bool(_bools(_same_values(data.take(heads), ref.take(pa.array(first[pos[starts]])))).all())


def _same_by_take(data, ref, known, rows) -> bool:
    """Every record of a known subject holds exactly its subject's ADSL value (ADSL's text gathered per record)."""
    import pyarrow.compute as pc
    same = _same_values(data, ref.take(rows))
    if known.all():
        return bool(pc.all(same).as_py()) if len(same) else True
    return bool((_bools(same) | ~known).all())


def _bools(same) -> np.ndarray:
    """An Arrow boolean Array or ChunkedArray (no nulls) as numpy."""
    import pyarrow as pa
    if isinstance(same, pa.Array):
        return np.asarray(same.to_numpy(zero_copy_only=False), dtype=bool)
    if not same.num_chunks:
        return np.zeros(0, dtype=bool)
    return np.concatenate([np.asarray(c.to_numpy(zero_copy_only=False), dtype=bool) for c in same.chunks])


@register("TF-ADSL-005", "error", "Subject-population flag value is null", p21=("AD0019", "AD0026"), scope=ADAM,
          domains=("ADSL",), classes=("ADSL",), category="Presence")
def population_flags_populated(dataset, ctx):
    out = []
    for col in POPULATION_FLAGS:
        if col in dataset.frame:
            out += findings_at(RULES["TF-ADSL-005"], dataset, blank(dataset.frame[col]), variable=col)
    return out


# ---- BDS -----------------------------------------------------------------------------------------

@register("TF-BDS-001", "error", "BDS dataset lacks PARAMCD/PARAM or both AVAL and AVALC", p21=("AD0198", "AD0047"),
          scope=ADAM, classes=("BDS",), category="Presence")
def bds_structure(dataset, ctx):
    if not _is_bds(dataset, ctx):
        return []
    cols = set(dataset.frame.columns)
    missing = [v for v in ("PARAMCD", "PARAM") if v not in cols]
    if not ({"AVAL", "AVALC"} & cols):
        missing.append("AVAL/AVALC")
    return [RULES["TF-BDS-001"].finding(dataset.name, variable=m, value=m,
                                         message=f"BDS dataset without {m}") for m in missing]


@register("TF-BDS-002", "error", "PARAMCD and PARAM are not one-to-one", p21=("AD0141", "AD0142"), scope=ADAM,
          classes=("BDS",), category="Consistency")
def param_one_to_one(dataset, ctx):
    f = dataset.frame
    if "PARAMCD" not in f or "PARAM" not in f:
        return []
    # distinct trimmed texts as integers, then distinct (code, name) pairs: how many names each code has
    # and how many codes each name has ("" counts as a value, as it does for text columns)
    c, nc = _text_ids(f["PARAMCD"])
    n, nn = _text_ids(f["PARAM"])
    pairs = np.unique(c * nn + n)
    names_per_code = np.bincount(pairs // nn, minlength=nc)
    codes_per_name = np.bincount(pairs % nn, minlength=nn)
    bad = (names_per_code[c] > 1) | (codes_per_name[n] > 1)
    return findings_at(RULES["TF-BDS-002"], dataset, series_of(bad, f.index), variable="PARAM",
                       values=lambda: text(f["PARAMCD"]) + " / " + text(f["PARAM"]))


def _text_ids(series) -> tuple[np.ndarray, int]:
    """(per record, an integer naming its trimmed text; how many distinct texts): two raw values that trim
    to the same text get the same integer."""
    prof = profile(series)
    ids, uniques = pd.factorize(prof.texts)
    return ids.astype(np.int64)[prof.codes], max(len(uniques), 1)


@register("TF-BDS-003", "error", "Illegal PARAMCD value (at most 8 characters, letter first, letters/digits/_)",
          p21=("AD0143",), scope=ADAM, classes=("BDS",), category="Format")
def paramcd_name(dataset, ctx):
    if "PARAMCD" not in dataset.frame:
        return []
    code = text(dataset.frame["PARAMCD"])
    bad = (code != "") & ~text_match(code, r"[A-Za-z][A-Za-z0-9_]{0,7}", full=True)
    return findings_at(RULES["TF-BDS-003"], dataset, bad, variable="PARAMCD")


@register("TF-BDS-004", "error", "Multiple baseline records for a USUBJID, PARAMCD, BASETYPE", p21=("AD0154",),
          scope=ADAM, classes=("BDS",), category="Consistency")
def one_baseline(dataset, ctx):
    f = dataset.frame
    if "ABLFL" not in f or "PARAMCD" not in f or "USUBJID" not in f:
        return []
    keys = [k for k in ("USUBJID", "PARAMCD", "BASETYPE") if k in f]
    # ``f[ABLFL == "Y"].duplicated(keys)`` on the keys' distinct-value codes (no copy of every column)
    base = np.flatnonzero(text_is(f["ABLFL"], "Y"))
    dup = np.zeros(len(f), dtype=bool)
    dup[base[pd.Index(group_codes(f, keys)[base]).duplicated(keep="first")]] = True
    return findings_at(RULES["TF-BDS-004"], dataset, series_of(dup, f.index), variable="ABLFL")


@register("TF-BDS-005", "error", "Calculation issue: CHG != AVAL - BASE (or PCHG != CHG / BASE * 100)",
          p21=("AD0223", "AD0225"), scope=ADAM, classes=("BDS",), category="Consistency")
def change_from_baseline(dataset, ctx):
    f = dataset.frame
    out = []
    if not {"AVAL", "BASE"} <= set(f.columns):
        return out
    aval, base = pd.to_numeric(f["AVAL"], errors="coerce"), pd.to_numeric(f["BASE"], errors="coerce")
    if "CHG" in f:
        chg = pd.to_numeric(f["CHG"], errors="coerce")
        want = aval - base
        bad = chg.notna() & want.notna() & ~np.isclose(chg, want, rtol=1e-6, atol=1e-9)
        out += findings_at(RULES["TF-BDS-005"], dataset, bad, variable="CHG")
    if "PCHG" in f:
        pchg = pd.to_numeric(f["PCHG"], errors="coerce")
        want = (aval - base) / base.where(base != 0) * 100
        bad = pchg.notna() & want.notna() & ~np.isclose(pchg, want, rtol=1e-4, atol=1e-6)
        out += findings_at(RULES["TF-BDS-005"], dataset, bad, variable="PCHG",
                           message="Calculation issue: PCHG != (AVAL - BASE) / BASE * 100")
    return out


@register("TF-BDS-006", "error", "ABLFL = Y, but BASE != AVAL", p21=("AD0152",), scope=ADAM, classes=("BDS",),
          category="Consistency")
def baseline_record_value(dataset, ctx):
    f = dataset.frame
    if not {"ABLFL", "AVAL", "BASE"} <= set(f.columns):
        return []
    baseline = np.flatnonzero(text_is(f["ABLFL"], "Y"))
    if not len(baseline):
        return []
    # judged on the baseline records only (the same element-wise test; the others cannot fail)
    aval = pd.to_numeric(f["AVAL"], errors="coerce").iloc[baseline]
    base = pd.to_numeric(f["BASE"], errors="coerce").iloc[baseline]
    differs = ~((aval.isna() & base.isna()) | np.isclose(aval, base, rtol=1e-12)).to_numpy(dtype=bool)
    bad = np.zeros(len(f), dtype=bool)
    bad[baseline[differs]] = True
    return findings_at(RULES["TF-BDS-006"], dataset, series_of(bad, f.index), variable="BASE")


# ---- time to event -------------------------------------------------------------------------------

@register("TF-TTE-001", "error", "CNSR is not an integer >= 0", p21=("AD0169",), scope=ADAM, classes=("TTE",),
          category="Terminology")
def cnsr_values(dataset, ctx):
    if "CNSR" not in dataset.frame:
        return []
    c = pd.to_numeric(dataset.frame["CNSR"], errors="coerce")
    bad = ~blank(dataset.frame["CNSR"]) & (c.isna() | (c < 0) | (c != np.floor(c.fillna(0))))
    return findings_at(RULES["TF-TTE-001"], dataset, bad, variable="CNSR")


@register("TF-TTE-002", "warning", "CNSR is populated, but AVAL, STARTDT or ADT is not", p21=("AD0247",),
          scope=ADAM, classes=("TTE",), category="Presence")
def tte_record_complete(dataset, ctx):
    f = dataset.frame
    if "CNSR" not in f:
        return []
    has = ~blank(f["CNSR"])
    lacking = pd.Series(False, index=f.index)
    for col in ("AVAL", "STARTDT"):
        lacking |= blank(f[col]) if col in f else True
    date_cols = [c for c in ("ADT", "ADTM") if c in f]
    lacking |= pd.concat([blank(f[c]) for c in date_cols], axis=1).all(axis=1) if date_cols else True
    return findings_at(RULES["TF-TTE-002"], dataset, has & lacking, variable="CNSR")


# ---- dates, flags -----------------------------------------------------------------------------------

@register("TF-AD-001", "error", "*DT, *DTM or *TM variable is not numeric", p21=("AD0058", "AD0059", "AD0060"),
          scope=ADAM, category="Format")
def timing_numeric(dataset, ctx):
    out = []
    for col in dataset.frame.columns:
        if _kind_of(col) and not pd.api.types.is_numeric_dtype(dataset.frame[col]):
            own = dataset.meta.variable(col)
            if own is not None and own.type == "Num":
                continue
            out.append(RULES["TF-AD-001"].finding(dataset.name, variable=col, value="Char",
                                                  message=f"{col} must be a numeric SAS date/time"))
    return out


@register("TF-AD-002", "error", "*DT/*DTM/*TM variable lacks a SAS date, datetime or time format",
          p21=("AD0041", "AD0041A", "AD0042", "AD0042A", "AD0043", "AD0043A"), scope=ADAM, category="Format")
def timing_format(dataset, ctx):
    allowed = {"DT": DATE_FORMATS, "DTM": DATETIME_FORMATS, "TM": TIME_FORMATS}
    out = []
    for var in dataset.meta.variables:
        kind = _kind_of(var.name)
        if kind is None or var.name not in dataset.frame or not pd.api.types.is_numeric_dtype(dataset.frame[var.name]):
            continue
        fmt = re.sub(r"[0-9.]+$", "", (var.format or "").upper())
        if fmt not in allowed[kind]:
            out.append(RULES["TF-AD-002"].finding(
                dataset.name, variable=var.name, value=var.format or "",
                message=f"{var.name} has {'no format' if not var.format else 'format ' + var.format}; "
                        f"a {kind} variable needs a SAS {'date' if kind == 'DT' else 'datetime' if kind == 'DTM' else 'time'} format"))
    return out


def _flag_cols(dataset, suffix):
    return [c for c in dataset.frame.columns if c.endswith(suffix) and len(c) > len(suffix)]


@register("TF-AD-003", "error", "*FL value is not Y, N or null", p21=("AD0005B",), scope=ADAM, category="Terminology")
def flag_values(dataset, ctx):
    out = []
    for col in _flag_cols(dataset, "FL"):
        if Y_ONLY_FLAG.match(col):
            continue
        bad = ~text_in(dataset.frame[col], ("Y", "N", ""))
        out += findings_at(RULES["TF-AD-003"], dataset, series_of(bad, dataset.frame.index), variable=col)
    return out


@register("TF-AD-004", "error", "Flag value is not Y or null (ABLFL, ANLzzFL, ONTRTFL, AOCC*FL)",
          p21=("AD0176", "AD0178", "AD0269"), scope=ADAM, category="Terminology")
def y_only_flags(dataset, ctx):
    out = []
    for col in dataset.frame.columns:
        if Y_ONLY_FLAG.match(col):
            bad = ~text_in(dataset.frame[col], ("Y", ""))
            out += findings_at(RULES["TF-AD-004"], dataset, series_of(bad, dataset.frame.index), variable=col)
    return out


@register("TF-AD-005", "error", "*FN value is not 0, 1 or null", p21=("AD0006B",), scope=ADAM, category="Terminology")
def numeric_flag_values(dataset, ctx):
    out = []
    for col in _flag_cols(dataset, "FN"):
        v = pd.to_numeric(dataset.frame[col], errors="coerce")
        bad = ~blank(dataset.frame[col]) & ~v.isin([0, 1])
        out += findings_at(RULES["TF-AD-005"], dataset, bad, variable=col)
    return out


@register("TF-AD-006", "warning", "*SDT is after *EDT (start after end)", p21=("AD0121", "AD0792", "AD0361", "AD0122"),
          scope=ADAM, category="Consistency")
def start_after_end_numeric(dataset, ctx):
    f = dataset.frame
    pairs = [(c, c[:-3] + "EDT") for c in f.columns if c.endswith("SDT") and c[:-3] + "EDT" in f]
    pairs += [(c, c[:-4] + "EDTM") for c in f.columns if c.endswith("SDTM") and c[:-4] + "EDTM" in f]
    pairs += [(s, e) for s, e in (("ASTDT", "AENDT"), ("ASTDTM", "AENDTM")) if s in f and e in f]
    out = []
    for s, e in pairs:
        a, b = pd.to_numeric(f[s], errors="coerce"), pd.to_numeric(f[e], errors="coerce")
        out += findings_at(RULES["TF-AD-006"], dataset, a > b, variable=s, values=lambda: a.astype(str) + " > " + b.astype(str),
                           message=f"{s} is after {e}")
    return out
