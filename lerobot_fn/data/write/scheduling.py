"""Keep a thread's CPU scheduling policy across video-encoder calls.

libsvtav1 (SVT-AV1, LeRobot's default AV1 encoder) makes the thread that opens an encoder real-time
(SCHED_FIFO, priority 99) whenever it is allowed to, that is when running as root, and starts its
worker threads (dozens per encoder) real-time too. A real-time thread preempts everything else on
its core (a control loop, a simulated robot, the encoder's own worker threads, a `nice`d encoder
process's priority is void), and every thread or process it starts afterwards inherits the policy.
`kept_scheduling()` puts the calling thread's policy back and gives every real-time thread the
block started the calling thread's policy and nice value.

Imports only the standard library: the encoder process (`encode_worker.py`) loads this file by path.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

_TASKS = "/proc/self/task"  # this process's threads (Linux)


def _threads() -> set[int]:
    try:
        return {int(t) for t in os.listdir(_TASKS)}
    except OSError:  # no /proc: nothing to inspect
        return set()


@contextlib.contextmanager
def kept_scheduling() -> Iterator[None]:
    """Run the block, then restore this thread's scheduling policy and priority if the block changed
    them, and demote the real-time threads it started to this thread's policy and nice value."""
    if not hasattr(os, "sched_getscheduler"):  # not Linux: no such policy change to undo
        yield
        return
    policy, param = os.sched_getscheduler(0), os.sched_getparam(0)
    nice = os.getpriority(os.PRIO_PROCESS, 0)  # Linux: this thread's nice value
    before = _threads()
    try:
        yield
    finally:
        if os.sched_getscheduler(0) != policy or os.sched_getparam(0) != param:
            os.sched_setscheduler(0, policy, param)
        for tid in _threads() - before:
            demote_realtime(tid, policy, param, nice)


def demote_realtime(tid: int, policy: int, param: os.sched_param, nice: int) -> bool:
    """Give thread `tid` `policy`/`param` and `nice` if it is real-time; True if it was."""
    try:
        if os.sched_getscheduler(tid) not in (os.SCHED_FIFO, os.SCHED_RR):
            return False
        os.sched_setscheduler(tid, policy, param)
        os.setpriority(os.PRIO_PROCESS, tid, nice)
    except (ProcessLookupError, PermissionError):  # the thread ended, or is not ours to change
        return False
    return True
