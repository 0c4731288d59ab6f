"""Timing against the subject's reference dates: every --STDTC/--DTC/--ENDTC against DM's
RFICDTC, RFSTDTC, RFXSTDTC/RFXENDTC, RFPENDTC and DTHDTC, fatal events against the death date, and
events against the last disposition date. Dates compare at their common precision, so a partial
date never proves an order it cannot show.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .context import findings_at, profile, series_of, text
from .dates import after, complete_date, same_at_precision, seed
from .families import expand, filled, in_scope
from .registry import RULES, SDTM, register

W = "warning"
HISTORY = ("MH", "CM", "PR", "SU")   # may start before consent or treatment by design


def dm_value(ctx, dataset, var) -> pd.Series | None:
    """DM.var for each record of ``dataset`` (by USUBJID), or None when DM or the variable is absent."""
    dm = ctx.get("DM")
    if dm is None or var not in dm.frame or "USUBJID" not in dm.frame or "USUBJID" not in dataset.frame:
        return None
    key = ("dmref", var)
    if key not in ctx._std_cache:
        frame = dm.frame.drop_duplicates("USUBJID")
        ctx._std_cache[key] = pd.Series(text(frame[var]).to_numpy(), index=text(frame["USUBJID"]).to_numpy())
    rec_key = ("dmref-records", dataset.name, var, id(dataset.frame))
    if rec_key not in ctx._std_cache:
        ref = ctx._std_cache[key]
        subjects = dataset.frame["USUBJID"]
        if ref.index.is_unique and _is_text(subjects):
            # the subjects' shared profile (distinct trimmed USUBJIDs, the last entry standing for missing)
            # points into DM's values, whose dates are parsed once for every dataset (``dates.seed``)
            memo = _dm_texts(ctx, var, ref)
            lookup, miss = memo["lookup"], len(memo["texts"]) - 1
            prof = profile(subjects)
            pos = np.fromiter((lookup.get(t, miss) for t in prof.texts[:-1].tolist()), dtype=np.int64,
                              count=len(prof.texts) - 1)
            codes = np.append(pos, miss)[prof.codes]
            out = series_of(memo["texts"][codes], dataset.frame.index)
            seed(out, codes, memo)
            ctx._std_cache[rec_key] = out
            return out
        else:
            codes, distinct = pd.factorize(subjects, use_na_sentinel=True)
            mapped = pd.Series(distinct, dtype=object).astype(str).str.strip().map(ref).fillna("")
            values = np.append(mapped.to_numpy(dtype=object), "")
            codes = np.where(codes < 0, len(values) - 1, codes)
        ctx._std_cache[rec_key] = pd.Series(values[codes], index=dataset.frame.index, dtype=object)
    return ctx._std_cache[rec_key]


def _dm_texts(ctx, var, ref: pd.Series) -> dict:
    """DM.var's trimmed texts (one per subject, "" last for a subject DM lacks) and subject -> position."""
    key = ("dmref-texts", var)
    if key not in ctx._std_cache:
        texts = np.empty(len(ref) + 1, dtype=object)
        texts[:] = ref.tolist() + [""]
        ctx._std_cache[key] = {"texts": texts, "lookup": {s: i for i, s in enumerate(ref.index.tolist())}}
    return ctx._std_cache[key]


def _is_text(series: pd.Series) -> bool:
    """A string column (object or pandas string): its profile's texts are ``astype(str).str.strip()``."""
    return pd.api.types.is_string_dtype(series.dtype)


def _compare(a: pd.Series, b: pd.Series, mode: str) -> pd.Series:
    if mode == "after":
        return after(a, b)
    if mode == "before":
        return after(b, a)
    if mode == "not_before":                       # on or after (or the same at the precision given)
        return after(a, b) | same_at_precision(a, b)
    raise ValueError(mode)


# (id, message, p21, publisher, left pattern, right (DM.X or same-dataset pattern), mode, domains, exclude)
DATE_ORDER = [
    ("TF-TIM-001", "--STDTC date is after RFPENDTC", ("SD1202",), ("FDAB034",), "--STDTC", "DM.RFPENDTC", "after", (), ()),
    ("TF-TIM-002", "--DTC date is after RFPENDTC", ("SD1203",), ("FDAB034",), "--DTC", "DM.RFPENDTC", "after", (),
     ("DM",)),
    ("TF-TIM-003", "--ENDTC date is after RFPENDTC", ("SD1204",), ("FDAB034",), "--ENDTC", "DM.RFPENDTC", "after", (), ()),
    ("TF-TIM-004", "EXSTDTC date is before RFXSTDTC", ("SD1205",), ("FDAB008", "CG0148"), "EXSTDTC", "DM.RFXSTDTC",
     "before", ("EX",), ()),
    ("TF-TIM-005", "EXSTDTC date is after RFXENDTC", ("SD1206",), ("FDAB034", "CG0147"), "EXSTDTC", "DM.RFXENDTC",
     "after", ("EX",), ()),
    ("TF-TIM-006", "EXENDTC date is after RFXENDTC", ("SD1207",), ("FDAB034", "CG0147"), "EXENDTC", "DM.RFXENDTC",
     "after", ("EX",), ()),
    ("TF-TIM-007", "--STDTC is before RFICDTC (event or intervention before informed consent)", ("SD1319",),
     ("CG0075",), "--STDTC", "DM.RFICDTC", "before", (), HISTORY + ("DM",)),
    ("TF-TIM-008", "RFICDTC is after RFSTDTC", ("SD1334",), ("FDAB034",), "RFICDTC", "RFSTDTC", "after", ("DM",), ()),
    ("TF-TIM-009", "RFICDTC is after RFXSTDTC", ("SD1335",), ("FDAB034",), "RFICDTC", "RFXSTDTC", "after", ("DM",), ()),
    ("TF-TIM-010", "MHSTDTC date is on or after RFSTDTC", ("SD1144",), ("CG0079",), "MHSTDTC", "DM.RFSTDTC",
     "not_before", ("MH",), ()),
    ("TF-TIM-011", "--STDTC is after --DTC", ("SD1331",), ("FDAB034",), "--STDTC", "--DTC", "after",
     ("AE", "CE", "MH", "DS", "DV", "HO", "CM", "EX", "EC", "PR", "SU", "ML"), ()),
    ("TF-TIM-012", "--STDTC is after DM.DTHDTC (record starts after death)", (), (), "--STDTC", "DM.DTHDTC", "after",
     (), ("DM", "DS")),
    ("TF-TIM-013", "--DTC is after DM.DTHDTC (observation after death)", (), (), "--DTC", "DM.DTHDTC", "after", (),
     ("DM", "DS", "DD", "PR", "CO")),
    ("TF-TIM-014", "--ENDTC is after DM.DTHDTC (record ends after death)", (), (), "--ENDTC", "DM.DTHDTC", "after", (),
     ("DM",)),
]


def _date_order(row):
    rid, message, p21, pub, left, right, mode, domains, exclude = row

    def check(dataset, ctx):
        if not in_scope(dataset, domains) or dataset.name.upper() in exclude:
            return []
        f = dataset.frame
        lcol = expand(left, dataset)
        if lcol not in f:
            return []
        if right.startswith("DM."):
            other = dm_value(ctx, dataset, right[3:])
            rname = right
        else:
            rname = expand(right, dataset)
            other = f[rname] if rname in f else None
        if other is None:
            return []
        bad = _compare(f[lcol], other, mode)
        return findings_at(RULES[rid], dataset, bad, variable=lcol, values=lambda: text(f[lcol]) + " vs " + text(other),
                           message=f"{lcol} is {'on or after' if mode == 'not_before' else mode} {rname}")
    register(rid, W, message, scope=SDTM, p21=p21, publisher=pub, category="Limit")(check)


for _row in DATE_ORDER:
    _date_order(_row)


# ---- adverse event outcome and end date -------------------------------------------------------------

@register("TF-AE-004", W, "AEOUT = NOT RECOVERED/NOT RESOLVED, but an end date is provided", p21=("SD1332",),
          publisher=("FDAB034",), scope=SDTM, domains=("AE",), category="Consistency")
def ongoing_with_end(dataset, ctx):
    f = dataset.frame
    if "AEOUT" not in f or "AEENDTC" not in f:
        return []
    bad = (text(f["AEOUT"]) == "NOT RECOVERED/NOT RESOLVED") & filled(f, "AEENDTC")
    return findings_at(RULES["TF-AE-004"], dataset, bad, variable="AEENDTC")


@register("TF-AE-005", W, "AEOUT = RECOVERED/RESOLVED, but an end date or collected duration is not provided",
          p21=("SD1333",), publisher=("FDAB034",), scope=SDTM, domains=("AE",), category="Consistency")
def resolved_without_end(dataset, ctx):
    f = dataset.frame
    if "AEOUT" not in f:
        return []
    out = text(f["AEOUT"])
    bad = out.isin(["RECOVERED/RESOLVED", "RECOVERED/RESOLVED WITH SEQUELAE"]) & ~filled(f, "AEENDTC") & \
        ~filled(f, "AEDUR")
    return findings_at(RULES["TF-AE-005"], dataset, bad, variable="AEENDTC", values=out)


@register("TF-AE-006", W, "AEENDTC for fatal AE is not the same as DM.DTHDTC", p21=("SD1347",), publisher=("FDAB006",),
          scope=SDTM, domains=("AE",), category="Limit")
def fatal_end_is_death(dataset, ctx):
    """A fatal event ends on the day of death: AEENDTC null, or another date, while DTHDTC is known."""
    f = dataset.frame
    death = dm_value(ctx, dataset, "DTHDTC")
    if "AEOUT" not in f or death is None:
        return []
    fatal = (text(f["AEOUT"]) == "FATAL") & (death != "")
    if not fatal.any():
        return []
    end = text(f["AEENDTC"]) if "AEENDTC" in f else pd.Series("", index=f.index)
    n = pd.concat([end.str.len(), death.str.len()], axis=1).min(axis=1).clip(upper=10)
    differs = (end == "") | pd.Series([a[:k] != b[:k] for a, b, k in zip(end, death, n)], index=f.index, dtype=bool)
    bad = fatal & differs
    return findings_at(RULES["TF-AE-006"], dataset, bad, variable="AEENDTC", values=lambda: end + " vs DTHDTC " + death)


@register("TF-DS-001", W, "DSSTDTC for DEATH record is not the same as DM.DTHDTC", p21=("SD1317",),
          publisher=("CG0069",), scope=SDTM, domains=("DS",), category="Limit")
def death_record_date(dataset, ctx):
    f = dataset.frame
    death = dm_value(ctx, dataset, "DTHDTC")
    if "DSDECOD" not in f or "DSSTDTC" not in f or death is None:
        return []
    dead = (text(f["DSDECOD"]) == "DEATH") & (death != "")
    if not dead.any():
        return []
    start = text(f["DSSTDTC"])
    n = pd.concat([start.str.len(), death.str.len()], axis=1).min(axis=1).clip(upper=10)
    differs = pd.Series([a[:k] != b[:k] for a, b, k in zip(start, death, n)], index=f.index, dtype=bool)
    bad = (text(f["DSDECOD"]) == "DEATH") & (death != "") & (start != "") & differs
    return findings_at(RULES["TF-DS-001"], dataset, bad, variable="DSSTDTC", values=lambda: start + " vs DTHDTC " + death)


# ---- against the last disposition date ----------------------------------------------------------------

def _last_disposition(ctx):
    """Latest DSSTDTC of each subject's disposition events (DSCAT = DISPOSITION EVENT when DSCAT exists):
    a subject still on study has no such end, so nothing is judged against a mere milestone."""
    if ("lastds",) not in ctx._std_cache:
        ctx._std_cache[("lastds",)] = _compute_last_disposition(ctx)
    return ctx._std_cache[("lastds",)]


def _compute_last_disposition(ctx):
    ds = ctx.get("DS")
    if ds is None or "DSSTDTC" not in ds.frame or "USUBJID" not in ds.frame:
        return None
    f = ds.frame
    frame = pd.DataFrame({"U": text(f["USUBJID"]), "D": complete_date(f["DSSTDTC"])})
    if "DSCAT" in f:
        frame = frame[text(f["DSCAT"]) == "DISPOSITION EVENT"]
    last = frame.dropna().groupby("U")["D"].max()
    dm = ctx.get("DM")
    if dm is not None and {"USUBJID", "RFPENDTC"} <= set(dm.frame.columns):
        # only a disposition that ends participation (on DM.RFPENDTC) closes the window; an epoch's
        # disposition (end of treatment) is followed by follow-up events by design
        end = pd.Series(complete_date(dm.frame["RFPENDTC"]).to_numpy(), index=text(dm.frame["USUBJID"]).to_numpy())
        end = end[~end.index.duplicated()]
        last = last[last.index.map(end).to_numpy() == last.to_numpy()]
    return last


def _after_disposition(rid, domain, var):
    def check(ctx):
        ds, last = ctx.get(domain), _last_disposition(ctx)
        if ds is None or last is None or var not in ds.frame:
            return []
        when = complete_date(ds.frame[var])
        limit = text(ds.frame["USUBJID"]).map(last)
        bad = when.notna() & limit.notna() & (when > limit)
        return findings_at(RULES[rid], ds, bad, variable=var,
                           message=f"{var} is after the subject's latest DSSTDTC")
    return check


for _rid, _msg, _p21, _dom, _var in (
        ("TF-TIM-020", "AE start date is after the latest Disposition date", "SD0080", "AE", "AESTDTC"),
        ("TF-TIM-021", "Exposure end date is after the latest Disposition date", "SD0082", "EX", "EXENDTC"),
        ("TF-TIM-022", "Exposure start date is after the latest Disposition date", "SD1446", "EX", "EXSTDTC")):
    register(_rid, W, _msg, scope=SDTM, p21=(_p21,), publisher=("FDAB034",), kind="study",
             category="Limit")(_after_disposition(_rid, _dom, _var))
