"""A dataset's columns factorised once for define.xml: per row an int32 code, per distinct value its facts.

Every data-derived fact of a define (DataType, Length, SignificantDigits, value-level slices, codelist
terms and decodes, slice labels) is a function of a *set* of values, and every per-value reading
(present text, number, code text) is element-wise. So each column is factorised once per define
(`pd.factorize`, Arrow dictionary encoding for text), each reading is taken once per distinct value
through the same pandas functions the Series path uses, and the questions per variable and per slice
become index look-ups over a few hundred distinct values instead of pandas calls per variable.
Profiles of the bundled study showed those calls, not the data, as the cost of the define.

Object columns are not de-duplicated (1 and 1.0 hash alike but read differently as text): each row is
its own value there, which is exact and only slower.
"""
from __future__ import annotations

from functools import cached_property

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from .arrow_text import arrow_strings, byte_lengths, known_text_codes, longest_utf8, table_codes, text_codes
from .define_attrs import present_text


class Distinct:
    """The readings of a set of distinct values of one column (positions `idx` of its uniques):
    present texts (None, NaN and "" are absent), numbers, the longest text in bytes; each taken
    when first asked."""

    def __init__(self, column: "Column", idx: np.ndarray):
        self._column, self._idx = column, idx

    @cached_property
    def _present(self) -> np.ndarray:
        return self._idx[self._column.present[self._idx]]

    @cached_property
    def texts(self) -> tuple[str, ...]:
        return tuple(self._column.text_array[self._present])

    @cached_property
    def numbers(self) -> np.ndarray:
        """Values that read as numbers (pd.to_numeric), as float, NaN dropped."""
        nums = self._column.numbers[self._idx]
        return nums[~np.isnan(nums)]

    @property
    def text_numeric(self) -> tuple[bool, ...]:
        """Per present text (order of `texts`): it reads as a number."""
        return tuple(self._column.text_numeric[self._present].tolist())

    @property
    def timed(self) -> bool:
        """No present text, or one with a time part ("T"): an ISO 8601 variable's DataType is datetime."""
        return not self.texts or any("T" in t for t in self.texts)

    @property
    def longest(self) -> int:
        """Bytes of the longest present text (UTF-8); 0 when there is none."""
        lengths = self._column.lengths[self._present]
        return int(lengths.max()) if len(lengths) else 0


class _WholeText:
    """Readings of a whole Arrow text column: the longest value from its shared codes' distinct values
    when the writers have them, else from one kernel over the rows; the rest from the factorised column
    (`whole`), built only when asked (ISO 8601 and numeric columns)."""

    def __init__(self, values: pd.Series, whole):
        self._values, self._whole = values, whole

    @cached_property
    def longest(self) -> int:
        return longest_utf8(self._values)          # "" is 0 bytes, nulls skipped

    @cached_property
    def timed(self) -> bool:
        """``Distinct.timed`` from the shared codes' distinct values when the writers have them, else from
        two kernels over the rows (no dictionary encoding: at two jobs the SDTM files' codes were made in
        the worker that wrote them)."""
        known = known_text_codes(self._values)
        arr = known.dictionary if known is not None else arrow_strings(self._values)
        present = pc.any(pc.not_equal(arr, "")).as_py()          # nulls skipped; "" is absent
        return not present or bool(pc.any(pc.match_substring(arr, "T")).as_py())

    def __getattr__(self, name):                 # texts, numbers, text_numeric
        return getattr(self._whole(), name)


class _WholeNumbers:
    """Readings of a whole numeric column (numpy float or integer) whose codes no other question needed: its
    numbers from the rows (distinct when not all whole: ``numeric_shape_of`` takes repeats), without the
    codes and per-value arrays of a factorised ``Column`` (~0.15 s over a 1,000-subject package); the rest
    from the factorised column (`whole`), built only when asked."""

    def __init__(self, values: pd.Series, whole):
        self._values, self._whole = values, whole

    @cached_property
    def numbers(self) -> np.ndarray:
        nums = self._values.to_numpy(dtype=np.float64)
        nums = nums[~np.isnan(nums)]
        return nums if bool((nums == np.round(nums)).all()) else pd.unique(nums)

    def __getattr__(self, name):                 # texts, longest, text_numeric
        return getattr(self._whole(), name)


class Column:
    """One column: `codes` (int32 per row, -1 missing) and readings per distinct value."""

    def __init__(self, values: pd.Series):
        self._dtype = values.dtype
        self._code_texts: dict[bool, list[str | None]] = {}
        found = text_codes(values)
        if found is not None:                    # Arrow text: one dictionary encoding, shared with the writers
            self.codes = found.codes.astype(np.int32)
            self.codes[self.codes == found.missing] = -1
            self._dictionary = found.dictionary
            present = byte_lengths(self._dictionary) > 0                  # "" is absent
            self._uniques = None
        else:
            self._dictionary = None
            if isinstance(self._dtype, np.dtype) and self._dtype.kind in "fiub":
                codes, uniques = pd.factorize(values.to_numpy(), use_na_sentinel=True)
                self.codes, self._uniques = codes.astype(np.int32), pd.Series(uniques, dtype=self._dtype)
            else:                                # object and others: every row its own value
                self.codes = np.arange(len(values), dtype=np.int32)
                self.codes[values.isna().to_numpy()] = -1
                self._uniques = values.reset_index(drop=True)
            present = np.zeros(len(self._uniques), dtype=bool)
            if self._dictionary is None and isinstance(self._dtype, np.dtype) and self._dtype.kind in "fiub":
                present[:] = True                # a non-missing number always reads as a text
            else:
                present[present_text(self._uniques).index.to_numpy()] = True
        self.present = np.append(np.asarray(present, dtype=bool), False)     # [-1]: a missing value

    @cached_property
    def uniques(self) -> pd.Series:
        """The distinct non-missing values, with the column's dtype."""
        if self._uniques is None:
            self._uniques = pd.Series(self._dictionary.to_pylist(), dtype=self._dtype)
        return self._uniques

    @cached_property
    def texts(self) -> list[str | None]:
        """Per distinct value: its present text (``present_text``), None when absent."""
        if self._dictionary is not None:
            return [t if t != "" else None for t in self._dictionary.to_pylist()]
        out: list[str | None] = [None] * len(self.uniques)
        text = present_text(self.uniques)
        for pos, value in zip(text.index.tolist(), text.astype(str).tolist()):
            out[pos] = value
        return out

    @cached_property
    def text_array(self) -> np.ndarray:
        """``texts`` as an object array (indexed by many positions at once)."""
        out = np.empty(len(self.texts), dtype=object)
        out[:] = self.texts
        return out

    @cached_property
    def numbers(self) -> np.ndarray:
        """Per distinct value: its number (pd.to_numeric, errors="coerce"), NaN when it is not one."""
        nums = pd.to_numeric(self.uniques, errors="coerce")
        return np.asarray(nums.to_numpy(dtype=float, na_value=np.nan), dtype=float)

    @cached_property
    def text_numeric(self) -> np.ndarray:
        """Per distinct value: its present text reads as a number (pd.to_numeric of the text)."""
        out = np.zeros(len(self.present) - 1, dtype=bool)
        texts = present_text(self.uniques).astype(str)
        if len(texts):
            out[texts.index.to_numpy()] = pd.to_numeric(texts, errors="coerce").notna().to_numpy()
        return out

    @cached_property
    def lengths(self) -> np.ndarray:
        """Per distinct value: bytes of its present text in UTF-8 (0 when absent)."""
        if self._dictionary is not None:
            return byte_lengths(self._dictionary)                # "" is 0 bytes: absent reads as 0
        return np.array([len(t.encode("utf-8")) if t is not None else 0 for t in self.texts], dtype=np.int64)

    @cached_property
    def str_forms(self) -> list[str]:
        """Per distinct value: ``astype(str)`` of it (the decode text of a paired variable)."""
        return [str(v) for v in self.uniques.astype(str).tolist()]

    def code_texts(self, numeric: bool) -> list[str | None]:
        """Per distinct value: the text define.xml writes for it as a code (numeric 1.0 -> '1')."""
        if not numeric:
            return self.texts
        if True not in self._code_texts:
            self._code_texts[True] = [None if np.isnan(v) else (str(int(v)) if v.is_integer() else repr(v))
                                      for v in self.numbers.tolist()]
        return self._code_texts[True]

    def distinct(self, positions) -> Distinct:
        """The readings of the distinct values at `positions` (codes; -1 ignored)."""
        positions = np.asarray(positions, dtype=np.int64)
        return Distinct(self, np.unique(positions[positions >= 0]))

    def whole(self) -> Distinct:
        return Distinct(self, np.arange(len(self.present) - 1, dtype=np.int64))


#: Keys spanning at most this many values (or four per row) are coded through a table of the span.
KEY_TABLE = 1 << 22


def _distinct_keys(key: np.ndarray, size: int) -> tuple[np.ndarray, int]:
    """(codes, count) of non-negative int64 keys below ``size``: a table of the span when it is small
    (``table_codes``), else ``pd.factorize``. The order of the codes differs between the two; every caller
    asks set questions of the combinations (their values, the first decode in sorted order)."""
    if size <= max(KEY_TABLE, 4 * len(key)):
        return table_codes(key, size)
    codes = pd.factorize(key)[0].astype(np.int64)
    return codes, int(codes.max()) + 1


class ColumnFacts:
    """The columns of one frame, each factorised on first use; combinations of columns by codes."""

    def __init__(self, frame: pd.DataFrame):
        self.frame = frame
        self._columns: dict[str, Column] = {}
        self._whole: dict[str, Distinct] = {}
        self._combinations: dict[tuple, np.ndarray] = {}
        self._series: dict[str, pd.Series] = {}

    def __contains__(self, name: str) -> bool:
        return name in self.frame.columns

    def series(self, name: str) -> pd.Series:
        """``frame[name]``, taken once (each access builds a new Series)."""
        if name not in self._series:
            self._series[name] = self.frame[name]
        return self._series[name]

    def column(self, name: str) -> Column:
        if name not in self._columns:
            self._columns[name] = Column(self.series(name))
        return self._columns[name]

    def whole(self, name: str) -> Distinct:
        """Readings of every distinct value of a column (none: the column is absent)."""
        if name not in self.frame.columns:
            return Column(pd.Series([], dtype=float)).whole()
        if name not in self._whole:
            values = self.series(name)
            factorised = lambda: self.column(name).whole()       # noqa: E731
            if name in self._columns:
                self._whole[name] = factorised()
            elif arrow_strings(values) is not None:
                self._whole[name] = _WholeText(values, factorised)
            elif isinstance(values.dtype, np.dtype) and values.dtype.kind in "fiu":
                self._whole[name] = _WholeNumbers(values, factorised)
            else:
                self._whole[name] = factorised()
        return self._whole[name]

    def combinations(self, names, present: str | None = None) -> np.ndarray:
        """The distinct code tuples (rows) of columns `names` over the rows where column `present`
        has a present text (None: every row); shape (k, len(names)), -1 for a missing value."""
        key = (tuple(names), present)
        if key not in self._combinations:
            self._combinations[key] = self._combine(list(names), present)
        return self._combinations[key]

    def _combine(self, names: list[str], present: str | None) -> np.ndarray:
        codes = [self.column(n).codes for n in names]
        if present is not None:
            col = self.column(present)
            keep = col.present[col.codes]
            codes = [c[keep] for c in codes]
        if not codes or len(codes[0]) == 0:
            return np.zeros((0, len(names)), dtype=np.int64)
        key = codes[0].astype(np.int64) + 1                     # missing (-1) -> 0
        size = int(key.max()) + 1
        for i, c in enumerate(codes[1:]):
            if i:                                                # keep it small for the next column
                key, size = _distinct_keys(key, size)
            c = c.astype(np.int64) + 1
            width = int(c.max()) + 1
            key, size = key * width + c, size * width            # < (rows + 1) ** 2: fits int64
        combo, count = _distinct_keys(key, size)
        row = np.empty(count, dtype=np.int64)
        row[combo] = np.arange(len(combo))       # any record of a combination: they hold the same codes
        return np.stack([c[row] for c in codes], axis=1).astype(np.int64)

    def groups(self, by: str, names) -> dict[str, np.ndarray]:
        """Present text of `by` -> the distinct code tuples of `names` among its records."""
        rows = self.combinations([by, *names], present=by)
        texts = self.column(by).texts
        order = np.argsort(rows[:, 0], kind="stable")
        rows = rows[order]
        codes, starts = np.unique(rows[:, 0], return_index=True)
        out: dict[str, np.ndarray] = {}
        for code, part in zip(codes.tolist(), np.split(rows[:, 1:], starts[1:])):
            text = texts[code]          # object columns: several codes may read as one text
            out[text] = np.concatenate([out[text], part]) if text in out else part
        return out
