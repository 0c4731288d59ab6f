"""What validation rules see: the datasets, their standard, CT, and helpers to point at records."""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ..specs.metadata import Dataset
from .registry import ADAM, SDTM


@dataclass
class ValidationContext:
    datasets: dict[str, Dataset]
    ct: object
    standard: object                 # specs.standards.Standard for the package's IG
    scope: str = SDTM                # SDTM / ADaM
    define: object | None = None
    options: dict = field(default_factory=dict)

    def get(self, name: str) -> Dataset | None:
        return self.datasets.get(name.upper())


def detect_scope(names) -> str:
    """ADaM when every dataset is named AD*, SDTM otherwise."""
    names = [n.upper() for n in names]
    return ADAM if names and all(n.startswith("AD") for n in names) else SDTM


def seq_var(dataset: Dataset) -> str | None:
    name = dataset.name.upper()
    cand = f"{name[:2]}SEQ" if not name.startswith("SUPP") else None
    if cand and cand in dataset.frame.columns:
        return cand
    return "ASEQ" if "ASEQ" in dataset.frame.columns else None


def record_keys(dataset: Dataset, index) -> dict:
    """USUBJID, --SEQ and 1-based row of the records at ``index`` (for Findings)."""
    frame = dataset.frame
    sv = seq_var(dataset)
    rows = pd.Index(index)
    pos = frame.index.get_indexer(rows)
    out = {"row": [int(p) + 1 for p in pos]}
    out["usubjid"] = (frame["USUBJID"].iloc[pos].astype(str).tolist() if "USUBJID" in frame else [None] * len(pos))
    if sv:
        out["seq"] = [_seq_text(v) for v in frame[sv].iloc[pos].tolist()]
    else:
        out["seq"] = [None] * len(pos)
    return out


def _seq_text(value):
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def findings_at(rule, dataset: Dataset, mask_or_index, *, variable=None, values=None, message=None):
    """One Finding per flagged record, with its keys and offending value."""
    frame = dataset.frame
    if isinstance(mask_or_index, pd.Series) and mask_or_index.dtype == bool:
        index = frame.index[mask_or_index.reindex(frame.index, fill_value=False).to_numpy()]
    else:
        index = pd.Index(mask_or_index)
    if len(index) == 0:
        return []
    keys = record_keys(dataset, index)
    if values is None and variable is not None and variable in frame:
        values = frame.loc[index, variable]
    vals = [None] * len(index) if values is None else [_text(v) for v in pd.Series(values).reindex(index).tolist()] \
        if isinstance(values, pd.Series) else [_text(v) for v in values]
    return [rule.finding(dataset.name, variable=variable, usubjid=u, seq=s, row=r, value=v, message=message)
            for u, s, r, v in zip(keys["usubjid"], keys["seq"], keys["row"], vals)]


def _text(v):
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)
