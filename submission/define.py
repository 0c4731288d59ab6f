"""Define-XML 2.1 writer: the metadata of a submission, from the datasets that are submitted.

`write_define` builds one define.xml for one standard (SDTMIG 3.4 or ADaMIG 1.3) from
`Dataset`s (metadata + frame), controlled terminology and study info. What the data decide
(DataType, Length, SignificantDigits, codelist terms, value-level slices) is read from the data
(see define_attrs, define_codelists, define_codelist_plan, define_vlm); what only a person knows
(method text, comments, CRF pages) comes from the metadata or the optional `extra` mapping;
ADaM codelists come from a rule table (define_adam_codelists) and Analysis Results Metadata from
`arm` displays (define_arm). The file starts with an xml-stylesheet instruction for the shipped
define2-1.xsl (define_html); define_study writes the whole bundle for a study folder. The bytes are a function of
the inputs only: CreationDateTime is the `created` argument, never the clock, elements are ordered
by rule, and OIDs are stable names (IG.DM, IT.DM.USUBJID, CL.NY, MT.AE.AESEQ, VL.LB.LBORRES,
WC.LB.LBTESTCD.ALT, COM.DM, LF.DM).

Person-supplied facts come from the metadata model: VariableMeta.method / method_type (MethodDef),
comment (CommentDef), crf_pages (PDFPageRef), origin_source (def:Origin Source), dictionary
(ExternalCodeList); DatasetMeta.comment and keys. `extra` overrides them per variable (all keys
optional, variable keys "DS.VAR"), for callers whose metadata lack a fact:
  methods        {"AE.AESEQ": "text"}                    MethodDef text (else VariableMeta.method,
                                                         else origin_detail of a Derived variable)
  method_types   {"ADSL.TRTSDT": "Imputation"}           MethodDef Type (else method_type, else Computation)
  comments       {"DM": "text", "DM.RFSTDTC": "text"}   CommentDef for a dataset or variable
  pages          {"DM.SEX": "3 7"}                       aCRF pages of a Collected variable
  origin_sources {"QS.QSORRES": "Subject"}              def:Origin Source (else origin_source, else by Type)
  dictionaries   {"AE.AEDECOD": {"dictionary": "MedDRA", "version": "26.0"}}  (else dictionary)
  codelists      {"RS.RSSTRESC.*": ["NY", "ONCRSR"], "SUPPAE.QVAL.AEDLT": ["NY"]}  codelist candidates
                                                         (see define_codelist_plan)
Pages may also be keyed "DS.VAR.VALUE" for one value-level slice ("SUPPAE.QVAL.AEDLT").
"""
from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Mapping, Sequence

from lxml import etree

from trialforge.errors import SpecError
from trialforge.specs.metadata import Dataset, VariableMeta

from .define_attrs import ItemAttrs, attrs_of
from .define_adam_codelists import adam_candidates
from .define_arm import ARM_NS
from .define_codelist_plan import CodelistPlan, plan_codelists
from .define_codelists import CodeListSpec, build_codelist, codelist_oid
from .define_columns import ColumnFacts
from .define_html import STYLESHEET_NAME, stylesheet_instruction
from .define_vlm import ValueList, slice_labels, value_lists

ODM_NS = "http://www.cdisc.org/ns/odm/v1.3"
DEF_NS = "http://www.cdisc.org/ns/def/v2.1"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
NSMAP = {None: ODM_NS, "def": DEF_NS, "xlink": XLINK_NS}
DEFINE_VERSION = "2.1.0"

_DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$")

# def:Class names (Define-XML 2.1 ItemGroupClass) from the wording SDTMIG/ADaMIG tables use.
_CLASS_NAMES = {
    "SPECIAL-PURPOSE": "SPECIAL PURPOSE", "SPECIAL PURPOSE": "SPECIAL PURPOSE",
    "INTERVENTIONS": "INTERVENTIONS", "EVENTS": "EVENTS", "FINDINGS": "FINDINGS",
    "FINDINGS ABOUT": "FINDINGS ABOUT", "TRIAL DESIGN": "TRIAL DESIGN",
    "RELATIONSHIP": "RELATIONSHIP", "STUDY REFERENCE": "STUDY REFERENCE",
    "SUBJECT LEVEL ANALYSIS DATASET": "SUBJECT LEVEL ANALYSIS DATASET", "ADSL": "SUBJECT LEVEL ANALYSIS DATASET",
    "BASIC DATA STRUCTURE": "BASIC DATA STRUCTURE", "BDS": "BASIC DATA STRUCTURE",
    "OCCURRENCE DATA STRUCTURE": "OCCURRENCE DATA STRUCTURE", "OCCDS": "OCCURRENCE DATA STRUCTURE",
    "ADAM OTHER": "ADAM OTHER", "REFERENCE DATA STRUCTURE": "REFERENCE DATA STRUCTURE",
}
# Dataset order in the define: by class (this order), then by name.
_CLASS_ORDER = ("TRIAL DESIGN", "SPECIAL PURPOSE", "INTERVENTIONS", "EVENTS", "FINDINGS",
                "FINDINGS ABOUT", "RELATIONSHIP", "STUDY REFERENCE",
                "SUBJECT LEVEL ANALYSIS DATASET", "OCCURRENCE DATA STRUCTURE",
                "BASIC DATA STRUCTURE", "ADAM OTHER", "REFERENCE DATA STRUCTURE")
_ORIGIN_TYPES = {t.lower(): t for t in ("Collected", "Derived", "Assigned", "Protocol",
                                        "Predecessor", "Not Available", "Other")}
_DEFAULT_SOURCE = {"Collected": "Investigator", "Derived": "Sponsor", "Assigned": "Sponsor"}
_STANDARDS = {"SDTMIG": ("SDTM", "Tabulation"), "ADAMIG": ("ADaM", "Analysis")}


# ---------------------------------------------------------------- small element helpers
def _q(tag: str) -> str:
    """Clark name: 'def:leaf' -> '{DEF_NS}leaf', 'ItemDef' -> '{ODM_NS}ItemDef'."""
    if tag.startswith("def:"):
        return f"{{{DEF_NS}}}{tag[4:]}"
    return f"{{{ODM_NS}}}{tag}"


def _el(parent, tag: str, attrs: Mapping[str, object] | None = None, text: str | None = None):
    """Append an element; attributes with None values are left out; 'def:'/'xlink:' prefixes."""
    node = etree.SubElement(parent, _q(tag))
    for key, value in (attrs or {}).items():
        if value is None:
            continue
        if key.startswith("def:"):
            key = f"{{{DEF_NS}}}{key[4:]}"
        elif key.startswith("xlink:"):
            key = f"{{{XLINK_NS}}}{key[6:]}"
        node.set(key, str(value))
    if text is not None:
        node.text = text
    return node


def _description(parent, text: str, tag: str = "Description"):
    node = _el(parent, tag)
    _el(node, "TranslatedText", {XML_LANG: "en"}, text)
    return node


def _alias(parent, code: str | None):
    if code:
        _el(parent, "Alias", {"Context": "nci:ExtCodeID", "Name": code})


# ---------------------------------------------------------------- resolved facts
def parse_standard(standard: str) -> tuple[str, str]:
    """'SDTMIG 3.4' -> ('SDTMIG', '3.4'); 'ADaMIG 1.3' -> ('ADaMIG', '1.3')."""
    parts = standard.split()
    if len(parts) != 2 or parts[0].upper() not in _STANDARDS:
        raise SpecError("standard must be 'SDTMIG <version>' or 'ADaMIG <version>'", value=standard)
    name = "SDTMIG" if parts[0].upper() == "SDTMIG" else "ADaMIG"
    return name, parts[1]


_CT_VERSION_RE = re.compile(r"(SDTM|ADaM|SEND|CDASH|DEFINE-XML)\s+CT\s+(\S+)", re.IGNORECASE)
_PUBLISHING_SETS = {"sdtm": "SDTM", "adam": "ADaM", "send": "SEND", "cdash": "CDASH",
                    "define-xml": "DEFINE-XML"}


def ct_standards(ct, default_set: str) -> list[tuple[str, str]]:
    """(PublishingSet, Version) pairs of a CT object.

    Reads `.versions` / `.version` written like "SDTM CT 2022-09-30; ADaM CT 2026-03-27"; a bare
    version ("2022-09-30") takes `.publishing_set` or the define's own set (SDTM / ADaM).
    """
    raw = getattr(ct, "versions", None) or [v for v in str(ct.version).split(";")]
    pairs = []
    for text in raw:
        text = str(text).strip()
        match = _CT_VERSION_RE.search(text)
        if match:
            pairs.append((_PUBLISHING_SETS[match.group(1).lower()], match.group(2)))
        elif text:
            pairs.append((getattr(ct, "publishing_set", None) or default_set, text))
    return sorted(set(pairs), key=pairs.index)


def _ct_oid(publishing_set: str, version: str) -> str:
    return f"STD.CT.{publishing_set}.{version}"


def _codelist_standard(codelist) -> tuple[str, str] | None:
    """(PublishingSet, Version) of the CT release a codelist came from, when the CT reader knew it."""
    text = getattr(codelist, "ct_version", None) if codelist is not None else None
    match = _CT_VERSION_RE.search(str(text or ""))
    if not match:
        return None
    return _PUBLISHING_SETS[match.group(1).lower()], match.group(2)


def class_name(ds: Dataset) -> str:
    """def:Class Name of a dataset, from DatasetMeta.cls (SDTMIG/ADaMIG wording accepted)."""
    raw = (ds.meta.cls or "").strip().upper()
    if ds.name.startswith("SUPP") and not raw:
        raw = "RELATIONSHIP"
    if raw not in _CLASS_NAMES:
        raise SpecError(f"dataset {ds.name}: class is not a Define-XML 2.1 class", value=ds.meta.cls)
    return _CLASS_NAMES[raw]


def sub_class(ds: Dataset, cls: str) -> str | None:
    """def:SubClass by rule: BDS with CNSR -> TIME-TO-EVENT; OCCDS of adverse events -> ADVERSE EVENT."""
    names = set(ds.meta.variable_names)
    if cls == "BASIC DATA STRUCTURE" and "CNSR" in names:
        return "TIME-TO-EVENT"
    if cls == "OCCURRENCE DATA STRUCTURE" and "AEDECOD" in names:
        return "ADVERSE EVENT"
    return None


def _key(ds: str, var: str | None = None) -> str:
    return ds if var is None else f"{ds}.{var}"


def origin_type(ds: Dataset, var: VariableMeta) -> str | None:
    if var.origin is None:
        return None
    found = _ORIGIN_TYPES.get(var.origin.strip().lower())
    if found is None:
        raise SpecError(f"{ds.name}.{var.name}: origin is not a Define-XML 2.1 origin type",
                        column=var.name, value=var.origin)
    return found


def method_text(ds: Dataset, var: VariableMeta, extra: Mapping) -> str | None:
    """MethodDef text: `extra["methods"]`, else VariableMeta.method, else a Derived origin_detail."""
    text = extra.get("methods", {}).get(_key(ds.name, var.name)) or var.method
    if text:
        return str(text)
    if origin_type(ds, var) == "Derived" and var.origin_detail:
        return var.origin_detail
    return None


_METHOD_TYPES = {"computation": "Computation", "imputation": "Imputation"}


def method_type(ds: Dataset, var: VariableMeta, extra: Mapping) -> str:
    """MethodDef Type (Define-XML 2.1: Computation or Imputation)."""
    raw = extra.get("method_types", {}).get(_key(ds.name, var.name)) or var.method_type or "Computation"
    found = _METHOD_TYPES.get(str(raw).strip().lower())
    if found is None:
        raise SpecError(f"{ds.name}.{var.name}: method type must be Computation or Imputation",
                        column=var.name, value=raw)
    return found


def origin_source(ds: Dataset, var: VariableMeta, otype: str, extra: Mapping) -> str | None:
    """def:Origin Source: `extra["origin_sources"]`, else VariableMeta.origin_source, else by Type."""
    return (extra.get("origin_sources", {}).get(_key(ds.name, var.name)) or var.origin_source
            or _DEFAULT_SOURCE.get(otype))


def variable_comment(ds: Dataset, var: VariableMeta, extra: Mapping) -> str | None:
    return extra.get("comments", {}).get(_key(ds.name, var.name)) or var.comment or None


def dictionary_of(ds: Dataset, var: VariableMeta, extra: Mapping) -> tuple[str, str] | None:
    """(dictionary, version) of an externally coded variable (MedDRA, WHODrug), or None."""
    info = extra.get("dictionaries", {}).get(_key(ds.name, var.name))
    if info:
        return str(info["dictionary"]), str(info.get("version", "") or "")
    if var.dictionary and var.dictionary[0]:
        version = var.dictionary[1] if len(var.dictionary) > 1 else ""
        return str(var.dictionary[0]), str(version or "")
    return None


def _dictionary_key(name: str) -> str:
    return name.upper().replace(" ", "_")


def _page_refs(ds: Dataset, var: VariableMeta, extra: Mapping, page_key: str | None = None) -> str | None:
    pages_map = extra.get("pages", {})
    pages = pages_map.get(page_key) if page_key else None
    if pages is None:
        pages = pages_map.get(_key(ds.name, var.name))
    if pages is None and var.crf_pages:
        pages = " ".join(str(p) for p in var.crf_pages)
    if pages is None and var.origin_detail and re.fullmatch(r"\s*\d+(\s*[ ,]\s*\d+)*\s*", var.origin_detail):
        pages = var.origin_detail
    if pages is None:
        return None
    if isinstance(pages, (list, tuple)):
        pages = " ".join(str(p) for p in pages)
    return " ".join(re.split(r"[\s,]+", str(pages).strip()))


def _sorted_datasets(datasets: Sequence[Dataset]) -> list[Dataset]:
    def order(ds: Dataset):
        cls = class_name(ds)
        rank = _CLASS_ORDER.index(cls) if cls in _CLASS_ORDER else len(_CLASS_ORDER)
        return (rank, ds.name)
    return sorted(datasets, key=order)


# ---------------------------------------------------------------- the writer
def write_define(datasets: Sequence[Dataset], path, *, study: Mapping, standard: str, ct,
                 created: str, extra: Mapping | None = None,
                 stylesheet: str | None = STYLESHEET_NAME, arm: Sequence | None = None,
                 tool_version: str | None = None) -> Path:
    """Write define.xml (Define-XML 2.1.0) for `datasets` and return its path.

    `ct` is one ControlledTerminology or a sequence of them (e.g. ADaM CT + SDTM CT); each needs
    `.codelist(ref)` and `.version` and may carry `.publishing_set` ("SDTM", "ADaM"). `study` needs
    "id"; "name", "description", "protocol", "originator" and "acrf" (aCRF file name relative
    to the define) are used when present. `created` is an ISO 8601 datetime. `stylesheet` is the
    href of the xml-stylesheet instruction (None: no instruction); `define_html.ship_stylesheet`
    puts the file beside the define.
    """
    root = build_define(datasets, study=study, standard=standard, ct=ct, created=created, extra=extra,
                        arm=arm, tool_version=tool_version)
    if stylesheet:
        root.addprevious(stylesheet_instruction(stylesheet))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8",
                                    pretty_print=True))
    return path


def build_define(datasets: Sequence[Dataset], *, study: Mapping, standard: str, ct, created: str,
                 extra: Mapping | None = None, arm: Sequence | None = None, tool_version: str | None = None):
    """The define.xml tree (see `write_define`); `arm`: define_arm.ArmDisplay objects (ADaM); `tool_version`:
    SourceSystemVersion (None: the installed trialforge distribution's, as Dataset-JSON's writer reads it;
    a run passes its own, as it does to Dataset-JSON: reading the distribution's costs ~0.05 s)."""
    extra = dict(extra or {})
    if not _DATETIME_RE.match(created or ""):
        raise SpecError("created must be an ISO 8601 datetime like 2026-01-31T00:00:00", value=created)
    if "id" not in study:
        raise SpecError("study info needs an 'id'")
    std_name, std_version = parse_standard(standard)
    set_name, purpose = _STANDARDS[std_name.upper()]
    cts = [] if ct is None else (list(ct) if isinstance(ct, (list, tuple)) else [ct])
    datasets = _sorted_datasets(datasets)
    study_id = str(study["id"])

    root = etree.Element(_q("ODM"), nsmap={**NSMAP, "arm": ARM_NS} if arm else NSMAP)
    for key, value in (("FileType", "Snapshot"), ("FileOID", f"DEF.{study_id}.{std_name}.{std_version}"),
                       ("ODMVersion", "1.3.2"), ("CreationDateTime", created),
                       ("Originator", study.get("originator")), ("SourceSystem", "trialforge"),
                       ("SourceSystemVersion", tool_version if tool_version is not None else _tool_version())):
        if value is not None:
            root.set(key, value)
    root.set(f"{{{DEF_NS}}}Context", "Submission")

    st = _el(root, "Study", {"OID": f"ST.{study_id}"})
    gv = _el(st, "GlobalVariables")
    _el(gv, "StudyName", text=str(study.get("name") or study_id))
    _el(gv, "StudyDescription", text=str(study.get("description") or study.get("name") or study_id))
    _el(gv, "ProtocolName", text=str(study.get("protocol") or study_id))
    mdv = _el(st, "MetaDataVersion", {
        "OID": f"MDV.{study_id}.{std_name}.{std_version}",
        "Name": f"Study {study_id}, Data Definitions",
        "Description": f"Study {study_id}, {std_name} {std_version} Data Definitions",
        "def:DefineVersion": DEFINE_VERSION})

    # def:Standards
    ig_oid = f"STD.{std_name}.{std_version}"
    stds = _el(mdv, "def:Standards")
    _el(stds, "def:Standard", {"OID": ig_oid, "Name": std_name, "Type": "IG",
                               "Version": std_version, "Status": "Final"})
    # CT standards: the define's own publishing set from each CT object, plus every CT release a
    # referenced codelist says it came from (Codelist.ct_version, set by the CT reader).
    facts = {ds.name: ColumnFacts(ds.frame) for ds in datasets}     # each column factorised once
    vlists = {ds.name: value_lists(ds, facts=facts[ds.name]) for ds in datasets}
    plan = _codelist_plan(datasets, cts, vlists, extra, facts)
    usage = plan.usage
    ct_oids: list[str | None] = []
    ct_pairs: list[tuple[str, str]] = []
    for one in cts:
        pairs = ct_standards(one, set_name)
        own = [p for p in pairs if p[0] == set_name]
        if set_name == "SDTM" and own:
            pairs = own                                  # SDTM datasets use SDTM CT only
        ct_pairs += [p for p in pairs if p not in ct_pairs]
        # A CT object loaded from several files (SDTM + ADaM CT) does not say which file a
        # codelist came from unless its codelists carry ct_version; else no def:StandardOID.
        ct_oids.append(_ct_oid(*pairs[0]) if len(pairs) == 1 else None)
    codelist_std: dict[str, str | None] = {}
    for key in sorted(usage):
        codelist, index, _use = usage[key]
        pair = _codelist_standard(codelist)
        if pair is not None:
            if pair not in ct_pairs:
                ct_pairs.append(pair)
            codelist_std[key] = _ct_oid(*pair)
        else:
            codelist_std[key] = ct_oids[index] if index is not None else None
    _check_created_after_ct(created, ct_pairs)
    for pub, version in ct_pairs:
        _el(stds, "def:Standard", {"OID": _ct_oid(pub, version), "Name": "CDISC/NCI", "Type": "CT",
                                   "PublishingSet": pub, "Version": version, "Status": "Final"})

    leaves: list[tuple[str, str, str]] = []          # (ID, href, title) of documents
    acrf = study.get("acrf")
    if acrf:
        leaves.append(("LF.acrf", str(acrf), str(study.get("acrf_title") or "Annotated CRF")))
        ac = _el(mdv, "def:AnnotatedCRF")
        _el(ac, "def:DocumentRef", {"leafID": "LF.acrf"})
    guide = study.get("reviewers_guide")
    if guide:
        leaves.append(("LF.guide", str(guide), str(study.get("reviewers_guide_title") or "Reviewer's Guide")))
        sd = _el(mdv, "def:SupplementalDoc")
        _el(sd, "def:DocumentRef", {"leafID": "LF.guide"})

    # Gather everything first, then write in schema order.
    codelists: dict[str, CodeListSpec] = {}
    for key in sorted(usage):
        codelist, _index, use = usage[key]
        spec = build_codelist(key, codelist, use, codelist_std[key], fallback_name=plan.first_label.get(key),
                              sponsor_name=_sponsor_name(key, plan))
        codelists[key] = spec
    for ds in datasets:
        for var in ds.meta.variables:
            found = dictionary_of(ds, var, extra)
            if found is None:
                continue
            name, version = found
            key = _dictionary_key(name)
            codelists.setdefault(key, CodeListSpec(codelist_oid(key), name, "text",
                                                   dictionary=name, version=version))

    methods: dict[str, tuple[str, str, str]] = {}    # OID -> (name, type, text)
    comments: dict[str, str] = {}                    # OID -> text, only those referenced

    # ValueListDef / WhereClauseDef
    for ds in datasets:
        for vl in vlists[ds.name]:
            vld = _el(mdv, "def:ValueListDef", {"OID": vl.oid})
            mt = _method_oid(ds, vl.variable, extra, methods)
            for order, item in enumerate(vl.items, start=1):
                ref = _el(vld, "ItemRef", {"ItemOID": item.item_oid, "OrderNumber": order,
                                           "Mandatory": "Yes" if item.mandatory else "No",
                                           "MethodOID": mt})
                _el(ref, "def:WhereClauseRef", {"WhereClauseOID": item.where_oid})
    arm_where = _arm_where_clauses(arm or (), datasets)
    written_wc = set()
    for oid, checks in arm_where.values():
        wc = _el(mdv, "def:WhereClauseDef", {"OID": oid})
        for item_oid, comparator, values in checks:
            rc = _el(wc, "RangeCheck", {"Comparator": comparator, "SoftHard": "Soft", "def:ItemOID": item_oid})
            for value in values:
                _el(rc, "CheckValue", text=value)
    for ds in datasets:
        for vl in vlists[ds.name]:
            for item in vl.items:
                if item.where_oid in written_wc:
                    continue
                written_wc.add(item.where_oid)
                wc = _el(mdv, "def:WhereClauseDef", {"OID": item.where_oid})
                rc = _el(wc, "RangeCheck", {"Comparator": "EQ", "SoftHard": "Soft",
                                            "def:ItemOID": f"IT.{ds.name}.{item.by}"})
                _el(rc, "CheckValue", text=item.value)

    # ItemGroupDef
    for ds in datasets:
        _item_group(mdv, ds, std_name, purpose, ig_oid, extra, methods, comments)

    # ItemDef (dataset variables, then that dataset's value-level items)
    for ds in datasets:
        vl_by_var = {vl.variable.name: vl for vl in vlists[ds.name]}
        for var in ds.meta.variables:
            attrs = attrs_of(var, facts[ds.name].whole(var.name))
            vl = vl_by_var.get(var.name)
            if var.origin is None and vl is not None:      # SUPP-- QVAL: the origins of its slices
                var = replace(var, origin=_slice_origins(vl))
            if var.origin is None:
                var = replace(var, origin=_DEFAULT_ORIGIN.get(ds.name))
            _item_def(mdv, ds, var, f"IT.{ds.name}.{var.name}", attrs, var.label, study, extra,
                      codelists, vl, comments=comments,
                      codelist_key=_dictionary_or(ds, var, extra, plan.variable.get((ds.name, var.name))))
        for vl in vlists[ds.name]:
            labels = slice_labels(ds.frame, vl.items[0].by, facts[ds.name]) if vl.items else {}
            for item in vl.items:
                var = vl.variable
                if var.origin is None:
                    var = replace(var, origin=item.origin or _DEFAULT_ORIGIN.get(ds.name))
                elif item.origin and item.origin != var.origin:
                    var = replace(var, origin=item.origin, origin_detail=None, crf_pages=(),
                                  origin_source=None, method=None)
                _item_def(mdv, ds, var, item.item_oid, item.attrs, labels.get(item.value) or vl.variable.label,
                          study, extra, codelists, None, comments=comments, vlm=True,
                          page_key=f"{ds.name}.{vl.variable.name}.{item.value}",
                          codelist_key=_dictionary_or(ds, var, extra,
                                                      plan.value.get((ds.name, vl.variable.name, item.value))))

    # CodeList
    for key in sorted(codelists, key=lambda k: codelists[k].oid):
        _code_list(mdv, codelists[key])

    # MethodDef
    for oid in sorted(methods):
        name, mtype, text = methods[oid]
        md = _el(mdv, "MethodDef", {"OID": oid, "Name": name, "Type": mtype})
        _description(md, text)

    # def:CommentDef
    for oid in sorted(comments):
        cd = _el(mdv, "def:CommentDef", {"OID": oid})
        _description(cd, comments[oid])

    # def:leaf (documents)
    for leaf_id, href, title in sorted(leaves):
        _leaf(mdv, leaf_id, href, title)
    if arm:
        _arm(mdv, arm, arm_where, {ds.name: set(ds.meta.variable_names) for ds in datasets})
    return root


# ---------------------------------------------------------------- Analysis Results Metadata
def _arm_q(tag: str) -> str:
    return f"{{{ARM_NS}}}{tag}"


def _arm_el(parent, tag: str, attrs: Mapping[str, object] | None = None, text: str | None = None):
    node = etree.SubElement(parent, _arm_q(tag))
    for key, value in (attrs or {}).items():
        if value is not None:
            node.set(key, str(value))
    if text is not None:
        node.text = text
    return node


def _merged(datasets) -> list:
    """One AnalysisDataset per dataset: selections joined by 'and', variables united."""
    from .define_arm import ArmDataset, _and
    out: dict[str, ArmDataset] = {}
    for d in datasets:
        if d.name in out:
            old = out[d.name]
            d = ArmDataset(d.name, _and(old.where, d.where) if old.where != d.where else old.where,
                           tuple(dict.fromkeys(old.variables + d.variables)))
        out[d.name] = d
    return list(out.values())


def _arm_where_clauses(displays, datasets) -> dict:
    """(display id, result index, dataset) -> (WhereClauseDef OID, [(ItemOID, comparator, values)])."""
    from .define_arm import where_checks
    names = {ds.name: set(ds.meta.variable_names) for ds in datasets}
    out = {}
    for display in displays:
        for i, result in enumerate(display.results, start=1):
            for d in _merged(result.datasets):
                checks = where_checks(d.where)
                if not checks or d.name not in names or any(v not in names[d.name] for v, _c, _vals in checks):
                    continue
                oid = f"WC.{display.id}.R{i}.{d.name}"
                out[(display.id, i, d.name)] = (oid, [(f"IT.{d.name}.{v}", c, vals) for v, c, vals in checks])
    return out


def _arm(mdv, displays, where: Mapping, names: Mapping[str, set]):
    from .define_arm import said
    root = _arm_el(mdv, "AnalysisResultDisplays")
    for display in displays:
        rd = _arm_el(root, "ResultDisplay", {"OID": display.oid, "Name": display.id})
        _description(rd, display.title)
        for i, result in enumerate(display.results, start=1):
            pds = result.parameter_dataset
            ar = _arm_el(rd, "AnalysisResult", {
                "OID": f"AR.{display.id}.R{i}", "ParameterOID": f"IT.{pds}.PARAMCD" if pds else None,
                "AnalysisReason": display.reason, "AnalysisPurpose": display.purpose})
            _description(ar, result.description)
            ads = _arm_el(ar, "AnalysisDatasets")
            for d in _merged(result.datasets):
                if d.name not in names:
                    raise SpecError(f"analysis result {display.id} uses dataset {d.name}, which this define "
                                    f"does not describe", value=d.name)
                one = _arm_el(ads, "AnalysisDataset", {"ItemGroupOID": f"IG.{d.name}"})
                clause = where.get((display.id, i, d.name))
                if clause:
                    _el(one, "def:WhereClauseRef", {"WhereClauseOID": clause[0]})
                for var in d.variables:
                    if var in names[d.name]:
                        _arm_el(one, "AnalysisVariable", {"ItemOID": f"IT.{d.name}.{var}"})
            doc = _arm_el(ar, "Documentation")
            selection = "; ".join(f"{d.name} where {said(d.where)}" for d in _merged(result.datasets) if d.where)
            _description(doc, result.documentation + (f" Selection: {selection}." if selection else ""))
            code = _arm_el(ar, "ProgrammingCode", {"Context": "trialforge command line"})
            _arm_el(code, "Code", text=display.code)


@lru_cache(maxsize=1)
def _tool_version() -> str | None:
    try:
        from importlib.metadata import version
        return version("trialforge")
    except Exception:  # not installed as a distribution: leave the attribute out
        return None


def _method_oid(ds: Dataset, var: VariableMeta, extra: Mapping, methods: dict) -> str | None:
    text = method_text(ds, var, extra)
    if not text:
        return None
    oid = f"MT.{ds.name}.{var.name}"
    methods[oid] = (f"Algorithm to derive {ds.name}.{var.name}", method_type(ds, var, extra), text)
    return oid


def _leaf(parent, leaf_id: str, href: str, title: str):
    lf = _el(parent, "def:leaf", {"ID": leaf_id, "xlink:href": href})
    _el(lf, "def:title", text=title)


def _item_group(mdv, ds: Dataset, std_name: str, purpose: str, ig_oid: str, extra: Mapping,
                methods: dict, comments: dict):
    meta = ds.meta
    if not meta.structure:
        raise SpecError(f"dataset {ds.name}: structure is required by define.xml (def:Structure)")
    cls = class_name(ds)
    sdtm = std_name == "SDTMIG"
    one_per_subject = meta.structure.strip().lower().startswith("one record per subject")
    comment_oid = None
    text = extra.get("comments", {}).get(ds.name) or meta.comment
    if text:
        comment_oid = f"COM.{ds.name}"
        comments[comment_oid] = text
    xpt = f"{ds.name.lower()}.xpt"
    ig = _el(mdv, "ItemGroupDef", {
        "OID": f"IG.{ds.name}", "Domain": ds.name if sdtm else None, "Name": ds.name,
        "Repeating": "No" if one_per_subject else "Yes",
        "IsReferenceData": "Yes" if cls == "TRIAL DESIGN" else "No",
        "SASDatasetName": ds.name, "def:Structure": meta.structure, "Purpose": purpose,
        "def:StandardOID": ig_oid, "def:ArchiveLocationID": f"LF.{ds.name}",
        "def:CommentOID": comment_oid})
    _description(ig, meta.label)
    keys = list(meta.keys)
    for order, var in enumerate(meta.variables, start=1):
        _el(ig, "ItemRef", {
            "ItemOID": f"IT.{ds.name}.{var.name}", "OrderNumber": order,
            "Mandatory": "Yes" if (var.core or "").strip().lower() == "req" else "No",
            "KeySequence": keys.index(var.name) + 1 if var.name in keys else None,
            "MethodOID": _method_oid(ds, var, extra, methods),
            "Role": var.role if (sdtm and var.role) else None})
    klass = _el(ig, "def:Class", {"Name": cls})
    sub = sub_class(ds, cls)
    if sub:
        _el(klass, "def:SubClass", {"Name": sub})
    _leaf(ig, f"LF.{ds.name}", xpt, xpt)


def _item_def(mdv, ds: Dataset, var: VariableMeta, oid: str, attrs: ItemAttrs, label: str | None,
              study: Mapping, extra: Mapping, codelists: dict, vl: ValueList | None, *,
              comments: dict, vlm: bool = False, codelist_key: str | None = None,
              page_key: str | None = None):
    key = _key(ds.name, var.name)
    comment_oid = None
    text = None if vlm else variable_comment(ds, var, extra)
    if text:
        comment_oid = f"COM.{key}"
        comments[comment_oid] = text
    item = _el(mdv, "ItemDef", {
        "OID": oid, "Name": var.name, "DataType": attrs.data_type, "Length": attrs.length,
        "SignificantDigits": attrs.significant_digits, "SASFieldName": var.name,
        "def:DisplayFormat": attrs.display_format, "def:CommentOID": comment_oid})
    if label is not None:
        _description(item, label)
    if codelist_key is not None and codelist_key in codelists:
        _el(item, "CodeListRef", {"CodeListOID": codelists[codelist_key].oid})
    for one in _origins(var):
        _origin(item, ds, replace(var, origin=one), study, extra, page_key)
    if vl is not None:
        _el(item, "def:ValueListRef", {"ValueListOID": vl.oid})


def _origins(var: VariableMeta) -> list[str]:
    """Origin types of a variable; several (joined by '|') for a QVAL whose slices differ."""
    return [o for o in (var.origin or "").split("|") if o]


def _origin(item, ds: Dataset, var: VariableMeta, study: Mapping, extra: Mapping, page_key: str | None):
    otype = origin_type(ds, var)
    if otype is None:
        return
    origin = _el(item, "def:Origin", {"Type": otype, "Source": origin_source(ds, var, otype, extra)})
    pages = _page_refs(ds, var, extra, page_key) if otype == "Collected" else None
    if otype in ("Predecessor", "Protocol", "Other") and var.origin_detail:
        _description(origin, var.origin_detail)
    elif otype == "Collected" and var.origin_detail and pages is None:
        _description(origin, var.origin_detail)
    if pages and study.get("acrf"):
        doc = _el(origin, "def:DocumentRef", {"leafID": "LF.acrf"})
        _el(doc, "def:PDFPageRef", {"PageRefs": pages, "Type": "PhysicalRef"})


# Origin of a variable whose metadata say none, by dataset: RELREC rows are written from relrec.yaml.
_DEFAULT_ORIGIN = {"RELREC": "Assigned"}


def _slice_origins(vl: ValueList) -> str | None:
    """The distinct origin types of a value list's slices ('Collected|Derived'), in sorted order."""
    kinds = sorted({kind for item in vl.items if item.origin for kind in item.origin.split("|")})
    return "|".join(kinds) or None


def _dictionary_or(ds: Dataset, var: VariableMeta, extra: Mapping, key: str | None) -> str | None:
    found = dictionary_of(ds, var, extra)
    return _dictionary_key(found[0]) if found is not None else key


def _codelist_plan(datasets: Sequence[Dataset], cts: Sequence, vlists: Mapping, extra: Mapping,
                   facts: Mapping | None = None) -> CodelistPlan:
    """Codelist references of every variable and slice (define_codelist_plan); the candidates are
    `extra["codelists"]` ("DS.VAR" / "DS.VAR.VALUE" -> refs, e.g. from the SDTM specs' `ct:`)
    plus the ADaM rule table (define_adam_codelists)."""
    candidates: dict[str, list[str]] = {k: list(v) for k, v in adam_candidates(datasets).items()}
    for key, refs in (extra.get("codelists") or {}).items():
        refs = [refs] if isinstance(refs, str) else list(refs)
        candidates[key] = refs + [r for r in candidates.get(key, []) if r not in refs]
    plan = plan_codelists(datasets, cts, vlists, candidates, facts)
    plan.drop_unused(lambda key: bool(build_codelist(key, plan.usage[key][0], plan.usage[key][2], None).entries))
    return plan


def _sponsor_name(key: str, plan: CodelistPlan) -> str:
    """A sponsor list's name: the label of the variable it serves, with the dataset when per dataset."""
    label = plan.first_label.get(key) or key
    head = key.split(".")[0]
    return f"{label} ({head})" if "." in key else label


def _check_created_after_ct(created: str, ct_pairs: Sequence[tuple[str, str]]) -> None:
    """A define cannot be created before a CT release it cites was published."""
    for pub, version in ct_pairs:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", version) and created[:10] < version:
            raise SpecError(f"define.xml CreationDateTime {created} is before the {pub} CT {version} it "
                            f"cites; set study.yaml created on or after {version}", column="created",
                            value=created)


def _code_list(mdv, spec: CodeListSpec):
    cl = _el(mdv, "CodeList", {"OID": spec.oid, "Name": spec.name, "DataType": spec.data_type,
                               "def:StandardOID": spec.standard_oid})
    if spec.dictionary:
        _el(cl, "ExternalCodeList", {"Dictionary": spec.dictionary, "Version": spec.version or None})
        return
    if not spec.entries:        # a codelist no value uses: schema needs one item; show the gap
        _el(cl, "EnumeratedItem", {"CodedValue": ""})
    for entry in spec.entries:
        if spec.uses_decodes:
            item = _el(cl, "CodeListItem", {"CodedValue": entry.coded_value,
                                            "def:ExtendedValue": "Yes" if entry.extended else None})
            _description(item, entry.decode or entry.coded_value, tag="Decode")
        else:
            item = _el(cl, "EnumeratedItem", {"CodedValue": entry.coded_value,
                                              "def:ExtendedValue": "Yes" if entry.extended else None})
        _alias(item, entry.c_code)
    _alias(cl, spec.c_code)


# ---------------------------------------------------------------- rendering and schema validation
def render_define_html(define_path, xsl_path=None, out=None) -> Path:
    """Render define.xml to HTML: the shipped define2-1.xsl unless `xsl_path` names another;
    default output define.html beside the define (see define_html)."""
    from .define_html import render_define_html as render
    return render(define_path, out, xsl_path)


def default_define_xsd() -> Path | None:
    """The Define-XML 2.1 XSD shipped by the `defineutils` package, when it is installed."""
    import importlib.util
    spec = importlib.util.find_spec("defineutils")
    if spec is None or not spec.submodule_search_locations:
        return None
    base = Path(list(spec.submodule_search_locations)[0])
    xsd = base / "validate" / "schema" / "cdisc-define-2.1" / "define2-1-0.xsd"
    return xsd if xsd.exists() else None


def default_arm_xsd() -> Path | None:
    """The ARM 1.0 XSD (Define-XML 2.1 + arm: extension) shipped by `defineutils`, when installed."""
    define = default_define_xsd()
    if define is None:
        return None
    xsd = define.parent.parent / "cdisc-arm-1.0" / "arm1-0-0.xsd"
    return xsd if xsd.exists() else None


def validate_define_xsd(path, xsd_path=None) -> list[str]:
    """Schema errors of a define.xml ("line N: message"); [] when valid.

    Uses `xsd_path`, else the XSD shipped by `defineutils` (a test/optional dependency): the
    Define-XML 2.1 schema, or the ARM 1.0 schema (which includes it) when the define carries
    Analysis Results Metadata.
    """
    doc = etree.parse(str(path))
    has_arm = bool(doc.getroot().xpath("//arm:AnalysisResultDisplays", namespaces={"arm": ARM_NS}))
    xsd = Path(xsd_path) if xsd_path else (default_arm_xsd() if has_arm else default_define_xsd())
    if xsd is None:
        raise SpecError("no Define-XML 2.1 XSD: install defineutils or pass xsd_path")
    schema = etree.XMLSchema(etree.parse(str(xsd)))
    if schema.validate(doc):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]
