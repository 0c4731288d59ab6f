"""Footnote and label facts taken from the configuration that derived the data, so text cannot
contradict numbers: `@{name}` in any string of an output is replaced at build time.

Facts: `teae_rule` (adam.yaml adae.trtemfl), `dlt_rule` (adae.dlt), `cm_window` (adcm on-treatment window), `criterion` (catalogue def
CRITERION, else the criterion named in the ADRS OVR parameter), `responses:FLAG` (codes of the criterion
with that flag, e.g. "CR + PR"), `param:DATASET.PARAMCD` (the PARAM text), `label:DATASET.VAR` (the
variable label). A fact that cannot be resolved becomes a neutral statement, never a guess.
"""
from __future__ import annotations

import dataclasses
import re

import pandas as pd

from ..errors import SpecError

FACT = re.compile(r"@\{([^}]+)\}")


def load_criteria_or_none():
    try:
        from ..adam.criteria import load_criteria   # provided by the ADaM layer (response criteria as data)
    except ImportError:
        return None
    try:
        return load_criteria()
    except Exception:  # noqa: BLE001 - a broken criteria folder is reported by the ADaM build, not here
        return None


class Facts:
    def __init__(self, adam: dict, adam_config: dict | None = None, defs: dict | None = None):
        self.adam = adam
        self.config = adam_config or {}
        self.defs = defs or {}
        self._criteria = None

    # ------------------------------------------------------------ lookups
    def _frame(self, name):
        ds = self.adam.get(name.upper())
        return None if ds is None else getattr(ds, "frame", ds)

    def _var_label(self, dataset: str, var: str) -> str | None:
        ds = self.adam.get(dataset.upper())
        meta = getattr(ds, "meta", None)
        v = meta.variable(var) if meta is not None else None
        return v.label if v is not None else None

    def _cfg(self, *path):
        node = self.config
        for key in path:
            if not isinstance(node, dict) or key not in node:
                return None
            node = node[key]
        return node

    def criterion_name(self) -> str | None:
        if self.defs.get("CRITERION"):
            return str(self.defs["CRITERION"])
        rs = self._frame("ADRS")
        if rs is not None and {"PARAMCD", "PARAM"} <= set(rs.columns):
            ovr = rs.loc[rs["PARAMCD"] == "OVR", "PARAM"].dropna()
            m = re.search(r"\(([^()]+)\)\s*$", str(ovr.iloc[0])) if len(ovr) else None
            if m:
                return m.group(1)
        return None

    def criterion(self):
        name = self.criterion_name()
        if name is None:
            return None
        if self._criteria is None:
            self._criteria = load_criteria_or_none() or {}
        return self._criteria.get(name)

    # ------------------------------------------------------------ facts
    def value(self, key: str) -> str:
        if key == "teae_rule":
            start = self._cfg("adae", "trtemfl", "start")
            if not start:
                return "as flagged in the analysis dataset (see define.xml for the derivation)"
            label = (self._var_label("ADSL", start) or start).lower()
            days = self._cfg("adae", "trtemfl", "end_window_days")
            tail = f" and up to {days} days after the last dose" if days else ""
            return f"onset on or after the {label}{tail}"
        if key == "cm_window":
            start = self._cfg("adcm", "reference_start") or "TRTSDT"
            label = (self._var_label("ADSL", start) or start).lower()
            days, end = self._cfg("adcm", "end_window_days"), self._cfg("adcm", "reference_end") or "TRTEDT"
            tail = f" and started up to {days} days after the {(self._var_label('ADSL', end) or end).lower()}" \
                if days is not None else ""
            return f"on or after the {label}{tail}"
        if key == "dlt_rule":
            days = self._cfg("adae", "dlt", "window_days")
            start = self._cfg("adae", "dlt", "window_start")
            if not days:
                return "adverse events flagged as dose-limiting in the analysis dataset"
            label = (self._var_label("ADSL", start) or "first dose").lower() if start else "first dose"
            return f"adverse events assessed as dose-limiting with onset within {days} days from the {label}"
        if key == "criterion":
            return self.criterion_name() or "investigator assessment"
        if key.startswith("responses:"):
            crit = self.criterion()
            flag = key.split(":", 1)[1]
            if crit is None:
                return self._observed_codes(flag)
            return " + ".join(r.code for r in crit.responses if getattr(r, flag, False))
        if key.startswith("param:"):
            ds, _, code = key[6:].partition(".")
            f = self._frame(ds)
            if f is not None and {"PARAMCD", "PARAM"} <= set(f.columns):
                hit = f.loc[f["PARAMCD"] == code, "PARAM"].dropna()
                if len(hit):
                    return str(hit.iloc[0])
            return code
        if key.startswith("label:"):
            ds, _, var = key[6:].partition(".")
            return self._var_label(ds, var) or var
        raise SpecError(f"unknown footnote fact @{{{key}}}", value=key)

    def _observed_codes(self, flag: str) -> str:
        """Without the criterion: the BOR codes of subjects the ADaM counted (RSP/CB = 'Y'), best first."""
        rs = self._frame("ADRS")
        param = {"response": "RSP", "benefit": "CB"}.get(flag)
        neutral = {"response": "responders", "benefit": "disease control"}.get(flag, flag)
        if rs is None or param is None or not {"PARAMCD", "AVALC", "USUBJID"} <= set(rs.columns):
            return neutral
        yes = rs.loc[(rs["PARAMCD"] == param) & (rs["AVALC"] == "Y"), "USUBJID"]
        bor = rs[(rs["PARAMCD"] == "BOR") & rs["USUBJID"].isin(yes)]
        if bor.empty:
            return neutral
        if "AVAL" in bor:
            bor = bor.sort_values("AVAL", kind="mergesort")
        return " + ".join(dict.fromkeys(bor["AVALC"].astype(str)))

    def levels(self) -> dict:
        """Response levels (code -> label) of the criterion in rank order; from the data when the
        criterion is unknown (ADRS BOR codes in AVAL order, code as label)."""
        crit = self.criterion()
        if crit is not None:
            return {r.code: r.label for r in crit.responses if r.n is not None}
        rs = self._frame("ADRS")
        if rs is None or "AVALC" not in rs:
            return {}
        sub = rs.loc[rs.get("PARAMCD", pd.Series(dtype=object)).isin(["BOR", "CBOR"]), ["AVALC", "AVAL"]] \
            if "PARAMCD" in rs else rs[["AVALC"]]
        sub = sub.dropna(subset=["AVALC"]).drop_duplicates("AVALC")
        if "AVAL" in sub:
            sub = sub.sort_values("AVAL", kind="mergesort")
        return {v: v for v in sub["AVALC"] if v != "MISSING"}

    # ------------------------------------------------------------ apply to a spec
    def text(self, s: str) -> str:
        return FACT.sub(lambda m: self.value(m.group(1)), s)

    def apply(self, obj):
        """A copy of a spec dataclass with every `@{fact}` resolved and `levels: criterion` expanded."""
        if isinstance(obj, str):
            return self.text(obj) if "@{" in obj else obj
        if isinstance(obj, tuple):
            return tuple(self.apply(x) for x in obj)
        if not dataclasses.is_dataclass(obj):
            return obj
        changes = {}
        for f in dataclasses.fields(obj):
            v = getattr(obj, f.name)
            if f.name == "levels" and v == "criterion":
                changes[f.name] = self.levels()
                continue
            nv = self.apply(v)
            if nv is not v:
                changes[f.name] = nv
        return dataclasses.replace(obj, **changes) if changes else obj
