"""Write a study's metadata as a define spec workbook in the Pinnacle 21 layout (read back by define_workbook).

One row per dataset, variable, value-level slice, codelist term, method and comment, with the IDs
P21 uses to link them (MT.DS.VAR, COM.DS.VAR, the codelist's submission value). Blank cells mean
"as the data say" (a blank Length is the longest value). The bytes depend only on the inputs.
"""
from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime
from pathlib import Path

import pandas as pd

from .define_workbook import SHEETS
from .metadata import NUM, Dataset, VariableMeta

_DURATION_SUFFIXES = ("DUR", "ELTM", "EVLINT")
_FIXED_TIME = datetime(2000, 1, 1)


def data_type(var: VariableMeta, values: pd.Series | None = None) -> str:
    """P21 Data Type: integer/float for numbers (float when decimals occur), datetime for --DTC, else text."""
    if var.type == NUM:
        if var.significant_digits:
            return "float"
        if values is not None:
            numbers = pd.to_numeric(values, errors="coerce").dropna()
            if len(numbers) and not (numbers == numbers.round()).all():
                return "float"
        return "integer"
    if var.name.endswith("DTC"):
        return "datetime"
    if var.name.endswith(_DURATION_SUFFIXES):
        return "durationDatetime"
    return "text"


def _codelist_id(var: VariableMeta) -> str:
    if var.dictionary:
        return _dictionary_id(var.dictionary)
    return var.codelist or var.codelist_code or ""


def _dictionary_id(dictionary) -> str:
    name, version = (list(dictionary) + ["", ""])[:2]
    return f"{name} {version}".strip()


def _variable_row(ds: Dataset, var: VariableMeta, order: int, methods: dict, comments: dict) -> list:
    key = f"{ds.name}.{var.name}"
    method_id = ""
    if var.method:
        method_id = f"MT.{key}"
        methods[method_id] = [method_id, f"Algorithm for {key}", var.method_type or "Computation", var.method,
                              "", "", "", ""]
    comment_id = ""
    if var.comment:
        comment_id = f"COM.{key}"
        comments[comment_id] = [comment_id, var.comment, "", ""]
    values = ds.frame[var.name] if var.name in ds.frame.columns else None
    return [order, ds.name, var.name, var.label, data_type(var, values), var.length or "",
            "" if var.significant_digits is None else var.significant_digits, var.format or "",
            "Yes" if var.core == "Req" else "No", "", _codelist_id(var), "", var.origin or "", var.origin_source or "",
            " ".join(str(p) for p in var.crf_pages), method_id,
            var.origin_detail if var.origin == "Predecessor" and var.origin_detail else "",
            var.role or "", comment_id, "", var.core or "", var.origin_detail or ""]


def _used_terms(datasets, ct) -> dict[str, dict]:
    """Codelist ID -> {name, code, type, extensible, terms: [(value, code, decode)]} for codelists in use."""
    out: dict[str, dict] = {}
    for ds in datasets:
        for var in ds.meta.variables:
            ref = var.codelist or var.codelist_code
            if not ref or var.dictionary:
                continue
            codelist = None
            if ct is not None:
                try:
                    codelist = ct.codelist(ref)
                except Exception:  # a codelist the CT lacks is still written, without terms
                    codelist = None
            entry = out.setdefault(ref, {"name": getattr(codelist, "name", "") or "", "code": var.codelist_code or "",
                                         "type": "integer" if var.type == NUM else "text",
                                         "extensible": "Yes" if getattr(codelist, "extensible", False) else "No",
                                         "values": set(), "codelist": codelist})
            if var.name in ds.frame.columns:
                col = ds.frame[var.name]
                text = col.map(lambda v: "" if pd.isna(v) else (str(int(v)) if isinstance(v, float) and v.is_integer()
                                                               else str(v)))
                entry["values"].update(v for v in text.unique() if v.strip())
    return out


def _codelist_rows(used: dict) -> list[list]:
    rows = []
    for ref in sorted(used):
        entry = used[ref]
        cl = entry["codelist"]
        terms = {t.value: t for t in (cl.terms if cl is not None else ())}
        values = [t.value for t in (cl.terms if cl is not None else ()) if t.value in entry["values"]]
        values += sorted(v for v in entry["values"] if v not in terms)
        if not values:
            rows.append([ref, entry["name"], entry["code"], entry["type"], "", "", "", "", "", entry["extensible"]])
        for i, value in enumerate(values, start=1):
            term = terms.get(value)
            rows.append([ref, entry["name"], entry["code"], entry["type"], i, value, term.code if term else "",
                         term.preferred_term if term else "", "", entry["extensible"]])
    return rows


def _value_level_rows(ds: Dataset, value_lists, methods: dict, comments: dict) -> tuple[list, list]:
    """ValueLevel and WhereClauses rows: the workbook's own VLM if the metadata carry it, else the data-derived lists."""
    vl_rows, wc_rows, seen = [], [], set()
    if ds.meta.value_level:
        for order, item in enumerate(ds.meta.value_level, start=1):
            wid = item.where_id or f"WC.{ds.name}.{order}"
            for w in wid.split(","):
                if w in seen:
                    continue
                seen.add(w)
                for variable, comparator, values in item.where:
                    wc_rows.append([w, ds.name, variable, comparator, ",".join(values), ""])
            row = _variable_row(ds, item.meta, order, methods, comments)
            # ValueLevel has the Variables columns without Label, Common and Role
            vl_rows.append([order, ds.name, item.variable, wid, ""] + row[4:11] + row[12:17] + [row[18], ""]
                           + row[20:22])
        return vl_rows, wc_rows
    if value_lists is None:
        return [], []
    order = 0
    for vl in value_lists(ds):
        for item in vl.items:
            order += 1
            if item.where_oid not in seen:
                seen.add(item.where_oid)
                wc_rows.append([item.where_oid, ds.name, item.by, "EQ", item.value, ""])
            attrs = item.attrs
            vl_rows.append([order, ds.name, vl.variable.name, item.where_oid, "", attrs.data_type,
                            "" if attrs.data_derived_length or attrs.length is None else attrs.length,
                            "" if attrs.significant_digits is None else attrs.significant_digits,
                            attrs.display_format or "", "Yes" if item.mandatory else "No", "", "",
                            item.origin or vl.variable.origin or "", "", "", "", "", "", "", "", ""])
    return vl_rows, wc_rows


def write_define_workbook(datasets, path, *, study: dict, standard: str, ct=None, value_lists=None) -> Path:
    """Write the workbook for ``datasets`` (Dataset objects) and return its path.

    ``value_lists(ds)`` (optional) gives data-derived value-level lists for datasets whose metadata
    carry none (the define.xml writer's own, passed in by the CLI so this layer stays below it).
    """
    import openpyxl
    from openpyxl.styles import Font

    datasets = list(datasets)
    methods: dict[str, list] = {}
    comments: dict[str, list] = {}
    name, version = (standard.split(" ", 1) + [""])[:2]
    purpose = "Analysis" if name.upper().startswith("ADAM") else "Tabulation"
    sheets: dict[str, list[list]] = {s: [] for s in SHEETS}
    sheets["Study"] = [["StudyName", study.get("name") or study.get("id", "")],
                       ["StudyDescription", study.get("description") or study.get("name") or study.get("id", "")],
                       ["ProtocolName", study.get("protocol") or study.get("id", "")],
                       ["StandardName", name], ["StandardVersion", version], ["Language", "en"]]
    for ds in datasets:
        meta = ds.meta
        comment_id = ""
        if meta.comment:
            comment_id = f"COM.{ds.name}"
            comments[comment_id] = [comment_id, meta.comment, "", ""]
        one_per_subject = tuple(k for k in meta.keys if k != "STUDYID") in (("USUBJID",), ())
        reference = (meta.cls or "").upper() == "TRIAL DESIGN"
        sheets["Datasets"].append([ds.name, meta.label, meta.cls or "", meta.structure or "", purpose,
                                   ", ".join(meta.keys), "No" if one_per_subject or reference else "Yes",
                                   "Yes" if reference else "No", comment_id, ""])
        for order, var in enumerate(meta.variables, start=1):
            sheets["Variables"].append(_variable_row(ds, var, order, methods, comments))
        vl, wc = _value_level_rows(ds, value_lists, methods, comments)
        sheets["ValueLevel"] += vl
        sheets["WhereClauses"] += wc
    sheets["Codelists"] = _codelist_rows(_used_terms(datasets, ct))
    dictionaries = sorted({tuple((list(v.dictionary) + ["", ""])[:2]) for ds in datasets for v in ds.meta.variables
                           if v.dictionary})
    sheets["Dictionaries"] = [[_dictionary_id(d), d[0], "text", d[1], ""] for d in dictionaries]
    sheets["Methods"] = [methods[k] for k in sorted(methods)]
    sheets["Comments"] = [comments[k] for k in sorted(comments)]
    book = openpyxl.Workbook()
    book.remove(book.active)
    for sheet_name, columns in SHEETS.items():
        ws = book.create_sheet(sheet_name)
        ws.append(list(columns))
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in sheets[sheet_name]:
            ws.append(row)
    book.properties.created = _FIXED_TIME          # no clock time in the file
    book.properties.modified = _FIXED_TIME
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    book.save(buffer)
    path.write_bytes(_fixed_zip_times(buffer.getvalue()))
    return path


def _fixed_zip_times(data: bytes) -> bytes:
    """The .xlsx zip with every entry dated 1980-01-01, so the same inputs give the same bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":      # openpyxl stamps the save time as 'modified'
                content = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2000-01-01T00:00:00Z", content)
            dst.writestr(fixed, content)
    return out.getvalue()
