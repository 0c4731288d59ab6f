"""Time the SDTM build and the ADaM build of one study, separately, in CPU and wall seconds.

A study is a folder (``--study DIR``, e.g. a copy of the bundled CD70 layout with a ``synth`` raw/) or a
size (``--subjects N``: the bundled CD70 specs with ``synth`` raw data). Each study runs in its own
subprocess, so imports are not timed and the peak resident memory is that study's own. ``--profile
PREFIX`` writes cProfile statistics per stage (PREFIX.sdtm.pstats, PREFIX.adam.pstats); ``--fingerprint
FILE`` writes a hash of every built dataset (metadata, column types and values) to compare two code
versions on the same inputs.

    python benchmarks/sdtm_bench.py --subjects 300 1000
    python benchmarks/sdtm_bench.py --study /tmp/study --profile /tmp/prof
"""
from __future__ import annotations

import argparse
import hashlib
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def dataset_hash(ds) -> str:
    """SHA-256 of a dataset's metadata, column names and dtypes and every value (exact, not rounded)."""
    import pandas as pd
    h = hashlib.sha256(repr(ds.meta).encode())
    frame = ds.frame
    h.update(repr([(c, str(t)) for c, t in frame.dtypes.items()]).encode())
    h.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    return h.hexdigest()[:16]


def _timed(fn, profile: Path | None):
    if profile is None:
        cpu, wall = time.process_time(), time.perf_counter()
        out = fn()
        return out, time.process_time() - cpu, time.perf_counter() - wall
    import cProfile
    prof = cProfile.Profile()
    cpu, wall = time.process_time(), time.perf_counter()
    out = prof.runcall(fn)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    prof.dump_stats(str(profile))
    return out, cpu, wall


def one_study(folder: Path, profile: str | None, fingerprint: str | None) -> dict:
    from trialforge.pipeline import build_adam_stage
    from trialforge.sdtm.engine import build_sdtm
    from trialforge.specs.ct import load_ct
    from trialforge.specs.study import load_study

    study = load_study(folder)
    ct = load_ct(list(study.ct_files) or None)
    sdtm, sdtm_cpu, sdtm_wall = _timed(lambda: build_sdtm(study, ct=ct),
                                       Path(f"{profile}.sdtm.pstats") if profile else None)
    (adam, extra), adam_cpu, adam_wall = _timed(lambda: build_adam_stage(study, sdtm),
                                                Path(f"{profile}.adam.pstats") if profile else None)
    if fingerprint:
        prints = {name: dataset_hash(ds) for name, ds in sorted({**sdtm, **extra, **adam}.items())}
        Path(fingerprint).write_text(json.dumps(prints, indent=1) + "\n")
    return {"subjects": int((sdtm["DM"].frame["USUBJID"] != "").sum()),
            "sdtm_rows": sum(len(d.frame) for d in sdtm.values()),
            "adam_rows": sum(len(d.frame) for d in adam.values()),
            "sdtm_cpu": sdtm_cpu, "sdtm_wall": sdtm_wall, "adam_cpu": adam_cpu, "adam_wall": adam_wall,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def synth_study(n: int, seed: int | None, work: Path) -> Path:
    """The bundled CD70 study's specs with ``synth`` raw data of n subjects."""
    from trialforge.pipeline import DEFAULT_STUDY
    from trialforge.synth import generate
    folder = work / f"cd70-{n}"
    folder.mkdir(parents=True)
    shutil.copy(DEFAULT_STUDY / "study.yaml", folder / "study.yaml")
    shutil.copytree(DEFAULT_STUDY / "specs", folder / "specs")
    generate(subjects=n, **({"seed": seed} if seed is not None else {}), out_dir=folder / "raw")
    return folder


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--study", type=Path, nargs="+", default=[], help="study folders to time")
    parser.add_argument("--subjects", type=int, nargs="+", default=[], help="synth CD70 studies of these sizes")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--profile", help="write cProfile stats to PREFIX[-N].{sdtm,adam}.pstats")
    parser.add_argument("--fingerprint", help="write dataset hashes to FILE[-N].json")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(one_study(args.one, args.profile, args.fingerprint)))
        return
    if not args.study and not args.subjects:
        args.subjects = [1000]
    print(f"{'study':>24} {'subjects':>8} {'sdtm rows':>9} {'adam rows':>9} {'sdtm cpu':>8} {'adam cpu':>8} "
          f"{'sdtm wall':>9} {'adam wall':>9} {'peakMB':>7}")
    with tempfile.TemporaryDirectory(prefix="tf-sdtm-bench-") as tmp:
        folders = list(args.study) + [synth_study(n, args.seed, Path(tmp)) for n in args.subjects]
        many = len(folders) > 1
        for i, folder in enumerate(folders):
            cmd = [sys.executable, __file__, "--one", str(folder)]
            if args.profile:
                cmd += ["--profile", f"{args.profile}-{i}" if many else args.profile]
            if args.fingerprint:
                cmd += ["--fingerprint", f"{args.fingerprint}-{i}.json" if many else args.fingerprint]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode:
                sys.exit(proc.stderr)
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            print(f"{folder.name[-24:]:>24} {r['subjects']:>8} {r['sdtm_rows']:>9} {r['adam_rows']:>9} "
                  f"{r['sdtm_cpu']:>8.2f} {r['adam_cpu']:>8.2f} {r['sdtm_wall']:>9.2f} {r['adam_wall']:>9.2f} "
                  f"{r['peak_rss_mb']:>7.0f}")


if __name__ == "__main__":
    main()
