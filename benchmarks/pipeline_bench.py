"""Time the whole job per stage at several study sizes, with the pyreadstat baseline from the same run.

For each size, in its own subprocess (so the peak resident memory is that size's own):
``trialforge synth`` of the bundled CD70 layout, then ``pipeline.run_study`` exactly as ``trialforge run``
calls it (SDTM, SDTM gate, ADaM, ADaM gate, validation reports, XPT, Dataset-JSON, define.xml,
tables, manifest), timed through run_study's ``stage_timer`` hook, which reads the clock only.
Then the baseline: ``pyreadstat.write_xport`` writes the same output frames (SDTM and ADaM), their
text columns as plain object strings (converted before timing: Arrow strings slow pyreadstat 4-6x).
The ratio is the whole job (run_study, wall seconds) over that baseline.

    python benchmarks/pipeline_bench.py                       # 100, 1,000 and 10,000 subjects
    python benchmarks/pipeline_bench.py --subjects 100 300    # a quick look
    python benchmarks/pipeline_bench.py --subjects 1000 --json results.json
"""
from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STAGES = ("sdtm", "sdtm_gate", "adam", "adam_gate", "reports", "xpt", "dataset_json", "define", "tables",
          "manifest")


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def one_size(n: int, seed: int | None) -> dict:
    """Run one size in this process and return its figures."""
    from trialforge.pipeline import DEFAULT_STUDY, run_study
    from trialforge.synth import generate

    work = Path(tempfile.mkdtemp(prefix=f"tf-bench-{n}-"))
    try:
        for name in ("study.yaml", "tables.yaml"):
            if (DEFAULT_STUDY / name).is_file():
                shutil.copy(DEFAULT_STUDY / name, work / name)
        shutil.copytree(DEFAULT_STUDY / "specs", work / "specs")
        wall, cpu = {}, {}
        w0, c0 = _clock()
        generate(subjects=n, out_dir=work / "raw", **({"seed": seed} if seed is not None else {}))
        w1, c1 = _clock()
        wall["synth"], cpu["synth"] = w1 - w0, c1 - c0

        def stage_timer(stage: str, seconds: float, cpu_seconds: float) -> None:
            wall[stage] = wall.get(stage, 0.0) + seconds
            cpu[stage] = cpu.get(stage, 0.0) + cpu_seconds

        w0, c0 = _clock()
        result = run_study(work, out_dir=work / "out", stage_timer=stage_timer)
        w1, c1 = _clock()
        wall["job"], cpu["job"] = w1 - w0, c1 - c0
        peak_job = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        baseline_wall, baseline_cpu = pyreadstat_baseline({**result.sdtm, **result.adam}, work / "pyreadstat")
        return {"subjects": n, "failed": result.has_errors,
                "sdtm_rows": sum(len(ds.frame) for ds in result.sdtm.values()),
                "adam_rows": sum(len(ds.frame) for ds in result.adam.values()),
                "wall": wall, "cpu": cpu, "baseline_wall": baseline_wall, "baseline_cpu": baseline_cpu,
                "ratio": wall["job"] / baseline_wall if baseline_wall else None,
                "peak_rss_mb": peak_job}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def pyreadstat_baseline(datasets: dict, folder: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of pyreadstat.write_xport over the frames, text columns as object strings."""
    import pandas as pd
    import pyreadstat

    folder.mkdir(parents=True, exist_ok=True)
    plain = {}
    for name, ds in sorted(datasets.items()):              # conversion is not part of the baseline
        frame = ds.frame.copy()
        for col in frame.columns:
            if not pd.api.types.is_numeric_dtype(frame[col].dtype):
                frame[col] = frame[col].astype(object).where(frame[col].notna(), "")
        labels = [(ds.meta.variable(c).label if ds.meta.variable(c) else "") or "" for c in frame.columns]
        plain[name] = (frame, labels, ds.meta.label or "")
    w0, c0 = _clock()
    for name, (frame, labels, label) in plain.items():
        pyreadstat.write_xport(frame, str(folder / f"{name.lower()}.xpt"), file_label=label,
                               column_labels=labels, table_name=name, file_format_version=5)
    w1, c1 = _clock()
    return w1 - w0, c1 - c0


def markdown(results: list[dict], clock: str) -> list[str]:
    """One markdown table: a row per size, a column per stage (``clock``: "wall" or "cpu" seconds)."""
    stages = [s for s in STAGES if any(s in r[clock] for r in results)]
    head = ["subjects", "SDTM rows", "ADaM rows", "synth", *stages, "whole job", "pyreadstat", "job/pyreadstat",
            "peak RSS MB"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results:
        t = r[clock]
        base = r[f"baseline_{clock}"]
        cells = [f"{r['subjects']:,}", f"{r['sdtm_rows']:,}", f"{r['adam_rows']:,}", f"{t['synth']:.1f}",
                 *(f"{t[s]:.2f}" if s in t else "-" for s in stages), f"{t['job']:.1f}" + (" (failed)" if r["failed"] else ""),
                 f"{base:.2f}", f"{t['job'] / base:.1f}" if base else "-", f"{r['peak_rss_mb']:,.0f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subjects", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--seed", type=int, default=None, help="synth seed (default: the bundled study's)")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(one_size(args.one, args.seed)))
        return
    results = []
    for n in args.subjects:
        cmd = [sys.executable, __file__, "--one", str(n)] + (["--seed", str(args.seed)] if args.seed is not None else [])
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode:
            sys.exit(f"{n} subjects failed:\n{proc.stderr[-3000:]}")
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print(f"{n:,} subjects: whole job {results[-1]['wall']['job']:.1f} s wall, "
              f"{results[-1]['cpu']['job']:.1f} s CPU", file=sys.stderr)
    print("Wall seconds (whole job = run_study; baseline: pyreadstat.write_xport of the same frames, object strings)\n")
    print("\n".join(markdown(results, "wall")))
    print("\nCPU seconds (steadier on a shared machine)\n")
    print("\n".join(markdown(results, "cpu")))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
