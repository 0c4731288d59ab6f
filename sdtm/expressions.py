"""A small, safe, vectorised expression language for spec filters and conditions.

Specs say things like ``filter: "AETERM != '' and upper(AESER) == 'YES'"``. Expressions are parsed
with Python's ``ast`` and only a whitelist of nodes and functions is evaluated, column-wise on a
DataFrame: no ``eval`` of user text, and every name must be a column of the frame.
"""
from __future__ import annotations

import ast
import operator
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from ..errors import SpecError
from .uniques import DISTINCT_ROWS_MIN, factorize, on_distinct, text_array


def _as_num(s):
    """Numbers from a column; a text column is converted once per distinct text (same dtype as whole)."""
    if not isinstance(s, pd.Series):
        return s
    if s.dtype == object:
        return on_distinct(s, lambda u: pd.to_numeric(u, errors="coerce"))
    return pd.to_numeric(s, errors="coerce")


def _text(s):
    if not isinstance(s, pd.Series):
        return s
    if s.dtype == object and pd.api.types.infer_dtype(s.to_numpy(), skipna=False) == "string":
        return s                                   # text, nothing missing: already what fillna/astype give
    return s.fillna("").astype(str)


def _blank(s):
    if not isinstance(s, pd.Series):
        return s is None or (isinstance(s, str) and s.strip() == "")
    if pd.api.types.is_numeric_dtype(s.dtype):     # a number is never blank text: only missing counts
        return s.isna()
    texts = text_array(s) if not isinstance(s.dtype, pd.StringDtype) else None
    if texts is not None:                          # text (missing as ''): stripped once per distinct text
        codes, uniques = factorize(texts)
        blank = np.array([u.strip() == "" for u in uniques.tolist()] + [True], dtype=bool)
        return pd.Series(blank[codes], index=s.index, name=s.name)
    return on_distinct(s, lambda u: u.isna() | (u.astype(str).str.strip() == ""))


def _coalesce(*series):
    out = None
    for s in series:
        if out is None:
            out = s if isinstance(s, pd.Series) else s
            continue
        if isinstance(out, pd.Series):
            out = out.where(~_blank(out), s)
    return out


def _extreme(series, pick):
    """Latest/earliest of several ISO 8601 texts per row, ignoring blanks (text order = time order)."""
    columns = [_text(s) for s in series if isinstance(s, pd.Series)]
    out = columns[0].copy()
    for col in columns[1:]:
        take = (out.str.strip() == "") | ((col.str.strip() != "") & ((col > out) if pick == "max" else (col < out)))
        out = out.where(~take, col)
    return out


def _iso_hours(s):
    """Hours (number) → ISO 8601 duration: 24h multiples as PnD, else PTnH(nM); negatives with '-'."""
    from .algorithms import iso_duration
    return on_distinct(_as_num(s), lambda u: u.map(lambda h: iso_duration(None if pd.isna(h) else h * 60)))


def _add_days(s, days):
    """Complete ISO 8601 dates shifted by whole days (time dropped); partial/blank → blank."""
    text = _text(s)
    dates = pd.to_datetime(text.str.slice(0, 10).where(text.str.match(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}")),
                           format="%Y-%m-%d", errors="coerce")
    shifted = dates + pd.to_timedelta(_as_num(days) if isinstance(days, pd.Series) else float(days), unit="D")
    return shifted.dt.strftime("%Y-%m-%d").fillna("")


def _per_text(fn):
    """A text function of one column (the other arguments constants) run on the column's distinct texts and
    taken back per row when the column is long: pandas' ``.str`` methods loop in Python per row, and a
    findings column repeats its values (``startswith(LBSTRESC, '<')`` on a million results)."""
    def run(s, *args):
        text = _text(s)
        if isinstance(text, pd.Series) and len(text) >= DISTINCT_ROWS_MIN and \
                not any(isinstance(a, pd.Series) for a in args):
            return on_distinct(text, lambda u: fn(u, *args))
        return fn(text, *args)
    return run


FUNCTIONS = {
    "num": _as_num,
    "blank": _blank,
    "present": lambda s: ~_blank(s),
    "upper": lambda s: _per_text(lambda t: t.str.upper())(s) if isinstance(s, pd.Series) else str(s).upper(),
    "lower": lambda s: _per_text(lambda t: t.str.lower())(s) if isinstance(s, pd.Series) else str(s).lower(),
    "strip": lambda s: _per_text(lambda t: t.str.strip())(s) if isinstance(s, pd.Series) else str(s).strip(),
    "length": _per_text(lambda t: t.str.len()),
    "contains": _per_text(lambda t, sub: t.str.contains(sub, regex=False)),
    "icontains": _per_text(lambda t, sub: t.str.lower().str.contains(str(sub).lower(), regex=False)),
    "startswith": _per_text(lambda t, sub: t.str.startswith(sub)),
    "endswith": _per_text(lambda t, sub: t.str.endswith(sub)),
    "substr": _per_text(lambda t, start, length=None: t.str.slice(int(start) - 1, None if length is None else int(start) - 1 + int(length))),
    "coalesce": _coalesce,
    "matches": _per_text(lambda t, pattern: t.str.fullmatch(pattern).fillna(False)),
    "latest": lambda *s: _extreme(s, "max"),
    "iso_hours": _iso_hours,
    "add_days": _add_days,
    "earliest": lambda *s: _extreme(s, "min"),
}

_COMPARE = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge,
}
_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


_BACKTICK = re.compile(r"`([^`]+)`")
_ALIAS = "_tf_q{}_"
HINT = ("write comparisons with == != < <= > >=, combine with and/or/not, quote a column name holding dots or "
        "spaces in backticks (`IT.AETERM`), and call only: " + ", ".join(sorted(FUNCTIONS)))


@dataclass(frozen=True)
class Parsed:
    """A checked expression tree plus the column names that backticks stood for."""

    tree: ast.Expression
    aliases: dict


@lru_cache(maxsize=512)
def parse(text: str) -> Parsed:
    """Parse and whitelist-check an expression once; raise SpecError naming the problem.

    A column whose name is not a Python identifier is quoted in backticks (`IT.AETERM`, `raw.`\
    is allowed before it); an unquoted dotted name (IT.AETERM) is read as the dotted column too.
    """
    aliases: dict[str, str] = {}

    def quote(m):
        alias = _ALIAS.format(len(aliases))
        aliases[alias] = m.group(1)
        return alias
    if str(text).count("`") % 2:
        raise SpecError(f"cannot parse expression: a backtick-quoted column name is not closed; {HINT}", value=text)
    source = _BACKTICK.sub(quote, str(text).strip())
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        raise SpecError(f"cannot parse expression: {exc.msg}; {HINT}", value=text) from None
    for node in ast.walk(tree):
        allowed = (ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub,
                   ast.Compare, ast.Name, ast.Load, ast.Constant, ast.Call, ast.List, ast.Tuple,
                   ast.BinOp, ast.In, ast.NotIn, ast.Attribute, *(_COMPARE), *(_BINARY))
        if not isinstance(node, allowed):
            raise SpecError(f"expression uses unsupported syntax {type(node).__name__}; {HINT}", value=text)
        if isinstance(node, ast.Attribute) and _dotted(node, aliases) is None:
            raise SpecError(f"only column names (raw.X, IT.AETERM) may be dotted; {HINT}", value=text)
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
                name = getattr(node.func, "id", "?")
                raise SpecError(f"unknown function {name}() in expression; known: {', '.join(sorted(FUNCTIONS))}",
                                value=text)
    return Parsed(tree, aliases)


def _dotted(node, aliases) -> str | None:
    """'IT.AETERM' for the attribute chain IT.AETERM (None if the chain holds anything but names)."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(aliases.get(node.attr, node.attr))
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(aliases.get(node.id, node.id))
    return ".".join(reversed(parts))


def _column_refs(parsed: Parsed) -> list[tuple[str, bool]]:
    """(column name, is raw.X) for every column reference, outermost attribute chains only."""
    inner = set()
    for n in ast.walk(parsed.tree):
        if isinstance(n, ast.Attribute):
            inner.add(id(n.value))
    called = {id(n.func) for n in ast.walk(parsed.tree) if isinstance(n, ast.Call)}
    refs = []
    for n in ast.walk(parsed.tree):
        if id(n) in inner or id(n) in called:
            continue
        if isinstance(n, ast.Attribute):
            name = _dotted(n, parsed.aliases)
            refs.append((name[4:], True) if name.startswith("raw.") else (name, False))
        elif isinstance(n, ast.Name):
            refs.append((parsed.aliases.get(n.id, n.id), False))
    return refs


@lru_cache(maxsize=1024)
def _refs_of(text: str) -> tuple[tuple[str, bool], ...]:
    """``_column_refs`` once per expression text: the build orders variables by the names each rule reads,
    asking again for every rule on every pass (an AST walk each time)."""
    return tuple(_column_refs(parse(text)))


def column_refs(text: str) -> list[tuple[str, bool]]:
    """(column name, is raw.X) for every column an expression reads."""
    return list(_refs_of(text))


def names(text: str) -> set[str]:
    """Column names an expression reads (used for dependency ordering); raw.X references are not variables."""
    return {name for name, raw in _refs_of(text) if not raw}


def evaluate(text: str, frame: pd.DataFrame):
    """Evaluate an expression over a frame; returns a Series aligned to the frame (or a scalar)."""
    parsed = parse(text)
    return _Evaluator(frame, text, parsed.aliases).visit(parsed.tree.body)


def evaluate_mask(text: str, frame: pd.DataFrame) -> pd.Series:
    """Evaluate a condition to a boolean mask (missing → False)."""
    result = evaluate(text, frame)
    if not isinstance(result, pd.Series):
        return pd.Series(bool(result), index=frame.index)
    return result.fillna(False).astype(bool)


class _Evaluator:
    def __init__(self, frame: pd.DataFrame, text: str, aliases: dict):
        self.frame = frame
        self.text = text
        self.aliases = aliases

    def visit(self, node):
        method = getattr(self, "visit_" + type(node).__name__)
        return method(node)

    def visit_Attribute(self, node):
        """``raw.X``: the raw column X even when a variable of the same name has been assigned;
        any other dotted chain (``IT.AETERM``) is one column whose name holds dots."""
        name = _dotted(node, self.aliases)
        if name.startswith("raw."):
            if name in self.frame.columns:
                return self.frame[name]
            if name[4:] in self.frame.columns:
                return self.frame[name[4:]]
            raise SpecError(f"expression names raw column {name[4:]} which is not in the raw data",
                            column=name[4:], value=self.text)
        return self._column(name)

    def visit_Name(self, node):
        return self._column(self.aliases.get(node.id, node.id))

    def _column(self, name):
        if name not in self.frame.columns:
            from ..specs.yamlio import did_you_mean
            hint = did_you_mean(name, [c for c in self.frame.columns if not str(c).startswith("_")])
            raise SpecError(f"expression names column {name} which is not available here{hint}",
                            column=name, value=self.text)
        return self.frame[name]

    def visit_Constant(self, node):
        return node.value

    def visit_List(self, node):
        return [self.visit(e) for e in node.elts]

    visit_Tuple = visit_List

    def visit_BoolOp(self, node):
        values = [self._mask(self.visit(v)) for v in node.values]
        out = values[0]
        for v in values[1:]:
            out = (out & v) if isinstance(node.op, ast.And) else (out | v)
        return out

    def visit_UnaryOp(self, node):
        value = self.visit(node.operand)
        if isinstance(node.op, ast.Not):
            return ~self._mask(value)
        return -_as_num(value)

    def visit_BinOp(self, node):
        left, right = self.visit(node.left), self.visit(node.right)
        if isinstance(node.op, ast.Add) and (isinstance(left, str) or isinstance(right, str)):
            return _text(left) + _text(right)
        return _BINARY[type(node.op)](_as_num(left), _as_num(right))

    def visit_Compare(self, node):
        left = self.visit(node.left)
        result = None
        for op, comparator in zip(node.ops, node.comparators):
            right = self.visit(comparator)
            if isinstance(op, (ast.In, ast.NotIn)):
                values = right if isinstance(right, list) else [right]
                part = _text(left).isin([str(v) for v in values]) if isinstance(left, pd.Series) else left in values
                if isinstance(op, ast.NotIn):
                    part = ~part
            else:
                l, r = self._align_types(left, right)
                part = _COMPARE[type(op)](l, r)
                if isinstance(part, pd.Series) and part.dtype != bool:
                    part = part.fillna(False).astype(bool)
            result = part if result is None else (result & part)
            left = right
        return result

    def visit_Call(self, node):
        args = [self.visit(a) for a in node.args]
        return FUNCTIONS[node.func.id](*args)

    def _mask(self, value):
        if isinstance(value, pd.Series):
            if value.dtype == bool:
                return value
            return value.fillna(False).astype(bool)
        return pd.Series(bool(value), index=self.frame.index)

    @staticmethod
    def _align_types(left, right):
        """Compare numbers with numbers and text with text, whatever the raw column dtype.

        A number literal or a numeric column on either side makes the comparison numeric.
        """
        def numeric(x):
            return (isinstance(x, (int, float)) and not isinstance(x, bool)) or \
                (isinstance(x, pd.Series) and pd.api.types.is_numeric_dtype(x) and x.dtype != bool)
        if numeric(left) or numeric(right):
            return _as_num(left), _as_num(right)
        return (_text(left) if isinstance(left, pd.Series) else left,
                _text(right) if isinstance(right, pd.Series) else right)
