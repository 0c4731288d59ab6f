"""The SDTM mapping in one process and split over two (``build_sdtm(jobs=2)``): CPU seconds of each process,
wall seconds, and the two-core critical path computed from the CPU seconds (what the wall is on two free
cores, whatever the machine's load): max(this process, max(worker phase 1, prefix here) + the worker's other
CPU seconds, its fork, result pickling and exit included).

Each measurement runs in a fresh process, alternating the versions; ``--baseline DIR`` adds another
checkout's one-process build (its repo root, the folder holding ``trialforge``). Every build's datasets are
fingerprinted and must agree.

    python benchmarks/sdtm_split_bench.py examples/cd70-cart /work/wt/data/s1000 --rounds 2 --baseline /work/wt/base
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def child(study: str, jobs: int, repeat: int) -> dict:
    """In a fresh process: build ``repeat`` times, report the last build (a warm one when repeat > 1)."""
    import hashlib
    import inspect
    import resource

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from sdtm_bench import dataset_hash
    from trialforge.sdtm import engine
    from trialforge.specs.ct import load_ct
    from trialforge.specs.study import load_study

    marks: dict = {}
    split = hasattr(engine.SdtmBuilder, "_run_split")
    if split:
        run_steps, worker_part = engine.SdtmBuilder._run_steps, engine.SdtmBuilder._worker_part

        def timed_steps(self, steps, **kw):
            start = time.process_time()
            try:
                return run_steps(self, steps, **kw)
            finally:
                marks.setdefault("calls", []).append(time.process_time() - start)

        def timed_worker(self, steps, handover):
            marks["calls"] = []
            start = time.process_time()
            got = worker_part(self, steps, handover)
            calls = marks["calls"]
            got["timing"] = {"phase1": calls[0], "rest": time.process_time() - start - calls[0]}
            return got

        run_split = engine.SdtmBuilder._run_split

        def timed_split(self, all_steps, prefix, worker_domains):
            marks["calls"] = []
            marks["worker_domains"] = sorted(worker_domains)
            task_result = []
            from trialforge import jobs as jobs_mod
            real = jobs_mod.ForkTask.result

            def result(task):
                value = real(task)
                task_result.append(value)
                return value
            jobs_mod.ForkTask.result = result
            try:
                return run_split(self, all_steps, prefix, worker_domains)
            finally:
                jobs_mod.ForkTask.result = real
                marks["prefix"] = marks["calls"][0]
                marks["worker"] = task_result[0].get("timing") if task_result else None

        engine.SdtmBuilder._run_steps = timed_steps
        engine.SdtmBuilder._worker_part = timed_worker
        engine.SdtmBuilder._run_split = timed_split
    study_obj = load_study(study)
    ct = load_ct(list(study_obj.ct_files) or None)
    kwargs = {"jobs": jobs} if "jobs" in inspect.signature(engine.SdtmBuilder.__init__).parameters else {}
    for _ in range(repeat):
        marks.clear()
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu, wall = time.process_time(), time.perf_counter()
        out = engine.build_sdtm(study_obj, ct=ct, **kwargs)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    worker_cpu = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
    h = hashlib.sha256()
    for name, ds in sorted(out.items()):
        h.update(name.encode() + dataset_hash(ds).encode())
    path = cpu
    if marks.get("worker"):
        w = marks["worker"]
        # the worker's whole CPU (fork, pickling its result, exit) less the part that ran beside the prefix
        path = max(cpu, worker_cpu - w["phase1"] + max(w["phase1"], marks["prefix"]))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, after.ru_maxrss / 1024
    return {"cpu": cpu, "worker_cpu": worker_cpu, "wall": wall, "path": path, "hash": h.hexdigest()[:16], "peak": peak,
            "worker_domains": marks.get("worker_domains", [])}


def run(tree: Path, study: str, jobs: int, repeat: int) -> dict:
    env = dict(os.environ, PYTHONPATH=str(tree))
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", study, str(jobs), str(repeat)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True, cwd="/tmp")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("studies", nargs="*")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=2, help="builds per process; the last is reported")
    parser.add_argument("--baseline", help="another checkout's repo root (PYTHONPATH) for a one-process build")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child[0], int(args.child[1]), int(args.child[2]))))
        return
    here = ROOT.parent
    versions = ([("baseline", Path(args.baseline), 1)] if args.baseline else []) + [("this, 1 job", here, 1),
                                                                                      ("this, 2 jobs", here, 2)]
    for study in args.studies:
        hashes = set()
        for r in range(args.rounds):
            for label, tree, jobs in versions:
                got = run(tree, study, jobs, args.repeat)
                hashes.add(got["hash"])
                load = os.getloadavg()[0]
                print(f"{study} round {r + 1} {label:13s} CPU {got['cpu']:5.2f} + worker {got['worker_cpu']:5.2f}  "
                      f"wall {got['wall']:5.2f}  two-core path {got['path']:5.2f}  worker {got['worker_domains']}  "
                      f"peak RSS {got['peak'][0]:.0f} + worker {got['peak'][1]:.0f} MB  "
                      f"(load {load:.1f})", flush=True)
        print(f"{study}: {'same datasets' if len(hashes) == 1 else 'DATASETS DIFFER'}", flush=True)


if __name__ == "__main__":
    main()
