"""Validation reports: a readable terminal summary and machine-readable JSON with stable fields."""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import fields
from operator import attrgetter
from pathlib import Path

from .collector import fewer_collections
from .finding_table import DATASET, RULE, SEVERITY, FindingTable, take
from .findings import ERROR, NOTICE, SEVERITIES, WARNING, Finding, ValidationReport
from .layout import compiled
from .registry import RULES

JSON_VERSION = 1


def report_dict(report: ValidationReport, *, package: str = "", standard: str = "", _findings: bool = True) -> dict:
    """The JSON report: summary counts, rule counts, then every finding (stable order and field names;
    ``_findings=False``: an empty list in their place, for ``report_json``)."""
    by_rule = rule_counts(report)
    return {
        "report_version": JSON_VERSION,
        "package": package,
        "standard": standard or report.standard,
        "summary": {
            "datasets": len(report.datasets),
            "records": sum(report.datasets.values()),
            "rules_run": report.rules_run,
            "errors": report.count(ERROR),
            "warnings": report.count(WARNING),
            "notices": report.count(NOTICE),
        },
        "datasets": [{"dataset": k, "records": v} for k, v in sorted(report.datasets.items())],
        "rules": [
            {"rule_id": rid, "severity": sev, "count": n, "message": RULES[rid].message if rid in RULES else "",
             "p21": list(RULES[rid].p21) if rid in RULES else []}
            for (rid, sev), n in sorted(by_rule.items(), key=lambda kv: (SEVERITIES.index(kv[0][1]), kv[0][0]))
        ],
        "findings": [_finding_dict(f) for f in report.sorted()] if _findings else [],
    }


def rule_counts(report: ValidationReport) -> Counter:
    """(rule id, severity) -> number of findings (once per report when the report memoises)."""
    memo = getattr(report, "memo", None)
    if memo is None:
        return Counter(map(attrgetter("rule_id", "severity"), report.findings))
    return memo("rule_counts", lambda: Counter(dict(report.table.group_counts((RULE, SEVERITY)))))


_FIELDS = tuple(f.name for f in fields(Finding))


def _finding_dict(f) -> dict:
    """``f.as_dict()`` without dataclasses.asdict's deep copy (a Finding holds only text and numbers)."""
    if type(f) is Finding:
        return {name: getattr(f, name) for name in _FIELDS}
    return f.as_dict()


def write_json(report: ValidationReport, path: Path, **kw) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report_json(report, **kw), encoding="utf-8")
    return path


def report_json(report: ValidationReport, **kw) -> str:
    """``json.dumps(report_dict(...), indent=1, ensure_ascii=True)`` and a newline, the findings written
    by ``table_text`` / ``findings_json`` (json's indented encoder is pure Python: 20,000 findings took
    seconds)."""
    report = sorted_report(report)
    doc = report_dict(report, _findings=False, **kw)
    text = json.dumps(doc, indent=1, ensure_ascii=True)
    tail = '"findings": []\n}'
    if not len(report.table) or not text.endswith(tail):
        return json.dumps(report_dict(report, **kw), indent=1, ensure_ascii=True) + "\n"
    body = table_text(report.table, indent=2)
    if body is None:
        body = findings_json([_finding_dict(f) for f in report.sorted()], indent=2)
    return text[:-len(tail)] + '"findings": [\n' + body + "\n ]\n}\n"


def table_text(table, *, indent: int) -> str | None:
    """``findings_json`` of a ``FindingTable``'s findings (the dicts ``_finding_dict`` makes): each distinct
    value of each field encoded once, every finding laid out by one format string over whole columns. None
    when some value is not text, a number, a bool or None (the caller takes the general path)."""
    from json.encoder import encode_basestring_ascii as text
    columns = []
    for values, codes in zip(table.values, table.codes):
        encoded = []
        for v in values:
            kind = type(v)
            if kind is str:
                encoded.append(text(v))
            elif v is None:
                encoded.append("null")
            elif kind is int:
                encoded.append(int.__repr__(v))
            elif kind is float or kind is bool:
                encoded.append(json.dumps(v, ensure_ascii=True))
            else:
                return None
        columns.append(take(encoded, codes))
    pad, inner = " " * indent, " " * (indent + 1)
    pieces = [pad + "{\n"]
    for i, name in enumerate(_FIELDS):
        pieces += [("," if i else "") + ("\n" if i else "") + f"{inner}{text(name)}: ", i]
    return ",\n".join(map(compiled(pieces + ["\n" + pad + "}"]), *columns))


def findings_json(findings: list[dict], *, indent: int) -> str:
    """Flat dicts as ``json.dumps(..., indent=1, ensure_ascii=True)`` lays them out inside a list at
    depth ``indent``; values go through json's own C string encoder (other values: json.dumps)."""
    from json.encoder import encode_basestring_ascii as text
    pad, inner = " " * indent, " " * (indent + 1)
    out = []
    for item in findings:
        if not item:
            out.append(pad + "{}")
            continue
        lines = []
        for key, value in item.items():
            kind = type(value)
            if kind is str:
                encoded = text(value)
            elif value is None:
                encoded = "null"
            elif kind is int:
                encoded = int.__repr__(value)
            elif kind is float or kind is bool:
                encoded = json.dumps(value, ensure_ascii=True)
            else:                                   # a nested or unusual value: let json lay it all out
                return ",\n".join(_indented(f, indent) for f in findings)
            lines.append(f"{inner}{text(str(key))}: {encoded}")
        out.append(pad + "{\n" + ",\n".join(lines) + "\n" + pad + "}")
    return ",\n".join(out)


def _indented(item: dict, indent: int) -> str:
    """One dict as json.dumps(indent=1) writes it at depth ``indent`` (the general, slow path)."""
    text = json.dumps(item, indent=1, ensure_ascii=True)
    return "\n".join(" " * indent + line for line in text.split("\n"))


def summary_lines(report: ValidationReport, *, title: str = "validation", max_rules: int = 20) -> list[str]:
    """Counts by severity, then one line per rule with an example record."""
    report = sorted_report(report)
    lines = [f"{title}: {len(report.datasets)} datasets, {sum(report.datasets.values())} records, "
             f"{report.rules_run} rules: {report.count(ERROR)} errors, {report.count(WARNING)} warnings, "
             f"{report.count(NOTICE)} notices"]
    groups = report.table.groups((SEVERITY, RULE, DATASET))
    for i, ((sev, rid, ds), rows) in enumerate(groups):
        if i >= max_rules:
            lines.append(f"  ... {len(groups) - max_rules} more rule/dataset groups (see the JSON report)")
            break
        f = report.table.findings(rows[:1])[0]
        items = rows
        where = ", ".join(p for p in [
            f"{f.variable}" if f.variable else "", f"USUBJID={f.usubjid}" if f.usubjid else "",
            f"SEQ={f.seq}" if f.seq else "", f"row {f.row}" if f.row else "",
            f"value={f.value!r}" if f.value is not None else ""] if p)
        lines.append(f"  {sev.upper():7} {rid:11} {ds:8} x{len(items):<5} {f.message}" + (f" [{where}]" if where else ""))
    return lines


class SortedReport:
    """A report as its writers read it: the findings as columns in report order (``FindingTable``), each count
    made once for every format (each format asks for the order and the counts: 200,000 findings at 10,000
    subjects). ``findings``/``sorted()`` build ``Finding`` objects, in report order, only if asked."""

    def __init__(self, report: ValidationReport):
        table = report.sorted_table()
        if table is None:                      # keys the columns cannot rank: the objects' own sort
            table = FindingTable.of(report.sorted())
        self.table = table
        self.datasets, self.rules_run = report.datasets, report.rules_run
        self.rule_ids, self.standard = report.rule_ids, report.standard
        self._memo: dict = {}
        self._findings = None

    @property
    def findings(self) -> list:
        if self._findings is None:
            self._findings = self.table.findings()
        return self._findings

    def sorted(self) -> list:
        return self.findings

    @property
    def size(self) -> int:
        return len(self.table)

    def count(self, severity: str) -> int:
        by = self.memo("severities", lambda: dict(self.table.group_counts((SEVERITY,))))
        return by.get((severity,), 0)

    def memo(self, key, make):
        """``make()``, computed once per key for this report."""
        if key not in self._memo:
            self._memo[key] = make()
        return self._memo[key]


def sorted_report(report) -> SortedReport:
    """``report`` as its writers read it (a ``SortedReport`` is returned as it is)."""
    return report if isinstance(report, SortedReport) else SortedReport(report)


_sorted_once = sorted_report


FORMATS = ("json", "html", "xlsx", "junit")          # written by default
EXTRA_FORMATS = ("core-json",)                      # on request: CDISC CORE's JSON report layout


def write_reports(report: ValidationReport, folder, *, formats=FORMATS, package: str = "", standard: str = "",
                  fail_on: str = ERROR, stem: str = "validation", sources: dict | None = None) -> list[Path]:
    """Write the requested formats into ``folder``: validation.json/.html/.xlsx and validation-junit.xml."""
    with fewer_collections():
        return _write_reports(report, folder, formats=formats, package=package, standard=standard,
                              fail_on=fail_on, stem=stem, sources=sources)


def _write_reports(report, folder, *, formats, package, standard, fail_on, stem, sources) -> list[Path]:
    from .report_formats import write_excel, write_html, write_junit
    report = sorted_report(report)
    folder = Path(folder)
    standard = standard or report.standard
    written = []
    for fmt in formats:
        if fmt == "json":
            written.append(write_json(report, folder / f"{stem}.json", package=package, standard=standard))
        elif fmt == "html":
            written.append(write_html(report, folder / f"{stem}.html", package=package, standard=standard))
        elif fmt == "xlsx":
            written.append(write_excel(report, folder / f"{stem}.xlsx", package=package, standard=standard))
        elif fmt == "junit":
            written.append(write_junit(report, folder / f"{stem}-junit.xml", fail_on=fail_on, package=package))
        elif fmt == "core-json":
            from .core_report import write_core_json
            written.append(write_core_json(report, folder / f"{stem}-core.json", package=package,
                                           sources=sources))
        else:
            raise ValueError(f"unknown report format {fmt}")
    return written
