"""The study's ADaM spec (YAML): every study-level choice the recipes make, validated strictly.

Unknown keys are a SpecError naming the file and key, so a typo never silently falls back to a
default. ``DEFAULTS`` below is the complete list of keys with their defaults; ``REQUIRED`` marks keys a
study must give. Maps marked ``FREE`` take arbitrary names (flag or variable names); lists of
mappings are checked against their item schema.
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trialforge.errors import SpecError
from trialforge.specs.yamlio import load_yaml

REQUIRED = object()
# Hours in one PK time unit (pk.time_unit, pk.pp_auc_time_unit); the names are CDISC PKUNIT terms.
HOURS_PER_UNIT = {"min": 1.0 / 60.0, "h": 1.0, "day": 24.0}
FREE = object()
ANY = object()          # any value (a string or a list, checked by _check_values)


class ItemList:
    """A list whose items are mappings with a fixed key set (``strings``: an item may also be a plain name)."""

    def __init__(self, schema: dict, default: list | None = None, strings: bool = False):
        self.schema = schema
        self.default = default or []
        self.strings = strings


class Nullable:
    """A mapping with a fixed key set, or null (the feature is off)."""

    def __init__(self, schema: dict):
        self.schema = schema


class FreeMap:
    """A mapping of free names (source names, flag names) to mappings with a fixed key set."""

    def __init__(self, schema: dict):
        self.schema = schema


MERGED_VAR = {"new_var": REQUIRED, "domain": REQUIRED, "value": None, "filter": None, "order": [],
              "mode": "first", "type": "Char", "label": None, "date": None, "on_or_before": None,
              "on_or_after": None, "after": None, "drop": False}
DATE_VAR = {"new_var": REQUIRED, "domain": REQUIRED, "date": REQUIRED, "filter": None, "order": [],
            "mode": "first", "label": None, "imputation": {"highest": "n", "rule": "first"}}
TREATMENT = {"label": REQUIRED, "n": REQUIRED, "armcd": REQUIRED}
DATE_SOURCE = {"domain": REQUIRED, "date": REQUIRED, "filter": None}
VALUE_SOURCE = {"domain": REQUIRED, "value": REQUIRED, "filter": None, "order": []}
AGE_GROUP = {"label": REQUIRED, "ge": None, "lt": None}
CATEGORY_FLAG = {"filter": REQUIRED, "label": None}
CRITERION_USE = {"criterion": REQUIRED, "ovr_filter": REQUIRED, "suffix": REQUIRED, "ref_start_window": None,
                 "ref_confirm": None, "max_nr_ne": None, "accept_sd": None}
LANDMARK = {"paramcd": REQUIRED, "param": REQUIRED, "criterion": None, "visit": None, "day": None,
            "window": None, "responders": "response", "confirmed": False, "no_prior_progression": True}
TTE_PARAM = {"paramcd": REQUIRED, "param": None, "criterion": None, "start": None, "responders": None,
             "confirmed": None, "events": [], "censors": [], "censor_at": [], "max_gap_days": None,
             "censor_no_baseline": False}
TTE_SOURCE = {"domain": REQUIRED, "date": REQUIRED, "filter": None, "description": None,
              "imputation": {"highest": "n", "rule": "first"}, "censor_date": "last_assessment"}
BDS = {"dataset": REQUIRED, "domain": REQUIRED, "label": None, "population": None, "filter": None, "tests": [],
       "baseline_flag": None, "baseline_date": "TRTSDT", "reference_date": "TRTSDT", "anrind": "copy"}
ADEX_PARAM = {"paramcd": REQUIRED, "param": REQUIRED, "filter": None, "value": "EXDOSE", "unit": None,
              "stat": "sum", "per_weight": False}
WEIGHT = {"domain": "VS", "filter": "VSTESTCD == 'WEIGHT'", "value": "VSSTRESN", "date": "VSDTC",
          "on_or_before": "TRTSDT"}
PK_INTERVAL = {"start": REQUIRED, "end": REQUIRED, "paramcd": None, "param": None}
PERSISTENCE = {"paramcd": REQUIRED, "param": REQUIRED, "rule": "baseline"}
PK_PROFILE = {"analyte": REQUIRED, "specimen": None, "paramcd_suffix": None, "param_label": None}
CUSTOM = {"dataset": REQUIRED, "function": REQUIRED, "label": None, "args": FREE}
ADLB_DEFAULTS = {"population": None, "tests": [], "baseline_flag": None, "baseline_date": "TRTSDT",
                 "reference_date": "TRTSDT", "anrind": "copy"}

DEFAULTS: dict[str, Any] = {
    "study": {"subject_keys": ["STUDYID", "USUBJID"], "criteria_files": [], "plugins": [],
              "wording": {"product": "study treatment", "reference": "First Dose"}, "labels": FREE},
    "datasets": ANY,
    "adsl_vars": FREE,                  # dataset (or "default") -> ADSL variables it carries (adam/adsl_vars.py)
    "custom": ItemList(CUSTOM),
    "adsl": {
        "subjects": "ARMNRS != 'SCREEN FAILURE'",
        "product_extrt": REQUIRED,
        "lymphodepletion_extrt": [],
        "zero_dose_counts": False,
        "blank_end": "start",
        "trt_planned": "ARM",
        "trt_actual": "ACTARM",
        "trt_order": [],
        "treatments": ItemList(TREATMENT),
        "untreated_trt01a": "",
        "eos_filter": "DSCAT == 'DISPOSITION EVENT'",
        "screen_failure": Nullable({"filter": "ARMNRS == 'SCREEN FAILURE'", "eosstt": "DISCONTINUED",
                                    "dcsreas": "SCREEN FAILURE"}),
        "dthcaus_sources": ItemList(VALUE_SOURCE, default=[
            {"domain": "DS", "value": "DSTERM", "filter": "DSDECOD == 'DEATH'", "order": ["DSSTDTC"]},
            {"domain": "AE", "value": "AEDECOD", "filter": "AEOUT == 'FATAL'", "order": []}]),
        "age_groups": ItemList(AGE_GROUP),
        "merged_vars": ItemList(MERGED_VAR),
        "date_vars": ItemList(DATE_VAR),
        "populations": FREE,
        "last_alive_sources": ItemList(DATE_SOURCE),
        "order": [],                    # ADSL column order (these first, then the standard order)
    },
    "adae": {
        "start_imputation": {"highest": "M", "rule": "first"},
        "end_imputation": {"highest": "M", "rule": "last"},
        "trtemfl": {"start": "TRTSDT", "end_window_days": None},
        "dlt": {"window_start": "TRTSDT", "window_days": 28, "filter": None},
        "category_flags": FREE,
        "astct_grade": FREE,
        "supp_qualifiers": [],          # SUPPAE QNAMs the CRF collects: blank when no record carries one
    },
    "new_therapy": {"domain": None, "date": None, "filter": None},
    "adrs": {
        "population": None,
        "criterion": "RECIST 1.1",
        "ovr_filter": "RSTESTCD == 'OVRLRESP' and RSCAT == 'RECIST 1.1'",
        "date_imputation": {"highest": "n", "rule": "first"},
        "reference_date": "TRTSDT",
        "ref_start_window": None,       # null = the criterion's min_stable_days
        "ref_confirm": None,            # null = the criterion's confirmation interval
        "max_nr_ne": None,
        "accept_sd": None,
        "confirmed": True,              # derive CBOR/CRSP/CCB when the criterion defines confirmation
        "missing_as_ne": False,
        "exclude_after_pd": True,
        "exclude_after_new_therapy": True,
        "sumdiam": True,
        "label": None,
        "param_labels": FREE,
        "more_criteria": ItemList(CRITERION_USE),
        "landmarks": ItemList(LANDMARK),
    },
    "adtte": {
        "population": None,
        "start_date": "TRTSDT",
        "parameters": ItemList(TTE_PARAM, default=["OS", "PFS", "DOR"], strings=True),
        "sources": FreeMap(TTE_SOURCE),
        "baseline_source": {"domain": "TU", "date": "TUDTC", "filter": None},
    },
    "adlb": dict(ADLB_DEFAULTS),
    "bds": ItemList(BDS),
    "adex": Nullable({"population": None, "parameters": ItemList(ADEX_PARAM),
                      "weight": WEIGHT}),
    "adcm": Nullable({"population": None, "filter": None,
                      "start_imputation": {"highest": "M", "rule": "first"},
                      "end_imputation": {"highest": "M", "rule": "last"},
                      "reference_start": "TRTSDT", "reference_end": "TRTEDT", "end_window_days": None,
                      "category_flags": FREE}),
    "pk": {
        "analyte": None,                # PCTESTCD value(s); null = every analyte
        "specimens": [],                # PCSPEC values; [] = every specimen (one profile per analyte x specimen)
        "population": None,
        "intervals": ItemList(PK_INTERVAL, default=[[0, 28], [0, 90]], strings=True),
        "interval_tolerance": 0,
        "auc_method": "linear-up/log-down",
        "time": "actual",
        "blq_between": "missing",
        "blq_after": "exclude",
        "zero_at_dose": True,
        "blq_results": ["BLQ", "<LLOQ", "BQL", "NQ"],
        "time_unit": "day",            # unit of AFRLT/NFRLT, TMAX/TLST and the ADPP AUC time axis
        "pp_auc_time_unit": "h",       # SDTM PP AUC time unit (CDISC PKUNIT: h*DNA copies/ug, no day*...)
        "persistence": ItemList(PERSISTENCE),
        # names of each analyte x specimen profile in ADPC/ADPP PARAMCD/PARAM (used when there are several)
        "profiles": ItemList(PK_PROFILE),
        "pp_tptref": "DOSE",           # SDTM PP PPTPTREF: text of the reference time point (PPRFTDTC)
        "pp_significant_digits": 6,    # PPSTRESN rounded to this many significant digits; PPSTRESC/PPORRES = its text
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
    if schema is ANY:
        return copy.deepcopy(given)
    if schema is FREE:
        if given is None:
            return {}
        if not isinstance(given, dict):
            raise SpecError(f"{where} must be a mapping", file=file, column=where)
        return dict(given)
    if isinstance(schema, FreeMap):
        if given is None:
            return {}
        if not isinstance(given, dict):
            raise SpecError(f"{where} must be a mapping of names to mappings", file=file, column=where)
        return {str(k): _merge(schema.schema, v, f"{where}.{k}", file) for k, v in given.items()}
    if isinstance(schema, Nullable):
        return None if given is None else _merge(schema.schema, given, where, file)
    if isinstance(schema, ItemList):
        if given is None:
            return copy.deepcopy(schema.default)
        if not isinstance(given, list):
            raise SpecError(f"{where} must be a list", file=file, column=where)
        return [copy.deepcopy(item) if schema.strings and not isinstance(item, dict)
                else _merge(schema.schema, item, f"{where}[{i}]", file) for i, item in enumerate(given)]
    if isinstance(schema, dict):
        if given is None:
            given = {}
        if not isinstance(given, dict):
            raise SpecError(f"{where} must be a mapping", file=file, column=where)
        unknown = sorted(set(given) - set(schema))
        if unknown:
            raise SpecError(f"unknown key {unknown[0]!r} in {where or 'adam.yaml'}; allowed: {', '.join(schema)}",
                            file=file, column=f"{where}.{unknown[0]}" if where else unknown[0], value=unknown[0])
        return {k: _merge(v, given.get(k), f"{where}.{k}" if where else k, file) for k, v in schema.items()}
    if given is None:
        if schema is REQUIRED:
            raise SpecError(f"required key {where} is missing", file=file, column=where)
        return copy.deepcopy(schema)
    _check_type(schema, given, where, file)
    return given


# required keys that are not text (the others must be text)
_REQUIRED_KINDS = {"adsl.treatments[].n": (int, float), "adsl.treatments[].armcd": (list,),
                   "adsl.product_extrt": (str, list), "pk.intervals[].start": (int, float),
                   "pk.intervals[].end": (int, float)}
# keys whose value may be a name or a list of names, or true/false or a list (checked in _normalise)
_SHORTHANDS = {"adsl.lymphodepletion_extrt", "adae.supp_qualifiers", "pk.specimens", "adsl.zero_dose_counts",
               "adrs.landmarks[].responders"}


def _check_type(default, given, where: str, file) -> None:
    """A value of the wrong kind (text for a number, a word for true/false...) names the key."""
    path = re_index(where)
    if default is REQUIRED:
        kinds = _REQUIRED_KINDS.get(path, (str,))
        if not isinstance(given, kinds) or isinstance(given, bool):
            raise SpecError(f"{where} has the wrong kind of value", file=file, column=where, value=given)
        return
    if default is None or path in _SHORTHANDS:
        return
    if isinstance(default, bool):
        ok = isinstance(given, bool)
    elif isinstance(default, (int, float)):
        ok = isinstance(given, (int, float)) and not isinstance(given, bool)
    elif isinstance(default, str):
        ok = isinstance(given, str)
    elif isinstance(default, list):
        ok = isinstance(given, list)
    else:
        ok = True
    if not ok:
        kind = {bool: "true or false", int: "a number", float: "a number", str: "text", list: "a list"}[type(default)]
        raise SpecError(f"{where} must be {kind}", file=file, column=where, value=given)


def re_index(where: str) -> str:
    """``a.b[3].c`` → ``a.b[].c`` (the schema path of a list item's key)."""
    import re
    return re.sub(r"\[\d+\]", "[]", where)


def key_paths(schema=REQUIRED, prefix: str = "") -> list[str]:
    """Every key adam.yaml accepts, dotted (list items as ``key[]``): the reference page must list them all."""
    schema = DEFAULTS if schema is REQUIRED and not prefix else schema
    out = []
    if isinstance(schema, (ItemList, FreeMap, Nullable)):
        inner = schema.schema
        sep = "[]." if isinstance(schema, ItemList) else (".*." if isinstance(schema, FreeMap) else ".")
        for k, v in inner.items():
            out.append(f"{prefix}{sep}{k}")
            out += key_paths(v, f"{prefix}{sep}{k}")
        return out
    if isinstance(schema, dict):
        for k, v in schema.items():
            path = f"{prefix}.{k}" if prefix else k
            out.append(path)
            out += key_paths(v, path)
    return out


ENDPOINTS_FILE = Path(__file__).resolve().parent / "endpoints.yaml"
TTE_BUILTIN_SOURCES = ("death", "progression", "first_response", "new_therapy", "last_adequate_assessment",
                       "last_alive", "start")
DATASET_NAMES = ("ADSL", "ADAE", "ADLB", "ADRS", "ADTTE", "ADPC", "ADPP", "PP", "ADEX", "ADCM")


def shipped_endpoints() -> dict[str, dict]:
    """The shipped TTE declarations (adam/endpoints.yaml): OS, PFS, DOR, EFS, RFS, TTR."""
    return load_yaml(ENDPOINTS_FILE)


def _resolve_parameters(data: dict, file) -> dict:
    """adtte.parameters: a shipped name, or a mapping (a shipped paramcd's declaration is its base)."""
    adtte = data.get("adtte")
    if not isinstance(adtte, dict) or adtte.get("parameters") is None:
        return data
    if not isinstance(adtte["parameters"], list):
        raise SpecError("adtte.parameters must be a list", file=file, column="adtte.parameters")
    shipped = shipped_endpoints()
    items = []
    for i, item in enumerate(adtte["parameters"]):
        if isinstance(item, str):
            if item not in shipped:
                raise SpecError(f"adtte.parameters[{i}] names no shipped endpoint ({', '.join(shipped)}); give a "
                                "mapping with paramcd, events and censors", file=file,
                                column=f"adtte.parameters[{i}]", value=item)
            items.append({"paramcd": item, **shipped[item]})
        elif isinstance(item, dict):
            base = shipped.get(item.get("paramcd"), {}) if not item.get("events") else {}
            items.append({**base, **item})
        else:
            raise SpecError(f"adtte.parameters[{i}] must be a name or a mapping", file=file,
                            column=f"adtte.parameters[{i}]", value=item)
    return {**data, "adtte": {**adtte, "parameters": items}}


def adam_config_from_dict(data: dict, *, path=None) -> AdamConfig:
    """Validate a mapping against ``DEFAULTS`` and fill in defaults.

    >>> cfg = adam_config_from_dict({"adsl": {"product_extrt": "CAR-T"}, "pk": {"analyte": "CART"}})
    >>> cfg["adrs"]["criterion"], cfg["adsl"]["product_extrt"], [p["paramcd"] for p in cfg["adtte"]["parameters"]]
    ('RECIST 1.1', ['CAR-T'], ['OS', 'PFS', 'DOR'])
    """
    if not isinstance(data, dict):
        raise SpecError("an ADaM spec must be a mapping", file=path)
    data = _resolve_parameters(data, path)
    sections = _merge(DEFAULTS, data, "", path)
    if "parameters" not in (data.get("adtte") or {}):
        sections["adtte"]["parameters"] = _resolve_parameters(
            {"adtte": {"parameters": list(sections["adtte"]["parameters"])}}, path)["adtte"]["parameters"]
        sections["adtte"]["parameters"] = [_merge(TTE_PARAM, p, "adtte.parameters", path)
                                           for p in sections["adtte"]["parameters"]]
    _normalise(sections, path)
    _check_values(sections, path)
    _check_criteria(sections, path)
    return AdamConfig(sections=sections, path=None if path is None else str(path))


def _check_criteria(s: dict, file) -> None:
    """Every criterion named exists (shipped or the study's files) and every responder selector fits it."""
    from .criteria import get_criterion, load_criteria
    folder = Path(file).parent if file is not None else None
    files = [(folder / f if folder else Path(f)) for f in s["study"]["criteria_files"]]
    known = load_criteria(files=files) if files else (load_criteria(folder) if folder else load_criteria())
    r = s["adrs"]
    uses = {"": get_criterion(known, r["criterion"], file=file, key="adrs.criterion")}
    for i, m in enumerate(r["more_criteria"]):
        uses[m["suffix"]] = uses[m["criterion"]] = get_criterion(known, m["criterion"], file=file,
                                                                 key=f"adrs.more_criteria[{i}].criterion")
    uses[r["criterion"]] = uses[""]

    def pick(name, key):
        if name is None:
            return uses[""]
        if name not in uses:
            raise SpecError("names a criterion ADRS does not use (adrs.criterion or adrs.more_criteria)",
                            file=file, column=key, value=name)
        return uses[name]
    for i, lm in enumerate(r["landmarks"]):
        pick(lm["criterion"], f"adrs.landmarks[{i}].criterion").select(
            lm["responders"], where=f"adrs.landmarks[{i}].responders", file=file)
    for p in s["adtte"]["parameters"]:
        key = f"adtte.parameters[{p['paramcd']}]"
        crit = pick(p["criterion"], f"{key}.criterion")
        if p["responders"] is not None:
            crit.select(p["responders"], where=f"{key}.responders", file=file)


def _names(value, where: str, file) -> list[str]:
    """A name or a list of names as a list (EXTRT values, analytes)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise SpecError(f"{where} must be a name or a list of names", file=file, column=where, value=value)


def _normalise(s: dict, file) -> None:
    """Shorthands to their full form: names → lists, [start, end] intervals → mappings, flag strings → mappings."""
    s["adsl"]["product_extrt"] = _names(s["adsl"]["product_extrt"], "adsl.product_extrt", file)
    s["adsl"]["lymphodepletion_extrt"] = _names(s["adsl"]["lymphodepletion_extrt"], "adsl.lymphodepletion_extrt", file)
    s["pk"]["analyte"] = _names(s["pk"]["analyte"], "pk.analyte", file)
    s["pk"]["specimens"] = _names(s["pk"]["specimens"], "pk.specimens", file)
    s["adae"]["supp_qualifiers"] = [q.upper() for q in _names(s["adae"]["supp_qualifiers"],
                                                              "adae.supp_qualifiers", file)]
    if s["datasets"] is not None:
        s["datasets"] = [d.upper() for d in _names(s["datasets"], "datasets", file)]
    s["adsl_vars"] = {(k if k == "default" else str(k).upper()): v for k, v in s["adsl_vars"].items()}
    zero = s["adsl"]["zero_dose_counts"]
    if not isinstance(zero, bool):
        s["adsl"]["zero_dose_counts"] = _names(zero, "adsl.zero_dose_counts", file)
    intervals = []
    for i, item in enumerate(s["pk"]["intervals"]):
        where = f"pk.intervals[{i}]"
        if isinstance(item, list):
            if len(item) != 2:
                raise SpecError(f"{where} must be [start, end] or a mapping", file=file, column=where, value=item)
            item = {"start": item[0], "end": item[1], "paramcd": None, "param": None}
        elif not isinstance(item, dict):
            raise SpecError(f"{where} must be [start, end] or a mapping", file=file, column=where, value=item)
        if not all(isinstance(item[k], (int, float)) and not isinstance(item[k], bool) for k in ("start", "end")) \
                or item["start"] >= item["end"]:
            raise SpecError(f"{where} needs numbers start < end", file=file, column=where, value=[item["start"],
                                                                                                 item["end"]])
        intervals.append(item)
    s["pk"]["intervals"] = intervals
    for section in ("adae", "adcm"):
        if s[section] is None:
            continue
        flags = {}
        for name, item in s[section]["category_flags"].items():
            if isinstance(item, str):
                item = {"filter": item, "label": None}
            flags[name] = _merge(CATEGORY_FLAG, item, f"{section}.category_flags.{name}", file)
        s[section]["category_flags"] = flags


_IMPUTATION = ("n", "D", "M", "Y")


def _is_count(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _check_values(s: dict, file) -> None:
    """Each check: (key, ok, offending value); the first failing one is a SpecError naming key and file."""
    a, r, t, k = s["adsl"], s["adrs"], s["adtte"], s["pk"]
    sources = set(TTE_BUILTIN_SOURCES) | set(t["sources"])
    checks = [
        ("datasets", s["datasets"] is None or all(d in DATASET_NAMES or d in {b["dataset"] for b in s["bds"]}
                                                  or d in {c["dataset"] for c in s["custom"]} for d in s["datasets"]),
         s["datasets"]),
        ("adsl_vars", all((k == "default" or k in DATASET_NAMES or k in {b["dataset"].upper() for b in s["bds"]})
                          and k not in ("ADSL", "PP") for k in s["adsl_vars"]), sorted(s["adsl_vars"])),
        ("adsl_vars", all(isinstance(v, list) and all(isinstance(n, str) for n in v)
                          for v in s["adsl_vars"].values()), None),
        ("study.labels", all(isinstance(v, str) and v for v in s["study"]["labels"].values()),
         s["study"]["labels"]),
        ("adsl.product_extrt", bool(a["product_extrt"]), a["product_extrt"]),
        ("adsl.blank_end", a["blank_end"] in ("start", "ignore"), a["blank_end"]),
        ("adsl.treatments", all(isinstance(x["armcd"], list) and isinstance(x["n"], (int, float))
                                for x in a["treatments"]), a["treatments"]),
        ("adsl.merged_vars", all((not any(m[x] for x in ("on_or_before", "on_or_after", "after")) or m["date"])
                                 and m["mode"] in ("first", "last", "exists") and (m["value"] or m["mode"] == "exists")
                                 for m in a["merged_vars"]), None),
        ("adsl.date_vars", all(d["mode"] in ("first", "last") and d["imputation"]["highest"] in _IMPUTATION
                               for d in a["date_vars"]), None),
        ("adae.start_imputation.highest", s["adae"]["start_imputation"]["highest"] in _IMPUTATION,
         s["adae"]["start_imputation"]["highest"]),
        ("adae.end_imputation.highest", s["adae"]["end_imputation"]["highest"] in _IMPUTATION,
         s["adae"]["end_imputation"]["highest"]),
        ("adrs.ref_confirm", r["ref_confirm"] is None or _is_count(r["ref_confirm"]), r["ref_confirm"]),
        ("adrs.ref_start_window", r["ref_start_window"] is None or _is_count(r["ref_start_window"]),
         r["ref_start_window"]),
        ("adrs.max_nr_ne", r["max_nr_ne"] is None or _is_count(r["max_nr_ne"]), r["max_nr_ne"]),
        ("adrs.accept_sd", r["accept_sd"] is None or isinstance(r["accept_sd"], bool), r["accept_sd"]),
        ("adrs.more_criteria", len({m["suffix"] for m in r["more_criteria"]}) == len(r["more_criteria"])
         and all(m["suffix"] for m in r["more_criteria"]), [m["suffix"] for m in r["more_criteria"]]),
        ("adrs.landmarks", all((lm["visit"] is None) != (lm["day"] is None) for lm in r["landmarks"]),
         [lm["paramcd"] for lm in r["landmarks"]]),
        ("adrs.landmarks[].window", all(lm["window"] is None or (isinstance(lm["window"], list)
                                        and len(lm["window"]) == 2) for lm in r["landmarks"]), None),
        ("adtte.parameters", len({p["paramcd"] for p in t["parameters"]}) == len(t["parameters"]),
         [p["paramcd"] for p in t["parameters"]]),
        ("adtte.parameters[].events", all(p["events"] or p["censors"] for p in t["parameters"]),
         [p["paramcd"] for p in t["parameters"] if not (p["events"] or p["censors"])]),
        ("adtte.sources.*.censor_date", all(x["censor_date"] in ("last_assessment", "event_date")
                                            for x in t["sources"].values()),
         [x["censor_date"] for x in t["sources"].values()]),
        ("adtte.parameters[].start", all(p["start"] in (None, "first_response") or isinstance(p["start"], str)
                                         for p in t["parameters"]), None),
        ("adlb.tests", isinstance(s["adlb"]["tests"], list), s["adlb"]["tests"]),
        ("adlb.anrind", s["adlb"]["anrind"] in ("copy", "derive"), s["adlb"]["anrind"]),
        ("bds[].anrind", all(b["anrind"] in ("copy", "derive") for b in s["bds"]), None),
        ("bds[].dataset", all(len(b["dataset"]) <= 8 and b["dataset"].upper().startswith("AD") for b in s["bds"]),
         [b["dataset"] for b in s["bds"]]),
        ("pk.blq_between", k["blq_between"] in ("missing", "zero"), k["blq_between"]),
        ("pk.blq_after", k["blq_after"] in ("exclude", "zero"), k["blq_after"]),
        ("pk.time_unit", k["time_unit"] in HOURS_PER_UNIT, k["time_unit"]),
        ("pk.pp_auc_time_unit", k["pp_auc_time_unit"] in HOURS_PER_UNIT, k["pp_auc_time_unit"]),
        ("pk.auc_method", k["auc_method"] in ("linear-up/log-down", "linear"), k["auc_method"]),
        ("pk.time", k["time"] in ("actual", "nominal"), k["time"]),
        ("pk.pp_significant_digits", isinstance(k["pp_significant_digits"], int)
         and not isinstance(k["pp_significant_digits"], bool) and 1 <= k["pp_significant_digits"] <= 15,
         k["pp_significant_digits"]),
        ("pk.profiles[].paramcd_suffix", all(p["paramcd_suffix"] is None or
                                             re.fullmatch(r"[A-Z0-9]{1,4}", str(p["paramcd_suffix"]))
                                             for p in k["profiles"]), None),
        ("pk.interval_tolerance", isinstance(k["interval_tolerance"], (int, float)) and k["interval_tolerance"] >= 0,
         k["interval_tolerance"]),
        ("pk.persistence[].rule", all(p["rule"] in ("baseline", "lloq") for p in k["persistence"]), None),
    ]
    for p in t["parameters"]:
        for role in ("events", "censors", "censor_at"):
            for name in p[role]:
                checks.append((f"adtte.parameters[{p['paramcd']}].{role}", name in sources, name))
    if s["adex"] is not None:
        checks.append(("adex.parameters[].stat", all(p["stat"] in ("sum", "first", "last", "max", "count")
                                                      for p in s["adex"]["parameters"]), None))
    if s["adcm"] is not None:
        c = s["adcm"]
        checks += [("adcm.start_imputation.highest", c["start_imputation"]["highest"] in _IMPUTATION,
                    c["start_imputation"]["highest"]),
                   ("adcm.end_imputation.highest", c["end_imputation"]["highest"] in _IMPUTATION,
                    c["end_imputation"]["highest"]),
                   ("adcm.end_window_days", c["end_window_days"] is None or _is_count(c["end_window_days"]),
                    c["end_window_days"]),
                   ("adcm.category_flags", all(re.fullmatch(r"[A-Z][A-Z0-9]{0,7}", n) for n in c["category_flags"]),
                    list(c["category_flags"]))]
    for key, ok, value in checks:
        if not ok:
            raise SpecError(f"invalid value for {key}", file=file, column=key, value=value)


def load_adam_config(path) -> AdamConfig:
    """Read and validate a study's ADaM spec YAML (``examples/<study>/specs/adam.yaml``)."""
    path = Path(path)
    return adam_config_from_dict(load_yaml(path), path=path)
