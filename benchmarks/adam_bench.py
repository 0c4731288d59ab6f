"""Time the ADaM stage (``build_adam`` with the bundled CD70 spec) on synthetic studies of several sizes.

Each size: synth raw → SDTM (timed as the reference figure of the same run) → ADaM, timed per dataset
recipe and in total. Each size runs in its own subprocess so the peak resident memory is that size's own.

    python benchmarks/adam_bench.py                    # 1,000 subjects
    python benchmarks/adam_bench.py --subjects 200 1000 10000
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


def one_size(n: int, seed: int) -> dict:
    from trialforge.adam import build_adam, load_adam_config
    from trialforge.adam.recipes import adae, adlb, adrs, adsl, adtte, pk
    from trialforge.adam.recipes.sdtm_input import SdtmSource
    from trialforge.pipeline import DEFAULT_STUDY
    from trialforge.sdtm.engine import build_sdtm
    from trialforge.specs.ct import load_ct
    from trialforge.specs.study import load_study
    from trialforge.synth import generate

    work = Path(tempfile.mkdtemp(prefix=f"tf-adam-bench-{n}-"))
    try:
        shutil.copy(DEFAULT_STUDY / "study.yaml", work / "study.yaml")
        shutil.copytree(DEFAULT_STUDY / "specs", work / "specs")
        generate(subjects=n, seed=seed, out_dir=work / "raw")
        study = load_study(work)
        t = time.perf_counter()
        sdtm = build_sdtm(study, ct=load_ct())
        sdtm_s = time.perf_counter() - t
        config = load_adam_config(work / "specs" / "adam.yaml")
        t = time.perf_counter()
        datasets = build_adam(sdtm, config)
        total = time.perf_counter() - t
        # per recipe (frames only, no metadata), to see where the time goes
        src = SdtmSource(sdtm)
        parts = {}
        t = time.perf_counter()
        frame = adsl.build_adsl(src, config)
        parts["ADSL"] = time.perf_counter() - t
        for name, fn in (("ADAE", adae.build_adae), ("ADLB", adlb.build_adlb), ("ADRS", adrs.build_adrs),
                         ("ADTTE", adtte.build_adtte), ("ADPC", pk.build_adpc)):
            t = time.perf_counter()
            out = fn(src, frame, config)
            parts[name] = time.perf_counter() - t
            if name == "ADPC":
                t = time.perf_counter()
                pk.build_adpp(out, frame, config)
                parts["ADPP"] = time.perf_counter() - t
        return {"subjects": n, "sdtm_rows": sum(len(d.frame) for d in sdtm.values()),
                "adam_rows": {k: len(v.frame) for k, v in datasets.items()}, "sdtm_seconds": sdtm_s,
                "adam_seconds": total, "recipes": parts,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subjects", type=int, nargs="+", default=[1000])
    parser.add_argument("--seed", type=int, default=20250304)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(one_size(args.one, args.seed)))
        return
    print(f"{'subjects':>8} {'sdtm rows':>9} {'adam rows':>9} {'sdtm s':>7} {'adam s':>7} {'peakMB':>7}  "
          "per recipe (s)")
    for n in args.subjects:
        proc = subprocess.run([sys.executable, __file__, "--one", str(n), "--seed", str(args.seed)],
                              capture_output=True, text=True, check=True)
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        recipes = " ".join(f"{k} {v:.2f}" for k, v in r["recipes"].items())
        print(f"{n:>8} {r['sdtm_rows']:>9} {sum(r['adam_rows'].values()):>9} {r['sdtm_seconds']:>7.2f} "
              f"{r['adam_seconds']:>7.2f} {r['peak_rss_mb']:>7.0f}  {recipes}")


if __name__ == "__main__":
    main()
