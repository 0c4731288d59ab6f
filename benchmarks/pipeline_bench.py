"""Time the whole job per stage at several study sizes, with the pyreadstat baseline from the same run.

For each size, in its own subprocess (so the peak resident memory is that size's own):
``trialforge synth`` of the bundled CD70 layout, then ``pipeline.run_study`` exactly as ``trialforge run``
calls it (SDTM, SDTM gate, ADaM, ADaM gate, validation reports, XPT, Dataset-JSON, define.xml,
tables, manifest), timed through run_study's ``stage_timer`` hook, which reads the clock only.
Then the baseline: ``pyreadstat.write_xport`` writes the same output frames (SDTM and ADaM), their
text columns as plain object strings (converted before timing: Arrow strings slow pyreadstat 4-6x).
The ratio is the whole job (run_study, wall seconds) over that baseline.

``--jobs N`` is run_study's ``jobs`` (default: TRIALFORGE_JOBS, else every core; printed with the results).
With more than one job stages overlap (the SDTM gate in a worker beside the ADaM build, the tables in workers
beside the package; docs/performance.md "Both cores"): a stage's wall is its own span, so the stage walls add up
to more than the whole job; the column "overlap" says how many seconds of the tables' span ran beside other
stages (a worker's stage is reported when its result is taken, so its span is placed then), and CPU seconds
include the workers'. The raw data is synthesised in a child process before the job (as ``trialforge synth``
then ``trialforge run`` would be), so the measured process holds only the job. Peak memory is given twice: the
main process's peak RSS (as before) and the peak sum of PSS over the run's process tree (main process and
workers, shared pages counted once), sampled every 0.25 s from outside up to the end of run_study
(not during the pyreadstat baseline that follows): what the machine must hold.

Module bytecode: ``pip install`` compiles a package's modules when it installs them, so a user's ``trialforge
run`` imports them from ``.pyc`` files. A source checkout run with ``PYTHONDONTWRITEBYTECODE`` set (as on the
development machine) would instead compile every module the job imports lazily, in every process that imports
it, inside the timed span. Before timing, the bench compiles the imported ``trialforge`` package's bytecode
(``compileall``, into its ``__pycache__`` folders, which git ignores); ``--source`` skips that, to see the cost.

    python benchmarks/pipeline_bench.py                       # 100, 1,000 and 10,000 subjects
    python benchmarks/pipeline_bench.py --subjects 100 300    # a quick look
    python benchmarks/pipeline_bench.py --subjects 1000 --jobs 1 --json results.json
"""
from __future__ import annotations

import argparse
import json
import os
import re
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
    """Wall seconds, and CPU seconds of this process plus its reaped children (the tables workers)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.perf_counter(), time.process_time() + children.ru_utime + children.ru_stime


def overlap(spans: dict, stage: str = "tables") -> float:
    """Seconds of ``stage``'s span during which another stage ran (0 when the run had one job)."""
    if stage not in spans:
        return 0.0
    total = 0.0
    for a0, a1 in spans[stage]:
        cuts = sorted((max(a0, b0), min(a1, b1)) for s, ivs in spans.items() if s != stage for b0, b1 in ivs
                      if min(a1, b1) > max(a0, b0))
        end = a0
        for c0, c1 in cuts:                      # union of the other stages' intervals inside this span
            if c1 > end:
                total += c1 - max(c0, end)
                end = c1
    return total


def one_size(n: int, seed: int | None, jobs: int | None = None) -> dict:
    """Run one size in this process and return its figures."""
    from trialforge.pipeline import DEFAULT_STUDY, run_study

    work = Path(tempfile.mkdtemp(prefix=f"tf-bench-{n}-"))
    try:
        for name in ("study.yaml", "tables.yaml"):
            if (DEFAULT_STUDY / name).is_file():
                shutil.copy(DEFAULT_STUDY / name, work / name)
        shutil.copytree(DEFAULT_STUDY / "specs", work / "specs")
        wall, cpu = {}, {}
        w0, c0 = _clock()
        synthesise(n, seed, work / "raw")
        w1, c1 = _clock()
        wall["synth"], cpu["synth"] = w1 - w0, c1 - c0

        spans: dict = {}

        def stage_timer(stage: str, seconds: float, cpu_seconds: float) -> None:
            wall[stage] = wall.get(stage, 0.0) + seconds
            cpu[stage] = cpu.get(stage, 0.0) + cpu_seconds
            now = time.perf_counter()
            spans.setdefault(stage, []).append((now - seconds, now))

        if os.environ.get(JOB_START):       # the PSS sampler starts here: synth's child is not the job
            Path(os.environ[JOB_START]).touch()
        w0, c0 = _clock()
        result = run_study(work, out_dir=work / "out", stage_timer=stage_timer, jobs=jobs)
        w1, c1 = _clock()
        wall["job"], cpu["job"] = w1 - w0, c1 - c0
        wall["overlap"] = overlap(spans)
        peak_job = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        if os.environ.get(JOB_DONE):        # the PSS sampler stops here: the baseline's copies are not the job's
            Path(os.environ[JOB_DONE]).touch()
        baseline_wall, baseline_cpu = pyreadstat_baseline({**result.sdtm, **result.adam}, work / "pyreadstat")
        return {"subjects": n, "failed": result.has_errors, "jobs": result.jobs,
                "sdtm_rows": sum(len(ds.frame) for ds in result.sdtm.values()),
                "adam_rows": sum(len(ds.frame) for ds in result.adam.values()),
                "wall": wall, "cpu": cpu, "baseline_wall": baseline_wall, "baseline_cpu": baseline_cpu,
                "ratio": wall["job"] / baseline_wall if baseline_wall else None,
                "peak_rss_mb": peak_job}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def synthesise(n: int, seed: int | None, raw: Path) -> None:
    """``trialforge synth`` of n subjects into ``raw``, in a child process: the generator's heap (~0.6 GB
    resident after it at 10,000 subjects) is not the job's, and a ``trialforge run`` does not hold it."""
    code = ("import sys; from pathlib import Path; from trialforge.synth import generate; "
            "generate(subjects=int(sys.argv[1]), out_dir=Path(sys.argv[2]), "
            "**({'seed': int(sys.argv[3])} if len(sys.argv) > 3 else {}))")
    args = [sys.executable, "-c", code, str(n), str(raw)] + ([str(seed)] if seed is not None else [])
    subprocess.run(args, check=True)


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
    if clock == "wall" and any(r["wall"].get("overlap") for r in results):
        stages.append("overlap")                 # seconds of the tables' span spent beside other stages
    head = ["subjects", "jobs", "SDTM rows", "ADaM rows", "synth", *stages, "whole job", "pyreadstat",
            "job/pyreadstat", "peak RSS MB", "peak PSS tree MB"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results:
        t = r[clock]
        base = r[f"baseline_{clock}"]
        tree = r.get("peak_pss_tree_mb")
        cells = [f"{r['subjects']:,}", str(r.get("jobs", "-")), f"{r['sdtm_rows']:,}", f"{r['adam_rows']:,}",
                 f"{t['synth']:.1f}",
                 *(f"{t[s]:.2f}" if s in t else "-" for s in stages), f"{t['job']:.1f}" + (" (failed)" if r["failed"] else ""),
                 f"{base:.2f}", f"{t['job'] / base:.1f}" if base else "-", f"{r['peak_rss_mb']:,.0f}",
                 f"{tree:,.0f}" if tree else "-"]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _tree(root: int) -> list[int]:
    """``root`` and every process below it (from /proc)."""
    children: dict = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            return next((int(line.split()[1]) for line in fh if line.startswith("Pss:")), 0)
    except OSError:
        return 0


JOB_START, JOB_DONE = "TF_BENCH_JOB_START", "TF_BENCH_JOB_DONE"


def run_sampled(cmd: list) -> tuple[subprocess.CompletedProcess, float | None]:
    """Run ``cmd``; meanwhile sample the PSS sum of its process tree until its job is done; (result, peak MB or
    None off Linux)."""
    import threading
    peak = [0]
    marks = Path(tempfile.mkdtemp(prefix="tf-bench-pss-"))
    start, done = marks / "job-start", marks / "job-done"
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, JOB_START: str(start), JOB_DONE: str(done)})

    def sample():
        # from the start of run_study (after synth's child process) to its end (the child touches `done`):
        # the pyreadstat baseline that follows converts every frame to object strings, not the job's memory
        while proc.poll() is None and not done.exists():
            if start.exists():
                peak[0] = max(peak[0], sum(_pss_kb(p) for p in _tree(proc.pid)))
            time.sleep(0.25)

    sampler = threading.Thread(target=sample, daemon=True)
    if Path("/proc/self/smaps_rollup").exists():
        sampler.start()
    out, err = proc.communicate()
    if sampler.is_alive() or sampler.ident is not None:
        sampler.join()
    shutil.rmtree(marks, ignore_errors=True)                 # the markers' temporary folder
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err), (peak[0] / 1024 or None)


def compile_package() -> Path:
    """Write the bytecode of the ``trialforge`` package this bench imports, as ``pip install`` would."""
    import compileall

    import trialforge
    root = Path(trialforge.__file__).parent
    if not compileall.compile_dir(str(root), quiet=1, rx=re.compile(r"[/\\]\.venv[/\\]")):
        sys.exit(f"could not compile the package's bytecode under {root}")
    return root


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subjects", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--seed", type=int, default=None, help="synth seed (default: the bundled study's)")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    parser.add_argument("--jobs", type=int, default=None,
                        help="run_study's jobs (default: TRIALFORGE_JOBS, else every available core)")
    parser.add_argument("--source", action="store_true",
                        help="do not compile the package's bytecode first (time imports from source)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(one_size(args.one, args.seed, args.jobs)))
        return
    if not args.source:
        print(f"compiled bytecode of {compile_package()}", file=sys.stderr)
    results = []
    for n in args.subjects:
        cmd = [sys.executable, __file__, "--one", str(n)] + (["--seed", str(args.seed)] if args.seed is not None else [])
        cmd += ["--jobs", str(args.jobs)] if args.jobs is not None else []
        proc, peak_pss = run_sampled(cmd)
        if proc.returncode:
            sys.exit(f"{n} subjects failed:\n{proc.stderr[-3000:]}")
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        results[-1]["peak_pss_tree_mb"] = peak_pss
        print(f"{n:,} subjects, jobs {results[-1]['jobs']}: whole job {results[-1]['wall']['job']:.1f} s wall, "
              f"{results[-1]['cpu']['job']:.1f} s CPU", file=sys.stderr)
    print("Wall seconds (whole job = run_study; baseline: pyreadstat.write_xport of the same frames, object strings)\n")
    print("\n".join(markdown(results, "wall")))
    print("\nCPU seconds (steadier on a shared machine)\n")
    print("\n".join(markdown(results, "cpu")))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
