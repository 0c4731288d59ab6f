"""Time the main job per stage: synth → SDTM → validation → XPT, at several study sizes.

Baseline for the XPT stage: ``pyreadstat.write_xport`` on the same frames in the same run, so the
figure to quote is the ratio (ours / pyreadstat). Each size runs in its own subprocess so the
peak resident memory reported is that size's own.

    python benchmarks/pipeline_bench.py                 # 1,000 and 10,000 subjects
    python benchmarks/pipeline_bench.py --subjects 200 500
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
    import pyreadstat

    from trialforge.pipeline import DEFAULT_STUDY, created_timestamp
    from trialforge.sdtm.engine import build_sdtm
    from trialforge.specs.ct import load_ct
    from trialforge.specs.study import load_study
    from trialforge.submission.xpt import write_xpt
    from trialforge.synth import generate
    from trialforge.validation.runner import validate_datasets

    work = Path(tempfile.mkdtemp(prefix=f"tf-bench-{n}-"))
    try:
        shutil.copy(DEFAULT_STUDY / "study.yaml", work / "study.yaml")
        shutil.copytree(DEFAULT_STUDY / "specs", work / "specs")
        times = {}
        t = time.perf_counter()
        generate(subjects=n, seed=seed, out_dir=work / "raw")
        times["synth"] = time.perf_counter() - t
        study = load_study(work)
        ct = load_ct()
        t = time.perf_counter()
        sdtm = build_sdtm(study, ct=ct)
        times["sdtm"] = time.perf_counter() - t
        t = time.perf_counter()
        report = validate_datasets(sdtm, ct=ct, scope="SDTM")
        times["validate"] = time.perf_counter() - t
        out = work / "xpt"
        out.mkdir()
        created = created_timestamp(study)
        t = time.perf_counter()
        for name, ds in sdtm.items():
            write_xpt(ds, out / f"{name.lower()}.xpt", created=created)
        times["xpt"] = time.perf_counter() - t
        base = work / "xpt-pyreadstat"
        base.mkdir()
        t = time.perf_counter()
        for name, ds in sdtm.items():
            labels = [ds.meta.variable(c).label if ds.meta.variable(c) else "" for c in ds.frame.columns]
            pyreadstat.write_xport(ds.frame, str(base / f"{name.lower()}.xpt"), file_label=ds.meta.label,
                                   column_labels=labels, table_name=name, file_format_version=5)
        times["xpt_pyreadstat"] = time.perf_counter() - t
        rows = {name: len(ds.frame) for name, ds in sdtm.items()}
        return {"subjects": n, "rows": sum(rows.values()), "datasets": len(rows), "seconds": times,
                "findings": {"errors": len(report.errors), "total": len(report.findings)},
                "xpt_ratio_vs_pyreadstat": times["xpt"] / times["xpt_pyreadstat"],
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subjects", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--seed", type=int, default=20250304)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(one_size(args.one, args.seed)))
        return
    print(f"{'subjects':>8} {'rows':>9} {'synth':>7} {'sdtm':>7} {'valid':>7} {'xpt':>7} {'pyrs':>7} "
          f"{'xpt/pyrs':>8} {'peakMB':>7}")
    for n in args.subjects:
        proc = subprocess.run([sys.executable, __file__, "--one", str(n), "--seed", str(args.seed)],
                              capture_output=True, text=True, check=True)
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        s = r["seconds"]
        print(f"{n:>8} {r['rows']:>9} {s['synth']:>7.2f} {s['sdtm']:>7.2f} {s['validate']:>7.2f} {s['xpt']:>7.2f} "
              f"{s['xpt_pyreadstat']:>7.2f} {r['xpt_ratio_vs_pyreadstat']:>8.2f} {r['peak_rss_mb']:>7.0f}")


if __name__ == "__main__":
    main()
