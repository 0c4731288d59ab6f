"""Time the raw-export generator: in-memory build and CSV writing, for a few study sizes.

Usage: python benchmarks/synth_bench.py [N ...]   (default: 46 1000 10000)
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from trialforge.synth import build_forms, generate


def main(sizes: list[int]) -> None:
    for n in sizes:
        t0 = time.perf_counter()
        forms = build_forms(n, 1)
        t1 = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            paths = generate(n, 1, out_dir=tmp)
            t2 = time.perf_counter()
            size = sum(Path(p).stat().st_size for p in paths)
        rows = sum(len(f) for f in forms.values())
        print(f"N={n:>6}: build {t1 - t0:6.2f} s, build+write {t2 - t1:6.2f} s, "
              f"{rows:>9} rows, {size / 1e6:7.1f} MB")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [46, 1000, 10000])
