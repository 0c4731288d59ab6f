"""Timing rules: study days against DM.RFSTDTC, start before end, and EPOCH against the trial design."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .context import findings_at, profile, text, unknown_values
from .dates import after, complete_date, date_table
from .registry import ANY, RULES, SDTM, register

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
    ref_days = _reference_days(ref_by_subject)
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
                ref = _subject_days(frame["USUBJID"], ref_by_subject, ref_days)
            expected = _study_days(record_days(frame[dtc]), ref)
            actual = frame[col].to_numpy(dtype=float, na_value=np.nan)
            # a day is only wrong where both dates are complete; partial dates are TF-DY-00x's business
            wrong = ~np.isnan(expected) & ~np.isnan(actual) & (actual != expected)
            if wrong.any():
                out += findings_at(RULES["TF-DY-002"], ds, pd.Series(wrong, index=frame.index), variable=col,
                                   message=f"{col} is not the study day of {dtc} relative to DM.RFSTDTC")
    return out


NO_DAY = np.iinfo(np.int64).min       # a missing or partial date, as days


def record_days(values: pd.Series) -> np.ndarray:
    """``_days(complete_date(values))``, converted once per distinct value and spread to the records."""
    codes, table = date_table(values)
    return _days_of(table)[codes]


def _days(dates: pd.Series) -> np.ndarray:
    """datetime64 dates (``complete_date``) as whole days since 1970 (int64), NaT as ``NO_DAY``."""
    return _days_of(dates.to_numpy())


def _days_of(values: np.ndarray) -> np.ndarray:
    days = values.astype("datetime64[D]").view(np.int64)
    return np.where(np.isnat(values), NO_DAY, days)


def _subject_days(subjects: pd.Series, ref_by_subject: pd.Series, ref_days: np.ndarray | None = None) -> np.ndarray:
    """DM.RFSTDTC of each record's subject as days (``NO_DAY`` when partial or unknown): the subjects'
    distinct values are looked up once, as ``subjects.map(ref_by_subject)`` would.

    ``ref_days``: ``_days(complete_date(ref_by_subject))`` when the caller has it (one parse of DM's dates for
    every dataset; each date's day does not depend on the others, so looking the subjects up in it is the same
    as parsing the mapped dates), the last entry ``NO_DAY`` for a subject DM lacks."""
    data = getattr(subjects._values, "_pa_array", None)
    if data is not None and str(data.type) in ("string", "large_string"):
        # an Arrow text column's profile holds its exact distinct values (missing last), so its codes stand in
        # for factorising 1.4 million subject ids again (LB at 10,000 subjects)
        prof = profile(subjects)
        codes, uniques = prof.codes, pd.Series(prof.raw[:-1] + [np.nan], dtype=object)
    else:
        codes, uniques = pd.factorize(subjects, use_na_sentinel=False)
        uniques = pd.Series(uniques)
    if ref_days is not None and ref_by_subject.index.is_unique:
        return ref_days[ref_by_subject.index.get_indexer(uniques)][codes]     # -1 (not in DM): the last entry
    mapped = uniques.map(ref_by_subject)
    return _days(complete_date(mapped))[codes]


def _reference_days(ref_by_subject: pd.Series) -> np.ndarray:
    """Days of DM.RFSTDTC per DM subject (``ref_by_subject``'s order), ``NO_DAY`` appended for "not in DM"."""
    return np.append(_days(complete_date(ref_by_subject)), NO_DAY)


def _study_days(days: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """SDTM study day (no day 0) as float, NaN where either date is missing or partial."""
    known = (days != NO_DAY) & (ref != NO_DAY)
    delta = np.where(known, days - np.where(known, ref, 0), 0)
    return np.where(known, np.where(delta < 0, delta, delta + 1), np.nan).astype(float)


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
        values = (lambda start=start, end=end: text(dataset.frame[start]) + " > " + text(dataset.frame[end]))
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
        values = (lambda s=s, e=e: s.astype(str) + " > " + e.astype(str))     # built only when reported
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
    values = (lambda: text(dataset.frame[dtc]) + " > " + text(dataset.frame[end]))
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
        out += findings_at(RULES["TF-EP-001"], ds, unknown_values(ds.frame["EPOCH"], known), variable="EPOCH")
    return out


@register("TF-EP-002", "warning", "EPOCH does not match the subject's element (SE) on the record's date",
          scope=SDTM, kind="study", category="Cross-reference")
def epoch_matches_se(ctx):
    """The epoch of a record is the epoch of the SE element its date falls in (bounds inclusive,
    so a date on the day one element ends and the next starts matches either)."""
    se = ctx.get("SE")
    if se is None or not {"USUBJID", "EPOCH", "SESTDTC"} <= set(se.frame.columns):
        return []
    elements = _Elements(se.frame)
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
        subj = profile(frame["USUBJID"])
        subject = np.array([elements.subject.get(t, -1) for t in subj.texts], dtype=np.int64)[subj.codes]
        ep = profile(frame["EPOCH"])
        date = record_days(frame[date_col])
        usable = (date != NO_DAY) & ~ep.blank[ep.codes] & (subject >= 0)
        rows = np.flatnonzero(usable)
        if not len(rows):
            continue
        # records sharing subject, epoch and date share the answer: match each distinct triple once
        group = _triples(subject[rows], ep.codes[rows], len(ep.texts), date[rows])
        first = np.empty(group.max() + 1, dtype=np.int64)
        first[group[::-1]] = rows[::-1]
        epoch_ids = np.fromiter((elements.epoch_id.get(t, -1) for t in ep.texts.tolist()), dtype=np.int64,
                                count=len(ep.texts))            # the record's epoch as SE's number for it
        covered, matched, owner, element = elements.match(subject[first], epoch_ids[ep.codes[first]], date[first])
        bad_group = covered & ~matched
        flagged = bad_group[group]
        bad_pos = rows[flagged]
        if len(bad_pos):
            seen: dict = {}
            pick = bad_group[owner]
            for g, e in zip(owner[pick].tolist(), elements.epoch[element[pick]].tolist()):
                seen.setdefault(g, set()).add(e)
            expected = {g: "/".join(sorted(epochs)) for g, epochs in seen.items()}
            epochs = frame["EPOCH"].iloc[bad_pos].tolist()
            values = [f"{e} (SE: {expected[g]})" for e, g in zip(epochs, group[flagged].tolist())]
            out += findings_at(RULES["TF-EP-002"], ds, frame.index[bad_pos], variable="EPOCH", values=values,
                               message=f"EPOCH does not match the SE element on {date_col}")
    return out


def _triples(subject: np.ndarray, epoch: np.ndarray, n_epochs: int, date: np.ndarray) -> np.ndarray:
    """Each record's (subject, epoch code, day) triple numbered in order of first appearance (as
    ``pd.factorize`` numbers). One factorisation of the triple packed into an integer when that fits, else
    the pair and the days factorised first (the same numbers either way)."""
    low, high = int(date.min()), int(date.max())
    span = high - low + 1
    if (int(subject.max()) + 1) * n_epochs * span < 2 ** 62:
        return pd.factorize((subject * n_epochs + epoch) * span + (date - low))[0]
    c1 = pd.factorize(subject * n_epochs + epoch)[0]
    c2, dates = pd.factorize(date)
    return pd.factorize(c1.astype(np.int64) * len(dates) + c2)[0]


class _Elements:
    """SE elements with a complete start date, grouped by subject (trimmed USUBJID), for matching
    (subject, epoch, date) triples against them with numpy instead of a merge per dataset."""

    def __init__(self, sf: pd.DataFrame):
        start = _days(complete_date(sf["SESTDTC"]))
        end = _days(complete_date(sf["SEENDTC"])) if "SEENDTC" in sf else np.full(len(sf), NO_DAY)
        subjects = text(sf["USUBJID"]).to_numpy(dtype=object)
        epochs = text(sf["EPOCH"]).to_numpy(dtype=object)
        keep = np.flatnonzero(start != NO_DAY)
        self.subject: dict[str, int] = {}
        sid = np.array([self.subject.setdefault(s, len(self.subject)) for s in subjects[keep]], dtype=np.int64)
        order = np.argsort(sid, kind="stable")
        keep, sid = keep[order], sid[order]
        self.start, self.end, self.epoch = start[keep], end[keep], epochs[keep]
        # epochs as numbers (one per distinct text): the match compares integers, not texts, per element
        self.epoch_id: dict[str, int] = {}
        self.epoch_number = np.array([self.epoch_id.setdefault(e, len(self.epoch_id)) for e in self.epoch.tolist()],
                                     dtype=np.int64)
        self.count = np.bincount(sid, minlength=len(self.subject))
        self.first = np.cumsum(self.count) - self.count

    def match(self, subject, epoch, date):
        """Per triple: does some element of the subject cover the date (bounds inclusive, open end)? does a
        covering one carry the epoch (``epoch``: its number in ``epoch_id``, -1 for one SE does not hold)? And
        the (triple, element) pairs that cover, for the expected text."""
        n = self.count[subject]
        owner = np.repeat(np.arange(len(subject)), n)
        offset = np.arange(len(owner)) - np.repeat(np.cumsum(n) - n, n)
        element = np.repeat(self.first[subject], n) + offset
        d = date[owner]
        end = self.end[element]
        inside = (d >= self.start[element]) & ((end == NO_DAY) | (d <= end))
        same = self.epoch_number[element] == epoch[owner]
        covered = np.bincount(owner[inside], minlength=len(subject)) > 0
        matched = np.bincount(owner[inside & same], minlength=len(subject)) > 0
        return covered, matched, owner[inside], element[inside]
