"""Many-to-one joins by row position: the result of ``left.merge(right, on=keys, how="left"|"inner")``.

Why: ``DataFrame.merge`` costs about a millisecond of set-up per call (index objects, block managers, key
validation) and an ADaM build makes over a hundred of them, mostly to bring a few subject-level columns onto
a dataset. Here the keys are factorised together once, each left row finds its right row (or -1), and every
right column is taken with pandas' own ``take`` (which fills and promotes dtypes the way the merge does:
int to float, bool to object, only where a row is unmatched). Anything outside the plain case (overlapping
non-key names, duplicate right keys, missing key values, differing key dtypes) goes to ``merge`` itself.
"""
from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np
import pandas as pd
from pandas.api.extensions import take

from ..sdtm.uniques import factorize
from ._frame import one_object


def _codes(left: pd.DataFrame, right: pd.DataFrame, on: list[str]) -> tuple[np.ndarray, np.ndarray] | None:
    """Integer keys of the left and right rows (equal ints = equal key tuples), or None when unusual."""
    n = len(left)
    lcode = np.zeros(n, dtype=np.int64)
    rcode = np.zeros(len(right), dtype=np.int64)
    for col in on:
        a, b = left[col], right[col]
        if not isinstance(a, pd.Series) or not isinstance(b, pd.Series) or a.dtype != b.dtype:
            return None
        a, b = a.to_numpy(), b.to_numpy()
        if _one_value(a, b):
            continue                        # one value on both sides (STUDYID): the column changes no code
        codes, uniques = factorize(np.concatenate([a, b]), use_na_sentinel=True)
        if len(codes) and codes.min() < 0:
            return None                     # merge matches missing keys to missing keys: leave it to merge
        k = max(len(uniques), 1)
        lcode = lcode * k + codes[:n]
        rcode = rcode * k + codes[n:]
    return lcode, rcode


def _one_value(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether both key arrays hold one and the same non-missing text (a study identifier): checked by
    comparison, cheaper than factorising the column. Anything else (numbers, missing values) says False."""
    if not len(a) or not len(b) or a.dtype != object or type(b[0]) is not str:
        return False
    first = b[0]
    if type(a[0]) is str and a[0] == first and one_object(a) and one_object(b):
        return True                         # each side one str object (a normalised column): no value compared
    return bool((b == first).all() and (a == first).all())


def _positions(lcode: np.ndarray, rcode: np.ndarray) -> np.ndarray | None:
    """The right row of each left row (-1: none), None when a right key repeats. Codes are small non-negative
    ints (products of distinct-value counts), so a look-up table replaces a hash index; very sparse codes
    (many key columns) use the index."""
    if not len(rcode):
        return np.full(len(lcode), -1, dtype=np.intp)
    top = int(max(lcode.max() if len(lcode) else 0, rcode.max())) + 1
    if top > 4 * (len(lcode) + len(rcode)) + 1024:
        if len(np.unique(rcode)) != len(rcode):
            return None
        return pd.Index(rcode).get_indexer(lcode)
    if np.bincount(rcode, minlength=top).max() > 1:
        return None
    table = np.full(top, -1, dtype=np.intp)
    table[rcode] = np.arange(len(rcode), dtype=np.intp)
    return table[lcode]


def _infers_str() -> bool:
    """Whether a frame built from object text would turn it into Arrow text (pandas 3 outside
    ``objstrings.object_strings``)."""
    try:
        with warnings.catch_warnings():     # the option is deprecated (read here, never set)
            warnings.simplefilter("ignore")
            return bool(pd.get_option("future.infer_string"))
    except (KeyError, pd.errors.OptionError):
        return False


def join(left: pd.DataFrame, right: pd.DataFrame, on: Sequence[str], how: str = "left",
         validate: str | None = None) -> pd.DataFrame:
    """``left.merge(right, on=on, how=how, validate=validate)`` for a right side unique per ``on`` (else
    merge itself, which also raises for a broken ``validate``)."""
    on = list(on)
    extra = [c for c in right.columns if c not in on]
    plain = (validate in (None, "many_to_one", "m:1") and how in ("left", "inner") and left.columns.is_unique
             and right.columns.is_unique and not (set(extra) & set(left.columns)) and all(c in left.columns and c in right.columns for c in on)
             and len(on) > 0)
    keys = _codes(left, right, on) if plain else None
    if keys is None:
        return left.merge(right, on=on, how=how, validate=validate)
    lcode, rcode = keys
    pos = _positions(lcode, rcode)
    if pos is None:
        return left.merge(right, on=on, how=how, validate=validate)    # one-to-many: merge multiplies rows
    if how == "inner":
        keep = pos >= 0
        if not keep.all():
            left = left.iloc[np.flatnonzero(keep)]
            pos = pos[keep]
    base = left.reset_index(drop=True)                  # left's blocks as they are (copy-on-write)
    if not extra:
        out = base
    else:
        # position -1 is no row: missing there, dtypes promoted (int -> float, bool -> object) only where that
        # happens, as in merge. A few columns: taken one by one; more: all blocks in one reindex (cheaper)
        if len(extra) <= 4:
            taken = {c: take(right[c]._values, pos, allow_fill=True) for c in extra}
            if _infers_str():               # Series with their own dtype: no str inference from object text
                taken = {c: pd.Series(v, index=base.index, dtype=v.dtype, copy=False) for c, v in taken.items()}
            part = pd.DataFrame(taken, index=base.index, copy=False)
        else:
            part = right[extra].reset_index(drop=True).reindex(pos).set_axis(base.index)
        out = pd.concat([base, part], axis=1)
    if left.attrs and right.attrs and left.attrs == right.attrs:
        out.attrs = dict(left.attrs)
    else:
        out.attrs = {}
    return out
