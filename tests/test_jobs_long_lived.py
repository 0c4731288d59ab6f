"""A run keeps the cyclic collector off its long-lived objects (``jobs.long_lived_frozen``) and gives the
process its collector back when it ends; forks inside the run (``jobs.thaw``) do not undo that."""
from __future__ import annotations

import gc
import weakref

from trialforge.jobs import long_lived_frozen, thaw
from trialforge.pipeline import run_study


class _Node:
    """An object in a reference cycle: only the cyclic collector frees it."""

    def __init__(self):
        self.me = self


def _cycle():
    node = _Node()
    return node, weakref.ref(node)


def test_objects_alive_at_the_start_are_not_collected_until_the_block_ends():
    node, ref = _cycle()
    with long_lived_frozen():
        del node
        gc.collect()
        assert ref() is not None                  # frozen: the collector keeps off it
        fresh, fresh_ref = _cycle()               # made inside the block: collected as usual
        del fresh
        gc.collect()
        assert fresh_ref() is None
    gc.collect()
    assert ref() is None


def test_a_fork_sites_freeze_and_thaw_inside_the_block_keep_objects_frozen():
    with long_lived_frozen():
        node, ref = _cycle()
        gc.freeze()                               # what ForkPool / the SDTM split do around a fork
        thaw()
        del node
        gc.collect()
        assert ref() is not None
    gc.collect()
    assert ref() is None


def test_thaw_outside_a_block_unfreezes():
    node, ref = _cycle()
    gc.freeze()
    thaw()
    assert gc.get_freeze_count() == 0
    del node
    gc.collect()
    assert ref() is None


def test_only_the_outermost_block_unfreezes():
    node, ref = _cycle()
    with long_lived_frozen():
        with long_lived_frozen():
            pass
        del node
        gc.collect()
        assert ref() is not None
    gc.collect()
    assert ref() is None


def test_the_block_ends_when_its_body_raises():
    node, ref = _cycle()
    try:
        with long_lived_frozen():
            raise RuntimeError("x")
    except RuntimeError:
        pass
    assert gc.get_freeze_count() == 0
    del node
    gc.collect()
    assert ref() is None


def test_a_run_gives_the_collector_back(tmp_path):
    gc.unfreeze()
    result = run_study(out_dir=tmp_path / "out", adam=False, jobs=1, only=["DM"])
    assert not result.has_errors
    assert gc.get_freeze_count() == 0
