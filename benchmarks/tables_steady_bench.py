"""Per-output CPU of the tables stage in steady state: each table (compute + RTF + JSON + HTML) and each
figure (its data and every page's primitives, or with --png also every page's PNG) built `--repeat` times
on one warm `TableData`, the minimum per output kept.

Why: on a shared, loaded machine one whole build varies by 30-50 % between runs, more than most changes to
one output; the minimum of several builds of the same output in one process, with the build's shared work
(string columns, filter masks, populations) already done, is what an output itself costs. The first-time
work is timed by `tables_bench.py`.

    python benchmarks/tables_steady_bench.py                                # the bundled example, tables
    python benchmarks/tables_steady_bench.py --study-dir /work/wt/data/s1000 --figures --only 14.2
    python benchmarks/tables_steady_bench.py --baseline /work/wt/base --repeat 5   # both versions, alternating

``--baseline DIR`` (a folder holding another checkout's ``trialforge`` package) runs that version and this one
in alternating child processes (`--rounds` times) and prints both totals and the outputs that differ most.
The ADaM is read from the cache `tables_bench.py` writes (``--cache``).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def steady(folder: Path, label: str, cache: Path, repeat: int, only: list, tables: bool, figures: bool,
           png: bool) -> dict:
    """Output id -> minimum CPU seconds over `repeat` builds (after one unmeasured warm-up build)."""
    sys.path.insert(0, str(HERE))
    import tables_bench
    import trialforge.adam  # noqa: F401  (a run has it imported: the footnote facts read its criteria)
    from trialforge.specs.study import load_study
    from trialforge.tables import figures as fig
    from trialforge.tables.build import _selected, _typeset_figure, compute_table
    from trialforge.tables.catalogue import study_catalogue
    from trialforge.tables.facts import Facts
    from trialforge.tables.render import table_to_html, table_to_rtf
    from trialforge.tables.spec import TableSpec
    from trialforge.tables.tabledata import TableData
    adam = {k.upper(): v for k, v in tables_bench.adam_of(folder, cache, label).items()}
    cat = study_catalogue(load_study(folder))
    facts = Facts(adam, None, cat.defs)
    specs = [s for s in cat.outputs if _selected(s, only) and all(d.upper() in adam for d in s.requires)]
    data, figure_data = TableData(adam), TableData(adam, prepare=False)
    page = {"protocol": "P", "cutoff": "", "program": "bench", "source": "ADaM"}

    def one(spec):
        if isinstance(spec, TableSpec):
            getattr(data, "memo", {}).clear()    # what outputs share (shift tables' records) counts in each one
            res = compute_table(spec, data, facts)
            table_to_rtf(res, page), res.to_json(), table_to_html(res, {})
            return
        pages = fig.render_figure(_typeset_figure(facts.apply(spec)), figure_data)
        for k in range(pages.count):
            canvas, _ = pages.draw(k)
            if png:
                from trialforge.tables.canvas_png import png_bytes
                png_bytes(canvas)
    chosen = [s for s in specs if (tables and isinstance(s, TableSpec)) or (figures and not isinstance(s, TableSpec))]
    best: dict = {}
    for rep in range(repeat + 1):
        for spec in chosen:
            try:
                started = time.process_time()
                one(spec)
                took = time.process_time() - started
            except Exception:  # noqa: BLE001 - an output this study cannot build is left out
                continue
            if rep:
                key = f"{spec.kind} {spec.id}"
                best[key] = min(best.get(key, took), took)
    return best


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--study-dir", help="study folder (default: the bundled example)")
    ap.add_argument("--cache", default="/tmp/tf-tables-bench", help="tables_bench.py's cache of pickled ADaM")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", nargs="*", default=[], help="output ids or id prefixes")
    ap.add_argument("--figures", action="store_true", help="figures too (data and page primitives)")
    ap.add_argument("--png", action="store_true", help="figures with every page's PNG")
    ap.add_argument("--no-tables", action="store_true")
    ap.add_argument("--top", type=int, default=12)
    ap.add_argument("--baseline", help="folder holding another checkout's trialforge package")
    ap.add_argument("--rounds", type=int, default=2, help="with --baseline: alternations")
    ap.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.study_dir:
        folder, label = Path(args.study_dir), Path(args.study_dir).name
    else:
        from trialforge.pipeline import DEFAULT_STUDY
        folder, label = DEFAULT_STUDY, "example"
    figures = args.figures or args.png
    if args.baseline:
        return compare(args, Path(args.baseline))
    best = steady(folder, label, Path(args.cache), args.repeat, args.only, not args.no_tables, figures, args.png)
    if args.json:
        print(json.dumps(best))
        return 0
    print(f"{label}: {len(best)} outputs, total {sum(best.values()):.3f} s CPU (minimum of {args.repeat} each)")
    for k, v in sorted(best.items(), key=lambda kv: -kv[1])[:args.top]:
        print(f"    {v:7.4f}  {k}")
    return 0


def compare(args, baseline: Path) -> int:
    import os
    here = HERE.parents[1]
    child = [a for a in (sys.argv[1:] if args is not None else []) if a]
    i = child.index("--baseline")
    child = child[:i] + child[i + 2:] + ["--json"]
    got: dict = {"baseline": [], "this": []}
    for _ in range(args.rounds):
        for name, path in (("baseline", baseline.resolve()), ("this", here)):
            out = subprocess.run([sys.executable, __file__, *child], env={**os.environ, "PYTHONPATH": str(path)},
                                 check=True, capture_output=True, text=True).stdout
            got[name].append(json.loads(out.strip().splitlines()[-1]))
            print(f"{name:<9} total {sum(got[name][-1].values()):.3f} s", flush=True)
    mins = {name: {k: min(r.get(k, 9e9) for r in runs) for k in runs[0]} for name, runs in got.items()}
    a, b = mins["baseline"], mins["this"]
    print(f"minimum per output, summed: baseline {sum(a.values()):.3f} s, this {sum(b.values()):.3f} s "
          f"({sum(b.values()) / max(sum(a.values()), 1e-9):.2f})")
    for k in sorted(a, key=lambda k: b.get(k, 0) - a[k])[:args.top]:
        print(f"    {a[k]:7.4f} -> {b.get(k, float('nan')):7.4f}  {k}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
