"""Copy camera frames into the encoders' shared-memory rings on a thread, off the control loop.

`add_frame` hands each tick's camera frames over by reference (the caller gives the arrays up, as
with LeRobot's `add_frame`, which queues a reference) and returns. A `FrameHandoff` thread copies
them into each camera's ring (`BackgroundEncoder.put`; numpy's copy runs without the GIL), then
notifies every encoder once. The thread runs a few nice steps below the control loop, so on a small
machine it waits for the loop instead of delaying it. `flush()` waits until every frame handed over
is in its ring; the writer calls it before it finishes or cancels an encoder.
"""

from __future__ import annotations

import contextlib
import os
import queue
import sys
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

#: How much lower than the control loop the copying thread runs (Linux nice steps; the encoder
#: processes run at `encode.ENCODER_NICE`, lower still).
HANDOFF_NICE = 5


def _lower_priority(increment: int) -> None:
    """Lower the calling thread's priority (Linux schedules threads one by one; elsewhere a no-op)."""
    if not sys.platform.startswith("linux"):
        return
    tid = threading.get_native_id()
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + increment))


class FrameHandoff:
    """One thread that copies each tick's (encoder, frame) pairs into the encoders' rings, in order."""

    def __init__(self, nice: int = HANDOFF_NICE) -> None:
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._nice = nice
        self._thread: threading.Thread | None = None
        self._error: Exception | None = None  # an unexpected failure of the thread, raised by flush()

    def submit(self, frames: Sequence[tuple[Any, np.ndarray]]) -> None:
        """Queue one tick's frames (the arrays must not change afterwards); returns at once."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="frame-handoff", daemon=True)
            self._thread.start()
        self._queue.put(frames)

    def flush(self) -> None:
        """Wait until every frame submitted so far is in its encoder's ring."""
        if self._thread is None:
            return
        done = threading.Event()
        self._queue.put(done)
        done.wait()
        if self._error is not None:
            error, self._error = self._error, None
            raise RuntimeError(f"copying camera frames to the encoders failed: {error!r}") from error

    def close(self) -> None:
        """Flush and stop the thread (a later `submit` starts a new one)."""
        if self._thread is None:
            return
        self._queue.put(None)
        self._thread.join()
        self._thread = None

    def _run(self) -> None:
        _lower_priority(self._nice)
        while True:
            item = self._queue.get()
            if item is None:
                return
            if isinstance(item, threading.Event):
                item.set()
                continue
            try:  # the thread must outlive any failure, or flush() would wait forever
                for encoder, frame in item:
                    encoder.put(frame, notify=False, raise_error=False)
                for encoder, _ in item:  # after every copy: no encoder wakes while they run
                    encoder.notify(raise_error=False)
            except Exception as exc:  # noqa: BLE001 (kept for flush to raise)
                self._error = self._error or exc
