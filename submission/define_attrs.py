"""Item attributes that define.xml takes from the data: DataType, Length, SignificantDigits.

Define-XML 2.1 asks for what the data *is*, not what a spec hoped for: a text variable's Length is
the longest value in bytes, an ISO 8601 --DTC variable is "datetime" when any value carries a
time part and "date" otherwise, a numeric variable is "integer" when every value is whole and
"float" otherwise (with SignificantDigits = most decimals used). Numeric SAS dates are integers
with a def:DisplayFormat (DATE9., DATETIME20.). Metadata wins where it is explicit: a fixed
`VariableMeta.length` or `significant_digits` is kept as declared.

Every attribute is a function of the *set* of values (longest, any, all, most decimals), so each
is computed on a column's distinct values: a few hundred values, not every row. The rules work on
the readings of those values (`define_columns.Distinct`: present texts, numbers), which the define
writer takes from one factorisation per column (`attrs_of`, `slice_attrs_of`); `item_attrs` and
`value_attrs` answer the same for a Series.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from itertools import repeat

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from trialforge.specs.metadata import VariableMeta

from .arrow_text import arrow_strings, longest_utf8

TEXT, INTEGER, FLOAT, DATE, DATETIME, DURATION = (
    "text", "integer", "float", "date", "datetime", "durationDatetime")
NUMERIC_TYPES = (INTEGER, FLOAT)
ISO8601_TYPES = (DATE, DATETIME, "time", "partialDate", "partialTime", "partialDatetime",
                 "incompleteDatetime", DURATION, "intervalDatetime")

# Character variables holding ISO 8601 values, recognised by name suffix (SDTMIG naming).
_ISO_SUFFIXES = (("DTC", "iso_datetime"), ("DUR", DURATION), ("ELTM", DURATION))


@dataclass(frozen=True)
class ItemAttrs:
    """The data-derived part of one ItemDef."""

    data_type: str
    length: int | None = None
    significant_digits: int | None = None
    display_format: str | None = None
    data_derived_length: bool = True


def distinct(values: pd.Series) -> pd.Series:
    """The distinct values of a text or numeric column (same dtype); other columns as given.

    Object columns are left whole: their 1 and 1.0 hash alike but read differently as text.
    """
    dtype = values.dtype
    if isinstance(dtype, pd.StringDtype) or (isinstance(dtype, np.dtype) and dtype.kind in "fiu"):
        return pd.Series(values.unique(), dtype=dtype)
    return values


def present_text(values: pd.Series) -> pd.Series:
    """Non-missing character values as str (None, NaN and "" are missing, as in XPT)."""
    arr = arrow_strings(values)
    if arr is not None:                 # Arrow text: one kernel, the same rows and labels
        keep = pc.fill_null(pc.not_equal(arr, ""), False).to_numpy(zero_copy_only=False)
        return values if keep.all() else values[keep]
    s = values[values.notna()].astype(str)
    return s[s != ""]


def present_numbers(values: pd.Series) -> pd.Series:
    """Non-missing numeric values as float."""
    return pd.to_numeric(values, errors="coerce").dropna().astype(float)


def text_length(values: pd.Series) -> int:
    """Longest value in UTF-8 bytes (XPT and define Length count bytes); 1 for an empty column."""
    longest = longest_utf8(values)          # Arrow text: one kernel over the column
    if longest is not None:
        return longest or 1
    s = present_text(values)
    if s.empty:
        return 1
    return int(s.str.encode("utf-8").str.len().max())


def _decimal_shape(value: float) -> tuple[int, int]:
    """(digits before the point, digits after) of a float's shortest 15-significant-digit form."""
    text = format(value, ".15g")            # '%g' drops trailing zeros: the normalised form
    if "e" not in text and "n" not in text:
        whole, _, frac = text.lstrip("-").partition(".")
        return len(whole), len(frac)
    d = Decimal(text).normalize()
    decimals = max(0, -d.as_tuple().exponent)
    return len(str(int(abs(d)))), decimals


def numeric_shape(values: pd.Series) -> tuple[bool, int, int]:
    """(all whole, max digits incl. decimals, max decimals) of a numeric column."""
    return numeric_shape_of(present_numbers(values).to_numpy(dtype=float))


def numeric_shape_of(nums: np.ndarray) -> tuple[bool, int, int]:
    """``numeric_shape`` of non-missing float values (any order, repeats allowed)."""
    if len(nums) == 0:
        return True, 1, 0
    whole = bool((nums == np.round(nums)).all())
    if whole:       # digits of int(|v|) never fall as |v| grows: the largest has the most
        return True, len(str(int(np.abs(nums).max()))), 0
    distinct = np.unique(nums)                           # distinct values only
    if len(distinct) > _READ_ALL and np.isfinite(distinct).all():
        integer_digits, decimals = _bounded_shape(distinct)
    else:
        integer_digits, decimals = _text_shape(distinct.tolist())
    return False, integer_digits + decimals, decimals


#: Up to this many distinct values are all read as text; more are read in the order of their bounds.
_READ_ALL = 256


def _text_shape(values: list) -> tuple[int, int]:
    """(most digits before the point, most after) of floats' ``_decimal_shape``, read from their text."""
    joined = "\n".join(map(format, values, repeat(".15g")))   # as _decimal_shape reads them
    if "e" in joined or "n" in joined:                  # an exponent form: read value by value
        shapes = [_decimal_shape(v) for v in values]
        return max(i for i, _ in shapes), max(d for _, d in shapes)
    return (max(map(len, _WHOLE.findall(joined))),      # "-12.345" lines: digits around the point
            max(map(len, _FRACTION.findall(joined)), default=0))


def _bounded_shape(values: np.ndarray) -> tuple[int, int]:
    """``_text_shape`` of many distinct finite floats, reading few of them as text (ADLB's PCHG has 43,000
    distinct values at 1,000 subjects: 0.09 s of formatting, most of a define's numeric attributes).

    Digits before the point never fall as |v| grows, so the largest values hold the most. Decimals are at
    most 14 - floor(log10 |v|) (15 significant digits, after rounding, which only raises the exponent;
    0 for 0), so the values are read in the order of that bound, one more for a log10 rounded up, and the
    reading stops when the most decimals found reach the bound of every value left."""
    size = np.abs(values)
    largest = values[np.argsort(size, kind="stable")[-16:]]
    digits = _text_shape(largest.tolist())[0]
    with np.errstate(divide="ignore"):
        bound = np.where(size == 0, 0, 15 - np.floor(np.log10(np.where(size == 0, 1.0, size))))
    order = np.argsort(-bound, kind="stable")
    decimals = 0
    for start in range(0, len(order), _READ_ALL):
        part = order[start:start + _READ_ALL]
        if bound[part[0]] <= decimals:
            break
        decimals = max(decimals, _text_shape(values[part].tolist())[1])
    return digits, decimals


_FRACTION = re.compile(r"\.(\d*)")
_WHOLE = re.compile(r"^-?(\d*)", re.MULTILINE)


def is_numeric_date_format(fmt: str | None) -> bool:
    """SAS date/time/datetime display formats mark numeric dates (ADaM *DT, *DTM, *TM)."""
    if not fmt:
        return False
    head = fmt.upper().rstrip("0123456789.")
    return head in {"DATE", "DATETIME", "TIME", "E8601DA", "E8601DT", "E8601TM", "YYMMDD",
                    "IS8601DA", "IS8601DT", "IS8601TM", "TOD", "DDMMYY", "MMDDYY"}


def iso_kind(name: str) -> str | None:
    """'iso_datetime' / 'durationDatetime' for ISO 8601 character variables, else None."""
    for suffix, kind in _ISO_SUFFIXES:
        if name.upper().endswith(suffix):
            return kind
    return None


def iso_datetime_type(values: pd.Series) -> str:
    """"datetime" when any value has a time part ("T"), else "date"; no data -> "datetime"."""
    s = present_text(values)
    if s.empty or s.str.contains("T", regex=False).any():
        return DATETIME
    return DATE


def _distinct_of(values: pd.Series):
    from .define_columns import Column
    return Column(values).whole()


def item_attrs(var: VariableMeta, values: pd.Series) -> ItemAttrs:
    """DataType, Length, SignificantDigits and DisplayFormat of one variable from its data."""
    return attrs_of(var, _distinct_of(values))


def attrs_of(var: VariableMeta, values) -> ItemAttrs:
    """``item_attrs`` of the readings of a set of values (define_columns.Distinct)."""
    if var.is_numeric:
        whole, digits, decimals = numeric_shape_of(values.numbers)
        if is_numeric_date_format(var.format):
            return ItemAttrs(INTEGER, var.length or digits, None, var.format, var.length is None)
        if var.significant_digits is not None or not whole:
            sig = var.significant_digits if var.significant_digits is not None else decimals
            return ItemAttrs(FLOAT, var.length or digits, sig, var.format, var.length is None)
        return ItemAttrs(INTEGER, var.length or digits, None, var.format, var.length is None)
    kind = iso_kind(var.name)
    if kind == "iso_datetime":
        return ItemAttrs(DATETIME if values.timed else DATE, None, None, None, False)
    if kind == DURATION:
        return ItemAttrs(DURATION, None, None, None, False)
    return ItemAttrs(TEXT, var.length or values.longest or 1, None, None, var.length is None)


def value_attrs(values: pd.Series, parent: VariableMeta) -> ItemAttrs:
    """Attributes of one value-level slice (e.g. LBORRES where LBTESTCD = 'ALT').

    A character result whose every value reads as a number is typed integer/float (its Length
    stays the byte length the XPT column needs); otherwise the parent's rule applies.
    """
    return slice_attrs_of(_distinct_of(values), parent)


_NOT_WHOLE = re.compile(r"[.eE]")
_DECIMALS = re.compile(r"\.(\d*)$")


def slice_attrs_of(values, parent: VariableMeta) -> ItemAttrs:
    """``value_attrs`` of the readings of a slice's values (define_columns.Distinct)."""
    if parent.is_numeric:
        return attrs_of(parent, values)
    texts = values.texts
    if texts and all(values.text_numeric):
        length = values.longest or 1
        if not any(_NOT_WHOLE.search(t) for t in texts):
            return ItemAttrs(INTEGER, length, None, None, True)
        decimals = max(len(m.group(1)) if (m := _DECIMALS.search(t)) else 0 for t in texts)
        return ItemAttrs(FLOAT, length, decimals, None, True)
    return attrs_of(parent, values)
