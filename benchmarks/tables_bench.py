"""Time the tables stage (``build_study_tables``) of the bundled CD70 layout at several sizes.

Each size: synth raw -> SDTM -> ADaM (not timed; cached as a pickle under --cache so reruns are
quick), then the whole tables stage, timed in CPU and wall seconds, with the costliest outputs.
Sizes run one after another in this process, so before/after figures compare in one run.

    python benchmarks/tables_bench.py                          # the bundled example (46 subjects)
    python benchmarks/tables_bench.py --subjects 300 1000 --top 8
    python benchmarks/tables_bench.py --study-dir /tmp/s300    # an existing study folder (raw/ + specs)
    python benchmarks/tables_bench.py --subjects 300 --profile /tmp/tables300.pstats
    python benchmarks/tables_bench.py --study-dir /tmp/base1k --baseline /work/wt/base --repeat 3

``--baseline DIR`` (a folder holding another checkout's ``trialforge`` package) times that version and this
one on the same pickled ADaM in alternating child processes (one build per process, so no warm cache is
shared), prints each run and the ratio of the minima, and checks the two output folders are byte-identical.
"""
from __future__ import annotations

import argparse
import pickle
import shutil
import sys
import tempfile
import time
from pathlib import Path


def study_folder(n: int | None, cache: Path) -> Path:
    """A study folder with the bundled CD70 specs and `n` synthetic subjects (None: the example)."""
    from trialforge.pipeline import DEFAULT_STUDY
    if n is None:
        return DEFAULT_STUDY
    folder = cache / f"cd70-{n}"
    if not (folder / "raw").is_dir():
        from trialforge.synth import generate
        folder.mkdir(parents=True, exist_ok=True)
        for name in ("study.yaml", "tables.yaml"):
            shutil.copy(DEFAULT_STUDY / name, folder / name)
        shutil.copytree(DEFAULT_STUDY / "specs", folder / "specs", dirs_exist_ok=True)
        generate(subjects=n, out_dir=folder / "raw")
    return folder


def adam_of(folder: Path, cache: Path, label: str) -> dict:
    """The study's ADaM datasets, built once and pickled."""
    pkl = cache / f"{label}-adam.pkl"
    if pkl.is_file():
        return pickle.loads(pkl.read_bytes())
    from trialforge.pipeline import build_adam_stage
    from trialforge.sdtm.engine import build_sdtm
    from trialforge.specs.ct import load_ct
    from trialforge.specs.study import load_study
    study = load_study(folder)
    adam, _ = build_adam_stage(study, build_sdtm(study, ct=load_ct(list(study.ct_files) or None)))
    pkl.write_bytes(pickle.dumps(adam))
    return adam


def time_tables(folder: Path, adam: dict, out: Path, profile: str | None = None) -> tuple[float, float, dict]:
    from trialforge.specs.study import load_study
    from trialforge.tables.build import BuildReport, build_study_tables
    study = load_study(folder)
    report = BuildReport()
    shutil.rmtree(out, ignore_errors=True)
    prof = None
    if profile:
        import cProfile
        prof = cProfile.Profile()
        prof.enable()
    cpu, wall = time.process_time(), time.perf_counter()
    build_study_tables(study, adam, out, report=report)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if prof is not None:
        prof.disable()
        prof.dump_stats(profile)
    return cpu, wall, report.seconds


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subjects", type=int, nargs="*", default=[], help="synthetic sizes (default: the example)")
    ap.add_argument("--study-dir", action="append", default=[], help="existing study folder(s) to time")
    ap.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "tf-tables-bench"),
                    help="where synthetic studies and pickled ADaM are kept between runs")
    ap.add_argument("--top", type=int, default=6, help="costliest outputs to list per size")
    ap.add_argument("--repeat", type=int, default=1, help="time each size this many times (best is kept)")
    ap.add_argument("--profile", help="write a cProfile of the (last) size's tables stage here")
    ap.add_argument("--baseline", help="folder holding another checkout's trialforge package: time both, alternating")
    ap.add_argument("--one", nargs=3, metavar=("FOLDER", "LABEL", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:                                   # a child of --baseline: one build, one line of figures
        folder, label, out = Path(args.one[0]), args.one[1], Path(args.one[2])
        import trialforge.adam  # noqa: F401  (a run has it imported: the footnote facts read its criteria)
        import trialforge.tables.build  # noqa: F401
        import trialforge.tables.canvas_png  # noqa: F401  (lazy imports of the stage are not timed)
        import trialforge.tables.figures  # noqa: F401
        cpu, wall, seconds = time_tables(folder, adam_of(folder, Path(args.cache), label), out)
        figures = sum(v for k, v in seconds.items() if k.startswith("Figure"))
        print(f"{cpu:.3f} {wall:.3f} {figures:.3f}")
        return 0
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    import trialforge.adam  # noqa: F401  (a run has it imported: the footnote facts read its criteria)
    import trialforge.tables.build  # noqa: F401  (import cost is not the stage's)
    import trialforge.tables.figures  # noqa: F401
    runs = [(Path(d), Path(d).name) for d in args.study_dir]
    runs += [(study_folder(n, cache), f"cd70-{n}") for n in args.subjects]
    if not runs:
        runs = [(study_folder(None, cache), "example")]
    if args.baseline:
        return compare(runs, Path(args.baseline), cache, args.repeat)
    print(f"{'study':<16}{'ADSL':>7}{'cpu s':>9}{'wall s':>9}{'outputs':>9}")
    for k, (folder, label) in enumerate(runs):
        adam = adam_of(folder, cache, label)
        best = None
        for _ in range(args.repeat):
            got = time_tables(folder, adam, cache / f"{label}-tables",
                              args.profile if k == len(runs) - 1 else None)
            best = got if best is None or got[0] < best[0] else best
        cpu, wall, seconds = best
        n = len(getattr(adam["ADSL"], "frame", adam["ADSL"]))
        print(f"{label:<16}{n:>7}{cpu:>9.2f}{wall:>9.2f}{len(seconds):>9}")
        for name, s in sorted(seconds.items(), key=lambda kv: -kv[1])[:args.top]:
            print(f"    {s:7.2f}  {name}")
    return 0


def compare(runs, baseline: Path, cache: Path, repeat: int) -> int:
    """This version and `baseline` alternately, `repeat` times per study; 1 when their outputs differ."""
    import filecmp
    import os
    import subprocess
    here = Path(__file__).resolve().parents[2]        # the folder holding this checkout's trialforge
    versions = (("baseline", baseline.resolve()), ("this", here))
    differ = 0
    for folder, label in runs:
        adam_of(folder, cache, label)                 # pickled once, read by both versions
        got = {name: [] for name, _ in versions}
        for _ in range(repeat):
            for name, path in versions:
                out = cache / f"{label}-tables-{name}"
                env = {**os.environ, "PYTHONPATH": str(path)}
                line = subprocess.run([sys.executable, __file__, "--cache", str(cache), "--one", str(folder), label,
                                       str(out)], env=env, check=True, capture_output=True, text=True).stdout
                cpu, wall, figures = map(float, line.split()[-3:])
                got[name].append(cpu)
                print(f"{label:<16}{name:<10} cpu {cpu:7.2f}  wall {wall:7.2f}  figures {figures:6.2f}  "
                      f"tables {cpu - figures:6.2f}", flush=True)
        a, b = (cache / f"{label}-tables-{name}" for name, _ in versions)
        cmp = filecmp.dircmp(a, b)
        same = not (cmp.left_only or cmp.right_only or
                    filecmp.cmpfiles(a, b, cmp.common_files, shallow=False)[1:] != ([], []))
        differ += not same
        print(f"{label:<16}min cpu this / baseline: {min(got['this']):.2f} / {min(got['baseline']):.2f} = "
              f"{min(got['this']) / min(got['baseline']):.2f}; outputs {'byte-identical' if same else 'DIFFER'}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
