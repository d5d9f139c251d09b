"""The max_relative_target clamp, loop timing statistics and chunk blending."""

from __future__ import annotations

import numpy as np
import pytest

from lerobot_fn.robot import Ticker, blend_chunks, clamp_relative, loop_stats, request_margin


def test_clamp_limits_each_joint_and_reports_what_changed():
    safe, clamped = clamp_relative({"a": 50.0, "b": -3.0}, {"a": 10.0, "b": 0.0}, 5)
    assert safe == {"a": 15.0, "b": -3.0}
    assert clamped == {"a": (50.0, 15.0)}
    safe, _ = clamp_relative({"a": -50.0, "b": 9.0}, {"a": 10.0, "b": 0.0}, {"a": 1.0, "b": 20.0})
    assert safe == {"a": 9.0, "b": 9.0}


def test_clamp_refuses_mismatched_caps_and_missing_readings():
    with pytest.raises(ValueError, match="must match"):
        clamp_relative({"a": 1.0}, {"a": 0.0}, {"b": 1.0})
    with pytest.raises(KeyError, match="no present position"):
        clamp_relative({"a": 1.0}, {}, 1.0)
    with pytest.raises(TypeError):
        clamp_relative({"a": 1.0}, {"a": 0.0}, "5")


class FakeClock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def test_ticker_keeps_absolute_deadlines_and_restarts_after_a_long_stall(monkeypatch):
    clock = FakeClock()
    from lerobot_fn.robot import timing

    monkeypatch.setattr(timing, "sleep_until", lambda deadline, **_: setattr(clock, "t", max(clock.t, deadline)))
    ticker = Ticker(10, clock=clock)
    assert ticker.tick() == 0.0
    clock.t = 0.03  # work took 30 ms: the next tick still lands on 0.1
    assert ticker.tick() == pytest.approx(0.1)
    clock.t = 0.45  # a 350 ms stall: restart from now instead of bursting through missed ticks
    assert ticker.tick() == pytest.approx(0.45)
    assert ticker.skipped == 2
    assert ticker.tick() == pytest.approx(0.55)
    assert ticker.periods == pytest.approx([0.1, 0.35, 0.1])


def test_loop_stats_percentiles_and_over_budget_count():
    periods = [1 / 30] * 98 + [0.034, 0.060]
    stats = loop_stats(periods, 30)
    assert stats.n == 100 and stats.budget_ms == pytest.approx(33.333, abs=1e-3)
    assert stats.p50_ms == pytest.approx(33.333, abs=1e-3)
    assert stats.max_ms == pytest.approx(60.0)
    assert stats.over_budget == 1  # 34 ms is within the 2 ms tolerance, 60 ms is not
    assert "p99" in stats.summary()


def test_blend_drops_stale_actions_and_crossfades_the_overlap():
    remaining = np.zeros((4, 2))
    new = np.tile(np.arange(10.0)[:, None], (1, 2))  # action k of the new chunk is k
    out = blend_chunks(remaining, new, elapsed=3, blend_steps=3)
    assert out.shape == (7, 2)
    # fresh actions start at 3; weights of the new chunk 1/4, 2/4, 3/4 over the overlap
    assert out[:3, 0] == pytest.approx([3 * 0.25, 4 * 0.5, 5 * 0.75])
    assert out[3:, 0] == pytest.approx([6, 7, 8, 9])
    assert blend_chunks(np.zeros((0, 2)), new, elapsed=0, blend_steps=5) == pytest.approx(new)
    assert blend_chunks(remaining, new, elapsed=12, blend_steps=3) == pytest.approx(remaining)  # too late
    with pytest.raises(ValueError, match="differs"):
        blend_chunks(np.zeros((2, 3)), new, elapsed=0, blend_steps=2)
    assert request_margin(2.2) == 5
