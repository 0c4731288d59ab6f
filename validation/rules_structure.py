"""Dataset structure against the standard and the XPT v5 container: presence, order, labels,
types, lengths, names, DOMAIN, keys and duplicate records. One finding per variable or record.
"""
from __future__ import annotations

import csv
import re
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from .context import (ColumnCache, findings_at, group_codes, is_adam_dataset, is_profiled, profile, seq_var,
                      series_of)
from .registry import RULES, SDTM, register

_TEMPLATE = re.compile(r"xx|zz|y|w|\*")


def _std(dataset, ctx):
    return ctx.standard_dataset(dataset.name)


def _template_regex(name: str) -> re.Pattern:
    """ADaMIG templated name (TRTxxP, ANLzzFL, *DT) as a regex over concrete names."""
    out, pos = "", 0
    for m in _TEMPLATE.finditer(name):
        out += re.escape(name[pos:m.start()])
        out += {"xx": "[0-9]{2}", "zz": "[0-9]{2}", "y": "[0-9]", "w": "[0-9]", "*": "[A-Z][A-Z0-9]*"}[m.group()]
        pos = m.end()
    return re.compile(out + re.escape(name[pos:]))


def _present(name: str, columns) -> bool:
    if not _TEMPLATE.search(name):
        return name in columns
    rx = _template_regex(name)
    return any(rx.fullmatch(c) for c in columns)


def _missing_by_core(dataset, ctx, rule_id: str, core: str, word: str, is_present) -> list:
    """One finding per standard variable of the given core status that the dataset lacks."""
    std = _std(dataset, ctx)
    if std is None:
        return []
    present = set(dataset.frame.columns)
    rule = RULES[rule_id]
    return [rule.finding(dataset.name, variable=v.name, message=f"{word} variable {v.name} not found")
            for v in std.variables if v.core == core and not is_present(v.name, present)]


@register("TF-STR-001", "error", "Required variable not found", p21=("SD0056", "AD0047"),
          publisher=("CG0014", "CG0313"), category="Presence")
def required_present(dataset, ctx):
    return _missing_by_core(dataset, ctx, "TF-STR-001", "Req", "Required", _present)


@register("TF-STR-002", "warning", "Expected variable not found", p21=("SD0057",), publisher=("CG0016",),
          scope=SDTM, category="Presence")
def expected_present(dataset, ctx):
    return _missing_by_core(dataset, ctx, "TF-STR-002", "Exp", "Expected", lambda name, present: name in present)


@register("TF-STR-003", "warning", "Variable is in wrong order within domain", p21=("SD1079",),
          publisher=("CG0330",), scope=SDTM, category="Metadata")
def variable_order(dataset, ctx):
    std = _std(dataset, ctx)
    if std is None:
        return []
    position = {v.name: i for i, v in enumerate(std.variables)}
    out, highest, after = [], -1, None
    for col in dataset.frame.columns:
        pos = position.get(col)
        if pos is None:
            continue
        if pos < highest:
            out.append(RULES["TF-STR-003"].finding(
                dataset.name, variable=col, value=col,
                message=f"{col} comes after {after}, but SDTMIG orders it before"))
        else:
            highest, after = pos, col
    return out


def _norm(label) -> str:
    return " ".join(str(label or "").upper().split())


@register("TF-STR-004", "warning", "Variable label does not match the standard", p21=("AD0018",),
          category="Metadata")
def variable_label(dataset, ctx):
    out = []
    for var in dataset.meta.variables:
        if var.name not in dataset.frame.columns:
            continue
        std = ctx.standard_variable(dataset.name, var.name)
        if std is None or not var.label or "{" in std.label or _norm(std.label) == _norm(var.label):
            continue
        if re.fullmatch(r"ANL[0-9]{2}F[LN]", var.name):   # ADaMIG lets producers extend these labels
            continue
        out.append(RULES["TF-STR-004"].finding(
            dataset.name, variable=var.name, value=var.label,
            message=f"label of {var.name} is not the standard's {std.label!r}"))
    return out


@register("TF-STR-005", "error", "Variable data type does not match the standard", p21=("SD0055", "AD0058"),
          publisher=("CG0012",), category="Metadata")
def variable_type(dataset, ctx):
    out = []
    for col in dataset.frame.columns:
        std = ctx.standard_variable(dataset.name, col)
        if std is None:
            continue
        actual = "Num" if pd.api.types.is_numeric_dtype(dataset.frame[col]) else "Char"
        own = dataset.meta.variable(col)
        if own is not None and own.type in ("Num", "Char"):
            actual = own.type
        if actual != std.type:
            out.append(RULES["TF-STR-005"].finding(
                dataset.name, variable=col, value=actual,
                message=f"{col} is {actual}, the standard defines it as {std.type}"))
    return out


@register("TF-STR-006", "error", "Inconsistent value for DOMAIN", p21=("SD0004",), publisher=("CG0413",),
          scope=SDTM, category="Consistency")
def domain_value(dataset, ctx):
    if "DOMAIN" not in dataset.frame.columns:
        return []
    name = dataset.name.upper()
    prof = profile(dataset.frame["DOMAIN"])
    # split datasets (QSCG, LB1) carry the two-letter domain; blanks are TF-VAL-001's (judged per distinct value)
    split_ok = len(name) > 2
    wrong = np.fromiter((d != "" and d != name and not (split_ok and len(d) == 2 and d == name[:2])
                         for d in prof.texts), dtype=bool, count=len(prof.texts))
    if not (wrong & prof.present).any():
        return []
    bad = series_of(wrong[prof.codes], dataset.frame.index)
    return findings_at(RULES["TF-STR-006"], dataset, bad, variable="DOMAIN",
                       message=f"DOMAIN does not match the dataset name {name}")


@register("TF-STR-007", "warning", "No records in data source", p21=("SD0001",), publisher=("CG0408",),
          category="Presence")
def empty_dataset(dataset, ctx):
    if len(dataset.frame):
        return []
    return [RULES["TF-STR-007"].finding(dataset.name, message=f"{dataset.name} has no records")]


@register("TF-STR-008", "warning", "Variable length is too long for actual data", p21=("SD1082",),
          publisher=("FDAB018",), category="Limit")
def declared_length(dataset, ctx):
    """FDA asks that character lengths be the longest value, not a SAS default like 200."""
    out = []
    for var in dataset.meta.variables:
        if var.type != "Char" or not var.length or var.name not in dataset.frame.columns or not len(dataset.frame):
            continue
        prof = ctx.profile(dataset, var.name)
        longest = int(prof.nbytes.max(initial=0))
        if var.length > max(longest, 1):
            said = f"its longest value is {longest}" if longest else "every value is missing"
            out.append(RULES["TF-STR-008"].finding(
                dataset.name, variable=var.name, value=str(var.length),
                message=f"{var.name} has length {var.length}, {said}"))
    return out


@register("TF-STR-009", "notice", "Dataset is not defined in the standard (custom domain)", p21=("SD9999",),
          category="Metadata")
def unknown_dataset(dataset, ctx):
    if _std(dataset, ctx) is not None:
        return []
    return [RULES["TF-STR-009"].finding(dataset.name, value=dataset.name,
                                         message=f"{dataset.name} is not a {ctx.standard.name} dataset")]


MODEL_CSV = Path(__file__).resolve().parent / "data" / "sdtm-2.0-model-variables.csv"
GENERAL_CLASSES = {"EVENTS": ("Events",), "INTERVENTIONS": ("Interventions",), "FINDINGS": ("Findings",),
                   "FINDINGS ABOUT": ("Findings", "Findings About")}


@lru_cache(maxsize=1)
def _model() -> dict[str, set[str]]:
    """SDTM v2.0 model variables by class ('--' = the domain prefix); general observation
    timing/identifier variables under 'General Observations'."""
    out: dict[str, set[str]] = {}
    with MODEL_CSV.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            out.setdefault(row["class"], set()).add(row["variable"])
    return out


def _model_variables(dataset, std) -> set[str] | None:
    classes = GENERAL_CLASSES.get((std.cls or "").upper())
    if classes is None:
        return None
    prefix = dataset.name.upper()[:2]
    names = set()
    for cls in ("General Observations",) + classes:
        names |= {v.replace("--", prefix) for v in _model().get(cls, ())}
    return names


def _extra_variables(dataset, ctx):
    std = _std(dataset, ctx)
    if std is None:
        return None, set(), []
    known = {v.name for v in std.variables}
    return std, _model_variables(dataset, std), [c for c in dataset.frame.columns if c not in known]


@register("TF-STR-010", "warning", "Variable appears in dataset, but is not in SDTM model",
          p21=("SD0058",), publisher=("CG0013",), scope=SDTM, category="Metadata")
def variable_not_in_model(dataset, ctx):
    """Non-standard variables belong in SUPP--; a general-observation domain may still use any
    variable its SDTM model class defines (that is TF-STR-011)."""
    std, model, extra = _extra_variables(dataset, ctx)
    if std is None:
        return []
    return [RULES["TF-STR-010"].finding(dataset.name, variable=c, value=c,
                                         message=f"{c} is neither a {std.name} variable nor an SDTM model variable "
                                                 f"of its class")
            for c in extra if model is None or c not in model]


@register("TF-STR-011", "notice", "Model permissible variable added into standard domain", p21=("SD1076",),
          scope=SDTM, category="Metadata")
def model_variable_added(dataset, ctx):
    std, model, extra = _extra_variables(dataset, ctx)
    if std is None or model is None:
        return []
    return [RULES["TF-STR-011"].finding(dataset.name, variable=c, value=c,
                                         message=f"{c} is an SDTM model variable not listed in SDTMIG for {std.name}")
            for c in extra if c in model]


# ---- XPT v5 container limits ---------------------------------------------------------------------

@register("TF-XPT-003", "error", "Variable name longer than 8 characters or not a SAS name", p21=("SD1474",),
          publisher=("CG0310",), category="Limit")
def variable_names(dataset, ctx):
    rule = RULES["TF-XPT-003"]
    bad = [c for c in dataset.frame.columns if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,7}", str(c))]
    return [rule.finding(dataset.name, variable=c, value=c) for c in bad]


@register("TF-XPT-004", "error", "Variable label longer than 40 characters or not ASCII", p21=("SD1475",),
          publisher=("CG0311",), category="Limit")
def variable_labels(dataset, ctx):
    rule = RULES["TF-XPT-004"]
    return [rule.finding(dataset.name, variable=v.name, value=v.label)
            for v in dataset.meta.variables if v.name in dataset.frame.columns
            and (len(v.label or "") > 40 or not (v.label or "").isascii())]


@register("TF-XPT-005", "error", "Dataset name longer than 8 characters or dataset label longer than 40 / not ASCII",
          p21=("SD1457",), publisher=("CG0018",), category="Limit")
def dataset_name_label(dataset, ctx):
    name, label = dataset.meta.name, dataset.meta.label or ""
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9]{0,7}", name) or len(label) > 40 or not label.isascii():
        return [RULES["TF-XPT-005"].finding(dataset.name, value=f"{name}: {label}")]
    return []


@register("TF-XPT-006", "warning", "Dataset label is missing", category="Metadata")
def dataset_label_missing(dataset, ctx):
    if (dataset.meta.label or "").strip():
        return []
    return [RULES["TF-XPT-006"].finding(dataset.name, value=dataset.meta.name,
                                         message=f"{dataset.name} has no dataset label")]


@register("TF-XPT-007", "error", "Character variable length exceeds 200 bytes (XPT v5 limit)",
          publisher=("FDAB018",), category="Limit")
def declared_length_limit(dataset, ctx):
    return [RULES["TF-XPT-007"].finding(dataset.name, variable=v.name, value=str(v.length))
            for v in dataset.meta.variables if v.type == "Char" and (v.length or 0) > 200]


# ---- keys and duplicates -------------------------------------------------------------------------

@register("TF-SEQ-001", "error", "Duplicate value for --SEQ variable", p21=("SD0005",), publisher=("CG0028",),
          scope=SDTM, category="Consistency")
def seq_unique(dataset, ctx):
    sv = seq_var(dataset)
    if sv is None or "USUBJID" not in dataset.frame:
        return []
    frame = dataset.frame
    dup = _duplicated(frame, ["USUBJID", sv]) & frame[sv].notna()
    return findings_at(RULES["TF-SEQ-001"], dataset, dup, variable=sv)


@register("TF-KEY-001", "warning", "Duplicate records per key variables", p21=("SD1152",), publisher=("CG0019",),
          category="Consistency")
def keys_unique(dataset, ctx):
    keys = [k for k in dataset.meta.keys if k in dataset.frame.columns]
    if not keys or _distinct_by_profiled(dataset.frame, keys):
        return []
    dup = _duplicated(dataset.frame, keys)
    if not dup.any():
        _told_apart(dataset.frame, keys)        # no two records share the keys: nor any set of columns holding them
        return []
    message = f"Duplicate records for keys {', '.join(keys)}"
    shown = dataset.frame.loc[dup, keys].astype(object)
    values = shown.where(shown.notna(), "").astype(str).agg("|".join, axis=1)
    return findings_at(RULES["TF-KEY-001"], dataset, dup, values=values, message=message)


@register("TF-KEY-002", "warning", "Duplicate records (identical in every variable except --SEQ)",
          p21=("SD1117", "SD1201"), category="Consistency")
def duplicate_records(dataset, ctx):
    sv = seq_var(dataset)
    cols = [c for c in dataset.frame.columns if c != sv and not (is_adam_dataset(dataset) and c.endswith("SEQ"))]
    if not cols or len(dataset.frame) < 2:
        return []
    if _distinct_by_profiled(dataset.frame, cols):
        return []
    dup = _duplicated(dataset.frame, cols)
    return findings_at(RULES["TF-KEY-002"], dataset, dup)


def _distinct_by_profiled(frame, cols) -> bool:
    """True when the columns among ``cols`` that other rules have already profiled tell every record apart:
    then no two records can be identical in all of ``cols`` (USUBJID, a test code and a date usually do),
    and the other columns need no profile of their own. False means "not known": look at every column."""
    proven = frame.__dict__.setdefault("_told_apart", []) if isinstance(frame, ColumnCache) else []
    wanted = set(cols)
    if any(names <= wanted for names in proven):    # a subset of these columns already tells them apart
        return True
    names = [c for c in cols if is_profiled(frame[c])]
    if not names:
        return False
    known = sorted(((profile(frame[c]), c) for c in names), key=lambda pc: -pc[0].width)   # most distinct first
    if not all_told_apart([p.codes for p, _ in known], [p.width for p, _ in known]):
        return False
    _told_apart(frame, names)                   # TF-KEY-002 (every column) after TF-KEY-001 (the keys)
    return True


def _told_apart(frame, cols) -> None:
    """Remember for this run that ``cols`` tell every record of ``frame`` apart."""
    if isinstance(frame, ColumnCache):
        frame.__dict__.setdefault("_told_apart", []).append(frozenset(cols))


def all_told_apart(codes: list, widths: list) -> bool:
    """Whether the combination of the code columns (``codes[i]`` in ``[0, widths[i])``, one per record) is
    different for every record.

    Why so: at 10,000 subjects LB has 1.4 million records, and hashing them (``pd.Index(...).is_unique``,
    ``pd.factorize``) after each column was a second of the gate. The columns' codes are combined into one
    integer per record (``key * width + code``) for as long as the combination fits in 63 bits, then sorted
    once: equal neighbours are the records still sharing their combination. Those records alone go on, their
    key renumbered by its rank (``_shared_keys``), for the next columns.
    Sorting integers is ~4x cheaper than hashing them, and records are mostly told apart by the first
    few columns of a key (a subject, a date, a test code), so one or two sorts decide."""
    n = len(codes[0]) if codes else 0
    if n <= 1:
        return bool(codes)
    key, bound, rows = None, 1, None       # rows: positions still sharing a combination (None: all)
    for col, width in zip(codes, widths):
        width = max(int(width), 1)
        if key is not None and bound * width >= 2 ** 62:       # Python integers: the product cannot overflow
            shared = _shared_keys(key)
            if shared is None:
                return True
            keep, key, bound = shared
            rows = keep if rows is None else rows[keep]
        col = np.asarray(col if rows is None else col[rows], dtype=np.int64)
        if key is None:
            key, bound = col, width
        else:
            key, bound = key * width + col, bound * width
    return _shared_keys(key) is None


def _shared_keys(key: np.ndarray):
    """None when every value of ``key`` (int64) differs; else (the records sharing their value with another:
    their positions in ``key``, a number per value among at most ``len(key)``, how many numbers there are).

    The test is one sort; only when something is shared are the records ordered (``argsort``, ~3x a sort;
    a look-up of every record among the shared values costs more than that when there are thousands)."""
    ordered = np.sort(key)
    if not (ordered[1:] == ordered[:-1]).any():
        return None
    order = np.argsort(key)
    ordered = key[order]
    start = np.r_[True, ordered[1:] != ordered[:-1]]        # first record of each value, in sorted order
    shared = ~start
    shared[:-1] |= shared[1:]                                # equal to the one after it, or to the one before
    number = np.cumsum(start) - 1
    return order[shared], number[shared], int(number[-1]) + 1


def _all_different(key: np.ndarray) -> bool:
    """Whether every value of an int64 array differs (one sort; hashing them costs ~4x as much)."""
    ordered = np.sort(key)
    return not (ordered[1:] == ordered[:-1]).any()


def _duplicated(frame, cols) -> pd.Series:
    """``frame.duplicated(cols)`` on the columns' distinct-value codes (shared with every other rule); when no
    combination repeats (the usual answer) that is told by one sort, without hashing every record."""
    key = group_codes(frame, cols)
    if _all_different(key):
        return series_of(np.zeros(len(key), dtype=bool), frame.index)
    return pd.Series(pd.Index(key).duplicated(keep="first"), index=frame.index)
