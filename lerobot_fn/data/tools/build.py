"""Build a new dataset episode by episode from existing rows and video segments.

`DatasetBuilder(output, info)` writes into a hidden temporary directory beside `output` and
renames it into place on `close()`: a tool's output is complete or absent, and its inputs are
only ever read. Episodes are re-indexed (episode_index, index, task_index) and laid out with
the writer's rollover rules; the stats of the re-indexed columns are recomputed, the other
per-episode stats are carried over, and meta/stats.json is their aggregate.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa

from lerobot_fn.data import atomic, tables
from lerobot_fn.data import stats as stats_mod
from lerobot_fn.data.features import Feature
from lerobot_fn.data.layout import FileCursor, Layout
from lerobot_fn.data.meta import INFO_PATH, STATS_PATH, TASKS_PATH
from lerobot_fn.data.remux import video_duration_s

REINDEXED = ("episode_index", "index", "task_index")


def extract_segment(src: Path, start_s: float, end_s: float, out: Path) -> None:
    """Copy the packets of `src` with presentation time in [start_s, end_s) into `out`,
    shifted to start at 0 (episodes start on a key frame, so no re-encoding is needed)."""
    import av

    with av.open(str(src)) as inp:
        istream = inp.streams.video[0]
        tb = float(istream.time_base)
        lo, hi = round(start_s / tb), round(end_s / tb)
        with av.open(str(out), "w", format="mp4", options={"movflags": "faststart"}) as dst:
            ostream = dst.add_stream_from_template(istream, opaque=True)
            ostream.time_base = istream.time_base
            for packet in inp.demux(istream):
                if packet.dts is None or packet.pts is None or not lo <= packet.pts < hi:
                    continue
                packet.pts -= lo
                packet.dts -= lo
                packet.stream = ostream
                dst.mux(packet)


class DatasetBuilder:
    """Writes a new dataset at `output` (see module docstring). Use as a context manager."""

    def __init__(self, output: str | Path, info: dict) -> None:
        self.output = Path(output)
        with atomic.os_errors(self.output, "creating"):
            if self.output.exists() and any(self.output.iterdir()):
                raise FileExistsError(f"output {self.output} exists and is not empty; choose a new directory")
            self.output.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = self.output.parent / f".{self.output.name}{atomic.TMP_MARK}{os.getpid()}"
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.info = {**info, "total_episodes": 0, "total_frames": 0, "total_tasks": 0, "splits": {}}
        self.features = {k: Feature.from_dict(v, key=k) for k, v in self.info["features"].items()}
        self.layout = Layout(self.tmp, self.info, FileCursor.empty(), {})
        self.tasks: list[str] = []
        self.episode_stats: list[dict] = []
        self.staging = self.tmp / atomic.STAGING_DIR
        with atomic.os_errors(self.tmp, "creating"):
            self.staging.mkdir(parents=True)

    @property
    def total_episodes(self) -> int:
        return self.info["total_episodes"]

    def add_episode(
        self,
        frames: pa.Table,
        task_per_frame: list[str],
        *,
        videos: dict[str, tuple[Path, float, float] | Path] | None = None,
        stats: dict[str, dict] | None = None,
    ) -> int:
        """Append one episode: its rows (any index columns are replaced), the task of each
        frame, its video segments ((file, from_s, to_s) to copy, or an mp4 path to take) and
        its per-episode stats for the unchanged features. Returns the new episode_index."""
        episode, first, n = self.total_episodes, self.info["total_frames"], frames.num_rows
        for t in task_per_frame:
            if t not in self.tasks:
                self.tasks.append(t)
        ids = {t: i for i, t in enumerate(self.tasks)}
        new = {
            "episode_index": np.full(n, episode, np.int64),
            "index": np.arange(first, first + n, dtype=np.int64),
            "task_index": np.array([ids[t] for t in task_per_frame], np.int64),
        }
        schema = tables.frames_schema(self.features)
        columns = []
        for f in schema:
            if f.name in new:
                columns.append(pa.array(new[f.name], f.type))
            else:
                if f.name not in frames.column_names:
                    raise ValueError(f"episode {episode}: rows lack column {f.name!r}")
                columns.append(frames.column(f.name).cast(f.type))
        table = pa.Table.from_arrays(columns, schema=schema)
        ep_stats = {k: v for k, v in (stats or {}).items() if k in self.features and k not in REINDEXED}
        ep_stats.update(stats_mod.episode_stats({k: new[k] for k in REINDEXED}, {}))
        ordered = {k: ep_stats[k] for k in self.features if k in ep_stats}

        row: dict = {"episode_index": episode, "tasks": list(dict.fromkeys(task_per_frame)), "length": n}
        video_rows: dict = {}
        for key, seg in (videos or {}).items():
            if isinstance(seg, tuple):
                staged = self.staging / f"{key}_{episode:06d}.mp4"
                extract_segment(seg[0], seg[1], seg[2], staged)
            else:
                staged = Path(seg)
            video_rows.update(self.layout.append_video(key, staged, video_duration_s(staged)))
        row.update(self.layout.append_frames(table, first))
        row.update(video_rows)
        row.update(stats_mod.flatten_stats(ordered))
        self.layout.append_episode(row)
        self.episode_stats.append(ordered)
        self.info["total_episodes"] += 1
        self.info["total_frames"] += n
        return episode

    def close(self) -> Path:
        """Write tasks, stats and info, then move the dataset into place; returns its root."""
        if self.total_episodes == 0:
            self.abort()
            raise ValueError(f"no episodes to write to {self.output}")
        self.info["total_tasks"] = len(self.tasks)
        self.info["splits"] = {"train": f"0:{self.total_episodes}"}
        atomic.write_table(self.tmp / TASKS_PATH, tables.tasks_table(self.tasks))
        agg = stats_mod.aggregate_stats(self.episode_stats)
        atomic.write_json(self.tmp / STATS_PATH, stats_mod.stats_to_json(agg))
        atomic.write_json(self.tmp / INFO_PATH, self.info)
        shutil.rmtree(self.staging, ignore_errors=True)
        with atomic.os_errors(self.output, "moving the new dataset to"):
            if self.output.exists():
                self.output.rmdir()
            os.replace(self.tmp, self.output)
            atomic.fsync_dir(self.output.parent)
        return self.output

    def abort(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self) -> DatasetBuilder:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.abort()


def copy_episode(
    builder: DatasetBuilder,
    source,
    episode: int,
    *,
    drop: tuple[str, ...] = (),
    extra_columns: dict[str, object] | None = None,
    extra_stats: dict | None = None,
) -> int:
    """Append `source`'s episode to `builder`, without the features in `drop`, plus
    `extra_columns` (name -> values for each frame) and their `extra_stats`."""
    from lerobot_fn.data.tools.source import Source  # noqa: F401 - type of `source`

    frames = source.frames(episode)
    tasks = [source.tasks[i] for i in frames.column("task_index").to_pylist()]
    for name, values in (extra_columns or {}).items():
        feat = builder.features[name]
        frames = frames.append_column(name, tables.frames_table({name: values}, {name: feat}).column(name))
    videos = {
        k: source.video(episode, k) for k in source.video_keys if k not in drop and k in builder.features
    }
    stats = {k: v for k, v in stats_mod.unflatten_stats(source.row(episode)).items() if k not in drop}
    stats.update(extra_stats or {})
    return builder.add_episode(frames, tasks, videos=videos, stats=stats)
