"""SDTM model v2.0 class variables: what a general-observation-class domain may carry beyond its IG table.

The SDTM model allows any identifier and timing variable of the general observation classes (VISITNUM,
VISIT, VISITDY, TAETORD, EPOCH, --DTC, --DY, --TPT ...) and the qualifiers of the domain's class in
any domain of that class, even where the SDTMIG domain table does not list them. A variable of no
model (e.g. EXFOO) still belongs in SUPP--. Facts live in ``standards/sdtm-2.0-model-variables.csv``.
"""
from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

from .metadata import VariableMeta

MODEL_CSV = Path(__file__).resolve().parent / "standards" / "sdtm-2.0-model-variables.csv"
GENERAL = "General Observations"
# Define-XML class (as SdtmStandard spells it) -> SDTM model classes whose variables apply, in layout order
CLASS_SETS = {
    "INTERVENTIONS": ("Interventions",),
    "EVENTS": ("Events",),
    "FINDINGS": ("Findings",),
    "FINDINGS ABOUT": ("Findings", "Findings About"),
}
FIRST_TIMING = "VISITNUM"     # the general-observation rows from here on are timing variables


@lru_cache(maxsize=1)
def _rows() -> tuple[dict, ...]:
    with MODEL_CSV.open(newline="", encoding="utf-8") as fh:
        return tuple(csv.DictReader(fh))


@lru_cache(maxsize=64)
def model_layout(domain: str, cls: str | None) -> tuple[VariableMeta, ...]:
    """Model variables for a domain of a class, in model order: identifiers, class variables, timing.

    ``--`` becomes the domain prefix. An empty tuple for classes outside the general observations.
    """
    classes = CLASS_SETS.get(str(cls or "").upper())
    if not classes:
        return ()
    general = [r for r in _rows() if r["class"] == GENERAL]
    cut = next(i for i, r in enumerate(general) if r["variable"] == FIRST_TIMING)
    ordered = general[:cut] + [r for c in classes for r in _rows() if r["class"] == c] + general[cut:]
    out, seen = [], set()
    for r in ordered:
        name = r["variable"].replace("--", domain[:2])
        if name in seen or len(name) > 8:
            continue
        seen.add(name)
        out.append(VariableMeta(name=name, label=r["label"], type=r["type"], core="Perm", role=r["role"] or None))
    return tuple(out)


def model_variable(domain: str, cls: str | None, name: str) -> VariableMeta | None:
    """The model's definition of ``name`` for a domain of class ``cls``; None if no model defines it."""
    for var in model_layout(domain, cls):
        if var.name == name:
            return var
    return None


def merge_in_model_order(ig_vars, extra, domain: str, cls: str | None) -> list[VariableMeta]:
    """IG variables in IG order, each extra model variable placed after the last IG variable before it in the model."""
    position = {v.name: i for i, v in enumerate(model_layout(domain, cls))}
    out = list(ig_vars)
    for var in sorted(extra, key=lambda v: position.get(v.name, len(position))):
        pos = position.get(var.name, len(position))
        before = [i for i, v in enumerate(out) if v.name in position and position[v.name] < pos]
        out.insert(before[-1] + 1 if before else 0, var)
    return out
