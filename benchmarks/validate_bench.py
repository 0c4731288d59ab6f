"""Time ``trialforge validate`` on real packages.

    python benchmarks/validate_bench.py /work/shared/reference/cdiscpilot01/sdtm [more XPT folders ...]
        [--repeat 3] [--ct FILE] [--cli]

Each folder is read and validated in-process ``--repeat`` times (best and median wall and CPU seconds
reported, as the machine is shared: CPU seconds are the steadier figure when other jobs run); ``--cli``
also times the whole command ``--repeat`` times in a fresh interpreter (imports included).
Two code versions back to back: run this script twice with PYTHONPATH pointing at each checkout.
For the scaled example, build it first (synth to 1,000 / 10,000 subjects, then ``trialforge run``)
and pass its ``out/sdtm`` folder. Prints datasets, rows, rules run, findings and seconds per stage.
Reference: CDISC CORE took 250-345 s per process on the 18 pilot SDTM datasets on this 2-core machine
(issue 16, measured back to back). CORE itself is installable from PyPI (cdisc-rules-engine 0.9.2), but
its rules come from a cache downloaded from the CDISC Library with an API key, so it cannot run offline
here; the figure is that earlier measurement.
"""
from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

CORE_PILOT_SECONDS = 250.0      # the fastest CORE run of issue 16


def bench_folder(folder: Path, *, repeat: int, ct_files) -> dict:
    from trialforge.specs.ct import load_ct
    from trialforge.validation.command import run_validation
    walls, cpus = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        _, report = run_validation(folder, ct_files=ct_files)
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - start_cpu)
    load_ct(list(ct_files) or None)
    best, cpu = min(walls), min(cpus)
    return {"cpu": cpu, "median": statistics.median(walls), "cpu_median": statistics.median(cpus),
            "folder": str(folder), "datasets": len(report.datasets), "rows": sum(report.datasets.values()),
            "rules": report.rules_run, "findings": len(report.findings), "errors": report.count("error"),
            "warnings": report.count("warning"), "notices": report.count("notice"), "seconds": best}


def bench_cli(folder: Path, ct_files) -> tuple[float, float]:
    """(wall, CPU) seconds of the command in a fresh interpreter (CPU: user+system of the child)."""
    cmd = [sys.executable, "-c", "import sys; from trialforge.validation.command import validate_command; "
           "validate_command(sys.argv[1:])", str(folder)] + [a for f in ct_files for a in ("--ct", str(f))]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folders", nargs="+", type=Path, help="SDTM/ADaM XPT folders (first: the CDISC pilot SDTM)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--ct", action="append", default=[], type=Path, help="NCI EVS CT file(s)")
    parser.add_argument("--cli", action="store_true", help="also time the command end to end (fresh interpreter)")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    import trialforge.validation.command  # noqa: F401  (import cost reported separately)
    print(f"import: {time.perf_counter() - t0:.2f} s")
    print(f"{'folder':48} {'datasets':>8} {'rows':>9} {'rules':>5} {'findings':>8} {'seconds':>8} {'CPU s':>8} {'vs CORE':>8}"
          f" {'median s':>8} {'med CPU':>8}")
    from trialforge.errors import TrialforgeError
    for folder in args.folders:
        try:
            r = bench_folder(folder, repeat=args.repeat, ct_files=args.ct)
        except TrialforgeError as exc:
            print(f"{str(folder)[-48:]:48} skipped: {exc.message}")
            continue
        speed = f"{CORE_PILOT_SECONDS / r['seconds']:.0f}x" if "cdiscpilot01/sdtm" in r["folder"] else ""
        print(f"{r['folder'][-48:]:48} {r['datasets']:>8} {r['rows']:>9} {r['rules']:>5} {r['findings']:>8} "
              f"{r['seconds']:>8.2f} {r['cpu']:>8.2f} {speed:>8} {r['median']:>8.2f} {r['cpu_median']:>8.2f}")
        if args.cli:
            runs = [bench_cli(folder, args.ct) for _ in range(args.repeat)]
            wall, cpu = min(w for w, _ in runs), min(c for _, c in runs)
            print(f"{'  (CLI, fresh interpreter, imports included)':48} {'':>8} {'':>9} {'':>5} {'':>8} "
                  f"{wall:>8.2f} {cpu:>8.2f} {'':>8} {statistics.median(w for w, _ in runs):>8.2f} "
                  f"{statistics.median(c for _, c in runs):>8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
