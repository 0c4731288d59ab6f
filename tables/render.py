"""Render a TableResult (or a figure) to RTF with rtflite and to standalone HTML.

Both renderers read the same TableResult, and neither computes anything, so RTF and HTML show
the same numbers by construction; tests still parse both back and compare them.
"""
from __future__ import annotations

import html
from pathlib import Path

import polars as pl
import rtflite as rtf

from .result import TableResult

INDENT_TWIPS = 200
STUB_WIDTH = 3.2


def _widths(res: TableResult) -> list[float]:
    """Relative column widths from the content: a free-text column (DLT terms) gets more room than
    an 'n (%)' column; the stub gets what its longest label needs, within limits."""
    def need(texts, lo, hi):
        longest = max((len(t) for t in texts), default=0)
        return min(max(0.085 * longest + 0.15, lo), hi)
    head_words = [[w for t, span in h for w in [t] * span] for h in res.header[-1:]] or [[]]
    cols = []
    for j in range(res.ncols):
        texts = [r.cells[j] for r in res.rows] + [max(head_words[0][j].split(), key=len, default="")]
        cols.append(need(texts, 0.75, 2.8))
    stub = need([r.label for r in res.rows], 1.8, 3.0)
    return [stub] + cols


def _titles(res: TableResult) -> list[str]:
    return [f"{res.kind} {res.id}", res.title, res.population]


def table_to_rtf(res: TableResult) -> str:
    """RTF text: landscape, titles, (multi-row) column headers with N, indented stub, footnotes."""
    widths = _widths(res)
    cols = [f"c{i}" for i in range(res.ncols + 1)]
    data = {cols[0]: [r.label for r in res.rows]}
    for j in range(res.ncols):
        data[cols[j + 1]] = [r.cells[j] for r in res.rows]
    df = pl.DataFrame(data, schema={c: pl.String for c in cols})
    headers = []
    for k, hrow in enumerate(res.header):
        text = [res.stub_header if k == 0 else ""] + [_head_rtf(t) for t, _ in hrow]
        w = [widths[0]]
        i = 1
        for _, span in hrow:
            w.append(sum(widths[i:i + span]))
            i += span
        headers.append(rtf.RTFColumnHeader(text=text, col_rel_width=w,
                                           text_justification=[["l"] + ["c"] * len(hrow)],
                                           text_convert=[[False] * len(text)]))
    nrow = max(len(res.rows), 1)
    body = rtf.RTFBody(
        col_rel_width=widths,
        text_justification=[["l"] + ["c"] * res.ncols for _ in range(nrow)],
        text_indent_left=[[INDENT_TWIPS * r.indent] + [0] * res.ncols for r in res.rows] or None,
        text_format=[["b" if r.header else ""] + [""] * res.ncols for r in res.rows] or None,
        text_convert=[[False] * (res.ncols + 1) for _ in range(nrow)],
    )
    doc = rtf.RTFDocument(
        df=df, rtf_page=rtf.RTFPage(orientation="landscape"),
        rtf_title=rtf.RTFTitle(text=_titles(res), text_convert=[False]),
        rtf_column_header=headers, rtf_body=body,
        rtf_footnote=rtf.RTFFootnote(text=res.footnotes, text_convert=[False])
        if res.footnotes else None)
    return doc.rtf_encode()


def figure_to_rtf(kind: str, fid: str, title: str, population: str, png: Path, footnotes: list[str]) -> str:
    doc = rtf.RTFDocument(
        rtf_page=rtf.RTFPage(orientation="landscape"),
        rtf_title=rtf.RTFTitle(text=[f"{kind} {fid}", title, population], text_convert=[False]),
        rtf_figure=rtf.RTFFigure(figures=str(png), fig_width=8.0, fig_height=5.2),
        rtf_footnote=rtf.RTFFootnote(text=footnotes, text_convert=[False], as_table=False)
        if footnotes else None)
    return doc.rtf_encode()


CSS = """
body{font-family:"DejaVu Sans",Arial,sans-serif;font-size:13px;margin:24px 32px;color:#111}
.titles{text-align:center;margin-bottom:12px}.titles div{margin:2px 0}
.titles .id{font-weight:bold}.titles .title{font-weight:bold;font-size:15px}
table.csr{border-collapse:collapse;margin:0 auto;min-width:60%}
table.csr th{border-top:1px solid #000;border-bottom:1px solid #000;padding:4px 8px;font-weight:bold;
 vertical-align:bottom;text-align:center}
table.csr thead tr + tr th{border-top:none}
table.csr td{padding:2px 8px;text-align:center;white-space:nowrap}
table.csr td.stub,table.csr th.stub{text-align:left;white-space:normal;min-width:230px;max-width:420px}
table.csr thead th{min-width:58px}
table.csr td.wrap{white-space:normal;text-align:left;min-width:220px;max-width:380px}
table.csr thead tr:not(:last-child) th:not(.stub){border-bottom:none}
table.csr thead tr:not(:last-child) th:not(.stub):not(:empty){
 background:linear-gradient(#000,#000) center bottom/calc(100% - 14px) 1px no-repeat}
table.csr tbody tr:last-child td{border-bottom:1px solid #000}
table.csr tr.hdr td.stub{font-weight:bold}
table.csr tbody tr:nth-child(even){background:#f6f8fa}
.wrap{display:table;margin:0 auto}.foot{max-width:1100px;margin:10px 0;font-size:12px}.foot p{margin:2px 0}
.nav{font-size:12px;margin-bottom:12px}.nav a{margin-right:12px}
figure{text-align:center;margin:0}figure img{max-width:100%;height:auto}
"""


def _page(title: str, body: str) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{html.escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{body}</body>\n</html>\n")


def _titles_html(kind: str, fid: str, title: str, population: str) -> str:
    return (f"<div class=\"titles\"><div class=\"id\">{html.escape(kind)} {html.escape(fid)}</div>"
            f"<div class=\"title\">{html.escape(title)}</div><div class=\"pop\">{html.escape(population)}</div></div>\n")


def _nav(links: dict[str, str]) -> str:
    items = "".join(f"<a href=\"{html.escape(h)}\">{html.escape(t)}</a>" for t, h in links.items())
    return f"<div class=\"nav\">{items}</div>\n"


def _foot(footnotes: list[str]) -> str:
    if not footnotes:
        return ""
    return "<div class=\"foot\">" + "".join(f"<p>{html.escape(f)}</p>" for f in footnotes) + "</div>\n"


N_BREAK = " (N="
WRAP_AT = 36          # cells longer than this (free text such as DLT terms) wrap and align left


def _head_html(text: str) -> str:
    """Header text with '(N=x)' on its own line, so every column header breaks the same way."""
    return "<br>".join(html.escape(part) for part in text.replace(N_BREAK, "\n(N=").split("\n"))


def _head_rtf(text: str) -> str:
    return text.replace(N_BREAK, "\\line (N=")


def table_to_html(res: TableResult, links: dict[str, str]) -> str:
    head = []
    nh = len(res.header)
    for k, hrow in enumerate(res.header):
        cells = []
        if k == 0:
            cells.append(f"<th class=\"stub\" rowspan=\"{nh}\">{html.escape(res.stub_header)}</th>")
        cells += [f"<th colspan=\"{span}\">{_head_html(t)}</th>" if span > 1 else f"<th>{_head_html(t)}</th>"
                  for t, span in hrow]
        head.append("<tr>" + "".join(cells) + "</tr>")
    body = []
    for r in res.rows:
        cls = " class=\"hdr\"" if r.header else ""
        pad = f" style=\"padding-left:{8 + 18 * r.indent}px\"" if r.indent else ""
        tds = "".join(f"<td class=\"wrap\">{html.escape(c)}</td>" if len(c) > WRAP_AT else f"<td>{html.escape(c)}</td>"
                      for c in r.cells)
        body.append(f"<tr{cls}><td class=\"stub\"{pad}>{html.escape(r.label)}</td>{tds}</tr>")
    table = ("<table class=\"csr\">\n<thead>\n" + "\n".join(head) + "\n</thead>\n<tbody>\n"
             + "\n".join(body) + "\n</tbody>\n</table>\n")
    content = (_nav(links) + _titles_html(res.kind, res.id, res.title, res.population)
               + "<div class=\"wrap\">\n" + table + _foot(res.footnotes) + "</div>\n")
    return _page(f"{res.kind} {res.id} {res.title}", content)


def figure_to_html(kind: str, fid: str, title: str, population: str, image: str, footnotes: list[str],
                   links: dict[str, str]) -> str:
    content = (_nav(links) + _titles_html(kind, fid, title, population)
               + f"<figure><img src=\"{html.escape(image)}\" alt=\"{html.escape(title)}\"></figure>\n"
               + _foot(footnotes))
    return _page(f"{kind} {fid} {title}", content)


def index_html(study_title: str, entries: list[dict]) -> str:
    """One page linking every output and all of its files."""
    rows = []
    for e in entries:
        files = " ".join(f"<a href=\"{html.escape(h)}\">{html.escape(t)}</a>" for t, h in e["files"].items())
        name = (f"<a href=\"{html.escape(e['html'])}\">{html.escape(e['title'])}</a>" if e.get("html")
                else html.escape(e["title"]))
        note = f" <em>({html.escape(e['note'])})</em>" if e.get("note") else ""
        rows.append(f"<tr><td class=\"stub\">{html.escape(e['kind'])} {html.escape(e['id'])}</td>"
                    f"<td class=\"stub\">{name}{note}</td><td class=\"stub\">{html.escape(e['population'])}</td>"
                    f"<td class=\"stub\">{files}</td></tr>")
    table = ("<table class=\"csr\">\n<thead><tr><th class=\"stub\">Output</th><th class=\"stub\">Title</th>"
             "<th class=\"stub\">Population</th><th class=\"stub\">Files</th></tr></thead>\n<tbody>\n"
             + "\n".join(rows) + "\n</tbody>\n</table>\n")
    content = (f"<div class=\"titles\"><div class=\"title\">{html.escape(study_title)}</div>"
               "<div>Clinical study report tables and figures (ICH E3 section 14)</div></div>\n" + table)
    return _page(study_title, content)
