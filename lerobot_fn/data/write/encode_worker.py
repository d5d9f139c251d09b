"""The video encoder process: uint8 HxWx3 frames from a shared-memory ring -> one mp4 (a script).

Started by `encode.BackgroundEncoder` as `python encode_worker.py CONFIG_JSON`, so it imports
only numpy and PyAV (not the lerobot_fn package, not torch) and starts in a fraction of a
second. Encoding in its own process keeps PyAV and the codec off the recording process's GIL:
the control loop's `add_frame` never waits behind the encoder, and the process runs at a lower
priority (`nice`) so that on a small machine the control loop gets the CPU first and the
encoder catches up between frames and in `save_episode`. Frames arrive through `frame_ring`:
stdin carries the number (4 bytes, little-endian) of the ring slot each frame is in, in order; the
frame is read in place and the number written back on `freed_fd` once PyAV has its own copy, so
the slot is reused while the frame encodes. Besides the mp4 it writes the
downsampled frames kept for image stats (`stats_path`, .npz). On failure it exits 1 with a
last stderr line `ENCODER_ERROR {"errno": ..., "message": ...}`; on end of input (also when
the recording process dies) it closes the mp4 and exits, on SIGTERM (a discarded episode) it exits
at once, and a watchdog process kills it when the recording process dies while it is stuck in the
codec (`watch_the_recording_process`).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path


def _by_path(relative: str):
    """A module of lerobot_fn.data loaded by its path relative to this folder (not through the
    lerobot_fn package, which imports torch)."""
    path = (Path(__file__).parent / relative).resolve()
    spec = importlib.util.spec_from_file_location(f"_lerobot_fn_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


#: How long the encoder sleeps when no frame is waiting (s): at most this much added latency.
POLL_S = 0.002


class _Ring:
    """The encoder's side of `frame_ring.FrameRing`: frames in order, slots given back."""

    def __init__(self, cfg: dict) -> None:
        import mmap

        import numpy as np

        h, w, slots = cfg["height"], cfg["width"], cfg["ring_slots"]
        self._map = mmap.mmap(cfg["ring_fd"], slots * h * w * 3)
        self._frames = np.frombuffer(self._map, dtype=np.uint8).reshape(slots, h, w, 3)
        self._freed = cfg["freed_fd"]

    def __iter__(self):
        """(slot number as 4 bytes, the frame: a view of its slot) until the end of input.

        Polls stdin (a sleep of POLL_S when it is empty) instead of blocking on it: a reader
        blocked on the pipe would be woken by the recording process's write, and the kernel
        runs a task woken that way on the waker's CPU, delaying the control loop's return."""
        import os
        import time

        fd = sys.stdin.fileno()
        os.set_blocking(fd, False)
        buf = b""
        while True:
            try:
                chunk = os.read(fd, 4096)
            except BlockingIOError:
                time.sleep(POLL_S)
                continue
            if not chunk:
                return  # end of input
            buf += chunk
            whole = len(buf) // 4 * 4
            for i in range(0, whole, 4):
                yield buf[i : i + 4], self._frames[int.from_bytes(buf[i : i + 4], "little")]
            buf = buf[whole:]

    def release(self, number: bytes) -> None:
        """The frame in slot `number` has been copied: the recording process may reuse the slot."""
        import os

        if self._freed >= 0:
            try:
                os.write(self._freed, number)
            except BrokenPipeError:  # the recording process is gone: nobody reuses slots now
                self._freed = -1


def run(cfg: dict) -> None:
    import av
    import numpy as np

    stats = _by_path("../stats.py")
    kept_scheduling = _by_path("scheduling.py").kept_scheduling
    h, w, fps = cfg["height"], cfg["width"], cfg["fps"]
    budget = cfg["stats_budget"]
    container = av.open(cfg["path"], "w", format="mp4")
    try:
        stream = container.add_stream(cfg["vcodec"], fps, options=cfg["options"])
        stream.pix_fmt = cfg["pix_fmt"]
        stream.width, stream.height = w, h
        kept, stride, kept_bytes, index = [], 1, 0, 0
        ring = _Ring(cfg)
        for number, frame in ring:
            if index % stride == 0:
                small = np.array(stats.downsample(frame.transpose(2, 0, 1)), order="C")  # a copy
                kept.append(small)
                kept_bytes += small.nbytes
                if kept_bytes > budget:
                    kept, stride = kept[::2], stride * 2
                    kept_bytes = sum(k.nbytes for k in kept)
            vf = av.VideoFrame.from_ndarray(frame, format="rgb24")  # a copy: the slot may be reused
            ring.release(number)
            vf.pts = index
            with kept_scheduling():  # libsvtav1 would make this process real-time, void of its nice
                packets = stream.encode(vf)
            for packet in packets:
                container.mux(packet)
            index += 1
        with kept_scheduling():
            packets = stream.encode()
        for packet in packets:
            container.mux(packet)
    finally:
        container.close()
    if kept:
        np.savez(cfg["stats_path"], frames=np.stack(kept), stride=stride, n=index)


def watch_the_recording_process(lifeline_fd: int):
    """Fork a watchdog that SIGKILLs this encoder if the recording process dies; returns the call
    that ends the watchdog (made before this process exits, so no process outlives the encoder).

    The lifeline is one end of a socket pair whose other end only the recording process holds, until
    this process and the watchdog have exited; when it dies, the kernel closes that end and the
    watchdog wakes (the watchdog's own exit is the end of file the recording process waits for after
    killing an encoder). Stdin's end of input
    is no such signal: an encoder hung inside the codec (libsvtav1 on some frame sizes) never reads
    it again, nor runs a Python thread, and would outlive the recording forever. The watchdog
    holds nothing but the lifeline and its own pipe from this process (whose end of file tells it
    the encoder is done), so no pipe of the encoder stays open because of it; forked before PyAV is
    imported, it is a small copy of this script."""
    import os
    import select
    import signal

    encoder = os.getpid()
    done_r, done_w = os.pipe()
    watchdog = os.fork()
    if watchdog != 0:
        os.close(lifeline_fd)
        os.close(done_r)

        def stop() -> None:
            os.close(done_w)
            os.waitpid(watchdog, 0)

        return stop
    try:
        keep = sorted((lifeline_fd, done_r))
        os.closerange(0, keep[0])
        os.closerange(keep[0] + 1, keep[1])
        os.closerange(keep[1] + 1, os.sysconf("SC_OPEN_MAX"))
        poll = select.poll()
        poll.register(lifeline_fd, select.POLLIN)  # end of file (POLLIN or POLLHUP): the recording process died
        poll.register(done_r, select.POLLIN)
        ready = {fd for fd, _ in poll.poll()}
        if lifeline_fd in ready and done_r not in ready and os.getppid() == encoder:
            os.kill(encoder, signal.SIGKILL)  # the recording process is gone and the encoder is not done
    finally:
        os._exit(0)


def main() -> int:
    import os
    import signal

    cfg = json.loads(sys.argv[1])
    # SIGTERM (a discarded episode's encoder) is held until the watchdog can be ended first
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    stop_watchdog = watch_the_recording_process(cfg["lifeline_fd"])

    def discarded(signum, frame) -> None:
        """Exit at once, the watchdog reaped first: a watchdog whose encoder is killed outlives it
        as an orphan, left in the recording's process group until init reaps it."""
        stop_watchdog()
        os._exit(128 + signum)

    signal.signal(signal.SIGTERM, discarded)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
    try:
        return _encode(cfg)
    finally:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})  # the watchdog is ended once
        stop_watchdog()


def _encode(cfg: dict) -> int:
    import os

    try:
        os.nice(int(cfg.get("nice", 0)))  # below the recording process: the control loop comes first
    except OSError:
        pass
    try:
        run(cfg)
    except BaseException as e:  # noqa: BLE001 - reported to the parent through stderr
        errno = getattr(e, "errno", None)
        print(
            "ENCODER_ERROR " + json.dumps({"errno": errno, "message": f"{type(e).__name__}: {e}"}),
            file=sys.stderr,
            flush=True,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
