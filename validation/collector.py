"""The garbage collector's pace during validation and report writing (restored afterwards)."""
from __future__ import annotations

import gc
from contextlib import contextmanager


@contextmanager
def fewer_collections(first_generation: int = 100_000):
    """Run with the garbage collector's youngest generation collected every ``first_generation`` net
    allocations instead of 700 (the threshold as it was is restored afterwards).

    Why: rules allocate millions of short-lived objects (Series, index objects, findings) while the
    process holds a hundred thousand long-lived ones (CT terms, standards metadata, the built study); the
    default threshold kept re-scanning those: 13 % of the gate's CPU at 1,000 subjects (the report writers
    build a tuple per finding and cell: the same effect). Collections still
    run, so cyclic garbage stays bounded."""
    old = gc.get_threshold()
    if old[0]:                       # 0: the caller switched automatic collection off; leave it so
        gc.set_threshold(max(old[0], first_generation), *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)
