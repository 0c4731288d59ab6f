"""Reading the SDTM side: normalised frames by domain name, SUPP-- merged onto their parent.

Inputs may come from any tool: names are upper-cased, text stripped ("" = missing), numbers float.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from trialforge.errors import DatasetReadError
from trialforge.specs.metadata import Dataset

from .._join import join
from .._frame import char, fresh, normalize_sdtm, _num_text


class SdtmSource:
    """The SDTM datasets a recipe reads, normalised once."""

    def __init__(self, sdtm: Mapping[str, Dataset | pd.DataFrame]):
        # normalised on first use: a study's SDTM holds domains no ADaM recipe reads (TS, TI, SV...)
        self._raw: dict[str, pd.DataFrame] = {str(name).upper(): ds.frame if isinstance(ds, Dataset) else ds
                                              for name, ds in sdtm.items()}
        self._frames: dict[str, pd.DataFrame] = {}
        self._with_supp: dict[str, pd.DataFrame] = {}
        self._shared: dict = {}

    def shared(self, build, *inputs) -> pd.DataFrame:
        """``build(*inputs)`` once per run for the same input objects (the OVR records ADRS and ADTTE both
        read); each caller gets a shallow copy-on-write copy of a frame, so columns it adds stay its own (any
        other result is handed out as is: its callers must not change it)."""
        for got, result in self._shared.get(build, ()):
            if len(got) == len(inputs) and all(a is b for a, b in zip(got, inputs)):
                return result.copy(deep=False) if isinstance(result, pd.DataFrame) else result
        result = build(*inputs)
        self._shared.setdefault(build, []).append((inputs, result))
        return result.copy(deep=False) if isinstance(result, pd.DataFrame) else result

    def has(self, name: str) -> bool:
        return name.upper() in self._raw

    def _normalised(self, name: str) -> pd.DataFrame:
        if name not in self._frames:
            norm = normalize_sdtm(self._raw[name])
            norm.attrs["name"] = name               # named in errors (e.g. a date variable missing)
            self._frames[name] = norm
        return self._frames[name]

    def get(self, name: str, *, required: bool = True) -> pd.DataFrame:
        """The domain frame; a missing required domain is an error naming it."""
        name = name.upper()
        if name not in self._raw:
            if required:
                raise DatasetReadError("SDTM domain needed for ADaM is missing", file=name)
            return pd.DataFrame()
        return self._normalised(name)

    def with_supp(self, name: str) -> pd.DataFrame:
        """The domain with its SUPP-- qualifiers as extra columns (one per QNAM)."""
        name = name.upper()
        if name not in self._with_supp:
            parent = self.get(name)
            supp = self.get(f"SUPP{name}", required=False)
            merged = merge_supp(parent, supp, name) if len(supp) else parent
            merged.attrs["name"] = name
            self._with_supp[name] = merged
        return self._with_supp[name]


def merge_supp(parent: pd.DataFrame, supp: pd.DataFrame, domain: str) -> pd.DataFrame:
    """Join SUPP-- records to their parent rows by USUBJID + IDVAR/IDVARVAL (blank IDVAR = subject level).

    >>> ae = pd.DataFrame({"USUBJID": ["1", "1"], "AESEQ": [1.0, 2.0]})
    >>> supp = pd.DataFrame({"USUBJID": ["1"], "IDVAR": ["AESEQ"], "IDVARVAL": ["2"], "QNAM": ["AEDLT"], "QVAL": ["Y"]})
    >>> merge_supp(ae, supp, "AE")["AEDLT"].tolist()
    ['', 'Y']
    """
    out = fresh(parent)
    supp = fresh(supp)
    for col in ("USUBJID", "IDVAR", "IDVARVAL", "QNAM", "QVAL"):
        if col not in supp.columns:
            raise DatasetReadError(f"SUPP{domain} lacks a required variable", file=f"SUPP{domain}", column=col)
        supp[col] = char(supp[col])
    supp["IDVARVAL"] = _canonical_text(supp["IDVARVAL"])
    for idvar, grp in supp.groupby("IDVAR", sort=True):
        if grp.duplicated(["USUBJID", "IDVARVAL", "QNAM"]).any():
            raise DatasetReadError("SUPP-- has the same QNAM twice for one parent record",
                                   file=f"SUPP{domain}", column="QNAM", value=grp["QNAM"].iloc[0])
        wide = grp.pivot(index=["USUBJID", "IDVARVAL"], columns="QNAM", values="QVAL").reset_index()
        wide.columns.name = None
        if idvar == "":
            wide = wide.drop(columns="IDVARVAL")
            on = ["USUBJID"]
        else:
            if idvar not in out.columns:
                raise DatasetReadError(f"SUPP{domain} IDVAR names a variable the parent lacks",
                                       file=f"SUPP{domain}", column="IDVAR", value=idvar)
            out["_IDV"] = _canonical_text(char(out[idvar]))
            wide = wide.rename(columns={"IDVARVAL": "_IDV"})
            on = ["USUBJID", "_IDV"]
        new_cols = [c for c in wide.columns if c not in on]
        out = out.drop(columns=[c for c in new_cols if c in out.columns])
        out = join(out, wide, on, "left", validate="many_to_one")
        out = out.drop(columns=[c for c in ("_IDV",) if c in out.columns])
        for c in new_cols:
            out[c] = char(out[c])
    return out


def _canonical_text(text: pd.Series) -> pd.Series:
    """``_canonical`` of each value of a ``char`` column, worked out once per distinct value."""
    codes, uniques = pd.factorize(text.to_numpy(dtype=object))
    table = np.array([_canonical(v) for v in uniques.tolist()], dtype=object)
    return pd.Series(table[codes] if len(codes) else np.array([], dtype=object), index=text.index, dtype=object)


def _canonical(value: str) -> str:
    try:
        return _num_text(float(value))
    except (TypeError, ValueError):
        return value
