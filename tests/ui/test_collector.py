"""The cycle collector runs on the GUI thread, from a timer, never in the worker that happens to allocate."""
from __future__ import annotations

import gc
import threading
import weakref

import pytest

from ui.collector import Collector


class _Node:
    destroyed_on: list[int] = []

    def __init__(self) -> None:
        self.me = self                      # a cycle: only the cycle collector frees it

    def __del__(self) -> None:
        _Node.destroyed_on.append(threading.get_ident())


@pytest.fixture
def collector(qapp):
    gc.collect()
    c = Collector(qapp, interval_ms=50)
    yield c
    c.stop()


def test_garbage_made_on_a_worker_is_collected_on_the_gui_thread(collector, qtbot):
    assert not gc.isenabled()
    _Node.destroyed_on.clear()
    refs = []

    def worker() -> None:
        for _ in range(20):
            refs.append(weakref.ref(_Node()))
        junk = [[i] for i in range(200_000)]        # far past the thresholds: Python would have collected here
        del junk

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    assert all(r() is not None for r in refs)       # nothing collected in the worker
    collector.start()
    qtbot.waitUntil(lambda: all(r() is None for r in refs), timeout=5_000)
    assert set(_Node.destroyed_on) == {threading.get_ident()}


def test_start_freezes_start_up_objects_and_stop_hands_collection_back(collector):
    collector.start()
    assert gc.get_freeze_count() > 0 and not gc.isenabled()
    collector.stop()
    assert gc.get_freeze_count() == 0 and gc.isenabled()


def test_check_collects_only_what_is_due(collector):
    gc.collect()
    assert collector.check() == -1                  # nothing allocated since
    keep = [[i] for i in range(gc.get_threshold()[0] + 10)]
    assert collector.check() == 0
    assert len(keep) > 0


def test_a_full_collection_waits_until_the_old_generation_grew_by_a_quarter(collector):
    """As Python decides: the oldest generation is walked again only when it grew by a quarter since."""
    collector.start()
    kept = [[i] for i in range(40_000)]
    gc.collect(2)
    collector._long_lived = len(gc.get_objects(generation=2))
    assert not collector._full_due()                  # nothing added since
    more = [[i] for i in range(len(kept) // 2)]
    gc.collect(1)
    gc.collect(1)                                     # survivors of two collections reach the oldest generation
    assert collector._full_due()
    assert more and kept
