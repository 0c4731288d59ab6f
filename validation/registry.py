"""The rule catalogue: every conformance rule registered once, with its ids, severity and scope.

The gate (before XPT is written) and ``trialforge validate`` (any package, any origin) run the
same registered rules. A rule is either a column check (a vectorised mask over one variable,
compiled into a pandera check named by the rule id), or a vectorised function over a whole
dataset or the whole study; all report Findings. ``catalogue()`` is the same table as data, for
the docs, ``trialforge validate --list-rules`` and the Pinnacle 21 coverage count.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable

from .findings import SEVERITIES, Finding

SDTM = "SDTM"
ADAM = "ADaM"
ANY = "ANY"
KINDS = ("column", "dataset", "study")


@dataclass(frozen=True)
class Rule:
    id: str                          # the project's own id, e.g. TF-CT-001
    severity: str                    # error / warning / notice
    message: str
    scope: str = ANY                 # SDTM / ADaM / ANY
    p21: tuple[str, ...] = ()        # Pinnacle 21 ids it corresponds to
    publisher: tuple[str, ...] = ()  # SDTMIG conformance (CGxxxx) / FDA business rule (FDABxxx) ids
    domains: tuple[str, ...] = ()    # empty = every dataset in scope
    kind: str = "dataset"            # column (pandera) / dataset / study
    check: Callable | None = field(default=None, compare=False, repr=False)
    classes: tuple[str, ...] = ()    # observation classes / ADaM structures it targets (documentation)
    category: str = ""               # Presence / Format / Terminology / Consistency / Limit / Cross-reference
    since: str | None = None         # first SDTMIG version the rule applies to (e.g. "3.3" for ARMNRS)

    def finding(self, dataset: str, **kw) -> Finding:
        message = kw.pop("message", None) or self.message
        return Finding(rule_id=self.id, severity=self.severity, dataset=dataset, message=message, **kw)

    def findings(self, dataset: str, variable, message, usubjids, seqs, rows, values) -> list[Finding]:
        """One Finding per record (``finding`` for each, built without the frozen dataclass's per-field
        ``object.__setattr__``: a rule may report thousands of records)."""
        message = message or self.message
        new = object.__new__
        out = []
        for u, s, r, v in zip(usubjids, seqs, rows, values):
            f = new(Finding)
            f.__dict__.update(rule_id=self.id, severity=self.severity, dataset=dataset, message=message,
                              variable=variable, usubjid=u, seq=s, row=r, value=v)
            out.append(f)
        return out

    def as_dict(self) -> dict:
        """The catalogue row (stable field names; the check itself is named by its function)."""
        return {"rule_id": self.id, "severity": self.severity, "scope": self.scope, "kind": self.kind,
                "category": self.category, "classes": list(self.classes), "domains": list(self.domains),
                "p21": list(self.p21), "publisher": list(self.publisher), "message": self.message,
                "since": self.since or "", "check": getattr(self.check, "__name__", "")}


RULES: dict[str, Rule] = {}


def register(id: str, severity: str, message: str, *, scope: str = ANY, p21=(), publisher=(), domains=(),
             kind: str = "dataset", classes=(), category: str = "", since: str | None = None):
    """Decorator registering a check under a rule id (ids are unique)."""
    if severity not in SEVERITIES:
        raise ValueError(f"bad severity {severity} for {id}")
    if kind not in KINDS:
        raise ValueError(f"bad kind {kind} for {id}")

    def wrap(fn):
        if id in RULES:
            raise ValueError(f"rule {id} registered twice")
        RULES[id] = Rule(id, severity, message, scope, tuple(p21), tuple(publisher), tuple(domains), kind, fn,
                         tuple(classes), category, since)
        return fn
    return wrap


def rules_for(scope: str, kind: str | None = None, ig_version: str | None = None) -> list[Rule]:
    """Rules of a scope (and kind) that apply to the IG version (None = the newest)."""
    return [r for r in RULES.values() if r.scope in (scope, ANY) and (kind is None or r.kind == kind)
            and applies_to_version(r, ig_version)]


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split(".") if x.isdigit())


def applies_to_version(rule: Rule, ig_version: str | None) -> bool:
    return not (rule.since and ig_version) or _version(ig_version) >= _version(rule.since)


def applies(rule: Rule, dataset_name: str) -> bool:
    if not rule.domains:
        return True
    name = dataset_name.upper()
    return any(name == d or (d.endswith("*") and name.startswith(d[:-1])) for d in rule.domains)


def iter_findings(results: Iterable[Finding] | None) -> list[Finding]:
    return list(results or ())


def catalogue() -> list[dict]:
    """Every registered rule as a row, sorted by id (the catalogue as data)."""
    load_all()
    return [RULES[k].as_dict() for k in sorted(RULES)]


def load_all() -> dict[str, Rule]:
    """Import every rule module so the registry is complete; returns the registry."""
    from . import rules  # noqa: F401  (imports each rules_* module)
    return RULES
