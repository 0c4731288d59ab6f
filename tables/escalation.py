"""3+3 dose-escalation decisions as a table of rules, and the MTD per route.

Rules are read top to bottom; the first whose evaluable-subject and DLT ranges hold decides:
0/3 escalate; 1/3 expand to 6; <=1/6 escalate; >=2 DLTs among 3-6 evaluable exceeds the MTD
(de-escalate). Cohorts still filling are reported as such rather than forced into a decision.
"""
from __future__ import annotations

from dataclasses import dataclass

ESCALATE = "Escalate"
EXPAND = "Expand to 6"
DEESCALATE = "MTD exceeded: de-escalate"
FILL3 = "Incomplete: enrol to 3"
FILL6 = "Incomplete: enrol to 6"


@dataclass(frozen=True)
class Rule:
    n_min: int
    n_max: int | None
    dlt_min: int
    dlt_max: int | None
    decision: str


RULES: tuple[Rule, ...] = (
    Rule(1, None, 2, None, DEESCALATE),   # >=2 DLTs: exceeded whatever the cohort size
    Rule(0, 2, 0, 1, FILL3),
    Rule(3, 3, 0, 0, ESCALATE),
    Rule(3, 3, 1, 1, EXPAND),
    Rule(4, 5, 0, 1, FILL6),
    Rule(6, None, 0, 1, ESCALATE),        # <=1/6 (or <=1 in a larger cohort)
)


def decide(n_evaluable: int, n_dlt: int, rules=RULES) -> str:
    """The 3+3 decision for one dose level."""
    if n_dlt > n_evaluable:
        raise ValueError(f"{n_dlt} DLTs among {n_evaluable} evaluable subjects")
    for r in rules:
        if (r.n_min <= n_evaluable and (r.n_max is None or n_evaluable <= r.n_max)
                and r.dlt_min <= n_dlt and (r.dlt_max is None or n_dlt <= r.dlt_max)):
            return r.decision
    raise ValueError(f"no 3+3 rule for {n_dlt}/{n_evaluable}")


def mtd(levels: list[tuple[str, int, int]]) -> str:
    """MTD statement for one route from (dose level, n evaluable, n DLT) in ascending dose order.

    The MTD is the highest dose level below the first level that exceeded it at which <=1/6 subjects
    had a DLT; a level cleared with 0/3 needs expansion to 6 before it can be declared the MTD.
    """
    decisions = [(lvl, n, d, decide(n, d)) for lvl, n, d in levels]
    exceeded = [i for i, (_, _, _, dec) in enumerate(decisions) if dec == DEESCALATE]
    limit = exceeded[0] if exceeded else len(decisions)
    cleared = [(lvl, n) for lvl, n, _, dec in decisions[:limit] if dec == ESCALATE]
    if not exceeded:
        if not cleared:
            return "MTD not reached; no dose level completed"
        return f"MTD not reached; highest cleared dose level {cleared[-1][0]}"
    if not cleared:
        return f"MTD not established: lowest dose level {decisions[0][0]} exceeded the MTD" \
            if exceeded[0] == 0 else f"MTD not established below {decisions[limit][0]}"
    lvl, n = cleared[-1]
    if n >= 6:
        return f"MTD {lvl} (recommended dose)"
    return f"MTD candidate {lvl}: expand to 6 to confirm"
