"""The ADaM of one tables build, prepared once and shared by every output.

Why: each output used to re-filter the same datasets with the same `where` (pandas `query` builds a
Series for every column of the frame per call), re-select its population and re-map subjects to
columns; with pyarrow-backed strings every row selection is one pyarrow `take` per string column and
every `isin` converts its values to pyarrow scalars one by one. Here each dataset's strings become
plain object columns once (one consolidated block: a row selection is one numpy take), each distinct
`where` is evaluated once per dataset (on the original frame, so filter semantics are unchanged) and
kept as a boolean mask, and each record's subject is located once as a row position of the population
dataset. Callers see pandas frames as before.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..submission.arrow_text import forget_text_codes, text_codes

IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
KEY = "USUBJID"


def frame_of(obj) -> pd.DataFrame:
    """Accept a Dataset (frame + meta) or a bare frame."""
    return getattr(obj, "frame", obj)


def referenced_columns(frame: pd.DataFrame, where: str) -> list | None:
    """The frame's columns a filter can read (every identifier that names one); None when the text uses
    quoting or local references that a word scan cannot resolve (the whole frame is used then)."""
    if "`" in where or "@" in where:
        return None
    names = set(IDENT.findall(where))
    return [c for c in frame.columns if isinstance(c, str) and c in names]


def as_object_strings(frame: pd.DataFrame, share_codes: bool = False) -> pd.DataFrame:
    """String columns (pandas `str`, NaN for missing) as object columns holding the same Python str / NaN.

    Each distinct string becomes one Python object (from the column's dictionary codes: a lab dataset has
    few distinct texts in many rows), and the frame is built in one go so its object columns form one
    block. `share_codes`: leave the frame's text codes for the package writers (`string_objects`), else
    they are dropped when done."""
    conv = [c for c, t in frame.dtypes.items() if isinstance(t, pd.StringDtype) and t.na_value is np.nan]
    if not conv or not frame.columns.is_unique:
        return frame
    try:
        return _object_strings(frame, conv)
    finally:
        if not share_codes:
            forget_text_codes([frame])


def _object_strings(frame: pd.DataFrame, conv: list) -> pd.DataFrame:
    got = _object_strings_in_blocks(frame, conv)
    if got is not None:
        return got
    cols = {}
    for c in frame.columns:
        s = frame[c]
        if c in conv:
            s = pd.Series(string_objects(s), index=frame.index, dtype=object, name=c)
        cols[c] = s
    out = pd.DataFrame(cols, index=frame.index)
    out.columns = pd.Index(list(frame.columns), dtype=object)   # a str Index costs a pyarrow call per lookup
    out.attrs = dict(frame.attrs)
    return out


def _object_strings_in_blocks(frame: pd.DataFrame, conv: list) -> pd.DataFrame | None:
    """`as_object_strings` built as blocks: the strings' objects written straight into one 2-D object block
    and the other columns stacked by dtype (copies, as the frame constructor's consolidation made), then
    one `create_dataframe_from_blocks`: the Series per column and the consolidation pass cost as much as
    the factorising. None when a column is of a kind this does not place (the constructor is used)."""
    try:
        from pandas.api.internals import create_dataframe_from_blocks
    except ImportError:                                  # pandas before 3.0
        return None
    dtypes = frame.dtypes
    others: dict = {}
    for i, (c, t) in enumerate(dtypes.items()):
        if c in conv:
            continue
        if not (isinstance(t, np.dtype) and t.kind in "fiub"):
            return None
        others.setdefault(t, []).append(i)
    n = len(frame)
    place = {c: i for i, c in enumerate(frame.columns)}
    strings = np.empty((len(conv), n), dtype=object)
    for k, c in enumerate(conv):
        string_objects(frame[c], out=strings[k])
    blocks = [(strings, np.array([place[c] for c in conv], dtype=np.intp))]
    for t, where in others.items():
        values = np.empty((len(where), n), dtype=t)
        for k, i in enumerate(where):
            values[k] = frame.iloc[:, i].to_numpy()
        blocks.append((values, np.array(where, dtype=np.intp)))
    out = create_dataframe_from_blocks(blocks, index=frame.index, columns=pd.Index(list(frame.columns), dtype=object))
    out.attrs = dict(frame.attrs)
    return out


def string_objects(values: pd.Series, out: np.ndarray | None = None) -> np.ndarray:
    """A string column's values as an object array of Python str (NaN for a missing value), each distinct
    value made once.

    Arrow text is read through its dictionary codes (`submission.arrow_text.text_codes`): with several jobs
    the ADaM package writers (XPT, Dataset-JSON, define.xml) encode the same columns of the same frames
    after the tables are prepared, and take these codes instead of encoding again; other string columns
    are factorised here."""
    found = text_codes(values)
    if found is None:
        codes, uniques = pd.factorize(values)
        table = np.append(np.asarray(uniques, dtype=object), np.nan)            # code -1 -> NaN
    else:
        codes = found.codes                                                    # missing: len(dictionary)
        table = np.append(found.dictionary.to_numpy(zero_copy_only=False).astype(object, copy=False), np.nan)
    return np.take(table, codes, out=out)


def restore_strings(frame: pd.DataFrame) -> pd.DataFrame:
    """Object columns that hold only strings (and missing values) back to pandas `str`, so a filter
    evaluated on a prepared frame behaves as on the frame the ADaM build produced (e.g. `.str`
    methods give False, not NaN, for missing values)."""
    conv = {}
    for c, t in frame.dtypes.items():
        if t == object:
            values = frame[c].to_numpy()
            if len(values) and pd.api.types.infer_dtype(values, skipna=True) == "string":
                conv[c] = "str"
    return frame.astype(conv) if conv else frame


class TableData:
    """Datasets by upper-case name, with cached filter masks and subject positions.

    `prepare=False` keeps the frames as given (figures read them directly; their outputs depend on
    the frames' own dtypes). `shared`: another TableData of the same datasets whose filter masks and
    subject positions this one uses and adds to (both are computed on the source frames, so the figures'
    and the tables' data of a build find each once)."""

    def __init__(self, adam: dict, prepare: bool = True, shared: "TableData | None" = None):
        self.source = {k.upper(): frame_of(v) for k, v in adam.items()}
        self.prepare = prepare
        self._frames: dict[str, pd.DataFrame] = {}
        self._masks: dict[tuple, np.ndarray] = {}
        self._positions: dict[tuple, np.ndarray | None] = {}
        if shared is not None and shared.source.keys() == self.source.keys() \
                and all(shared.source[k] is f for k, f in self.source.items()):
            self._masks, self._positions = shared._masks, shared._positions
        self.contexts: dict[tuple, object] = {}      # (population, columns) -> prepared subjects/columns
        self.memo: dict[tuple, object] = {}          # what outputs of one layout share (e.g. shift tables' records)

    def __contains__(self, name: str) -> bool:
        return name.upper() in self.source

    def frame(self, name: str, share_codes: bool = False) -> pd.DataFrame:
        """The dataset as the tables compute on it (KeyError when not supplied); `share_codes`: see
        `as_object_strings` (on the first call)."""
        name = name.upper()
        got = self._frames.get(name)
        if got is None:
            src = self.source[name]
            got = as_object_strings(src, share_codes) if self.prepare else src
            self._frames[name] = got
        return got

    def mask(self, name: str, where: str | None, evaluate) -> np.ndarray:
        """Rows of the dataset meeting `where` (boolean array); `evaluate(frame, where)` applies the
        filter to the original frame and raises the caller's error for a bad filter (not cached)."""
        name = name.upper()
        key = (name, where or "")
        got = self._masks.get(key)
        if got is None:
            src = self.source[name]
            got = np.ones(len(src), dtype=bool) if not where else evaluate(src, where)
            got.flags.writeable = False
            self._masks[key] = got
        return got

    def positions(self, name: str, base: str) -> np.ndarray | None:
        """Per record of `name`, the row position of its subject in dataset `base` (-1: none); None
        when `base` holds a subject more than once (callers then match by value)."""
        key = (name.upper(), base.upper())
        if key not in self._positions:
            keys = pd.Index(self.source[key[1]][KEY].to_numpy(dtype=object))
            if not keys.is_unique:
                self._positions[key] = None
            else:
                pos = subject_positions(keys, self.source[key[0]][KEY])
                pos.flags.writeable = False
                self._positions[key] = pos
        return self._positions[key]


def subject_positions(keys: pd.Index, subjects: pd.Series) -> np.ndarray:
    """`keys.get_indexer(subjects.to_numpy(dtype=object))`, looked up once per distinct subject: a record
    dataset repeats each subject in many rows, and its Arrow strings need not become Python objects (the
    factorising is done in Arrow's C++). With a missing subject the plain look-up is used (pandas matches a
    missing value by what the whole array holds)."""
    codes, uniques = pd.factorize(subjects)
    if len(codes) and codes.min() < 0:
        return keys.get_indexer(subjects.to_numpy(dtype=object))
    at = keys.get_indexer(np.asarray(uniques, dtype=object))
    return np.take(at, codes) if len(at) else np.full(len(codes), -1, dtype=at.dtype)
