"""Study metadata from a define spec workbook in the Pinnacle 21 layout (what R's metacore reads).

Datasets' Purpose, Repeating and Reference Data follow from the standard and the keys, so they are
written but not read. Sheets and columns are P21's (Study, Datasets, Variables, ValueLevel, WhereClauses, Codelists,
Dictionaries, Methods, Comments, Documents). What the workbook says about a dataset or variable
(label, length, order, type, codelist, origin, pages, method, comment, keys, value-level metadata)
overrides the standard metadata the mapping engine starts from; blank cells keep it. Two columns
are trialforge additions that P21 ignores: Variables/ValueLevel ``Core`` (Req/Exp/Perm) and
``Origin Detail`` (the raw column or predecessor a value comes from).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from ..errors import SpecError
from .ct import Codelist, Term
from .metadata import CHAR, NUM, DatasetMeta, ValueLevelMeta, VariableMeta

SHEETS = {
    "Study": ("Attribute", "Value"),
    "Datasets": ("Dataset", "Description", "Class", "Structure", "Purpose", "Key Variables", "Repeating",
                 "Reference Data", "Comment", "Developer Notes"),
    "Variables": ("Order", "Dataset", "Variable", "Label", "Data Type", "Length", "Significant Digits", "Format",
                  "Mandatory", "Assigned Value", "Codelist", "Common", "Origin", "Source", "Pages", "Method",
                  "Predecessor", "Role", "Comment", "Developer Notes", "Core", "Origin Detail"),
    "ValueLevel": ("Order", "Dataset", "Variable", "Where Clause", "Description", "Data Type", "Length",
                   "Significant Digits", "Format", "Mandatory", "Assigned Value", "Codelist", "Origin", "Source",
                   "Pages", "Method", "Predecessor", "Comment", "Developer Notes", "Core", "Origin Detail"),
    "WhereClauses": ("ID", "Dataset", "Variable", "Comparator", "Value", "Comment"),
    "Codelists": ("ID", "Name", "NCI Codelist Code", "Data Type", "Order", "Term", "NCI Term Code",
                  "Decoded Value", "Comment", "Extensible"),
    "Dictionaries": ("ID", "Name", "Data Type", "Version", "Comment"),
    "Methods": ("ID", "Name", "Type", "Description", "Expression Context", "Expression Code", "Document", "Pages"),
    "Comments": ("ID", "Description", "Document", "Pages"),
    "Documents": ("ID", "Title", "Href"),
}
REQUIRED_COLUMNS = {"Datasets": ("Dataset",), "Variables": ("Dataset", "Variable"),
                    "ValueLevel": ("Dataset", "Variable", "Where Clause"),
                    "WhereClauses": ("ID", "Variable", "Comparator", "Value"), "Codelists": ("ID",),
                    "Dictionaries": ("ID", "Name"), "Methods": ("ID",), "Comments": ("ID",), "Documents": ("ID",)}
NUMERIC_TYPES = {"integer", "float"}
TEXT_TYPES = {"text", "date", "datetime", "time", "partialdate", "partialtime", "partialdatetime",
              "incompletedatetime", "durationdatetime", "intervaldatetime", "uri", "string", "boolean"}
ORIGINS = ("Collected", "Derived", "Assigned", "Protocol", "Predecessor", "Not Available", "Other")
COMPARATORS = ("EQ", "NE", "LT", "LE", "GT", "GE", "IN", "NOTIN")


@dataclass(frozen=True)
class DefineWorkbook:
    """The parsed workbook: per dataset, its metadata as the workbook states it."""

    file: str
    study: dict
    datasets: dict                   # name -> DatasetMeta (variables in workbook order)
    codelists: tuple = ()            # Codelist objects for the Codelists sheet
    documents: tuple = ()            # (ID, Title, Href) rows, kept for round trips
    extra_rows: dict = field(default_factory=dict)   # sheet -> rows kept verbatim (Documents)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _sheet_rows(book, name: str, file: str) -> list[tuple[int, dict]]:
    """(Excel row number, {column: text}) for a sheet; a missing optional sheet gives no rows."""
    if name not in book.sheetnames:
        return []
    rows = list(book[name].iter_rows(values_only=True))
    if not rows:
        return []
    header = [_cell(h) for h in rows[0]]
    for col in REQUIRED_COLUMNS.get(name, ()):
        if col not in header:
            raise SpecError(f"sheet {name} lacks column {col!r}; the Pinnacle 21 layout has "
                            f"{', '.join(SHEETS[name])}", file=file, column=f"{name}!{col}")
    out = []
    for i, row in enumerate(rows[1:], start=2):
        values = {h: _cell(v) for h, v in zip(header, row) if h}
        if any(values.values()):
            out.append((i, values))
    return out


def _where(file: str, sheet: str, row: int, column: str) -> dict:
    return {"file": file, "column": f"{sheet}!{column}", "row": row}


def _int(text: str, file, sheet, row, column) -> int | None:
    if text == "":
        return None
    try:
        return int(float(text))
    except ValueError:
        raise SpecError(f"{column} must be a whole number", value=text, **_where(file, sheet, row, column)) from None


def _type(text: str, file, sheet, row) -> str | None:
    if text == "":
        return None
    key = text.replace(" ", "").lower()
    if key in NUMERIC_TYPES:
        return NUM
    if key in TEXT_TYPES:
        return CHAR
    raise SpecError(f"unknown Data Type; use one of text, integer, float, date, datetime, time, "
                    f"durationDatetime, partialDate ...", value=text, **_where(file, sheet, row, "Data Type"))


def _origin(text: str, file, sheet, row) -> str | None:
    if text == "":
        return None
    for o in ORIGINS:
        if text.lower() == o.lower() or (o == "Collected" and text.upper() == "CRF"):
            return o
    raise SpecError(f"unknown Origin; use one of {', '.join(ORIGINS)}", value=text,
                    **_where(file, sheet, row, "Origin"))


def _pages(text: str, file, sheet, row) -> tuple:
    if text == "":
        return ()
    parts = [p for p in re.split(r"[\s,]+", text) if p]
    try:
        return tuple(int(p) for p in parts)
    except ValueError:
        raise SpecError("Pages must be page numbers separated by spaces or commas", value=text,
                        **_where(file, sheet, row, "Pages")) from None


class _Lookups:
    """Methods, Comments, Dictionaries and Codelists sheets by ID."""

    def __init__(self, book, file):
        self.file = file
        self.methods = {r["ID"]: r for _, r in _sheet_rows(book, "Methods", file)}
        self.comments = {r["ID"]: r for _, r in _sheet_rows(book, "Comments", file)}
        self.dictionaries = {r["ID"]: r for _, r in _sheet_rows(book, "Dictionaries", file)}
        self.codelist_rows: dict[str, list[dict]] = {}
        for _, r in _sheet_rows(book, "Codelists", file):
            self.codelist_rows.setdefault(r["ID"], []).append(r)

    def comment(self, ref: str, sheet, row) -> str | None:
        if ref == "":
            return None
        if ref not in self.comments:
            raise SpecError(f"Comment {ref!r} is not an ID of the Comments sheet", value=ref,
                            **_where(self.file, sheet, row, "Comment"))
        return self.comments[ref].get("Description") or None

    def method(self, ref: str, sheet, row) -> tuple[str | None, str | None]:
        if ref == "":
            return None, None
        if ref not in self.methods:
            raise SpecError(f"Method {ref!r} is not an ID of the Methods sheet", value=ref,
                            **_where(self.file, sheet, row, "Method"))
        m = self.methods[ref]
        return m.get("Description") or None, m.get("Type") or None

    def codelist(self, ref: str, sheet, row) -> dict:
        """Variable attributes a Codelist cell sets: codelist/codelist_code, or dictionary."""
        if ref == "":
            return {}
        if ref in self.dictionaries:
            d = self.dictionaries[ref]
            return {"dictionary": (d.get("Name", ""), d.get("Version", ""))}
        if ref not in self.codelist_rows:
            raise SpecError(f"Codelist {ref!r} is not an ID of the Codelists or Dictionaries sheet", value=ref,
                            **_where(self.file, sheet, row, "Codelist"))
        code = self.codelist_rows[ref][0].get("NCI Codelist Code") or None
        is_code_only = code is not None and ref == code
        return {"codelist": None if is_code_only else ref, "codelist_code": code}


def _variable(r: dict, row: int, sheet: str, look: _Lookups, name: str) -> dict:
    """The attributes one Variables/ValueLevel row states (only non-blank cells)."""
    f = look.file
    method, method_type = look.method(r.get("Method", ""), sheet, row)
    attrs = {
        "name": name, "label": r.get("Label") or None, "type": _type(r.get("Data Type", ""), f, sheet, row),
        "length": _int(r.get("Length", ""), f, sheet, row, "Length"),
        "significant_digits": _int(r.get("Significant Digits", ""), f, sheet, row, "Significant Digits"),
        "format": r.get("Format") or None, "origin": _origin(r.get("Origin", ""), f, sheet, row),
        "origin_source": r.get("Source") or None, "crf_pages": _pages(r.get("Pages", ""), f, sheet, row),
        "method": method, "method_type": method_type, "role": r.get("Role") or None,
        "comment": look.comment(r.get("Comment", ""), sheet, row),
        "core": r.get("Core") or ("Req" if r.get("Mandatory", "").lower() == "yes" else None),
        "origin_detail": r.get("Origin Detail") or r.get("Predecessor") or None,
    }
    attrs.update(look.codelist(r.get("Codelist", ""), sheet, row))
    return attrs


def _as_meta(attrs: dict) -> VariableMeta:
    base = VariableMeta(name=attrs["name"], label=attrs.get("label") or "")
    return replace(base, **{k: v for k, v in attrs.items() if k not in ("name",) and v not in (None, ())})


def _where_clauses(book, file) -> dict[str, tuple]:
    clauses: dict[str, list] = {}
    for row, r in _sheet_rows(book, "WhereClauses", file):
        comp = r["Comparator"].upper()
        if comp not in COMPARATORS:
            raise SpecError(f"unknown Comparator; use one of {', '.join(COMPARATORS)}", value=r["Comparator"],
                            **_where(file, "WhereClauses", row, "Comparator"))
        values = tuple(v.strip() for v in r["Value"].split(",")) if comp in ("IN", "NOTIN") else (r["Value"],)
        clauses.setdefault(r["ID"], []).append((r["Variable"], comp, values))
    return {k: tuple(v) for k, v in clauses.items()}


def _codelists(look: _Lookups, file: str) -> tuple:
    out = []
    release = f"Define spec {Path(file).name}"
    for ref, rows in look.codelist_rows.items():
        first = rows[0]
        terms = tuple(Term(r.get("NCI Term Code", ""), r.get("Term", ""), (), r.get("Decoded Value", ""))
                      for r in sorted(rows, key=lambda r: float(r.get("Order") or 0)) if r.get("Term"))
        code = first.get("NCI Codelist Code") or ref
        out.append(Codelist(code=code, name=first.get("Name", ""), short_name=ref,
                            extensible=first.get("Extensible", "").lower() == "yes" or not first.get("NCI Codelist Code"),
                            terms=terms, publishing_set=None, ct_version=None, release=release))
    return tuple(out)


@lru_cache(maxsize=8)
def _read_cached(path: Path, mtime_ns: int, size: int) -> DefineWorkbook:
    import openpyxl
    file = str(path)
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # not a workbook, corrupt zip ...
        raise SpecError(f"cannot read define spec workbook: {str(exc).splitlines()[0]}", file=file) from None
    try:
        if "Variables" not in book.sheetnames or "Datasets" not in book.sheetnames:
            raise SpecError("a define spec workbook needs the sheets Datasets and Variables (Pinnacle 21 layout)",
                            file=file)
        look = _Lookups(book, file)
        study = {r["Attribute"]: r.get("Value", "") for _, r in _sheet_rows(book, "Study", file) if r.get("Attribute")}
        clauses = _where_clauses(book, file)
        variables: dict[str, list] = {}
        for row, r in _sheet_rows(book, "Variables", file):
            ds, name = r["Dataset"].upper(), r["Variable"].upper()
            order = _int(r.get("Order", ""), file, "Variables", row, "Order")
            variables.setdefault(ds, []).append((order if order is not None else 10 ** 6, row,
                                                 _as_meta(_variable(r, row, "Variables", look, name))))
        vlm: dict[str, list] = {}
        for row, r in _sheet_rows(book, "ValueLevel", file):
            ds, name = r["Dataset"].upper(), r["Variable"].upper()
            ids = [w.strip() for w in r["Where Clause"].split(",") if w.strip()] or [""]
            missing = [w for w in ids if w not in clauses]
            if missing:
                raise SpecError(f"Where Clause {missing[0]!r} is not an ID of the WhereClauses sheet",
                                value=missing[0], **_where(file, "ValueLevel", row, "Where Clause"))
            where = tuple(c for w in ids for c in clauses[w])
            order = _int(r.get("Order", ""), file, "ValueLevel", row, "Order")
            vlm.setdefault(ds, []).append((order if order is not None else 10 ** 6, row, ValueLevelMeta(
                name, where, _as_meta(_variable(r, row, "ValueLevel", look, name)), ",".join(ids))))
        datasets = {}
        for row, r in _sheet_rows(book, "Datasets", file):
            name = r["Dataset"].upper()
            vars_ = tuple(v for _, _, v in sorted(variables.get(name, []), key=lambda t: (t[0], t[1])))
            keys = tuple(k.strip().upper() for k in re.split(r"[,\s]+", r.get("Key Variables", "")) if k.strip())
            datasets[name] = DatasetMeta(
                name=name, label=r.get("Description", ""), cls=r.get("Class") or None,
                structure=r.get("Structure") or None, keys=keys, variables=vars_,
                comment=look.comment(r.get("Comment", ""), "Datasets", row),
                value_level=tuple(v for _, _, v in sorted(vlm.get(name, []), key=lambda t: (t[0], t[1]))))
        orphans = sorted(set(variables) - set(datasets))
        if orphans:
            raise SpecError(f"Variables rows name dataset {orphans[0]}, which the Datasets sheet does not list",
                            file=file, column="Variables!Dataset", value=orphans[0])
        documents = tuple((r["ID"], r.get("Title", ""), r.get("Href", "")) for _, r in _sheet_rows(book, "Documents", file))
        return DefineWorkbook(file, study, datasets, _codelists(look, file), documents)
    finally:
        book.close()


def read_define_workbook(path) -> DefineWorkbook:
    """Parse a Pinnacle 21 define spec workbook; every mistake names the sheet, row, column and value."""
    path = Path(path).resolve()
    if not path.is_file():
        raise SpecError("define spec workbook not found", file=path)
    stat = path.stat()
    return _read_cached(path, stat.st_mtime_ns, stat.st_size)


def is_define_workbook(path) -> bool:
    """True for an .xlsx with the P21 Codelists sheet (used when the workbook is also a CT source)."""
    path = Path(path)
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return False
    import openpyxl
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return "Datasets" in book.sheetnames and "Variables" in book.sheetnames
    finally:
        book.close()


_FIELDS = ("label", "type", "core", "role", "codelist", "codelist_code", "format", "length", "origin",
           "origin_detail", "significant_digits", "method", "method_type", "crf_pages", "origin_source", "comment",
           "dictionary")


def override_variable(base: VariableMeta, stated: VariableMeta) -> VariableMeta:
    """The standard's variable with every attribute the workbook states (non-blank) replacing it."""
    blank = VariableMeta(name=stated.name, label="")
    changes = {f: getattr(stated, f) for f in _FIELDS if getattr(stated, f) != getattr(blank, f)}
    if {"codelist", "codelist_code", "dictionary"} & set(changes):      # a stated codelist replaces all three
        changes = {"codelist": None, "codelist_code": None, "dictionary": None, **changes}
    return replace(base, **changes)


def apply_workbook(meta: DatasetMeta, workbook: DefineWorkbook | None, *, spec_file=None) -> DatasetMeta:
    """Dataset metadata with the workbook's statements applied; order follows the workbook.

    A workbook variable the spec does not produce, or a produced variable the workbook leaves out,
    is an error naming both files: a define spec describes exactly the submitted variables.
    """
    if workbook is None or meta.name not in workbook.datasets:
        return meta
    stated = workbook.datasets[meta.name]
    have = {v.name: v for v in meta.variables}
    listed = [v.name for v in stated.variables]
    extra = [n for n in listed if n not in have]
    if extra:
        raise SpecError(f"the define spec lists {meta.name}.{extra[0]}, which {Path(spec_file).name if spec_file else 'no spec'} "
                        f"maps; map it in the spec or delete the Variables row", file=workbook.file,
                        column="Variables!Variable", value=extra[0])
    if listed:
        left_out = [n for n in have if n not in listed]
        if left_out:
            raise SpecError(f"{meta.name}.{left_out[0]} is mapped but not listed in the define spec's Variables sheet; "
                            f"add a row for it", file=workbook.file, column="Variables!Variable", value=left_out[0])
        variables = tuple(override_variable(have[v.name], v) for v in stated.variables)
    else:
        variables = meta.variables
    return replace(meta, label=stated.label or meta.label, cls=stated.cls or meta.cls,
                   structure=stated.structure or meta.structure, keys=stated.keys or meta.keys,
                   variables=variables, comment=stated.comment or meta.comment,
                   value_level=stated.value_level or meta.value_level)
