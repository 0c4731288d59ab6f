"""Compact fingerprint of ADaM datasets: per dataset the row count, column list and a short hash of every
column's values (numbers to 10 significant digits), so a test can tell which values changed."""
from __future__ import annotations

import hashlib

import pandas as pd


def column_hash(values: pd.Series) -> str:
    def text(v):
        if isinstance(v, float):
            return "" if v != v else f"{v:.10g}"
        return "" if v is None else str(v)
    joined = "\x1f".join(text(v) for v in values.tolist())
    return hashlib.sha1(joined.encode("utf-8")).hexdigest()[:12]


def fingerprint(frames: dict[str, pd.DataFrame]) -> dict:
    return {name: {"rows": len(f), "columns": list(f.columns), "hash": {c: column_hash(f[c]) for c in f.columns}}
            for name, f in sorted(frames.items())}
