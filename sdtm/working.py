"""A domain's working set while it is mapped: column name -> Series on one shared index, not a DataFrame.

Profiles of the mapping showed the working DataFrame itself as a cost: every rule inserted a column
(a block-manager insert that grows with the frame), and every ``when`` branch copied the whole frame to
evaluate its rule on its rows. ``WorkingFrame`` keeps what the rules read and write in a dict: adding a
column is a dict entry, and a row subset (``frame[mask]``) takes a column only when a rule reads it.
It offers the part of the DataFrame interface the engine's algorithms use (``frame[name]``,
``frame[[names]]`` -> DataFrame, ``frame[mask]``, ``.columns``, ``.index``, ``.at``, ``.loc``, ``len``),
so every algorithm works on either; ``to_frame()`` gives the DataFrame (the domain is built into one
DataFrame once, when it is finished).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..objstrings import TEXT_DTYPE
from .uniques import object_identities, text_array


class WorkingFrame:
    """Columns of one domain (or of some of its rows) keyed by name, in insertion order."""

    __slots__ = ("_cols", "index", "_parent", "_positions", "_memo")

    def __init__(self, columns: dict, index: pd.Index, parent: WorkingFrame | None = None,
                 positions: np.ndarray | None = None):
        self._cols = columns              # name -> Series, or None: not yet taken from the parent's rows
        self.index = index
        self._parent = parent
        self._positions = positions
        self._memo = {}                   # key -> (the columns it was computed from, value): see remembered()

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> WorkingFrame:
        if not frame.columns.is_unique:
            raise ValueError("a working frame needs unique column names")
        return cls({name: frame[name] for name in frame.columns}, frame.index)

    @classmethod
    def union(cls, parts: list[WorkingFrame]) -> WorkingFrame:
        """The parts' rows one after another, as ``pd.concat([p.to_frame() ...], ignore_index=True,
        sort=False)`` unions them, without building either frame: ``to_frame`` stacked every column into
        2-D blocks and the concat copied them again (~1.5 s for LB's two sources at 10,000 subjects).
        Column by column with numpy where pandas' answer is plain: the column in every part with one numpy
        dtype (concatenated), or text (object) where present and missing elsewhere (NaN there). Anything
        else (an empty part, mixed dtypes, a missing non-text column) goes through pandas whole."""
        names = list(dict.fromkeys(name for part in parts for name in part.columns))
        if len(parts) < 2 or any(len(part) == 0 for part in parts):
            return cls._pandas_union(parts)
        total = sum(len(part) for part in parts)
        index = pd.RangeIndex(total)
        columns = {}
        for name in names:
            pieces = [part[name] if name in part else None for part in parts]
            dtypes = {piece.dtype for piece in pieces if piece is not None}
            dtype = dtypes.pop() if len(dtypes) == 1 else None
            if not isinstance(dtype, np.dtype) or dtype.kind not in "biufO" or \
                    (dtype != object and any(piece is None for piece in pieces)):
                return cls._pandas_union(parts)
            arrays = []
            for part, piece in zip(parts, pieces):
                if piece is None:
                    filler = np.empty(len(part), dtype=object)
                    filler.fill(np.nan)
                    arrays.append(filler)
                else:
                    arrays.append(piece.to_numpy())
            columns[name] = pd.Series(np.concatenate(arrays), index=index, name=name, dtype=dtype)
        return cls(columns, index)

    @classmethod
    def _pandas_union(cls, parts: list[WorkingFrame]) -> WorkingFrame:
        return cls.from_frame(pd.concat([p.to_frame() for p in parts], ignore_index=True, sort=False))

    def remembered(self, key, columns: tuple, compute):
        """``compute()`` once while ``columns`` are the same Series objects: a working column is never changed
        in place once assigned, only replaced (a new object), so a derivation of it (the distinct (subject,
        date) rows EPOCH and --DY both group by; a sort key's ranks, which --SEQ and the finished sort both
        need) can be reused for the life of this frame."""
        hit = self._memo.get(key)
        if hit is not None and len(hit[0]) == len(columns) and all(a is b for a, b in zip(hit[0], columns)):
            return hit[1]
        value = compute()
        self._memo[key] = (columns, value)
        return value

    # --- the DataFrame interface the algorithms use -------------------------------------------------
    @property
    def columns(self):
        return self._cols.keys()

    def __contains__(self, name) -> bool:
        return name in self._cols

    def __len__(self) -> int:
        return len(self.index)

    @property
    def empty(self) -> bool:
        return len(self.index) == 0 or not self._cols

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.index), len(self._cols)

    def __getitem__(self, key):
        if isinstance(key, str):
            return self._column(key)
        if isinstance(key, (list, pd.Index)):
            return pd.DataFrame({name: self._column(name) for name in key}, index=self.index)
        return self._rows(key)

    def __setitem__(self, name: str, value) -> None:
        if isinstance(value, pd.Series):
            if value.index is not self.index and not value.index.equals(self.index):
                value = value.reindex(self.index)
            if value.name is None:          # a rule's fresh result: named in place (a rename copies the Series)
                value.name = name
            elif value.name != name:
                value = value.rename(name)
        else:
            value = pd.Series(value, index=self.index, name=name)
        self._cols[name] = value

    @property
    def at(self):
        return _At(self)

    @property
    def loc(self):
        return _Loc(self)

    def to_frame(self) -> pd.DataFrame:
        """The working set as a DataFrame (columns in insertion order)."""
        return pd.DataFrame({name: self._column(name) for name in self._cols}, index=self.index)

    def groupby(self, *args, **kwargs):
        return self.to_frame().groupby(*args, **kwargs)

    # --- internals ----------------------------------------------------------------------------------
    def _column(self, name: str) -> pd.Series:
        value = self._cols[name]
        if value is None:                 # a column of the parent's rows, taken when first read
            value = self._parent._column(name).take(self._positions)
            self._cols[name] = value
        return value

    def _rows(self, mask) -> WorkingFrame:
        """The rows where ``mask`` (aligned to this frame) is true; columns are taken when read."""
        keep = np.asarray(mask, dtype=bool)
        if len(keep) != len(self.index):
            raise ValueError("a row mask must be as long as the working frame")
        positions = np.flatnonzero(keep)
        return WorkingFrame(dict.fromkeys(self._cols), self.index[positions], parent=self, positions=positions)


class _At:
    __slots__ = ("_frame",)

    def __init__(self, frame: WorkingFrame):
        self._frame = frame

    def __getitem__(self, key):
        label, name = key
        return self._frame[name].at[label]


class _Loc:
    __slots__ = ("_frame",)

    def __init__(self, frame: WorkingFrame):
        self._frame = frame

    def __getitem__(self, key):
        rows, names = key if isinstance(key, tuple) else (key, None)
        frame = self._frame
        if _is_mask(rows):
            part = frame._rows(rows)
            return part if names is None else part[names]
        if names is None:
            return frame.to_frame().loc[rows]
        if isinstance(names, str):
            return frame[names].loc[rows]
        return frame[list(names)].loc[rows]


def _is_mask(rows) -> bool:
    if isinstance(rows, (pd.Series, np.ndarray)):
        return rows.dtype == bool
    return False


def boundary_text(values: pd.Series) -> pd.Series:
    """A character column as ``values.where(values.notna(), "").astype(str)`` gives it at the public boundary.

    A column of Python str (missing values aside) goes to Arrow directly when the boundary dtype is pandas'
    Arrow-backed str: pandas' own path checks and copies every element first (``ensure_string_array``),
    an identity for str values, and that was half the cost of finishing a domain.
    """
    if values.dtype == object and isinstance(TEXT_DTYPE, pd.StringDtype) and TEXT_DTYPE.storage == "pyarrow":
        texts = values.to_numpy()
        if pd.api.types.infer_dtype(texts, skipna=True) in ("string", "empty"):
            import pyarrow as pa
            import pyarrow.compute as pc
            from pandas.arrays import ArrowStringArray
            try:
                array = pa.array(texts, type=pa.large_string(), from_pandas=True)
            except (pa.ArrowException, TypeError, ValueError):     # anything unusual: pandas' own path
                return values.where(values.notna(), "").astype(str)
            if array.null_count:
                array = pc.fill_null(array, "")
            return pd.Series(ArrowStringArray(array, dtype=TEXT_DTYPE), index=values.index)
    return values.where(values.notna(), "").astype(str)


def finished_text(values: pd.Series) -> np.ndarray | None:
    """A character column as an object array of Python str, missing values as '' (what ``boundary_text``
    holds, before it becomes the boundary dtype); None for a column holding anything but text."""
    return text_array(values)


def text_to_boundary(texts: np.ndarray):
    """An object array of Python str as the boundary's text array (Arrow-backed str on pandas 3)."""
    if isinstance(TEXT_DTYPE, pd.StringDtype) and TEXT_DTYPE.storage == "pyarrow":
        import pyarrow as pa
        from pandas.arrays import ArrowStringArray
        try:
            return ArrowStringArray(_arrow_text(texts), dtype=TEXT_DTYPE)
        except (pa.ArrowException, TypeError, ValueError):     # anything unusual: pandas' own path
            pass
    if TEXT_DTYPE == np.dtype(object):
        return texts
    return pd.Series(texts, dtype=object).astype(TEXT_DTYPE).array


def _arrow_text(texts: np.ndarray):
    """``pa.array(texts, type=pa.large_string(), from_pandas=True)``: each distinct str object is encoded once
    and the Arrow array taken from those (``object_identities``); a column of distinct objects directly."""
    import pyarrow as pa
    found = object_identities(texts)
    if found is None:
        return pa.array(texts, type=pa.large_string(), from_pandas=True)
    codes, objects = found
    return pa.array(objects, type=pa.large_string(), from_pandas=True).take(pa.array(codes))


def remembered_on(frame, key: str, names, compute):
    """``compute()``, remembered by a ``WorkingFrame`` while the named columns are unchanged
    (``WorkingFrame.remembered``); on any other frame computed each time."""
    if isinstance(frame, WorkingFrame):
        return frame.remembered((key, tuple(names)), tuple(frame[n] for n in names), compute)
    return compute()
