"""Pandera schemas built from dataset metadata: the value-level half of the gate.

A schema is data you can build, inspect and print (``trialforge validate --show-schema``), one
per dataset; each check carries its rule id as name, so pandera's failure cases map straight back
to catalogue rules and Findings.
"""
from __future__ import annotations

import warnings

import pandas as pd
import pandera.pandas as pa

from .context import findings_at
from .registry import RULES, applies
from .rules_core import COLUMN_RULES


def _check(rule, var, ctx):
    def fn(series: pd.Series):
        failing = rule.check(series, var, ctx)
        return ~failing.fillna(False).astype(bool)
    return pa.Check(fn, name=rule.id, element_wise=False)


def build_schema(dataset, ctx) -> pa.DataFrameSchema:
    """One pandera DataFrameSchema per dataset: every applicable column rule on every variable."""
    columns = {}
    for name in dataset.frame.columns:
        var = dataset.meta.variable(name) or _standard_variable(dataset, name, ctx)
        if var is None:
            continue
        checks = []
        for rule in COLUMN_RULES:
            if rule.scope not in (ctx.scope, "ANY") or not applies(rule, dataset.name):
                continue
            sample = rule.check(dataset.frame[name].iloc[:0], var, ctx)
            if sample is None:
                continue
            checks.append(_check(rule, var, ctx))
        columns[name] = pa.Column(None, nullable=True, required=False, checks=checks)
    return pa.DataFrameSchema(columns, name=dataset.name, strict=False, coerce=False)


def _standard_variable(dataset, name, ctx):
    try:
        return ctx.standard.variable(dataset.name, name)
    except Exception:
        return None


def run_schema(dataset, ctx):
    """Validate with pandera (lazy) and turn its failure cases into Findings."""
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
