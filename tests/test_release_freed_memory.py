"""release_freed_memory gives a stage's freed heap back only from TRIM_FROM_KIB of resident memory up:
below it the collection and trim cost more CPU than they save (the next stage faults the pages in again);
a gate's column profiles are dropped either way."""
from __future__ import annotations

import ctypes

import pytest

from trialforge import jobs, pipeline
from trialforge.validation import context


class _Libc:
    def __init__(self):
        self.trims = 0

    def malloc_trim(self, pad):
        self.trims += 1
        return 1


@pytest.fixture
def calls(monkeypatch):
    libc, seen = _Libc(), {"collect": 0, "forget": 0}
    monkeypatch.setattr(ctypes, "CDLL", lambda name: libc)
    monkeypatch.setattr("gc.collect", lambda *a: seen.__setitem__("collect", seen["collect"] + 1) or 0)
    monkeypatch.setattr(context, "clear_profiles", lambda: seen.__setitem__("forget", seen["forget"] + 1))
    seen["libc"] = libc
    return seen


@pytest.mark.parametrize("rss_kib, trims", [(pipeline.TRIM_FROM_KIB - 1, 0), (pipeline.TRIM_FROM_KIB, 1),
                                            (3 * pipeline.TRIM_FROM_KIB, 1), (None, 1)])
def test_trims_only_a_large_process(monkeypatch, calls, rss_kib, trims):
    monkeypatch.setattr(jobs, "_own_rss_kib", lambda: rss_kib)      # None: size unknown, trim as before
    pipeline.release_freed_memory()
    assert (calls["libc"].trims, calls["collect"]) == (trims, trims)
    assert calls["forget"] == 0


@pytest.mark.parametrize("rss_kib", [1024, 4 * pipeline.TRIM_FROM_KIB])
def test_gate_profiles_dropped_at_any_size(monkeypatch, calls, rss_kib):
    monkeypatch.setattr(jobs, "_own_rss_kib", lambda: rss_kib)
    pipeline.release_freed_memory(gate=True)
    assert calls["forget"] == 1
