"""The SDTM build as numbered steps, and the split that maps some domains in a forked worker.

The build is a fixed sequence: phase 1 of every domain (spec order), phase 2 in domain dependency order,
then each domain finished (with its SUPP--) in spec order. Numbering the steps makes the sequential result
reproducible from any order that respects what each step reads: the notes are put back in step order, and
of several failing steps the one with the lowest number is the error, as the sequential build raises it.

With more than one job, the domains no other domain reads (e.g. a large LB) can be mapped and finished
by a forked worker while this process maps the rest. The worker needs the steps its domains read (DM's
reference dates for --DY and EPOCH, hence the domains DM aggregates): that prefix runs here first, before
the fork, so nothing is computed twice. Which domains go to the worker is estimated from the size of
their raw files, balancing the two processes.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

MAP1, MAP2, FINISH = "map1", "map2", "finish"

# Share of a domain's cost per step kind (measured at 1,000 subjects: reading and phase 1 dominate).
_SHARE = {MAP1: 0.65, MAP2: 0.1, FINISH: 0.25}
_RULE_BYTES = 30_000    # one rule's fixed cost as raw bytes (~2 ms a rule, ~0.05-0.07 us a raw byte at 1,000 subjects
                        # since large columns are hashed by identity; was 12,000 at ~0.13 us a byte)
_HERE_FIXED = 1_000_000  # what this process does besides the steps (metadata, RELREC, taking the worker's result)
_WORKER_FIXED = 1_000_000  # the worker's fork, copy-on-write faults and result hand-back (~0.15 s at the example)
_WORKER_FACTOR = 1.05   # a step costs a little more in the worker than here (caches built again; measured at 1,000
                        # subjects in a run's settings: collector frozen, fewer collections; was 1.3 before them)
_WORKER_DOMAIN = 200_000  # each domain's own fixed cost in the worker (its dataset pickled, its lookups): keeps
                         # tiny domains from tuning a balance the estimate cannot resolve
_MIN_GAIN = 0.1         # fork only when the estimated critical path shrinks by a tenth


@dataclass(frozen=True, order=True)
class Step:
    pos: int            # the step's place in the sequential build
    kind: str
    domain: str


def sequential_steps(spec_order: list[str], phase2_order: list[str]) -> list[Step]:
    """Every step of the build, numbered in the order the one-process build runs them."""
    kinds = [(MAP1, d) for d in spec_order] + [(MAP2, d) for d in phase2_order] + [(FINISH, d) for d in spec_order]
    return [Step(i, kind, domain) for i, (kind, domain) in enumerate(kinds)]


def step_needs(steps: list[Step], reads: dict[str, set[str]]) -> dict[Step, frozenset]:
    """Each step's prerequisites, transitively. Phase 1 reads only its raw files; phase 2 reads its own
    domain and, for each domain it reads (``reads``), that domain's phase 1 and, when it came earlier in
    the sequential order, its phase 2 (the state the one-process build would show it); finishing reads
    the domain's own frame."""
    by_key = {(s.kind, s.domain): s for s in steps}
    needs: dict[Step, frozenset] = {}
    for step in steps:                              # sequential order: prerequisites are already known
        direct = set()
        if step.kind == MAP2:
            direct.add(by_key[(MAP1, step.domain)])
            for other in reads.get(step.domain, ()):
                if (MAP1, other) in by_key:
                    direct.add(by_key[(MAP1, other)])
                before = by_key.get((MAP2, other))
                if before is not None and before.pos < step.pos:
                    direct.add(before)
        elif step.kind == FINISH:
            direct |= {by_key[(MAP1, step.domain)], by_key[(MAP2, step.domain)]}
        closure = set(direct)
        for d in direct:
            closure |= needs[d]
        needs[step] = frozenset(closure)
    return needs


def domain_costs(specs, raw_dir) -> dict[str, float]:
    """The estimate of each domain's mapping cost: the bytes of its raw files (sources and joins) and a fixed
    cost per rule (pandas calls per rule weigh more than the data at the bundled example's size)."""
    def size(name) -> int:
        try:
            return (Path(raw_dir) / name).stat().st_size
        except (OSError, TypeError):
            return 0
    costs = {}
    for spec in specs:
        total = 0
        for source in spec.sources:
            if source.file and not source.table:
                total += size(source.file)
            total += sum(size(join.file) for join in source.joins)
        rules = len(spec.variables) + len(spec.supp) + sum(len(src.variables) for src in spec.sources)
        costs[spec.dataset] = float(total) + _RULE_BYTES * rules
    return costs


def split_plan(steps: list[Step], reads: dict[str, set[str]], costs: dict[str, float]):
    """(prefix steps run here before the fork, the worker's domains), or None when a worker would not
    shorten the build. Worker domains are those no other domain reads; the prefix is every step they
    need from other domains."""
    needs = step_needs(steps, reads)
    read_by_others = {d for domain, ds in reads.items() for d in ds if d != domain}
    candidates = sorted({s.domain for s in steps} - read_by_others, key=lambda d: (-costs.get(d, 0.0), d))

    def cost(step_set) -> float:
        return sum(costs.get(s.domain, 0.0) * _SHARE[s.kind] for s in step_set)

    total = cost(steps)
    own_of = {d: frozenset(s for s in steps if s.domain == d) for d in candidates}     # per domain, once:
    needs_of = {d: frozenset().union(*(needs[s] for s in own_of[d])) for d in candidates}  # layout runs per
    cost_of = {d: (cost(own_of[d]), cost(s for s in own_of[d] if s.kind == MAP1)) for d in candidates}  # round

    def layout(domains: set):
        own = frozenset().union(*(own_of[d] for d in domains))
        prefix = frozenset().union(*(needs_of[d] for d in domains)) - own
        mine = sum(cost_of[d][0] for d in domains)
        worker, first = mine * _WORKER_FACTOR + _WORKER_DOMAIN * len(domains), cost(prefix)
        phase1 = sum(cost_of[d][1] for d in domains) * _WORKER_FACTOR     # started beside the prefix
        return max(max(phase1, first) + worker - phase1 + _WORKER_FIXED, total - mine + _HERE_FIXED), prefix

    chosen: set = set()
    best = total + _HERE_FIXED
    while True:                     # each round adds the domain that shortens the two-core path most
        spans = [(layout(chosen | {d})[0], d) for d in candidates if d not in chosen]
        if not spans:
            break
        span, domain = min(spans, key=lambda t: (t[0], candidates.index(t[1])))
        if span >= best:
            break
        chosen.add(domain)
        best = span
    if not chosen or best > (total + _HERE_FIXED) * (1 - _MIN_GAIN):
        return None
    prefix = sorted(layout(chosen)[1])
    return prefix, chosen
