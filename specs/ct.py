"""CDISC controlled terminology read from NCI EVS text files (tab-separated, 7 columns).

The project ships the SDTM CT codelists its domains use (``specs/ct/sdtm-ct-2022-09-30-subset.tsv``,
whole codelists copied from the NCI EVS file) plus the ADaM CT. A study may point to a full NCI EVS
file instead. A codelist is addressed by its submission value ("NY", "AESEV") or C-code ("C66742").

Layout: a codelist row has an empty "Codelist Code"; its terms follow with "Codelist Code" set.
Some term C-codes (and some codelist names) are blank in the published file; they stay blank here.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
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
_STANDARD_CASE = {"sdtm": "SDTM", "adam": "ADaM", "send": "SEND", "define-xml": "Define-XML",
                  "protocol": "Protocol"}


@dataclass(frozen=True)
class Term:
    """One codelist term. ``code`` is "" where the CT file leaves the C-code blank."""

    code: str
    value: str
    synonyms: tuple[str, ...] = ()
    preferred_term: str = ""


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
        study = {}
        for raw, value in (synonyms or {}).items():
            if not self.extensible and value not in self.values:
                raise SpecError(f"synonym maps to a value that is not in non-extensible codelist "
                                f"{self.short_name or self.code}", column=str(raw), value=value)
            study[str(raw).strip().casefold()] = value
        text = series.astype("string").str.strip()
        folded = text.str.casefold()
        mapped = folded.map(study).astype("string")
        mapped = mapped.fillna(text.map(self._exact).astype("string"))
        mapped = mapped.fillna(folded.map(self._folded).astype("string"))
        blank = text.isna() | (text == "")
        unmapped = (mapped.isna() & ~blank).astype(bool)
        return mapped, pd.Series(unmapped.to_numpy(), index=series.index, name=series.name)

    def __len__(self) -> int:
        return len(self.terms)


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


def _version_of(path: Path) -> str:
    match = _VERSION_RE.search(path.name)
    if not match:
        return path.stem
    return f"{_STANDARD_CASE[match.group(1).lower()]} CT {match.group(2)}"


def read_ct_file(path: str | Path) -> list[Codelist]:
    """Parse one NCI EVS text file into codelists (order of the file)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise SpecError(f"cannot read controlled terminology file: {exc.strerror}", file=path)
    lines = text.splitlines()
    if not lines or tuple(lines[0].split("\t")) != HEADER:
        raise SpecError("not an NCI EVS CT text file (unexpected header)", file=path, row=1)
    heads: dict[str, list[str]] = {}
    terms: dict[str, list[Term]] = {}
    for lineno, line in enumerate(lines[1:], start=2):
        if not line:
            continue
        cols = line.split("\t")
        if len(cols) != 7:
            raise SpecError(f"expected 7 tab-separated columns, found {len(cols)}", file=path, row=lineno)
        code, parent, ext, name, value, syns, pref = cols
        if parent == "":
            heads[code] = cols
            terms.setdefault(code, [])
        else:
            synonyms = tuple(s.strip() for s in syns.split(";") if s.strip())
            terms.setdefault(parent, []).append(Term(code, value, synonyms, pref))
    orphans = sorted(set(terms) - set(heads))
    if orphans:
        raise SpecError("terms refer to a codelist without a codelist row", file=path, value=orphans[0])
    version = _version_of(path)
    match = _VERSION_RE.search(path.name)
    publishing_set = _STANDARD_CASE[match.group(1).lower()] if match else None
    return [Codelist(code=code, name=head[3], short_name=head[4], extensible=head[2] == "Yes",
                     terms=tuple(terms[code]), publishing_set=publishing_set,
                     ct_version=version if match else None) for code, head in heads.items()]


@lru_cache(maxsize=8)
def _load(paths: tuple[Path, ...]) -> ControlledTerminology:
    codelists: list[Codelist] = []
    for path in paths:
        codelists += read_ct_file(path)
    return ControlledTerminology(codelists, versions=[_version_of(p) for p in paths])


def load_ct(paths: list[str | Path] | None = None) -> ControlledTerminology:
    """Controlled terminology from NCI EVS files; None = the shipped SDTM subset + ADaM CT (cached).

    When files define the same codelist code, the later file wins.
    """
    files = DEFAULT_CT_FILES if paths is None else tuple(Path(p).resolve() for p in paths)
    if not files:
        raise SpecError("no controlled terminology file given")
    return _load(tuple(files))
