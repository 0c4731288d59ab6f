"""Shared machinery: analysis population, column assignment, and the row blocks of `ByColumns`.

Every frame an output reads is restricted to the population's subjects and carries the subject's
column key (`_COL`) taken from ADSL, so counts and denominators always agree.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import SpecError
from . import fmt, labels
from .km import kaplan_meier, quantile, survival_at
from .rank_tests import wilcoxon_rank_sum_p
from .result import Row, TableResult
from .spec import (AEHierarchy, Association, Binomial, ByColumns, Categorical, Columns, Continuous, Header,
                   Population, Split, SubjectsWith, TimeToEvent)
from .stats import clopper_pearson, describe
from ..simple_filter import simple_mask
from .tabledata import TableData, referenced_columns, restore_strings

COL = "_COL"
KEY = "USUBJID"


@dataclass
class Col:
    key: object          # value of the column variable; None for Total
    label: str
    n: int
    ids: pd.Index        # USUBJIDs in the column
    span: str = ""       # spanning header text over adjacent columns ("" = none)
    legend: str = ""
    rows: np.ndarray | None = field(default=None, repr=False, compare=False)   # its ctx.adsl rows (bool), if known

    @property
    def header(self) -> str:
        return f"{self.label} (N={self.n})"


class MissingVariable(SpecError):
    """An output names a variable its dataset does not have: the output is not produced (reported),
    the others still are (a study without a study-specific variable drops only what uses it)."""


def _query_positions(frame: pd.DataFrame, where: str, *, output: str, dataset: str) -> np.ndarray:
    """Row positions of `frame` meeting a declared filter; a filter naming an unknown variable is a spec
    error, not a traceback. Only the columns the filter names are handed to pandas (its python engine
    builds a Series per column of the frame it is given); filters of the simple forms skip pandas'
    expression machinery (`simple_filter.simple_mask`, same operations)."""
    mask = simple_mask(frame, where)
    if mask is not None:
        return np.flatnonzero(mask)
    cols = referenced_columns(frame, where)
    narrow = restore_strings(frame if cols is None else frame[cols]).reset_index(drop=True)
    try:
        return narrow.query(where, engine="python").index.to_numpy()
    except Exception as exc:  # noqa: BLE001 - re-raised with the spec location
        if type(exc).__name__ == "UndefinedVariableError":
            name = str(exc).split("'")[1] if "'" in str(exc) else str(exc)
            raise MissingVariable(f"output {output}: {dataset} lacks variable {name}", file=dataset,
                                  column=name) from None
        raise SpecError(f"output {output}: cannot apply filter to {dataset}: {exc}",
                        file=dataset, value=where) from None


def query_mask(frame: pd.DataFrame, where: str | None, *, output: str, dataset: str) -> np.ndarray:
    """Boolean array over the rows of `frame`: True where the declared filter holds."""
    mask = np.zeros(len(frame), dtype=bool)
    if not where:
        mask[:] = True
        return mask
    mask[_query_positions(frame, where, output=output, dataset=dataset)] = True
    return mask


def query(frame: pd.DataFrame, where: str | None, *, output: str, dataset: str) -> pd.DataFrame:
    """Apply a declared filter (the rows `frame.query(where)` selects, in order)."""
    if not where:
        return frame
    return frame.iloc[_query_positions(frame, where, output=output, dataset=dataset)]


def query_eval(frame: pd.DataFrame, expr: str, *, output: str, dataset: str) -> pd.Series:
    """Evaluate a declared expression; unknown variables are MissingVariable (the output is skipped)."""
    try:
        if not len(frame):
            return pd.Series([], dtype=float)
        cols = referenced_columns(frame, expr)
        return restore_strings(frame if cols is None else frame[cols]).eval(expr, engine="python")
    except Exception as exc:  # noqa: BLE001
        if type(exc).__name__ == "UndefinedVariableError":
            raise MissingVariable(f"output {output}: {dataset} lacks a variable of {expr!r}", file=dataset,
                                  value=expr) from None
        raise SpecError(f"output {output}: cannot compute {expr!r} on {dataset}: {exc}", file=dataset) from None


def need(frame: pd.DataFrame, cols, *, output: str, dataset: str) -> None:
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise MissingVariable(f"output {output}: {dataset} lacks variable(s) {', '.join(missing)}",
                        file=dataset, column=missing[0])


def require_bds_records(frame: pd.DataFrame, where: str | None, *, output: str, dataset: str,
                        param_var: str = "PARAMCD", mask: np.ndarray | None = None) -> None:
    """A parameter selection on a BDS dataset that matches no record at all is a spec/ADaM mismatch
    (renamed PARAMCD, missing parameter), not an empty table: fail loudly. Event datasets (no PARAMCD)
    may legitimately have no matching record (e.g. no ICANS). `mask`: the filter, already evaluated."""
    if param_var not in frame.columns or not where or param_var not in where:
        return
    if (mask.any() if mask is not None else len(query(frame, where, output=output, dataset=dataset))):
        return
    present = ", ".join(sorted(map(str, pd.unique(frame[param_var].dropna())))[:12])
    raise SpecError(f"output {output}: no {dataset} records match the declared selection "
                    f"(PARAMCD values present: {present})", file=dataset, column=param_var, value=where)


class _Frames:
    """The datasets an output reads: the build's shared frames, with this output's own replacements."""

    def __init__(self, store: TableData):
        self.store = store
        self.own: dict[str, pd.DataFrame] = {}

    def __contains__(self, name) -> bool:
        return name.upper() in self.own or name.upper() in self.store

    def __getitem__(self, name) -> pd.DataFrame:
        name = name.upper()
        return self.own[name] if name in self.own else self.store.frame(name)

    def __setitem__(self, name, frame) -> None:
        self.own[name.upper()] = frame

    def keys(self) -> list[str]:
        return list(dict.fromkeys([*self.store.source, *self.own]))

    def __iter__(self):
        return iter(self.keys())

    def get(self, name, default=None):
        return self[name] if name in self else default

    def items(self):
        return [(k, self[k]) for k in self.keys()]


@dataclass
class _Subjects:
    """An output's population and columns, shared by every output with the same population and columns."""

    adsl: pd.DataFrame
    base_rows: np.ndarray        # row position of each population subject in the population dataset
    cols: list
    show_n: object
    added: frozenset             # ADSL columns the tables added (column key, derived variables)
    positions: tuple             # (ADSL keys or None, population-dataset row -> ADSL row, column members)


class Context:
    """Population subjects, their columns, and access to population-restricted ADaM frames.

    `adam` is a mapping of datasets or the build's `TableData`: with the latter, filters, populations and
    columns are evaluated once per build and shared by every output."""

    def __init__(self, output: str, adam, population: Population, columns: Columns | None):
        self.output = output
        self.store = adam if isinstance(adam, TableData) else TableData(adam, prepare=False)
        self.adam = _Frames(self.store)
        self.pop_name = population.dataset.upper()
        self._changed: dict[str, set] = {}       # dataset -> columns this output computed into it
        self.cols: list[Col] = []
        self._subjects_prepared = False
        key = (repr(population), repr(columns))
        got = self.store.contexts.get(key)
        if got is None:
            base = self.dataset(population.dataset)
            self._base_rows = np.flatnonzero(self.store.mask(
                population.dataset, population.where,
                lambda f, w: query_mask(f, w, output=output, dataset=population.dataset)))
            self.adsl = base.iloc[self._base_rows].copy()
            self._added = set()
            if columns is not None:
                self._assign_columns(columns)
            self._subjects_prepared = False      # derived columns may have prepared them half-way
            self._prepare_subjects()
            got = _Subjects(self.adsl, self._base_rows, list(self.cols), getattr(self, "show_n", None),
                            frozenset(self._added), (self._keys, self._row_of_base, self._member))
            self.store.contexts[key] = got
        self.adsl = got.adsl.copy(deep=False)
        self._base_rows = got.base_rows
        self.cols = list(got.cols)
        if got.show_n is not None:
            self.show_n = got.show_n
        self._added = set(got.added)
        self._keys, self._row_of_base, self._member = got.positions
        self._subjects_prepared = True

    def dataset(self, name: str) -> pd.DataFrame:
        try:
            return self.adam[name.upper()]
        except KeyError:
            raise SpecError(f"output {self.output}: dataset {name} was not supplied", file=name) from None

    def replace_dataset(self, name: str, frame: pd.DataFrame, column: str) -> None:
        """This output computed `column` into dataset `name` (same records): filters naming it read
        the new frame; the others keep the shared masks."""
        self.adam[name] = frame
        self._changed.setdefault(name.upper(), set()).add(column)

    def _assign_columns(self, c) -> None:
        if isinstance(c, tuple):           # alternatives: the first whose variables all exist
            for k, alt in enumerate(c):
                try:
                    return self._assign_columns(alt)
                except MissingVariable:
                    if k == len(c) - 1:
                        raise
                    self.cols = []
            return None
        adsl = self.adsl
        if c.derive is not None:
            adsl[c.derive.name] = derived_values(self, c.derive)
            self._added.add(c.derive.name)
        self._added.add(COL)
        everyone = np.ones(len(adsl), dtype=bool)
        if c.var is None:                  # the whole population in one column
            self.cols.append(Col(None, c.total or "All subjects", len(adsl), pd.Index(adsl[KEY]), rows=everyone))
            adsl[COL] = "__all__"
            self.show_n = c.show_n
            return None
        templates = [t for t in (c.label, c.span, c.legend) if t]
        need(adsl, [c.var] + ([c.order] if c.order else []) + [f for t in templates for f in labels.fields(t)],
             output=self.output, dataset="ADSL")
        key = adsl[c.var].astype(object).where(~_blank(adsl[c.var]), None)
        adsl[COL] = key
        by = list(dict.fromkeys(([c.order] if c.order else []) + [c.var]))
        first = adsl.loc[key.notna()].sort_values(by, kind="mergesort").drop_duplicates(c.var)
        text = {name: (labels.render_frame(t, first) if t else pd.Series("", index=first.index))
                for name, t in (("label", c.label), ("span", c.span), ("legend", c.legend))}
        subjects = adsl[KEY]
        values = first[c.var]
        for i, v, rows in zip(first.index, values, _value_rows(key, first.index, values)):
            ids = pd.Index(subjects[rows])
            label = (c.labels or {}).get(v) or text["label"][i] or str(v)
            self.cols.append(Col(v, label, len(ids), ids, text["span"][i], text["legend"][i], rows=rows))
        missing = key.isna().to_numpy()
        if missing.any():
            if c.fallback is None:
                raise SpecError(f"output {self.output}: {int(missing.sum())} population subject(s) "
                                f"have no {c.var}", file="ADSL", column=c.var)
            adsl[COL] = key.where(key.notna(), "__fallback__")
            ids = pd.Index(subjects[missing])
            self.cols.append(Col("__fallback__", c.fallback, len(ids), ids, rows=missing))
        if c.total:
            self.cols.append(Col(None, c.total, len(adsl), pd.Index(subjects), rows=everyone))
        self.show_n = c.show_n

    @property
    def legend(self) -> str:
        """Distinct legend texts in column order, as one footnote line ('' when none)."""
        return "; ".join(dict.fromkeys(c.legend for c in self.cols if c.legend)) + \
            ("." if any(c.legend for c in self.cols) else "")

    # ------------------------------------------------------------ subjects as row positions
    def _prepare_subjects(self) -> None:
        """Row positions instead of USUBJID matching: `_row_of_base` maps a population-dataset row to
        the subject's ADSL row here (-1: not in the population); `_member[j]` marks column j's rows."""
        if self._subjects_prepared:
            return
        keys = pd.Index(self.adsl[KEY].to_numpy(dtype=object))
        self._keys = keys if keys.is_unique else None
        n_base = len(self.store.source[self.pop_name]) if self.pop_name in self.store else 0
        self._row_of_base = np.full(n_base, -1, dtype=np.int64)
        if self._keys is not None and len(self._base_rows) == len(self.adsl):
            self._row_of_base[self._base_rows] = np.arange(len(self.adsl))
        else:
            self._keys = None
        self._member = np.zeros((len(self.cols), len(self.adsl)), dtype=bool)
        if self._keys is not None:
            for j, c in enumerate(self.cols):
                if c.rows is not None and len(c.rows) == len(self.adsl):   # ids are these rows' unique keys
                    self._member[j] = c.rows
                    continue
                pos = self._keys.get_indexer(c.ids.to_numpy(dtype=object))
                self._member[j, pos[pos >= 0]] = True
        self._subjects_prepared = True

    def adsl_rows(self, ids) -> np.ndarray | None:
        """ADSL row here of each subject in `ids` (-1: not in the population); None when ADSL keys repeat."""
        self._prepare_subjects()
        if self._keys is None:
            return None
        if not len(ids):                   # `adsl_rows([])`: the blocks' "are keys unique?" question
            return np.empty(0, dtype=np.intp)
        return self._keys.get_indexer(np.asarray(ids, dtype=object))

    def member(self, j: int) -> np.ndarray:
        """Boolean over ctx.adsl rows: the subject is counted in column j."""
        self._prepare_subjects()
        return self._member[j]

    def count_rows(self, rows: np.ndarray) -> list[int]:
        """Distinct subjects per column among ADSL rows `rows` (repeats and -1 ignored)."""
        self._prepare_subjects()
        present = np.zeros(len(self.adsl), dtype=bool)
        rows = np.asarray(rows, dtype=np.int64)
        present[rows[rows >= 0]] = True
        return [int(n) for n in (self._member & present).sum(axis=1)]

    # ------------------------------------------------------------ filters
    def _mask_on(self, name: str, frame: pd.DataFrame, where: str | None, local: set) -> np.ndarray:
        """`where` over the rows of `frame` (the shared dataset `name`, or rows of it in order), from the
        build's cached mask unless the filter names a column this output computed (`local`)."""
        if not where:
            return np.ones(len(frame), dtype=bool)
        cols = referenced_columns(frame, where)
        src = self.store.source.get(name.upper())
        if src is None or cols is None or any(c in local or c not in src.columns for c in cols):
            return query_mask(frame, where, output=self.output, dataset=name)
        return self.store.mask(name, where, lambda f, w: query_mask(f, w, output=self.output, dataset=name))

    def where_mask(self, name: str, where: str | None) -> np.ndarray:
        """`where` over the records of dataset `name` as this output sees it."""
        return self._mask_on(name, self.dataset(name), where, self._changed.get(name.upper(), set()))

    def adsl_mask(self, where: str | None) -> np.ndarray:
        """`where` over the population subjects (rows of ctx.adsl)."""
        if not where:
            return np.ones(len(self.adsl), dtype=bool)
        local = self._added | self._changed.get(self.pop_name, set())
        cols = referenced_columns(self.adsl, where)
        if self.pop_name not in self.store or cols is None or any(c in local for c in cols):
            return query_mask(self.adsl, where, output=self.output, dataset="ADSL")
        return self._mask_on(self.pop_name, self.store.source[self.pop_name], where, local)[self._base_rows]

    def record_rows(self, name: str, *wheres) -> tuple[np.ndarray, np.ndarray] | None:
        """(records kept, their subjects' ADSL rows here): records of population subjects meeting every
        `where`; None when subjects cannot be matched by position (repeated keys)."""
        self._prepare_subjects()
        if self._keys is None:
            return None
        pos = self.store.positions(name, self.pop_name)
        if pos is None:
            return None
        rows = np.where(pos >= 0, self._row_of_base[np.maximum(pos, 0)], -1) if len(pos) else pos
        keep = rows >= 0
        for w in wheres:
            if w:
                keep &= self.where_mask(name, w)
        return np.flatnonzero(keep), rows[keep]

    def records(self, name: str, *wheres, columns=None) -> pd.DataFrame:
        """Records of population subjects meeting every `where` (the frame's own index, no column key);
        `columns`: only these of the dataset's variables (those it has, in the dataset's order)."""
        frame = self.dataset(name)
        need(frame, [KEY], output=self.output, dataset=name)
        got = self.record_rows(name, *wheres)
        cols = None if columns is None else [j for j, c in enumerate(frame.columns) if c in set(columns)]
        if got is None:
            for w in wheres:
                frame = query(frame, w, output=self.output, dataset=name)
            frame = frame[frame[KEY].isin(self.adsl[KEY])]
            return frame if cols is None else frame.iloc[:, cols]
        return frame.iloc[got[0]] if cols is None else frame.iloc[got[0], cols]

    def data(self, name: str, where: str | None = None, *more: str | None, columns=None) -> pd.DataFrame:
        """Records of population subjects meeting `where` (and every filter in `more`), with the column
        key attached; `columns`: only these of the dataset's variables (those it has), plus the key.

        The column key always comes from ADSL, never from treatment copies in the BDS/OCCDS."""
        if name.upper() == "ADSL":
            if not where and not any(more):
                return self.adsl
            keep = self.adsl_mask(where)
            for w in more:
                keep = keep & self.adsl_mask(w)
            return self.adsl[keep]
        frame = self.dataset(name)
        need(frame, [KEY], output=self.output, dataset=name)
        got = self.record_rows(name, where, *more)
        if columns is not None:
            wanted = {KEY, *columns}
            cols = [j for j, c in enumerate(frame.columns) if c in wanted]
        if got is None:
            for w in (where, *more):
                frame = query(frame, w, output=self.output, dataset=name)
            frame = frame[frame[KEY].isin(self.adsl[KEY])]
            if columns is not None:
                frame = frame.iloc[:, cols]
            if COL in self.adsl:
                frame = frame.drop(columns=[COL], errors="ignore").merge(
                    self.adsl[[KEY, COL]], on=KEY, how="left", validate="many_to_one")
            return frame
        kept, rows = got
        frame = frame.iloc[kept] if columns is None else frame.iloc[kept, cols]
        if COL in self.adsl:
            if COL in frame.columns:       # (dropping an absent column still builds a new frame)
                frame = frame.drop(columns=[COL])
            frame = frame.assign(**{COL: self.adsl[COL].take(rows).set_axis(frame.index)})
            frame = frame.reset_index(drop=True)
        return frame

    def header_rows(self, splits: tuple[Split, ...]) -> list[list[tuple[str, int]]]:
        width = max(1, len(splits))
        top = [(c.header if self.show_n else c.label, width) for c in self.cols]
        rows = [top]
        if any(c.span for c in self.cols):
            spans: list[tuple[str, int]] = []
            for c in self.cols:          # merge runs of adjacent columns with the same span text
                if spans and c.span and spans[-1][0] == c.span:
                    spans[-1] = (c.span, spans[-1][1] + width)
                else:
                    spans.append((c.span, width))
            rows = [spans, top]
        if len(splits) > 1:
            rows.append([(s.label, 1) for _ in self.cols for s in splits])
        return rows


def _value_rows(key: pd.Series, first: pd.Index, values: pd.Series) -> list[np.ndarray]:
    """Per row label in `first` (each holding a distinct non-missing value of `key`; `values` are those
    values), the rows of `key` equal to it as a boolean array: `(key == v).to_numpy()` for each value,
    from one factorising of `key` (codes compared instead of a Series comparison per value). With repeated
    row labels, compared value by value."""
    if not key.index.is_unique:
        return [(key == v).to_numpy() for v in values]
    codes = pd.factorize(key.to_numpy(dtype=object))[0]
    return [codes == k for k in codes[key.index.get_indexer(first)]]


def _blank(s: pd.Series) -> pd.Series:
    """Missing, or text that is empty after stripping: `s.isna() | (s.astype(str).str.strip() == "")`,
    decided once per distinct value (a text column has few distinct values in many rows)."""
    codes, uniques = pd.factorize(s)
    blank = np.array([str(u).strip() == "" for u in uniques] + [True], dtype=bool)   # code -1: missing
    return pd.Series(blank[codes], index=s.index)


def derived_values(ctx: Context, d) -> pd.Series:
    """A SubjectVar per population subject, cut into labelled intervals when `bins` are given."""
    vals = subject_values(ctx, d.dataset, d.var, d.where, d.agg, d.order_by, fill=d.fill)
    if not d.bins:
        return vals
    edges = [-np.inf, *map(float, d.bins), np.inf]
    if len(d.bin_labels) != len(edges) - 1:
        raise SpecError(f"output {ctx.output}: {d.name} needs {len(edges) - 1} bin_labels for "
                        f"{len(d.bins)} bins", column=d.name)
    cut = pd.cut(pd.to_numeric(vals, errors="coerce"), edges, right=False, labels=list(d.bin_labels))
    return cut.astype(object).where(cut.notna(), None)


def subject_values(ctx: Context, dataset: str, var: str, where: str | None, agg: str | None,
                   order_by=(), fill=None) -> pd.Series:
    """One value per population subject (aligned to ctx.adsl), reducing records by `agg`."""
    if dataset.upper() == "ADSL" and agg is None:
        need(ctx.adsl, [var], output=ctx.output, dataset=dataset)
        vals = ctx.adsl[var].astype(object)
        if where:
            vals = vals.where(ctx.adsl_mask(where), None)
        return vals
    frame = ctx.dataset(dataset)
    need(frame, [KEY, var, *order_by], output=ctx.output, dataset=dataset)
    mask = ctx.where_mask(dataset, where) if where else None
    require_bds_records(frame, where, output=ctx.output, dataset=dataset, mask=mask)
    recs = ctx.records(dataset, where, columns=[KEY, var, *order_by])     # (a lab dataset is wide and long)
    recs = recs[~_blank(recs[var])]
    if agg is None:
        dup = recs[KEY].duplicated()
        if dup.any():
            raise SpecError(f"output {ctx.output}: {dataset} has several records per subject for "
                            f"{var}; declare agg", file=dataset, column=var,
                            value=recs.loc[dup, KEY].iloc[0])
        per = recs.set_index(KEY)[var]
    elif agg in ("max", "min"):
        per = getattr(recs.groupby(KEY)[var], agg)()
    elif agg in ("first", "last"):
        recs = recs.sort_values([KEY, *order_by], kind="mergesort")
        per = recs.groupby(KEY)[var].agg(agg)
    else:
        raise SpecError(f"output {ctx.output}: unknown aggregation {agg!r}", column=var, value=agg)
    out = ctx.adsl[KEY].map(per)
    if fill is not None:
        out = out.astype(object).where(out.notna(), fill)
    return out


# ---------------------------------------------------------------- blocks
def _counts(ctx: Context, ids) -> list[int]:
    """Distinct subjects among `ids` (USUBJIDs) per column."""
    rows = ctx.adsl_rows(pd.unique(pd.Series(ids, dtype=object)))
    if rows is not None:
        return ctx.count_rows(rows)
    ids = pd.Index(pd.unique(pd.Series(ids)))
    return [int(c.ids.isin(ids).sum()) for c in ctx.cols]


def _split_frames(ctx: Context, dataset: str, where: str | None, splits, columns=None) -> list[pd.DataFrame]:
    return [ctx.data(dataset, where, s.where, columns=columns) for s in (splits or (Split(""),))]


def _split_counts(ctx: Context, dataset: str, where: str | None, splits) -> list[list[int]]:
    """Subjects per column with >= 1 record meeting `where` and each split's filter."""
    out = []
    if ctx.adsl_rows([]) is None:          # repeated subject keys: match by value
        return [_counts(ctx, f[KEY]) for f in _split_frames(ctx, dataset, where, splits)]
    for s in splits or (Split(""),):
        if dataset.upper() == "ADSL":
            out.append(ctx.count_rows(np.flatnonzero(ctx.adsl_mask(where) & ctx.adsl_mask(s.where))))
            continue
        need(ctx.dataset(dataset), [KEY], output=ctx.output, dataset=dataset)
        got = ctx.record_rows(dataset, where, s.where)
        out.append(ctx.count_rows(got[1]) if got is not None else
                   _counts(ctx, ctx.data(dataset, where, s.where)[KEY]))
    return out


def _interleave(per_split: list[list[str]]) -> list[str]:
    """[[c1s1, c2s1], [c1s2, c2s2]] -> [c1s1, c1s2, c2s1, c2s2] (splits under each column)."""
    return [cell for group in zip(*per_split) for cell in group]


def block_header(b: Header, ctx, splits):
    return [Row(b.label, [""] * (len(ctx.cols) * max(1, len(splits))), b.indent, header=True)]


def block_subjects_with(b: SubjectsWith, ctx, splits):
    cells = []
    for counts in _split_counts(ctx, b.dataset, b.where, splits):
        cells.append([fmt.n_pct(n, c.n) for n, c in zip(counts, ctx.cols)])
    return [Row(b.label, _interleave(cells), b.indent)]


def _ordered_levels(values: pd.Series, levels) -> list[tuple[object, str]]:
    present = [v for v in pd.unique(values.dropna())]
    if levels is None:
        return [(v, str(v)) for v in sorted(present, key=str)]
    pairs = list(levels.items()) if hasattr(levels, "items") else [(v, str(v)) for v in levels]
    known = {v for v, _ in pairs}
    return pairs + [(v, str(v)) for v in sorted((v for v in present if v not in known), key=str)]


def block_categorical(b: Categorical, ctx, splits):
    vals = subject_values(ctx, b.dataset, b.var, b.where, b.agg, b.order_by)
    vals = vals.astype(object).where(~_blank(vals.astype(object)), None)
    in_scope = np.ones(len(ctx.adsl), dtype=bool)
    if b.where and b.dataset.upper() == "ADSL":
        in_scope = ctx.adsl_mask(b.where)
    levels = _ordered_levels(vals, b.levels)
    if b.only_levels:
        levels = [(v, lab) for v, lab in levels if v in dict(_pairs(b.levels))]
    if b.case:
        named = dict(_pairs(b.levels)) if b.levels is not None and hasattr(b.levels, "items") else {}
        levels = [(v, lab if v in named else labels.render("{V:%s}" % b.case, {"V": lab})) for v, lab in levels]
    rows = [Row(b.label, [""] * len(ctx.cols), b.indent, header=True)]
    for v, lab in levels:
        hit = _eq(vals, v).to_numpy()
        if not b.show_empty and not hit.any():
            continue
        rows.append(Row(lab, [fmt.n_pct(n, c.n) for n, c in zip(_subject_counts(ctx, hit), ctx.cols)],
                        b.indent + 1))
    if b.missing_label is not None:
        miss = vals.isna().to_numpy() & in_scope
        if miss.any():
            rows.append(Row(b.missing_label, [fmt.n_pct(n, c.n) for n, c in zip(_subject_counts(ctx, miss), ctx.cols)],
                            b.indent + 1))
    return rows


def _subject_counts(ctx: Context, hit: np.ndarray) -> list[int]:
    """Subjects per column among the ADSL rows where `hit` is True (with unique subject keys those rows are
    the subjects: no look-up of their keys back to rows)."""
    if ctx.adsl_rows([]) is not None:
        return ctx.count_rows(np.flatnonzero(hit))
    return _counts(ctx, ctx.adsl[KEY].to_numpy()[hit])


def _pairs(levels):
    return list(levels.items()) if hasattr(levels, "items") else [(v, str(v)) for v in levels]


def _eq(vals: pd.Series, v) -> pd.Series:
    try:
        return (vals == v).fillna(False).astype(bool)
    except TypeError:
        return vals.map(lambda x: x == v).astype(bool)


STAT_LABELS = {"n": "n", "mean_sd": "Mean (SD)", "median": "Median", "q1_q3": "Q1, Q3",
               "min_max": "Min, Max"}


def _stat_cells(values: pd.Series, stat: str, decimals: int, range_decimals: int | None = None) -> str:
    return _stat_text(describe(values), stat, decimals, range_decimals)


def _stat_text(d, stat: str, decimals: int, range_decimals: int | None = None) -> str:
    """One statistic of a Descriptive as cell text."""
    if stat == "n":
        return str(d.n)
    if d.n == 0:
        return fmt.MISSING
    rd = max(decimals - 1, 0) if range_decimals is None else range_decimals
    return {"mean_sd": lambda: fmt.mean_sd(d.mean, d.sd, decimals),
            "median": lambda: fmt.num(d.median, decimals),
            "q1_q3": lambda: fmt.range_(d.q1, d.q3, decimals),
            "min_max": lambda: fmt.range_(d.min, d.max, rd),
            "median_range": lambda: fmt.median_range(d.median, d.min, d.max, decimals, rd)}[stat]()


STAT_LABELS["median_range"] = "Median (min, max)"


def block_continuous(b: Continuous, ctx, splits):
    if b.compute:                          # a derived value (e.g. days since infusion) computed in place
        frame = ctx.dataset(b.dataset)
        value = query_eval(frame, b.compute, output=ctx.output, dataset=b.dataset)
        ctx.replace_dataset(b.dataset, frame.assign(**{b.var: value}), b.var)
        if b.dataset.upper() == "ADSL":
            ctx.adsl = ctx.adsl.assign(**{b.var: query_eval(ctx.adsl, b.compute, output=ctx.output, dataset="ADSL")})
    if b.per_record:
        recs = ctx.data(b.dataset, b.where, columns=[b.var])          # the column it reads (and the key)
        require_bds_records(ctx.dataset(b.dataset), b.where, output=ctx.output, dataset=b.dataset,
                            mask=ctx.where_mask(b.dataset, b.where) if b.where else None)
        need(recs, [b.var], output=ctx.output, dataset=b.dataset)
        groups = [recs.loc[hit, b.var] for hit in in_columns(ctx, recs)]
    else:
        vals = pd.to_numeric(subject_values(ctx, b.dataset, b.var, b.where, b.agg, b.order_by),
                             errors="coerce")
        groups = [vals[ctx.member(j) if ctx.adsl_rows([]) is not None else
                       ctx.adsl[KEY].isin(c.ids).to_numpy()] for j, c in enumerate(ctx.cols)]
    label = b.label + _unit_suffix(ctx, b) if b.unit_var else b.label
    rows = [Row(label, [""] * len(ctx.cols), b.indent, header=True)]
    described = [describe(g) for g in groups]
    for stat in b.stats:
        cells = [_stat_text(d, stat, b.decimals, b.range_decimals) for d in described]
        rows.append(Row(STAT_LABELS[stat], cells, b.indent + 1))
    return rows


def in_column(ctx: Context, recs: pd.DataFrame, j: int) -> np.ndarray:
    """Boolean over the records of population subjects: the record's subject is in column j."""
    rows = ctx.adsl_rows(recs[KEY].to_numpy())
    if rows is None:
        return recs[KEY].isin(ctx.cols[j].ids).to_numpy()
    return np.where(rows >= 0, ctx.member(j)[np.maximum(rows, 0)], False) if len(rows) else \
        np.zeros(0, dtype=bool)


def in_columns(ctx: Context, recs: pd.DataFrame) -> list[np.ndarray]:
    """`[in_column(ctx, recs, j) for j in columns]`, the records' subjects located once, not once per column."""
    rows = ctx.adsl_rows(recs[KEY].to_numpy())
    if rows is None or not len(rows):
        return [in_column(ctx, recs, j) for j in range(len(ctx.cols))]
    found, at = rows >= 0, np.maximum(rows, 0)
    return [np.where(found, ctx.member(j)[at], False) for j in range(len(ctx.cols))]


def _unit_suffix(ctx: Context, b: Continuous) -> str:
    """' (unit)' from the selected records; several units for one statistic is a spec error."""
    recs = ctx.data(b.dataset, b.where, columns=[b.unit_var])
    need(recs, [b.unit_var], output=ctx.output, dataset=b.dataset)
    values = recs[b.unit_var]
    units = sorted({str(u) for u in pd.unique(values[~_blank(values)].to_numpy(dtype=object))})   # per distinct unit
    if len(units) > 1:
        raise SpecError(f"output {ctx.output}: {b.label} mixes units {', '.join(units)}",
                        file=b.dataset, column=b.unit_var, value=b.where)
    return f" ({units[0]})" if units else ""


def block_binomial(b: Binomial, ctx, splits):
    counts = _split_counts(ctx, b.dataset, b.where, ())[0]
    ci = [clopper_pearson(x, c.n, b.alpha) for x, c in zip(counts, ctx.cols)]
    return [Row(b.label, [fmt.n_pct(x, c.n) for x, c in zip(counts, ctx.cols)], b.indent),
            Row(b.ci_label, [fmt.range_(100 * lo, 100 * hi, 1) if c.n else fmt.MISSING
                             for (lo, hi), c in zip(ci, ctx.cols)], b.indent + 1)]


def block_time_to_event(b: TimeToEvent, ctx, splits):
    sel = f"{b.param_var} == {b.paramcd!r}"
    recs = ctx.data(b.dataset, sel, columns=[b.time_var, b.cnsr_var])
    require_bds_records(ctx.dataset(b.dataset), sel, output=ctx.output, dataset=b.dataset,
                        param_var=b.param_var, mask=ctx.where_mask(b.dataset, sel))
    need(recs, [b.time_var, b.cnsr_var], output=ctx.output, dataset=b.dataset)
    fits = [kaplan_meier(t, e, b.alpha) for t, e in _km_inputs(recs, b, in_columns(ctx, recs))]
    conf = round(100 * (1 - b.alpha))
    rows = [Row(b.label, [""] * len(ctx.cols), b.indent, header=True),
            Row("Subjects analysed, n", [str(f.n) for f in fits], b.indent + 1),
            Row("Events, n (%)", [fmt.n_pct(f.n_events, f.n) for f in fits], b.indent + 1),
            Row("Censored, n (%)", [fmt.n_pct(f.n_censored, f.n) for f in fits], b.indent + 1)]
    med = [quantile(f, 0.5) if f.n else (np.nan,) * 3 for f in fits]
    rows.append(Row(f"Median ({conf}% CI), {b.unit}", [fmt.est_ci(*m, decimals=1) if f.n else fmt.MISSING
                                                        for m, f in zip(med, fits)], b.indent + 1))
    if b.quartiles:
        q = [(quantile(f, 0.25)[0], quantile(f, 0.75)[0]) if f.n else (np.nan, np.nan) for f in fits]
        rows.append(Row(f"Q1, Q3, {b.unit}", [f"{_ne(a)}, {_ne(c)}" if f.n else fmt.MISSING
                                              for (a, c), f in zip(q, fits)], b.indent + 1))
    for lm in b.landmarks:
        cells = []
        for f in fits:
            s, lo, hi = survival_at(f, lm) if f.n else (np.nan,) * 3
            cells.append(fmt.MISSING if not f.n else fmt.NE if np.isnan(s) else
                         fmt.num(0, 1) if s == 0 else fmt.est_ci(100 * s, 100 * lo, 100 * hi, decimals=1))
        rows.append(Row(f"Rate at {lm:g} {b.unit} ({conf}% CI), %", cells, b.indent + 1))
    return rows


def _km_inputs(recs: pd.DataFrame, b: TimeToEvent, hits: list) -> list:
    """(time in units, event) per column: `g[time] / days_per_unit` and `1 - g[cnsr].astype(int)` of the column's
    records `g`, taken as numpy arrays when both columns are numeric without missing censoring (a frame and
    two Series per column otherwise: most of a time-to-event table); else those Series, as before."""
    time, cnsr = recs[b.time_var], recs[b.cnsr_var]
    plain = time.dtype.kind in "fiu" and isinstance(time.dtype, np.dtype) and isinstance(cnsr.dtype, np.dtype) \
        and (cnsr.dtype.kind in "iu" or (cnsr.dtype.kind == "f" and np.isfinite(cnsr.to_numpy()).all()))
    if not plain:
        return [(g[b.time_var] / b.days_per_unit, 1 - g[b.cnsr_var].astype(int)) for g in (recs[hit] for hit in hits)]
    t = time.to_numpy() / b.days_per_unit
    e = 1 - cnsr.to_numpy().astype(int)
    return [(t[hit], e[hit]) for hit in hits]


def _ne(x) -> str:
    return fmt.NE if x is None or np.isnan(x) else fmt.num(x, 1)


def block_ae_hierarchy(b: AEHierarchy, ctx, splits):
    used = [v for v in (b.soc, b.term, b.worst_var) if v]
    if b.worst_var:                        # splits act on each subject's worst value per row, not on records
        frames = _split_frames(ctx, b.dataset, b.where, splits[:1], columns=used)
        for s in splits[1:]:               # the other splits' filters checked on the records, as their frames did
            ctx.where_mask(b.dataset, s.where)
    else:
        frames = _split_frames(ctx, b.dataset, b.where, splits, columns=used)
    need(frames[0], [b.term] + ([b.soc] if b.soc else []), output=ctx.output, dataset=b.dataset)
    member = _membership(ctx)

    if b.worst_var:
        base_all = ctx.data(b.dataset, b.where, columns=used)
        need(base_all, [b.worst_var], output=ctx.output, dataset=b.dataset)

        def counts(level: list[str]) -> list[pd.DataFrame]:
            worst = base_all.groupby(level + [KEY], as_index=False)[b.worst_var].max()
            coded = _Coded(worst, ctx)         # subjects and levels located once for every split
            return [_group_counts(worst, level, member, ctx, coded=coded,
                                  keep=query_mask(worst, s.where, output=ctx.output, dataset=b.dataset))
                    for s in (splits or (Split(""),))]
        return _hierarchy_rows(b, ctx, [base_all], counts, 0)

    coded = [_Coded(f, ctx) for f in frames]

    def counts(level: list[str]) -> list[dict]:
        return [_group_counts(f, level, member, ctx, coded=c) for f, c in zip(frames, coded)]

    return _hierarchy_rows(b, ctx, frames, counts, b.sort_split)


class _Coded:
    """One frame's records for `_group_counts`, each computed once however many levels and splits are counted:
    the subjects as ADSL rows here and each variable's factorised codes."""

    def __init__(self, frame: pd.DataFrame, ctx: Context):
        self.frame, self.ctx = frame, ctx
        self._rows = self._codes = None

    def rows(self) -> np.ndarray | None:
        if self._rows is None:
            self._rows = (self.ctx.adsl_rows(self.frame[KEY].to_numpy()),)
        return self._rows[0]

    def codes(self, var: str) -> tuple[np.ndarray, object]:
        if self._codes is None:
            self._codes = {}
        got = self._codes.get(var)
        if got is None:
            got = self._codes[var] = pd.factorize(self.frame[var].to_numpy(dtype=object))
        return got


def _membership(ctx: Context) -> pd.DataFrame:
    """Subjects (index USUBJID) x columns: 1 where the subject is counted in the column (Total too)."""
    keys = pd.Index(ctx.adsl[KEY])
    if ctx.adsl_rows([]) is not None:
        return pd.DataFrame({j: ctx.member(j).astype(np.int64) for j in range(len(ctx.cols))}, index=keys)
    return pd.DataFrame({j: keys.isin(c.ids).astype(np.int64) for j, c in enumerate(ctx.cols)}, index=keys)


def _group_counts(frame: pd.DataFrame, level: list[str], member: pd.DataFrame, ctx: Context | None = None,
                  coded: _Coded | None = None, keep: np.ndarray | None = None) -> dict:
    """Subjects with >= 1 record per group of `level`, per column: {group key (a value, a tuple of values
    for several levels, "" when level is empty): counts per column}. Groups are codes and subjects are
    ADSL rows (one numpy pass); without unique subject keys, a pandas grouping of the membership table.
    `coded`: the frame's subject rows and codes when the caller counts it more than once; `keep`: only
    these records (a boolean mask over the frame's rows)."""
    if coded is None and ctx is not None:
        coded = _Coded(frame, ctx)
    rows = coded.rows() if coded is not None else None
    if rows is None:
        table = _group_counts_frame(frame if keep is None else frame[keep], level, member)
        return dict(zip(table.index, table.to_numpy()))
    ok = rows >= 0
    if keep is not None:
        ok &= keep
    code = np.zeros(len(frame), dtype=np.int64)
    uniques = []
    for v in level:                        # mixed-radix code over the levels; a missing level drops the record
        c, u = coded.codes(v)
        ok &= c >= 0
        code = code * max(len(u), 1) + c
        uniques.append(u)
    if not level:
        uniques_keys = {0: ""}
    n_adsl = len(ctx.adsl)
    pairs = np.unique(code[ok] * n_adsl + rows[ok])          # each (group, subject) once
    groups, subjects = pairs // n_adsl, pairs % n_adsl
    members = ctx._member[:, subjects].T.astype(np.int64)      # pairs x columns
    out: dict = {}
    present, first = np.unique(groups, return_index=True)
    sums = np.add.reduceat(members, first, axis=0) if len(pairs) else np.zeros((0, len(ctx.cols)), np.int64)
    for g, total in zip(present, sums):
        if not level:
            key = uniques_keys[int(g)]
        else:
            parts, rest = [], int(g)
            for u in reversed(uniques):
                parts.append(u[rest % max(len(u), 1)])
                rest //= max(len(u), 1)
            key = parts[0] if len(level) == 1 else tuple(reversed(parts))
        out[key] = total
    if not level and "" not in out:
        out[""] = np.zeros(len(ctx.cols), dtype=np.int64)
    return out


def _group_counts_frame(frame: pd.DataFrame, level: list[str], member: pd.DataFrame) -> pd.DataFrame:
    """The membership-table form of `_group_counts` (rows: groups; one row "" when level is empty)."""
    subjects = frame[level + [KEY]].dropna(subset=level).drop_duplicates()
    m = member.reindex(subjects[KEY].to_numpy()).fillna(0).astype(np.int64)
    if not level:
        return pd.DataFrame([m.sum().to_numpy()], index=[""], columns=member.columns)
    m.index = pd.MultiIndex.from_frame(subjects[level]) if len(level) > 1 else pd.Index(subjects[level[0]])
    return m.groupby(level=list(range(len(level))), sort=False).sum()


def _hierarchy_rows(b: AEHierarchy, ctx, frames, counts, sort_split: int) -> list[Row]:
    ns = [c.n for c in ctx.cols]

    def text(tables: list[dict], key) -> list[str]:
        per_split = []
        for t in tables:
            got = t.get(key)
            got = np.zeros(len(ns), dtype=np.int64) if got is None else got
            per_split.append([fmt.n_pct(int(x), n) for x, n in zip(got, ns)])
        return _interleave(per_split)

    rows = [Row(b.any_label, text(counts([]), ""), 0)]
    base = frames[sort_split]
    sort_frame = base if len(base) else frames[0]

    union = pd.concat(frames)
    if b.soc:
        by_soc, by_pt = counts([b.soc]), counts([b.soc, b.term])
        pt_freq = subjects_per_group(sort_frame, [b.soc, b.term])
        pts_of = terms_within(union, b.soc, b.term)
        for soc in ranked_within(union, sort_frame, b.soc):
            rows.append(Row(str(soc), text(by_soc, soc), 0, header=False))
            terms = sorted(pts_of.get(soc, ()), key=str)
            for pt in sorted(terms, key=lambda t: (-pt_freq.get((soc, t), 0), str(t))):
                rows.append(Row(str(pt), text(by_pt, (soc, pt)), 1))
    else:
        by_pt = counts([b.term])
        for pt in ranked_within(union, sort_frame, b.term):
            rows.append(Row(str(pt), text(by_pt, pt), 1))
    return rows


def ranked_within(frame_all: pd.DataFrame, sort_frame: pd.DataFrame, var: str) -> list:
    terms = sorted(pd.unique(frame_all[var].dropna()), key=str)
    freq = subjects_per_group(sort_frame, [var])
    return sorted(terms, key=lambda t: (-freq.get(t, 0), str(t)))


def _codes(frame: pd.DataFrame, var: str) -> tuple[np.ndarray, np.ndarray]:
    """Factorised values of a column (code -1: missing), the distinct values in order of appearance."""
    codes, uniques = pd.factorize(frame[var].to_numpy(dtype=object))
    return codes, np.asarray(uniques, dtype=object)


def subjects_per_group(frame: pd.DataFrame, by: list[str]) -> dict:
    """`frame.groupby(by)[KEY].nunique().to_dict()`: distinct subjects per group (a value, or a tuple of
    values for several `by`; rows missing a group value or a subject left out), counted on factorised codes
    (one numpy pass instead of pandas' grouping machinery, which was most of an AE table's cost). A group
    whose subjects are all missing is left out: callers read its count, 0, with `.get(key, 0)`."""
    parts = [_codes(frame, v) for v in by]
    subj, _ = _codes(frame, KEY)
    ok = subj >= 0
    group = np.zeros(len(frame), dtype=np.int64)
    for codes, uniques in parts:
        ok &= codes >= 0
        group = group * max(len(uniques), 1) + codes
    n_subj = max(int(subj.max()) + 1, 1) if len(subj) else 1
    pairs = np.unique(group[ok] * n_subj + subj[ok])            # each (group, subject) once
    present, n = np.unique(pairs // n_subj, return_counts=True)
    out = {}
    for g, k in zip(present.tolist(), n.tolist()):
        key = []
        for codes, uniques in reversed(parts):
            size = max(len(uniques), 1)
            key.append(uniques[g % size])
            g //= size
        out[key[0] if len(by) == 1 else tuple(reversed(key))] = k
    return out


def terms_within(frame: pd.DataFrame, outer: str, inner: str) -> dict:
    """`frame.dropna(subset=[inner]).groupby(outer, sort=False)[inner].unique()` as a dict of lists: the
    distinct `inner` values of each `outer` value, both in order of first appearance (missing ones left out)."""
    o_codes, o_uniques = _codes(frame, outer)
    i_codes, i_uniques = _codes(frame, inner)
    ok = np.flatnonzero((o_codes >= 0) & (i_codes >= 0))
    pair = o_codes[ok].astype(np.int64) * max(len(i_uniques), 1) + i_codes[ok]
    _, first = np.unique(pair, return_index=True)
    out: dict = {}
    for row in ok[np.sort(first)].tolist():
        out.setdefault(o_uniques[o_codes[row]], []).append(i_uniques[i_codes[row]])
    return out


def block_association(b: Association, ctx, splits):
    """p-value of the declared test, in the last column; '-' when a group is empty."""
    events = ctx.data(b.dataset, b.where, columns=[])           # only the subjects are read
    has = ctx.adsl[KEY].isin(events[KEY])
    p = float("nan")
    if b.test == "wilcoxon":
        if not b.value_var:
            raise SpecError(f"output {ctx.output}: association test wilcoxon needs value_var", column="value_var")
        need(ctx.adsl, [b.value_var], output=ctx.output, dataset="ADSL")
        v = pd.to_numeric(ctx.adsl[b.value_var], errors="coerce")
        x, y = v[has].dropna(), v[~has].dropna()
        if len(x) and len(y):
            p = wilcoxon_rank_sum_p(x.to_numpy(dtype=float), y.to_numpy(dtype=float))
    elif b.test == "fisher":
        groups = [c for c in ctx.cols if c.key is not None]
        if len(groups) != 2:
            raise SpecError(f"output {ctx.output}: fisher needs exactly two columns besides Total",
                            value=len(groups))
        table = [[int(c.ids.isin(ctx.adsl.loc[has, KEY]).sum()), int((~c.ids.isin(ctx.adsl.loc[has, KEY])).sum())]
                 for c in groups]
        from scipy import stats as st          # imported only here: ~2 s, and no other output needs it
        p = float(st.fisher_exact(table).pvalue)
    else:
        raise SpecError(f"output {ctx.output}: unknown association test {b.test!r} (wilcoxon, fisher)",
                        value=b.test)
    width = len(ctx.cols) * max(1, len(splits))
    text = fmt.MISSING if np.isnan(p) else fmt.pvalue(p)
    return [Row(b.label, [""] * (width - 1) + [text], b.indent)]


BLOCKS = {Header: block_header, Association: block_association, SubjectsWith: block_subjects_with, Categorical: block_categorical,
          Continuous: block_continuous, Binomial: block_binomial, TimeToEvent: block_time_to_event,
          AEHierarchy: block_ae_hierarchy}


def compute_by_columns(spec, adam: dict) -> TableResult:
    layout: ByColumns = spec.layout
    ctx = Context(spec.id, adam, spec.population, layout.columns)
    rows: list[Row] = []
    for block in layout.blocks:
        try:
            fn = BLOCKS[type(block)]
        except KeyError:
            raise SpecError(f"output {spec.id}: unknown block type {type(block).__name__}") from None
        new = fn(block, ctx, layout.splits)
        width = len(ctx.cols) * max(1, len(layout.splits))
        bad = [r.label for r in new if len(r.cells) != width]
        if bad:
            raise SpecError(f"output {spec.id}: block {type(block).__name__} does not support column "
                            f"splits", value=bad[0])
        rows.extend(new)
    foot = list(spec.footnotes) + ([ctx.legend] if ctx.legend else [])
    return TableResult(spec.id, spec.title, f"{spec.population.label}", ctx.header_rows(layout.splits),
                       layout.stub_header, rows, foot, spec.kind)
