"""Mapping specs authored in Excel: one row per target variable, converted to the YAML spec form.

Sheet ``Mapping``: Dataset, Variable, Rule (a rule kind), Source (the kind's main value: a raw
column, a constant, a template, an expression ...), Arguments (``key: value, key: value`` as in a
YAML mapping: the kind's own keys and any modifier) and Condition (an expression). Several rows
for one variable with conditions become one ``when:`` rule, a row without condition after them its
``else``. A variable named ``SUPP.QNAM`` is a SUPP-- entry (its arguments give ``qlabel`` ...).
Sheet ``Sources``: Dataset, Name, File, Filter, Keys (one row per raw source; Keys on any row).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from ..errors import SpecError
from .spec import (AGGREGATE_KEYS, BASELINE_KEYS, DATETIME_KEYS, ELAPSED_KEYS, RULE_KINDS, STANDARDIZE_KEYS,
                   parse_rule)
from .yamlio import SpecLoader

MAPPING_COLUMNS = ("Dataset", "Variable", "Rule", "Source", "Arguments", "Condition")
SOURCES_COLUMNS = ("Dataset", "Name", "File", "Filter", "Keys")
# kinds whose value is a mapping, the key the Source cell fills, and the keys Arguments may add to it
DICT_KINDS = {"datetime": ("date", DATETIME_KEYS), "aggregate": ("value", AGGREGATE_KEYS),
              "standardize": ("result", STANDARDIZE_KEYS), "baseline": ("date", BASELINE_KEYS),
              "elapsed": ("start", ELAPSED_KEYS)}
NO_SOURCE_KINDS = {"seq": True}
SUPP_PREFIX = "SUPP."
SUPP_ONLY = {"qnam", "qlabel", "qorig", "qeval", "idvar", "source", "when_text"}


@dataclass(frozen=True)
class _Row:
    number: int
    values: dict


def _rows(book, sheet: str, columns, file) -> list[_Row]:
    if sheet not in book.sheetnames:
        raise SpecError(f"the mapping workbook needs a sheet {sheet} with columns {', '.join(columns)}", file=file)
    rows = list(book[sheet].iter_rows(values_only=True))
    header = ["" if h is None else str(h).strip() for h in (rows[0] if rows else ())]
    for col in columns[:3]:
        if col not in header:
            raise SpecError(f"sheet {sheet} lacks column {col!r}; columns: {', '.join(columns)}", file=file,
                            column=f"{sheet}!{col}")
    out = []
    for n, row in enumerate(rows[1:], start=2):
        values = {h: ("" if v is None else (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)).strip())
                  for h, v in zip(header, row) if h}
        if any(values.values()):
            out.append(_Row(n, values))
    return out


def _arguments(text: str, file, row: int) -> dict:
    if not text:
        return {}
    try:
        data = yaml.load("{" + text + "}", Loader=SpecLoader)
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SpecError(f"Arguments are not 'key: value, key: value' ({problem})", file=file,
                        column="Mapping!Arguments", row=row, value=text) from None
    return data


def _rule(row: _Row, file) -> dict:
    """One row's rule as its YAML mapping."""
    v = row.values
    kind = v.get("Rule", "").strip().lower() or ("from" if v.get("Source") else "")
    if kind not in RULE_KINDS:
        raise SpecError(f"unknown rule kind for {v.get('Variable')}; use one of {', '.join(sorted(RULE_KINDS))}",
                        file=file, column="Mapping!Rule", row=row.number, value=v.get("Rule", ""))
    args = _arguments(v.get("Arguments", ""), file, row.number)
    source = v.get("Source", "")
    if kind in DICT_KINDS:
        main, keys = DICT_KINDS[kind]
        inner = {}
        if kind == "aggregate" and "." in source and "domain" not in args:
            inner["domain"], inner["value"] = source.split(".", 1)      # Source EX.EXSTDTC
        elif source:
            inner[main] = source
        inner.update({k: args.pop(k) for k in list(args) if k in keys})
        rule = {kind: inner}
    elif kind == "seq":
        rule = {"seq": True if not args.get("by") else {"by": args.pop("by")}}
    else:
        rule = {kind: source}
    rule.update(args)
    return rule


def _variable_rules(rows: list[_Row], file) -> dict:
    """Rows of one variable -> its rule (conditional rows become one when: rule)."""
    if len(rows) == 1 and not rows[0].values.get("Condition"):
        return _rule(rows[0], file)
    branches, otherwise = [], None
    for row in rows:
        rule = _rule(row, file)
        condition = row.values.get("Condition", "")
        if condition:
            if otherwise is not None:
                raise SpecError("a row with a Condition follows the row without one (the else); put the else last",
                                file=file, column="Mapping!Condition", row=row.number, value=condition)
            then = rule[next(iter(rule))] if list(rule) == ["constant"] else rule
            branches.append({"if": condition, "then": then})
        elif otherwise is None:
            otherwise = rule
        else:
            raise SpecError(f"{row.values.get('Variable')} has two rows without a Condition", file=file,
                            column="Mapping!Condition", row=row.number)
    out = {"when": branches}
    if otherwise is not None:
        out["else"] = otherwise[next(iter(otherwise))] if list(otherwise) == ["constant"] else otherwise
    return out


def mapping_specs(path) -> dict[str, dict]:
    """Dataset -> the YAML spec mapping the sheet describes (each variable's rule checked by the spec parser)."""
    import openpyxl
    path = Path(path)
    file = str(path)
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # not a workbook
        raise SpecError(f"cannot read mapping workbook: {str(exc).splitlines()[0]}", file=file) from None
    try:
        mapping = _rows(book, "Mapping", MAPPING_COLUMNS, file)
        sources = _rows(book, "Sources", SOURCES_COLUMNS, file)
    finally:
        book.close()
    specs: dict[str, dict] = {}
    for row in sources:
        ds = row.values["Dataset"].upper()
        spec = specs.setdefault(ds, {"domain": ds, "keys": [], "sources": {}, "variables": {}})
        if row.values.get("Keys"):
            spec["keys"] = [k.strip().upper() for k in row.values["Keys"].replace(";", ",").split(",") if k.strip()]
        name = row.values.get("Name") or ds.lower()
        source = {"file": row.values.get("File", "")}
        if row.values.get("Filter"):
            source["filter"] = row.values["Filter"]
        spec["sources"][name] = source
    by_variable: dict[tuple, list[_Row]] = {}
    for row in mapping:
        ds = row.values["Dataset"].upper()
        if ds not in specs:
            raise SpecError(f"dataset {ds} has no row in the Sources sheet (Dataset, Name, File)", file=file,
                            column="Mapping!Dataset", row=row.number, value=ds)
        by_variable.setdefault((ds, row.values["Variable"].upper()), []).append(row)
    for (ds, variable), rows in by_variable.items():
        rule = _variable_rules(rows, file)
        if variable.startswith(SUPP_PREFIX):
            entry = {"qnam": variable[len(SUPP_PREFIX):], **rule}
            specs[ds].setdefault("supp", []).append(entry)
            continue
        try:
            parse_rule(variable, rule, file=file)
        except SpecError as exc:
            raise SpecError(exc.cause, file=file, column=f"Mapping!{variable}", row=rows[0].number,
                            value=exc.value) from None
        specs[ds]["variables"][variable] = rule
    return specs


def _flow(value) -> str:
    return yaml.safe_dump(value, default_flow_style=True, width=10 ** 6, sort_keys=False).strip()


def spec_yaml(spec: dict) -> str:
    """A readable YAML spec: one line per source, variable and SUPP entry."""
    lines = [f"domain: {spec['domain']}"]
    if spec.get("keys"):
        lines.append(f"keys: {_flow(spec['keys'])}")
    lines.append("sources:")
    lines += [f"  {name}: {_flow(src)}" for name, src in spec["sources"].items()]
    lines.append("variables:")
    lines += [f"  {name}: {_flow(rule)}" for name, rule in spec["variables"].items()]
    if spec.get("supp"):
        lines.append("supp:")
        lines += [f"  - {_flow(entry)}" for entry in spec["supp"]]
    return "\n".join(lines) + "\n"
