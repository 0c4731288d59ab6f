"""The mapping algorithms every domain reuses, one per rule kind (in sdtm.oak's spirit).

Each takes the working frame (raw columns plus the variables assigned so far) and a Rule and
returns a Series aligned to the frame. Modifiers (recode, CT decode, default, type) are applied
afterwards by ``apply_modifiers`` so every kind gets them the same way.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import RawDataError, SpecError, TerminologyError
from ..specs.spec import Rule
from ..specs.yamlio import did_you_mean
from . import dates, expressions, functions
from .sources import FILE_COL, INTERNAL, ROW_COL
from .findings import standardize
from .uniques import (DISTINCT_ROWS_MIN, distinct_rows, factorize, object_identities, on_distinct, on_objects,
                      on_uniques, text_array)
from .working import WorkingFrame

_TEMPLATE_FIELD = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.]*)\}")   # {SITENO}, {raw.X}, {IT.SITE}
_SUBST = re.compile(r"\$\{([A-Za-z0-9_.]+)\}")


@dataclass
class MappingContext:
    """What rules may consult besides the working frame."""

    study: object                       # specs.study.Study
    ct: object                          # specs.ct.ControlledTerminology
    domains: dict = field(default_factory=dict)   # name -> frame built so far
    variable_types: dict = field(default_factory=dict)  # var -> "Char"/"Num"
    notes: list = field(default_factory=list)     # mapping warnings (dicts in the validation Finding shape)
    current: object = None                        # the DomainSpec being mapped

    def warn(self, rule_id: str, variable: str, message: str, *, row=None, value=None, file=None) -> None:
        """Record a warning the run reports beside validation findings (never silently dropped)."""
        dataset = getattr(self.current, "dataset", "")
        where = f" (file {file}, row {row})" if file else ""
        self.notes.append({"rule_id": rule_id, "severity": "warning", "dataset": dataset, "variable": variable,
                           "message": message + where, "row": None if row is None else int(row),
                           "value": None if value is None else str(value)})

    def substitute(self, text):
        if not isinstance(text, str):
            return text
        subs = self.study.substitutions()

        def repl(m):
            if m.group(1) not in subs:
                raise SpecError(f"unknown substitution ${{{m.group(1)}}}; known: {', '.join(sorted(subs))}",
                                value=text)
            return subs[m.group(1)]
        return _SUBST.sub(repl, text)


def _location(frame: pd.DataFrame, mask: pd.Series):
    first = mask.idxmax()
    file = frame.at[first, FILE_COL] if FILE_COL in frame else None
    row = frame.at[first, ROW_COL] if ROW_COL in frame else None
    return first, file, (None if row is None else int(row))


def _need(frame, column, rule):
    column = str(column)
    if column.startswith("raw.") and column not in frame.columns:
        column = column[4:]
    if column not in frame.columns:
        file = frame[FILE_COL].iloc[0] if FILE_COL in frame and len(frame) else rule.file
        hint = did_you_mean(column, [c for c in frame.columns if not c.startswith("_")])
        raise RawDataError(f"column {column!r} (for {rule.variable}, spec {rule.file}) is not in the raw data or "
                           f"assigned yet{hint}", file=file, column=column)
    return frame[column]


def assign_no_ct(frame, rule: Rule, ctx) -> pd.Series:
    """Copy a raw column as is (sdtm.oak's assign_no_ct); CT decoding, if asked, follows."""
    return _need(frame, rule.value, rule).astype(object)


def hardcode(frame, rule: Rule, ctx) -> pd.Series:
    """A constant for every record (sdtm.oak's hardcode_no_ct)."""
    value = ctx.substitute(rule.value)
    return pd.Series(["" if value is None else value] * len(frame), index=frame.index, dtype=object)


def assign_template(frame, rule: Rule, ctx) -> pd.Series:
    """Concatenate literal text and columns: '{STUDYID}-{SITENO}-{SUBJNO}'."""
    template = ctx.substitute(str(rule.value))
    pieces = _TEMPLATE_FIELD.split(template)
    fields = [text_array(_need(frame, piece, rule)) if i % 2 else piece for i, piece in enumerate(pieces)]
    if all(f is not None for f in fields):      # text fields: joined by numpy (str + str per record)
        joined = _template_distinct(fields, len(frame))
        if joined is not None:
            return pd.Series(joined, index=frame.index, dtype=object)
        out = np.full(len(frame), "", dtype=object)
        for piece in fields:
            if isinstance(piece, np.ndarray) or piece:
                out = out + piece
        return pd.Series(out, index=frame.index, dtype=object)
    out = pd.Series([""] * len(frame), index=frame.index, dtype=object)
    for i, piece in enumerate(pieces):
        if i % 2:
            out = out + _need(frame, piece, rule).fillna("").astype(str)
        elif piece:
            out = out + piece
    return out


def _template_distinct(fields: list, n: int) -> np.ndarray | None:
    """A template's text fields (object arrays of str) and literal pieces joined once per distinct row of the
    fields and taken back (USUBJID repeats per record of a subject), so equal results are one str object;
    None when most rows are distinct."""
    arrays = [f for f in fields if isinstance(f, np.ndarray)]
    if n < DISTINCT_ROWS_MIN or not arrays:
        return None
    codes, first = distinct_rows(*arrays)
    if 2 * len(first) > n:
        return None
    distinct = [f[first] if isinstance(f, np.ndarray) else f for f in fields]
    table = np.empty(len(first), dtype=object)
    table[:] = ["".join(row) for row in zip(*(d if isinstance(d, np.ndarray) else [d] * len(first)
                                               for d in distinct))]
    return table[codes]


def assign_expr(frame, rule: Rule, ctx) -> pd.Series:
    result = expressions.evaluate(str(rule.value), frame)
    if not isinstance(result, pd.Series):
        result = pd.Series([result] * len(frame), index=frame.index)
    return result


def assign_condition(frame, rule: Rule, ctx) -> pd.Series:
    """First matching branch wins (sdtm.oak's condition_add); rows matching none get ``else``.

    Each branch is evaluated on its rows and only the columns it reads (``_branch_frame``), not on a
    copy of the whole working frame, and its values are placed by position.
    """
    n = len(frame)
    out = np.full(n, "", dtype=object)
    taken = np.zeros(n, dtype=bool)
    branches = [(condition, then) for condition, then in rule.value]
    otherwise = rule.get("else")
    if otherwise is not None:
        branches.append((None, otherwise))
    for condition, then in branches:
        if condition is None:
            mask = ~taken
        else:
            mask = expressions.evaluate_mask(condition, frame).to_numpy(dtype=bool) & ~taken
        if mask.any():
            part = _branch_frame(frame, then, mask)
            values = evaluate_rule(then, part, ctx)
            if values.index.equals(part.index):
                out[mask] = values.to_numpy(dtype=object)
            else:                                   # a result not aligned to its rows: let pandas align it
                series = pd.Series(out, index=frame.index, dtype=object)
                series[pd.Series(mask, index=frame.index)] = values
                out = series.to_numpy()
        taken |= mask
    return pd.Series(out, index=frame.index, dtype=object)


# kinds whose reads from the working frame are exactly ``_branch_reads`` (others get the whole frame)
_NARROW_KINDS = {"constant", "from", "template", "expr", "datetime", "elapsed", "standardize", "when"}


def _branch_frame(frame, rule: Rule, mask: np.ndarray) -> pd.DataFrame:
    """The rows of one ``when`` branch with the columns its rule reads plus the row-location columns;
    the whole frame's rows when the rule may read more (or names a column the frame lacks, so the
    error and its hint are the usual ones)."""
    reads = _branch_reads(rule)
    if reads is None or isinstance(frame, WorkingFrame):     # a WorkingFrame takes columns only when read
        return frame[mask]
    columns = set(frame.columns)
    keep = [c for c in INTERNAL if c in columns]
    for variants in reads:
        present = [c for c in variants if c in columns]
        if not present:
            return frame[mask]
        keep.extend(present)
    return frame.loc[mask, list(dict.fromkeys(keep))]


def _read(name) -> tuple:
    name = str(name)
    return (name, name[4:]) if name.startswith("raw.") else (name,)


def _branch_reads(rule: Rule) -> list[tuple] | None:
    """Columns a rule reads, each as the names that may hold it (raw.X or X); None if not known."""
    if rule.kind not in _NARROW_KINDS:
        return None
    value = rule.value
    if rule.kind == "constant":
        return []
    if rule.kind == "from":
        return [_read(value)]
    if rule.kind == "template":
        return [_read(f) for f in _TEMPLATE_FIELD.findall(_SUBST.sub("", str(value)))]
    if rule.kind == "expr":
        return _expression_reads(str(value))
    if rule.kind == "datetime":
        return [_read(value["date"])] + ([_read(value["time"])] if value.get("time") else [])
    if rule.kind == "elapsed":
        return [_read(value["start"]), _read(value["end"])]
    if rule.kind == "standardize":
        return [(str(value[k]),) for k in ("result", "unit", "test") if value.get(k)]
    reads = []                                      # when: its conditions and every branch
    for condition, then in value:
        inner = _branch_reads(then)
        if inner is None:
            return None
        reads += _expression_reads(condition) + inner
    if rule.get("else") is not None:
        inner = _branch_reads(rule.get("else"))
        if inner is None:
            return None
        reads += inner
    return reads


def _expression_reads(text: str) -> list[tuple]:
    return [(f"raw.{name}", name) if raw else (name,) for name, raw in expressions.column_refs(text)]


def assign_datetime(frame, rule: Rule, ctx) -> pd.Series:
    """ISO 8601 from raw date and time fields (sdtm.oak's assign_datetime)."""
    spec = rule.value
    date_col = spec["date"]
    date = _need(frame, date_col, rule)
    time = _need(frame, spec["time"], rule) if spec.get("time") else None
    file = frame[FILE_COL].iloc[0] if FILE_COL in frame and len(frame) else rule.file
    where = {"file": file, "column": date_col, "time_column": spec.get("time")}
    files = frame[FILE_COL] if FILE_COL in frame else None
    result = dates.to_iso8601(date, time, fmt=spec.get("format", "DD MON YYYY"),
                              time_fmt=spec.get("time_format", "HH:MM"),
                              unknown=tuple(spec.get("unknown") or dates.DEFAULT_UNKNOWN), where=where,
                              rows=frame[ROW_COL] if ROW_COL in frame else None)
    if files is not None and files.nunique() > 1:
        pass  # error messages name the first file; rows are still exact
    return result


def _visit_table(ctx):
    table = {}
    for v in ctx.study.visits:
        for label in (v.visit, *v.raw):
            table[label.strip().upper()] = v
    return table


def assign_visit(frame, rule: Rule, ctx, attr: str) -> pd.Series:
    """VISIT / VISITNUM / VISITDY from the raw visit label via the study's visit schedule."""
    table = _visit_table(ctx)
    if not table:
        raise SpecError("the spec maps visits but study.yaml declares no visits", file=ctx.study.config_file,
                        column=rule.variable)
    if not (rule.get("date") and attr in ("visit", "visitnum")):
        fast = _visit_distinct(_need(frame, rule.value, rule), table, attr)
        if fast is not None:
            return fast
    raw = _need(frame, rule.value, rule).fillna("").astype(str)
    key = on_uniques(raw, lambda u: u.str.strip().str.upper())
    known = key.isin(table.keys()) | (key == "")
    if not known.all():
        first, file, row = _location(frame, ~known)
        labels = sorted({label for v in ctx.study.visits for label in (v.visit, *v.raw)})
        raise RawDataError(f"visit label is not in the study's visit schedule (study.yaml visits: "
                           f"{', '.join(labels[:20])}{' ...' if len(labels) > 20 else ''})",
                           file=file, column=rule.value, row=row, value=raw.at[first])
    values = key.map({k: getattr(v, attr) for k, v in table.items()})
    if rule.get("date") and attr in ("visit", "visitnum"):
        unscheduled = key.map({k: v.unscheduled for k, v in table.items()}).fillna(False).astype(bool)
        if unscheduled.any():
            return number_unscheduled(frame, rule, ctx, key.map({k: v.visitnum for k, v in table.items()}),
                                      unscheduled, values, attr)
    if attr == "visit":
        return values.fillna("").astype(object)
    return pd.to_numeric(values, errors="coerce")


def _visit_distinct(raw: pd.Series, table: dict, attr: str) -> pd.Series | None:
    """``assign_visit`` of a text column looked up once per distinct label (trimmed, upper-cased); None when a
    label is not in the schedule, so the vectorised path names its row."""
    texts = text_array(raw)
    if texts is None:
        return None
    codes, uniques = factorize(texts)
    keys = [u.strip().upper() for u in uniques.tolist()]
    if any(k not in table and k != "" for k in keys):
        return None
    found = [getattr(table[k], attr) if k in table else None for k in keys]
    if attr == "visit":
        labels = np.empty(len(found) + 1, dtype=object)
        labels[:] = ["" if v is None else v for v in found] + [""]
        return pd.Series(labels[codes], index=raw.index, dtype=object)
    values = np.empty(len(found) + 1, dtype=object)
    values[:] = found + [None]
    return pd.to_numeric(pd.Series(values[codes], index=raw.index, dtype=object), errors="coerce")


UNDATED_UNSCHEDULED = "TF-MAP-002"


def number_unscheduled(frame, rule: Rule, ctx, visitnum: pd.Series, unscheduled: pd.Series, values: pd.Series,
                       attr: str) -> pd.Series:
    """Unscheduled visits get decimal VISITNUMs after the last scheduled visit on or before their date.

    SDTMIG: the first unscheduled visit after scheduled visit 3 is 3.01, the next (a later date) 3.02;
    records of one subject on one date share the number. VISIT becomes the schedule's label plus the
    number ("UNSCHEDULED 3.01"). A record without a complete date keeps the schedule's number.
    """
    from .dates import iso_date_part
    subject = frame["USUBJID"] if "USUBJID" in frame.columns else pd.Series("", index=frame.index)
    day = iso_date_part(_need(frame, rule.get("date"), rule))
    number = pd.to_numeric(visitnum, errors="coerce").astype(float)
    scheduled = ~unscheduled & number.notna() & day.notna()
    sched = pd.DataFrame({"s": subject[scheduled], "d": day[scheduled], "n": number[scheduled]})
    sched = sched.sort_values(["s", "d", "n"], kind="stable")
    undated = unscheduled & day.isna()
    if undated.any() and attr == "visitnum" and hasattr(ctx, "warn"):
        first, file, row = _location(frame, undated)
        ctx.warn(UNDATED_UNSCHEDULED, rule.variable, f"{int(undated.sum())} unscheduled visit record(s) have no complete "
                 f"{rule.get('date')} and keep the schedule's number", row=row, value=visitnum.at[first], file=file)
    todo = unscheduled & day.notna()
    uns = pd.DataFrame({"s": subject[todo], "d": day[todo], "_i": frame.index[todo]}).sort_values(["d"], kind="stable")
    base = pd.merge_asof(uns, sched.sort_values("d", kind="stable"), on="d", by="s", direction="backward")
    base["n"] = base["n"].fillna(0.0).astype(float)
    base["k"] = base.groupby(["s", "n"], sort=False)["d"].rank(method="dense").astype(int)
    if (base["k"] > 99).any():
        raise RawDataError("more than 99 unscheduled visits between two scheduled visits of a subject",
                           file=rule.file, column=rule.variable)
    numbered = pd.Series((base["n"] + base["k"] / 100).round(2).to_numpy(), index=base["_i"].to_numpy())
    out_num = number.copy()
    out_num.loc[numbered.index] = numbered
    if attr == "visitnum":
        return out_num
    label = values.fillna("").astype(object)
    label.loc[numbered.index] = label.loc[numbered.index] + " " + numbered.map(lambda n: f"{n:.2f}")
    return label


def assign_function(frame, rule: Rule, ctx) -> pd.Series:
    fn = functions.get(str(rule.value))
    args = rule.get("args") or {}
    try:
        result = fn(frame.to_frame() if isinstance(frame, WorkingFrame) else frame, **args)
    except TypeError as exc:
        raise SpecError(f"function {rule.value} called with wrong arguments: {exc}", file=rule.file,
                        column=rule.variable) from None
    if not isinstance(result, pd.Series):
        result = pd.Series([result] * len(frame), index=frame.index)
    return result.reindex(frame.index)


def assign_elapsed(frame, rule: Rule, ctx) -> pd.Series:
    """ISO 8601 duration end − start (e.g. PCELTM 'PT4H', 'P7D', '-PT30M'); partial → blank."""
    start = _need(frame, rule.value["start"], rule).fillna("").astype(str)
    end = _need(frame, rule.value["end"], rule).fillna("").astype(str)
    s = pd.to_datetime(start.where(start.str.len() >= 16), format="%Y-%m-%dT%H:%M", errors="coerce")
    s = s.fillna(pd.to_datetime(start.where(start.str.len() >= 19).str.slice(0, 19), format="%Y-%m-%dT%H:%M:%S",
                                errors="coerce"))
    e = pd.to_datetime(end.where(end.str.len() >= 16).str.slice(0, 16), format="%Y-%m-%dT%H:%M", errors="coerce")
    minutes = (e - s).dt.total_seconds() / 60
    return on_distinct(minutes, lambda u: u.map(iso_duration))         # once per distinct duration


def iso_duration(minutes) -> str:
    """Minutes → ISO 8601 duration: whole days as PnD, else PTnHnM; negative durations get '-'."""
    if minutes is None or pd.isna(minutes):
        return ""
    sign = "-" if minutes < 0 else ""
    m = int(round(abs(minutes)))
    if m == 0:
        return "PT0H"
    days, rem = divmod(m, 1440)
    if rem == 0:
        return f"{sign}P{days}D"
    hours, mins = divmod(m, 60)
    text = "PT" + (f"{hours}H" if hours else "") + (f"{mins}M" if mins else "")
    return sign + text


PHASE1 = {
    "from": assign_no_ct,
    "constant": hardcode,
    "template": assign_template,
    "expr": assign_expr,
    "when": assign_condition,
    "datetime": assign_datetime,
    "visit": lambda f, r, c: assign_visit(f, r, c, "visit"),
    "visitnum": lambda f, r, c: assign_visit(f, r, c, "visitnum"),
    "visitdy": lambda f, r, c: assign_visit(f, r, c, "day"),
    "function": assign_function,
    "elapsed": assign_elapsed,
    "standardize": standardize,
}


def evaluate_rule(rule: Rule, frame: pd.DataFrame, ctx: MappingContext) -> pd.Series:
    """Value of one rule over the frame, modifiers applied."""
    from . import derive
    algorithm = PHASE1.get(rule.kind) or derive.PHASE2.get(rule.kind)
    if algorithm is None:
        raise SpecError(f"rule kind {rule.kind} cannot be used here", file=rule.file, column=rule.variable)
    try:
        values = algorithm(frame, rule, ctx)
        return apply_modifiers(values, rule, frame, ctx)
    except SpecError as exc:
        if exc.file is not None:
            raise
        # an expression or substitution problem: name the spec file and the variable it belongs to
        raise SpecError(f"{rule.variable}: {exc.cause}", file=rule.file, column=exc.column or rule.variable,
                        row=exc.row, value=exc.value) from None


def apply_modifiers(values: pd.Series, rule: Rule, frame: pd.DataFrame, ctx: MappingContext) -> pd.Series:
    """Recode (map), CT decode (ct + synonyms), upper-case, default, numeric type, rounding."""
    if "map" in rule.options:
        values = recode(values, rule, frame)
    if rule.get("ct"):
        values = assign_ct(values, rule, frame, ctx)
    elif rule.get("synonyms"):
        values = recode(values, rule, frame, mapping=rule.get("synonyms"), unmapped="keep")
    if rule.get("upper"):
        values = values.where(values.isna(), values.astype(str).str.upper())
    if "default" in rule.options:
        blank = on_objects(values, lambda v: v.isna() | (v.astype(str).str.strip() == ""))
        values = values.where(~blank, ctx.substitute(rule.get("default")))
    want = str(rule.get("type") or ctx.variable_types.get(rule.variable, "")).lower()
    if want in ("num", "number", "float", "integer"):
        values = to_number(values, rule, frame)
        if rule.get("round") is not None:
            values = values.round(int(rule.get("round")))
    else:
        values = as_text(values)
        if rule.get("round") is not None:
            places = int(rule.get("round"))
            values = on_uniques(values, lambda u: u.map(lambda v: _round_text(v, places)))
    return values


def as_text(values: pd.Series) -> pd.Series:
    """A character variable's values as Python str in an object Series (missing → '').

    Text columns (the usual case) are checked in C and only their missing values replaced; anything
    else (numbers, booleans) is written once per distinct value by ``_text_value``. A text column without
    missing values is returned as it is (name included: the working frame names what it stores).
    """
    if values.dtype == object:
        arr = values.to_numpy()
        if pd.api.types.infer_dtype(arr, skipna=False) == "string":     # text, nothing missing: one C pass
            return values
        kind = pd.api.types.infer_dtype(arr, skipna=True)
        if kind == "string" or kind == "empty":
            missing = pd.isna(arr)
            if missing.any():
                arr = arr.copy()
                arr[missing] = ""
            return pd.Series(arr, index=values.index, dtype=object)
    text = values.where(values.notna(), "").astype(object)
    return on_uniques(text, lambda u: u.map(_text_value))


def _round_text(text: str, places: int) -> str:
    """A number written as text, rounded like its numeric twin ('43.333333' -> '43.33'); other text unchanged."""
    try:
        number = float(text)
    except (TypeError, ValueError):
        return text
    if not np.isfinite(number) or not str(text).strip():
        return text
    return _text_value(round(number, places))


def _text_value(v):
    if isinstance(v, float):
        return "" if np.isnan(v) else (str(int(v)) if v.is_integer() else repr(v))
    return v if isinstance(v, str) else str(v)


def to_number(values: pd.Series, rule: Rule, frame: pd.DataFrame) -> pd.Series:
    """Text → float; a non-blank value that is not a number is an error naming the row."""
    if pd.api.types.is_numeric_dtype(values):
        return values.astype(float)
    fast = _numbers_distinct(values)
    if fast is None:
        fast = _numbers_by_object(values)
    if fast is not None:
        return fast
    text = values.where(values.notna(), "").astype(str).str.strip()
    numbers = pd.to_numeric(text.where(text != ""), errors="coerce")
    bad = numbers.isna() & (text != "")
    if bad.any():
        first, file, row = _location(frame, bad)
        column = rule.value if rule.kind == "from" else rule.variable
        raise RawDataError(f"{rule.variable} must be numeric", file=file, column=column, row=row,
                           value=text.at[first])
    return numbers.astype(float)


def _numbers_distinct(values: pd.Series) -> pd.Series | None:
    """``to_number`` of a text column parsed once per distinct text (pandas' parse, outer blanks
    stripped); None when a non-blank text is no number, so the vectorised path names its row."""
    texts = text_array(values)
    if texts is None:
        return None
    codes, uniques = factorize(texts)
    stripped = [u.strip() for u in uniques.tolist()]
    candidates = np.empty(len(stripped), dtype=object)
    candidates[:] = [t if t != "" else None for t in stripped]
    numbers = np.asarray(pd.to_numeric(pd.Series(candidates, dtype=object), errors="coerce"), dtype=float)
    if any(np.isnan(n) and t != "" for n, t in zip(numbers.tolist(), stripped)):
        return None
    return pd.Series(numbers[codes] if len(codes) else np.array([], dtype=float), index=values.index, dtype=float)


def _numbers_by_object(values: pd.Series) -> pd.Series | None:
    """``to_number`` of an object column of mixed values (numbers and blank text from ``when`` branches) once per
    distinct object, as the vectorised path reads them; None when a value is no number (that path names it)."""
    found = object_identities(values.to_numpy()) if values.dtype == object else None
    if found is None:
        return None
    codes, objects = found
    distinct = pd.Series(objects, dtype=object)
    text = distinct.where(distinct.notna(), "").astype(str).str.strip()
    numbers = pd.to_numeric(text.where(text != ""), errors="coerce")
    if (numbers.isna() & (text != "")).any():
        return None
    return pd.Series(numbers.to_numpy(dtype=float)[codes], index=values.index, dtype=float)


def recode(values, rule: Rule, frame, mapping=None, unmapped=None) -> pd.Series:
    """Raw value → submission value by an explicit table; matching ignores case and outer blanks."""
    mapping = rule.get("map") if mapping is None else mapping
    unmapped = unmapped or rule.get("unmapped", "error")
    table = {str(k).strip().upper(): ("" if v is None else v) for k, v in mapping.items()}
    fast = _recode_distinct(values, table, unmapped)
    if fast is not None:
        return fast
    text = values.fillna("").astype(str)
    key = text.str.strip().str.upper()
    hit = key.isin(table.keys())
    out = key.map(table).where(hit, values)
    missing = ~hit & (key != "")
    if missing.any():
        if unmapped == "error":
            first, file, row = _location(frame, missing)
            column = rule.value if rule.kind == "from" else rule.variable
            raise TerminologyError(f"value has no mapping for {rule.variable} (add it to map:)", file=file,
                                   column=column, row=row, value=text.at[first])
        if unmapped == "blank":
            out = out.where(~missing, "")
    return out.astype(object)


def _recode_distinct(values: pd.Series, table: dict, unmapped: str) -> pd.Series | None:
    """``recode`` of a text column by a text table, keyed once per distinct value; None leaves it (and any
    error to word) to the vectorised path."""
    texts = text_array(values)
    if texts is None or not all(isinstance(v, str) for v in table.values()):
        return None
    codes, uniques = factorize(texts)
    keys = [u.strip().upper() for u in uniques.tolist()]
    hit_u = np.array([k in table for k in keys] + [False], dtype=bool)
    missing_u = np.array([k not in table and k != "" for k in keys] + [False], dtype=bool)
    if unmapped == "error" and missing_u.any():
        return None
    out = values.to_numpy().copy()
    hit = hit_u[codes]
    out[hit] = np.array([table.get(k, "") for k in keys] + [""], dtype=object)[codes][hit]
    if unmapped == "blank":
        out[missing_u[codes]] = ""
    return pd.Series(out, index=values.index, dtype=object)


def assign_ct(values, rule: Rule, frame, ctx) -> pd.Series:
    """Raw value → CT submission value (sdtm.oak's assign_ct), study synonyms first; unmapped fails loudly.

    Extensible codelists accept a value outside the list only if the spec says ``unmapped: keep``.
    """
    try:
        codelist = ctx.ct.codelist(rule.get("ct"))
    except SpecError as exc:
        hint = did_you_mean(rule.get("ct"), [c.short_name for c in ctx.ct.codelists if c.short_name])
        raise SpecError(f"{exc.cause}{hint}; ct: takes a codelist submission value (AESEV) or C-code (C66769)",
                        file=rule.file, column=rule.variable, value=rule.get("ct")) from None
    synonyms = rule.get("synonyms") or {}
    policy = rule.get("unmapped", "error")
    fast = _ct_distinct(values, codelist, synonyms, policy)
    if fast is not None:
        return fast
    text = values.where(values.notna(), "").astype(str)
    codes, uniques = pd.factorize(text)             # decode each distinct value once, then take per row
    uniq = pd.Series(uniques, dtype=object)
    mapped_u, unmapped_u = codelist.decode(uniq, synonyms=synonyms)
    mapped = pd.Series(np.asarray(mapped_u.astype(object).where(mapped_u.notna(), None), dtype=object)[codes],
                       index=text.index, dtype=object)
    unmapped_mask = pd.Series(unmapped_u.to_numpy(dtype=bool)[codes], index=text.index)
    if unmapped_mask.any():
        if policy == "error" or (policy == "keep" and not codelist.extensible):
            first, file, row = _location(frame, unmapped_mask)
            column = rule.value if rule.kind == "from" else rule.variable
            raise TerminologyError(
                f"value is not in codelist {codelist.short_name} ({codelist.code}) for {rule.variable}; "
                f"add a synonym in the spec", file=file, column=column, row=row, value=values.at[first])
        mapped = mapped.where(~unmapped_mask, values if policy == "keep" else "")
    return mapped.astype(object)


def _ct_distinct(values: pd.Series, codelist, synonyms, policy) -> pd.Series | None:
    """``assign_ct`` for a text column without pandas per call: decode the distinct texts once, take per row.

    None (the caller's vectorised path decides and words the error) for non-text values or any
    unmapped value that the policy does not blank or keep.
    """
    texts = text_array(values)
    if texts is None:
        return None
    arr = values.to_numpy()
    codes, uniques = factorize(texts)
    decoded = codelist.decode_texts(uniques.tolist(), synonyms=synonyms)
    if decoded is not None:                         # a few ASCII texts: plain lists, no Series per call
        mapped_list, unmapped_list = decoded
        mapped_u = np.empty(len(mapped_list), dtype=object)
        mapped_u[:] = mapped_list
        unmapped_u = np.array(unmapped_list, dtype=bool)
    else:
        mapped_s, unmapped_s = codelist.decode(pd.Series(uniques, dtype=object), synonyms=synonyms)
        mapped_u = np.asarray(mapped_s.astype(object).where(mapped_s.notna(), None), dtype=object)
        unmapped_u = unmapped_s.to_numpy(dtype=bool)
    unmapped = unmapped_u[codes]
    if unmapped.any() and (policy == "error" or (policy == "keep" and not codelist.extensible)):
        return None
    mapped = mapped_u[codes]
    if unmapped.any():
        mapped[unmapped] = arr[unmapped] if policy == "keep" else ""
    return pd.Series(mapped, index=values.index, dtype=object)
