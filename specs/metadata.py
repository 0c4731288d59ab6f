"""The metadata model: a dataset travels as a frame plus the metadata that says what it is.

Everything downstream (validation schemas, XPT attributes, define.xml) reads these objects, so
they carry the union of what those consumers need and nothing that can be derived from the data.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Iterable

import pandas as pd

CHAR = "Char"
NUM = "Num"


@dataclass(frozen=True)
class VariableMeta:
    """One variable: SDTMIG/ADaMIG attributes plus study-level origin."""

    name: str
    label: str
    type: str = CHAR                 # "Char" or "Num" (SDTMIG wording)
    core: str = "Perm"               # Req / Exp / Perm (ADaM: Req / Cond / Perm)
    role: str | None = None          # Identifier, Topic, Timing, ... (SDTM)
    codelist: str | None = None      # CT codelist submission value, e.g. "NY", "AESEV"
    codelist_code: str | None = None # NCI C-code of the codelist, e.g. "C66742"
    format: str | None = None        # SAS display format, e.g. "DATE9." for numeric dates
    length: int | None = None        # fixed length; None = longest value in bytes
    origin: str | None = None        # Collected / Derived / Assigned / Protocol / Predecessor
    origin_detail: str | None = None # CRF page, predecessor variable, method text
    significant_digits: int | None = None
    method: str | None = None        # derivation text (define.xml MethodDef) for Derived variables
    method_type: str | None = None   # "Computation" or "Imputation"
    crf_pages: tuple = ()            # annotated CRF page numbers for Collected variables
    origin_source: str | None = None # Investigator / Subject / Vendor / Sponsor (define.xml 2.1 Origin Source)
    comment: str | None = None       # variable-level comment (define.xml CommentDef)
    dictionary: tuple | None = None  # external dictionary, e.g. ("MedDRA", "27.1")

    @property
    def is_numeric(self) -> bool:
        return self.type == NUM


@dataclass(frozen=True)
class ValueLevelMeta:
    """Value-level metadata of one slice of a variable (define.xml ValueListDef item), e.g. LBORRES
    where LBTESTCD EQ ALT. ``where`` is ((variable, comparator, (values...)), ...), all conditions ANDed."""

    variable: str
    where: tuple
    meta: VariableMeta               # attributes of the slice (name = the parent variable)
    where_id: str | None = None      # the workbook's WhereClauses ID, kept for round trips


@dataclass(frozen=True)
class DatasetMeta:
    """One dataset: name, label, class, keys and ordered variables."""

    name: str
    label: str
    cls: str | None = None                       # e.g. "EVENTS", "FINDINGS", "SUBJECT LEVEL ANALYSIS DATASET"
    structure: str | None = None
    keys: tuple[str, ...] = ()
    variables: tuple[VariableMeta, ...] = ()
    standard: str = "SDTMIG 3.4"
    comment: str | None = None
    value_level: tuple = ()                      # ValueLevelMeta rows from a define spec workbook

    def variable(self, name: str) -> VariableMeta | None:
        for var in self.variables:
            if var.name == name:
                return var
        return None

    @property
    def variable_names(self) -> list[str]:
        return [v.name for v in self.variables]

    @property
    def domain(self) -> str:
        return self.name

    def with_variables(self, variables: Iterable[VariableMeta]) -> "DatasetMeta":
        return replace(self, variables=tuple(variables))


@dataclass
class Dataset:
    """A frame together with its metadata; the unit every layer passes on."""

    meta: DatasetMeta
    frame: pd.DataFrame = field(repr=False)

    @property
    def name(self) -> str:
        return self.meta.name

    def __len__(self) -> int:
        return len(self.frame)


def replace_var_meta(var: VariableMeta, **changes) -> VariableMeta:
    """Copy of a VariableMeta with the non-None changes applied."""
    return replace(var, **{k: v for k, v in changes.items() if v is not None})
