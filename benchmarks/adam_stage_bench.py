"""Time the ADaM stage (``pipeline.build_adam_stage``) of a study in this code version and in a baseline version,
alternating child processes, and check both build the same ADaM frames (values, dtypes, metadata).

The SDTM is built once (by this version) and pickled, so both versions derive from the same input and only the
ADaM stage is timed: CPU seconds of the first build in a fresh process (what ``trialforge run`` pays, caches
cold) and of a second build in the same process (caches warm). The ADaM modules are imported before the timer
(their import is reported on its own).

    python benchmarks/adam_stage_bench.py                          # bundled cd70-cart, no baseline
    python benchmarks/adam_stage_bench.py /tmp/study1k --baseline /work/wt/base/trialforge --rounds 3

``--baseline`` is the folder of another trialforge checkout (e.g. ``git worktree add --detach DIR <commit>``).
"""
from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _study(path: str):
    from trialforge.pipeline import EXAMPLES
    from trialforge.specs.study import load_study
    return load_study(Path(path) if Path(path).is_dir() else EXAMPLES / path)


def child(study: str, sdtm_pickle: str, frames_out: str | None) -> dict:
    """One fresh process: build the ADaM stage twice from the pickled SDTM."""
    sdtm = pickle.loads(Path(sdtm_pickle).read_bytes())
    from trialforge.pipeline import build_adam_stage
    st = _study(study)
    t = time.process_time()
    _import_adam()
    imported = time.process_time() - t
    times = []
    for _ in range(2):
        t = time.process_time()
        adam, extra = build_adam_stage(st, sdtm)
        times.append(time.process_time() - t)
    if frames_out:
        datasets = {**adam, **extra}
        Path(frames_out).write_bytes(pickle.dumps(
            {k: (v.frame, repr(v.meta)) for k, v in datasets.items()}))
    return {"first": times[0], "second": times[1], "import": imported}


def _import_adam() -> None:
    """The ADaM modules, imported before the timer: their import (seconds where bytecode is not cached, e.g.
    PYTHONDONTWRITEBYTECODE) is not derivation work, and is reported on its own."""
    import importlib
    import pkgutil

    import trialforge.adam as adam
    for mod in pkgutil.walk_packages(adam.__path__, adam.__name__ + "."):
        importlib.import_module(mod.name)


def _run(root: Path, args: list[str]) -> dict:
    env = {**os.environ, "PYTHONPATH": str(root.parent)}
    proc = subprocess.run([sys.executable, __file__, *args], env=env, capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _compare(a: Path, b: Path) -> list[str]:
    import pandas as pd
    left, right = pickle.loads(a.read_bytes()), pickle.loads(b.read_bytes())
    if left.keys() != right.keys():
        return [f"datasets differ: {sorted(left)} vs {sorted(right)}"]
    bad = []
    for name in left:
        try:
            pd.testing.assert_frame_equal(left[name][0], right[name][0], check_exact=True)
            assert list(left[name][0].dtypes) == list(right[name][0].dtypes), "dtypes"
            assert left[name][1] == right[name][1], "metadata"
        except AssertionError as err:
            bad.append(f"{name}: {str(err)[:300]}")
    return bad


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("study", nargs="?", default="cd70-cart", help="study folder or bundled example name")
    ap.add_argument("--baseline", type=Path, help="another trialforge checkout to compare with")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child[0], args.child[1], args.child[2] or None)))
        return 0
    here = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory(prefix="tf-adam-stage-") as tmp:
        from trialforge.sdtm.engine import build_sdtm
        from trialforge.specs.ct import load_ct
        sdtm_pickle = Path(tmp) / "sdtm.pkl"
        sdtm_pickle.write_bytes(pickle.dumps(build_sdtm(_study(args.study), ct=load_ct())))
        versions = {"this": here} | ({"baseline": args.baseline.resolve()} if args.baseline else {})
        got: dict[str, list[dict]] = {k: [] for k in versions}
        for r in range(args.rounds):
            for name, root in versions.items():
                out = str(Path(tmp) / f"{name}.pkl") if r == 0 else ""
                got[name].append(_run(root, ["--child", args.study, str(sdtm_pickle), out]))
        for name, runs in got.items():
            print(f"{name:9s} first build CPU s (min of {len(runs)}): {min(r['first'] for r in runs):.2f}   "
                  f"second build: {min(r['second'] for r in runs):.2f}   "
                  f"(ADaM modules imported before: {min(r.get('import', 0.0) for r in runs):.2f})")
        if args.baseline:
            ratio = min(r["first"] for r in got["this"]) / min(r["first"] for r in got["baseline"])
            print(f"this / baseline (first build): {ratio:.2f}")
            bad = _compare(Path(tmp) / "this.pkl", Path(tmp) / "baseline.pkl")
            print("ADaM frames: " + ("identical" if not bad else f"{len(bad)} differ"))
            for line in bad:
                print("  " + line)
            return 1 if bad else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
