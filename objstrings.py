"""One string representation inside the engines: Python str in object arrays.

pandas 3 stores text as Arrow strings and infers them whenever a Series is built from Python strings.
The SDTM engine and the ADaM derivations build thousands of small Series per study (one per rule,
modifier and distinct-value table) and mostly need Python strings (dict lookups, per-distinct-value
formatting), so every step paid an Arrow <-> object conversion both ways (profiles: ``ArrowStringArray.
_from_sequence`` and ``to_numpy`` were the largest single costs). Inside ``object_strings()`` inference
keeps object arrays, as pandas 2 did; the public boundary is unchanged: the engines convert their final
character columns to ``TEXT_DTYPE``, the dtype ``astype(str)`` gives outside the block.
"""
from __future__ import annotations

import contextlib
import warnings

import numpy as np
import pandas as pd

# what ``astype(str)`` gives by default: "str" (Arrow-backed where pyarrow is installed) on pandas 3, object on 2
TEXT_DTYPE = pd.StringDtype(na_value=np.nan) if int(pd.__version__.split(".")[0]) >= 3 else np.dtype(object)


@contextlib.contextmanager
def object_strings():
    """Build frames with object-dtype strings inside the block (no-op where pandas has no such option)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            context = pd.option_context("future.infer_string", False)
            context.__enter__()
    except (KeyError, AttributeError, pd.errors.OptionError):
        yield
        return
    try:
        yield
    finally:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            context.__exit__(None, None, None)
