"""CSR typography for every display text (titles, labels, cells, footnotes): ×10⁶ not "x 10^6",
µg not "ug", ≥/≤/± not ">=", "<=", "+/-". Applied to the computed table so RTF, HTML and JSON agree."""
from __future__ import annotations

import re

from .result import Row, TableResult

SUPER = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_POW = re.compile(r"(?:\bx\s*)?10\^(-?\d+)")
_UG = re.compile(r"(?<![A-Za-z])ug(?=/|\b)")


def typeset(text: str) -> str:
    if not text or not ("^" in text or "ug" in text or "=" in text or "+/-" in text):
        return text            # nothing to set (most cells): every rule below needs one of these
    t = _POW.sub(lambda m: "×10" + m.group(1).translate(SUPER), text)
    t = _UG.sub("µg", t)
    return t.replace(">=", "≥").replace("<=", "≤").replace("+/-", "±")


def typeset_result(res: TableResult) -> TableResult:
    res.title = typeset(res.title)
    res.population = typeset(res.population)
    res.stub_header = typeset(res.stub_header)
    res.header = [[(typeset(t), s) for t, s in h] for h in res.header]
    done: dict = {}                    # each distinct cell text set once (listings repeat their values)

    def cells(values: list) -> list:
        return [done[c] if c in done else done.setdefault(c, typeset(c)) for c in values]
    res.rows = [Row(typeset(r.label), cells(r.cells), r.indent, r.header) for r in res.rows]
    res.footnotes = [typeset(f) for f in res.footnotes]
    return res
