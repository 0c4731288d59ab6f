"""Core conformance rules: variable values, structure, keys, and cross-dataset consistency.

Column rules return a boolean mask of failing values (or None when they do not apply to the
variable); the schema builder compiles them into pandera checks. Dataset and study rules return
Findings. All are vectorised over whole columns.
"""
from __future__ import annotations

import pandas as pd

from ..sdtm.dates import is_iso8601, study_day
from .context import findings_at, seq_var
from .registry import ADAM, RULES, SDTM, register


def _blank(series: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(series):
        return series.isna()
    return series.isna() | (series.astype(str).str.strip() == "")


# ---- column rules (compiled into pandera schemas) ---------------------------------------------

@register("TF-VAL-001", "error", "Null value in variable marked as Required", p21=("SD0002",),
          publisher=("CG0014",), kind="column")
def required_populated(series, var, ctx):
    if var.core != "Req":
        return None
    return _blank(series)


@register("TF-VAL-002", "error", "Numeric variable holds a non-numeric value", kind="column")
def numeric_type(series, var, ctx):
    if var.type != "Num" or pd.api.types.is_numeric_dtype(series):
        return None
    text = series.astype(str).str.strip()
    return (text != "") & pd.to_numeric(text.where(text != ""), errors="coerce").isna()


def _codelist(var, ctx):
    ref = var.codelist_code or var.codelist
    if not ref or ctx.ct is None:
        return None
    try:
        return ctx.ct.codelist(ref)
    except Exception:
        return None


def _not_in_codelist(series, codelist):
    text = series.astype(str).str.strip()
    return ~_blank(series) & ~text.isin(codelist.values)


@register("TF-CT-001", "error", "Variable value not found in non-extensible codelist", p21=("CT2001",),
          publisher=("FDAB017",), kind="column")
def ct_non_extensible(series, var, ctx):
    codelist = _codelist(var, ctx)
    if codelist is None or codelist.extensible or var.type == "Num":
        return None
    return _not_in_codelist(series, codelist)


@register("TF-CT-002", "warning", "Variable value not found in extensible codelist", p21=("CT2002",),
          publisher=("FDAB017",), kind="column")
def ct_extensible(series, var, ctx):
    codelist = _codelist(var, ctx)
    if codelist is None or not codelist.extensible or var.type == "Num":
        return None
    return _not_in_codelist(series, codelist)


@register("TF-DT-001", "error", "Invalid ISO 8601 value for variable", p21=("SD0003",), scope=SDTM, kind="column")
def iso8601_value(series, var, ctx):
    if not (var.name.endswith("DTC") and var.type == "Char"):
        return None
    return ~is_iso8601(series)


@register("TF-XPT-001", "error", "Character value longer than 200 bytes (XPT v5 limit)", kind="column")
def value_length(series, var, ctx):
    if pd.api.types.is_numeric_dtype(series):
        return None
    return series.astype(str).map(lambda v: len(v.encode("utf-8"))) > 200


@register("TF-XPT-002", "error", "Non-ASCII or non-printable characters in variable", p21=("SD1029",),
          kind="column")
def ascii_value(series, var, ctx):
    if pd.api.types.is_numeric_dtype(series):
        return None
    return ~series.astype(str).str.fullmatch(r"[\x20-\x7E]*").fillna(True)


COLUMN_RULES = [r for r in RULES.values() if r.kind == "column"]


# ---- dataset rules -----------------------------------------------------------------------------

@register("TF-STR-001", "error", "Required variable not found", p21=("SD0056",), publisher=("CG0014",))
def required_present(dataset, ctx):
    rule = RULES["TF-STR-001"]
    std = _standard_meta(dataset, ctx)
    if std is None:
        return []
    present = set(dataset.frame.columns)
    return [rule.finding(dataset.name, variable=v.name, message=f"Required variable {v.name} not found")
            for v in std.variables if v.core == "Req" and v.name not in present]


@register("TF-STR-002", "warning", "Expected variable not found", p21=("SD0057",), scope=SDTM)
def expected_present(dataset, ctx):
    rule = RULES["TF-STR-002"]
    std = _standard_meta(dataset, ctx)
    if std is None:
        return []
    present = set(dataset.frame.columns)
    return [rule.finding(dataset.name, variable=v.name, message=f"Expected variable {v.name} not found")
            for v in std.variables if v.core == "Exp" and v.name not in present]


def _standard_meta(dataset, ctx):
    try:
        return ctx.standard.dataset(dataset.name)
    except Exception:
        return None


@register("TF-XPT-003", "error", "Variable name longer than 8 characters or not a SAS name")
def variable_names(dataset, ctx):
    rule = RULES["TF-XPT-003"]
    bad = [c for c in dataset.frame.columns
           if len(c) > 8 or not c[:1].isalpha() or not c.replace("_", "").isalnum() or not c.isascii()]
    return [rule.finding(dataset.name, variable=c, value=c) for c in bad]


@register("TF-XPT-004", "error", "Variable label longer than 40 characters or not ASCII")
def variable_labels(dataset, ctx):
    rule = RULES["TF-XPT-004"]
    return [rule.finding(dataset.name, variable=v.name, value=v.label)
            for v in dataset.meta.variables if v.name in dataset.frame.columns
            and (len(v.label or "") > 40 or not (v.label or "").isascii())]


@register("TF-XPT-005", "error", "Dataset name longer than 8 characters or dataset label missing/longer than 40")
def dataset_name_label(dataset, ctx):
    rule = RULES["TF-XPT-005"]
    name, label = dataset.meta.name, dataset.meta.label or ""
    if len(name) > 8 or not name.isalnum() or not label or len(label) > 40 or not label.isascii():
        return [rule.finding(dataset.name, value=f"{name}: {label}")]
    return []


@register("TF-SEQ-001", "error", "Duplicate value for --SEQ variable", p21=("SD0005",), publisher=("CG0028",),
          scope=SDTM)
def seq_unique(dataset, ctx):
    sv = seq_var(dataset)
    if sv is None or "USUBJID" not in dataset.frame:
        return []
    frame = dataset.frame
    dup = frame.duplicated(["USUBJID", sv], keep="first") & frame[sv].notna()
    return findings_at(RULES["TF-SEQ-001"], dataset, dup, variable=sv)


@register("TF-KEY-001", "warning", "Duplicate records per key variables", p21=("SD1152",), publisher=("CG0019",))
def keys_unique(dataset, ctx):
    keys = [k for k in dataset.meta.keys if k in dataset.frame.columns]
    if not keys:
        return []
    dup = dataset.frame.duplicated(keys, keep="first")
    message = f"Duplicate records for keys {', '.join(keys)}"
    values = dataset.frame[keys].astype(str).agg("|".join, axis=1)
    return findings_at(RULES["TF-KEY-001"], dataset, dup, values=values, message=message)


@register("TF-DM-001", "error", "Duplicate USUBJID in DM", p21=("SD0083",), publisher=("CG0151",), scope=SDTM,
          domains=("DM",))
def dm_one_record_per_subject(dataset, ctx):
    if "USUBJID" not in dataset.frame:
        return []
    dup = dataset.frame.duplicated(["USUBJID"], keep="first")
    return findings_at(RULES["TF-DM-001"], dataset, dup, variable="USUBJID")


@register("TF-DY-001", "error", "Value of Study Day variable equals 0", p21=("SD0038",), scope=SDTM)
def study_day_zero(dataset, ctx):
    out = []
    for col in dataset.frame.columns:
        if col.endswith("DY") and col[:-2] and pd.api.types.is_numeric_dtype(dataset.frame[col]) \
                and dataset.name.upper() not in ("TV", "TA", "TE", "TI", "TS"):
            out += findings_at(RULES["TF-DY-001"], dataset, dataset.frame[col] == 0, variable=col)
    return out


# ---- study (cross-dataset) rules ---------------------------------------------------------------

@register("TF-REF-001", "error", "Subject is not present in DM domain", p21=("SD0064",), publisher=("CG0029",),
          scope=SDTM, kind="study")
def subjects_in_dm(ctx):
    dm = ctx.get("DM")
    if dm is None or "USUBJID" not in dm.frame:
        return []
    known = set(dm.frame["USUBJID"].astype(str))
    out = []
    for ds in ctx.datasets.values():
        if ds.name == "DM" or "USUBJID" not in ds.frame:
            continue
        subj = ds.frame["USUBJID"].astype(str)
        missing = ~subj.isin(known) & (subj.str.strip() != "")
        out += findings_at(RULES["TF-REF-001"], ds, missing, variable="USUBJID")
    return out


@register("TF-DY-002", "error", "Incorrect value for --DY variable (vs --DTC and DM.RFSTDTC)", p21=("SD1086",),
          publisher=("CG0006",), scope=SDTM, kind="study")
def study_day_consistent(ctx):
    dm = ctx.get("DM")
    if dm is None or "RFSTDTC" not in dm.frame:
        return []
    ref_by_subject = dm.frame.drop_duplicates("USUBJID").set_index("USUBJID")["RFSTDTC"]
    out = []
    for ds in ctx.datasets.values():
        frame = ds.frame
        if "USUBJID" not in frame:
            continue
        for col in frame.columns:
            if not col.endswith("DY") or not pd.api.types.is_numeric_dtype(frame[col]):
                continue
            dtc = col[:-2] + "DTC"
            if dtc not in frame:
                continue
            ref = frame["USUBJID"].map(ref_by_subject)
            expected = study_day(frame[dtc], ref)
            actual = frame[col]
            wrong = (expected.notna() & (actual.isna() | (actual != expected))) | (expected.isna() & actual.notna()
                                                                                   & (frame[dtc].astype(str).str.len() >= 10)
                                                                                   & ref.fillna("").astype(str).str.len().ge(10))
            out += findings_at(RULES["TF-DY-002"], ds, wrong, variable=col,
                               message=f"{col} does not equal the study day of {dtc} relative to DM.RFSTDTC")
    return out
