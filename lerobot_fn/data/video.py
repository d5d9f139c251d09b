"""Video frame decoding for the reader: nearest frames to requested timestamps, one pass per file.

`VideoDecoder` keeps containers open (one LRU cache per process, so each DataLoader worker has
its own; a file read by several threads at once gets one container per thread), seeks once to
the keyframe at or before the earliest requested timestamp, decodes forward to the latest one, and
checks every chosen frame lies within `tolerance_s` of its request (LeRobot's rule: strictly
closer than the tolerance). Only the chosen frames are converted, each once however often it is
requested, straight into the caller's (T, C, H, W) tensor: planar RGB from one reused swscale
context with one thread (the same bytes as PyAV's `to_ndarray("rgb24")`, which LeRobot uses,
without its per-call context and threads or the HWC -> CHW copy); float32 output is then
converted and divided by 255 in place, plane by plane.

Backends: "torchcodec" (the default when it imports: one C++ call for all the requests of a file
that `decode_many` is given, with the GIL released, so decode threads run in parallel) and "pyav"
(PyAV's wheel bundles FFmpeg with dav1d for AV1, plus H.264/HEVC; the default otherwise). Both
give the same bytes.
"""

from __future__ import annotations

import functools
import os
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from attrs import frozen

from lerobot_fn.data.errors import DatasetFileError, FrameTimestampError

DEFAULT_MAX_OPEN = 64
_255 = np.float32(255)

# Decoders inherited through fork() (DataLoader workers) hold the parent's containers, whose
# codec threads do not exist in the child: closing or freeing them there can block forever.
# After a fork the child forgets them and keeps them referenced, so they are never freed.
_DECODERS: weakref.WeakSet = weakref.WeakSet()
_INHERITED: list = []


def _forget_inherited_files() -> None:
    for decoder in list(_DECODERS):
        for idle in decoder._files.values():
            _INHERITED.extend(idle)
        decoder._files.clear()
        decoder._lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_inherited_files)


@functools.cache
def available_backends() -> list[str]:
    """Backends that import here, default first: torchcodec when it imports (it loads the
    system's FFmpeg libraries), as LeRobot chooses, else PyAV."""
    out = []
    for name in ("torchcodec", "pyav"):
        try:
            __import__("av" if name == "pyav" else "torchcodec.decoders")
            out.append(name)
        except Exception:  # noqa: BLE001 - any import failure means "not available"
            pass
    return out


@functools.cache
def _opencv():
    """OpenCV (the torchcodec extra) when it imports, else None: numpy deinterleaves instead."""
    try:
        import cv2
    except ImportError:
        return None
    return cv2


def default_backend() -> str:
    return (available_backends() or ["pyav"])[0]


def nearest_frames(
    query_ts: list[float],
    loaded_ts: list[float],
    tolerance_s: float,
    *,
    path: Path,
    episode_index: int | None,
) -> np.ndarray:
    """Index of the nearest loaded frame for each query; FrameTimestampError if one is too far.

    Distances are computed in float32 as LeRobot does, and must be strictly below the tolerance.
    """
    return _nearest(query_ts, None, loaded_ts, None, tolerance_s, path, [episode_index])


def _nearest(
    query_ts, query_owner, loaded_ts, loaded_owner, tolerance_s, path, episodes, paired=False
) -> np.ndarray:
    """`nearest_frames` for several requests at once: a query (of request `query_owner[i]`) is
    matched among the loaded frames of its own request (`loaded_owner`); None owners: one request.

    `paired`: the i-th loaded frame was decoded for the i-th query (torchcodec). When each lies
    within the tolerance of its query it is the nearest (a request's other timestamps are whole
    frame periods away, or the same), so the all-pairs distances are skipped."""
    q = np.asarray(query_ts, dtype=np.float32)
    ld = np.asarray(loaded_ts, dtype=np.float32)
    if paired and (np.abs(q - ld) < tolerance_s).all():
        return np.arange(len(q))
    dist = np.abs(q[:, None] - ld[None, :])
    if query_owner is not None:
        dist[query_owner[:, None] != loaded_owner[None, :]] = np.inf
    arg = dist.argmin(axis=1)
    best = dist[np.arange(len(q)), arg]
    bad = best >= tolerance_s
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        episode = episodes[0 if query_owner is None else query_owner[i]]
        raise FrameTimestampError(
            f"video {path} (episode {episode}): requested timestamp {float(q[i]):.6f}s but the "
            f"nearest decoded frame is at {float(ld[arg[i]]):.6f}s, {float(best[i]):.6f}s away "
            f"(tolerance_s={tolerance_s}). The video and the parquet timestamps disagree; re-encode "
            "the episode or skip this item."
        )
    return arg


_PLANAR_OK: dict[tuple[str, int, int], bool] = {}


def _planar_matches_rgb24(pix_fmt: str, width: int, height: int) -> bool:
    """Whether swscale's planar RGB (gbrp) output has the same bytes as its rgb24 output for
    frames of this format and size; checked once per (format, size) on a frame of random bytes.

    Not always so: the FFmpeg bundled with PyAV 15-18 converts yuv420p to gbrp with the last
    1-8 columns left zero when the width is not a multiple of 16 but its remainder is at most
    8 (40, 100, 648 wide...); rgb24 is right. Such sizes take the rgb24 path.
    """
    key = (pix_fmt, width, height)
    ok = _PLANAR_OK.get(key)
    if ok is None:
        import av
        from av.video.reformatter import VideoReformatter

        try:
            probe = av.VideoFrame(width, height, pix_fmt)
            rng = np.random.default_rng(0)
            for plane in probe.planes:
                plane.update(rng.integers(0, 256, plane.buffer_size, dtype=np.uint8).tobytes())
            fmt = VideoReformatter()
            rgb = fmt.reformat(probe, format="rgb24", threads=1).to_ndarray()
            g, b, r = (
                np.frombuffer(p, np.uint8).reshape(height, p.line_size)[:, :width]
                for p in fmt.reformat(probe, format="gbrp", threads=1).planes
            )
            ok = bool(np.array_equal(np.stack([r, g, b], axis=-1), rgb))
        except (ValueError, av.error.FFmpegError):
            ok = False
        _PLANAR_OK[key] = ok
    return ok


class _PyAVFile:
    """One open container; seeks and decodes a batch of timestamps in one pass."""

    def __init__(self, path: Path, threads: int):
        import av

        self.path = path
        try:
            self.container = av.open(str(path))
            self.stream = self.container.streams.video[0]
        except (av.error.FFmpegError, IndexError, OSError) as e:
            raise DatasetFileError(
                f"cannot open video {path} (missing, truncated or not a video?): {e}"
            ) from e
        self.stream.codec_context.thread_count = threads
        self.time_base = self.stream.time_base
        self._seconds = float(self.time_base)  # per pts unit, as a float: no Fraction per frame
        rate = self.stream.average_rate
        self._half_frame = 0.5 / float(rate) if rate else 0.0
        self._reformatter = None  # one swscale context, reused for every frame of this file

    def decode_many(
        self, requests: list[list[float]], episodes: list, tolerance_s: float = 0.0
    ) -> tuple[list, list[float], np.ndarray]:
        """Each request in its own seek-and-decode pass: (frames, their timestamps, the request
        of each frame)."""
        frames, loaded, owner = [], [], []
        for r, (timestamps, episode_index) in enumerate(zip(requests, episodes)):
            got, ts = self.decode(timestamps, episode_index, tolerance_s)
            frames += got
            loaded += ts
            owner += [r] * len(got)
        return frames, loaded, np.asarray(owner)

    def decode(
        self, timestamps: list[float], episode_index: int | None, tolerance_s: float = 0.0
    ) -> tuple[list, list[float]]:
        """From the keyframe at or before the first timestamp to the frame nearest the last.

        Decoding stops at the first frame less than `tolerance_s` (at most half a frame) before
        the last timestamp, or after it: no later frame can be nearer. Without that margin, a
        request whose float32 timestamp lies a hair past its frame decoded one more frame (half
        the requests in a stream with a keyframe every 2 frames); seeking to the frame's own pts
        (not one unit before) no longer starts a keyframe early."""
        import av

        first_ts, last_ts = min(timestamps), max(timestamps)
        stop = last_ts - min(tolerance_s, self._half_frame)
        frames, loaded = [], []
        seconds = self._seconds
        try:
            self.container.seek(round(first_ts / seconds), backward=True, any_frame=False, stream=self.stream)
            for frame in self.container.decode(self.stream):
                pts = frame.pts
                if pts is None:
                    continue
                ts = pts * seconds
                frames.append(frame)
                loaded.append(ts)
                if ts >= stop:
                    break
        except av.error.FFmpegError as e:
            raise DatasetFileError(
                f"cannot decode video {self.path} (episode {episode_index}, timestamps "
                f"{first_ts:.6f}..{last_ts:.6f}s): {e}. The file may be truncated or corrupt."
            ) from e
        if not frames:
            raise DatasetFileError(
                f"video {self.path} (episode {episode_index}) has no frame in [{first_ts:.6f}, "
                f"{last_ts:.6f}]s: the file may be truncated."
            )
        return frames, loaded

    def to_chw(self, frame, dst: np.ndarray) -> None:
        """One decoded frame -> `dst` (3, H, W), uint8 or float32 in [0, 1] (value / 255)."""
        from av.video.reformatter import VideoReformatter

        if self._reformatter is None:
            self._reformatter = VideoReformatter()
        h, w = frame.height, frame.width
        if not _planar_matches_rgb24(frame.format.name, w, h):
            # rgb24 (what LeRobot reads), then its channels copied apart
            rgb = self._reformatter.reformat(frame, format="rgb24", threads=1).to_ndarray()
            for channel in range(3):
                _convert(rgb[:, :, channel], dst[channel])
            return
        # gbrp: planar G, B, R, the same bytes as rgb24 (one swscale thread: its automatic
        # threading costs more than it saves on one frame, and the callers run in parallel)
        planes = self._reformatter.reformat(frame, format="gbrp", threads=1).planes
        for channel, plane in zip((1, 2, 0), planes):
            _convert(np.frombuffer(plane, np.uint8).reshape(h, plane.line_size)[:, :w], dst[channel])

    def close(self) -> None:
        self.container.close()


class _TorchCodecFile:
    """One torchcodec decoder: the frames nearest to the requested timestamps.

    The seek, decode and RGB conversion of a request run in one C++ call with the GIL released,
    so decode threads of one process run in parallel (PyAV holds the GIL between frames)."""

    def __init__(self, path: Path, threads: int):
        from torchcodec.decoders import VideoDecoder

        self.path = path
        try:
            # "exact" scans the packets once on open; "approximate" (torchcodec 0.17) returns the next
            # frame after some backward seeks in a stream with B-frames
            self.decoder = VideoDecoder(str(path), seek_mode="exact", num_ffmpeg_threads=threads)
        except Exception as e:
            raise DatasetFileError(f"cannot open video {path} with torchcodec: {e}") from e
        self.half_frame = 0.5 / self.decoder.metadata.average_fps
        self._planes: np.ndarray | None = None  # uint8 (C, H, W) scratch for float32 output

    def decode_many(
        self, requests: list[list[float]], episodes: list, tolerance_s: float = 0.0
    ) -> tuple[np.ndarray, list[float], None]:
        """All requests in one call (torchcodec sorts them and decodes each frame once): their
        frames in request order as (N, H, W, C) pixels, one per requested timestamp, and their
        timestamps. (`tolerance_s` is not needed: torchcodec stops at the frame played at each.)"""
        try:
            # the frame shown half a frame after t: the one nearest to t, wherever the stream starts
            # (B-frames often start it later than 0); how near is checked against its pts after
            half = self.half_frame
            batch = self.decoder.get_frames_played_at([t + half for ts in requests for t in ts])
        except Exception as e:
            raise DatasetFileError(f"cannot decode video {self.path} ({_episodes(episodes)}): {e}") from e
        # batch.data is an (N, C, H, W) view of torchcodec's interleaved pixels: viewed back once
        return batch.data.permute(0, 2, 3, 1).numpy(), batch.pts_seconds.tolist(), None

    def to_chw(self, hwc: np.ndarray, dst: np.ndarray) -> None:
        # `hwc` is torchcodec's interleaved (H, W, C) pixels, so this copy is a transpose. OpenCV's
        # split deinterleaves a 240x320 frame in 0.01 ms (numpy's strided copy: 0.07, torch's
        # copy_: 0.13); float32 then converts and divides the contiguous planes (0.06 ms in all,
        # against 0.14 for the division reading the strided view). Both release the GIL.
        as_uint8 = dst.dtype == np.uint8
        cv2 = _opencv()
        if cv2 is None or not (hwc.flags.c_contiguous and dst.flags.c_contiguous):
            _convert(hwc.transpose(2, 0, 1), dst)
            return
        if as_uint8:
            planes = dst
        else:
            shape = (3, *hwc.shape[:2])
            if self._planes is None or self._planes.shape != shape:
                self._planes = np.empty(shape, np.uint8)  # reused: one thread at a time
            planes = self._planes
        cv2.split(hwc, list(planes))
        if not as_uint8:
            _convert(planes, dst)

    def close(self) -> None:
        self.decoder = None


@frozen
class FrameRequest:
    """Frames of one file nearest to `timestamps` (seconds in the file), for `VideoDecoder`: into
    `out` (a (T, 3, H, W) tensor, or `(height, width) -> that tensor`), or a new uint8 tensor."""

    timestamps: list[float]
    episode_index: int | None = None
    out: torch.Tensor | Callable[[int, int], torch.Tensor] | None = None


class VideoDecoder:
    """Per-process cache of open video files; `decode(path, timestamps)` -> uint8 (T, C, H, W).

    After a fork (DataLoader workers) the cache is rebuilt, so each worker owns its containers.
    `decode` is thread-safe: a thread takes an idle container of the file (or opens one) and
    gives it back when done, so parallel requests on one file never share a container.
    """

    def __init__(
        self, backend: str | None = None, max_open: int = DEFAULT_MAX_OPEN, threads: int | None = None
    ):
        backend = backend or default_backend()
        if backend == "video_reader":  # LeRobot's legacy alias
            backend = "pyav"
        if backend not in ("pyav", "torchcodec"):
            raise ValueError(f"video_backend must be 'pyav' or 'torchcodec', got {backend!r}")
        if backend == "torchcodec" and "torchcodec" not in available_backends():
            raise ValueError("video_backend='torchcodec' requested but torchcodec does not import here")
        self.backend = backend
        self.max_open = max_open
        self.threads = threads
        # idle open files per (pid, path), least recently used first
        self._files: OrderedDict[tuple[int, str], list] = OrderedDict()
        self._lock = threading.Lock()
        _DECODERS.add(self)

    def _take(self, path: Path):
        """An idle open file for `path` (opened now if none is idle); give it back with `_give_back`."""
        key = (os.getpid(), str(path))
        with self._lock:
            idle = self._files.get(key)
            if idle:
                self._files.move_to_end(key)
                return idle.pop()
        if not Path(path).is_file():
            raise DatasetFileError(f"missing video file: {path}")
        return (_PyAVFile if self.backend == "pyav" else _TorchCodecFile)(path, self._threads())

    def _give_back(self, path: Path, f) -> None:
        key = (os.getpid(), str(path))
        evicted = []
        with self._lock:
            self._files.setdefault(key, []).append(f)
            self._files.move_to_end(key)
            count = sum(len(v) for v in self._files.values())
            while count > self.max_open:
                oldest = next(iter(self._files))
                evicted.append(self._files[oldest].pop(0))
                if not self._files[oldest]:
                    del self._files[oldest]
                count -= 1
        for old in evicted:
            old.close()

    def _threads(self) -> int:
        """Codec threads per open file: `threads` if set, else 1 inside a DataLoader worker (the
        workers are the parallelism; more threads oversubscribe the cores), else 0 (FFmpeg's
        automatic choice)."""
        if self.threads is not None:
            return self.threads
        return 1 if torch.utils.data.get_worker_info() is not None else 0

    def decode(
        self,
        path: Path,
        timestamps: list[float],
        tolerance_s: float,
        *,
        episode_index: int | None = None,
        out: torch.Tensor | Callable[[int, int], torch.Tensor] | None = None,
    ) -> torch.Tensor:
        """Frames nearest to `timestamps` (seconds in the file) as (T, C, H, W).

        Without `out`: a new uint8 tensor. `out` is a uint8 or float32 (T, 3, H, W) tensor to
        fill (float32 gets value / 255), or a function `(height, width) -> that tensor`, called
        once the frame size is known.
        """
        return self.decode_many(path, [FrameRequest(timestamps, episode_index, out)], tolerance_s)[0]

    def decode_many(
        self, path: Path, requests: Sequence[FrameRequest], tolerance_s: float
    ) -> list[torch.Tensor]:
        """`decode` for several requests of one file in one pass: torchcodec decodes them in one
        call, so the per-call cost is paid once per file of a batch, not once per item and camera.
        A frame requested more than once is converted once and copied."""
        sizes = [len(r.timestamps) for r in requests]
        episodes = [r.episode_index for r in requests]
        owner = np.repeat(np.arange(len(requests)), sizes) if len(requests) > 1 else None
        f = self._take(path)
        try:
            frames, loaded, loaded_owner = f.decode_many(
                [r.timestamps for r in requests], episodes, tolerance_s
            )
            paired = loaded_owner is None  # one frame per query, in order
            if paired:
                loaded_owner = owner
            query = [t for r in requests for t in r.timestamps]
            arg = _nearest(query, owner, loaded, loaded_owner, tolerance_s, path, episodes, paired).tolist()
            height, width = _frame_size(frames[0])
            outs, first, start = [], {}, 0  # first: loaded frame -> the output frame holding it
            for r, n in zip(requests, sizes):
                out = r.out
                if out is None:
                    out = torch.empty((n, 3, height, width), dtype=torch.uint8)
                elif callable(out):
                    out = out(height, width)
                if tuple(out.shape[-2:]) != (height, width):
                    raise DatasetFileError(
                        f"video {path} (episode {r.episode_index}) has {width}x{height} frames, but the "
                        f"other frames of this batch are {out.shape[-1]}x{out.shape[-2]}"
                    )
                dst = out.numpy()  # numpy views from here: a torch index costs 10x a numpy one
                for t, j in enumerate(arg[start : start + n]):
                    if j in first:
                        np.copyto(dst[t], first[j])
                    else:
                        first[j] = dst[t]
                        f.to_chw(frames[j], dst[t])
                outs.append(out)
                start += n
        except BaseException:
            f.close()  # an error may leave the container mid-stream: never reuse it
            raise
        self._give_back(path, f)
        return outs

    def close(self) -> None:
        with self._lock:
            files = [f for (pid, _), idle in self._files.items() if pid == os.getpid() for f in idle]
            self._files.clear()
        for f in files:
            f.close()

    def __getstate__(self):
        return {"backend": self.backend, "max_open": self.max_open, "threads": self.threads}

    def __setstate__(self, state):
        self.__init__(state["backend"], state["max_open"], state.get("threads"))


def _convert(src: np.ndarray, dst: np.ndarray) -> None:
    """uint8 pixels `src` -> `dst`: copied, or for float32 converted then divided by 255 in place
    (0.30 ms a 480x640 frame on one idle core, against 0.44 for numpy's division of the uint8
    frame into float32, which converts in small buffered chunks). The same values as LeRobot's
    `frames.float() / 255`.

    numpy, not torch: these run in decode threads, and a torch operation this large starts
    torch's OpenMP threads, which then spin through the next codec call (with torch's default
    thread count, a 240x320 Diffusion batch cost 35-38 ms of CPU instead of 19-20:
    benchmarks/bench_reader_cpu.py)."""
    np.copyto(dst, src)
    if dst.dtype != np.uint8:
        np.divide(dst, _255, out=dst)


def _episodes(episodes: list) -> str:
    unique = sorted(set(episodes), key=str)
    return f"episode {unique[0]}" if len(unique) == 1 else "episodes " + ", ".join(map(str, unique))


def _frame_size(frame) -> tuple[int, int]:
    """(height, width) of a PyAV frame or torchcodec's (H, W, C) pixels."""
    if isinstance(frame, np.ndarray):
        return frame.shape[0], frame.shape[1]
    return frame.height, frame.width
