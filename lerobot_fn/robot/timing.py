"""Control-loop timing: precise sleeps, a fixed-rate ticker with absolute deadlines (no drift),
and jitter statistics of measured loop periods."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

import attrs


def precise_sleep(seconds: float, *, spin_s: float = 0.0015, clock: Callable[[], float] = time.perf_counter,
                  sleep: Callable[[float], None] = time.sleep) -> None:
    """Sleep `seconds`: the OS sleep for all but the last `spin_s`, then a short spin to the deadline."""
    if seconds <= 0:
        return
    sleep_until(clock() + seconds, spin_s=spin_s, clock=clock, sleep=sleep)


def sleep_until(deadline: float, *, spin_s: float = 0.0015, clock: Callable[[], float] = time.perf_counter,
                sleep: Callable[[float], None] = time.sleep) -> None:
    """Return at `deadline` (a `clock()` time), oversleeping by microseconds rather than milliseconds."""
    while True:
        remaining = deadline - clock()
        if remaining <= 0:
            return
        if remaining > spin_s:
            sleep(remaining - spin_s)
        else:
            sleep(0)  # yield, then check again


class Ticker:
    """Ticks at `fps` against absolute deadlines `start + k / fps`, so a slow tick does not shift later
    ones. When a tick is more than a whole period late the schedule restarts from now (no burst of
    catch-up ticks). Records each period between consecutive ticks."""

    def __init__(self, fps: float, *, clock: Callable[[], float] = time.perf_counter, spin_s: float = 0.0015):
        if fps <= 0:
            raise ValueError(f"fps must be > 0, got {fps}")
        self.period = 1.0 / fps
        self._clock, self._spin = clock, spin_s
        self._next = None
        self._last = None
        self.periods: list[float] = []
        self.skipped = 0

    def tick(self) -> float:
        """Wait for the next deadline; returns the tick time."""
        now = self._clock()
        if self._next is None:
            self._next = now
        elif now > self._next + self.period:
            self.skipped += int((now - self._next) / self.period)
            self._next = now
        else:
            sleep_until(self._next, spin_s=self._spin, clock=self._clock)
        t = self._clock()
        if self._last is not None:
            self.periods.append(t - self._last)
        self._last = t
        self._next += self.period
        return t


@attrs.frozen
class LoopStats:
    """Loop periods in milliseconds against a budget (one period at the target fps)."""

    n: int
    budget_ms: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    over_budget: int  # periods longer than budget + tolerance
    tolerance_ms: float

    def summary(self) -> str:
        return (f"{self.n} ticks: p50 {self.p50_ms:.2f} ms, p99 {self.p99_ms:.2f} ms, max {self.max_ms:.2f} ms "
                f"(budget {self.budget_ms:.2f} ms; {self.over_budget} over by > {self.tolerance_ms:g} ms)")


def _percentile(sorted_values: Sequence[float], q: float) -> float:
    if not sorted_values:
        return math.nan
    k = (len(sorted_values) - 1) * q
    lo, hi = math.floor(k), math.ceil(k)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


def loop_stats(periods_s: Sequence[float], fps: float, *, tolerance_ms: float = 2.0) -> LoopStats:
    """p50 / p99 / max of the periods and how many exceeded the budget by more than `tolerance_ms`."""
    ms = sorted(p * 1000.0 for p in periods_s)
    budget = 1000.0 / fps
    return LoopStats(
        n=len(ms), budget_ms=budget, p50_ms=_percentile(ms, 0.5), p99_ms=_percentile(ms, 0.99),
        max_ms=ms[-1] if ms else math.nan, over_budget=sum(1 for m in ms if m > budget + tolerance_ms),
        tolerance_ms=tolerance_ms,
    )
