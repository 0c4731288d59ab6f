"""Which codelist each variable and each value-level slice references, and the values each list sees.

A codelist describes values that are controlled. A result variable (--ORRES/--STRESC, SUPP-- QVAL,
ADaM AVALC) is controlled only for some tests: LBSTRESC is a number for ALT and a text for a urine
colour, RSSTRESC is a response for OVRLRESP and an ECOG score for ECOG. So, for a variable that has
value-level metadata, the codelist goes on the slices, by rule:
- a slice whose values are all numbers (value-level DataType integer/float) gets no codelist: numeric
  results never become terms;
- a text slice gets the first candidate codelist that holds every value of the slice (candidates: the
  slice's own from `candidates["DS.VAR.VALUE"]`, then the variable's own, then `candidates["DS.VAR"]`,
  then the slice-only `candidates["DS.VAR.*"]`, e.g. NY and ONCRSR named by the RS spec's branches),
  else the first candidate (its extensions then follow the term rule of define_codelists); but a slice whose
  would-be extensions carry a digit ("<1.5", "1:160") holds measurements and gets no codelist;
- the variable itself references a codelist only when every described slice uses the same one.
A variable without value-level metadata references its own codelist (or its first candidate) and
the list sees all its values. A codelist no value uses is not written and nothing references it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from trialforge.errors import TrialforgeError
from trialforge.specs.metadata import Dataset, VariableMeta

from .define_attrs import NUMERIC_TYPES
from .define_codelists import _Usage, decode_variable
from .define_columns import ColumnFacts
from .define_vlm import ValueList

_DIGIT = re.compile(r"\d")


@dataclass
class CodelistPlan:
    variable: dict = field(default_factory=dict)     # (DS, VAR) -> key
    value: dict = field(default_factory=dict)        # (DS, VAR, split value) -> key
    usage: dict = field(default_factory=dict)        # key -> [codelist or None, ct index, _Usage]
    first_label: dict = field(default_factory=dict)  # key -> label of the first variable using it

    def drop_unused(self, keep) -> None:
        """Forget keys `keep(key)` rejects (a codelist that would list nothing)."""
        gone = {k for k in self.usage if not keep(k)}
        for k in gone:
            del self.usage[k]
        self.variable = {k: v for k, v in self.variable.items() if v not in gone}
        self.value = {k: v for k, v in self.value.items() if v not in gone}


def lookup(cts: Sequence, ref: str):
    """(codelist, ct index) of a codelist ref (submission value or C-code), else (None, None)."""
    for index, ct in enumerate(cts):
        try:
            found = ct.codelist(ref)
        except (KeyError, LookupError, ValueError, TrialforgeError):
            found = None
        if found is not None:
            return found, index
    return None, None


def _key(ref: str, codelist) -> str:
    if codelist is not None and getattr(codelist, "short_name", None):
        return codelist.short_name
    return ref


def _refs(var: VariableMeta, extra_refs: Sequence[str]) -> list[str]:
    own = var.codelist or var.codelist_code
    refs = [own] if own else []
    return refs + [r for r in extra_refs if r and r not in refs]


def plan_codelists(datasets: Sequence[Dataset], cts: Sequence, vlists: Mapping[str, list[ValueList]],
                   candidates: Mapping[str, Sequence[str]] | None = None,
                   facts: Mapping[str, ColumnFacts] | None = None) -> CodelistPlan:
    """The plan for all datasets of one define (see the module rule); ``facts``: dataset name ->
    its factorised columns when the caller shares them (define_columns)."""
    candidates = candidates or {}
    facts = dict(facts or {})
    plan = CodelistPlan()
    resolved: dict[str, tuple] = {}

    def resolve(ref: str):
        if ref not in resolved:
            codelist, index = lookup(cts, ref)
            resolved[ref] = (_key(ref, codelist), codelist, index)
        return resolved[ref]

    def facts_of(ds: Dataset) -> ColumnFacts:
        if ds.name not in facts:
            facts[ds.name] = ColumnFacts(ds.frame)
        return facts[ds.name]

    def use(ref: str, var: VariableMeta, ds: Dataset, rows: np.ndarray | None) -> str:
        """Record that `var` uses `ref`: its distinct (value, decode) code pairs `rows` (None: the
        whole column's), so the list sees their code texts and each code's first decode."""
        key, codelist, index = resolve(ref)
        slot = plan.usage.setdefault(key, [codelist, index, _Usage(numeric=var.is_numeric)])
        plan.first_label.setdefault(key, var.label)
        if var.name in ds.frame.columns:
            f = facts_of(ds)
            partner = decode_variable(var.name, ds.frame.columns)
            if rows is None:
                rows = f.combinations([var.name] + ([partner] if partner is not None else []))
            texts = f.column(var.name).code_texts(var.is_numeric)
            codes = [texts[i] for i in rows[:, 0].tolist() if i >= 0 and texts[i] is not None]
            slot[2].values.update(codes)
            if partner is not None and codes:
                forms = f.column(partner).str_forms
                first: dict[str, str] = {}
                for v, p in rows[:, :2].tolist():
                    if v < 0 or p < 0 or texts[v] is None or forms[p] == "":
                        continue
                    if texts[v] not in first or forms[p] < first[texts[v]]:
                        first[texts[v]] = forms[p]
                for c in sorted(first):
                    slot[2].decodes.setdefault(c, first[c])
        return key

    def holds(ref: str, values: set) -> bool:
        _key_, codelist, _index = resolve(ref)
        return codelist is None or values <= _terms(codelist)

    for ds in datasets:
        vl_by_var = {vl.variable.name: vl for vl in vlists.get(ds.name, [])}
        for var in ds.meta.variables:
            refs = _refs(var, candidates.get(f"{ds.name}.{var.name}", ()))
            vl = vl_by_var.get(var.name)
            if vl is None:
                if refs:
                    plan.variable[(ds.name, var.name)] = use(refs[0], var, ds, None)
                continue
            slices = texts = None           # the slices' code pairs and texts, read when a text slice needs
            slice_keys = []                 # them (a numeric variable's slices are all numeric: LBSTRESN)
            for item in vl.items:
                if item.attrs.data_type in NUMERIC_TYPES:
                    slice_keys.append(None)
                    continue
                own = [r for r in candidates.get(f"{ds.name}.{var.name}.{item.value}", ()) if r]
                branch = [r for r in candidates.get(f"{ds.name}.{var.name}.*", ()) if r]
                options = list(dict.fromkeys(own + refs + branch))
                if not options:
                    slice_keys.append(None)
                    continue
                if texts is None:
                    present = var.name in ds.frame.columns
                    slices = _split_pairs(facts_of(ds), ds.frame, vl.items[0].by, var.name) if present else {}
                    texts = facts_of(ds).column(var.name).code_texts(var.is_numeric) if present else []
                part = slices.get(item.value, _NO_ROWS)
                values = {texts[i] for i in part[:, 0].tolist() if i >= 0 and texts[i] is not None}
                chosen = next((r for r in options if holds(r, values)), options[0])
                if any(_DIGIT.search(v) for v in values - _terms(resolve(chosen)[1])):
                    slice_keys.append(None)         # a measurement ("<1.5", "1:160"), not a term
                    continue
                key = use(chosen, var, ds, part)
                plan.value[(ds.name, var.name, item.value)] = key
                slice_keys.append(key)
            if slice_keys and None not in slice_keys and len(set(slice_keys)) == 1:
                plan.variable[(ds.name, var.name)] = use(_ref_of(slice_keys[0], resolved), var, ds, None)
    return plan


_NO_ROWS = np.zeros((0, 2), dtype=np.int64)


def _split_pairs(facts: ColumnFacts, frame: pd.DataFrame, by: str, name: str) -> dict[str, np.ndarray]:
    """split value -> the distinct (value, decode) code pairs of its records; a codelist's terms and
    first decodes are functions of this set, so no work is done per row."""
    partner = decode_variable(name, frame.columns)
    return facts.groups(by, [name] + ([partner] if partner is not None else []))


def _terms(codelist) -> set:
    """The submission values of a CT codelist (any object with .terms of .value)."""
    return {t.value for t in codelist.terms} if codelist is not None else set()


def _ref_of(key: str, resolved: Mapping[str, tuple]) -> str:
    for ref, (k, _c, _i) in resolved.items():
        if k == key:
            return ref
    return key
