"""Codelists of ADaM variables, for a define.xml whose ADaM metadata name none.

ADaM datasets reach the define writer with labels and origins but no codelists, so the define side
says which ADaM variables are controlled, by a table of rules (first match wins):
- the ADaMIG 1.3 metadata names a CT codelist (SEX, RACE, AGEU, DATEFL for *DTF, TIMEFL for
  *TMF, SBJTSTAT for EOSSTT, DTYPE, and the SDTMIG codelists of an OCCDS parent's variables);
- a character flag (*FL) takes NY;
- PARAMCD and PARAM take a sponsor list per dataset ("ADLB.PARAMCD"), PARAMCD decoded by PARAM;
- TRTxxP/TRTxxA (and their numeric TRTxxPN/TRTxxAN, decoded by the text) take a sponsor list;
- AVALC takes NY where a parameter's values are Y/N, else a sponsor list per dataset (at value
  level: numeric or measured values never become terms, see define_codelist_plan).
The result is a candidates mapping ("DS.VAR" -> refs) for `plan_codelists`.
"""
from __future__ import annotations

import re
from typing import Sequence

from trialforge.errors import TrialforgeError
from trialforge.specs.metadata import Dataset
from trialforge.specs.standards import load_standard

_TRT = re.compile(r"^TRT\d\d[PA]N?$")


def _adamig_ref(ds: Dataset, name: str) -> str | None:
    try:
        std = load_standard(ds.meta.standard or "ADaMIG 1.3")
        var = std.variable(ds.name, name)
    except (TrialforgeError, KeyError, LookupError):
        return None
    if var is None:
        return None
    return var.codelist or var.codelist_code


def adam_candidates(datasets: Sequence[Dataset]) -> dict[str, list[str]]:
    """"DS.VAR" -> codelist refs for the ADaM variables of `datasets` (module rule table)."""
    out: dict[str, list[str]] = {}
    for ds in datasets:
        if not ds.meta.standard.upper().startswith("ADAM"):
            continue
        for var in ds.meta.variables:
            if var.codelist or var.codelist_code:
                continue
            name = var.name
            ref = _adamig_ref(ds, name)
            if ref:
                refs = [ref]
            elif name.endswith("FL") and not var.is_numeric:
                refs = ["NY"]
            elif name in ("PARAMCD", "PARAM"):
                refs = [f"{ds.name}.{name}"]
            elif _TRT.match(name):
                refs = [name]
            elif name == "AVALC":
                refs = ["NY", f"{ds.name}.AVALC"]
            else:
                continue
            out[f"{ds.name}.{name}"] = refs
    return out
