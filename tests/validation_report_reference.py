"""The validation report writers as they were before the columnar findings (eighth speed pass, issue 15),
kept as the reference the tests compare the new writers with: every function here reads ``Finding`` objects
one at a time (``report.sorted()``, ``report.findings``) and is otherwise the old code, unchanged."""
from __future__ import annotations

import html
import json
from collections import Counter
from itertools import chain
from operator import attrgetter
from pathlib import Path
from xml.sax.saxutils import quoteattr

from trialforge.validation.findings import ERROR, NOTICE, SEVERITIES, WARNING, Finding, ValidationReport, _RANK
from trialforge.validation.layout import compiled
from trialforge.validation.registry import RULES
from trialforge.validation.report import _FIELDS, _finding_dict, findings_json, report_dict
from trialforge.validation.report_formats import MAX_HTML_ROWS, _CSS, _JS, _escaper, _line, _message, _p21


class OldReport:
    """A report read the old way: its findings as the objects given, sorted by ``Finding.sort_key``."""

    def __init__(self, report: ValidationReport):
        self.findings = list(report.findings)
        self.datasets, self.rules_run, self.rule_ids, self.standard = (report.datasets, report.rules_run,
                                                                        report.rule_ids, report.standard)

    def sorted(self) -> list:
        return sorted(self.findings, key=lambda f: f.sort_key)

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    def by_rule(self) -> dict:
        groups: dict = {}
        for f in self.sorted():
            groups.setdefault((f.dataset, f.rule_id, f.severity), []).append(f)
        return groups


def rule_counts(report) -> Counter:
    return Counter(map(attrgetter("rule_id", "severity"), report.findings))


def dataset_counts(report):
    return _dataset_counts(report)


def _dataset_counts(report: ValidationReport) -> list[tuple[str, int, int, int, int]]:
    counts = Counter(map(attrgetter("dataset", "severity"), report.findings))
    names = sorted(set(report.datasets) | {ds for ds, _sev in counts})
    return [(n, report.datasets.get(n, 0), counts[n, ERROR], counts[n, WARNING], counts[n, NOTICE]) for n in names]


def report_json(report: ValidationReport, **kw) -> str:
    """``json.dumps(report_dict(...), indent=1, ensure_ascii=True)`` and a newline, the findings written
    by ``findings_text`` / ``findings_json`` (json's indented encoder is pure Python: 20,000 findings took
    seconds)."""
    doc = report_dict(report, _findings=False, **kw)
    text = json.dumps(doc, indent=1, ensure_ascii=True)
    tail = '"findings": []\n}'
    order = report.sorted()
    if not order or not text.endswith(tail):
        return json.dumps(report_dict(report, **kw), indent=1, ensure_ascii=True) + "\n"
    body = findings_text(order, indent=2)
    if body is None:
        body = findings_json([_finding_dict(f) for f in order], indent=2)
    return text[:-len(tail)] + '"findings": [\n' + body + "\n ]\n}\n"


_GET_FIELDS = attrgetter(*_FIELDS)
_SIMPLE = {str, int, type(None)}


def findings_text(findings, *, indent: int) -> str | None:
    """``findings_json`` of plain ``Finding`` objects (text, whole numbers, None) without building a dict
    per finding: each distinct value is encoded once and every finding laid out by one format string.
    None when some finding is not that simple (the caller takes the general path)."""
    if any(type(f) is not Finding for f in findings):
        return None
    rows = list(map(_GET_FIELDS, findings))
    if not set(map(type, chain.from_iterable(rows))) <= _SIMPLE:
        return None
    from json.encoder import encode_basestring_ascii as text
    encoded = {v: "null" if v is None else text(v) if type(v) is str else int.__repr__(v)
               for v in set().union(*rows)}                  # str, int and None never collide as keys
    pad, inner = " " * indent, " " * (indent + 1)
    pieces = [pad + "{\n"]
    for i, name in enumerate(_FIELDS):
        pieces += [("," if i else "") + ("\n" if i else "") + f"{inner}{text(name)}: ", i]
    layout = compiled(pieces + ["\n" + pad + "}"])
    value = encoded.__getitem__
    return ",\n".join([layout(*map(value, row)) for row in rows])


def summary_lines(report: ValidationReport, *, title: str = "validation", max_rules: int = 20) -> list[str]:
    """Counts by severity, then one line per rule with an example record."""
    lines = [f"{title}: {len(report.datasets)} datasets, {sum(report.datasets.values())} records, "
             f"{report.rules_run} rules: {report.count(ERROR)} errors, {report.count(WARNING)} warnings, "
             f"{report.count(NOTICE)} notices"]
    groups: dict = {}
    for f in report.sorted():
        groups.setdefault((f.severity, f.rule_id, f.dataset), []).append(f)
    for i, ((sev, rid, ds), items) in enumerate(groups.items()):
        if i >= max_rules:
            lines.append(f"  ... {len(groups) - max_rules} more rule/dataset groups (see the JSON report)")
            break
        f = items[0]
        where = ", ".join(p for p in [
            f"{f.variable}" if f.variable else "", f"USUBJID={f.usubjid}" if f.usubjid else "",
            f"SEQ={f.seq}" if f.seq else "", f"row {f.row}" if f.row else "",
            f"value={f.value!r}" if f.value is not None else ""] if p)
        lines.append(f"  {sev.upper():7} {rid:11} {ds:8} x{len(items):<5} {f.message}" + (f" [{where}]" if where else ""))
    return lines


def write_html(report: ValidationReport, path, *, package: str = "", standard: str = "") -> Path:
    """A page a person can browse: summary, then findings per dataset with the offending values."""
    e = _escaper()
    out = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
           f"<title>trialforge validation: {e(package)}</title><style>{_CSS}</style><script>{_JS}</script></head><body>",
           "<h1>trialforge validation report</h1>",
           f"<p class='muted'>{e(package)} &middot; {e(standard or report.standard)} &middot; {len(report.datasets)} datasets, "
           f"{sum(report.datasets.values())} records, {report.rules_run} rules &middot; "
           f"<span class='error'>{report.count(ERROR)} errors</span>, <span class='warning'>{report.count(WARNING)} warnings</span>, "
           f"<span class='notice'>{report.count(NOTICE)} notices</span></p>",
           "<h2>Datasets</h2><table><tr><th>Dataset</th><th>Records</th><th>Errors</th><th>Warnings</th><th>Notices</th></tr>"]
    for name, n, ne, nw, nn in dataset_counts(report):
        out.append(f"<tr><td><a href='#ds-{e(name)}'>{e(name)}</a></td><td class='num'>{n}</td><td class='num'>{ne}</td>"
                   f"<td class='num'>{nw}</td><td class='num'>{nn}</td></tr>")
    out.append("</table><h2>Rules with findings</h2><table><tr><th>Rule</th><th>P21</th><th>Severity</th><th>Message</th><th>Count</th></tr>")
    by_rule = rule_counts(report)
    for (rid, sev), n in sorted(by_rule.items(), key=lambda kv: (_RANK.get(kv[0][1], 9), kv[0][0])):
        out.append(f"<tr><td>{e(rid)}</td><td>{e(_p21(rid))}</td><td class='{sev}'>{sev}</td><td>{e(_message(rid))}</td>"
                   f"<td class='num'>{n}</td></tr>")
    out.append("</table><div id='bar'><input id='q' type='search' placeholder='filter: rule, variable, subject, value…' "
               "oninput='apply()'> " + " ".join(
                   f"<label><input type='checkbox' value='{s}' checked onchange='apply()'> {s}</label>" for s in SEVERITIES)
               + "</div>")
    groups = report.by_rule()
    for name, *_ in dataset_counts(report):
        items = [(k, v) for k, v in groups.items() if k[0] == name]
        if not items:
            continue
        out.append(f"<h2 id='ds-{e(name)}'>{e(name)} <span class='pill'>{report.datasets.get(name, 0)} records</span></h2>")
        for (_, rid, sev), findings in items:
            out.append(f"<details class='g' open><summary><span class='{sev}'>{sev}</span> {e(rid)} &times;{len(findings)}: "
                       f"{e(findings[0].message)}</summary><table><tr><th>Variable</th><th>USUBJID</th><th>SEQ</th><th>Row</th>"
                       "<th>Value</th><th>Message</th></tr>")
            for f in findings[:MAX_HTML_ROWS]:
                out.append(f"<tr class='f' data-sev='{sev}'><td>{e(f.variable or '')}</td><td>{e(f.usubjid or '')}</td>"
                           f"<td>{e(f.seq or '')}</td><td class='num'>{f.row or ''}</td><td class='val'>{e(f.value or '')}</td>"
                           f"<td>{e(f.message)}<span hidden> {e(rid)}</span></td></tr>")
            if len(findings) > MAX_HTML_ROWS:
                out.append(f"<tr><td colspan='6' class='muted'>{len(findings) - MAX_HTML_ROWS} more in the JSON/Excel report</td></tr>")
            out.append("</table></details>")
    if not report.findings:
        out.append("<p>No findings.</p>")
    out.append("</body></html>\n")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(out), encoding="utf-8")
    return path


def write_excel(report: ValidationReport, path, *, package: str = "", standard: str = "") -> Path:
    """Workbook in the layout reviewers know: Dataset Summary, Issue Summary, Details, Rules.

    When every value is plain text or a whole number (``xlsx_rows.plain``, always so for findings) the
    workbook is written from templates in openpyxl's exact form (``xlsx_book``: no openpyxl import, rows
    streamed into the zip); otherwise openpyxl writes it. Either way the bytes are openpyxl's.
    """
    from trialforge.validation import xlsx_book
    from trialforge.validation.report_formats import _excel_by_openpyxl
    from trialforge.validation.xlsx_rows import all_plain

    sheets = excel_sheets(report)
    as_text = all(all(len(row) == len(header) for row in rows) and all_plain(rows) for _t, header, rows, _w in sheets)
    title = f"Validation {package} {standard or report.standard}".strip()
    path = Path(path)
    if as_text and xlsx_book.supported(sheets) and xlsx_book.plain_title(title):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(xlsx_book.workbook_bytes(sheets, creator="trialforge", title=title))
        return path
    return _excel_by_openpyxl(sheets, path, title, as_text)


def excel_sheets(report: ValidationReport) -> list:
    """(title, header, rows, column widths) of each sheet of the Excel report."""
    by = Counter(map(attrgetter("dataset", "rule_id", "severity", "message"), report.findings))
    issues = [(ds, rid, _p21(rid), msg, sev, n) for (ds, rid, sev, msg), n in
              sorted(by.items(), key=lambda kv: (kv[0][0], _RANK.get(kv[0][2], 9), kv[0][1], kv[0][3]))]
    p21 = {rid: _p21(rid) for rid in {f.rule_id for f in report.findings}}
    details = [(f.dataset, f.rule_id, p21[f.rule_id], f.message, f.severity, f.variable or "", f.usubjid or "",
                f.seq or "", f.row or "", f.value or "") for f in report.sorted()]
    rules = [(r.id, ", ".join(r.p21), ", ".join(r.publisher), r.severity, r.scope, r.category, r.message)
             for r in sorted(RULES.values(), key=lambda r: r.id) if not report.rule_ids or r.id in report.rule_ids]
    sheets = [
        ("Dataset Summary", ["Dataset", "Records", "Errors", "Warnings", "Notices"], dataset_counts(report),
         [12, 10, 8, 10, 8]),
        ("Issue Summary", ["Dataset", "Rule ID", "Pinnacle 21 ID", "Message", "Severity", "Found"], issues,
         [12, 12, 16, 70, 9, 8]),
        ("Details", ["Dataset", "Rule ID", "Pinnacle 21 ID", "Message", "Severity", "Variable", "USUBJID", "SEQ",
                     "Row", "Value"], details, [10, 12, 14, 60, 9, 10, 16, 6, 7, 40]),
        ("Rules", ["Rule ID", "Pinnacle 21 ID", "Publisher ID", "Severity", "Scope", "Category", "Message"], rules,
         [12, 20, 20, 9, 7, 14, 70]),
    ]
    return sheets


def write_junit(report: ValidationReport, path, *, fail_on: str = ERROR, package: str = "") -> Path:
    """One testsuite per dataset (plus "study"), one testcase per rule that ran on it; a rule with
    findings at or above ``fail_on`` is a failure, lesser findings go to system-out."""
    limit = _RANK[fail_on]
    groups: dict[tuple[str, str], list] = {}
    for f in report.sorted():
        groups.setdefault((f.dataset, f.rule_id), []).append(f)
    rule_ids = report.rule_ids or sorted({f.rule_id for f in report.findings})
    suites = []
    names = [n for n, *_ in dataset_counts(report)]
    total_tests = total_fail = 0
    rule_names: dict = {}                  # rid -> its quoted name attribute (the same in every suite)
    for name in names:
        cases, failures = [], 0
        ids = sorted(set(rule_ids) | {rid for (ds, rid) in groups if ds == name})
        classname = f"classname={quoteattr('trialforge.' + name)} name="
        for rid in ids:
            found = groups.get((name, rid), ())
            rule_name = rule_names.get(rid)
            if rule_name is None:
                rule_name = rule_names[rid] = quoteattr(rid + ' ' + _message(rid))
            attrs = classname + rule_name
            if not found:
                cases.append(f"  <testcase {attrs}/>")
                continue
            bad = [f for f in found if _RANK.get(f.severity, 9) <= limit]
            if bad:
                failures += 1
                body = "\n".join(_line(f) for f in bad[:200]) + (f"\n... {len(bad) - 200} more" if len(bad) > 200 else "")
                cases.append(f"  <testcase {attrs}><failure type={quoteattr(bad[0].severity)} "
                             f"message={quoteattr(f'{len(bad)} finding(s): {bad[0].message}')}>{html.escape(body)}</failure></testcase>")
            elif found:
                body = "\n".join(_line(f) for f in found[:200])
                cases.append(f"  <testcase {attrs}><system-out>{html.escape(body)}</system-out></testcase>")
            else:
                cases.append(f"  <testcase {attrs}/>")
        total_tests += len(cases)
        total_fail += failures
        suites.append(f" <testsuite name={quoteattr(name)} tests='{len(cases)}' failures='{failures}' errors='0' "
                      f"skipped='0'>\n" + "\n".join(cases) + "\n </testsuite>")
    text = (f"<?xml version='1.0' encoding='UTF-8'?>\n<testsuites name={quoteattr('trialforge validate ' + package)} "
            f"tests='{total_tests}' failures='{total_fail}'>\n" + "\n".join(suites) + "\n</testsuites>\n")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
