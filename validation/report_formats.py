"""Report formats a person or a CI system reads: HTML (browse and filter), Excel (the familiar
Dataset Summary / Issue Summary / Details layout), JUnit XML (CI shows failures natively).

All writers are deterministic: same report, byte-identical file (no timestamps).
"""
from __future__ import annotations

import html
import io
import zipfile
from collections import Counter
from datetime import datetime
from itertools import repeat
from operator import attrgetter
from pathlib import Path

import numpy as np

from .finding_table import DATASET, MESSAGE, ROW, RULE, SEQ, SEVERITY, USUBJID, VALUE, VARIABLE, take
from .findings import ERROR, NOTICE, SEVERITIES, WARNING, ValidationReport, _RANK
from .layout import compiled
from .registry import RULES
from .report import rule_counts

FIXED_TIME = datetime(2000, 1, 1)
MAX_HTML_ROWS = 2000          # per dataset/rule group; the JSON and Excel reports hold every finding


def quoteattr(data: str) -> str:
    """``xml.sax.saxutils.quoteattr(data)``, the same text, without importing ``xml.sax.saxutils``: it imports
    ``urllib.request`` (with ``http.client``, ``ssl`` and ``email``), ~50 ms of a run's main process spent
    only on the JUnit report's attribute quoting."""
    data = data.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")
    data = data.replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")
    if '"' in data:
        if "'" in data:
            return '"%s"' % data.replace('"', "&quot;")
        return "'%s'" % data
    return '"%s"' % data


def _p21(rule_id: str) -> str:
    rule = RULES.get(rule_id)
    return ", ".join(rule.p21) if rule else ""


def _message(rule_id: str) -> str:
    rule = RULES.get(rule_id)
    return rule.message if rule else ""


def dataset_counts(report: ValidationReport) -> list[tuple[str, int, int, int, int]]:
    """(dataset, records, errors, warnings, notices) for every dataset, plus finding-only names."""
    memo = getattr(report, "memo", None)
    if memo is not None:                  # a report being written in several formats: counted once
        return memo("dataset_counts", lambda: _dataset_counts(report, Counter(dict(
            report.table.group_counts((DATASET, SEVERITY))))))
    return _dataset_counts(report)


def _dataset_counts(report: ValidationReport, counts=None) -> list[tuple[str, int, int, int, int]]:
    if counts is None:
        counts = Counter(map(attrgetter("dataset", "severity"), report.findings))
    names = sorted(set(report.datasets) | {ds for ds, _sev in counts})
    return [(n, report.datasets.get(n, 0), counts[n, ERROR], counts[n, WARNING], counts[n, NOTICE]) for n in names]


# ---- HTML ----------------------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:1.5rem;color:#1d2733}
h1{font-size:1.4rem;margin:0 0 .3rem} h2{font-size:1.1rem;margin:1.6rem 0 .4rem} .muted{color:#5b6673}
table{border-collapse:collapse;margin:.4rem 0;font-size:.85rem} th,td{border:1px solid #d5dbe1;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#eef2f6} td.num{text-align:right}
.error{color:#a3151d;font-weight:600} .warning{color:#8a5300;font-weight:600} .notice{color:#2b5c8a}
.pill{display:inline-block;padding:.05rem .45rem;border-radius:.6rem;font-size:.75rem;background:#eef2f6}
#bar{position:sticky;top:0;background:#fff;padding:.5rem 0;border-bottom:1px solid #d5dbe1}
#bar input[type=search]{width:22rem;padding:.25rem} details{margin:.3rem 0} summary{cursor:pointer}
.val{font-family:ui-monospace,Menlo,monospace;white-space:pre-wrap}
"""

_JS = """
function apply(){const q=document.getElementById('q').value.toLowerCase();
const on={};document.querySelectorAll('#bar input[type=checkbox]').forEach(c=>on[c.value]=c.checked);
document.querySelectorAll('tr.f').forEach(r=>{const ok=on[r.dataset.sev]&&(!q||r.textContent.toLowerCase().includes(q));r.style.display=ok?'':'none';});
document.querySelectorAll('details.g').forEach(d=>{const vis=[...d.querySelectorAll('tr.f')].some(r=>r.style.display!=='none');d.style.display=vis?'':'none';});}
"""


def write_html(report: ValidationReport, path, *, package: str = "", standard: str = "") -> Path:
    """A page a person can browse: summary, then findings per dataset with the offending values."""
    from .report import sorted_report
    report = sorted_report(report)
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
    table = report.table
    groups: dict = {}                     # dataset -> [(rule id, severity, positions)] in report order
    for (ds, rid, sev), rows in table.groups((DATASET, RULE, SEVERITY)):
        groups.setdefault(ds, []).append((rid, sev, rows))
    cells = _html_cells(table, e)
    for name, *_ in dataset_counts(report):
        items = groups.get(name)
        if not items:
            continue
        out.append(f"<h2 id='ds-{e(name)}'>{e(name)} <span class='pill'>{report.datasets.get(name, 0)} records</span></h2>")
        for rid, sev, rows in items:
            out.append(f"<details class='g' open><summary><span class='{sev}'>{sev}</span> {e(rid)} &times;{len(rows)}: "
                       f"{e(table.values[MESSAGE][table.codes[MESSAGE][rows[0]]])}</summary><table><tr><th>Variable</th>"
                       "<th>USUBJID</th><th>SEQ</th><th>Row</th><th>Value</th><th>Message</th></tr>")
            shown = rows[:MAX_HTML_ROWS]
            head, tail = f"<tr class='f' data-sev='{sev}'><td>", f"<span hidden> {e(rid)}</span></td></tr>"
            out += map(_HTML_ROW, *(take(column, codes[shown]) for column, codes in cells), repeat(head), repeat(tail))
            if len(rows) > MAX_HTML_ROWS:
                out.append(f"<tr><td colspan='6' class='muted'>{len(rows) - MAX_HTML_ROWS} more in the JSON/Excel report</td></tr>")
            out.append("</table></details>")
    if not len(table):
        out.append("<p>No findings.</p>")
    out.append("</body></html>\n")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(out), encoding="utf-8")
    return path


#: one finding's row: (variable, usubjid, seq, row, value, message cells, the row's head and tail)
_HTML_ROW = compiled([6, 0, "</td><td>", 1, "</td><td>", 2, "</td><td class='num'>", 3, "</td><td class='val'>", 4,
                      "</td><td>", 5, 7])


def _html_cells(table, e) -> list:
    """(cell text per distinct value, codes) of the columns an HTML finding row shows: escaped variable,
    subject, --SEQ, value and message (a missing one empty) and the row number as text."""
    def escaped(j):
        return [e(v or "") for v in table.values[j]], table.codes[j]
    return [escaped(VARIABLE), escaped(USUBJID), escaped(SEQ), ([f"{v or ''}" for v in table.values[ROW]],
            table.codes[ROW]), escaped(VALUE), ([e(v) for v in table.values[MESSAGE]], table.codes[MESSAGE])]


def _escaper():
    """``html.escape``, each distinct text escaped once (a report repeats its subjects, variables and
    messages thousands of times)."""
    seen: dict = {}
    escape = html.escape

    def e(value):
        out = seen.get(value)
        if out is None:
            out = seen[value] = escape(value)
        return out
    return e


# ---- Excel -------------------------------------------------------------------------------------

def write_excel(report: ValidationReport, path, *, package: str = "", standard: str = "") -> Path:
    """Workbook in the layout reviewers know: Dataset Summary, Issue Summary, Details, Rules.

    When every value is plain text or a whole number (``xlsx_rows.plain``, always so for findings) the
    workbook is written from templates in openpyxl's exact form (``xlsx_book``: no openpyxl import, rows
    streamed into the zip); otherwise openpyxl writes it. Either way the bytes are openpyxl's.
    """
    from . import xlsx_book
    from .xlsx_rows import all_plain, rows_of_width

    sheets = excel_sheets(report)
    as_text = all(rows_of_width(rows, len(header)) and all_plain(rows) for _t, header, rows, _w in sheets)
    title = f"Validation {package} {standard or report.standard}".strip()
    path = Path(path)
    if as_text and xlsx_book.supported(sheets) and xlsx_book.plain_title(title):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(xlsx_book.workbook_bytes(sheets, creator="trialforge", title=title))
        return path
    return _excel_by_openpyxl(sheets, path, title, as_text)


def excel_sheets(report: ValidationReport) -> list:
    """(title, header, rows, column widths) of each sheet of the Excel report."""
    from .report import sorted_report
    from .xlsx_rows import ColumnRows
    report = sorted_report(report)
    table = report.table
    by = table.group_counts((DATASET, RULE, SEVERITY, MESSAGE))
    issues = [(ds, rid, _p21(rid), msg, sev, n) for (ds, rid, sev, msg), n in
              sorted(by, key=lambda kv: (kv[0][0], _RANK.get(kv[0][2], 9), kv[0][1], kv[0][3]))]

    def column(j, fill=False):
        values = table.values[j]
        return [v or "" for v in values] if fill else values, table.codes[j]
    details = ColumnRows([column(DATASET), column(RULE), ([_p21(r) for r in table.values[RULE]], table.codes[RULE]),
                          column(MESSAGE), column(SEVERITY), column(VARIABLE, True), column(USUBJID, True),
                          column(SEQ, True), column(ROW, True), column(VALUE, True)])
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


def _excel_by_openpyxl(sheets, path: Path, title: str, as_text: bool) -> Path:
    """The workbook through openpyxl (values that are not plain, a title that needs escaping); the rows are
    put in as text after openpyxl's save when they are plain (``as_text``)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    from .xlsx_rows import rows_xml

    wb = Workbook()
    head_font, head_fill = Font(bold=True), PatternFill("solid", fgColor="DDE4EC")
    for i, (sheet_title, header, rows, widths) in enumerate(sheets):
        ws = wb.active if i == 0 else wb.create_sheet(sheet_title)
        ws.title = sheet_title
        ws.append(header)
        for cell in ws[1]:
            cell.font, cell.fill = head_font, head_fill
        if as_text:
            if rows:            # an empty last cell: the sheet's dimension and filter span the rows to come
                ws.cell(row=len(rows) + 1, column=len(header))
        else:
            for row in rows:
                ws.append(list(row))
        for j, w in enumerate(widths):
            ws.column_dimensions[chr(65 + j)].width = w
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = ws.dimensions
    wb.properties.creator = "trialforge"
    wb.properties.title = title
    wb.properties.created = wb.properties.modified = FIXED_TIME
    buffer = io.BytesIO()
    wb.save(buffer)
    rows_of = {f"xl/worksheets/sheet{i}.xml": (rows, len(header))
               for i, (_t, header, rows, _w) in enumerate(sheets, start=1)} if as_text else {}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_fixed_zip(buffer.getvalue(), lambda name, xml: _with_rows(xml, *rows_of[name], rows_xml)
                                if name in rows_of else xml))
    return path


def _with_rows(xml: bytes, rows, width: int, rows_xml) -> bytes:
    """The sheet with its data rows after the header row (openpyxl wrote the header row only)."""
    text = xml.decode("utf-8")
    start = text.index("<sheetData>")
    header_end = text.index("</row>", start) + len("</row>")
    end = text.index("</sheetData>", header_end)
    return (text[:header_end] + rows_xml(rows, 2, width) + text[end:]).encode("utf-8")


def _fixed_zip(data: bytes, rewrite=None) -> bytes:
    """Rewrite a zip with fixed entry times so the workbook is byte-identical across runs;
    ``rewrite(name, bytes)`` may replace an entry's content on the way."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            info = zipfile.ZipInfo(item.filename, date_time=(2000, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = item.external_attr
            text = src.read(item.filename)
            if item.filename == "docProps/core.xml":
                text = _strip_modified(text)
            if rewrite is not None:
                text = rewrite(item.filename, text)
            dst.writestr(info, text)
    return out.getvalue()


def _strip_modified(xml: bytes) -> bytes:
    import re
    return re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)", rb"\g<1>2000-01-01T00:00:00Z\g<2>", xml)


# ---- JUnit XML ---------------------------------------------------------------------------------

def write_junit(report: ValidationReport, path, *, fail_on: str = ERROR, package: str = "") -> Path:
    """One testsuite per dataset (plus "study"), one testcase per rule that ran on it; a rule with
    findings at or above ``fail_on`` is a failure, lesser findings go to system-out."""
    from .report import sorted_report
    report = sorted_report(report)
    limit = _RANK[fail_on]
    table = report.table
    groups = {key: _Group(table, rows) for key, rows in table.groups((DATASET, RULE))}
    rule_ids = report.rule_ids or sorted(set(table.values[RULE]))
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
            bad = found.at_or_above(limit)
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


class _Group:
    """The findings of one (dataset, rule) in report order, read by the JUnit writer: ``Finding`` objects are
    made only for the few it writes out (200 at most)."""

    def __init__(self, table, rows):
        self.table, self.rows = table, rows

    def __len__(self) -> int:
        return len(self.rows)

    def __bool__(self) -> bool:
        return len(self.rows) > 0

    def __getitem__(self, part):
        if isinstance(part, slice):
            return self.table.findings(self.rows[part])
        return self.table.findings(self.rows[[part]])[0]

    def at_or_above(self, limit: int) -> "_Group":
        ranks = np.array([_RANK.get(v, 9) <= limit for v in self.table.values[SEVERITY]], dtype=bool)
        return _Group(self.table, self.rows[ranks[self.table.codes[SEVERITY][self.rows]]])


def _line(f) -> str:
    where = " ".join(p for p in (f.variable or "", f"USUBJID={f.usubjid}" if f.usubjid else "",
                                 f"SEQ={f.seq}" if f.seq else "", f"row={f.row}" if f.row else "",
                                 f"value={f.value!r}" if f.value is not None else "") if p)
    return f"{f.severity.upper()} {f.rule_id} {f.message} [{where}]"
