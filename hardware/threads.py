"""Helper threads yield the CPU to the control loop: on two cores a camera or episode-saving thread that
runs at the loop's own priority can keep the loop's wake-up waiting for milliseconds (the scheduler
lets a running thread finish its slice), which is what made ticks late while recording. Not for a thread
that holds the GIL for long (the policy worker): descheduled while holding it, it would stall the loop."""

from __future__ import annotations

import contextlib
import os
import sys
import threading

HELPER_NICE = 5  # how much lower than the control loop a helper thread runs (Linux nice steps)


def yield_to_control_loop(increment: int = HELPER_NICE) -> None:
    """Lower the calling thread's priority by `increment` nice steps (Linux schedules threads one by one;
    elsewhere a no-op). Raising a nice value needs no privilege."""
    if not sys.platform.startswith("linux"):
        return
    tid = threading.get_native_id()
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + increment))
