"""Define-XML vs data: does the define.xml describe the datasets that are actually submitted?

A reviewer reads define.xml to understand the data; any gap between the two is a finding. The
checks read define.xml with their own small reader and measure the data themselves (they do not
reuse the writer's code, so a writer bug cannot hide itself). Pinnacle 21 counterparts are named
in each rule's docstring.

Measures: text Length = longest value in UTF-8 bytes; integer Length = most digits; float Length
= most integer digits + most decimals, decimals counted on the 15-significant-digit form.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Callable, Mapping

import pandas as pd
from lxml import etree

from trialforge.errors import DatasetReadError
from trialforge.specs.metadata import Dataset

from .findings import ERROR, WARNING, Finding

NS = {"odm": "http://www.cdisc.org/ns/odm/v1.3", "def": "http://www.cdisc.org/ns/def/v2.1"}
_DEF = "{http://www.cdisc.org/ns/def/v2.1}"
NUMERIC_TYPES = {"integer", "float", "double"}
ISO_TYPES = {"date", "datetime", "time", "partialDate", "partialTime", "partialDatetime",
             "incompleteDatetime", "durationDatetime", "intervalDatetime"}


# ------------------------------------------------------------------ define reader
@dataclass
class DefItem:
    oid: str
    name: str
    data_type: str
    length: int | None
    significant_digits: int | None
    label: str | None
    codelist: str | None
    value_list: str | None
    origin: str | None
    method: str | None = None          # from the ItemRef
    order: int = 0


@dataclass
class DefGroup:
    name: str
    label: str | None
    items: list[DefItem] = field(default_factory=list)


@dataclass
class DefineDoc:
    groups: dict[str, DefGroup]
    items: dict[str, DefItem]
    codelists: dict[str, set | None]        # OID -> coded values; None = external dictionary
    value_lists: dict[str, list[tuple[str, str]]]   # VL OID -> [(item OID, where OID)]
    where: dict[str, list[tuple[str, str, list[str]]]]  # WC OID -> [(item OID, comparator, values)]
    oids: dict[str, set[str]]               # kind -> defined OIDs
    refs: list[tuple[str, str, str]]        # (kind, OID referenced, where from)


def _text(node, path: str) -> str | None:
    return node.findtext(path, namespaces=NS)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def read_define(path) -> DefineDoc:
    """Parse the parts of a define.xml the checks need."""
    try:
        doc = etree.parse(str(path))
    except (OSError, etree.XMLSyntaxError) as exc:
        raise DatasetReadError(f"define.xml cannot be read: {exc}", file=path) from None
    mdv = doc.find(".//odm:MetaDataVersion", NS)
    if mdv is None:
        raise DatasetReadError("define.xml has no MetaDataVersion", file=path)
    items: dict[str, DefItem] = {}
    refs: list[tuple[str, str, str]] = []
    for it in mdv.findall("odm:ItemDef", NS):
        origin = it.find("def:Origin", NS)
        cl = it.find("odm:CodeListRef", NS)
        vl = it.find("def:ValueListRef", NS)
        item = DefItem(it.get("OID"), it.get("Name"), it.get("DataType"), _int(it.get("Length")),
                       _int(it.get("SignificantDigits")), _text(it, "odm:Description/odm:TranslatedText"),
                       cl.get("CodeListOID") if cl is not None else None,
                       vl.get("ValueListOID") if vl is not None else None,
                       origin.get("Type") if origin is not None else None)
        items[item.oid] = item
        if item.codelist:
            refs.append(("CodeList", item.codelist, item.oid))
        if item.value_list:
            refs.append(("ValueList", item.value_list, item.oid))
        if it.get(f"{_DEF}CommentOID"):
            refs.append(("Comment", it.get(f"{_DEF}CommentOID"), item.oid))
    groups: dict[str, DefGroup] = {}
    for ig in mdv.findall("odm:ItemGroupDef", NS):
        group = DefGroup(ig.get("Name"), _text(ig, "odm:Description/odm:TranslatedText"))
        if ig.get(f"{_DEF}CommentOID"):
            refs.append(("Comment", ig.get(f"{_DEF}CommentOID"), ig.get("OID")))
        for ref in ig.findall("odm:ItemRef", NS):
            oid = ref.get("ItemOID")
            refs.append(("Item", oid, ig.get("OID")))
            if ref.get("MethodOID"):
                refs.append(("Method", ref.get("MethodOID"), oid))
            if oid in items:
                base = items[oid]
                group.items.append(DefItem(**{**base.__dict__, "method": ref.get("MethodOID"),
                                              "order": _int(ref.get("OrderNumber")) or 0}))
        group.items.sort(key=lambda i: i.order)
        groups[group.name] = group
    codelists: dict[str, set | None] = {}
    for cl in mdv.findall("odm:CodeList", NS):
        if cl.find("odm:ExternalCodeList", NS) is not None:
            codelists[cl.get("OID")] = None
        else:
            codelists[cl.get("OID")] = {i.get("CodedValue") for i in
                                        cl.xpath("odm:EnumeratedItem|odm:CodeListItem", namespaces=NS)}
    value_lists: dict[str, list] = {}
    for vld in mdv.findall("def:ValueListDef", NS):
        entries = []
        for ref in vld.findall("odm:ItemRef", NS):
            refs.append(("Item", ref.get("ItemOID"), vld.get("OID")))
            if ref.get("MethodOID"):
                refs.append(("Method", ref.get("MethodOID"), ref.get("ItemOID")))
            for wcr in ref.findall("def:WhereClauseRef", NS):
                refs.append(("WhereClause", wcr.get("WhereClauseOID"), ref.get("ItemOID")))
                entries.append((ref.get("ItemOID"), wcr.get("WhereClauseOID")))
        value_lists[vld.get("OID")] = entries
    where: dict[str, list] = {}
    for wc in mdv.findall("def:WhereClauseDef", NS):
        checks = []
        for rc in wc.findall("odm:RangeCheck", NS):
            refs.append(("Item", rc.get(f"{_DEF}ItemOID"), wc.get("OID")))
            checks.append((rc.get(f"{_DEF}ItemOID"), rc.get("Comparator"),
                           [cv.text or "" for cv in rc.findall("odm:CheckValue", NS)]))
        where[wc.get("OID")] = checks
    oids = {"Item": set(items), "CodeList": set(codelists), "ValueList": set(value_lists),
            "WhereClause": set(where),
            "Method": {m.get("OID") for m in mdv.findall("odm:MethodDef", NS)},
            "Comment": {c.get("OID") for c in mdv.findall("def:CommentDef", NS)}}
    return DefineDoc(groups, items, codelists, value_lists, where, oids, refs)


# ------------------------------------------------------------------ data measures
def _present_text(values: pd.Series) -> pd.Series:
    s = values[values.notna()].astype(str)
    return s[s != ""]


def _byte_length(values: pd.Series) -> int:
    s = _present_text(values)
    return 0 if s.empty else int(s.str.encode("utf-8").str.len().max())


def _shape(value: float) -> tuple[int, int]:
    d = Decimal(format(value, ".15g")).normalize()
    return len(str(int(abs(d)))), max(0, -d.as_tuple().exponent)


def _number_measure(values: pd.Series) -> tuple[int, int]:
    """(Length in digits as define counts them, most decimals) of a numeric column."""
    nums = pd.to_numeric(values, errors="coerce").dropna().astype(float).unique()
    if len(nums) == 0:
        return 0, 0
    shapes = [_shape(v) for v in nums]
    ints = max(s[0] for s in shapes)
    decs = max(s[1] for s in shapes)
    return ints + decs, decs


def _is_numeric_column(ds: Dataset, name: str) -> bool:
    var = ds.meta.variable(name)
    col = ds.frame[name]
    if col.isna().all() and var is not None:
        return var.is_numeric
    return pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)


def _record(ds: Dataset, row_pos: int) -> dict:
    """USUBJID / --SEQ / 1-based row of one record, for the finding's location."""
    frame = ds.frame
    out = {"row": int(row_pos) + 1}
    if "USUBJID" in frame.columns:
        out["usubjid"] = str(frame["USUBJID"].iloc[row_pos])
    seq = f"{ds.name[:2]}SEQ"
    if seq in frame.columns and pd.notna(frame[seq].iloc[row_pos]):
        v = frame[seq].iloc[row_pos]
        out["seq"] = str(int(v)) if float(v).is_integer() else str(v)
    return out


# ------------------------------------------------------------------ rules
Rule = Callable[[DefineDoc, Mapping[str, Dataset]], list]


def tf_def_001(define: DefineDoc, data: Mapping[str, Dataset]) -> list[Finding]:
    """TF-DEF-001 (error): a dataset described in define.xml has no data (P21 SD0061)."""
    return [Finding("TF-DEF-001", ERROR, name, f"dataset {name} is in define.xml but not in the data")
            for name in sorted(set(define.groups) - set(data))]


def tf_def_002(define: DefineDoc, data: Mapping[str, Dataset]) -> list[Finding]:
    """TF-DEF-002 (error): a submitted dataset is not described in define.xml (P21 SD1063)."""
    return [Finding("TF-DEF-002", ERROR, name, f"dataset {name} is in the data but not in define.xml")
            for name in sorted(set(data) - set(define.groups))]


def _pairs(define: DefineDoc, data: Mapping[str, Dataset]):
    for name in sorted(set(define.groups) & set(data)):
        yield define.groups[name], data[name]


def tf_def_003(define, data) -> list[Finding]:
    """TF-DEF-003 (error): a variable in define.xml is not in the dataset (P21 SD0054)."""
    out = []
    for group, ds in _pairs(define, data):
        for item in group.items:
            if item.name not in ds.frame.columns:
                out.append(Finding("TF-DEF-003", ERROR, ds.name,
                                   f"{item.name} is in define.xml but not in the dataset", item.name))
    return out


def tf_def_004(define, data) -> list[Finding]:
    """TF-DEF-004 (error): a dataset column is not described in define.xml (P21 SD0060)."""
    out = []
    for group, ds in _pairs(define, data):
        described = {i.name for i in group.items}
        for col in ds.frame.columns:
            if col not in described:
                out.append(Finding("TF-DEF-004", ERROR, ds.name,
                                   f"{col} is in the dataset but not in define.xml", col))
    return out


def _common(define, data):
    for group, ds in _pairs(define, data):
        for item in group.items:
            if item.name in ds.frame.columns:
                yield group, ds, item, ds.frame[item.name]


def tf_def_005(define, data) -> list[Finding]:
    """TF-DEF-005 (error): define DataType and data type disagree: integer/float must be Num,
    every other DataType Char (P21 SD0059)."""
    out = []
    for _, ds, item, _col in _common(define, data):
        numeric = _is_numeric_column(ds, item.name)
        if numeric != (item.data_type in NUMERIC_TYPES):
            out.append(Finding("TF-DEF-005", ERROR, ds.name,
                               f"define DataType {item.data_type} but the data are "
                               f"{'Num' if numeric else 'Char'}", item.name, value=item.data_type))
    return out


def _measure(ds: Dataset, item: DefItem, col: pd.Series) -> tuple[int, int]:
    if item.data_type in NUMERIC_TYPES and _is_numeric_column(ds, item.name):
        return _number_measure(col)
    return _byte_length(col), 0


def tf_def_006(define, data) -> list[Finding]:
    """TF-DEF-006 (error): define Length is shorter than the longest value in the data
    (text: bytes; numbers: digits)."""
    out = []
    for _, ds, item, col in _common(define, data):
        if item.length is None or item.data_type in ISO_TYPES:
            continue
        longest, _ = _measure(ds, item, col)
        if longest > item.length:
            out.append(Finding("TF-DEF-006", ERROR, ds.name,
                               f"define Length {item.length} < longest value {longest}",
                               item.name, value=str(longest)))
    return out


def tf_def_007(define, data) -> list[Finding]:
    """TF-DEF-007 (warning): define Length exceeds the longest value although the metadata say the
    length is data-derived (VariableMeta.length is None); FDA asks for lengths fitted to the data."""
    out = []
    for _, ds, item, col in _common(define, data):
        var = ds.meta.variable(item.name)
        if item.length is None or item.data_type in ISO_TYPES or var is None or var.length is not None:
            continue
        longest, _ = _measure(ds, item, col)
        if longest and item.length > longest:
            out.append(Finding("TF-DEF-007", WARNING, ds.name,
                               f"define Length {item.length} > longest value {longest} (data-derived)",
                               item.name, value=str(longest)))
    return out


def tf_def_008(define, data) -> list[Finding]:
    """TF-DEF-008 (error): a value in the data is not in the define's codelist for the variable
    (P21 SD0037 / CT2001); one finding per variable and value, at its first record."""
    out = []
    for _, ds, item, col in _common(define, data):
        allowed = define.codelists.get(item.codelist) if item.codelist else None
        if allowed is None:
            continue
        out += _values_outside(ds, item.name, col, allowed, "TF-DEF-008", item.codelist)
    return out


def _as_code_text(col: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(col):
        nums = col.dropna().astype(float)
        return nums.map(lambda v: str(int(v)) if v.is_integer() else repr(v))
    return _present_text(col)


def _values_outside(ds, name, col, allowed, rule_id, codelist_oid) -> list[Finding]:
    codes = _as_code_text(col)
    bad = codes[~codes.isin(list(allowed))]
    firsts = bad[~bad.duplicated()]
    out = []
    for label, value in firsts.items():
        pos = ds.frame.index.get_loc(label)
        out.append(Finding(rule_id, ERROR, ds.name, f"value not in define codelist {codelist_oid}",
                           name, value=value, **_record(ds, pos)))
    return out


def tf_def_009(define, data) -> list[Finding]:
    """TF-DEF-009 (error): a value-level slice (e.g. LBORRES where LBTESTCD = 'ALT') breaks its
    value-level DataType, Length or codelist (P21 SD1228, SD1230, SD1231)."""
    out = []
    for group, ds in _pairs(define, data):
        for item in group.items:
            if not item.value_list or item.name not in ds.frame.columns:
                continue
            for vl_item_oid, wc_oid in define.value_lists.get(item.value_list, []):
                vitem = define.items.get(vl_item_oid)
                mask = _where_mask(define, ds, wc_oid)
                if vitem is None or mask is None:
                    continue
                col = ds.frame.loc[mask, item.name]
                out += _check_slice(ds, item, vitem, col, define)
    return out


def _where_mask(define: DefineDoc, ds: Dataset, wc_oid: str):
    checks = define.where.get(wc_oid)
    if not checks:
        return None
    mask = pd.Series(True, index=ds.frame.index)
    for item_oid, comparator, values in checks:
        target = define.items.get(item_oid)
        if target is None or target.name not in ds.frame.columns:
            return None
        col = ds.frame[target.name].astype(str)
        if comparator in ("EQ", "IN"):
            mask &= col.isin(values)
        elif comparator in ("NE", "NOTIN"):
            mask &= ~col.isin(values)
        else:
            return None
    return mask


def _check_slice(ds, item, vitem, col, define) -> list[Finding]:
    out = []
    where = vitem.oid
    if vitem.data_type in NUMERIC_TYPES and not pd.api.types.is_numeric_dtype(col):
        text = _present_text(col)
        nums = pd.to_numeric(text, errors="coerce")
        bad = text[nums.isna()]
        if vitem.data_type == "integer":
            bad = pd.concat([bad, text[nums.notna() & text.str.contains(r"[.eE]", regex=True)]])
        for label, value in bad[~bad.duplicated()].items():
            out.append(Finding("TF-DEF-009", ERROR, ds.name,
                               f"value is not {vitem.data_type} as {where} says", item.name,
                               value=value, **_record(ds, ds.frame.index.get_loc(label))))
    if vitem.length is not None and vitem.data_type not in ISO_TYPES:
        if pd.api.types.is_numeric_dtype(col):
            longest = _number_measure(col)[0]
        else:
            longest = _byte_length(col)
        if longest > vitem.length:
            out.append(Finding("TF-DEF-009", ERROR, ds.name,
                               f"{where} Length {vitem.length} < longest value {longest}",
                               item.name, value=str(longest)))
    allowed = define.codelists.get(vitem.codelist) if vitem.codelist else None
    if allowed is not None:
        out += _values_outside(ds, item.name, col, allowed, "TF-DEF-009", vitem.codelist)
    return out


def tf_def_010(define, data) -> list[Finding]:
    """TF-DEF-010 (warning): dataset or variable label in define.xml differs from the dataset's
    metadata (P21 SD1324, SD1325)."""
    out = []
    for group, ds in _pairs(define, data):
        if group.label is not None and group.label != ds.meta.label:
            out.append(Finding("TF-DEF-010", WARNING, ds.name,
                               f"define label {group.label!r} differs from dataset label {ds.meta.label!r}",
                               value=group.label))
        for item in group.items:
            var = ds.meta.variable(item.name)
            if var is not None and item.label is not None and item.label != var.label:
                out.append(Finding("TF-DEF-010", WARNING, ds.name,
                                   f"define label {item.label!r} differs from {var.label!r}",
                                   item.name, value=item.label))
    return out


def tf_def_011(define, data) -> list[Finding]:
    """TF-DEF-011 (warning): a float's SignificantDigits is smaller than the decimals the data use."""
    out = []
    for _, ds, item, col in _common(define, data):
        if item.data_type != "float" or not _is_numeric_column(ds, item.name):
            continue
        _, decimals = _number_measure(col)
        if item.significant_digits is None or decimals > item.significant_digits:
            out.append(Finding("TF-DEF-011", WARNING, ds.name,
                               f"SignificantDigits {item.significant_digits} < {decimals} decimals in the data",
                               item.name, value=str(decimals)))
    return out


def tf_def_012(define, data) -> list[Finding]:
    """TF-DEF-012 (error): define.xml references an OID it does not define (ItemOID, CodeListOID,
    MethodOID, ValueListOID, WhereClauseOID, CommentOID)."""
    return [Finding("TF-DEF-012", ERROR, "define.xml", f"{kind} {oid} referenced by {source} is not defined",
                    value=oid)
            for kind, oid, source in sorted(set(define.refs)) if oid not in define.oids.get(kind, set())]


def tf_def_013(define, data) -> list[Finding]:
    """TF-DEF-013 (warning): a Derived variable has no MethodDef explaining the derivation."""
    out = []
    for name in sorted(define.groups):
        for item in define.groups[name].items:
            if item.origin == "Derived" and not item.method:
                out.append(Finding("TF-DEF-013", WARNING, name,
                                   "Derived variable without a method (MethodOID)", item.name))
    return out


def tf_def_014(define, data) -> list[Finding]:
    """TF-DEF-014 (error): define says DataType "date" but a value carries a time part."""
    out = []
    for _, ds, item, col in _common(define, data):
        if item.data_type != "date":
            continue
        text = _present_text(col)
        bad = text[text.str.contains("T", regex=False)]
        for label, value in bad[~bad.duplicated()].head(1).items():
            out.append(Finding("TF-DEF-014", ERROR, ds.name, "DataType date but the value has a time part",
                               item.name, value=value, **_record(ds, ds.frame.index.get_loc(label))))
    return out


RULES: tuple[Rule, ...] = (tf_def_001, tf_def_002, tf_def_003, tf_def_004, tf_def_005, tf_def_006,
                           tf_def_007, tf_def_008, tf_def_009, tf_def_010, tf_def_011, tf_def_012,
                           tf_def_013, tf_def_014)


def check_define_vs_data(define_path, datasets: Mapping[str, Dataset]) -> list[Finding]:
    """All TF-DEF findings for one define.xml against the datasets it describes (sorted)."""
    define = read_define(Path(define_path))
    findings: list[Finding] = []
    for rule in RULES:
        findings += rule(define, datasets)
    return sorted(findings, key=lambda f: f.sort_key)
