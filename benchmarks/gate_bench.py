"""Time the validation gates of ``trialforge run`` (SDTM gate, PP gate, ADaM gate) on a study.

    python benchmarks/gate_bench.py /tmp/base1k --cache /tmp/gates1k.pickle [--repeat 2] [--profile N]
        [--reports FOLDER] [--rule-times N] [--write-reports FOLDER]

The study's SDTM and ADaM are built once and kept in ``--cache`` (a pickle), so the gates can be timed
again and again, and by two versions of the code back to back (run one with PYTHONPATH pointing at the
other checkout). The gates are called exactly as ``pipeline.run_study`` calls them. CPU seconds are
reported (the machine is shared; wall time is noise). ``--reports`` writes each gate's JSON report, so
two versions can be compared byte for byte; ``--profile N`` prints the N costliest functions (cProfile);
``--rule-times N`` prints the N costliest rules (CPU seconds summed over every dataset a rule ran on; the
column rules of a dataset are one entry, TF-SCHEMA) and how much the cheap ones cost together.

How issue 16's speed work was profiled (cProfile inflates pandas' many small calls, so a sampling profiler
gave the proportions; py-spy is a development tool, not a dependency):

    python benchmarks/gate_bench.py examples/cd70-cart --cache /tmp/gates_ex.pickle --rule-times 40
    python benchmarks/gate_bench.py examples/cd70-cart --cache /tmp/gates_ex.pickle --profile 40
    py-spy record -r 200 -f raw -o /tmp/gates.txt -- python benchmarks/gate_bench.py examples/cd70-cart \
        --cache /tmp/gates_ex.pickle --repeat 3        # collapsed stacks: sum samples per function
    # two versions back to back (CPU seconds; reports compared byte for byte):
    PYTHONPATH=/tmp/base python benchmarks/gate_bench.py x --cache /tmp/gates_ex.pickle --reports /tmp/r_base
    PYTHONPATH=.. python benchmarks/gate_bench.py x --cache /tmp/gates_ex.pickle --reports /tmp/r_new
"""
from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import sys
import time
from pathlib import Path


def build(study_dir: Path, cache: Path) -> dict:
    """SDTM (incl. what the ADaM stage adds to it, PP) and ADaM of the study, as run_study builds them."""
    if cache.is_file():
        with cache.open("rb") as fh:
            return pickle.load(fh)
    from trialforge.pipeline import _to_ascii, build_adam_stage
    from trialforge.sdtm.engine import build_sdtm
    from trialforge.specs.ct import load_ct
    from trialforge.specs.study import load_study
    study = load_study(study_dir)
    ct = load_ct(list(study.ct_files) or None)
    sdtm, _ = _to_ascii(study, build_sdtm(study, ct=ct, notes=[]))
    adam, extra = build_adam_stage(study, sdtm)
    adam, _ = _to_ascii(study, adam)
    extra, _ = _to_ascii(study, extra)
    data = {"sdtm": sdtm, "extra": extra, "adam": adam, "ct_files": list(study.ct_files)}
    cache.parent.mkdir(parents=True, exist_ok=True)
    with cache.open("wb") as fh:
        pickle.dump(data, fh, protocol=pickle.HIGHEST_PROTOCOL)
    return data


def gates(data: dict, ct) -> dict:
    """The three gate calls of run_study; returns name -> ValidationReport."""
    from trialforge.pipeline import GATE
    from trialforge.validation.runner import validate_datasets
    sdtm = validate_datasets(data["sdtm"], ct=ct, scope="SDTM", options=GATE)
    out = {"sdtm": sdtm}
    if data["extra"]:
        extra = validate_datasets({"DM": data["sdtm"]["DM"], **data["extra"]}, ct=ct, scope="SDTM", options=GATE)
        sdtm.extend(f for f in extra.findings if f.dataset in data["extra"])
        sdtm.datasets.update({k: len(v.frame) for k, v in data["extra"].items()})
        sdtm.findings = sdtm.sorted()
    if data["adam"]:
        out["adam"] = validate_datasets(data["adam"], ct=ct, scope="ADaM", options=GATE)
    return out


def rule_times(data: dict, ct, top: int) -> None:
    """CPU seconds per rule id over one run of the gates (the runner's guard is timed per call)."""
    from collections import Counter, defaultdict
    from trialforge.validation import runner
    seconds, calls = defaultdict(float), Counter()
    guard = runner._guard

    def timed(run, rule_id, dataset):
        start = time.process_time()
        try:
            return guard(run, rule_id, dataset)
        finally:
            seconds[rule_id] += time.process_time() - start
            calls[rule_id] += 1
    runner._guard = timed
    try:
        gates(data, ct)
    finally:
        runner._guard = guard
    ranked = sorted(seconds.items(), key=lambda kv: -kv[1])
    print(f"rules: {sum(seconds.values()):.2f} s CPU in {sum(calls.values())} calls of {len(seconds)} rules")
    for rule_id, sec in ranked[:top]:
        print(f"  {rule_id:14} {sec * 1000:8.1f} ms  {calls[rule_id]:4} calls")
    for limit in (0.001, 0.005, 0.02):
        cheap = [sec for _, sec in ranked if sec < limit]
        print(f"  {len(cheap)} rules under {limit * 1000:.0f} ms: {sum(cheap) * 1000:.0f} ms together")


def report_times(reports: dict, folder: Path, repeat: int) -> None:
    """CPU seconds per report format (json, html, xlsx, junit) of each gate, and the files' sha256."""
    from trialforge.validation.report import FORMATS, write_reports
    best: dict = {}
    for _ in range(max(repeat, 1)):
        for name, report in reports.items():
            for fmt in FORMATS:
                start = time.process_time()
                write_reports(report, folder / name, formats=(fmt,), package=f"bench {name.upper()}")
                seconds = time.process_time() - start
                best[name, fmt] = min(best.get((name, fmt), seconds), seconds)
    print(f"reports CPU: {sum(best.values()):.2f} s (best of {max(repeat, 1)} per format)")
    for (name, fmt), seconds in best.items():
        print(f"  {name:5} {fmt:6} {seconds:6.3f} s")
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            print(f"  {path.relative_to(folder)} sha256 {hashlib.sha256(path.read_bytes()).hexdigest()[:16]}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("study", type=Path)
    ap.add_argument("--cache", type=Path, required=True, help="pickle of the built SDTM/ADaM (made when absent)")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--profile", type=int, default=0, help="print the N costliest functions (cProfile)")
    ap.add_argument("--reports", type=Path, help="write each gate's JSON report here")
    ap.add_argument("--rule-times", type=int, default=0, help="print the N costliest rules (CPU seconds)")
    ap.add_argument("--write-reports", type=Path, help="write every report format of each gate here, as the "
                    "pipeline's reports stage does, and print CPU seconds per format (best of --repeat)")
    args = ap.parse_args(argv)
    from trialforge.specs.ct import load_ct
    data = build(args.study, args.cache)
    ct = load_ct(list(data["ct_files"]) or None)
    rows = {k: sum(len(d.frame) for d in data[k].values()) for k in ("sdtm", "extra", "adam")}
    print(f"rows: SDTM {rows['sdtm']}, PP etc. {rows['extra']}, ADaM {rows['adam']}")
    best = None
    for _ in range(args.repeat):
        start = time.process_time()
        reports = gates(data, ct)
        seconds = time.process_time() - start
        best = seconds if best is None else min(best, seconds)
    for name, report in reports.items():
        print(f"{name}: {len(report.findings)} findings, {report.rules_run} rules")
    print(f"gates CPU: {best:.2f} s (best of {args.repeat})")
    if args.reports:
        from trialforge.validation.report import report_dict
        args.reports.mkdir(parents=True, exist_ok=True)
        for name, report in reports.items():
            text = json.dumps(report_dict(report, package=name), indent=1, ensure_ascii=True) + "\n"
            (args.reports / f"{name}.json").write_text(text, encoding="utf-8")
            print(f"{name}.json sha256 {hashlib.sha256(text.encode()).hexdigest()[:16]}")
    if args.write_reports:
        report_times(reports, args.write_reports, args.repeat)
    if args.rule_times:
        rule_times(data, ct, args.rule_times)
    if args.profile:
        import cProfile
        import pstats
        prof = cProfile.Profile()
        prof.runcall(gates, data, ct)
        pstats.Stats(prof).sort_stats("cumulative").print_stats(args.profile)
        pstats.Stats(prof).sort_stats("tottime").print_stats(args.profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
