"""Video frames for a batch of items: the (item, camera) requests of the batch, grouped by file,
are decoded in parallel threads straight into one (B, T, C, H, W) tensor per camera.

Items are views into those tensors and `collate` takes them as they are (no stacking copy). In
a DataLoader worker the tensors live in shared memory from the start, so the batch crosses to
the main process without another copy; that memory is reused from batch to batch
(`read.buffers`). Float32 frames are produced here (in the worker, in parallel), not in the
main process. The codec, the RGB conversion and the division release the
GIL, so threads use every core even with `num_workers=0`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path

import torch
from attrs import frozen

from lerobot_fn.data.read import buffers
from lerobot_fn.data.video import FrameRequest, VideoDecoder


@frozen
class VideoRequest:
    """One camera of one item: the frames of `path` nearest to `timestamps` (seconds in the file)."""

    item: int
    key: str
    path: Path
    timestamps: list[float]
    episode_index: int


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class DecodeThreads:
    """A per-process pool of decode threads (rebuilt after a fork; dropped when pickled).

    Size: `threads` if given, else the cores this process may use, shared out among the
    DataLoader workers when inside one (2 cores and 2 workers: 1 thread each).
    """

    def __init__(self, threads: int | None = None):
        self.threads = threads
        self._pool: ThreadPoolExecutor | None = None
        self._pid: int | None = None

    def size(self) -> int:
        if self.threads is not None:
            return self.threads
        info = torch.utils.data.get_worker_info()
        return max(1, usable_cores() // (info.num_workers if info is not None else 1))

    def run(self, fn: Callable, jobs: Iterable) -> None:
        """Call `fn(job)` for every job, each started as soon as `jobs` yields it; after all
        have finished, raise the first error (a job's, or the one `jobs` raised)."""
        size = self.size()
        if size == 1:
            for job in jobs:
                fn(job)
            return
        if self._pool is None or self._pid != os.getpid():
            self._pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix="lerobot_fn-decode")
            self._pid = os.getpid()
        futures = []
        try:
            for job in jobs:
                futures.append(self._pool.submit(fn, job))
        finally:
            wait(futures)  # no thread still writes into the batch when an error is raised
        for f in futures:
            f.result()

    def close(self) -> None:
        if self._pool is not None and self._pid == os.getpid():
            self._pool.shutdown(wait=True)
        self._pool = None

    def __getstate__(self):
        return {"threads": self.threads, "_pool": None, "_pid": None}


def decode_batch(
    decoder: VideoDecoder,
    threads: DecodeThreads,
    requests: Iterable[VideoRequest],
    batch_size: int,
    dtype: torch.dtype,
    tolerance_s: float,
) -> dict[str, torch.Tensor]:
    """Decode every request into {camera key: (batch_size, T, 3, H, W)} of `dtype` (T: frames
    per request of a camera).

    The requests of one file go to the decoder together (one torchcodec call for a camera's
    frames of the whole batch instead of one per item), split into enough jobs to keep every
    decode thread busy. The tensor of a camera is allocated when its first frame size is known;
    a request whose video has another size is a DatasetFileError naming the file.
    """
    out: dict[str, torch.Tensor] = {}
    lock = threading.Lock()

    def slot(r: VideoRequest):
        def alloc(height: int, width: int) -> torch.Tensor:
            with lock:
                if r.key not in out:
                    out[r.key] = buffers.empty((batch_size, len(r.timestamps), 3, height, width), dtype)
                return out[r.key][r.item]

        return alloc

    by_file: dict[Path, list[FrameRequest]] = {}
    for r in requests:
        by_file.setdefault(r.path, []).append(FrameRequest(r.timestamps, r.episode_index, slot(r)))
    size = threads.size()
    pieces = 1 if size == 1 else -(-2 * size // max(len(by_file), 1))  # two jobs a thread, at least
    jobs = []
    for path, group in by_file.items():
        step = -(-len(group) // pieces)
        jobs += [(path, group[i : i + step]) for i in range(0, len(group), step)]
    threads.run(lambda job: decoder.decode_many(job[0], job[1], tolerance_s), jobs)
    return out
