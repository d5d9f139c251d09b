"""Keep a thread's CPU scheduling policy across video-encoder calls.

libsvtav1 (SVT-AV1, LeRobot's default AV1 encoder) makes the thread that opens an encoder real-time
(SCHED_FIFO, priority 99) whenever it is allowed to, that is when running as root. A real-time
thread preempts everything else on its core (a control loop, a simulated robot, the encoder's own
worker threads, a `nice`d encoder process's priority is void), and every process it starts
afterwards inherits the policy. `kept_scheduling()` puts the calling thread's policy back.

Imports only the standard library: the encoder process (`encode_worker.py`) loads this file by path.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator


@contextlib.contextmanager
def kept_scheduling() -> Iterator[None]:
    """Run the block, then restore this thread's scheduling policy and priority if the block changed them."""
    if not hasattr(os, "sched_getscheduler"):  # not Linux: no such policy change to undo
        yield
        return
    policy, param = os.sched_getscheduler(0), os.sched_getparam(0)
    try:
        yield
    finally:
        if os.sched_getscheduler(0) != policy or os.sched_getparam(0) != param:
            os.sched_setscheduler(0, policy, param)
