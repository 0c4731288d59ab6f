"""Timing rules: study days against DM.RFSTDTC, start before end, and EPOCH against the trial design."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .context import blank, findings_at, text
from .dates import after, complete_date, study_day
from .registry import ADAM, ANY, RULES, SDTM, register

TRIAL_DESIGN = ("TA", "TE", "TI", "TS", "TV", "TD", "TM")


def _day_columns(dataset):
    frame = dataset.frame
    return [c for c in frame.columns if c.endswith("DY") and len(c) > 2 and pd.api.types.is_numeric_dtype(frame[c])]


@register("TF-DY-001", "error", "Value of Study Day variable equals 0", p21=("SD0038", "AD0046"), scope=ANY,
          category="Consistency")
def study_day_zero(dataset, ctx):
    if dataset.name.upper() in TRIAL_DESIGN:
        return []
    out = []
    for col in _day_columns(dataset):
        out += findings_at(RULES["TF-DY-001"], dataset, dataset.frame[col] == 0, variable=col)
    return out


def _reference(ctx):
    dm = ctx.get("DM")
    if dm is None or "RFSTDTC" not in dm.frame or "USUBJID" not in dm.frame:
        return None
    return dm.frame.drop_duplicates("USUBJID").set_index("USUBJID")["RFSTDTC"]


@register("TF-DY-002", "error", "Incorrect value for --DY/--STDY/--ENDY variable (vs --DTC and DM.RFSTDTC)",
          p21=("SD1086", "SD1090", "SD1094"), publisher=("CG0006", "CG0220", "CG0222"), scope=SDTM, kind="study",
          category="Consistency")
def study_day_consistent(ctx):
    ref_by_subject = _reference(ctx)
    if ref_by_subject is None:
        return []
    out = []
    for ds in ctx.datasets.values():
        frame = ds.frame
        if "USUBJID" not in frame or ds.name.upper() in TRIAL_DESIGN:
            continue
        ref = None
        for col in _day_columns(ds):
            dtc = col[:-2] + "DTC"
            if dtc not in frame:
                continue
            if ref is None:
                ref = frame["USUBJID"].map(ref_by_subject)
            expected = study_day(frame[dtc], ref)
            actual = frame[col]
            # a day is only wrong where both dates are complete; partial dates are TF-DY-00x's business
            wrong = expected.notna() & actual.notna() & (actual != expected)
            out += findings_at(RULES["TF-DY-002"], ds, wrong, variable=col,
                               message=f"{col} is not the study day of {dtc} relative to DM.RFSTDTC")
    return out


@register("TF-DY-003", "warning", "Missing --DY variable when --DTC variable is present",
          p21=("SD1083", "SD1087", "SD1091"), publisher=("FDAB016",), scope=SDTM, category="Presence")
def study_day_present(dataset, ctx):
    """FDA asks for the study day next to every subject-level date the domain defines a day for."""
    if dataset.name.upper() in TRIAL_DESIGN or "USUBJID" not in dataset.frame:
        return []
    out = []
    for col in dataset.frame.columns:
        if not col.endswith("DTC"):
            continue
        day = col[:-3] + "DY"
        if day not in dataset.frame.columns and (ctx.standard_variable(dataset.name, day) is not None
                                                 or day in model_variables(dataset, ctx)):
            out.append(RULES["TF-DY-003"].finding(dataset.name, variable=day, value=col,
                                                  message=f"{col} is present but {day} is not"))
    return out


def model_variables(dataset, ctx) -> set:
    """Variables the SDTM model gives the dataset's class (AEDY next to AEDTC, MHSOC next to MHBODSYS)."""
    from .rules_structure import _model_variables
    std = ctx.standard_dataset(dataset.name)
    return (_model_variables(dataset, std) or set()) if std is not None else set()


def _pairs(dataset, start_suffix, end_suffix):
    cols = dataset.frame.columns
    for col in cols:
        if col.endswith(start_suffix) and len(col) > len(start_suffix):
            end = col[:-len(start_suffix)] + end_suffix
            if end in cols:
                yield col, end


@register("TF-DT-002", "warning", "--STDTC is after --ENDTC", p21=("SD0013",), publisher=("FDAB034",), scope=SDTM,
          category="Consistency")
def start_after_end(dataset, ctx):
    out = []
    for start, end in list(_pairs(dataset, "STDTC", "ENDTC")) + \
            [p for p in _pairs(dataset, "RFSTDTC", "RFENDTC")] + [p for p in _pairs(dataset, "RFXSTDTC", "RFXENDTC")]:
        if start.endswith("RFSTDTC") and start != "RFSTDTC":
            continue
        bad = after(dataset.frame[start], dataset.frame[end])
        values = text(dataset.frame[start]) + " > " + text(dataset.frame[end])
        out += findings_at(RULES["TF-DT-002"], dataset, bad, variable=start, values=values,
                           message=f"{start} is after {end}")
    return out


@register("TF-DT-003", "warning", "--STDY is after --ENDY", p21=("SD0012",), publisher=("FDAB034",), scope=SDTM,
          category="Consistency")
def start_day_after_end_day(dataset, ctx):
    out = []
    for start, end in _pairs(dataset, "STDY", "ENDY"):
        s, e = dataset.frame[start], dataset.frame[end]
        if not (pd.api.types.is_numeric_dtype(s) and pd.api.types.is_numeric_dtype(e)):
            continue
        values = s.astype(str) + " > " + e.astype(str)
        out += findings_at(RULES["TF-DT-003"], dataset, s > e, variable=start, values=values,
                           message=f"{start} is after {end}")
    return out


@register("TF-DT-004", "warning", "--DTC is after --ENDTC", p21=("SD0025",), publisher=("FDAB034",), scope=SDTM,
          category="Consistency")
def collection_after_end(dataset, ctx):
    """Findings only: there --DTC is the observation and --ENDTC ends its collection interval;
    in events and interventions --DTC is when the record was collected, often after the end."""
    std = ctx.standard_dataset(dataset.name)
    if std is None or not (std.cls or "").upper().startswith("FINDINGS"):
        return []
    p = dataset.name.upper()[:2]
    dtc, end = f"{p}DTC", f"{p}ENDTC"
    if dtc not in dataset.frame or end not in dataset.frame:
        return []
    bad = after(dataset.frame[dtc], dataset.frame[end])
    values = text(dataset.frame[dtc]) + " > " + text(dataset.frame[end])
    return findings_at(RULES["TF-DT-004"], dataset, bad, variable=dtc, values=values, message=f"{dtc} is after {end}")


# ---- EPOCH against the trial design --------------------------------------------------------------

@register("TF-EP-001", "error", "EPOCH is not in TA.EPOCH", p21=("SD1015",), publisher=("CG0009",), scope=SDTM,
          kind="study", category="Cross-reference")
def epoch_in_ta(ctx):
    ta = ctx.get("TA")
    if ta is None or "EPOCH" not in ta.frame:
        return []
    known = set(text(ta.frame["EPOCH"]))
    out = []
    for ds in ctx.datasets.values():
        if ds.name.upper() in TRIAL_DESIGN or "EPOCH" not in ds.frame:
            continue
        epoch = text(ds.frame["EPOCH"])
        out += findings_at(RULES["TF-EP-001"], ds, (epoch != "") & ~epoch.isin(known), variable="EPOCH")
    return out


@register("TF-EP-002", "warning", "EPOCH does not match the subject's element (SE) on the record's date",
          scope=SDTM, kind="study", category="Cross-reference")
def epoch_matches_se(ctx):
    """The epoch of a record is the epoch of the SE element its date falls in (bounds inclusive,
    so a date on the day one element ends and the next starts matches either)."""
    se = ctx.get("SE")
    if se is None or not {"USUBJID", "EPOCH", "SESTDTC"} <= set(se.frame.columns):
        return []
    sf = se.frame
    elements = pd.DataFrame({"USUBJID": text(sf["USUBJID"]), "SE_EPOCH": text(sf["EPOCH"]),
                             "START": complete_date(sf["SESTDTC"]),
                             "END": complete_date(sf["SEENDTC"]) if "SEENDTC" in sf else pd.NaT})
    elements = elements[elements["START"].notna()]
    out = []
    for ds in ctx.datasets.values():
        frame = ds.frame
        name = ds.name.upper()
        if name in TRIAL_DESIGN or name == "SE" or not {"EPOCH", "USUBJID"} <= set(frame.columns):
            continue
        p = name[:2]
        date_col = next((c for c in (f"{p}STDTC", f"{p}DTC") if c in frame.columns), None)
        if date_col is None:
            continue
        recs = pd.DataFrame({"USUBJID": text(frame["USUBJID"]), "EPOCH": text(frame["EPOCH"]),
                             "DATE": complete_date(frame[date_col]), "POS": range(len(frame))})
        recs = recs[recs["DATE"].notna() & (recs["EPOCH"] != "")]
        if recs.empty:
            continue
        # records sharing subject, epoch and date share the answer: match each distinct triple once
        keys = ["USUBJID", "EPOCH", "DATE"]
        group = recs.groupby(keys, sort=False).ngroup().to_numpy()
        distinct = recs[~recs.duplicated(keys)].assign(G=np.arange(group.max() + 1))
        pairs = distinct.merge(elements, on="USUBJID", how="inner")
        inside = (pairs["DATE"] >= pairs["START"]) & (pairs["END"].isna() | (pairs["DATE"] <= pairs["END"]))
        pairs = pairs[inside]
        matched = pairs.assign(ok=pairs["EPOCH"] == pairs["SE_EPOCH"]).groupby("G")["ok"].any()
        bad_groups = matched.index[~matched.to_numpy()]
        flagged = np.isin(group, bad_groups)
        bad_pos = np.sort(recs["POS"].to_numpy()[flagged])
        if len(bad_pos):
            expected = pairs[pairs["G"].isin(bad_groups)].groupby("G")["SE_EPOCH"].agg(
                lambda s: "/".join(sorted(set(s))))
            group_of = dict(zip(recs["POS"].to_numpy()[flagged], group[flagged]))
            values = [f"{frame['EPOCH'].iloc[p]} (SE: {expected[group_of[p]]})" for p in bad_pos]
            out += findings_at(RULES["TF-EP-002"], ds, frame.index[bad_pos], variable="EPOCH", values=values,
                               message=f"EPOCH does not match the SE element on {date_col}")
    return out
