"""The study's ADaM spec (YAML): every study-level choice the recipes make, validated strictly.

Unknown keys are a SpecError naming the file and key, so a typo never silently falls back to a
default. ``DEFAULTS`` below is the complete list of keys with their defaults; ``REQUIRED`` marks keys a
study must give. Maps marked ``FREE`` take arbitrary names (flag or variable names); lists of
mappings are checked against their item schema.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trialforge.errors import SpecError
from trialforge.specs.yamlio import load_yaml

REQUIRED = object()
# Hours in one PK time unit (pk.time_unit, pk.pp_auc_time_unit); the names are CDISC PKUNIT terms.
HOURS_PER_UNIT = {"min": 1.0 / 60.0, "h": 1.0, "day": 24.0}
FREE = object()


class ItemList:
    """A list whose items are mappings with a fixed key set."""

    def __init__(self, schema: dict, default: list | None = None):
        self.schema = schema
        self.default = default or []


MERGED_VAR = {"new_var": REQUIRED, "domain": REQUIRED, "value": None, "filter": None, "order": [],
              "mode": "first", "type": "Char", "label": None, "date": None, "on_or_before": None,
              "on_or_after": None, "after": None, "drop": False}
TREATMENT = {"label": REQUIRED, "n": REQUIRED, "armcd": REQUIRED}
DATE_SOURCE = {"domain": REQUIRED, "date": REQUIRED, "filter": None}
AGE_GROUP = {"label": REQUIRED, "ge": None, "lt": None}

DEFAULTS: dict[str, Any] = {
    "study": {"subject_keys": ["STUDYID", "USUBJID"]},
    "adsl": {
        "subjects": "ARMNRS != 'SCREEN FAILURE'",
        "product_extrt": REQUIRED,
        "lymphodepletion_extrt": [],
        "trt_planned": "ARM",
        "trt_actual": "ACTARM",
        "trt_order": [],
        "treatments": ItemList(TREATMENT),
        "eos_filter": "DSCAT == 'DISPOSITION EVENT'",
        "age_groups": ItemList(AGE_GROUP),
        "merged_vars": ItemList(MERGED_VAR),
        "populations": FREE,
        "last_alive_sources": ItemList(DATE_SOURCE),
    },
    "adae": {
        "start_imputation": {"highest": "M", "rule": "first"},
        "end_imputation": {"highest": "M", "rule": "last"},
        "trtemfl": {"start": "TRTSDT", "end_window_days": None},
        "dlt": {"window_start": "TRTSDT", "window_days": 28, "filter": None},
        "category_flags": FREE,
        "astct_grade": FREE,
    },
    "new_therapy": {"domain": None, "date": None, "filter": None},
    "adrs": {
        "population": None,
        "ovr_filter": "RSTESTCD == 'OVRLRESP' and RSCAT == 'RECIST 1.1'",
        "date_imputation": {"highest": "n", "rule": "first"},
        "reference_date": "TRTSDT",
        "ref_start_window": 42,
        "ref_confirm": 28,
        "max_nr_ne": 1,
        "accept_sd": False,
        "missing_as_ne": False,
        "exclude_after_pd": True,
        "exclude_after_new_therapy": True,
        "sumdiam": True,
    },
    "adtte": {
        "population": None,
        "start_date": "TRTSDT",
        "parameters": ["OS", "PFS", "DOR"],
        "pfs": {"death_is_event": True, "censor_at_new_therapy": True, "max_gap_days": None,
                "censor_no_baseline": False, "baseline_source": {"domain": "TU", "date": "TUDTC", "filter": None}},
        "dor": {"confirmed": True},
    },
    "adlb": {
        "population": None,
        "tests": [],
        "baseline_flag": None,          # e.g. LBLOBXFL; None = last non-missing on/before baseline_date
        "baseline_date": "TRTSDT",
        "reference_date": "TRTSDT",
    },
    "pk": {
        "analyte": REQUIRED,
        "population": None,
        "intervals": [[0, 28], [0, 90]],
        "blq_between": "missing",
        "blq_after": "exclude",
        "zero_at_dose": True,
        "blq_results": ["BLQ", "<LLOQ", "BQL", "NQ"],
        "time_unit": "day",            # unit of AFRLT/NFRLT, TMAX/TLST and the ADPP AUC time axis
        "pp_auc_time_unit": "h",       # SDTM PP AUC time unit (CDISC PKUNIT: h*DNA copies/ug, no day*...)
    },
}


@dataclass(frozen=True)
class AdamConfig:
    """Validated ADaM spec: ``sections`` holds every key with defaults filled in."""

    sections: dict = field(default_factory=dict)
    path: str | None = None

    def __getitem__(self, section: str) -> dict:
        return self.sections[section]

    @property
    def subject_keys(self) -> list[str]:
        return list(self.sections["study"]["subject_keys"])


def _merge(schema, given, where: str, file) -> Any:
    if schema is FREE:
        if given is None:
            return {}
        if not isinstance(given, dict):
            raise SpecError(f"{where} must be a mapping", file=file, column=where)
        return dict(given)
    if isinstance(schema, ItemList):
        if given is None:
            return copy.deepcopy(schema.default)
        if not isinstance(given, list):
            raise SpecError(f"{where} must be a list", file=file, column=where)
        return [_merge(schema.schema, item, f"{where}[{i}]", file) for i, item in enumerate(given)]
    if isinstance(schema, dict):
        if given is None:
            given = {}
        if not isinstance(given, dict):
            raise SpecError(f"{where} must be a mapping", file=file, column=where)
        unknown = sorted(set(given) - set(schema))
        if unknown:
            raise SpecError(f"unknown key {unknown[0]!r} in {where}; allowed: {', '.join(schema)}",
                            file=file, column=f"{where}.{unknown[0]}" if where else unknown[0], value=unknown[0])
        return {k: _merge(v, given.get(k), f"{where}.{k}" if where else k, file) for k, v in schema.items()}
    if given is None:
        if schema is REQUIRED:
            raise SpecError(f"required key {where} is missing", file=file, column=where)
        return copy.deepcopy(schema)
    return given


def adam_config_from_dict(data: dict, *, path=None) -> AdamConfig:
    """Validate a mapping against ``DEFAULTS`` and fill in defaults.

    >>> cfg = adam_config_from_dict({"adsl": {"product_extrt": "CAR-T"}, "pk": {"analyte": "CART"}})
    >>> cfg["adrs"]["ref_confirm"], cfg["adsl"]["product_extrt"]
    (28, 'CAR-T')
    """
    sections = _merge(DEFAULTS, data, "", path)
    _check_values(sections, path)
    return AdamConfig(sections=sections, path=None if path is None else str(path))


def _check_values(s: dict, file) -> None:
    checks = [
        ("pk.blq_between", s["pk"]["blq_between"] in ("missing", "zero")),
        ("pk.blq_after", s["pk"]["blq_after"] in ("exclude", "zero")),
        ("adtte.parameters", set(s["adtte"]["parameters"]) <= {"OS", "PFS", "DOR"}),
        ("adae.start_imputation.highest", s["adae"]["start_imputation"]["highest"] in ("n", "D", "M", "Y")),
        ("adae.end_imputation.highest", s["adae"]["end_imputation"]["highest"] in ("n", "D", "M", "Y")),
        ("adrs.ref_confirm", isinstance(s["adrs"]["ref_confirm"], int) and s["adrs"]["ref_confirm"] >= 0),
        ("adrs.ref_start_window", isinstance(s["adrs"]["ref_start_window"], int)
         and s["adrs"]["ref_start_window"] >= 0),
        ("adrs.max_nr_ne", isinstance(s["adrs"]["max_nr_ne"], int) and s["adrs"]["max_nr_ne"] >= 0),
        ("adsl.treatments", all(isinstance(t["armcd"], list) and isinstance(t["n"], (int, float))
                                 for t in s["adsl"]["treatments"])),
        ("adsl.merged_vars", all((not any(m[k] for k in ("on_or_before", "on_or_after", "after")) or m["date"])
                                 and m["mode"] in ("first", "last", "exists") and (m["value"] or m["mode"] == "exists")
                                 for m in s["adsl"]["merged_vars"])),
        ("adlb.tests", isinstance(s["adlb"]["tests"], list)),
        ("pk.time_unit", s["pk"]["time_unit"] in HOURS_PER_UNIT),
        ("pk.pp_auc_time_unit", s["pk"]["pp_auc_time_unit"] in HOURS_PER_UNIT),
        ("pk.intervals", all(isinstance(i, list) and len(i) == 2 and i[0] < i[1] for i in s["pk"]["intervals"])),
    ]
    for key, ok in checks:
        if not ok:
            section, _, rest = key.partition(".")
            value = s[section]
            for part in rest.split("."):
                value = value[part]
            raise SpecError(f"invalid value for {key}", file=file, column=key, value=value)


def load_adam_config(path) -> AdamConfig:
    """Read and validate a study's ADaM spec YAML (``examples/<study>/specs/adam.yaml``)."""
    path = Path(path)
    return adam_config_from_dict(load_yaml(path), path=path)
