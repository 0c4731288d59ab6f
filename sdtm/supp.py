"""SUPP-- datasets, declared next to the parent domain's variables in its spec.

Values are computed with the raw record in hand (phase 1) and kept as hidden columns; once the
parent's --SEQ exists, each non-blank value becomes one SUPP record keyed by IDVAR/IDVARVAL
(DM: no IDVAR, one record per subject), sorted by USUBJID, IDVARVAL and QNAM.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import SpecError
from ..specs.metadata import Dataset, replace_var_meta
from .uniques import factorize, stable_order
from .working import text_to_boundary

SUPP_PREFIX = "_SUPP_"
SUPP_ORIGINS = {
    "STUDYID": {"origin": "Predecessor", "origin_detail": "Parent domain STUDYID"},
    "USUBJID": {"origin": "Predecessor", "origin_detail": "Parent domain USUBJID"},
    "RDOMAIN": {"origin": "Assigned"},
    "IDVAR": {"origin": "Assigned"},
    "IDVARVAL": {"origin": "Derived", "method": "Value of the IDVAR variable (--SEQ) of the parent record",
                 "method_type": "Computation"},
    "QNAM": {"origin": "Assigned"},
    "QLABEL": {"origin": "Assigned"},
    "QORIG": {"origin": "Assigned"},
    "QEVAL": {"origin": "Assigned"},
}


def build_supp(spec, frame: pd.DataFrame, standard) -> Dataset | None:
    """The SUPP-- dataset of one domain, or None when every value is blank.

    Built from numpy object arrays and converted to the boundary text dtype once per column: a frame
    per QNAM, their concat and a pandas sort cost more than the records at the example's size.
    """
    meta = standard.dataset(f"SUPP{spec.domain}")
    seq_var = f"{spec.domain}SEQ"
    parts: dict[str, list] = {name: [] for name in _COLUMNS}
    for supp in spec.supp:
        if len(supp.qnam) > 8 or not supp.qnam.replace("_", "").isalnum() or supp.qnam[0].isdigit():
            raise SpecError("QNAM must be at most 8 letters/digits/underscores, not starting with a digit",
                            file=spec.file, column="qnam", value=supp.qnam)
        if len(supp.qlabel) > 40:
            raise SpecError("QLABEL must be at most 40 characters", file=spec.file, column="qlabel",
                            value=supp.qlabel)
        col = SUPP_PREFIX + supp.qnam
        if col not in frame:
            raise SpecError("SUPP value could not be computed in the mapping phase", file=spec.file,
                            column=supp.qnam)
        values = _texts(frame[col].fillna(""))
        codes, uniques = factorize(values, use_na_sentinel=False)      # mostly blank: decided per distinct text
        blank = (pd.Series(uniques, dtype=object).astype(str).str.strip() == "").to_numpy(dtype=bool)
        keep = ~blank[codes]
        if not keep.any():
            continue
        idvar = supp.idvar if supp.idvar is not None else ("" if spec.domain == "DM" else seq_var)
        if idvar and idvar not in frame:
            raise SpecError(f"IDVAR {idvar} is not a variable of {spec.domain}", file=spec.file, column=supp.qnam)
        n = int(keep.sum())
        if idvar:                               # --SEQ repeats per subject: written once per distinct value
            id_codes, id_uniques = factorize(frame[idvar].to_numpy()[keep], use_na_sentinel=False)
            idvarval = np.array([_idvarval(v) for v in id_uniques.tolist()] + [""], dtype=object)[id_codes]
        else:
            idvarval = np.full(n, "", dtype=object)
        for name, column in (("STUDYID", _texts(frame["STUDYID"])[keep]), ("RDOMAIN", spec.domain),
                             ("USUBJID", _texts(frame["USUBJID"])[keep]), ("IDVAR", idvar), ("IDVARVAL", idvarval),
                             ("QNAM", supp.qnam), ("QLABEL", supp.qlabel), ("QVAL", values[keep]),
                             ("QORIG", supp.qorig), ("QEVAL", supp.qeval or "")):
            if not isinstance(column, np.ndarray):
                scalar, column = column, np.empty(n, dtype=object)
                column[:] = [scalar] * n
            parts[name].append(column)
    if not parts["QNAM"]:
        return None
    data = {name: np.concatenate(arrays) for name, arrays in parts.items()}
    number = pd.to_numeric(data["IDVARVAL"], errors="coerce")
    keys = [data["USUBJID"], data["IDVAR"], number, data["IDVARVAL"], data["QNAM"]]
    keys = [pd.Series(k, dtype=k.dtype) for k in keys]
    order = stable_order(keys)
    if order is None:
        order = pd.DataFrame(dict(enumerate(keys))).sort_values(list(range(len(keys))), kind="stable").index.to_numpy()
    columns = [v.name for v in meta.variables]
    variables = tuple(replace_var_meta(v, **SUPP_ORIGINS.get(v.name, {})) for v in meta.variables if v.name in columns)
    meta = meta.with_variables(variables)
    meta = type(meta)(**{**meta.__dict__, "keys": ("STUDYID", "RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL", "QNAM")})
    out = pd.DataFrame({name: text_to_boundary(data[name].take(order)) for name in columns},
                       index=pd.RangeIndex(len(order)))
    return Dataset(meta, out)


_COLUMNS = ("STUDYID", "RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL", "QNAM", "QLABEL", "QVAL", "QORIG", "QEVAL")


def _texts(values: pd.Series) -> np.ndarray:
    """A column as the object array of str that ``astype(str)`` gives it (text columns as they are)."""
    arr = values.to_numpy()
    if values.dtype == object and pd.api.types.infer_dtype(arr, skipna=False) == "string":
        return arr
    return values.astype(str).to_numpy(dtype=object)


def _idvarval(value) -> str:
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    return str(value)
