"""A per-process timeline of a whole run: which process runs which stage when, and how many cores are busy.

Usage: python -m trialforge.benchmarks.pipeline_timeline STUDY|- OUT [--jobs N] [--bins S]

Why: with ``--jobs 2`` the question is where a core sits idle (a process waiting for a worker, a stage
that could have started earlier). The run is instrumented from outside (the stage timer's context
manager, SDTM steps, ADaM recipes, table outputs, worker waits are wrapped here, in this process and
inherited by its forked workers); a sampler thread reads the CPU seconds of the process tree from /proc
every 20 ms. Prints each process's segments, then per time bin the cores in use and the stages running.
Only clocks are read: outputs are the same as without it.
"""
from __future__ import annotations

import os
import shutil
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

_T0 = time.perf_counter()
_EVENTS: list = []                  # (pid, label, start, end, cpu) in this process
_FD = [None]


def _log(label: str, start: float, end: float, cpu: float) -> None:
    line = f"{os.getpid()}\t{label}\t{start - _T0:.4f}\t{end - _T0:.4f}\t{cpu:.4f}\n"
    os.write(_FD[0], line.encode())          # O_APPEND: one write per line, atomic across processes


@contextmanager
def _span(label: str):
    w, c = time.perf_counter(), time.process_time()
    try:
        yield
    finally:
        _log(label, w, time.perf_counter(), time.process_time() - c)


def _wrap(owner, name: str, label):
    fn = getattr(owner, name)

    def wrapped(*a, **k):
        with _span(label(*a, **k) if callable(label) else label):
            return fn(*a, **k)
    setattr(owner, name, wrapped)


def instrument() -> None:
    from trialforge import jobs, pipeline, pipeline_overlap
    from trialforge.adam import build as adam_build
    from trialforge.adam.recipes import adae, adlb, adrs, adsl, adtte, pk
    from trialforge.sdtm import engine
    from trialforge.tables import build as tables_build
    original = pipeline._timed

    @contextmanager
    def timed(hook, stage):
        with _span("stage:" + stage), original(hook, stage):
            yield
    pipeline._timed = pipeline_overlap._timed = timed
    _wrap(engine.SdtmBuilder, "_run_step", lambda self, step: f"sdtm:{step.kind}:{step.domain}")
    for mod, names in ((adsl, ["build_adsl"]), (adae, ["build_adae"]), (adlb, ["build_adlb", "build_bds"]),
                       (adrs, ["build_adrs"]), (adtte, ["build_adtte"]),
                       (pk, ["build_adpc", "nca_results", "build_adpp", "build_pp"])):
        for n in names:
            _wrap(mod, n, f"adam:{n}")
    _wrap(adam_build, "make_dataset", lambda name, *a, **k: f"adam:make:{name}")
    _wrap(tables_build, "_build_output", lambda spec, **k: f"tbl:{spec.stem}")
    _wrap(tables_build, "start_study_tables", "tables:prepare")
    _wrap(jobs.ForkTask, "_wait", lambda self: f"wait:{self.what}")
    _wrap(pipeline, "_write_define_bundle", "define:bundle")
    if hasattr(pipeline_overlap, "_write_unit"):       # SDTM package files written ahead (sixth session)
        _wrap(pipeline_overlap, "_write_unit", lambda run, kind, name, *a: f"unit:{kind}:{name}")


def _sampler(stop: threading.Event, samples: list) -> None:
    tick = os.sysconf("SC_CLK_TCK")
    me = os.getpid()
    while not stop.is_set():
        t = time.perf_counter() - _T0
        cpu = {}
        for pid in _tree(me):
            try:
                with open(f"/proc/{pid}/stat") as fh:
                    parts = fh.read().rsplit(")", 1)[1].split()
                cpu[pid] = (int(parts[11]) + int(parts[12])) / tick
            except (OSError, IndexError, ValueError):
                pass
        samples.append((t, cpu))
        stop.wait(0.02)


def _tree(root: int) -> list[int]:
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        try:
            for tid in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{tid}/children") as fh:
                    todo += [int(c) for c in fh.read().split()]
        except OSError:
            pass
    return out


def busy_per_bin(samples: list, width: float) -> list[tuple[float, float]]:
    """(bin start, cores in use) from the tree's cumulative CPU seconds per process (exited processes keep
    their last figure, so nothing they used is lost)."""
    last: dict = {}
    total = []
    for t, cpu in samples:
        last.update(cpu)
        total.append((t, sum(last.values())))
    out = []
    if not total:
        return out
    end = total[-1][0]
    b = 0.0
    i = 0
    prev = total[0][1]
    while b < end:
        while i < len(total) and total[i][0] < b + width:
            i += 1
        now = total[i - 1][1] if i else prev
        out.append((b, (now - prev) / width))
        prev = now
        b += width
    return out


def main(argv: list[str]) -> None:
    study_arg, out = argv[0], Path(argv[1])
    jobs = int(argv[argv.index("--jobs") + 1]) if "--jobs" in argv else None
    width = float(argv[argv.index("--bins") + 1]) if "--bins" in argv else 0.25
    from trialforge.pipeline import DEFAULT_STUDY, run_study
    study = DEFAULT_STUDY if study_arg == "-" else Path(study_arg)
    shutil.rmtree(out, ignore_errors=True)
    trace = Path(str(out) + ".trace")
    _FD[0] = os.open(trace, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND)
    instrument()
    stop, samples = threading.Event(), []
    sampler = threading.Thread(target=_sampler, args=(stop, samples), daemon=True)
    global _T0
    _T0 = time.perf_counter()
    sampler.start()
    run_study(study, out_dir=out, jobs=jobs)
    end = time.perf_counter() - _T0
    stop.set()
    sampler.join()
    os.close(_FD[0])
    rows = [line.split("\t") for line in trace.read_text().splitlines()]
    rows = [(int(p), lab, float(a), float(b), float(c)) for p, lab, a, b, c in rows]
    main_pid = os.getpid()
    names = {main_pid: "main"}
    for pid, *_ in sorted(rows, key=lambda r: r[2]):
        names.setdefault(pid, f"w{len(names)}")
    print(f"total wall {end:.2f} s")
    for pid in names:
        segs = sorted((r for r in rows if r[0] == pid and not r[1].startswith(("tbl:", "sdtm:map", "sdtm:finish",
                                                                                  "adam:make", "unit:"))),
                      key=lambda r: r[2])
        small = [r for r in rows if r[0] == pid and r[1].startswith(("tbl:", "sdtm:", "adam:make", "unit:"))]
        span = (min(r[2] for r in rows if r[0] == pid), max(r[3] for r in rows if r[0] == pid))
        print(f"-- {names[pid]} (pid {pid}) {span[0]:.2f}-{span[1]:.2f}")
        for _, lab, a, b, c in segs:
            print(f"   {a:7.2f} {b:7.2f} {b - a:6.2f}s cpu {c:6.2f} {lab}")
        if small:
            print(f"   {len(small)} steps/outputs: {min(r[2] for r in small):.2f}-{max(r[3] for r in small):.2f}, "
                  f"cpu {sum(r[4] for r in small):.2f}")
    print("-- cores in use per bin (stages running)")
    idle = 0.0
    for b, used in busy_per_bin(samples, width):
        running = sorted({f"{names[r[0]]}:{r[1].split(':')[1] if r[1].startswith('stage:') else r[1]}"
                          for r in rows if r[2] < b + width and r[3] > b and not r[1].startswith(("adam:make",))
                          and not r[1].startswith(("tbl:", "sdtm:", "unit:"))})
        idle += max(0.0, 2 - used) * width
        print(f"   {b:6.2f} {used:4.2f} {'#' * round(used * 10):20s} {' '.join(running)[:150]}")
    print(f"idle core-seconds (of 2 cores) {idle:.2f} over {end:.2f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
