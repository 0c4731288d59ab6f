"""Which processes are alive, as the kernel says (/proc), not as multiprocessing believes: the tests that
check no worker outlives a run share it."""
from __future__ import annotations

import os
from pathlib import Path


def live(field: int, value: int) -> list[int]:
    """Live processes whose /proc stat field `field` (after the name: 1 = parent, 3 = session) is `value`."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[field]) == value and stat[0] not in ("Z", "X"):
                out.append(int(entry.name))
    return out


def children() -> list[int]:
    """Live processes whose parent is this one."""
    return live(1, os.getpid())
