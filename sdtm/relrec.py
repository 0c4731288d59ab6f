"""RELREC: relationships between records of different domains, declared in specs/relrec.yaml.

Dataset-level relationships (SDTMIG 8.3: USUBJID and IDVARVAL null) say "every TU record relates
to the TR records sharing its --LNKID"; record-level ones can be added the same way later.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import SpecError
from ..specs.metadata import Dataset
from ..specs.yamlio import check_keys, load_yaml

RELREC_KEYS = {"relid", "rdomain", "idvar", "reltype"}

RELTYPES = ("ONE", "MANY")


def build_relrec(path: Path, study_id: str, datasets: dict, standard, *, subset: bool = False) -> Dataset | None:
    """RELREC from the relationship declarations; each named domain and IDVAR must exist.

    ``subset``: only some domains were built (``--only``, study.yaml ``domains:``), so a relationship
    (RELID) naming a domain that was not built is left out instead of being an error.
    """
    if not Path(path).is_file():
        return None
    data = load_yaml(path)
    check_keys(data, {"relrec"}, file=path, context="relrec.yaml")
    rows = []
    declared = data.get("relrec") or []
    absent = {str(rel.get("relid")) for rel in declared if subset and isinstance(rel, dict)
              and str(rel.get("rdomain", "")).upper() not in datasets}
    for i, rel in enumerate(declared):
        if not isinstance(rel, dict) or not {"relid", "rdomain", "idvar", "reltype"} <= set(rel):
            raise SpecError(f"relrec[{i}] needs relid, rdomain, idvar and reltype", file=path)
        check_keys(rel, RELREC_KEYS, file=path, context=f"relrec[{i}]")
        rdomain, idvar = str(rel["rdomain"]).upper(), str(rel["idvar"]).upper()
        if str(rel["relid"]) in absent:
            continue
        if rdomain not in datasets or idvar not in datasets[rdomain].frame.columns:
            raise SpecError(f"relrec[{i}]: {rdomain}.{idvar} does not exist", file=path, value=f"{rdomain}.{idvar}")
        if str(rel["reltype"]).upper() not in RELTYPES:
            raise SpecError("RELTYPE must be ONE or MANY", file=path, value=rel["reltype"])
        rows.append({"STUDYID": study_id, "RDOMAIN": rdomain, "USUBJID": "", "IDVAR": idvar, "IDVARVAL": "",
                     "RELTYPE": str(rel["reltype"]).upper(), "RELID": str(rel["relid"])})
    if not rows:
        return None
    meta = standard.dataset("RELREC")
    meta = type(meta)(**{**meta.__dict__, "keys": ("STUDYID", "RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL", "RELID")})
    frame = pd.DataFrame(rows, columns=[v.name for v in meta.variables])
    return Dataset(meta, frame.sort_values(["RELID", "RDOMAIN"], kind="stable").reset_index(drop=True))
