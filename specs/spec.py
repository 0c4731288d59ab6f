"""Domain mapping specs (YAML, one file per domain): parsed into plain objects, strictly checked.

The grammar is documented in docs/specs.md. A rule is one *kind* key (how the value is obtained)
plus optional *modifiers* (CT decoding, recoding, metadata overrides). Unknown keys are errors so a
typo never silently maps nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import SpecError
from .yamlio import check_keys, did_you_mean, load_yaml

# kind -> what its value is (documentation and dispatch share this table)
RULE_KINDS = {
    "from": "copy a raw (or joined) column",
    "constant": "a fixed value; ${study.id} etc. are substituted",
    "template": "text built from columns: '{STUDYID}-{SITENO}-{SUBJNO}'",
    "expr": "a computed value from the expression language (num(), upper(), coalesce() ...)",
    "when": "conditional: list of {if: EXPR, then: VALUE|RULE}, optional else",
    "datetime": "ISO 8601 from raw date (+ time) fields in a declared raw format",
    "study_day": "--DY from a --DTC and the subject's reference date (no day 0)",
    "seq": "--SEQ: 1..n per subject in key order",
    "epoch": "EPOCH of a --DTC from the study's epochs",
    "visit": "VISIT from a raw visit label via the study visit schedule",
    "visitnum": "VISITNUM from a raw visit label via the study visit schedule",
    "visitdy": "VISITDY (planned study day) from a raw visit label",
    "aggregate": "a per-subject value from another domain: {domain, value, fn: min|max|first|last|count|one, where}",
    "elapsed": "ISO 8601 duration between two datetimes: {start, end}",
    "function": "a registered Python function (the escape hatch): {function: name, args: {...}}",
    "standardize": "--STRESC/--STRESN/--STRESU from --ORRES/--ORRESU by the study's unit table: "
                   "{result, unit, test, output: c|n|u, table: units.yaml}",
    "baseline": "--LOBXFL/--BLFL: 'Y' on the last non-missing record on/before the reference date: "
                "{by: [--TESTCD], date: --DTC, value: --ORRES, ref: DM.RFXSTDTC}",
}
RULE_MODIFIERS = {
    "ct", "synonyms", "map", "unmapped", "default", "label", "length", "origin", "crf_page", "comment",
    "method", "type", "upper", "significant_digits", "format", "args", "else", "ref", "round",
    "method_type", "origin_source", "dictionary", "date",
}
STANDARDIZE_KEYS = {"result", "unit", "test", "output", "table"}
BASELINE_KEYS = {"by", "date", "value", "ref", "where"}
ELAPSED_KEYS = {"start", "end"}
WHEN_BRANCH_KEYS = {"if", "then"}
UNMAPPED_POLICIES = ("error", "keep", "blank")
DATETIME_KEYS = {"date", "time", "format", "time_format", "unknown"}
AGGREGATE_KEYS = {"domain", "value", "fn", "where", "order", "scope"}
AGGREGATE_FNS = {"min", "max", "first", "last", "count", "one", "any"}
SPEC_KEYS = {"domain", "dataset", "label", "class", "structure", "keys", "sort", "sources", "variables", "supp",
             "standard", "comment", "depends_on", "working"}
SOURCE_KEYS = {"file", "table", "filter", "joins", "melt", "variables", "sheet", "encoding"}
JOIN_KEYS = {"file", "on", "columns", "how", "filter", "prefix", "sheet"}
MELT_KEYS = {"tests", "keep_blank", "columns"}
MELT_TEST_KEYS = {"value", "set", "unit", "when"}
SUPP_KEYS = {"qnam", "qlabel", "qorig", "qeval", "idvar", "when", "source"} | set(RULE_KINDS) | RULE_MODIFIERS


@dataclass(frozen=True)
class Rule:
    """How one variable gets its value."""

    variable: str
    kind: str
    value: Any
    options: dict = field(default_factory=dict)
    file: str | None = None

    def get(self, key, default=None):
        return self.options.get(key, default)

    @property
    def origin(self) -> str:
        """Define-XML origin type implied by the rule kind unless the spec says otherwise."""
        if self.options.get("origin"):
            return str(self.options["origin"])
        if self.kind in ("from", "datetime", "visit", "visitnum"):
            return "Collected"
        if self.kind == "constant":
            return "Assigned"
        return "Derived"


@dataclass(frozen=True)
class JoinSpec:
    file: str
    on: dict                # left column -> right column
    columns: tuple[str, ...]
    how: str = "left"
    filter: str | None = None
    prefix: str = ""
    sheet: str | None = None


@dataclass(frozen=True)
class MeltSpec:
    """Findings transposition: one raw row with many results → one row per test."""

    tests: tuple[dict, ...]   # each: {value: COL, unit: COL|None, set: {COL: VALUE}, when: EXPR}
    keep_blank: bool = False
    columns: dict = field(default_factory=dict)   # names of generated columns: value/unit


@dataclass(frozen=True)
class SourceSpec:
    name: str
    file: str
    filter: str | None = None
    joins: tuple[JoinSpec, ...] = ()
    melt: MeltSpec | None = None
    variables: dict = field(default_factory=dict)   # per-source rule overrides
    sheet: str | None = None
    encoding: str | None = None
    table: str | None = None        # rows from study.yaml trial_design.<table> instead of a raw file


@dataclass(frozen=True)
class SuppSpec:
    qnam: str
    qlabel: str
    rule: Rule
    qorig: str = "CRF"
    qeval: str | None = None
    idvar: str | None = None        # None → the domain's --SEQ (DM: no IDVAR)
    when: str | None = None
    source: str | None = None       # restrict to one source


@dataclass(frozen=True)
class DomainSpec:
    file: str
    domain: str
    dataset: str
    label: str | None
    cls: str | None
    structure: str | None
    keys: tuple[str, ...]
    sort: tuple[str, ...]
    sources: tuple[SourceSpec, ...]
    variables: dict                  # name -> Rule, in spec order
    supp: tuple[SuppSpec, ...]
    standard: str | None
    comment: str | None = None
    depends_on: tuple[str, ...] = ()
    working: frozenset = frozenset()   # helper variables computed like variables, never output

    @property
    def output_variables(self) -> list[str]:
        return [v for v in self.variables if v not in self.working]


def parse_rule(variable: str, raw, *, file, context: str | None = None) -> Rule:
    """A rule from YAML: a mapping with one kind key, or a bare scalar meaning a constant."""
    context = context or f"variable {variable}"
    if not isinstance(raw, dict):
        return Rule(variable, "constant", raw, {}, file)
    kinds = [k for k in raw if k in RULE_KINDS]
    unknown = sorted(set(raw) - set(RULE_KINDS) - RULE_MODIFIERS)
    if unknown:
        hint = did_you_mean(unknown[0], set(RULE_KINDS) | RULE_MODIFIERS)
        raise SpecError(f"unknown key {unknown[0]!r} in {context}{hint}; rule kinds: {', '.join(sorted(RULE_KINDS))}; "
                        f"modifiers: {', '.join(sorted(RULE_MODIFIERS))}", file=file, column=variable, value=unknown[0])
    if len(kinds) != 1:
        how = "no rule kind" if not kinds else f"several rule kinds ({', '.join(kinds)})"
        raise SpecError(f"{context} has {how}; give exactly one of: {', '.join(sorted(RULE_KINDS))}",
                        file=file, column=variable)
    kind = kinds[0]
    options = {k: v for k, v in raw.items() if k != kind}
    value = raw[kind]
    if kind == "datetime":
        if isinstance(value, str):
            value = {"date": value}
        if not isinstance(value, dict) or "date" not in value:
            raise SpecError("datetime needs {date: COLUMN, format: ...}", file=file, column=variable)
        check_keys(value, DATETIME_KEYS, file=file, context=f"{context} datetime")
    elif kind == "aggregate":
        if not isinstance(value, dict) or not {"domain", "value"} <= set(value):
            raise SpecError("aggregate needs {domain, value, fn}", file=file, column=variable)
        check_keys(value, AGGREGATE_KEYS, file=file, context=f"{context} aggregate")
        if value.get("fn", "one") not in AGGREGATE_FNS:
            raise SpecError(f"aggregate fn must be one of {', '.join(sorted(AGGREGATE_FNS))}", file=file,
                            column=variable, value=value.get("fn"))
    elif kind == "when":
        if not isinstance(value, list) or not value:
            raise SpecError("when needs a list of {if: EXPR, then: VALUE}", file=file, column=variable)
        branches = []
        for i, branch in enumerate(value):
            if not isinstance(branch, dict) or "if" not in branch or "then" not in branch:
                raise SpecError(f"when[{i}] needs if and then", file=file, column=variable)
            check_keys(branch, WHEN_BRANCH_KEYS, file=file, context=f"{context} when[{i}]")
            branches.append((str(branch["if"]), parse_rule(variable, branch["then"], file=file,
                                                           context=f"{context} when[{i}].then")))
        value = tuple(branches)
        if "else" in options:
            options["else"] = parse_rule(variable, options["else"], file=file, context=f"{context} else")
    elif kind == "standardize":
        if not isinstance(value, dict) or not {"result", "output"} <= set(value):
            raise SpecError("standardize needs {result, unit, test, output: c|n|u}", file=file, column=variable)
        check_keys(value, STANDARDIZE_KEYS, file=file, context=f"{context} standardize")
        if value["output"] not in ("c", "n", "u"):
            raise SpecError("standardize output must be c, n or u", file=file, column=variable, value=value["output"])
    elif kind == "baseline":
        if not isinstance(value, dict) or not {"date"} <= set(value):
            raise SpecError("baseline needs {date, by, value, ref}", file=file, column=variable)
        check_keys(value, BASELINE_KEYS, file=file, context=f"{context} baseline")
    elif kind == "elapsed":
        if not isinstance(value, dict) or not {"start", "end"} <= set(value):
            raise SpecError("elapsed needs {start: VAR, end: VAR}", file=file, column=variable)
        check_keys(value, ELAPSED_KEYS, file=file, context=f"{context} elapsed")
    if "date" in options and kind not in ("visit", "visitnum"):
        raise SpecError(f"{context}: date: (number unscheduled visits by date) only goes with visit or visitnum",
                        file=file, column=variable, value="date")
    if "map" in options and not isinstance(options["map"], dict):
        raise SpecError("map must be a mapping of raw value to submission value", file=file, column=variable)
    if "synonyms" in options and not isinstance(options["synonyms"], dict):
        raise SpecError("synonyms must be a mapping of raw value to submission value", file=file, column=variable)
    if options.get("unmapped", "error") not in ("error", "keep", "blank"):
        raise SpecError("unmapped must be error, keep or blank", file=file, column=variable,
                        value=options.get("unmapped"))
    return Rule(variable, kind, value, options, file)


def _parse_source(name, raw, file) -> SourceSpec:
    if isinstance(raw, str):
        raw = {"file": raw}
    if not isinstance(raw, dict) or ("file" in raw) == ("table" in raw):
        raise SpecError(f"source {name} needs file (a raw export) or table (a study.yaml trial_design table)",
                        file=file, column=name)
    check_keys(raw, SOURCE_KEYS, file=file, context=f"source {name}")
    joins = []
    for i, j in enumerate(raw.get("joins") or []):
        if not isinstance(j, dict) or "file" not in j or "on" not in j:
            raise SpecError(f"source {name} joins[{i}] needs file and on", file=file)
        check_keys(j, JOIN_KEYS, file=file, context=f"source {name} joins[{i}]")
        on = j["on"]
        on = {c: c for c in on} if isinstance(on, list) else ({on: on} if isinstance(on, str) else dict(on))
        if j.get("how", "left") not in ("left", "inner"):
            raise SpecError("join how must be left or inner", file=file, value=j.get("how"))
        joins.append(JoinSpec(str(j["file"]), on, tuple(j.get("columns") or ()), j.get("how", "left"),
                              j.get("filter"), j.get("prefix", ""), j.get("sheet")))
    melt = None
    if raw.get("melt") is not None:
        m = raw["melt"]
        if not isinstance(m, dict) or not m.get("tests"):
            raise SpecError(f"source {name} melt needs tests", file=file)
        check_keys(m, MELT_KEYS, file=file, context=f"source {name} melt")
        tests = []
        for i, t in enumerate(m["tests"]):
            if not isinstance(t, dict) or "value" not in t:
                raise SpecError(f"melt tests[{i}] needs value (the raw result column)", file=file)
            check_keys(t, MELT_TEST_KEYS, file=file, context=f"source {name} melt tests[{i}]")
            tests.append(dict(t))
        melt = MeltSpec(tuple(tests), bool(m.get("keep_blank", False)), dict(m.get("columns") or {}))
    variables = {}
    for var, rule in (raw.get("variables") or {}).items():
        variables[str(var)] = parse_rule(str(var), rule, file=file, context=f"source {name} variable {var}")
    return SourceSpec(name=name, file=str(raw.get("file", "")), filter=raw.get("filter"), joins=tuple(joins),
                      melt=melt, variables=variables, sheet=raw.get("sheet"), encoding=raw.get("encoding"),
                      table=raw.get("table"))


def _parse_supp(i, raw, file) -> SuppSpec:
    if not isinstance(raw, dict) or "qnam" not in raw or "qlabel" not in raw:
        raise SpecError(f"supp[{i}] needs qnam and qlabel", file=file)
    check_keys(raw, SUPP_KEYS, file=file, context=f"supp[{i}]")
    qnam = str(raw["qnam"])
    # `when:` text is the entry's condition; a `when:` list is the conditional rule kind
    condition = raw.get("when") if isinstance(raw.get("when"), str) else None
    rule_raw = {k: v for k, v in raw.items() if (k in RULE_KINDS or k in RULE_MODIFIERS)
                and not (k == "when" and condition is not None)}
    rule = parse_rule(qnam, rule_raw, file=file, context=f"supp {qnam}")
    return SuppSpec(qnam=qnam, qlabel=str(raw["qlabel"]), rule=rule, qorig=str(raw.get("qorig", "CRF")),
                    qeval=raw.get("qeval"), idvar=raw.get("idvar"), when=condition, source=raw.get("source"))


def load_domain_spec(path, data: dict | None = None) -> DomainSpec:
    """Parse one domain spec file (``data``: its YAML, when already read); every error names the file and
    the offending key."""
    path = Path(path)
    data = load_yaml(path) if data is None else data
    file = str(path)
    check_keys(data, SPEC_KEYS, file=file, context="domain spec")
    if not data.get("domain"):
        raise SpecError("spec needs domain: XX", file=file)
    domain = str(data["domain"]).upper()
    sources_raw = data.get("sources") or {}
    if not isinstance(sources_raw, dict) or not sources_raw:
        raise SpecError("spec needs sources: {name: {file: ...}}", file=file)
    sources = tuple(_parse_source(str(n), r, file) for n, r in sources_raw.items())
    vars_raw = data.get("variables") or {}
    if not isinstance(vars_raw, dict) or not vars_raw:
        raise SpecError("spec needs variables: {NAME: rule}", file=file)
    working_raw = data.get("working") or {}
    if not isinstance(working_raw, dict):
        raise SpecError("working must be a mapping of NAME: rule", file=file)
    variables = {str(v).upper(): parse_rule(str(v).upper(), r, file=file) for v, r in working_raw.items()}
    clash = sorted(set(variables) & {str(v).upper() for v in vars_raw})
    if clash:
        raise SpecError(f"{clash[0]} is declared both as a working and an output variable", file=file,
                        column=clash[0])
    variables.update({str(v).upper(): parse_rule(str(v).upper(), r, file=file) for v, r in vars_raw.items()})
    for src in sources:
        for var in src.variables:
            if var not in variables:
                raise SpecError(f"source {src.name} overrides {var}, which the domain does not declare", file=file,
                                column=var)
    supp = tuple(_parse_supp(i, s, file) for i, s in enumerate(data.get("supp") or []))
    keys = tuple(data.get("keys") or ())
    return DomainSpec(
        file=file, domain=domain, dataset=str(data.get("dataset", domain)).upper(), label=data.get("label"),
        cls=data.get("class"), structure=data.get("structure"), keys=keys, sort=tuple(data.get("sort") or keys),
        sources=sources, variables=variables, supp=supp, standard=data.get("standard"),
        comment=data.get("comment"), depends_on=tuple(data.get("depends_on") or ()),
        working=frozenset(str(v).upper() for v in working_raw),
    )


def load_domain_specs(folder) -> list[DomainSpec]:
    """Every *.yaml in a specs folder that declares a domain (adam.yaml etc. are skipped).

    The specs read last are kept with the bytes of their files and given again while the files hold the
    same bytes: a run reads them for the SDTM mapping and again for define.xml (methods, codelists, CRF
    pages), ~0.1 s of YAML parsing at 1,000 subjects; comparing the bytes costs well under 1 ms."""
    folder = Path(folder)
    if not folder.is_dir():
        raise SpecError("specs folder not found", file=folder)
    paths = sorted(folder.glob("*.yaml"))
    stamp = (str(folder), tuple((p.name, p.read_bytes()) for p in paths))
    if _LAST_SPECS and _LAST_SPECS[0] == stamp:
        return list(_LAST_SPECS[1])
    specs = _read_domain_specs(folder, paths)
    _LAST_SPECS[:] = [stamp, tuple(specs)]
    return specs


_LAST_SPECS: list = []          # [(folder, (file name, bytes) of each file), the specs read from them]


def _read_domain_specs(folder: Path, paths: list) -> list[DomainSpec]:
    specs = []
    for path in paths:
        data = load_yaml(path)
        if "domain" in data and path.name != "relrec.yaml":
            specs.append(load_domain_spec(path, data))       # the YAML read once, not again
    names = [s.dataset for s in specs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise SpecError(f"two specs build dataset {dupes[0]}", file=folder)
    return specs
