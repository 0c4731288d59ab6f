"""Pandera schemas built from dataset metadata: the value-level half of the gate.

A schema is data you can build, inspect and print (``trialforge validate --show-schema``), one
per dataset; each check carries its rule id as name, so pandera's failure cases map straight back
to catalogue rules and Findings. The runner evaluates the very same column functions directly
(``column_findings``), which gives identical findings without pandera's per-check overhead;
``run_schema`` is the pandera path and a test keeps the two in agreement.
"""
from __future__ import annotations

import warnings

import pandas as pd

from .context import ValueMask, finding_table_at, findings_at, plain_ascii_text
from .finding_table import FindingTable
from .registry import RULES, applies, rules_for


def _column_rules(dataset, ctx):
    return [r for r in rules_for(ctx.scope, "column") if applies(r, dataset.name)]


def column_masks(dataset, ctx, rules=None):
    """(rule, column, failing mask) for every applicable column rule on every known variable."""
    rules = [r for r in (rules if rules is not None else _column_rules(dataset, ctx)) if applies(r, dataset.name)]
    for name in dataset.frame.columns:
        var = ctx.variable(dataset, name)
        if var is None:
            continue
        series = dataset.frame[name]          # profiled by the first rule that needs its distinct values
        for rule in rules:
            mask = rule.check(series, var, ctx)
            if mask is not None:
                yield rule, name, mask


def _column_masks_cleared(dataset, ctx, rules=None):
    """``column_masks`` without the byte-level rules on columns whose bytes are plain (see column_findings)."""
    from .rules_core import ascii_value, value_length
    byte_rules = (value_length, ascii_value)
    rules = [r for r in (rules if rules is not None else _column_rules(dataset, ctx)) if applies(r, dataset.name)]
    frame = dataset.frame
    for name in frame.columns:
        var = ctx.variable(dataset, name)
        if var is None:
            continue
        series = frame[name]
        plain = None
        for rule in rules:
            if rule.check in byte_rules:
                if plain is None:
                    plain = plain_ascii_text(series)
                if plain:
                    continue
            mask = rule.check(series, var, ctx)
            if mask is not None:
                yield rule, name, mask


def as_mask(mask) -> pd.Series:
    """A rule's result as a plain bool Series (missing = not failing)."""
    if isinstance(mask, ValueMask):
        return mask.to_series()
    if mask.dtype == bool:
        return mask
    return mask.astype("boolean").fillna(False).astype(bool)


def column_findings(dataset, ctx, rules=None):
    """Findings of the column rules, evaluated directly on whole columns (the fast path), as a ``FindingTable``
    (``[]`` when there is none): a rule flagging thousands of records (a value outside an extensible codelist)
    goes into the report as columns, without an object per finding.

    Same findings as ``column_masks`` gives, in the same order; the byte-level rules (TF-XPT-001 length,
    TF-XPT-002 printable ASCII) are skipped on a text column ``plain_ascii_text`` clears from Arrow's buffers,
    where neither can fail (so no profile is built for a column no other rule reads)."""
    parts = []
    index = dataset.frame.index
    for rule, name, mask in _column_masks_cleared(dataset, ctx, rules):
        if isinstance(mask, ValueMask):       # judged on distinct values; records built only for failures
            found = finding_table_at(rule, dataset, index[mask.positions()], variable=name) if mask.any() else None
        else:
            mask = as_mask(mask)
            found = finding_table_at(rule, dataset, mask, variable=name) if mask.any() else None
        if found is not None:
            parts.append(found)
    return FindingTable.join(parts) if parts else []


def _check(rule, var, ctx):
    import pandera.pandas as pa

    def fn(series: pd.Series):
        return ~as_mask(rule.check(series, var, ctx))
    return pa.Check(fn, name=rule.id, element_wise=False)


def build_schema(dataset, ctx):
    """One pandera DataFrameSchema per dataset: every applicable column rule on every variable."""
    import pandera.pandas as pa
    columns = {}
    rules = _column_rules(dataset, ctx)
    for name in dataset.frame.columns:
        var = ctx.variable(dataset, name)
        if var is None:
            continue
        empty = dataset.frame[name].iloc[:0]
        checks = [_check(rule, var, ctx) for rule in rules if rule.check(empty, var, ctx) is not None]
        columns[name] = pa.Column(None, nullable=True, required=False, checks=checks)
    return pa.DataFrameSchema(columns, name=dataset.name, strict=False, coerce=False)


def run_schema(dataset, ctx):
    """Validate with pandera (lazy) and turn its failure cases into Findings."""
    import pandera.pandas as pa
    schema = build_schema(dataset, ctx)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            schema.validate(dataset.frame, lazy=True)
        return []
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    findings = []
    cases = cases[cases["check"].isin(RULES.keys()) & cases["index"].notna()]
    for (rule_id, column), group in cases.groupby(["check", "column"], sort=True):
        rule = RULES[rule_id]
        index = pd.Index(group["index"].astype(int).unique())
        findings += findings_at(rule, dataset, index, variable=column)
    return findings
