"""SDTMIG 3.4 and ADaMIG 1.3 metadata as the project's DatasetMeta / VariableMeta objects.

The facts live in ``specs/standards/*.csv`` (extracted from the CDISC Library exports by
``scripts/build_standards.py``). This module only reads them and answers two questions:
"what does the standard say dataset X looks like?" and "what is variable V of dataset X?".

Name resolution rules (a table each, see the constants below):

* SDTM: ``SUPPxx`` / ``SUPPQUAL`` / ``SUPP--`` all resolve to the generic SUPP-- structure
  (label "Supplemental Qualifiers for xx").
* ADaM: ADaMIG writes templated names in lower case: ``xx``/``zz`` = 01..99, ``y``/``w`` = 1..9,
  ``*`` = any prefix (user-defined timing suffixes such as ``*DT``). ``TRT01P`` resolves to the
  ``TRTxxP`` row and its label becomes "Planned Treatment for Period 01".
* ADaM dataset names pick the structure: ``ADSL`` -> ADSL; a name containing ``TTE`` -> BDS with
  the Time-to-Event variables; ``AD`` + an SDTM events/interventions domain in ``OCCDS_PARENTS``
  (ADAE, ADCM, ADMH ...) -> OCCDS; any other ``AD*`` name -> BDS. BDS and OCCDS datasets also
  resolve ADSL variables (copied from ADSL, e.g. TRT01A, SAFFL).
* OCCDS: the shared ADaMIG 1.3 export has no OCCDS table, so an OCCDS dataset resolves, in order,
  the SDTM parent domain's variables (AETERM, AEDECOD, AESEV ... with SDTMIG label/type/core), the
  BDS variables OCCDS shares (identifiers, timing, record-level treatment, flags), then ADSL.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from trialforge.errors import SpecError
from trialforge.specs.metadata import DatasetMeta, VariableMeta

STANDARDS_DIR = Path(__file__).resolve().parent / "standards"
SDTMIG_34 = "SDTMIG 3.4"
ADAMIG_13 = "ADaMIG 1.3"
_STANDARD_KEYS = {"sdtmig3.4": SDTMIG_34, "adamig1.3": ADAMIG_13}

SUPP_GENERIC = "SUPP--"
_SUPP_RE = re.compile(r"^SUPP([A-Z][A-Z0-9]{1,3})$")

# Placeholder in an ADaMIG variable name -> regex for the characters it stands for.
ADAM_PLACEHOLDERS = {
    "xx": r"0[1-9]|[1-9][0-9]",
    "zz": r"0[1-9]|[1-9][0-9]",
    "y": r"[1-9]",
    "w": r"[1-9]",
    "*": r"[A-Z][A-Z0-9]*",
}
_PLACEHOLDER_RE = re.compile(r"xx|zz|y|w|\*")
# SDTM parents whose ADaM copies follow OCCDS (events and interventions analysed as occurrences).
OCCDS_PARENTS = ("AE", "CE", "MH", "DV", "HO", "CM", "PR", "SU", "AG")
# BDS variable sets that do not belong to an OCCDS dataset.
NOT_IN_OCCDS = ("Analysis Parameter", "Analysis Parameter Criteria", "Analysis Descriptor",
                "Time-to-Event")
TTE_SET = "Time-to-Event"


def _read(name: str) -> list[dict[str, str]]:
    with (STANDARDS_DIR / name).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _opt(text: str) -> str | None:
    return text or None


def _define_class(sdtm_class: str) -> str:
    """SDTMIG class as Define-XML spells it: "Special-Purpose" -> "SPECIAL PURPOSE"."""
    return sdtm_class.upper().replace("-", " ")


@dataclass(frozen=True)
class _Template:
    """A templated ADaM variable row compiled to a regex over concrete names."""

    pattern: re.Pattern
    meta: VariableMeta

    def resolve(self, name: str) -> VariableMeta | None:
        match = self.pattern.fullmatch(name)
        if match is None:
            return None
        label = self.meta.label
        for group, value in match.groupdict().items():
            if group != "prefix":
                label = re.sub(rf"\b{group}\b", value, label)
        return replace(self.meta, name=name, label=label)


def _compile(name: str) -> re.Pattern:
    parts, pos = [], 0
    for m in _PLACEHOLDER_RE.finditer(name):
        parts.append(re.escape(name[pos:m.start()]))
        group = "prefix" if m.group() == "*" else m.group()
        parts.append(f"(?P<{group}>{ADAM_PLACEHOLDERS[m.group()]})")
        pos = m.end()
    parts.append(re.escape(name[pos:]))
    return re.compile("".join(parts))


class _Resolver:
    """Exact names first, then templates (user-defined ``*`` suffixes last)."""

    def __init__(self, variables: list[VariableMeta]):
        self.exact: dict[str, VariableMeta] = {}
        templates, suffixes = [], []
        for var in variables:
            if _PLACEHOLDER_RE.search(var.name):
                (suffixes if "*" in var.name else templates).append(_Template(_compile(var.name), var))
            else:
                self.exact.setdefault(var.name, var)
        self.templates = templates + suffixes

    def find_exact(self, name: str) -> VariableMeta | None:
        return self.exact.get(name)

    def find_template(self, name: str) -> VariableMeta | None:
        for template in self.templates:
            found = template.resolve(name)
            if found is not None:
                return found
        return None


def _resolve(resolvers: list[_Resolver], name: str) -> VariableMeta | None:
    for r in resolvers:
        if (found := r.find_exact(name)) is not None:
            return found
    for r in resolvers:
        if (found := r.find_template(name)) is not None:
            return found
    return None


class Standard:
    """One implementation guide's dataset and variable metadata."""

    name: str
    domains: tuple[str, ...]

    def dataset(self, name: str) -> DatasetMeta:
        raise NotImplementedError

    def variable(self, dataset: str, name: str) -> VariableMeta | None:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<Standard {self.name}: {len(self.domains)} datasets>"


class SdtmStandard(Standard):
    """SDTMIG: one DatasetMeta per domain; SUPPxx resolved to the generic SUPP-- structure."""

    def __init__(self, name: str, datasets_csv: str, variables_csv: str):
        self.name = name
        variables: dict[str, list[VariableMeta]] = {}
        self._value_domain: dict[tuple[str, str], str] = {}
        for row in _read(variables_csv):
            variables.setdefault(row["dataset"], []).append(VariableMeta(
                name=row["variable"], label=row["label"], type=row["type"], core=row["core"],
                role=_opt(row["role"]), codelist=_opt(row["codelist"]),
                codelist_code=_opt(row["codelist_code"])))
            if row["value_domain"]:
                self._value_domain[row["dataset"], row["variable"]] = row["value_domain"]
        self._datasets = {
            row["dataset"]: DatasetMeta(
                name=row["dataset"], label=row["label"], cls=_define_class(row["class"]),
                structure=row["structure"], variables=tuple(variables.get(row["dataset"], ())),
                standard=name)
            for row in _read(datasets_csv)}
        self.domains = tuple(self._datasets)

    def _generic_name(self, name: str) -> tuple[str, str | None]:
        """(key into the standard, parent domain for SUPP datasets)."""
        key = str(name).strip().upper()
        if key in self._datasets:
            return key, None
        if key == "SUPPQUAL":
            return SUPP_GENERIC, None
        match = _SUPP_RE.match(key)
        if match:
            return SUPP_GENERIC, match.group(1)
        raise SpecError(f"dataset is not defined in {self.name}", value=name)

    def dataset(self, name: str) -> DatasetMeta:
        key, parent = self._generic_name(name)
        meta = self._datasets[key]
        if parent is not None:
            meta = replace(meta, name=f"SUPP{parent}",
                           label=meta.label.replace("[domain name]", parent))
        return meta

    def variable(self, dataset: str, name: str) -> VariableMeta | None:
        return self.dataset(dataset).variable(str(name).strip().upper())

    def value_domain(self, dataset: str, name: str) -> str | None:
        """Described value domain, e.g. "ISO 8601 datetime or interval", "MedDRA"; None if none."""
        key, _ = self._generic_name(dataset)
        return self._value_domain.get((key, str(name).strip().upper()))


class AdamStandard(Standard):
    """ADaMIG: structures ADSL and BDS (+ TTE variables); templated names resolved."""

    def __init__(self, name: str, structures_csv: str, variables_csv: str, sdtm: SdtmStandard):
        self.name = name
        self._sdtm = sdtm
        self._structures = {row["structure"]: row for row in _read(structures_csv)}
        self._rows: dict[str, list[tuple[str, VariableMeta]]] = {}
        for row in _read(variables_csv):
            self._rows.setdefault(row["structure"], []).append((row["variable_set"], VariableMeta(
                name=row["variable"], label=row["label"], type=row["type"], core=row["core"],
                codelist=_opt(row["codelist"]), codelist_code=_opt(row["codelist_code"]))))
        adsl = [v for _, v in self._rows["ADSL"]]
        bds_all = [v for _, v in self._rows["BDS"]]
        bds = [v for s, v in self._rows["BDS"] if s != TTE_SET]
        occds_bds = [v for s, v in self._rows["BDS"] if s not in NOT_IN_OCCDS]
        self._variables = {"ADSL": adsl, "BDS": bds, "TTE": bds_all}
        self._resolvers = {"ADSL": [_Resolver(adsl)],
                           "BDS": [_Resolver(bds), _Resolver(adsl)],
                           "TTE": [_Resolver(bds_all), _Resolver(adsl)]}
        self._occds_bds = occds_bds
        self.domains = tuple(self._structures)

    def structure_of(self, dataset: str) -> tuple[str, str | None]:
        """(structure, SDTM parent for OCCDS) chosen from the dataset name."""
        key = str(dataset).strip().upper()
        if key in ("ADSL", "BDS", "TTE", "OCCDS"):
            return key, None
        if not key.startswith("AD") or len(key) < 3:
            raise SpecError(f"not an ADaM dataset name (ADaM names start with AD) in {self.name}",
                            value=dataset)
        if key == "ADTTE" or "TTE" in key[2:]:
            return "TTE", None
        if key[2:] in OCCDS_PARENTS:
            return "OCCDS", key[2:]
        return "BDS", None

    @lru_cache(maxsize=32)
    def _occds(self, parent: str) -> tuple[list[_Resolver], tuple[VariableMeta, ...]]:
        sdtm_vars = [v for v in self._sdtm.dataset(parent).variables if v.name != "DOMAIN"]
        resolvers = [_Resolver(sdtm_vars), _Resolver(self._occds_bds),
                     _Resolver(self._variables["ADSL"])]
        ordered: dict[str, VariableMeta] = {}
        ids = [v for s, v in self._rows["BDS"] if s == "Identifier"]
        for var in ids + sdtm_vars + self._occds_bds:
            ordered.setdefault(var.name, var)
        return resolvers, tuple(ordered.values())

    def dataset(self, name: str) -> DatasetMeta:
        structure, parent = self.structure_of(name)
        key = str(name).strip().upper()
        if structure == "OCCDS":
            parent = parent or "AE"
            variables = self._occds(parent)[1]
            return DatasetMeta(name=key, label="Occurrence Data Structure",
                               cls="OCCURRENCE DATA STRUCTURE", structure="OCCDS",
                               variables=variables, standard=self.name)
        info = self._structures[structure]
        return DatasetMeta(name=key, label=info["description"], cls=info["class"],
                           structure=structure, variables=tuple(self._variables[structure]),
                           standard=self.name)

    def variable(self, dataset: str, name: str) -> VariableMeta | None:
        structure, parent = self.structure_of(dataset)
        if structure == "OCCDS":
            resolvers = self._occds(parent or "AE")[0]
        else:
            resolvers = self._resolvers[structure]
        return _resolve(resolvers, str(name).strip().upper())


def standard_key(name: str) -> str:
    """Canonical standard name: "sdtmig-3.4", "SDTMIG v3.4" -> "SDTMIG 3.4"."""
    key = re.sub(r"[\s_\-]+|v(?=\d)", "", str(name).lower())
    if key not in _STANDARD_KEYS:
        raise SpecError(f"unknown standard (known: {', '.join(_STANDARD_KEYS.values())})", value=name)
    return _STANDARD_KEYS[key]


@lru_cache(maxsize=None)
def _load(canonical: str) -> Standard:
    if canonical == SDTMIG_34:
        return SdtmStandard(SDTMIG_34, "sdtmig-3.4-datasets.csv", "sdtmig-3.4-variables.csv")
    return AdamStandard(ADAMIG_13, "adamig-1.3-structures.csv", "adamig-1.3-variables.csv",
                        _load(SDTMIG_34))


def load_standard(name: str = SDTMIG_34) -> Standard:
    """The standard's metadata (cached): "SDTMIG 3.4" / "sdtmig-3.4" / "ADaMIG 1.3" / "adamig-1.3"."""
    return _load(standard_key(name))
