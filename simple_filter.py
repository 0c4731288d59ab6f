"""Spec filters of the common simple forms, evaluated with the same pandas operations ``DataFrame.eval`` uses.

Why: ``DataFrame.eval``/``query`` (engine="python") cost milliseconds of parsing and resolver set-up per call,
and an ADaM build (populations, merged_vars, category flags, sources) and a tables build each evaluate about a
hundred filters. The spec's
filters are comparisons of a variable (or a difference of two) with literals, lists or another variable, a
boolean column, joined by and/or/not. Those are evaluated here with the very Series operations pandas applies
for them (``==``, ``<``, ..., ``isin`` for ``in``, ``&``, ``|``, ``~``), so the rows are the same; any other
form, or any error, returns None and the caller falls back to ``eval``/``query`` (which also words the error).
Shared by ``adam/_frame.py`` and ``tables/engine.py``; it depends on pandas only, so neither layer imports the other.
"""
from __future__ import annotations

import ast
import operator
from functools import lru_cache

import numpy as np
import pandas as pd

_COMPARE = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
            ast.Gt: operator.gt, ast.GtE: operator.ge}
_ARITH = {ast.Sub: operator.sub, ast.Add: operator.add}


class _Unsupported(Exception):
    pass


@lru_cache(maxsize=512)
def _parse(where: str):
    return ast.parse(where.strip(), mode="eval").body


def simple_mask(frame: pd.DataFrame, where: str) -> np.ndarray | None:
    """Boolean array of the rows of ``frame`` meeting ``where``, or None when the filter is not of a simple
    form (or names a variable the frame lacks: ``eval`` reports that)."""
    if "`" in where or "@" in where:
        return None
    try:
        with np.errstate(invalid="ignore"):
            got = _eval(_parse(where), frame)
    except Exception:  # noqa: BLE001 - anything unusual is left to pandas
        return None
    if not isinstance(got, pd.Series) or got.dtype != np.bool_ or len(got) != len(frame):
        return None
    return got.to_numpy()


def _eval(node, frame: pd.DataFrame):
    if isinstance(node, ast.BoolOp):
        op = operator.and_ if isinstance(node.op, ast.And) else operator.or_
        values = [_series(_eval(v, frame)) for v in node.values]
        out = values[0]
        for v in values[1:]:
            out = op(out, v)
        return out
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return ~_series(_eval(node.operand, frame))
    if isinstance(node, ast.Name):          # a boolean column, e.g. a flag a derivation computed
        if node.id not in frame.columns:
            raise _Unsupported
        return _series(frame[node.id])
    if isinstance(node, ast.Compare):
        if len(node.ops) != 1:
            raise _Unsupported
        left, right, op = _operand(node.left, frame), node.comparators[0], type(node.ops[0])
        if op in (ast.In, ast.NotIn):
            if not isinstance(left, pd.Series) or not isinstance(right, ast.List):
                raise _Unsupported
            hit = left.isin([_constant(e) for e in right.elts])
            return ~hit if op is ast.NotIn else hit
        if op not in _COMPARE:
            raise _Unsupported
        right = _operand(right, frame)
        if not isinstance(left, pd.Series) and not isinstance(right, pd.Series):
            raise _Unsupported
        if op not in (ast.Eq, ast.NotEq) and any(isinstance(x, pd.Series) and x.dtype == object
                                                 for x in (left, right)):
            raise _Unsupported             # ordering of object values: left to pandas
        return _COMPARE[op](left, right)
    raise _Unsupported


def _operand(node, frame: pd.DataFrame):
    """A column (Series), a difference/sum of columns and numbers, or a literal."""
    if isinstance(node, ast.Name):
        if node.id not in frame.columns:
            raise _Unsupported
        col = frame[node.id]
        if not isinstance(col, pd.Series):      # a duplicated column name: left to pandas
            raise _Unsupported
        return col
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITH:
        left, right = _operand(node.left, frame), _operand(node.right, frame)
        if not all(isinstance(x, pd.Series) and pd.api.types.is_numeric_dtype(x) and not pd.api.types.is_bool_dtype(x)
                   or isinstance(x, (int, float)) and not isinstance(x, bool) for x in (left, right)):
            raise _Unsupported
        return _ARITH[type(node.op)](left, right)
    return _constant(node)


def _constant(node):
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, int, float)) \
            and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant) \
            and isinstance(node.operand.value, (int, float)) and not isinstance(node.operand.value, bool):
        return -node.operand.value
    raise _Unsupported


def _series(x):
    if not isinstance(x, pd.Series) or x.dtype != np.bool_:
        raise _Unsupported
    return x
