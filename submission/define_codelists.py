"""Codelists for define.xml: which terms to list, their NCI C-codes and decodes.

Rule for which terms a CodeList lists (deterministic, data-driven):
- every term actually used in the data by any variable (or value-level slice) that references
  the codelist;
- plus, for a NON-extensible CT codelist of at most `FULL_LIST_MAX_TERMS` terms (NY, SEX,
  AGEU ...), all of its terms: such a list is the fixed answer set of the question, so the define
  shows the whole set;
- never unused terms of an extensible list (LBTESTCD, UNIT ... would drown the reviewer);
- a value that is not a CT term is listed with def:ExtendedValue="Yes" when the codelist is
  extensible; in a non-extensible list it is left out, so the define stays true to CT and
  `check_define_vs_data` reports the value (TF-DEF-008);
- terms follow the CT file's order, sponsor extensions follow sorted.

Decodes (CodeListItem + Decode) are used when the data carry the decode in a paired variable
(xxTESTCD -> xxTEST, PARAMCD -> PARAM, ARMCD -> ARM, QNAM -> QLABEL, numeric xxxN -> xxx);
otherwise terms are EnumeratedItem. CT terms carry Alias Context="nci:ExtCodeID" with the term
C-code, and the CodeList carries its codelist C-code.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

import pandas as pd

from trialforge.errors import TrialforgeError
from trialforge.specs.metadata import Dataset, VariableMeta

from .define_attrs import present_text

FULL_LIST_MAX_TERMS = 10

# (suffix of the coded variable, suffix of its decode variable): the paired-variable rule table.
_PAIRS = (("TESTCD", "TEST"), ("PARMCD", "PARM"), ("PARAMCD", "PARAM"), ("ACTARMCD", "ACTARM"),
          ("ARMCD", "ARM"), ("QNAM", "QLABEL"), ("ETCD", "ELEMENT"))


@dataclass(frozen=True)
class CodeListEntry:
    coded_value: str
    decode: str | None = None
    c_code: str | None = None
    extended: bool = False


@dataclass
class CodeListSpec:
    """One CodeList element to write."""

    oid: str
    name: str
    data_type: str = "text"
    c_code: str | None = None
    standard_oid: str | None = None
    entries: list[CodeListEntry] = field(default_factory=list)
    dictionary: str | None = None          # ExternalCodeList (MedDRA, WHODD ...)
    version: str | None = None

    @property
    def uses_decodes(self) -> bool:
        return any(e.decode is not None for e in self.entries)


def decode_variable(var_name: str, names: Iterable[str]) -> str | None:
    """Name of the variable that holds the decode of `var_name` in the same dataset, if any."""
    names = set(names)
    for coded, decoded in _PAIRS:
        if var_name.endswith(coded):
            partner = var_name[: len(var_name) - len(coded)] + decoded
            if partner in names:
                return partner
    if var_name.endswith("N") and var_name[:-1] in names:   # ADaM numeric codes: RACEN -> RACE
        return var_name[:-1]
    return None


def _code_text(values: pd.Series, numeric: bool) -> pd.Series:
    """Codes as the text define.xml writes (numeric 1.0 -> '1')."""
    if numeric:
        nums = pd.to_numeric(values, errors="coerce")
        keep = nums.notna()
        text = nums[keep].map(lambda v: str(int(v)) if float(v).is_integer() else repr(float(v)))
        return text
    return present_text(values)


def lookup_codelist(cts: Sequence, var: VariableMeta):
    """(codelist, ct index) from the first CT that knows the variable's codelist, else (None, None)."""
    refs = [r for r in (var.codelist_code, var.codelist) if r]
    for index, ct in enumerate(cts):
        for ref in refs:
            try:
                found = ct.codelist(ref)
            except (KeyError, LookupError, ValueError, TrialforgeError):
                found = None
            if found is not None:
                return found, index
    return None, None


@dataclass
class _Usage:
    values: set = field(default_factory=set)
    decodes: dict = field(default_factory=dict)
    numeric: bool = False


def collect_usage(datasets: Sequence[Dataset], cts: Sequence,
                  extra_values: dict[str, set] | None = None) -> dict[str, tuple]:
    """Map codelist ref -> (codelist or None, ct index, usage) over all datasets' variables."""
    usage: dict[str, list] = {}
    for ds in datasets:
        frame = ds.frame
        for var in ds.meta.variables:
            if not (var.codelist or var.codelist_code):
                continue
            codelist, index = lookup_codelist(cts, var)
            key = codelist_key(var, codelist)
            slot = usage.setdefault(key, [codelist, index, _Usage(numeric=var.is_numeric)])
            if var.name not in frame.columns:
                continue
            codes = _code_text(frame[var.name], var.is_numeric)
            slot[2].values.update(codes.unique().tolist())
            partner = decode_variable(var.name, frame.columns)
            if partner is not None:
                pairs = pd.DataFrame({"c": codes, "d": frame.loc[codes.index, partner].astype(str)})
                pairs = pairs[pairs["d"].ne("") & frame.loc[codes.index, partner].notna()]
                first = pairs.sort_values(["c", "d"]).drop_duplicates("c")
                for c, d in zip(first["c"], first["d"]):
                    slot[2].decodes.setdefault(c, d)
    for key, values in (extra_values or {}).items():
        if key in usage:
            usage[key][2].values.update(values)
    return {k: tuple(v) for k, v in usage.items()}


def codelist_key(var: VariableMeta, codelist) -> str:
    """Stable key and OID suffix: the CT submission value (NY, AESEV), else the spec's ref."""
    if codelist is not None and getattr(codelist, "short_name", None):
        return codelist.short_name
    return var.codelist or var.codelist_code


def codelist_oid(key: str) -> str:
    return "CL." + key.replace(" ", "_")


def build_codelist(key: str, codelist, usage: _Usage, standard_oid: str | None) -> CodeListSpec:
    """One CodeListSpec following the module's term rule."""
    data_type = "text"
    if usage.numeric:
        data_type = "integer" if all(_is_int_text(v) for v in usage.values) else "float"
    if codelist is None:       # sponsor-defined codelist: the values used, sorted
        entries = [CodeListEntry(v, usage.decodes.get(v)) for v in sorted(usage.values)]
        return CodeListSpec(codelist_oid(key), key, data_type, entries=entries)
    terms = list(codelist.terms)
    extensible = _is_yes(codelist.extensible)
    list_all = not extensible and len(terms) <= FULL_LIST_MAX_TERMS
    by_value = {t.value: t for t in terms}
    # a sponsor term added to an NCI codelist is an extended value (no NCI code), as if the data alone had it
    entries = [CodeListEntry(t.value, usage.decodes.get(t.value), None if getattr(t, "extended", False)
                             else (t.code or None), getattr(t, "extended", False))
               for t in terms if list_all or t.value in usage.values]
    if extensible:
        entries += [CodeListEntry(v, usage.decodes.get(v), None, True)
                    for v in sorted(usage.values - set(by_value))]
    if any(e.decode is not None for e in entries):   # one decoded item -> every item decoded
        entries = [e if e.decode is not None else
                   CodeListEntry(e.coded_value, _fallback_decode(by_value.get(e.coded_value), e),
                                 e.c_code, e.extended) for e in entries]
    # Some NCI EVS codelist rows leave the name blank; Define-XML needs one (minLength 1).
    name = codelist.name or codelist.short_name or key
    return CodeListSpec(codelist_oid(key), name, data_type, codelist.code or None,
                        standard_oid, entries)


def _fallback_decode(term, entry: CodeListEntry) -> str:
    """Decode for a term the data do not pair: its NCI preferred term, else the value itself."""
    return (getattr(term, "preferred_term", None) if term is not None else None) or entry.coded_value


def _is_yes(flag) -> bool:
    if isinstance(flag, str):
        return flag.strip().lower() in ("yes", "y", "true")
    return bool(flag)


def _is_int_text(value: str) -> bool:
    try:
        int(value)
        return True
    except ValueError:
        return False
