"""SUPP-- datasets, declared next to the parent domain's variables in its spec.

Values are computed with the raw record in hand (phase 1) and kept as hidden columns; once the
parent's --SEQ exists, each non-blank value becomes one SUPP record keyed by IDVAR/IDVARVAL
(DM: no IDVAR, one record per subject), sorted by USUBJID, IDVARVAL and QNAM.
"""
from __future__ import annotations

import pandas as pd

from ..errors import SpecError
from ..specs.metadata import Dataset, replace_var_meta
from .uniques import on_distinct

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
    meta = standard.dataset(f"SUPP{spec.domain}")
    seq_var = f"{spec.domain}SEQ"
    records = []
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
        values = frame[col].fillna("").astype(str)
        keep = ~on_distinct(values, lambda u: u.str.strip() == "")        # mostly blank: decided per distinct text
        if not keep.any():
            continue
        part = frame.loc[keep]
        idvar = supp.idvar if supp.idvar is not None else ("" if spec.domain == "DM" else seq_var)
        if idvar and idvar not in frame:
            raise SpecError(f"IDVAR {idvar} is not a variable of {spec.domain}", file=spec.file, column=supp.qnam)
        idvarval = on_distinct(part[idvar], lambda u: u.map(_idvarval)) if idvar else ""   # --SEQ repeats per subject
        records.append(pd.DataFrame({
            "STUDYID": part["STUDYID"].astype(str), "RDOMAIN": spec.domain, "USUBJID": part["USUBJID"].astype(str),
            "IDVAR": idvar, "IDVARVAL": idvarval, "QNAM": supp.qnam, "QLABEL": supp.qlabel,
            "QVAL": values[keep], "QORIG": supp.qorig, "QEVAL": supp.qeval or "",
        }))
    if not records:
        return None
    data = pd.concat(records, ignore_index=True)
    data["_num"] = pd.to_numeric(data["IDVARVAL"], errors="coerce")
    data = data.sort_values(["USUBJID", "IDVAR", "_num", "IDVARVAL", "QNAM"], kind="stable").drop(columns="_num")
    columns = [v.name for v in meta.variables]
    variables = tuple(replace_var_meta(v, **SUPP_ORIGINS.get(v.name, {})) for v in meta.variables if v.name in columns)
    meta = meta.with_variables(variables)
    meta = type(meta)(**{**meta.__dict__, "keys": ("STUDYID", "RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL", "QNAM")})
    return Dataset(meta, data[columns].reset_index(drop=True))


def _idvarval(value) -> str:
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    return str(value)
