"""Findings as columns: per field, its distinct values and one integer code per finding.

Why: a gate reports tens of thousands of findings (20,800 at 1,000 subjects, ~200,000 at 10,000) that
repeat a few dozen rules, messages and values and a thousand subjects. As Python objects they were sorted
by a key tuple per finding in the gate's worker, pickled there and rebuilt one object at a time in the main
process (0.2-0.25 s each at 1,000 subjects, 3 s at 10,000), and every report format walked them again.
As columns the report order is one ``np.lexsort`` over the ranks of the distinct keys, the pickle is a few
arrays and lists, and the report writers lay out their text per distinct value and column
(``report_formats``, ``report``). ``Finding`` objects are made only when someone asks for them.
"""
from __future__ import annotations

from operator import attrgetter

import numpy as np

from .findings import _RANK, FIELDS, Finding

_CODE = np.int32


class FindingTable:
    """Findings as columns (``FIELDS`` order): ``values[j]`` the distinct values of field j, ``codes[j]``
    the index into it of each finding. Immutable: every operation returns a new table."""

    __slots__ = ("values", "codes", "_held")

    def __init__(self, values: tuple, codes: tuple):
        self.values, self.codes = values, codes
        self._held: dict = {}

    @classmethod
    def of(cls, findings) -> "FindingTable":
        """The table of ``findings`` (any objects with the ``Finding`` fields), in their order."""
        findings = list(findings)
        values, codes = [], []
        for name in FIELDS:
            distinct, code = _factorize(list(map(attrgetter(name), findings)))
            values.append(distinct)
            codes.append(code)
        return cls(tuple(values), tuple(codes))

    @classmethod
    def of_rows(cls, rule_id: str, severity: str, dataset: str, message: str, variable, usubjids: list,
                seqs: list, rows: list, values: list) -> "FindingTable":
        """The table of one rule's findings on records of one dataset (``Rule.findings``' objects, in their
        order, without making them): the fields all of them share are one value each; ``rows`` must not be
        empty (a table's distinct values are those of its findings)."""
        n = len(rows)
        shared = [([v], np.zeros(n, dtype=_CODE)) for v in (rule_id, severity, dataset, message, variable)]
        columns = shared + [_factorize(list(col)) for col in (usubjids, seqs, rows, values)]
        return cls(tuple(v for v, _ in columns), tuple(c for _, c in columns))

    @classmethod
    def join(cls, parts) -> "FindingTable":
        """The findings of ``parts`` (lists of ``Finding`` objects or tables), in order, as one table: each run
        of lists is read once (``of``), and the tables' distinct values are merged once per field (the order
        of first appearance, as ``of`` of all the findings as objects gives it, and as pairwise ``concat``)."""
        tables, pending = [], []
        for part in parts:
            if isinstance(part, FindingTable):
                if pending:
                    tables.append(cls.of(pending))
                    pending = []
                tables.append(part)
            else:
                pending.extend(part)
        if pending:
            tables.append(cls.of(pending))
        tables = [t for t in tables if len(t)]
        if len(tables) <= 1:
            return tables[0] if tables else cls.empty()
        values, codes = [], []
        for j in range(len(FIELDS)):
            index: dict = {}
            merged: list = []
            out = []
            for table in tables:
                out.append(_add_values(index, merged, table.values[j])[table.codes[j]])
            values.append(merged)
            codes.append(np.concatenate(out).astype(_CODE, copy=False))
        return cls(tuple(values), tuple(codes))

    @classmethod
    def empty(cls) -> "FindingTable":
        return cls.of(())

    def __iter__(self):
        """The findings as ``Finding`` objects (a rule may return a table where a list was expected)."""
        return iter(self.findings())

    def __len__(self) -> int:
        return len(self.codes[0])

    def __getstate__(self):
        return self.values, tuple(c.tobytes() for c in self.codes)

    def __setstate__(self, state):
        self._held = {}
        self.values = state[0]
        self.codes = tuple(np.frombuffer(c, dtype=_CODE) for c in state[1])

    def column(self, j: int, rows=None) -> list:
        """Field j's value of every finding (or of those at ``rows``), in order."""
        held = self._held.get(j)
        if held is None:
            held = self._held[j] = object_array(self.values[j])
        return take(held, self.codes[j] if rows is None else self.codes[j][rows])

    def findings(self, rows=None) -> list:
        """``Finding`` objects of every row, or of those at ``rows`` (no ``__init__``: fields straight into
        the instance dict)."""
        new = object.__new__
        out = []
        append = out.append
        for row in zip(*(self.column(j, rows) for j in range(len(FIELDS)))):
            f = new(Finding)
            f.__dict__.update(zip(FIELDS, row))
            append(f)
        return out

    def take(self, rows: np.ndarray) -> "FindingTable":
        """The findings at ``rows`` (positions), in that order."""
        out = FindingTable(self.values, tuple(c[rows] for c in self.codes))
        out._held = self._held                 # the same distinct values
        return out

    def where(self, j: int, keep) -> "FindingTable":
        """The findings whose field j's value passes ``keep(value)``, in order."""
        passes = np.fromiter((bool(keep(v)) for v in self.values[j]), dtype=bool, count=len(self.values[j]))
        return self.take(np.flatnonzero(passes[self.codes[j]]))

    def concat(self, other: "FindingTable") -> "FindingTable":
        """This table's findings, then ``other``'s."""
        if not len(other):
            return self
        if not len(self):
            return other
        values, codes = [], []
        for mine, theirs, my_codes, their_codes in zip(self.values, other.values, self.codes, other.codes):
            merged, remap = _merge(mine, theirs)
            values.append(merged)
            codes.append(np.concatenate([my_codes, remap[their_codes]]).astype(_CODE, copy=False))
        return FindingTable(tuple(values), tuple(codes))

    def has(self, j: int, value) -> bool:
        """Whether some finding's field j equals ``value``."""
        hits = [k for k, v in enumerate(self.values[j]) if v == value]
        return bool(hits) and bool(np.isin(self.codes[j], hits).any())

    def counts(self, j: int) -> np.ndarray:
        """Findings per distinct value of field j."""
        return np.bincount(self.codes[j], minlength=len(self.values[j]))

    def group_ids(self, fields) -> tuple[np.ndarray, np.ndarray]:
        """(group number of each finding, first position of each group): groups are the distinct combinations
        of ``fields``' values, numbered in order of first appearance."""
        gid = np.zeros(len(self), dtype=np.int64)
        for j in fields:
            gid, first = _first_seen(gid * len(self.values[j]) + self.codes[j])
        if not fields:
            first = np.zeros(min(len(self), 1), dtype=np.int64)
        return gid, first

    def groups(self, fields) -> list:
        """(the values of ``fields``, positions of its findings in order) per group, in order of first
        appearance (``dict.setdefault`` grouping of the findings by those values)."""
        if not len(self):
            return []
        gid, first = self.group_ids(fields)
        order = np.argsort(gid, kind="stable")
        ends = np.cumsum(np.bincount(gid, minlength=len(first)))
        starts = ends - np.bincount(gid, minlength=len(first))
        return [(self.key(fields, p), order[a:b]) for p, a, b in zip(first.tolist(), starts.tolist(), ends.tolist())]

    def group_counts(self, fields) -> list:
        """(the values of ``fields``, number of findings) per group, in order of first appearance."""
        if not len(self):
            return []
        gid, first = self.group_ids(fields)
        return list(zip((self.key(fields, p) for p in first.tolist()), np.bincount(gid).tolist()))

    def key(self, fields, position: int) -> tuple:
        """The values of ``fields`` of the finding at ``position``."""
        return tuple(self.values[j][self.codes[j][position]] for j in fields)

    def report_order(self) -> np.ndarray | None:
        """Positions in report order (``findings._sort_key``: severity, dataset, rule, subject, --SEQ, row,
        variable; ties in table order), or None when a key cannot be ranked exactly that way (keys of types
        that do not compare, a --SEQ read as NaN): the caller sorts the objects then."""
        parts = [(SEVERITY, lambda v: _RANK.get(v, 9)), (DATASET, None), (RULE, None), (USUBJID, _or_text),
                 (SEQ, _seq_key), (ROW, _or_zero), (VARIABLE, _or_text)]
        ranks = []
        for j, key in parts:
            values = self.values[j]
            try:
                keys = values if key is None else list(map(key, values))
                if j == SEQ and any(k[1] != k[1] for k in keys):
                    return None                      # NaN: Python's sort of such keys is not a total order
                order = sorted(set(keys))
                if len(order) > 1 and any(not (a < b) for a, b in zip(order, order[1:])):
                    return None                      # not a strict total order (e.g. sets, mixed kinds)
            except TypeError:
                return None
            rank = {k: i for i, k in enumerate(order)}
            per_value = np.fromiter((rank[k] for k in keys), dtype=np.int64, count=len(keys))
            ranks.append(per_value[self.codes[j]] if len(values) else self.codes[j])
        return np.lexsort(ranks[::-1])


RULE, SEVERITY, DATASET, MESSAGE, VARIABLE, USUBJID, SEQ, ROW, VALUE = range(len(FIELDS))


def _or_text(value):
    return value or ""


def _or_zero(value):
    return value or 0


def _seq_key(value):
    from .findings import _num_or_text
    return _num_or_text(value)


def take(values, codes: np.ndarray) -> list:
    """``[values[c] for c in codes]``, through numpy's take on an object array (values kept as objects);
    ``values`` a list or an ``object_array``."""
    if len(values) == 1:
        return [values[0]] * len(codes)
    held = values if isinstance(values, np.ndarray) else object_array(values)
    return held.take(codes).tolist()


_SCALARS = {str, int, float, bool, type(None)}


def object_array(values: list) -> np.ndarray:
    """``values`` as a 1-D numpy object array, each value kept whole."""
    held = np.empty(len(values), dtype=object)
    if set(map(type, values)) <= _SCALARS:
        held[:] = values
    else:
        for k, v in enumerate(values):         # element by element: a value that is a sequence stays whole
            held[k] = v
    return held


def _first_seen(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(each key's number among the distinct keys in order of first appearance, first position of each)."""
    distinct, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    number = np.empty(len(distinct), dtype=np.int64)
    number[order] = np.arange(len(distinct))
    return number[inverse.reshape(-1)], first[order]


def _key(value):
    """A dict key that tells apart values Python calls equal across types (1, 1.0, True) and holds
    unhashable ones by identity."""
    try:
        hash(value)
    except TypeError:
        return ("id", id(value))
    return (type(value), value)



_STR_OR_NONE, _INT_OR_NONE = {str, type(None)}, {int, type(None)}


def _factorize(column: list) -> tuple[list, np.ndarray]:
    """(distinct values in order of first appearance, code per value)."""
    index: dict = {}
    kinds = set(map(type, column))
    if kinds <= _STR_OR_NONE or kinds <= _INT_OR_NONE:
        codes = [index.setdefault(v, len(index)) for v in column]    # one type (and None): no collisions
        distinct = list(index)
    else:
        keys = list(map(_key, column))
        codes = []
        distinct = []
        for k, v in zip(keys, column):
            code = index.get(k)
            if code is None:
                code = index[k] = len(distinct)
                distinct.append(v)
            codes.append(code)
        # NaN floats: (float, nan) keys of different NaN objects stay apart; each keeps its own object
    return distinct, np.array(codes, dtype=_CODE)


def _merge(mine: list, theirs: list) -> tuple[list, np.ndarray]:
    """(``mine`` then the values of ``theirs`` not in it, the code in the result of each of ``theirs``)."""
    index = {_key(v): k for k, v in enumerate(mine)}
    merged = list(mine)
    return merged, _add_values(index, merged, theirs)


def _add_values(index: dict, merged: list, theirs: list) -> np.ndarray:
    """Append to ``merged`` (keyed in ``index`` by ``_key``) the values of ``theirs`` it lacks; the code in
    ``merged`` of each of ``theirs``."""
    remap = np.empty(len(theirs), dtype=_CODE)
    for k, v in enumerate(theirs):
        key = _key(v)
        code = index.get(key)
        if code is None:
            code = index[key] = len(merged)
            merged.append(v)
        remap[k] = code
    return remap
