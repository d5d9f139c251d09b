"""Shared fixtures: simulated arms on sim:// ports, one fresh arm per test, powered off afterwards."""

from __future__ import annotations

import itertools

import pytest

from hardware import sim

_counter = itertools.count()


@pytest.fixture
def sim_port():
    """`sim_port("so101_follower", motion="wave")` -> a sim:// port of a fresh simulated arm."""
    made = []

    def make(robot: str, **options) -> str:
        query = "&".join(f"{k}={v}" for k, v in options.items())
        port = f"sim://{robot}/t{next(_counter)}" + (f"?{query}" if query else "")
        made.append(port)
        return port

    yield make
    for port in made:
        sim.release(port)

