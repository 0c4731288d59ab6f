"""Response criteria as data: RECIST 1.1, iRECIST, Lugano 2014, iwCLL 2018, ELN 2022, acute leukaemia.

Each criterion is one YAML file in this folder (package data). A study overrides or adds criteria with
its own file(s) in its specs folder (``study.criteria_files`` in adam.yaml, default ``criteria.yaml``
when present). ADRS, ADTTE and the tables read the ``Criterion`` objects, never a list of codes in Python.

>>> crit = load_criteria()["RECIST 1.1"]
>>> crit.codes_where("response"), crit.response("SD").n, crit.confirmation.interval_days
(('CR', 'PR'), 3.0, 28)
>>> load_criteria()["Acute leukemia"].codes_where("progression")
('PD', 'RELAPSE')
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from trialforge.errors import DatasetReadError, SpecError
from trialforge.specs.yamlio import load_yaml

FOLDER = Path(__file__).resolve().parent
FLAGS = ("response", "benefit", "progression", "not_evaluable", "stable")
RESPONSE_KEYS = {"code", "label", "n", "synonyms", *FLAGS}
CRITERION_KEYS = {"name", "title", "reference", "dataset_label", "min_stable_days", "confirmation", "responses",
                  "missing", "sets", "extends", "flags", "target_sum"}
TARGET_SUM_KEYS = {"lesion_tests", "sum_test", "target_status"}
CONFIRMATION_KEYS = {"interval_days", "max_ne", "max_stable", "rules", "unconfirmed_as"}
RULE_KEYS = {"confirmed_by", "between", "not_after"}


@dataclass(frozen=True)
class Response:
    """One response category: its code (RSSTRESC), label for tables, rank (1 = best), numeric code ``n``."""

    code: str
    label: str
    rank: int
    n: float | None = None
    response: bool = False          # counts in the objective response rate (ORR)
    benefit: bool = False           # counts in clinical benefit / disease control (DCR)
    progression: bool = False       # a progression or relapse event (PFS, EFS, DOR)
    not_evaluable: bool = False     # not an adequate assessment (NE, not done)
    stable: bool = False            # stable-type: counts only from min_stable_days after the reference date
    synonyms: tuple[str, ...] = ()


@dataclass(frozen=True)
class ConfirmRule:
    """How a response is confirmed: a later ``confirmed_by`` response at least ``interval_days`` later, with
    only ``between`` responses in between and none of ``not_after`` followed by this response."""

    confirmed_by: tuple[str, ...]
    between: tuple[str, ...]
    not_after: tuple[str, ...] = ()


@dataclass(frozen=True)
class Confirmation:
    interval_days: int
    max_ne: int = 1
    max_stable: int = 0
    rules: Mapping[str, ConfirmRule] = field(default_factory=dict)
    unconfirmed_as: str | None = None     # an unconfirmed response counts as this (stable) response


@dataclass(frozen=True)
class TargetSum:
    """How ADRS SUMDIAM reads TR/TU under a criterion that sums target-lesion diameters (RECIST 1.1): the
    TR.TRTESTCD codes of a target lesion's measurement, the TRTESTCD of the CRF's own sum record, and the
    TU.TUSTRESC of a target lesion."""

    lesion_tests: tuple[str, ...]
    sum_test: str
    target_status: str


@dataclass(frozen=True)
class Criterion:
    """A response criterion: ordered responses and the rules ADRS/ADTTE apply."""

    name: str
    title: str
    responses: tuple[Response, ...]
    reference: str = ""
    dataset_label: str = "Response Analysis Dataset"
    min_stable_days: int | None = None
    confirmation: Confirmation | None = None
    missing: Response = Response("MISSING", "Missing", 999)
    sets: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    target_sum: TargetSum | None = None     # None: the criterion does not sum lesion diameters (no SUMDIAM)
    source: str = ""

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(r.code for r in self.responses)

    def response(self, code: str) -> Response:
        for r in self.responses + (self.missing,):
            if r.code == code:
                return r
        raise KeyError(code)

    def codes_where(self, flag: str) -> tuple[str, ...]:
        """Codes with a flag set (response, benefit, progression, not_evaluable, stable)."""
        return tuple(r.code for r in self.responses if getattr(r, flag))

    @property
    def adequate(self) -> tuple[str, ...]:
        """Codes of an adequate assessment (everything but the not-evaluable ones)."""
        return tuple(r.code for r in self.responses if not r.not_evaluable)

    @property
    def ne_code(self) -> str:
        """The not-evaluable code an early stable response is downgraded to (the first not-evaluable one)."""
        ne = self.codes_where("not_evaluable")
        return ne[0] if ne else self.missing.code

    def select(self, selector, *, where: str = "responders", file=None) -> tuple[str, ...]:
        """Codes meant by a selector: a flag name ("response"), a set name of ``sets``, or a list of codes."""
        if selector is None:
            selector = "response"
        if isinstance(selector, str):
            if selector in FLAGS:
                return self.codes_where(selector)
            if selector in self.sets:
                return tuple(self.sets[selector])
            selector = [selector]
        codes = tuple(self.canonical_code(c) for c in selector)
        unknown = [c for c, k in zip(selector, codes) if k is None]
        if unknown:
            raise SpecError(f"{where}: {unknown[0]!r} is not a response of criterion {self.name!r} (nor a flag "
                            f"{', '.join(FLAGS)} or a set {', '.join(self.sets) or '-'})", file=file, column=where,
                            value=unknown[0])
        return codes

    def canonical_code(self, value: str) -> str | None:
        return self._lookup().get(str(value).strip().upper())

    def _lookup(self) -> dict[str, str]:
        table = {}
        for r in self.responses:
            table[r.code.upper()] = r.code
            for s in r.synonyms:
                table[str(s).upper()] = r.code
        return table

    def standardize(self, values: pd.Series, *, dataset: str = "RS", column: str = "RSSTRESC") -> pd.Series:
        """Collected responses as the criterion's codes (case and synonyms folded); blanks stay blank.

        A value the criterion does not know is an error naming it, the criterion and the column.
        """
        text = values.astype(object).where(values.notna(), "").map(lambda v: str(v).strip())
        table = self._lookup()
        out = text.str.upper().map(table)
        bad = (text != "") & out.isna()
        if bad.any():
            raise DatasetReadError(f"response value outside the {self.name} responses ({', '.join(self.codes)})",
                                   file=dataset, column=column, value=text[bad].iloc[0])
        return out.fillna("").astype(object)

    def rank(self, values: pd.Series) -> pd.Series:
        ranks = {r.code: r.rank for r in self.responses}
        ranks[self.missing.code] = self.missing.rank
        return values.map(ranks)

    def aval(self, values: pd.Series) -> pd.Series:
        """Numeric coding ``n`` of each code (NaN for codes without one)."""
        codes = {r.code: (np.nan if r.n is None else float(r.n)) for r in self.responses + (self.missing,)}
        return values.map(codes).astype("float64")


# ---------------------------------------------------------------- loading
def _fail(msg: str, file, key: str, value=None):
    raise SpecError(msg, file=file, column=key, value=value)


def _check_keys(data: Mapping, allowed: set, file, where: str) -> None:
    if not isinstance(data, Mapping):
        _fail(f"{where} must be a mapping", file, where)
    unknown = sorted(set(data) - allowed)
    if unknown:
        _fail(f"unknown key {unknown[0]!r} in {where}; allowed: {', '.join(sorted(allowed))}", file,
              f"{where}.{unknown[0]}", unknown[0])


def _response(item, rank: int, file, where: str) -> Response:
    _check_keys(item, RESPONSE_KEYS, file, where)
    if not item.get("code"):
        _fail(f"{where}.code is required", file, f"{where}.code")
    n = item.get("n")
    if n is not None and not isinstance(n, (int, float)):
        _fail(f"{where}.n must be a number", file, f"{where}.n", n)
    for flag in FLAGS:
        if not isinstance(item.get(flag, False), bool):
            _fail(f"{where}.{flag} must be true or false", file, f"{where}.{flag}", item.get(flag))
    return Response(code=str(item["code"]), label=str(item.get("label") or item["code"]), rank=rank,
                    n=None if n is None else float(n), synonyms=tuple(str(s) for s in item.get("synonyms") or ()),
                    **{f: bool(item.get(f, False)) for f in FLAGS})


def _confirmation(data, codes: set, file, where: str) -> Confirmation | None:
    if data is None:
        return None
    _check_keys(data, CONFIRMATION_KEYS, file, where)
    interval = data.get("interval_days")
    if not isinstance(interval, int) or interval < 0:
        _fail(f"{where}.interval_days must be a whole number of days >= 0", file, f"{where}.interval_days", interval)
    rules = {}
    for code, rule in (data.get("rules") or {}).items():
        _check_keys(rule, RULE_KEYS, file, f"{where}.rules.{code}")
        listed = [code] + list(rule.get("confirmed_by") or []) + list(rule.get("between") or []) + list(
            rule.get("not_after") or [])
        for c in listed:
            if c not in codes:
                _fail(f"{where}.rules names a code that is not a response of the criterion", file,
                      f"{where}.rules.{code}", c)
        rules[code] = ConfirmRule(tuple(rule.get("confirmed_by") or ()), tuple(rule.get("between") or ()),
                                  tuple(rule.get("not_after") or ()))
    if not rules:
        _fail(f"{where}.rules must name at least one response to confirm", file, f"{where}.rules")
    unconfirmed = data.get("unconfirmed_as")
    if unconfirmed is not None and unconfirmed not in codes:
        _fail(f"{where}.unconfirmed_as is not a response of the criterion", file, f"{where}.unconfirmed_as",
              unconfirmed)
    for key in ("max_ne", "max_stable"):
        v = data.get(key, 1 if key == "max_ne" else 0)
        if not isinstance(v, int) or v < 0:
            _fail(f"{where}.{key} must be a whole number >= 0", file, f"{where}.{key}", v)
    return Confirmation(interval_days=interval, max_ne=int(data.get("max_ne", 1)),
                        max_stable=int(data.get("max_stable", 0)), rules=rules, unconfirmed_as=unconfirmed)


def _target_sum(data, file) -> TargetSum | None:
    if data is None:
        return None
    _check_keys(data, TARGET_SUM_KEYS, file, "target_sum")
    tests = data.get("lesion_tests")
    if not isinstance(tests, list) or not tests or not all(isinstance(t, str) and t.strip() for t in tests):
        _fail("target_sum.lesion_tests must be a non-empty list of TRTESTCD codes", file, "target_sum.lesion_tests",
              tests)
    for key in ("sum_test", "target_status"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            _fail(f"target_sum.{key} must be a code", file, f"target_sum.{key}", data.get(key))
    return TargetSum(tuple(t.strip() for t in tests), data["sum_test"].strip(), data["target_status"].strip())


def criterion_from_dict(data: Mapping, *, file=None, base: Criterion | None = None,
                        base_data: Mapping | None = None) -> Criterion:
    """Validate one criterion mapping (``extends`` resolved by the caller through ``base_data``)."""
    where = f"criterion {data.get('name', '?')!r}" if isinstance(data, Mapping) else "criterion"
    _check_keys(data, CRITERION_KEYS, file, where)
    own = {k: v for k, v in data.items() if k not in ("extends", "flags")}
    merged = {**copy.deepcopy(dict(base_data or {})), **own}
    if not merged.get("name"):
        _fail("a criterion needs a name", file, "name")
    items = merged.get("responses")
    if not isinstance(items, list) or not items:
        _fail(f"{where}: responses must be a non-empty list (best first)", file, "responses")
    items = [dict(i) if isinstance(i, Mapping) else i for i in items]
    flags = dict((base_data or {}).get("flags") or {}) if "responses" not in data else {}
    flags.update(data.get("flags") or {})
    for code, changes in flags.items():
        hit = [i for i in items if isinstance(i, Mapping) and i.get("code") == code]
        if not hit:
            _fail(f"{where}: flags names a code that is not a response", file, f"flags.{code}", code)
        if not isinstance(changes, Mapping) or set(changes) - set(FLAGS) - {"label", "n"}:
            _fail(f"{where}: flags.{code} may set only {', '.join(FLAGS)}, label, n", file, f"flags.{code}")
        hit[0].update(changes)
    responses = tuple(_response(i, rank, file, f"responses[{rank - 1}]") for rank, i in enumerate(items, start=1))
    codes = [r.code for r in responses]
    if len(set(codes)) != len(codes):
        _fail(f"{where}: a response code is listed twice", file, "responses",
              next(c for c in codes if codes.count(c) > 1))
    owner: dict[str, str] = {}
    for r in responses:                      # a code or synonym naming two responses would be ambiguous
        for name in (r.code, *r.synonyms):
            if owner.setdefault(name.upper(), r.code) != r.code:
                _fail(f"{where}: {name!r} names both {owner[name.upper()]} and {r.code}", file,
                      f"responses.{r.code}.synonyms", name)
    miss = merged.get("missing") or {"code": "MISSING", "label": "Missing"}
    missing = _response(miss, len(responses) + 1, file, "missing")
    sets = {}
    for name, members in (merged.get("sets") or {}).items():
        bad = [m for m in members or [] if m not in codes]
        if bad or not members:
            _fail(f"{where}: set {name!r} names a code that is not a response", file, f"sets.{name}",
                  bad[0] if bad else None)
        sets[str(name)] = tuple(members)
    stable_days = merged.get("min_stable_days")
    if stable_days is not None and (not isinstance(stable_days, int) or stable_days < 0):
        _fail(f"{where}: min_stable_days must be a whole number of days or null", file, "min_stable_days",
              stable_days)
    return Criterion(name=str(merged["name"]), title=str(merged.get("title") or merged["name"]),
                     responses=responses, reference=str(merged.get("reference") or ""),
                     dataset_label=str(merged.get("dataset_label") or "Response Analysis Dataset"),
                     min_stable_days=stable_days,
                     confirmation=_confirmation(merged.get("confirmation"), set(codes), file, "confirmation"),
                     missing=missing, sets=sets, target_sum=_target_sum(merged.get("target_sum"), file),
                     source=str(file or ""))


@lru_cache(maxsize=64)
def _read(path: Path, stamp: tuple) -> dict:
    return load_yaml(path)


def _entries(path: Path) -> list[dict]:
    """The criteria of one file (parsed once per file version)."""
    path = Path(path)
    stat = path.stat() if path.is_file() else None
    data = copy.deepcopy(_read(path, (stat.st_mtime_ns, stat.st_size) if stat else None)) if stat else load_yaml(path)
    if "criteria" in data:
        if set(data) != {"criteria"} or not isinstance(data["criteria"], list):
            _fail("a criteria file holds one criterion, or only a 'criteria:' list of them", path, "criteria")
        return list(data["criteria"])
    return [data]


def _load_files(paths: Iterable[Path], raw: dict[str, tuple[dict, Path]], out: dict[str, Criterion]) -> None:
    for path in paths:
        for entry in _entries(path):
            if not isinstance(entry, Mapping):
                _fail("a criterion must be a mapping", path, "criteria")
            base = None
            if entry.get("extends") is not None:
                if entry["extends"] not in raw:
                    _fail(f"extends names an unknown criterion; known: {', '.join(sorted(raw))}", path, "extends",
                          entry["extends"])
                base = raw[entry["extends"]][0]
            crit = criterion_from_dict(entry, file=path, base_data=base)
            merged = {**copy.deepcopy(base or {}), **{k: v for k, v in entry.items() if k != "extends"}}
            raw[crit.name] = (merged, path)
            out[crit.name] = crit


def shipped_files() -> list[Path]:
    return sorted(FOLDER.glob("*.yaml"))


def study_criteria_files(study_specs_dir) -> list[Path]:
    """The study's criteria files: ``study.criteria_files`` of its adam.yaml (relative to the specs folder),
    else ``criteria.yaml`` when the folder has one."""
    specs = Path(study_specs_dir)
    adam = specs / "adam.yaml"
    if adam.is_file():
        stat = adam.stat()                  # parsed once per file version (``_read``), not on every ADaM build
        names = ((_read(adam, (stat.st_mtime_ns, stat.st_size)).get("study") or {}).get("criteria_files"))
        if names:
            return [specs / n for n in names]
    return [specs / "criteria.yaml"] if (specs / "criteria.yaml").is_file() else []


def load_criteria(study_specs_dir=None, *, files: Sequence | None = None) -> dict[str, Criterion]:
    """Every shipped criterion, then the study's files on top (same name = replaced; ``extends`` = derived).

    ``files`` (paths) replaces the lookup of the study's files in ``study_specs_dir``.
    """
    raw: dict[str, tuple[dict, Path]] = {}
    out: dict[str, Criterion] = {}
    _load_files(shipped_files(), raw, out)
    extra = [Path(f) for f in files] if files is not None else (
        study_criteria_files(study_specs_dir) if study_specs_dir is not None else [])
    _load_files(extra, raw, out)
    return out


def get_criterion(criteria: Mapping[str, Criterion], name: str, *, file=None, key: str = "criterion") -> Criterion:
    if name not in criteria:
        raise SpecError(f"unknown response criterion; known: {', '.join(sorted(criteria))}", file=file, column=key,
                        value=name)
    return criteria[name]
