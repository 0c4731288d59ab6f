"""Time the *computation* of the CSR tables (``compute_table``, no RTF/HTML writing, no figures).

For each study: its ADaM (the bundled example built in memory, or a synthetic size pickled by
``tables_bench.py`` under --cache), its catalogue and adam.yaml facts, then every table and listing
computed once, CPU seconds per output. ``--digest`` prints one SHA-256 over every result's JSON, so two
code versions can be compared on a large study whose outputs the checksum record does not cover.
``--baseline DIR`` first runs the same measurement with ``PYTHONPATH=DIR`` (another checkout of the
package, e.g. ``git archive`` of main) in a child process, so before/after figures come from one run.

    python benchmarks/tables_compute_bench.py                       # the bundled example
    python benchmarks/tables_compute_bench.py --subjects 1000 --top 8 --digest
    python benchmarks/tables_compute_bench.py --subjects 1000 --baseline /tmp/base --repeat 2
    python benchmarks/tables_compute_bench.py --subjects 1000 --profile /tmp/compute.pstats
"""
from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _adam(n: int | None, cache: Path):
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from tables_bench import adam_of, study_folder
    folder = study_folder(n, cache)
    return folder, adam_of(folder, cache, "example" if n is None else f"cd70-{n}")


def measure(n: int | None, cache: Path, repeat: int, profile: str | None, only=None):
    """(total CPU s, {label: CPU s}, digest) of computing every table of the study, best of `repeat`."""
    import yaml

    from trialforge.specs.study import load_study
    from trialforge.tables.build import compute_table, select_outputs
    from trialforge.tables.catalogue import study_catalogue
    from trialforge.tables.engine import MissingVariable
    from trialforge.tables.facts import Facts
    from trialforge.tables.spec import TableSpec

    folder, adam = _adam(n, cache)
    study = load_study(folder)
    cat = study_catalogue(study)
    spec_file = Path(study.specs_dir) / "adam.yaml"
    config = yaml.safe_load(spec_file.read_text(encoding="utf-8")) if spec_file.is_file() else None
    adam = {k.upper(): v for k, v in adam.items()}
    specs = [s for s in select_outputs(cat, only) if isinstance(s, TableSpec)
             and all(d.upper() in adam for d in s.requires)]
    best = None
    for _ in range(repeat):
        prof = None
        if profile:
            import cProfile
            prof = cProfile.Profile()
            prof.enable()
        seconds, digest = {}, hashlib.sha256()
        start = time.process_time()
        facts = Facts(adam, config, cat.defs)
        try:                                  # the build's shared, prepared ADaM (where it exists)
            from trialforge.tables.tabledata import TableData
            data = TableData(adam)
        except ImportError:
            data = adam
        results = {}
        for spec in specs:
            t = time.process_time()
            try:
                results[spec.id] = compute_table(spec, data, facts)
            except MissingVariable as exc:
                results[spec.id] = exc
            seconds[f"{spec.kind} {spec.id}"] = time.process_time() - t
        total = time.process_time() - start
        if prof is not None:
            prof.disable()
            prof.dump_stats(profile)
        for sid in sorted(results):
            r = results[sid]
            digest.update(sid.encode() + b"\0" + (r.to_json().encode() if hasattr(r, "to_json")
                                                   else repr(str(r)).encode()))
        if best is None or total < best[0]:
            best = (total, seconds, digest.hexdigest())
    return best


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subjects", type=int, nargs="*", default=[], help="synthetic sizes (default: the example)")
    ap.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "tf-tables-bench"))
    ap.add_argument("--top", type=int, default=6)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--digest", action="store_true", help="print a SHA-256 over every result")
    ap.add_argument("--profile", help="cProfile of the last size")
    ap.add_argument("--baseline", help="a package checkout to time first, in a child process")
    ap.add_argument("--label", default="this")
    ap.add_argument("--only", nargs="*", help="output ids or prefixes (as `trialforge tables --only`)")
    args = ap.parse_args(argv)
    if args.baseline:
        child = [sys.executable, __file__, "--cache", args.cache, "--top", str(args.top), "--repeat",
                 str(args.repeat), "--label", "baseline", "--digest"]
        if args.subjects:
            child += ["--subjects", *map(str, args.subjects)]
        if args.only:
            child += ["--only", *args.only]
        subprocess.run(child, check=True, env={**os.environ, "PYTHONPATH": args.baseline})
        args.digest = True
    import trialforge.tables.build  # noqa: F401 (import cost is not the computation's)
    sizes = args.subjects or [None]
    for k, n in enumerate(sizes):
        total, seconds, digest = measure(n, Path(args.cache), args.repeat,
                                         args.profile if k == len(sizes) - 1 else None, args.only)
        name = "example" if n is None else f"cd70-{n}"
        print(f"{args.label:<9} {name:<12} compute cpu {total:7.2f} s  {len(seconds)} tables"
              + (f"  digest {digest[:16]}" if args.digest else ""))
        for label, s in sorted(seconds.items(), key=lambda kv: -kv[1])[:args.top]:
            print(f"    {s:7.3f}  {label}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
