"""Findings: what a validation rule reports, in one shape for the gate, the reports and CI.

Every finding names the rule, its severity, the dataset, the variable, the record (USUBJID and
--SEQ where the dataset has them, else the 1-based row) and the offending value, so a programmer
can go straight to the record.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Iterable

ERROR = "error"
WARNING = "warning"
NOTICE = "notice"
SEVERITIES = (ERROR, WARNING, NOTICE)
_RANK = {ERROR: 0, WARNING: 1, NOTICE: 2}


@dataclass(frozen=True)
class Finding:
    rule_id: str
    severity: str
    dataset: str
    message: str
    variable: str | None = None
    usubjid: str | None = None
    seq: str | None = None          # --SEQ (or other record key) as text, e.g. "3"
    row: int | None = None          # 1-based row in the dataset
    value: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def sort_key(self):
        """Report order: severity, dataset, rule, subject, --SEQ (numeric before text), row, variable."""
        return _sort_key(self)


FIELDS = tuple(f.name for f in fields(Finding))


def _sort_key(f: Finding):
    """``Finding.sort_key``, kept in the instance once computed (reports sort the same findings several
    times; a plain function and dict is a third of ``functools.cached_property``'s cost)."""
    key = f.__dict__.get("_sort_key")
    if key is None:
        key = (_RANK.get(f.severity, 9), f.dataset, f.rule_id, f.usubjid or "", _num_or_text(f.seq),
               f.row or 0, f.variable or "")
        f.__dict__["_sort_key"] = key
    return key


_NO_SEQ = (1, 0.0, "")


def _num_or_text(value):
    if value is None:
        return _NO_SEQ
    try:
        return (0, float(value), "")
    except (TypeError, ValueError):
        return (1, 0.0, value or "")


@dataclass
class ValidationReport:
    """All findings of one validation run, sorted stably so reports are byte-identical.

    The findings are held either as a list of ``Finding`` objects or as columns (``FindingTable``: what a
    gate's worker sends and the report writers read); ``findings`` hands out the list, built from the
    columns on first use, and from then on the list is what the report holds. ``extend``, ``sort``,
    ``size``, ``count`` and ``has_errors`` work on either form without building the other."""

    findings: list[Finding] = field(default_factory=list)
    datasets: dict[str, int] = field(default_factory=dict)   # dataset name -> record count
    rules_run: int = 0
    rule_ids: list[str] = field(default_factory=list)        # catalogue ids that ran (for JUnit, coverage)
    standard: str = ""                                       # e.g. "SDTMIG 3.4"

    def extend(self, findings: Iterable[Finding]) -> None:
        """Add findings: ``Finding`` objects, or a ``FindingTable`` (kept as columns, no objects made)."""
        from .finding_table import FindingTable
        if isinstance(findings, FindingTable):
            if not len(findings):
                return
            self._ordered = False
            if self._list is None:
                self._table = self._table.concat(findings)
            else:
                self._table = FindingTable.of(self._list).concat(findings) if self._list else findings
                self._list = None
            return
        self._ordered = False
        if self._list is None:
            from .finding_table import FindingTable
            self._table = self._table.concat(FindingTable.of(findings))
        else:
            self._list.extend(findings)

    @property
    def size(self) -> int:
        """The number of findings (without building them)."""
        return len(self._table) if self._list is None else len(self._list)

    def table(self):
        """The findings as a ``FindingTable``, in their order (built from the list when the report holds one)."""
        if self._list is None:
            return self._table
        from .finding_table import FindingTable
        return FindingTable.of(self._list)

    def sorted_table(self):
        """The findings as a ``FindingTable`` in report order (``sorted()``'s order); None when the keys cannot
        be ranked as columns (then ``sorted()`` sorts the objects)."""
        if self._list is None and self._ordered:
            return self._table
        table = self.table()
        order = table.report_order()
        return None if order is None else table.take(order)

    def sort(self) -> None:
        """Put the findings in report order (as columns, unless their keys need the objects' sort)."""
        table = self.sorted_table()
        if table is None:
            self.findings = self.sorted()
        else:
            self._table, self._list, self._ordered = table, None, True

    def sorted(self) -> list[Finding]:
        """The findings in report order (a new list; the report's own order is left as it is)."""
        if self._list is None and self._ordered:
            return self._table.findings()
        table = self.table()
        order = table.report_order()
        if order is None:
            return sorted(self.findings, key=_sort_key)
        if self._list is None:
            return table.take(order).findings()
        held = self._list
        return [held[i] for i in order.tolist()]

    def count(self, severity: str) -> int:
        if self._list is None:
            counts = self._table.counts(SEVERITY)
            return int(sum(n for v, n in zip(self._table.values[SEVERITY], counts.tolist()) if v == severity))
        return sum(1 for f in self.findings if f.severity == severity)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def has_errors(self) -> bool:
        if self._list is None:
            return self._table.has(SEVERITY, ERROR)
        return any(f.severity == ERROR for f in self.findings)

    def by_rule(self) -> dict[tuple[str, str, str], list[Finding]]:
        """(dataset, rule id, severity) -> findings, in report order."""
        groups: dict[tuple[str, str, str], list[Finding]] = {}
        for f in self.sorted():
            groups.setdefault((f.dataset, f.rule_id, f.severity), []).append(f)
        return groups

    def at_or_above(self, severity: str) -> list[Finding]:
        limit = _RANK[severity]
        return [f for f in self.findings if _RANK.get(f.severity, 9) <= limit]

    def __getstate__(self):
        """Pickled with its findings as columns (a few arrays and lists instead of an object per finding)."""
        state = dict(self.__dict__)
        state["_table"], state["_list"] = self.table(), None
        return state

    def __setstate__(self, state):
        state = dict(state)
        if "findings" in state:              # pickled before the two forms: the list as it was
            state["_list"], state["_table"] = state.pop("findings"), None
        self.__dict__.update(state)
        self.__dict__.setdefault("_ordered", False)


def _get_findings(self) -> list:
    if self._list is None:
        self._list, self._table = self._table.findings(), None
    return self._list


def _set_findings(self, value) -> None:
    self._list, self._table, self._ordered = value, None, False


# the dataclass's field stays (init, repr, eq, fields()); reading and writing it go through the two forms
ValidationReport.findings = property(_get_findings, _set_findings)
SEVERITY = FIELDS.index("severity")


def merge_reports(reports: Iterable[ValidationReport]) -> ValidationReport:
    """One report for a package validated in parts (e.g. a folder holding SDTM and ADaM)."""
    out = ValidationReport()
    for r in reports:
        out.findings.extend(r.findings)
        out.datasets.update(r.datasets)
        out.rules_run += r.rules_run
        out.rule_ids = sorted(set(out.rule_ids) | set(r.rule_ids))
        out.standard = "; ".join(x for x in (out.standard, r.standard) if x)
    if out.rule_ids:
        out.rules_run = len(out.rule_ids)
    out.sort()
    return out
