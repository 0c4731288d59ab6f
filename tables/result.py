"""The computed table: header rows and body rows of cell text. Renderers only format this."""
from __future__ import annotations

from dataclasses import dataclass, field

from .json_text import TableRows, dumps_indent1


@dataclass
class Row:
    label: str
    cells: list[str]
    indent: int = 0
    header: bool = False      # a label-only row that introduces a block


@dataclass
class TableResult:
    id: str
    title: str
    population: str
    header: list[list[tuple[str, int]]]   # header rows over the data columns: (text, span)
    stub_header: str
    rows: list[Row]
    footnotes: list[str] = field(default_factory=list)
    kind: str = "Table"

    @property
    def columns(self) -> list[str]:
        """Flat column labels (last header row expanded; upper rows prefix it)."""
        flat = [[] for _ in range(self.ncols)]
        for hrow in self.header:
            i = 0
            for text, span in hrow:
                for k in range(span):
                    flat[i + k].append(text)
                i += span
        return [" | ".join(p for p in parts if p) for parts in flat]

    @property
    def ncols(self) -> int:
        return sum(span for _, span in self.header[-1]) if self.header else 0

    def to_json(self) -> str:
        """Machine-readable cell values for cross-checks against RTF, HTML and ADaM."""
        doc = {
            "id": self.id, "kind": self.kind, "title": self.title, "population": self.population,
            "stub_header": self.stub_header, "columns": self.columns,
            "header": [[{"text": t, "span": s} for t, s in h] for h in self.header],
            "rows": TableRows(self.rows),         # the row dicts, written row by row
            "footnotes": self.footnotes,
        }
        return dumps_indent1(doc) + "\n"       # json.dumps(doc, indent=1, ensure_ascii=False), faster

    def cell(self, label: str, column: str) -> str:
        """Cell by row label and flat column label (tests)."""
        j = self.columns.index(column)
        for r in self.rows:
            if r.label == label:
                return r.cells[j]
        raise KeyError(label)
