"""CPU seconds of the SDTM build per rule, per source read, per domain finish and per SUPP dataset.

Where ``sdtm_bench.py --profile`` shows pandas functions, this names the spec rule that called them: each
top-level rule evaluation (``when`` branches count towards their rule) is timed with its domain, kind and
variable. It reads a study folder and writes nothing:

    python benchmarks/sdtm_rule_times.py examples/cd70-cart
    python benchmarks/sdtm_rule_times.py /tmp/study --top 40
"""
from __future__ import annotations

import argparse
import collections
import time


def rule_times(folder) -> tuple[float, collections.Counter]:
    """(total CPU seconds of build_sdtm, CPU seconds per (what, ...) key)."""
    from trialforge.sdtm import engine
    from trialforge.specs.ct import load_ct
    from trialforge.specs.study import load_study

    study = load_study(folder)
    ct = load_ct(list(study.ct_files) or None)
    times: collections.Counter = collections.Counter()
    depth = [0]
    saved = {}

    def wrap(owner, name, key):
        fn = getattr(owner, name)
        saved[(owner, name)] = fn

        def timed(*args, **kwargs):
            depth[0] += 1
            start = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                depth[0] -= 1
                if name != "evaluate_rule" or depth[0] == 0:
                    times[key(*args)] += time.process_time() - start
        setattr(owner, name, timed)

    wrap(engine, "evaluate_rule", lambda rule, frame, ctx: (ctx.current.dataset, rule.kind, rule.variable))
    wrap(engine, "load_source", lambda source, *a: ("read source", source.name))
    wrap(engine, "build_supp", lambda spec, *a: ("supp", spec.dataset))
    wrap(engine, "supp_values", lambda supp, *a: ("supp value", supp.qnam))
    wrap(engine.SdtmBuilder, "_finish", lambda self, spec, *a: ("finish", spec.dataset))
    try:
        start = time.process_time()
        engine.build_sdtm(study, ct=ct)
        total = time.process_time() - start
    finally:
        for (owner, name), fn in saved.items():
            setattr(owner, name, fn)
    return total, times


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("study", help="study folder")
    parser.add_argument("--top", type=int, default=25, help="how many single rules to list")
    args = parser.parse_args(argv)
    total, times = rule_times(args.study)
    print(f"build_sdtm {total:.2f} s CPU, {sum(times.values()):.2f} s in the timed steps")
    by_kind: collections.Counter = collections.Counter()
    for key, seconds in times.items():
        by_kind[key[1] if len(key) == 3 else key[0]] += seconds
    for kind, seconds in by_kind.most_common():
        print(f"  {kind:14s} {seconds:7.3f}")
    print(f"top {args.top}:")
    for key, seconds in times.most_common(args.top):
        print(f"  {seconds:7.3f}  {' '.join(map(str, key))}")


if __name__ == "__main__":
    main()
