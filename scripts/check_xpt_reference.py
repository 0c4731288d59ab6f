"""Compare trialforge's XPT reader with pyreadstat on every *.xpt file of a folder.

Usage: python scripts/check_xpt_reference.py FOLDER [FOLDER ...]

For each file: dataset name and label, variable names/order, labels, types, lengths, formats and
every value (character exact; numeric exact, missing == missing). Prints one line per file and
each difference; exits 1 if any file differs, 0 if all agree. Real SAS-written files (the CDISC
pilot) are the independent reference for the reader.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

from trialforge.errors import TrialforgeError
from trialforge.submission.xpt import read_xpt

MAX_SHOWN = 5


def read_reference(path: Path):
    """pyreadstat's view of the file; Windows-1252 when UTF-8 fails (as our reader does)."""
    try:
        return pyreadstat.read_xport(str(path), disable_datetime_conversion=True)
    except UnicodeDecodeError:
        return pyreadstat.read_xport(str(path), disable_datetime_conversion=True, encoding="cp1252")


def _format(text) -> str:
    """pyreadstat reports 'DATE9' for DATE9. and None for no format: compare without the dot."""
    return "" if not text else str(text).rstrip(".")


def compare(path: Path) -> list[str]:
    ours = read_xpt(path)
    frame, meta = read_reference(path)
    problems: list[str] = []
    if ours.meta.name != (meta.table_name or ""):
        problems.append(f"dataset name {ours.meta.name!r} != {meta.table_name!r}")
    if ours.meta.label != (meta.file_label or ""):
        problems.append(f"dataset label {ours.meta.label!r} != {meta.file_label!r}")
    if list(ours.frame.columns) != list(frame.columns):
        problems.append(f"columns {list(ours.frame.columns)} != {list(frame.columns)}")
        return problems
    if len(ours.frame) != len(frame):
        problems.append(f"rows {len(ours.frame)} != {len(frame)}")
        return problems
    for var in ours.meta.variables:
        name = var.name
        theirs_label = meta.column_names_to_labels.get(name) or ""
        if var.label != theirs_label:
            problems.append(f"{name}: label {var.label!r} != {theirs_label!r}")
        if var.length != meta.variable_storage_width.get(name):
            problems.append(f"{name}: length {var.length} != {meta.variable_storage_width.get(name)}")
        if _format(var.format) != _format(meta.original_variable_types.get(name)):
            problems.append(f"{name}: format {var.format!r} != {meta.original_variable_types.get(name)!r}")
        theirs_type = "Num" if meta.readstat_variable_types.get(name) == "double" else "Char"
        if var.type != theirs_type:
            problems.append(f"{name}: type {var.type} != {theirs_type}")
        problems += _compare_values(name, var.type, ours.frame[name], frame[name])
    return problems


def _compare_values(name: str, vtype: str, ours: pd.Series, theirs: pd.Series) -> list[str]:
    if vtype == "Num":
        a = ours.to_numpy(dtype=np.float64)
        b = pd.to_numeric(theirs).to_numpy(dtype=np.float64)
        differ = ~((a == b) | (np.isnan(a) & np.isnan(b)))
    else:
        a = ours.to_numpy(dtype=object)
        b = theirs.fillna("").to_numpy(dtype=object)
        differ = a != b
    rows = np.flatnonzero(differ)
    return [f"{name} row {i + 1}: ours {a[i]!r} != pyreadstat {b[i]!r}" for i in rows[:MAX_SHOWN]] + (
        [f"{name}: ... {len(rows) - MAX_SHOWN} more differing rows"] if len(rows) > MAX_SHOWN else [])


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    failed = 0
    for folder in map(Path, argv):
        files = sorted(folder.glob("*.xpt"))
        if not files:
            print(f"{folder}: no *.xpt files")
            failed += 1
        for path in files:
            try:
                problems = compare(path)
            except TrialforgeError as exc:
                problems = [f"our reader failed: {exc}"]
            status = "OK  " if not problems else "DIFF"
            print(f"{status} {path}")
            for problem in problems:
                print(f"     {problem}")
            failed += bool(problems)
    print(f"{failed} file(s) with differences" if failed else "all files agree")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
