"""CDISC controlled terminology read from NCI EVS text files (tab-separated, 7 columns).

The project ships the SDTM CT codelists its domains use (``specs/ct/sdtm-ct-2022-09-30-subset.tsv``,
whole codelists copied from the NCI EVS file) plus the ADaM CT. A study may point to a full NCI EVS
file instead. A codelist is addressed by its submission value ("NY", "AESEV") or C-code ("C66742").

Layout: a codelist row has an empty "Codelist Code"; its terms follow with "Codelist Code" set.
Some term C-codes are blank in the published file; they stay blank here. A blank codelist name is
filled from the codelist's NCI preferred term, else from the SDTMIG variable label using it.
A study pins any NCI EVS release (text, with or without the CDISC Definition column, or Excel) and
may combine several files, including sponsor lists, in study.yaml ``ct_files`` (see CTSource).
"""
from __future__ import annotations

import contextlib
import gc
import re
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Iterable, Mapping

import pandas as pd

from trialforge.errors import SpecError

CT_DIR = Path(__file__).resolve().parent / "ct"
DEFAULT_CT_FILES = (CT_DIR / "sdtm-ct-2022-09-30-subset.tsv", CT_DIR / "adam-ct-2026-03-27.tsv")
HEADER = ("Code", "Codelist Code", "Codelist Extensible (Yes/No)", "Codelist Name",
          "CDISC Submission Value", "CDISC Synonym(s)", "NCI Preferred Term")
_VERSION_RE = re.compile(r"(sdtm|adam|send|define-xml|protocol)[-_ ]ct[-_ ](\d{4}-\d{2}-\d{2})", re.I)
_NCI_NAME_RE = re.compile(r"(sdtm|adam|send|define-xml|protocol)[-_ ]terminology[-_ ]?(\d{4}-\d{2}-\d{2})", re.I)
_STANDARD_CASE = {"sdtm": "SDTM", "adam": "ADaM", "send": "SEND", "define-xml": "Define-XML",
                  "protocol": "Protocol"}


@dataclass(frozen=True)
class Term:
    """One codelist term. ``code`` is "" where the CT file leaves the C-code blank."""

    code: str
    value: str
    synonyms: tuple[str, ...] = ()
    preferred_term: str = ""
    extended: bool = False              # a sponsor term added to an extensible NCI codelist


@dataclass(frozen=True)
class Codelist:
    """A codelist: submission values plus what raw text may be recognised as each of them."""

    code: str
    name: str
    short_name: str
    extensible: bool
    terms: tuple[Term, ...]
    publishing_set: str | None = None   # "SDTM", "ADaM" ... from the file name; None when unknown
    ct_version: str | None = None       # "SDTM CT 2022-09-30": the CT release the codelist came from
    release: str | None = None          # for reports: the file's release, "+ Sponsor CT 1.0" when extended

    @cached_property
    def values(self) -> frozenset[str]:
        return frozenset(t.value for t in self.terms)

    @cached_property
    def _exact(self) -> dict[str, str]:
        return {t.value: t.value for t in self.terms}

    @cached_property
    def _folded(self) -> dict[str, str]:
        """Case-folded text -> submission value; values win over synonyms, synonyms over NCI terms."""
        index: dict[str, str] = {}
        for t in self.terms:
            index.setdefault(t.value.casefold(), t.value)
        for t in self.terms:
            for syn in t.synonyms:
                index.setdefault(syn.casefold(), t.value)
        for t in self.terms:
            if t.preferred_term:
                index.setdefault(t.preferred_term.casefold(), t.value)
        return index

    def lookup(self, raw: str) -> str | None:
        """Submission value for ``raw``: exact value, else case-insensitive value/synonym/NCI term."""
        if raw is None or (not isinstance(raw, str) and pd.isna(raw)):
            return None
        text = str(raw).strip()
        return self._exact.get(text) or self._folded.get(text.casefold())

    def code_of(self, value: str) -> str | None:
        """C-code of a submission value; "" if the CT file leaves it blank, None if not a term."""
        for t in self.terms:
            if t.value == value:
                return t.code
        return None

    def decode(self, series: pd.Series, synonyms: Mapping[str, str] | None = None
               ) -> tuple[pd.Series, pd.Series]:
        """Map raw text to submission values, vectorised.

        Study ``synonyms`` (raw text -> submission value, case-insensitive, trimmed) are tried
        first, then :meth:`lookup`'s rules. Returns ``(mapped, unmapped)``: ``mapped`` is a
        "string" series with <NA> for blank or unmapped input; ``unmapped`` flags non-blank raw
        values that found no term, so the caller can name them in a TerminologyError.
        A synonym pointing outside a non-extensible codelist is a spec error.
        """
        study = self._study_synonyms(synonyms)
        if len(series) <= _SMALL and all(isinstance(v, str) and v.isascii() for v in series.tolist()):
            return self._decode_ascii(series, study)
        text = series.astype("string").str.strip()
        folded = text.str.casefold()
        mapped = folded.map(study).astype("string")
        mapped = mapped.fillna(text.map(self._exact).astype("string"))
        mapped = mapped.fillna(folded.map(self._folded).astype("string"))
        blank = text.isna() | (text == "")
        unmapped = (mapped.isna() & ~blank).astype(bool)
        return mapped, pd.Series(unmapped.to_numpy(), index=series.index, name=series.name)

    def _study_synonyms(self, synonyms: Mapping[str, str] | None) -> dict[str, str]:
        """Study synonyms keyed by trimmed, case-folded raw text; one pointing outside a non-extensible
        codelist is a spec error."""
        study = {}
        for raw, value in (synonyms or {}).items():
            if not self.extensible and value not in self.values:
                raise SpecError(f"synonym maps to a value that is not in non-extensible codelist "
                                f"{self.short_name or self.code}", column=str(raw), value=value)
            study[str(raw).strip().casefold()] = value
        return study

    def decode_texts(self, texts: list, synonyms: Mapping[str, str] | None = None
                     ) -> tuple[list, list[bool]] | None:
        """``decode`` of a list of distinct texts as lists (submission value or None, unmapped flag), for the
        engine's per-distinct-value path; None (use ``decode``) unless a few ASCII texts."""
        study = self._study_synonyms(synonyms)
        if len(texts) > _SMALL or not all(isinstance(v, str) and v.isascii() for v in texts):
            return None
        return self._decode_ascii_list(texts, study)

    def _decode_ascii(self, series: pd.Series, study: dict) -> tuple[pd.Series, pd.Series]:
        """``decode`` for a few ASCII texts (the distinct values of a column), in plain Python: the same rules
        without a dozen pandas string operations per call. ASCII keeps strip and casefold identical to the
        Arrow kernels (Python would also strip \\x1c-\\x1f)."""
        mapped, unmapped = self._decode_ascii_list(series.tolist(), study)
        return (pd.Series(mapped, index=series.index, name=series.name, dtype="string"),
                pd.Series(unmapped, index=series.index, name=series.name, dtype=bool))

    def _decode_ascii_list(self, texts: list, study: dict) -> tuple[list, list[bool]]:
        mapped, unmapped = [], []
        for raw in texts:
            text = raw.strip(_ASCII_BLANKS)
            folded = text.lower()
            value = study.get(folded)
            if value is None:
                value = self._exact.get(text)
            if value is None:
                value = self._folded.get(folded)
            mapped.append(None if value is None else str(value))
            unmapped.append(value is None and text != "")
        return mapped, unmapped

    def __len__(self) -> int:
        return len(self.terms)


_SMALL = 10_000                                 # above this many values the vectorised path is cheaper
_ASCII_BLANKS = " \t\n\r\x0b\x0c"                # what the Arrow whitespace trim removes in ASCII


def merge_codelists(codelists: Iterable[Codelist]) -> Codelist:
    """One codelist holding the union of several (SDTMIG lists e.g. DSDECOD under three)."""
    lists = list(codelists)
    sets = {c.publishing_set for c in lists}
    versions = {c.ct_version for c in lists}
    return Codelist(code="; ".join(c.code for c in lists),
                    name=" / ".join(c.name or c.code for c in lists),
                    short_name="; ".join(c.short_name for c in lists if c.short_name),
                    extensible=any(c.extensible for c in lists),
                    terms=tuple(t for c in lists for t in c.terms),
                    publishing_set=sets.pop() if len(sets) == 1 else None,
                    ct_version=versions.pop() if len(versions) == 1 else None)


class ControlledTerminology:
    """Codelists from one or more NCI EVS files, addressable by C-code or submission value."""

    def __init__(self, codelists: Iterable[Codelist], versions: Iterable[str] = ()):
        self._by_code: dict[str, Codelist] = {}
        self._by_name: dict[str, Codelist] = {}
        for cl in codelists:
            self._by_code[cl.code] = cl
            if cl.short_name:
                self._by_name[cl.short_name] = cl
        self.versions: tuple[str, ...] = tuple(versions)

    @property
    def version(self) -> str:
        """E.g. "SDTM CT 2022-09-30; ADaM CT 2026-03-27"."""
        return "; ".join(self.versions)

    @property
    def codelists(self) -> tuple[Codelist, ...]:
        return tuple(self._by_code.values())

    def __contains__(self, ref: str) -> bool:
        return ref in self._by_code or ref in self._by_name

    def codelist(self, ref: str) -> Codelist:
        """Codelist by submission value or C-code; "A; B" (as variables list them) gives the union."""
        parts = [p.strip() for p in str(ref).split(";") if p.strip()]
        if len(parts) > 1:
            return merge_codelists(self.codelist(p) for p in parts)
        key = parts[0] if parts else ""
        found = self._by_code.get(key) or self._by_name.get(key)
        if found is None:
            raise SpecError(f"unknown controlled terminology codelist (loaded: {self.version})",
                            value=ref)
        return found


@dataclass(frozen=True)
class CTSource:
    """One CT file a study pins: an NCI EVS release (text or Excel) or a sponsor list.

    ``release`` names it in reports ("SDTM CT 2024-03-29"; default from the file name or sheet);
    ``extends: true`` adds its terms to codelists already loaded (a sponsor extension of an
    extensible NCI codelist) instead of replacing them; new codelists are added either way.
    """

    path: Path
    release: str | None = None
    extends: bool = False


def _version_of(path: Path, sheet: str | None = None) -> str:
    for text in (path.name, sheet or ""):
        match = _VERSION_RE.search(text) or _NCI_NAME_RE.search(text)
        if match:
            return f"{_STANDARD_CASE[match.group(1).lower()]} CT {match.group(2)}"
    return path.stem


def _publishing_set(path: Path, sheet: str | None = None) -> str | None:
    for text in (path.name, sheet or ""):
        match = _VERSION_RE.search(text) or _NCI_NAME_RE.search(text)
        if match:
            return _STANDARD_CASE[match.group(1).lower()]
    return None


def _rows_from_text(path: Path) -> tuple[list[list[str]], None]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        text = path.read_text(encoding="cp1252")
    except OSError as exc:
        raise SpecError(f"cannot read controlled terminology file: {exc.strerror}", file=path)
    return [line.split("\t") for line in text.splitlines()], None


def _rows_from_excel(path: Path) -> tuple[list[list[str]], str | None]:
    """NCI's Excel form: the first sheet whose first row is the CT header (the sheet name carries the date)."""
    import openpyxl
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise SpecError(f"cannot read controlled terminology workbook: {str(exc).splitlines()[0]}", file=path)
    try:
        for sheet in book.worksheets:
            rows = [["" if c is None else str(c) for c in row] for row in sheet.iter_rows(values_only=True)]
            if rows and "Codelist Code" in [c.strip() for c in rows[0]]:
                return rows, sheet.title
    finally:
        book.close()
    raise SpecError("no sheet with the NCI EVS CT header (Code, Codelist Code, ...)", file=path)


def _columns(header: list[str], path: Path) -> dict[str, int]:
    names = [h.strip() for h in header]
    missing = [h for h in HEADER if h not in names]
    if missing:
        raise SpecError(f"not an NCI EVS CT file (header lacks {missing[0]!r}; expected the columns "
                        f"{', '.join(HEADER)}, CDISC Definition optional)", file=path, row=1)
    return {h: names.index(h) for h in HEADER}


def read_ct_file(path: str | Path, release: str | None = None) -> list[Codelist]:
    """Parse one NCI EVS file (text, tab-separated, with or without CDISC Definition; or Excel) into codelists.

    A codelist row whose name is blank takes its name from its NCI preferred term (without the
    "CDISC SDTM ... Terminology" wrapping), so define.xml never shows a bare C-code.
    """
    path = Path(path)
    if not path.is_file():
        raise SpecError("cannot read controlled terminology file: file not found", file=path)
    excel = path.suffix.lower() in (".xlsx", ".xlsm", ".xls")
    from .define_workbook import is_define_workbook, read_define_workbook
    if excel and is_define_workbook(path):          # a define spec's Codelists sheet (sponsor codelists)
        return list(read_define_workbook(path).codelists)
    rows, sheet = _rows_from_excel(path) if excel else _rows_from_text(path)
    if not rows:
        raise SpecError("not an NCI EVS CT file (empty)", file=path, row=1)
    col = _columns(rows[0], path)
    width = len(rows[0])
    heads: dict[str, list[str]] = {}
    terms: dict[str, list[Term]] = {}
    i_code, i_parent, i_value, i_synonyms, i_preferred = (
        col[h] for h in ("Code", "Codelist Code", "CDISC Submission Value", "CDISC Synonym(s)", "NCI Preferred Term"))
    need = max(col.values()) + 1
    # one pass of plain string operations per row (~14,000 terms in the shipped files): no per-row dict or generator
    for lineno, cols in enumerate(rows[1:], start=2):
        if not "".join(cols).strip():
            continue
        if len(cols) != width and not excel:
            raise SpecError(f"expected {width} tab-separated columns, found {len(cols)}", file=path, row=lineno)
        if len(cols) < need:                    # a short Excel row: the missing cells are blank
            cols = cols + [""] * (need - len(cols))
        code, parent = cols[i_code].strip(), cols[i_parent].strip()
        if parent == "":
            heads[code] = {h: cols[i].strip() for h, i in col.items()}
            terms.setdefault(code, [])
        else:
            synonyms = cols[i_synonyms].strip()
            synonyms = tuple(s.strip() for s in synonyms.split(";") if s.strip()) if ";" in synonyms else \
                ((synonyms,) if synonyms else ())
            terms.setdefault(parent, []).append(Term(code, cols[i_value].strip(), synonyms, cols[i_preferred].strip()))
    orphans = sorted(set(terms) - set(heads))
    if orphans:
        raise SpecError("terms refer to a codelist without a codelist row", file=path, value=orphans[0])
    version = release or _version_of(path, sheet)
    publishing_set = _publishing_set(path, sheet)
    known = release is not None or publishing_set is not None
    return [Codelist(code=code, name=head["Codelist Name"] or _name_from_preferred(head["NCI Preferred Term"]),
                     short_name=head["CDISC Submission Value"], extensible=head["Codelist Extensible (Yes/No)"] == "Yes",
                     terms=tuple(terms[code]), publishing_set=publishing_set,
                     ct_version=version if known else None, release=version) for code, head in heads.items()]


_WRAPPING = re.compile(r"^CDISC (?:SDTM|ADaM|SEND|CDASH|Protocol|Define-XML|Glossary) |\s+Terminology$", re.I)


def _name_from_preferred(term: str) -> str:
    """'CDISC SDTM Action Taken with Study Treatment Terminology' -> 'Action Taken with Study Treatment'."""
    return _WRAPPING.sub("", _WRAPPING.sub("", term.strip())).strip()


def _as_source(item) -> CTSource:
    return item if isinstance(item, CTSource) else CTSource(Path(item).resolve())


def _extend(base: Codelist, extra: Codelist, source: CTSource) -> Codelist:
    """A sponsor extension: the NCI codelist plus the sponsor's new terms (extensible codelists only)."""
    new = tuple(replace(t, extended=True) for t in extra.terms if t.value not in base.values)
    if new and not base.extensible:
        raise SpecError(f"codelist {base.short_name or base.code} is not extensible; a sponsor file cannot add terms "
                        f"to it (give the sponsor list its own codelist code)", file=source.path,
                        value=f"{base.code} {new[0].value}")
    if not new:
        return base
    return replace(base, terms=base.terms + new, release=f"{base.release or base.ct_version} + {extra.release}")


@contextlib.contextmanager
def _collector_paused():
    """No cyclic garbage collection while the ~14,000 terms are built: they hold no cycles, and the
    collections their allocations trigger would scan the whole heap (pandas' objects too) several times."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@lru_cache(maxsize=8)
def _load(sources: tuple) -> ControlledTerminology:
    with _collector_paused():
        return _load_sources(sources)


def _load_sources(sources: tuple) -> ControlledTerminology:
    by_code: dict[str, Codelist] = {}
    for source in sources:
        for cl in read_ct_file(source.path, source.release):
            if source.extends and cl.code in by_code:
                by_code[cl.code] = _extend(by_code[cl.code], cl, source)
                continue
            if source.extends:                      # a sponsor's own codelist: no CDISC release to cite
                cl = replace(cl, ct_version=None, publishing_set=None)
            by_code.pop(cl.code, None)              # the later file wins (and keeps its place last)
            by_code[cl.code] = cl
    codelists = [_fill_name(cl) for cl in by_code.values()]
    # the CDISC releases (sponsor extensions and define spec codelists are reported per codelist only)
    versions = [s.release or _version_of(s.path, _sheet_name(s.path)) for s in sources if not s.extends]
    return ControlledTerminology(codelists, versions=versions)


def _sheet_name(path: Path) -> str | None:
    from .define_workbook import is_define_workbook
    if path.suffix.lower() not in (".xlsx", ".xlsm", ".xls") or is_define_workbook(path):
        return None
    return _rows_from_excel(path)[1]


@lru_cache(maxsize=1)
def _standard_labels() -> dict[str, str]:
    """C-code -> label of the first SDTMIG variable that uses the codelist (a last-resort codelist name)."""
    import csv
    out: dict[str, str] = {}
    path = Path(__file__).resolve().parent / "standards" / "sdtmig-3.4-variables.csv"
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            for code in (c.strip() for c in row["codelist_code"].split(";")):
                if code:
                    out.setdefault(code, row["label"])
    return out


def _fill_name(cl: Codelist) -> Codelist:
    """A codelist whose CT file gives neither name nor preferred term is named after the SDTMIG variable using it."""
    if cl.name:
        return cl
    return replace(cl, name=_standard_labels().get(cl.code, cl.short_name or cl.code))


def load_ct(paths: list | None = None) -> ControlledTerminology:
    """Controlled terminology from NCI EVS files; None = the shipped SDTM subset + ADaM CT (cached).

    Items are paths or CTSource entries. When files define the same codelist code, the later file
    wins, unless it is marked ``extends`` (then its new terms are added).
    """
    items = DEFAULT_CT_FILES if paths is None else tuple(paths)
    if not items:
        raise SpecError("no controlled terminology file given")
    return _load(tuple(_as_source(p) for p in items))


def codelist_releases(ct: ControlledTerminology, datasets) -> list[tuple[str, str, str, str]]:
    """(dataset.variable, codelist C-code, codelist name, release) for every variable bound to a codelist.

    The release is the file's (``SDTM CT 2022-09-30``, ``Sponsor CT 1.0``, ``Define spec x.xlsx``);
    an NCI codelist a sponsor file extended names both. Unknown codelists say so.
    """
    rows = []
    for ds in datasets:
        for var in ds.meta.variables:
            ref = var.codelist_code or var.codelist
            if not ref or var.dictionary:
                continue
            try:
                cl = ct.codelist(var.codelist or ref) if var.codelist else ct.codelist(ref)
            except SpecError:
                rows.append((f"{ds.name}.{var.name}", ref, "", "not in the loaded CT"))
                continue
            rows.append((f"{ds.name}.{var.name}", cl.code, cl.name, cl.release or cl.ct_version or "unknown release"))
    return rows


def write_codelist_releases(path, ct: ControlledTerminology, datasets) -> Path:
    """The run's CT report: which release each codelist in use came from (CSV, stable order)."""
    import csv
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(["variable", "codelist", "name", "release"])
        out.writerows(sorted(codelist_releases(ct, datasets)))
    return path
