"""Rule families: one vectorised check shape, many registered rules, each row of a table one rule.

Pinnacle 21 and CORE state hundreds of rules that share a handful of shapes ("X is missing when Y
is populated", "X is inconsistent within Y", "variable X is present but Y is not"). Each shape is
one function here; the rule modules register one catalogue rule per table row (its own id,
severity, Pinnacle 21 / publisher ids), so every rule still has its own pair of tests.

Variable names in a table are regular expressions over column names; ``--`` stands for the
dataset's two-letter prefix, and groups (``(\\d\\d)`` for ADaMIG's xx/zz, ``(\\d)`` for y) are
carried over to the partner name (``TRT(\\d\\d)P`` -> ``TRT\\1PN``).
"""
from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import pandas as pd

from .context import finding_table_at, findings_at, group_codes, populated, profile, text, text_match
from .finding_table import FindingTable
from .registry import RULES, register

TRIAL_DESIGN = ("TA", "TE", "TI", "TS", "TV", "TD", "TM")
# a number as a result is written: plain decimal, no exponent, no "<", no leading zero ("08" is a code)
NUMBER_RX = r"^[+-]?((0|[1-9][0-9]*)(\.[0-9]*)?|\.[0-9]+)$"


def _prefix(dataset) -> str:
    name = dataset.name.upper()
    return "" if name.startswith("SUPP") or name == "RELREC" else name[:2]


def expand(pattern: str, dataset) -> str:
    return pattern.replace("--", _prefix(dataset))


@lru_cache(maxsize=4096)
def _rx(pattern: str) -> re.Pattern:
    return re.compile(pattern)


def matches(pattern: str, dataset):
    """(column, match) for every column whose name fully matches ``pattern`` (a few hundred table rules
    ask this of every dataset, so the answer is kept per pattern and column list)."""
    expanded = expand(pattern, dataset)
    columns = dataset.frame.columns
    key = (expanded, id(columns))
    hit = _MATCHES.get(key)
    if hit is None or hit[0] is not columns:
        if _is_literal(expanded):            # most table rows name one variable: no pattern to compile
            found = [(col, _Literal(expanded)) for col in _by_name(columns).get(expanded, ())]
        else:
            rx = _rx(expanded)
            found = [(col, m) for col in columns for m in (rx.fullmatch(str(col)),) if m]
        if len(_MATCHES) >= 20000:
            _MATCHES.clear()
        hit = _MATCHES[key] = (columns, found)
    return iter(hit[1])


_MATCHES: dict = {}


def _by_name(columns) -> dict:
    """``str(col)`` -> the columns of that name, in order, per column list (a name is looked up, not compared
    with every column: ~800 literal table patterns x every dataset on the first run of a process)."""
    hit = _BY_NAME.get(id(columns))
    if hit is None or hit[0] is not columns:
        names: dict = {}
        for col in columns:
            names.setdefault(str(col), []).append(col)
        if len(_BY_NAME) >= 1024:
            _BY_NAME.clear()
        hit = _BY_NAME[id(columns)] = (columns, names)
    return hit[1]


_BY_NAME: dict = {}


@lru_cache(maxsize=4096)
def _is_literal(pattern: str) -> bool:
    return re.escape(pattern) == pattern


class _Literal:
    """The match of a pattern without regex syntax (the column name itself). Callers only ``expand`` a partner
    template with it, which is the template itself unless it holds a backslash (then the real match answers,
    group references and their errors included). Why: compiling some 800 such names per process also pushed
    other patterns out of ``re``'s cache of 512."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def expand(self, template: str) -> str:
        if "\\" in template:
            return _rx(self.name).fullmatch(self.name).expand(template)
        return template


def partner(match, template: str, dataset) -> str:
    return match.expand(expand(template, dataset))


def filled(frame, col) -> pd.Series:
    """Populated (not null, not blank) for a column; all False when the column is absent."""
    if col not in frame:
        return pd.Series(False, index=frame.index)
    return populated(frame[col])


SCIENTIFIC_RX = r"^[+-]?((0|[1-9][0-9]*)(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"


def numeric_text(values: pd.Series, *, scientific: bool = False) -> pd.Series:
    """Plain decimal text; ``scientific=True`` also accepts E-notation (a collected result such as 1.52E+05)."""
    rx = SCIENTIFIC_RX if scientific else NUMBER_RX
    return text_match(values, rx)


def in_scope(dataset, domains) -> bool:
    name = dataset.name.upper()
    if not domains:
        return name not in TRIAL_DESIGN
    return any(name == d or (d.endswith("*") and name.startswith(d[:-1])) for d in domains)


def _register(row, check, scope, category):
    rule_id, severity, message, p21, publisher = row[:5]
    register(rule_id, severity, message, scope=scope, p21=p21, publisher=publisher, category=category)(check)


# ---- value presence -------------------------------------------------------------------------------

def missing_when(rows, *, scope, category="Consistency"):
    """Rows: (id, severity, message, p21, publisher, target, [conditions], domains). A finding per
    record where a condition variable is populated and ``target`` is not. An absent target column
    is a variable-presence question (TF-STR-002, TF-VAR-*), not judged here."""
    for row in rows:
        target, conditions, domains = row[5], row[6], row[7] if len(row) > 7 else ()

        def check(dataset, ctx, target=target, conditions=conditions, domains=domains, rid=row[0]):
            if not in_scope(dataset, domains):
                return []
            f = dataset.frame
            out = []
            for col, m in matches(conditions[0], dataset):
                conds = [col] + [partner(m, c, dataset) for c in conditions[1:]]
                want = partner(m, target, dataset)
                if want not in f:
                    continue
                given = np.logical_or.reduce([filled(f, c).to_numpy() for c in conds])
                bad = pd.Series(given & ~filled(f, want).to_numpy(), index=f.index)
                out += findings_at(RULES[rid], dataset, bad, variable=want,
                                   message=f"{want} is null while {'/'.join(c for c in conds if c in f)} is populated")
            return out
        _register(row, check, scope, category)


def populated_when(rows, *, scope, category="Consistency"):
    """Rows: (id, severity, message, p21, publisher, target, condition, domains). ``condition`` is a
    callable (frame, dataset) -> mask of records where ``target`` must be null."""
    for row in rows:
        target, condition, domains = row[5], row[6], row[7] if len(row) > 7 else ()

        def check(dataset, ctx, target=target, condition=condition, domains=domains, rid=row[0]):
            if not in_scope(dataset, domains):
                return []
            out = []
            for col, _ in matches(target, dataset):
                when = condition(dataset.frame, dataset, ctx)
                if when is None:
                    continue
                out += findings_at(RULES[rid], dataset, when & filled(dataset.frame, col), variable=col)
            return out
        _register(row, check, scope, category)


# ---- variable presence ----------------------------------------------------------------------------

def variable_needs(rows, *, scope, category="Presence"):
    """Rows: (id, severity, message, p21, publisher, present, [needed alternatives], domains). One
    finding per dataset where ``present`` exists and none of the needed variables does."""
    for row in rows:
        present, needed, domains = row[5], row[6], row[7] if len(row) > 7 else ()

        def check(dataset, ctx, present=present, needed=needed, domains=domains, rid=row[0]):
            if not in_scope(dataset, domains):
                return []
            out = []
            cols = set(dataset.frame.columns)
            for col, m in matches(present, dataset):
                want = [partner(m, n, dataset) for n in needed]
                if not any(w in cols for w in want):
                    out.append(RULES[rid].finding(dataset.name, variable="/".join(want), value=col,
                                                  message=f"{col} is present but {' or '.join(want)} is not"))
            return out
        _register(row, check, scope, category)


# ---- one-to-one ------------------------------------------------------------------------------------

def inconsistent(dataset, key: str, val: str, within=(), rule=None) -> list:
    """Records whose ``val`` differs from the most common ``val`` of their (within..., key) group,
    counting only records where both are populated. Works on the columns' distinct-value codes."""
    f = dataset.frame
    if key not in f or val not in f:
        return []
    kp, vp = profile(f[key]), profile(f[val])
    kc, vc = kp.codes, vp.codes
    sel = ~kp.blank[kc] & ~vp.blank[vc]          # (a column of numbers is not spelled for this)
    if not sel.any():
        return []
    # group = (within..., key) as one integer per selected record, pair = (group, value): all on codes
    cols = [w for w in within if w in f and w not in (key, val)] + [key]
    combined = group_codes(f, cols)[sel]
    value = vc[sel].astype(np.int64)
    if _one_value_per_group(combined, value, [profile(f[c]).width for c in cols]):
        return []
    group = pd.factorize(combined)[0].astype(np.int64)
    width = vp.width
    pairs, counts = np.unique(group * width + value, return_counts=True)
    pair_group, pair_value = pairs // width, pairs % width
    many = np.bincount(pair_group) > 1                 # groups holding more than one distinct value
    if not many.any():
        return []
    # the usual value of a group: the most frequent, ties to the lowest code (first seen)
    order = np.lexsort((pair_value, -counts, pair_group))
    first = order[np.r_[True, pair_group[order][1:] != pair_group[order][:-1]]]
    usual = np.empty(len(many), dtype=np.int64)
    usual[pair_group[first]] = pair_value[first]
    flag = many[group] & (value != usual[group])
    bad = pd.Series(False, index=f.index)
    bad.iloc[np.flatnonzero(sel)[flag]] = True
    return findings_at(rule, dataset, bad, variable=val, values=lambda: text(f[key]) + " -> " + text(f[val]),
                       message=f"{val} differs within {key}" + (f" (by {', '.join(within)})" if within else ""))


def _one_value_per_group(group: np.ndarray, value: np.ndarray, widths: list) -> bool:
    """Whether every record holds its group's value (no group holds two), told without sorting the pairs.

    Why: the one-to-one rules (TESTCD/TEST, PARAMCD/PARAM ...) run on every dataset and almost never find
    anything; sorting every record's (group, value) pair to prove it was most of their cost. One value per
    group is written into a table indexed by group (any record's value: they must all agree) and read back;
    groups are the combined codes themselves when they are few enough (``widths``: the columns' code
    widths, whose product bounds them), else numbered by ``pd.factorize``."""
    if not len(group):
        return True
    bound = 1
    for width in widths:
        bound *= int(width)
    if bound > 4 * len(group) + 1024:
        group = pd.factorize(group)[0]
        bound = int(group.max()) + 1
    held = np.empty(bound, dtype=np.int64)
    held[group] = value
    return bool((held[group] == value).all())


def one_to_one(rows, *, scope, category="Consistency"):
    """Rows: (id, severity, message, p21, publisher, key, val, within, domains): ``val`` must be the
    same for every record with the same ``key`` (within the ``within`` variables when present)."""
    for row in rows:
        key, val, within = row[5], row[6], row[7] if len(row) > 7 else ()
        domains = row[8] if len(row) > 8 else ()

        def check(dataset, ctx, key=key, val=val, within=within, domains=domains, rid=row[0]):
            if not in_scope(dataset, domains):
                return []
            out = []
            within_cols = tuple(expand(w, dataset) for w in within)
            for col, m in matches(key, dataset):
                if "\\d" in val:          # a family of value variables (PARCATy, CRITy) per key
                    targets = [c for c, _ in matches(m.expand(val.replace("\\d", "\x00")).replace("\x00", "\\d")
                                                     if "\\1" in val else val, dataset)]
                else:
                    targets = [partner(m, val, dataset)]
                for target in targets:
                    out += inconsistent(dataset, col, target, within_cols, RULES[rid])
            return out
        _register(row, check, scope, category)


# ---- values ---------------------------------------------------------------------------------------

def value_rule(rows, *, scope, category="Consistency"):
    """Rows: (id, severity, message, p21, publisher, variable, bad(values: text Series) -> mask, domains).
    ``bad`` is element-wise over trimmed text, so it runs once per distinct value of the column (its second
    argument is None: a test that needed the raw records would not be a value rule)."""
    for row in rows:
        var, bad_fn, domains = row[5], row[6], row[7] if len(row) > 7 else ()

        def check(dataset, ctx, var=var, bad_fn=bad_fn, domains=domains, rid=row[0]):
            if not in_scope(dataset, domains):
                return []
            parts = []       # as columns: a value rule may flag thousands of records (negative study days)
            for col, _ in matches(var, dataset):
                prof = profile(dataset.frame[col])
                values = prof.values
                flags = np.asarray(bad_fn(values, None) & (values != ""), dtype=bool)
                if (flags & prof.present).any():
                    found = finding_table_at(RULES[rid], dataset, dataset.frame.index[flags[prof.codes]],
                                             variable=col)
                    if found is not None:
                        parts.append(found)
            return FindingTable.join(parts) if parts else []
        _register(row, check, scope, category)


def number(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series, errors="coerce") if not pd.api.types.is_numeric_dtype(series) \
        else series.astype(float)


def close(a: pd.Series, b: pd.Series, rtol=1e-9) -> pd.Series:
    a, b = a.astype(float), b.astype(float)
    return pd.Series(np.isclose(a, b, rtol=rtol, atol=1e-12), index=a.index) | (a.isna() & b.isna())
