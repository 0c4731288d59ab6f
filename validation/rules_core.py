"""Value-level conformance rules on one variable at a time (compiled into pandera checks).

A column rule returns the failing values (a ``ValueMask``: the verdict per distinct value, which the
direct path turns into records only where some fail; ``to_series()`` is the boolean mask), or None when it
does not apply to the variable; ``schema.py`` compiles the applicable ones into one pandera schema per dataset (check
name = rule id) and the runner evaluates the same functions directly on whole columns. ``var`` is
``ValidationContext.variable``: the standard's core/codelist merged with the package's own metadata.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .context import ValueMask, numeric, profile, value_mask
from .dates import duration_ok, iso8601_flags
from .registry import ADAM, RULES, SDTM, register


# ---- presence and type ---------------------------------------------------------------------------

@register("TF-VAL-001", "error", "Null value in variable marked as Required", p21=("SD0002", "AD0196"),
          publisher=("CG0014",), kind="column", category="Presence")
def required_populated(series, var, ctx):
    if var.core != "Req":
        return None
    prof = profile(series)
    return ValueMask(series, prof, prof.blank)      # missing (numeric too) or blank text: the "" entry


@register("TF-VAL-002", "error", "Numeric variable holds a non-numeric value", p21=("SD0055",),
          publisher=("CG0012",), kind="column", category="Format")
def numeric_type(series, var, ctx):
    if var.type != "Num" or numeric(series):
        return None
    return value_mask(series, lambda v: (v != "") & pd.to_numeric(v.where(v != ""), errors="coerce").isna())


# ---- controlled terminology ----------------------------------------------------------------------

def codelist_of(var, ctx):
    """The CT codelist that applies to ``var`` (union when SDTMIG lists several), or None.

    None when the variable has none, is numeric, or the codelist is not in the loaded CT (a
    subset CT cannot judge a codelist it does not hold; ``--ct`` loads a full NCI EVS file).
    """
    ref = var.codelist_code or var.codelist
    if not ref or ctx.ct is None or var.type == "Num":
        return None
    key = ("codelist", ref)
    cache = ctx._std_cache
    if key not in cache:
        try:
            cache[key] = ctx.ct.codelist(ref)
        except Exception:
            cache[key] = None
    return cache[key]


# Domains whose tests come from one codelist per instrument (ECOG TESTCD, ...), not only from the
# codelist SDTMIG names for the variable: a term of any loaded instrument codelist is acceptable.
INSTRUMENT_DOMAINS = ("RS", "QS", "FT")


def allowed_values(var, codelist, ctx) -> frozenset:
    name = var.name
    if name[:2] in INSTRUMENT_DOMAINS and name[2:] in ("TESTCD", "TEST"):
        key = (id(ctx.ct), name[2:], codelist.code)
        hit = _INSTRUMENT_VALUES.get(key)
        if hit is None or hit[0] is not ctx.ct or hit[1] is not codelist:
            suffix = name[2:]
            extra = {t.value for cl in getattr(ctx.ct, "codelists", ())
                     for t in cl.terms if (cl.short_name or "").replace(" ", "").endswith(suffix)
                     and not (suffix == "TEST" and (cl.short_name or "").endswith("TESTCD"))}
            if len(_INSTRUMENT_VALUES) >= 64:
                _INSTRUMENT_VALUES.clear()
            hit = _INSTRUMENT_VALUES[key] = (ctx.ct, codelist, frozenset(codelist.values | extra))
        return hit[2]
    return codelist.values


# (id of the CT, TEST/TESTCD, codelist code) -> (that CT, the codelist, allowed values): every gate and
# validation run of a process reads the same loaded CT, and gathering the instrument terms walks all of it
_INSTRUMENT_VALUES: dict = {}


def _not_in_codelist(series, codelist, var=None, ctx=None):
    if numeric(series):
        return None
    values = allowed_values(var, codelist, ctx) if var is not None else codelist.values
    prof = profile(series)
    texts = prof.texts
    return ValueMask(series, prof, np.fromiter((v != "" and v not in values for v in texts), dtype=bool,
                                               count=len(texts)))


@register("TF-CT-001", "error", "Variable value not found in non-extensible codelist", p21=("CT2001",),
          publisher=("FDAB017", "CG0085"), kind="column", category="Terminology")
def ct_non_extensible(series, var, ctx):
    codelist = codelist_of(var, ctx)
    if codelist is None or codelist.extensible:
        return None
    return _not_in_codelist(series, codelist, var, ctx)


@register("TF-CT-002", "warning", "Variable value not found in extensible codelist", p21=("CT2002",),
          publisher=("FDAB017", "CG0020"), kind="column", category="Terminology")
def ct_extensible(series, var, ctx):
    codelist = codelist_of(var, ctx)
    if codelist is None or not codelist.extensible:
        return None
    return _not_in_codelist(series, codelist, var, ctx)


# ---- ISO 8601 --------------------------------------------------------------------------------------

@register("TF-DT-001", "error", "Invalid ISO 8601 value for variable", p21=("SD0003",), scope=SDTM, kind="column",
          category="Format")
def iso8601_value(series, var, ctx):
    if not (var.name.endswith("DTC") and var.type == "Char") or numeric(series):
        return None
    prof = profile(series)
    return ValueMask(series, prof, ~prof.flags("iso8601", iso8601_flags))


@register("TF-DT-006", "error", "Invalid ISO 8601 duration value for variable", p21=("SD1011",), scope=SDTM,
          kind="column", category="Format")
def iso8601_duration(series, var, ctx):
    if not (var.name.endswith(("DUR", "ELTM", "EVLINT", "EVINTX")) and len(var.name) > 3) \
            or var.type != "Char" or numeric(series):
        return None
    if var.name.endswith("EVINTX"):      # free text ("LIFETIME") by design
        return None
    return ~value_mask(series, duration_ok)


# ---- XPT v5 value limits --------------------------------------------------------------------------

@register("TF-XPT-001", "error", "Character value longer than 200 bytes (XPT v5 limit)", kind="column",
          publisher=("FDAB018",), category="Limit")
def value_length(series, var, ctx):
    if numeric(series):
        return None
    prof = profile(series)
    return ValueMask(series, prof, prof.nbytes > 200)


@register("TF-XPT-002", "error", "Non-ASCII or non-printable characters in variable", p21=("SD1029",),
          kind="column", category="Format")
def ascii_value(series, var, ctx):
    if numeric(series):
        return None
    prof = profile(series)
    return ValueMask(series, prof, ~prof.printable_ascii)


COLUMN_RULES = [r for r in RULES.values() if r.kind == "column"]
__all__ = ["COLUMN_RULES", "codelist_of", "ADAM"]
