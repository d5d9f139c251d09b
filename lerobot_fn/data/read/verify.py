"""`verify(root)`: open every data and video file of a dataset and report each broken one by path.

What `dataset.info` runs by default. Opening a dataset for reading checks what it needs to start
(metadata, frame counts); this reads every byte a training run would: each data parquet in full,
each video's packets to the last one its episodes need. A dataset with problems is still described
file by file, so one bad file does not hide the others.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import attrs
import pyarrow as pa
import pyarrow.parquet as pq

from lerobot_fn.data.errors import DatasetError
from lerobot_fn.data.meta import DatasetMeta


@attrs.frozen
class FileProblem:
    """One broken file: its absolute path and what is wrong with it."""

    path: Path
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def _check_data_file(path: Path, frames: int) -> str | None:
    if not path.is_file():
        return "missing"
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as e:
        return f"cannot be read as parquet (truncated or corrupt?): {e}"
    if table.num_rows < frames:
        return f"holds {table.num_rows} frames, meta/episodes says at least {frames}"
    return None


def _check_video_file(path: Path, end_s: float, fps: int) -> str | None:
    """Demux every packet (no decoding) and check the stream reaches `end_s`, the end of the last
    episode stored in it."""
    import av

    if not path.is_file():
        return "missing"
    if path.stat().st_size == 0:
        return "empty (0 bytes)"
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                return "has no video stream"
            stream = container.streams.video[0]
            last = None
            for packet in container.demux(stream):
                if packet.pts is not None and packet.size:
                    last = packet.pts if last is None else max(last, packet.pts)
    except (av.error.FFmpegError, OSError, ValueError) as e:
        return f"cannot be read as video (truncated or corrupt?): {e}"
    if last is None:
        return "holds no frames"
    reached = float(last * stream.time_base) + 1 / fps
    if reached + 0.5 / fps < end_s:
        return f"ends at {reached:.3f} s but its episodes need frames up to {end_s:.3f} s (truncated?)"
    return None


def verify(root: str | Path) -> list[FileProblem]:
    """Every broken data or video file of the dataset at `root` (empty: all of them read fine).

    Metadata that cannot be loaded at all is one problem naming the metadata file."""
    from lerobot_fn.data.sample import resolve_source

    root = Path(resolve_source(root)).absolute()
    try:
        meta = DatasetMeta.load(root)
    except (DatasetError, OSError) as e:
        return [FileProblem(root / "meta", str(e))]
    data_frames: dict[Path, int] = defaultdict(int)
    video_end: dict[Path, float] = defaultdict(float)
    problems: list[FileProblem] = []
    for e in meta.episode_indices:
        start, end = meta.episode_range(e)
        data_frames[root / meta.data_file(e)] += end - start
        for key in meta.video_keys:
            path = root / meta.video_file(e, key)
            stop = float(meta.episode_value(e, f"videos/{key}/to_timestamp"))
            video_end[path] = max(video_end[path], stop)
    for path, frames in sorted(data_frames.items()):
        if (message := _check_data_file(path, frames)) is not None:
            problems.append(FileProblem(path, message))
    for path, end_s in sorted(video_end.items()):
        if (message := _check_video_file(path, end_s, meta.fps)) is not None:
            problems.append(FileProblem(path, message))
    return problems
