"""Video encoding for the writer: encoder settings and a per-camera background encoder.

`VideoEncoding` holds LeRobot's encoder settings (default: AV1 through libsvtav1, yuv420p,
GOP 2, CRF 30, preset 12) and what they put in info.json. `BackgroundEncoder` takes uint8 HWC
frames (one copy into shared memory and a 4-byte pipe write; the writer makes that copy on its
`frame_handoff` thread, not in the control loop) and has them encoded by its own process with
PyAV; that process also keeps small downsampled copies of the frames for the episode's image stats.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from attrs import field, frozen

from lerobot_fn.data import stats as stats_mod
from lerobot_fn.data.errors import EncoderError
from lerobot_fn.data.write.frame_ring import RING_SLOTS, FrameRing
from lerobot_fn.data.write.scheduling import kept_scheduling

log = logging.getLogger(__name__)
LOG_ONLY = {"terminal": False}  # a run's log.txt keeps these records; its terminal does not

#: Bytes of downsampled frames kept per camera and episode for stats; beyond this, every
#: other kept frame is dropped (stats then use the nearest kept frame to each sampled index).
STATS_FRAME_BUDGET = 64 * 1024 * 1024

#: How much lower than the recording process the encoder processes run (os.nice increment).
ENCODER_NICE = 10

#: Seconds an encoder process may go without progress (no frame slot freed, not exited) before it
#: is killed as stuck: generous for large frames on a loaded 2-core machine.
STALL_TIMEOUT = 60.0
#: How long closing an encoder waits for its watchdog process to leave after the encoder has (s).
WATCHDOG_EXIT_S = 10.0
#: How long discarding an encoder waits for it to exit on SIGTERM before it is killed (s).
DISCARD_S = 5.0

CODEC_NAMES = {
    "libsvtav1": "av1",
    "libaom-av1": "av1",
    "libx264": "h264",
    "libx264rgb": "h264",
    "h264": "h264",
}


@frozen
class VideoEncoding:
    """Encoder settings, as LeRobot's `VideoEncoderConfig` (same names, same defaults)."""

    vcodec: str = "libsvtav1"
    pix_fmt: str = "yuv420p"
    g: int | None = 2
    crf: int | float | None = 30
    preset: int | str | None = 12
    fast_decode: int = 0
    extra_options: dict[str, Any] = field(factory=dict)

    @classmethod
    def av1(cls, crf: int = 30) -> VideoEncoding:
        """LeRobot's default: AV1 (libsvtav1), yuv420p, GOP 2, CRF 30, preset 12."""
        return cls(crf=crf)

    @classmethod
    def h264(cls, crf: int = 23, preset: str = "veryfast") -> VideoEncoding:
        """H.264 (libx264), yuv420p, GOP 2: fast to encode, decodes everywhere."""
        return cls(vcodec="libx264", crf=crf, preset=preset)

    @classmethod
    def lossless(cls) -> VideoEncoding:
        """H.264 RGB at QP 0 (libx264rgb): decoded frames equal the input bit for bit."""
        return cls(
            vcodec="libx264rgb", pix_fmt="rgb24", crf=None, preset="ultrafast", extra_options={"qp": "0"}
        )

    def check_available(self) -> None:
        """Raise EncoderError when this PyAV build lacks the codec (e.g. no libsvtav1)."""
        import av

        if self.vcodec not in av.codecs_available:
            raise EncoderError(
                f"video codec {self.vcodec!r} is not available in this PyAV build (av {av.__version__}); "
                "choose another, e.g. `VideoEncoding.h264()` (libx264), or install an av wheel with it"
            )

    def check_frame_size(self, height: int, width: int) -> None:
        """Raise EncoderError for a frame size this codec is known to hang on: libsvtav1 (through
        PyAV 18) never returns from flushing frames under 28 px high and over 64 px wide
        (measured: 16x72, 24x66..24x128 hang; 24x64, 28x72, 32x64+ encode)."""
        if self.vcodec == "libsvtav1" and height < 28 and width > 64:
            raise EncoderError(
                f"libsvtav1 hangs on {height}x{width} frames (under 28 px high and over 64 px wide); "
                "use another codec for such small frames, e.g. `VideoEncoding.h264()`"
            )

    def codec_options(self, threads: int | None = None) -> dict[str, str]:
        """The options PyAV passes to the codec (as strings)."""
        opts: dict[str, Any] = {}
        if self.g is not None:
            opts["g"] = self.g
        if self.vcodec == "libsvtav1":
            if self.crf is not None:
                opts["crf"] = self.crf
            if self.preset is not None:
                opts["preset"] = self.preset
            parts = [f"fast-decode={max(0, min(2, self.fast_decode))}"]
            if threads is not None:
                parts.append(f"lp={threads}")
            opts["svtav1-params"] = ":".join(parts)
        elif self.vcodec in ("libx264", "libx264rgb", "h264", "hevc"):
            if self.crf is not None:
                opts["crf"] = self.crf
            if self.preset is not None:
                opts["preset"] = self.preset
            if self.fast_decode:
                opts["tune"] = "fastdecode"
            if threads is not None:
                opts["threads"] = threads
        for k, v in self.extra_options.items():
            opts.setdefault(k, v)
        return {k: str(v) for k, v in opts.items()}

    def info(self, height: int, width: int, fps: int, channels: int = 3) -> dict:
        """The `info` entry of a video feature in info.json, keys in LeRobot's order."""
        return {
            "video.height": height,
            "video.width": width,
            "video.codec": CODEC_NAMES.get(self.vcodec, self.vcodec),
            "video.pix_fmt": "gbrp" if self.pix_fmt == "rgb24" else self.pix_fmt,
            "video.fps": fps,
            "video.channels": channels,
            "has_audio": False,
            "video.g": self.g,
            "video.crf": self.crf,
            "video.preset": self.preset,
            "video.fast_decode": self.fast_decode,
            "video.video_backend": "pyav",
            "video.extra_options": dict(self.extra_options),
            "is_depth_map": False,
        }


def _open_stream(path: Path, encoding: VideoEncoding, fps: int, height: int, width: int, threads: int | None):
    import av

    container = av.open(str(path), "w")
    stream = container.add_stream(encoding.vcodec, fps, options=encoding.codec_options(threads))
    stream.pix_fmt = encoding.pix_fmt
    stream.width = width
    stream.height = height
    return container, stream


class BackgroundEncoder:
    """Encodes one camera's frames of one episode into `path` in a separate process.

    `put(frame)` copies the uint8 (H, W, 3) frame into a shared-memory ring (`frame_ring`) that
    the encoder process (`encode_worker.py`) reads in place; that process owns PyAV and the
    codec, so encoding never holds the recording process's GIL or its CPU share. `finish()`
    waits for every frame to be encoded and the mp4 closed, and returns the frames sampled for
    stats; `cancel()` stops and deletes the file. A failure is re-raised by `put`/`finish`.
    """

    def __init__(
        self,
        key: str,
        path: Path,
        *,
        fps: int,
        height: int,
        width: int,
        encoding: VideoEncoding,
        threads: int | None = None,
        ring_slots: int = RING_SLOTS,
        stall_timeout: float = STALL_TIMEOUT,
    ) -> None:
        import subprocess

        encoding.check_frame_size(height, width)
        self.stall_timeout = stall_timeout
        self.key, self.path, self.fps = key, Path(path), fps
        self.height, self.width, self.encoding = height, width, encoding
        self.n_frames = 0
        self._error: BaseException | None = None
        self._closed = False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._stats_path = self.path.with_name(self.path.stem + ".stats.npz")
        self._log_path = self.path.with_name(self.path.stem + ".log")
        self._ring = FrameRing((height, width, 3), ring_slots)
        freed_r, freed_w = os.pipe()
        # the encoder's watchdog holds the other end: it ends the encoder if ours closes first (we died),
        # and ours reads end of file once the watchdog is gone
        self._lifeline, lifeline = socket.socketpair()
        config = {
            "path": str(self.path),
            "fps": fps,
            "height": height,
            "width": width,
            "vcodec": encoding.vcodec,
            "pix_fmt": encoding.pix_fmt,
            "options": encoding.codec_options(threads),
            "stats_path": str(self._stats_path),
            "stats_budget": STATS_FRAME_BUDGET,
            "nice": ENCODER_NICE,
            "ring_fd": self._ring.fd,
            "ring_slots": ring_slots,
            "freed_fd": freed_w,
            "lifeline_fd": lifeline.fileno(),
        }
        self._log = open(self._log_path, "wb")  # noqa: SIM115 - closed in _close
        try:
            self._proc = subprocess.Popen(
                [sys.executable, str(Path(__file__).with_name("encode_worker.py")), json.dumps(config)],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=self._log,
                pass_fds=(self._ring.fd, freed_w, lifeline.fileno()),
                bufsize=0,
            )
        except BaseException:
            self._log.close()
            self._ring.close()
            os.close(freed_r)
            self._lifeline.close()
            raise
        finally:
            os.close(freed_w)
            lifeline.close()
        self._freed = freed_r
        self._ring.attach(self._proc.stdin.fileno(), freed_r)

    # -- control-loop side ----------------------------------------------------------------
    def put(self, frame: np.ndarray, notify: bool = True, raise_error: bool = True) -> None:
        """Copy `frame` for the encoder. With `notify=False` the encoder learns of it at the
        next `notify()` (the writer copies every camera's frame first, then notifies). A failed
        encoder raises EncoderError (or, with `raise_error=False`, the frame is dropped: the
        failure is raised by the next `check`/`put`/`finish`)."""
        if self._error is not None or self._closed:
            if raise_error:
                self.check()
            return
        self._ring.put(frame)
        self.n_frames += 1
        if notify:
            self.notify(raise_error)

    def notify(self, raise_error: bool = True) -> None:
        """Hand the frames copied since the last call to the encoder process."""
        if self._closed:
            return
        try:
            self._ring.notify()
        except OSError as e:  # the encoder process exited: its log says why
            self._error = e
            self._close()
            if raise_error:
                self._raise()

    def check(self) -> None:
        """Raise EncoderError if the encoder has failed (or was closed)."""
        if self._error is not None:
            self._raise()
        if self._closed:
            raise EncoderError(f"the encoder of camera {self.key!r} into {self.path} is closed")

    @property
    def pid(self) -> int:
        """The encoder process's id."""
        return self._proc.pid

    @property
    def backlog(self) -> int:
        """Frames handed to the encoder process that it has not taken yet."""
        return 0 if self._closed else self._ring.backlog

    def finish(self) -> np.ndarray | None:
        """Wait for every frame to be encoded and the file closed; return the stats sample
        as a (K, C, H, W) uint8 array (None for an empty episode)."""
        self._close()
        if self._error is not None:
            self._raise()
        if not self._stats_path.exists():
            return None
        with np.load(self._stats_path) as z:
            kept, stride = z["frames"], int(z["stride"])
        self._stats_path.unlink()
        idx = [min(i // stride, len(kept) - 1) for i in stats_mod.sample_indices(self.n_frames)]
        return kept[idx]

    def cancel(self) -> None:
        self._close(discard=True)
        for p in (self.path, self._stats_path):
            p.unlink(missing_ok=True)

    # -- the process ------------------------------------------------------------------------
    def _close(self, discard: bool = False) -> None:
        """End the encoder process: after the frames still waiting (or at once, `discard`)."""
        if self._closed:
            return
        self._closed = True
        stalled = False
        try:
            if discard:
                self._discard_process()
            elif self._error is None:
                self._ring.drain(self.stall_timeout)
        except TimeoutError:
            stalled = True
        except OSError as e:
            self._error = e
        finally:
            stalled = self._end_process(stalled)
            rc = self._proc.returncode
            self._end_watchdog()
            os.close(self._freed)
            self._ring.close()
            self._log.close()
        report = self._log_path.read_text(errors="replace") if self._log_path.exists() else ""
        self._log_path.unlink(missing_ok=True)
        if stalled and not discard:
            hint = ""
            if self.encoding.vcodec == "libsvtav1":
                hint = (
                    " (libsvtav1 hangs on some small frames: try another codec, e.g. `VideoEncoding.h264()`)"
                )
            self._error = TimeoutError(
                f"the encoder process stalled: no progress for {self.stall_timeout} s on "
                f"{self.height}x{self.width} frames; it was killed{hint}"
            )
        elif rc != 0 and not discard:
            line = next((ln for ln in reversed(report.splitlines()) if ln.startswith("ENCODER_ERROR ")), None)
            if line:
                info = json.loads(line[len("ENCODER_ERROR ") :])
                cause = (
                    OSError(info["errno"], info["message"])
                    if info.get("errno")
                    else RuntimeError(info["message"])
                )
            else:
                cause = RuntimeError(f"encoder process exited with status {rc}: {report[-500:]}")
            self._error = cause

    def _end_process(self, stalled: bool) -> bool:
        """Close the encoder's input and wait for it to exit, reading the slots it returns so it
        never blocks writing; kill it once it makes no progress for `stall_timeout` s. Returns
        whether it stalled."""
        import subprocess

        self._proc.stdin.close()  # end of input: the encoder finishes the mp4 and exits
        try:
            while not stalled and self._ring.reclaim(wait=True, timeout=self.stall_timeout):
                pass
        except TimeoutError:
            stalled = True
        if not stalled:
            try:
                self._proc.wait(timeout=self.stall_timeout)
            except subprocess.TimeoutExpired:
                stalled = True
        if stalled:
            self._proc.kill()
            self._proc.wait()  # SIGKILL: the kernel ends it, also when stopped or in the codec
        return stalled

    def _discard_process(self) -> None:
        """End the encoder without finishing its mp4: SIGTERM, on which it ends its watchdog and
        exits; SIGKILL only if it does not within DISCARD_S (stuck in the codec), because a killed
        encoder leaves its watchdog to be reaped by init."""
        import subprocess

        self._proc.terminate()
        try:
            self._proc.wait(timeout=DISCARD_S)
        except subprocess.TimeoutExpired:
            self._proc.kill()

    def _end_watchdog(self) -> None:
        """Once the encoder has exited, wait (a few seconds at most) until its watchdog has too: it leaves
        when the encoder ends, before it on a normal exit, just after it when the encoder was killed."""
        self._lifeline.settimeout(WATCHDOG_EXIT_S)
        try:
            while self._lifeline.recv(64):
                pass
        except OSError:  # TimeoutError included: it ends by itself once our end is closed
            pass
        self._lifeline.close()

    def _raise(self):
        raise EncoderError(
            f"video encoding failed for camera {self.key!r} into {self.path} "
            f"(codec {self.encoding.vcodec}, {self.height}x{self.width} frames): {self._error}"
        ) from self._error


@contextlib.contextmanager
def codec_output_to_log(what: str):
    """Route what the codec library writes to file descriptor 2 (SVT-AV1's `Svt[info]` banner, ~70
    lines per file) into the log instead of the terminal. Process-wide for the duration, so it
    is used around whole encoding calls, not in a control loop."""
    fd = 2  # the C library writes to the process's stderr, whatever Python's sys.stderr is
    with tempfile.TemporaryFile() as capture:
        sys.stderr.flush()
        saved = os.dup(fd)
        os.dup2(capture.fileno(), fd)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, fd)
            os.close(saved)
            capture.seek(0)
            text = capture.read().decode(errors="replace").strip()
    if text:
        log.info("codec output while %s:\n%s", what, text, extra=LOG_ONLY)


def encode_frames(
    frames, path: Path, *, fps: int, encoding: VideoEncoding, threads: int | None = None
) -> tuple[int, int, int]:
    """Encode an iterable of uint8 HWC frames into `path` in this thread; returns (n, h, w).
    The codec's own messages go to the log (`codec_output_to_log`)."""
    with codec_output_to_log(f"encoding {path}"):
        return _encode_frames(frames, path, fps=fps, encoding=encoding, threads=threads)


def _encode_frames(
    frames, path: Path, *, fps: int, encoding: VideoEncoding, threads: int | None
) -> tuple[int, int, int]:
    import av

    container = stream = None
    n = h = w = 0
    try:
        for frame in frames:
            frame = np.asarray(frame, dtype=np.uint8)
            if container is None:
                h, w = frame.shape[:2]
                container, stream = _open_stream(Path(path), encoding, fps, h, w, threads)
            vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
            vf.pts = n
            with kept_scheduling():
                packets = stream.encode(vf)
            for packet in packets:
                container.mux(packet)
            n += 1
        if container is not None:
            with kept_scheduling():
                packets = stream.encode()
            for packet in packets:
                container.mux(packet)
    finally:
        if container is not None:
            container.close()
    return n, h, w
