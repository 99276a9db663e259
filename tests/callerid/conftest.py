"""Fixtures of the caller-ID tests: simulated devices on real ptys, and listeners stopped after each test."""
from __future__ import annotations

import pytest

from app.callerid.listener import CallerIdListener
from app.callerid.simulator import Simulator, SimulatorOptions


@pytest.fixture
def sims():
    made = []

    def make(**kw):
        s = Simulator(SimulatorOptions(**kw)).start()
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


@pytest.fixture
def listeners():
    made = []

    def make(*a, **kw):
        lst = CallerIdListener(*a, **kw)
        made.append(lst)
        return lst

    yield make
    for lst in made:
        lst.stop()
