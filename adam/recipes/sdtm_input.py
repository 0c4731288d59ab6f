"""Reading the SDTM side: normalised frames by domain name, SUPP-- merged onto their parent.

Inputs may come from any tool: names are upper-cased, text stripped ("" = missing), numbers float.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from trialforge.errors import DatasetReadError
from trialforge.specs.metadata import Dataset

from .._join import _codes, _positions, join
from .._frame import char, fresh, normalize_column, sdtm_text, _num_text


class SdtmSource:
    """The SDTM datasets a recipe reads, normalised once, column by column as they are first read."""

    def __init__(self, sdtm: Mapping[str, Dataset | pd.DataFrame]):
        # normalised on first use: a study's SDTM holds domains no ADaM recipe reads (TS, TI, SV...), and the
        # domains it reads hold columns no recipe reads (LB's original results, EPOCH...)
        self._raw: dict[str, pd.DataFrame] = {str(name).upper(): ds.frame if isinstance(ds, Dataset) else ds
                                              for name, ds in sdtm.items()}
        self._names: dict[str, dict[str, object]] = {}          # domain -> upper-case name -> input column
        self._columns: dict[str, dict[str, pd.Series]] = {}     # domain -> normalised columns so far
        self._frames: dict[str, pd.DataFrame] = {}
        self._with_supp: dict[str, pd.DataFrame] = {}
        self._qualifier_cols: dict = {}         # domain -> its SUPP-- qualifier columns (``_qualifiers``)
        self._qnam_sets: dict = {}              # domain -> the variables a narrow read takes from the merge
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

    def columns(self, name: str) -> list[str]:
        """The domain's variables (upper case, in order) without normalising any."""
        return list(self._input_names(name.upper()))

    def _input_names(self, name: str) -> dict[str, object]:
        if name not in self._names:
            frame = self._raw[name]
            if not frame.index.equals(pd.RangeIndex(len(frame))):     # e.g. a filtered frame from another tool
                frame = self._raw[name] = frame.reset_index(drop=True)
            names: dict[str, object] = {}
            for col in frame.columns:           # as normalize_sdtm: a later column of the same name wins
                names[str(col).upper()] = col
            self._names[name] = names
            self._columns[name] = {}
        return self._names[name]

    def _frame(self, name: str, wanted) -> pd.DataFrame:
        """The normalised columns ``wanted`` (upper-case names the domain has) as one frame."""
        names, done, raw = self._input_names(name), self._columns[name], self._raw[name]
        for col in wanted:
            if col not in done:
                done[col] = normalize_column(raw[names[col]])
        frame = pd.DataFrame({col: done[col] for col in wanted}, index=pd.RangeIndex(len(raw)))
        frame.attrs["name"] = name                  # named in errors (e.g. a date variable missing)
        return frame

    def get(self, name: str, *, required: bool = True, columns=None) -> pd.DataFrame:
        """The domain frame; a missing required domain is an error naming it. ``columns``: only these of its
        variables (those it has, in its order), for a reader that names every variable it may touch (its
        filter's too); the rest are then not normalised unless another reader asks for them."""
        name = name.upper()
        if name not in self._raw:
            if required:
                raise DatasetReadError("SDTM domain needed for ADaM is missing", file=name)
            return pd.DataFrame()
        names = self._input_names(name)
        if columns is not None:
            wanted = set(columns)
            return self._frame(name, [c for c in names if c in wanted])
        if name not in self._frames:
            self._frames[name] = self._frame(name, list(names))
        return self._frames[name]

    def with_supp(self, name: str, *, columns=None) -> pd.DataFrame:
        """The domain with its SUPP-- qualifiers as extra columns (one per QNAM). ``columns``: only these of its
        variables and qualifiers (those it has), for a reader that names every variable it may touch (its
        filter's too): the parent's other variables are then not normalised (``get``), and the qualifier
        columns come from one merge per run onto the parent's keys alone (``_qualifiers``, which the whole
        domain's frame takes too), the same values and errors as a merge onto the whole parent."""
        name = name.upper()
        if columns is not None and name not in self._with_supp:
            wanted, qnams = set(columns), self._qnams(name)
            if qnams is not None and not wanted & qnams:    # no qualifier read: the merge adds nothing read here
                frame = self.get(name, columns=[c for c in self._input_names(name) if c in wanted])
                frame.attrs["name"] = name
                return frame
            qualifiers = self._qualifiers(name)
            if qualifiers is not None:
                frame = self.get(name, columns=[c for c in self._input_names(name) if c in wanted])
                if qualifiers is not False:
                    for col in qualifiers.columns:
                        if col in wanted:
                            frame[col] = qualifiers[col]
                frame.attrs["name"] = name
                return frame
        if name not in self._with_supp:
            parent = self.get(name)
            qualifiers = self._qualifiers(name)
            if qualifiers is None:          # a QNAM replaces a parent variable: the whole merge
                merged = merge_supp(parent, self._supp(name), name, normalised=True)
            elif qualifiers is False:
                merged = parent
            else:                           # the merge's columns: the parent's, then the qualifiers'
                merged = fresh(parent)
                for col in qualifiers.columns:
                    merged[col] = qualifiers[col]
            merged.attrs["name"] = name
            self._with_supp[name] = merged
        return self._with_supp[name]

    def _qnams(self, name: str) -> set | None:
        """The variables a narrow read of ``name`` must take from the SUPP-- merge: the QNAMs of SUPP``name``
        (text as the merge reads them; none without SUPP``name``). None, every read then going through the
        merge, when a QNAM is also a variable of the domain (the whole merge replaces it) or SUPP``name`` lacks
        a variable the merge reads (the merge's error). A reader of none of the QNAMs skips the merge: the
        qualifiers of MI, TU and EX, which no ADaM reader takes, are not merged (a SUPP-- record that would
        break the merge is then not refused here: the SDTM gate checks SUPP--)."""
        if name not in self._qnam_sets:
            supp_name = f"SUPP{name}"
            if supp_name not in self._raw:
                found = set()
            elif not set(_SUPP_VARS) <= set(self.columns(supp_name)):
                found = None
            else:
                found = set(char(self.get(supp_name, columns=["QNAM"])["QNAM"]).tolist())
                if found & set(self._input_names(name)):
                    found = None
            self._qnam_sets[name] = found
        return self._qnam_sets[name]

    def _supp(self, name: str) -> pd.DataFrame:
        """SUPP``name`` with the variables ``merge_supp`` reads (empty when the SDTM has none)."""
        return self.get(f"SUPP{name}", required=False, columns=_SUPP_VARS)

    def _qualifiers(self, name: str):
        """The qualifier columns of ``name`` on its rows, one per QNAM (``merge_supp`` of SUPP``name`` onto the
        parent's USUBJID and IDVAR variables, which is all the merge reads of the parent), worked out once per
        run; False when the domain has no SUPP-- records; None when a QNAM is also a parent variable (the whole
        merge replaces the parent's column: ``with_supp`` then merges the whole domain)."""
        if name not in self._qualifier_cols:
            supp = self._supp(name)
            if not len(supp):
                self._qualifier_cols[name] = False
            else:
                names = self._input_names(name)
                idvars = set(char(supp["IDVAR"]).tolist()) if "IDVAR" in supp.columns else set()
                keys = [c for c in names if c == "USUBJID" or c in idvars]
                merged = merge_supp(self.get(name, columns=keys), supp, name, normalised=True)
                added = merged[[c for c in merged.columns if c not in keys]]
                qnams = set(char(supp["QNAM"]).tolist()) if "QNAM" in supp.columns else set()
                self._qualifier_cols[name] = None if qnams & set(names) else added
        return self._qualifier_cols[name]


# the SUPP-- variables merge_supp reads
_SUPP_VARS = ("USUBJID", "IDVAR", "IDVARVAL", "QNAM", "QVAL")


def merge_supp(parent: pd.DataFrame, supp: pd.DataFrame, domain: str, *, normalised: bool = False) -> pd.DataFrame:
    """Join SUPP-- records to their parent rows by USUBJID + IDVAR/IDVARVAL (blank IDVAR = subject level): one
    column per QNAM (in QNAM order within each IDVAR, IDVARs in order), "" where a row has no such record; a QNAM
    already a parent column replaces it. ``normalised``: both frames come from ``SdtmSource`` (text as ``char``
    gives it already).

    Each QNAM's values are placed on the parent rows by key codes and a take (``_join._codes``/``_positions``),
    not by a pivot and a join per IDVAR (``_merge_supp_frames``, kept for keys only ``merge`` handles).

    >>> ae = pd.DataFrame({"USUBJID": ["1", "1"], "AESEQ": [1.0, 2.0]})
    >>> supp = pd.DataFrame({"USUBJID": ["1"], "IDVAR": ["AESEQ"], "IDVARVAL": ["2"], "QNAM": ["AEDLT"], "QVAL": ["Y"]})
    >>> merge_supp(ae, supp, "AE")["AEDLT"].tolist()
    ['', 'Y']
    """
    supp = _supp_text(supp, domain, sdtm_text if normalised else char)
    idvars = supp["IDVAR"].to_numpy()
    groups = sorted(set(idvars.tolist()))
    out = fresh(parent)
    for idvar in groups:
        rows = np.flatnonzero(idvars == idvar)
        grp = supp.iloc[rows]
        if grp.duplicated(["USUBJID", "IDVARVAL", "QNAM"]).any():
            raise DatasetReadError("SUPP-- has the same QNAM twice for one parent record",
                                   file=f"SUPP{domain}", column="QNAM", value=grp["QNAM"].iloc[0])
        if idvar == "":
            on, left = ["USUBJID"], pd.DataFrame({"USUBJID": out["USUBJID"].to_numpy()})
        else:
            if idvar not in out.columns:
                raise DatasetReadError(f"SUPP{domain} IDVAR names a variable the parent lacks",
                                       file=f"SUPP{domain}", column="IDVAR", value=idvar)
            on = ["USUBJID", "_IDV"]
            left = pd.DataFrame({"USUBJID": out["USUBJID"].to_numpy(),
                                 "_IDV": _canonical_text(char(out[idvar])).to_numpy()})
        right = pd.DataFrame({"USUBJID": grp["USUBJID"].to_numpy(), "_IDV": grp["IDVARVAL"].to_numpy()})[on]
        codes = _codes(left, right, on) if out["USUBJID"].dtype == object else None
        if codes is None:                   # keys only merge matches (missing values...): the frame path
            return _merge_supp_frames(parent, supp, domain)
        lcode, rcode = codes
        qnam, qval = grp["QNAM"].to_numpy(), grp["QVAL"].to_numpy()
        new_cols = sorted(set(qnam.tolist()))
        values = {}
        for name in new_cols:
            hit = qnam == name
            pos = _positions(lcode, rcode[hit])
            if pos is None:                 # a key twice (subject-level records with IDVARVALs): merge's error
                return _merge_supp_frames(parent, supp, domain)
            taken = qval[hit].take(np.maximum(pos, 0)) if len(pos) else np.array([], dtype=object)
            values[name] = np.where(pos >= 0, taken, "") if len(pos) else taken
        out = out.drop(columns=[c for c in new_cols if c in out.columns])
        for name in new_cols:
            out[name] = pd.Series(values[name], index=out.index, dtype=object)
    return out


def _supp_text(supp: pd.DataFrame, domain: str, text) -> pd.DataFrame:
    """The SUPP-- frame with its key and value columns as text (``text``: ``char`` or ``sdtm_text``), IDVARVAL
    canonical (``_canonical``); a missing required variable is an error naming it."""
    supp = fresh(supp)
    for col in ("USUBJID", "IDVAR", "IDVARVAL", "QNAM", "QVAL"):
        if col not in supp.columns:
            raise DatasetReadError(f"SUPP{domain} lacks a required variable", file=f"SUPP{domain}", column=col)
        supp[col] = text(supp[col])
    supp["IDVARVAL"] = _canonical_text(supp["IDVARVAL"])
    return supp


def _merge_supp_frames(parent: pd.DataFrame, supp: pd.DataFrame, domain: str) -> pd.DataFrame:
    """``merge_supp`` by a pivot and a join per IDVAR (``supp`` already through ``_supp_text``)."""
    out = fresh(parent)
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
