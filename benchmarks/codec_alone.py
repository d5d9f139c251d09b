"""The codec alone: the frames a reader is asked for, decoded by the backend with nothing else.

One definition for both benchmarks that hold the reader against it: `bench_reader.py` (frames/s,
one process per core) and `bench_reader_cpu.py` (CPU a batch, one thread). Each item asks, per
camera, for the frames of its `delta_timestamps` (clamped to its episode, as the reader does);
the files stay open with one codec thread.

- "pyav": PyAV's FFmpeg/dav1d, seek to the keyframe at or before the request, then decode forward
  to its last frame (the first within the reader's default tolerance, 1e-4 s, of the last
  timestamp), one pass per request; no RGB conversion, no tensors.
- "torchcodec": torchcodec's VideoDecoder over the system FFmpeg, `get_frames_played_at` once per
  file and batch, as the reader calls it (RGB tensors are its only output).

The two link different FFmpeg/dav1d builds, so a reader is held against its own backend.
"""

from __future__ import annotations

from collections.abc import Sequence

TOLERANCE_S = 1e-4  # the reader's default tolerance_s (LeRobot's)


def requests(ds, delta: dict, order: Sequence[int]) -> list[list[tuple[str, list[float]]]]:
    """Per item of `order` (frame indices of `ds`, a lerobot_fn dataset): [(video path,
    [seconds in the file])] per camera, the frames the reader decodes for it."""
    meta, fps = ds.meta, ds.meta.fps
    out = []
    for idx in order:
        ep, frame = int(ds._tensors["episode_index"][idx]), int(ds._tensors["index"][idx])
        start, end = meta.episode_range(ep)
        item = []
        for key in meta.video_keys:
            offsets = [round(d * fps) for d in delta.get(key, [0.0])]
            wanted = [min(max(frame + o, start), end - 1) for o in offsets]
            base = meta.video_from_timestamp(ep, key)
            item.append((str(ds.root / meta.video_file(ep, key)), [base + (w - start) / fps for w in wanted]))
        out.append(item)
    return out


def by_batch(items: list, batch_size: int, backend: str) -> list[list[tuple[str, list[float]]]]:
    """Per batch of `items`, its decode calls: one per request (pyav), one per file (torchcodec)."""
    out = []
    for b in range(0, len(items), batch_size):
        calls = [call for item in items[b : b + batch_size] for call in item]
        if backend == "torchcodec":
            grouped: dict[str, list[float]] = {}
            for path, ts in calls:
                grouped.setdefault(path, []).extend(ts)
            calls = list(grouped.items())
        out.append(calls)
    return out


class Codec:
    """Open files of one backend; `decode(path, timestamps)` decodes and discards the frames."""

    def __init__(self, backend: str, fps: float):
        self.backend, self.fps = backend, fps
        self.files: dict = {}

    def decode(self, path: str, ts: list[float]) -> None:
        if self.backend == "torchcodec":
            self._torchcodec(path).get_frames_played_at([t + 0.5 / self.fps for t in ts])
            return
        c, s, seconds = self._pyav(path)  # seconds per pts unit, a float: no Fraction per frame
        stop = max(ts) - min(TOLERANCE_S, 0.5 / float(s.average_rate))
        c.seek(round(min(ts) / seconds), backward=True, any_frame=False, stream=s)
        for f in c.decode(s):
            if f.pts is not None and f.pts * seconds >= stop:
                break

    def decode_batch(self, calls: list[tuple[str, list[float]]]) -> int:
        """Every call of one batch; the frames requested."""
        for path, ts in calls:
            self.decode(path, ts)
        return sum(len(ts) for _, ts in calls)

    def _torchcodec(self, path: str):
        if path not in self.files:
            from torchcodec.decoders import VideoDecoder

            self.files[path] = VideoDecoder(path, seek_mode="exact", num_ffmpeg_threads=1)
        return self.files[path]

    def _pyav(self, path: str):
        if path not in self.files:
            import av

            c = av.open(path)
            s = c.streams.video[0]
            s.codec_context.thread_count = 1
            self.files[path] = (c, s, float(s.time_base))
        return self.files[path]
