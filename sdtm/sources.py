"""Reading raw CRF exports and shaping them (filter, joins, findings transposition) per the spec.

Raw values are kept as text exactly as the EDC wrote them; every row carries ``_FILE`` and
``_ROW`` (the line number in the file, header = line 1) so any later error can point at it.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import RawDataError, SpecError
from ..specs.spec import JoinSpec, MeltSpec, SourceSpec
from . import expressions
from .uniques import distinct_rows, factorize, on_uniques

FILE_COL = "_FILE"
ROW_COL = "_ROW"
SOURCE_COL = "_SOURCE"
INTERNAL = (FILE_COL, ROW_COL, SOURCE_COL)


def read_raw(path: Path, *, sheet=None, encoding=None) -> pd.DataFrame:
    """Read one raw export (CSV, XLSX, SAS7BDAT) as text; a missing or empty file is a RawDataError."""
    path = Path(path).resolve()
    if not path.is_file():
        raise RawDataError("raw file not found", file=path)
    stat = path.stat()
    return _read_raw_cached(path, stat.st_mtime_ns, stat.st_size, sheet, encoding).copy(deep=not _COPY_ON_WRITE)


# pandas 3 copies a column when a frame sharing it writes to it, so the cached frame needs no deep copy per read
_COPY_ON_WRITE = int(pd.__version__.split(".")[0]) >= 3


@lru_cache(maxsize=64)
def _read_raw_cached(path: Path, mtime_ns: int, size: int, sheet, encoding) -> pd.DataFrame:
    """Each raw file is parsed once per run even when several specs join it (keyed by its stat)."""
    suffix = path.suffix.lower()
    try:
        blanks = True                       # whether a value may need stripping
        if suffix in (".csv", ".txt"):
            frame, blanks = _read_csv(path, encoding)
            first_data_line = 2
        elif suffix in (".xlsx", ".xlsm", ".xls"):
            frame = pd.read_excel(path, sheet_name=sheet or 0, dtype=str, keep_default_na=False)
            first_data_line = 2
        elif suffix == ".sas7bdat":
            import pyreadstat
            frame, _ = pyreadstat.read_sas7bdat(str(path), encoding=encoding)
            frame = frame.astype(object).where(frame.notna(), "").astype(str)
            first_data_line = 1
        else:
            raise RawDataError("unsupported raw file type (use .csv, .xlsx or .sas7bdat)", file=path)
    except RawDataError:
        raise
    except pd.errors.EmptyDataError:
        raise RawDataError("raw file is empty (no header row)", file=path) from None
    except Exception as exc:  # parser errors from pandas/openpyxl/pyreadstat
        raise RawDataError(f"cannot read raw file: {str(exc).splitlines()[0]}", file=path) from None
    if frame.shape[1] == 0:
        raise RawDataError("raw file is empty (no header row)", file=path)
    frame.columns = [str(c).strip() for c in frame.columns]
    if not all(_all_text(frame[col]) for col in frame.columns):     # else filling and str() change nothing
        frame = frame.fillna("").astype(str)
    for col in frame.columns if blanks else ():
        column = frame[col]
        stripped = _stripped(column)
        if stripped is not column:          # a column without outer blanks stays (no block insert per column)
            frame[col] = stripped
    frame[FILE_COL] = path.name
    frame[ROW_COL] = range(first_data_line, first_data_line + len(frame))
    return frame


def _all_text(column) -> bool:
    """An object column holding only Python str (nothing missing)."""
    return isinstance(column, pd.Series) and column.dtype == object and \
        pd.api.types.infer_dtype(column.to_numpy(), skipna=False) == "string"


def _stripped(column: pd.Series) -> pd.Series:
    """A raw text column without outer blanks (Python's str.strip, as pandas' .str.strip on object text)."""
    values = column.to_numpy()
    if values.dtype == object and pd.api.types.infer_dtype(values, skipna=False) == "string":
        codes, uniques = factorize(values)             # strip each distinct text once (C hashing per row)
        distinct = uniques.tolist()
        stripped = [u.strip() for u in distinct]
        if stripped == distinct:                         # nothing to strip (the usual export): the column as is
            return column
        stripped = np.array(stripped + [""], dtype=object)[codes]
        return pd.Series(stripped, index=column.index, dtype=object).astype(str)
    return on_uniques(column, lambda u: u.str.strip()).astype(str)


def _read_csv(path: Path, encoding):
    """(frame, whether a value may need stripping). Encoding, delimiter, header and quoting are checked in
    raw_csv; each problem is named there."""
    from .raw_csv import read_csv_fields
    return read_csv_fields(path, encoding)


def require_columns(frame: pd.DataFrame, columns, *, file, context: str = "") -> None:
    """A column the spec names but the raw file lacks is named, with the file."""
    for col in columns:
        if col not in frame.columns:
            raise RawDataError(f"column {col!r} named by the spec{context} is not in the raw file",
                               file=file, column=col)


def table_source(study, name: str) -> pd.DataFrame:
    """Rows authored in study.yaml (``trial_design: {ts: [...], ta: [...]}``) as a raw-like frame."""
    tables = (study.raw.get("trial_design") or {}) if study is not None else {}
    rows = tables.get(name)
    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
        raise SpecError(f"study.yaml has no trial_design.{name} list of records", file=study.config_file,
                        column=f"trial_design.{name}")
    columns = list(dict.fromkeys(k for r in rows for k in r))
    frame = pd.DataFrame([{c: ("" if r.get(c) is None else str(r.get(c))) for c in columns} for r in rows],
                         columns=columns)
    frame[FILE_COL] = study.config_file.name
    frame[ROW_COL] = range(1, len(frame) + 1)
    return frame


def load_source(source: SourceSpec, raw_dir: Path, study=None) -> pd.DataFrame:
    """One spec source: read, join, filter and transpose; the result is the working frame."""
    if source.table:
        frame = table_source(study, source.table)
        path = study.config_file
    else:
        path = raw_dir / source.file
        frame = read_raw(path, sheet=source.sheet, encoding=source.encoding)
    if frame.empty and len(frame.columns) <= len(INTERNAL):
        raise RawDataError("raw file has no columns", file=path)
    for join in source.joins:
        frame = apply_join(frame, join, raw_dir, left_file=path)
    if source.filter:
        _require_expr_columns(source.filter, frame, path, "filter")
        frame = frame[expressions.evaluate_mask(source.filter, frame)]
    if source.melt is not None:
        frame = melt_findings(frame, source.melt, file=path)
    frame[SOURCE_COL] = source.name
    return frame.reset_index(drop=True)


def _require_expr_columns(expr, frame, file, what):
    for name in sorted(expressions.names(expr)):
        if name not in frame.columns:
            raise RawDataError(f"column {name!r} used in the {what} {expr!r} is not in the raw file",
                               file=file, column=name)


def apply_join(frame: pd.DataFrame, join: JoinSpec, raw_dir: Path, *, left_file) -> pd.DataFrame:
    """Bring columns from another raw form, many-to-one; a duplicated right key is an error."""
    right_path = raw_dir / join.file
    right = read_raw(right_path, sheet=join.sheet)
    require_columns(frame, join.on.keys(), file=left_file, context=" (join key)")
    require_columns(right, list(join.on.values()) + list(join.columns), file=right_path, context=" (join)")
    if join.filter:
        _require_expr_columns(join.filter, right, right_path, "join filter")
        right = right[expressions.evaluate_mask(join.filter, right)]
    right_keys = list(join.on.values())
    columns = list(join.columns) or [c for c in right.columns if c not in right_keys and c not in INTERNAL]
    right = right[right_keys + columns + [ROW_COL]]
    dup = right.duplicated(right_keys, keep="first")
    if dup.any():
        first = right[dup].iloc[0]
        raise RawDataError("join key is not unique in the joined file", file=right_path,
                           column=",".join(right_keys), row=int(first[ROW_COL]),
                           value="/".join(str(first[k]) for k in right_keys))
    rename = {c: join.prefix + c for c in columns}
    right = right.drop(columns=[ROW_COL]).rename(columns=rename)
    clash = [c for c in rename.values() if c in frame.columns and c not in join.on]
    if clash:
        raise SpecError(f"join brings column {clash[0]!r} which the source already has; set a prefix",
                        file=left_file, column=clash[0])
    right = right.rename(columns={r: l for l, r in join.on.items()})
    fast = _join_by_position(frame, right, list(join.on.keys()), list(rename.values()), join.how)
    if fast is not None:
        return fast
    merged = frame.merge(right, how=join.how, on=list(join.on.keys()), sort=False)
    return merged.fillna({c: "" for c in rename.values()})


def _join_by_position(frame: pd.DataFrame, right: pd.DataFrame, keys: list, added: list, how: str):
    """``frame.merge(right, how=how, on=keys, sort=False)`` with the ``added`` columns' unmatched rows as '', for
    text keys and text columns (a raw export's): the rows of both sides are coded together by their keys, each
    left row finds its right row by position (right keys are unique) and every column is taken once; pandas'
    merge costs a few milliseconds a call whatever the size. None (pandas merges) for anything else: other
    dtypes, a left or inner join aside, column names that clash."""
    if how not in ("left", "inner") or not keys or set(added) & set(frame.columns) or \
            len(set(frame.columns) | set(added)) != len(frame.columns) + len(added) or \
            not frame.columns.is_unique or list(right.columns) != keys + added or \
            frame.columns.dtype != right.columns.dtype:
        return None
    texts = [frame[k] for k in keys] + [right[k] for k in keys] + [right[c] for c in added]
    if any(t.dtype != object or pd.api.types.infer_dtype(t.to_numpy(), skipna=False) != "string" for t in texts):
        return None
    n = len(frame)
    codes, _ = distinct_rows(*(np.concatenate([frame[k].to_numpy(), right[k].to_numpy()]) for k in keys))
    left_codes, right_codes = codes[:n], codes[n:]
    position = np.full(int(codes.max()) + 1 if len(codes) else 0, -1, dtype=np.int64)
    position[right_codes] = np.arange(len(right_codes))
    found = position[left_codes]
    rows = np.flatnonzero(found >= 0) if how == "inner" else None
    if rows is not None:
        found = found[rows]
    data = {}
    for name in frame.columns:
        values = frame[name].to_numpy()
        data[name] = values if rows is None else values[rows]
    missing = found < 0
    for name in added:
        values = right[name].to_numpy().take(np.maximum(found, 0))
        if missing.any():
            values[missing] = ""
        data[name] = values
    out = pd.DataFrame(data, index=pd.RangeIndex(len(found)))
    out.columns = frame.columns.append(right.columns[len(keys):])
    if any(out[c].dtype != (frame[c].dtype if c in frame.columns else object) for c in out.columns):
        return None
    return out


MELT_VALUE = "_VALUE"
MELT_UNIT = "_UNIT"


def melt_findings(frame: pd.DataFrame, melt: MeltSpec, *, file) -> pd.DataFrame:
    """One raw row with many results → one row per test (SDTM findings shape).

    Each test names its result column, optionally a unit column, and the constants it sets (e.g.
    TESTCD, TEST, CAT). The result lands in ``_VALUE`` (and ``_UNIT``) unless ``columns`` renames them.
    Records come in raw row order, then test order.

    Built from numpy arrays (each test's row positions, each output column once) rather than a frame
    copy, column inserts and a filter per test, a concat and a sort: the result is the frame those give.
    """
    value_col = melt.columns.get("value", MELT_VALUE)
    unit_col = melt.columns.get("unit", MELT_UNIT)
    names = list(frame.columns)
    source = {c: frame[c].to_numpy() for c in names}
    n = len(frame)
    blank_cache: dict[str, np.ndarray] = {}
    parts = []                                  # (row positions, {column: values or scalar})
    for test in melt.tests:
        require_columns(frame, [test["value"]], file=file, context=" (melt value)")
        rows = np.arange(n)
        if test.get("when"):
            _require_expr_columns(test["when"], frame, file, "melt when")
            rows = np.flatnonzero(expressions.evaluate_mask(test["when"], frame).to_numpy(dtype=bool))
        if not melt.keep_blank:
            blank = blank_cache.get(test["value"])
            if blank is None:
                blank = blank_cache[test["value"]] = _blank_texts(source[test["value"]])
            rows = rows[~blank[rows]]
        columns: dict = {value_col: source[test["value"]]}
        unit = test.get("unit")
        if unit is not None:
            columns[unit_col] = source[unit] if unit in frame.columns else str(unit)
        elif unit_col not in frame.columns:
            columns[unit_col] = ""
        for col, val in (test.get("set") or {}).items():
            columns[col] = "" if val is None else str(val)
        parts.append((rows, columns))
    if not parts:                               # a spec always names tests; nothing to transpose
        return frame.iloc[0:0].copy()
    order_names = list(names)                   # the frame's columns, then new ones as the tests add them
    for _, columns in parts:
        for col in columns:
            if col not in order_names:
                order_names.append(col)
    set_cols = sorted({c for t in melt.tests for c in (t.get("set") or {})})
    fill = set(set_cols) | {unit_col}
    row_ids = np.concatenate([rows for rows, _ in parts])
    test_ids = np.concatenate([np.full(len(rows), i) for i, (rows, _) in enumerate(parts)])
    order = np.lexsort((test_ids, source[ROW_COL][row_ids]))       # stable: raw row, then test order
    data = {}
    for col in order_names:
        pieces = []
        for rows, columns in parts:
            value = columns.get(col, source.get(col))
            if value is None:                   # a column another test sets: blank (missing if not filled)
                piece = np.full(len(rows), "" if col in fill else np.nan, dtype=object)
            elif isinstance(value, np.ndarray):
                piece = value[rows]
            else:
                piece = np.full(len(rows), value, dtype=object)
            pieces.append(piece)
        data[col] = _concat(pieces)[order]
    return pd.DataFrame(data, index=pd.Index(order, dtype=np.int64), columns=order_names)


def _blank_texts(values: np.ndarray) -> np.ndarray:
    """Values whose text (``astype(str)``) is blank after stripping, decided once per distinct value."""
    codes, uniques = factorize(values, use_na_sentinel=False)
    blank = np.array([str(u).strip() == "" if isinstance(u, str) else False for u in uniques.tolist()] + [False],
                     dtype=bool)
    return blank[codes]


def _concat(pieces: list) -> np.ndarray:
    """Pieces of one column joined as ``pd.concat`` joins them: one dtype, else objects."""
    dtypes = {p.dtype for p in pieces}
    if len(dtypes) == 1:
        return np.concatenate(pieces)
    return np.concatenate([p.astype(object) for p in pieces])
