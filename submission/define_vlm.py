"""Value-level metadata: where one variable's meaning depends on a test/parameter code.

A table of rules says which datasets get a ValueListDef, split by which variable, for which
result variables. Each distinct value of the split variable in the data becomes one
WhereClauseDef (`<by> EQ <value>`) and, per result variable, one value-level ItemDef whose
DataType/Length come from that slice of the data (LBORRES for ALT is float, for a urine colour
text). Slices with no non-missing result are not described. SUPP-- slices also take their
def:Origin from QORIG (CRF -> Collected; a slice whose records differ lists each origin).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pandas as pd

from trialforge.specs.metadata import Dataset, VariableMeta

from .define_attrs import ItemAttrs, slice_attrs_of
from .define_codelists import decode_variable
from .define_columns import ColumnFacts


@dataclass(frozen=True)
class VlmRule:
    """Datasets matching `applies` get value-level metadata split by `by(ds)` for `results(ds)`."""

    name: str
    applies: Callable[[Dataset], bool]
    by: Callable[[Dataset], str]
    results: Callable[[Dataset], tuple[str, ...]]
    origin_from: str | None = None      # a column holding each record's origin (SUPP-- QORIG)


def _findings_prefix(ds: Dataset) -> str:
    return ds.name[:2]


def _is_supp(ds: Dataset) -> bool:
    return ds.name.startswith("SUPP") and "QNAM" in ds.meta.variable_names


def _is_findings(ds: Dataset) -> bool:
    return (not _is_supp(ds) and f"{_findings_prefix(ds)}TESTCD" in ds.meta.variable_names
            and ds.meta.standard.upper().startswith("SDTM"))


def _is_bds(ds: Dataset) -> bool:
    return "PARAMCD" in ds.meta.variable_names and ds.meta.standard.upper().startswith("ADAM")


VLM_RULES: tuple[VlmRule, ...] = (
    VlmRule("SDTM findings by --TESTCD (LB, PC, TR, RS, VS ...)", _is_findings,
            lambda ds: f"{_findings_prefix(ds)}TESTCD",
            lambda ds: tuple(f"{_findings_prefix(ds)}{s}" for s in ("ORRES", "STRESC", "STRESN"))),
    VlmRule("SUPP-- by QNAM", _is_supp, lambda ds: "QNAM", lambda ds: ("QVAL",), origin_from="QORIG"),
    VlmRule("ADaM BDS by PARAMCD", _is_bds, lambda ds: "PARAMCD", lambda ds: ("AVAL", "AVALC")),
)


@dataclass(frozen=True)
class ValueItem:
    """One value-level ItemDef + its WhereClause."""

    dataset: str
    variable: VariableMeta
    by: str
    value: str
    attrs: ItemAttrs
    mandatory: bool
    origin: str | None = None           # Define-XML origin type of this slice, when the data say it

    @property
    def item_oid(self) -> str:
        return f"IT.{self.dataset}.{self.variable.name}.{oid_part(self.value)}"

    @property
    def where_oid(self) -> str:
        return f"WC.{self.dataset}.{self.by}.{oid_part(self.value)}"


@dataclass(frozen=True)
class ValueList:
    dataset: str
    variable: VariableMeta
    items: tuple[ValueItem, ...]

    @property
    def oid(self) -> str:
        return f"VL.{self.dataset}.{self.variable.name}"


def oid_part(value: str) -> str:
    """A data value made safe for an OID segment (whitespace -> '_')."""
    return "_".join(str(value).split())


def value_lists(ds: Dataset, rules: tuple[VlmRule, ...] = VLM_RULES,
                facts: ColumnFacts | None = None) -> list[ValueList]:
    """The ValueLists of one dataset, in variable order, slices sorted by split value.

    ``facts``: the dataset's factorised columns when the caller shares them (define_columns)."""
    frame = ds.frame
    facts = facts if facts is not None else ColumnFacts(frame)
    out: list[ValueList] = []
    for rule in rules:
        if not rule.applies(ds):
            continue
        by = rule.by(ds)
        if by not in frame.columns:
            continue
        split_values = sorted({t for t in facts.column(by).texts if t is not None})
        for result in rule.results(ds):
            var = ds.meta.variable(result)
            if var is None or result not in frame.columns:
                continue
            other = rule.origin_from if rule.origin_from and rule.origin_from in frame.columns else None
            slices = facts.groups(by, [result] + ([other] if other else []))
            items = []
            for value in split_values:          # loop over distinct codes, not rows
                rows = slices[value]
                readings = facts.column(result).distinct(rows[:, 0])
                if _all_missing(readings, var):
                    continue
                origin = slice_origin(facts.column(other).distinct(rows[:, 1]).texts) if other else None
                items.append(ValueItem(ds.name, var, by, value, slice_attrs_of(readings, var),
                                       var.core == "Req", origin))
            if items:
                out.append(ValueList(ds.name, var, tuple(stated_value_level(ds, item) for item in items)))
        break                                   # first matching rule only
    return out


def stated_value_level(ds: Dataset, item: ValueItem) -> ValueItem:
    """A slice as a define spec workbook states it (DatasetMeta.value_level): its length, significant
    digits and origin win over what the data say; unstated attributes stay data-derived."""
    for row in getattr(ds.meta, "value_level", ()):
        if row.variable == item.variable.name and tuple(row.where) == ((item.by, "EQ", (item.value,)),):
            stated = row.meta
            attrs = item.attrs
            if stated.length is not None or stated.significant_digits is not None:
                from dataclasses import replace as _replace
                attrs = _replace(attrs, length=stated.length if stated.length is not None else attrs.length,
                                 significant_digits=stated.significant_digits if stated.significant_digits is not None
                                 else attrs.significant_digits,
                                 data_derived_length=attrs.data_derived_length and stated.length is None)
            return ValueItem(item.dataset, item.variable, item.by, item.value, attrs,
                             item.mandatory if stated.core is None else stated.core == "Req",
                             stated.origin or item.origin)
    return item


# QORIG wording (SDTMIG: CRF, ASSIGNED, DERIVED ...) -> Define-XML 2.1 origin type.
_QORIG = {"crf": "Collected", "collected": "Collected", "edt": "Collected", "derived": "Derived",
          "assigned": "Assigned", "protocol": "Protocol", "predecessor": "Predecessor"}


def slice_origin(texts) -> str | None:
    """The origin types of a slice's records ('Collected', or 'Collected|Derived' when they differ),
    from their present QORIG texts; None when a QORIG is not an origin this table knows (then the
    parent's origin holds)."""
    kinds = {_QORIG.get(v.strip().lower()) for v in texts}
    if not kinds or None in kinds:
        return None
    return "|".join(sorted(kinds))


def _all_missing(readings, var: VariableMeta) -> bool:
    """No value of the slice is present (numeric: none reads as a number)."""
    if var.is_numeric:
        return len(readings.numbers) == 0
    return not readings.texts


def slice_labels(frame: pd.DataFrame, by: str, facts: ColumnFacts | None = None) -> dict[str, str]:
    """Label of each value-level slice: code -> its decode in the paired column (LBTESTCD -> LBTEST,
    QNAM -> QLABEL, PARAMCD -> PARAM); the first in sorted order when a code has several."""
    if by not in frame.columns:
        return {}
    partner = decode_variable(by, frame.columns)
    if partner is None:
        return {}
    facts = facts if facts is not None else ColumnFacts(frame)
    codes, decodes = facts.column(by).texts, facts.column(partner).texts
    first: dict[str, str] = {}
    for c, d in facts.combinations([by, partner]).tolist():     # the first decode of a code is a set question
        if c < 0 or d < 0 or codes[c] is None or decodes[d] is None:
            continue
        code, decode = codes[c], decodes[d]
        if code not in first or decode < first[code]:
            first[code] = decode
    return dict(sorted(first.items()))
