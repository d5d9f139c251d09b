"""Recompute per-episode and dataset stats from the stored frames, as LeRobot computes them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lerobot_fn.data import atomic, tables
from lerobot_fn.data import stats as stats_mod
from lerobot_fn.data.meta import STATS_PATH
from lerobot_fn.data.tools.build import DatasetBuilder
from lerobot_fn.data.tools.source import Source
from lerobot_fn.data.write.frame_input import ImageCodec


def decode_segment(path: Path, start_s: float, end_s: float, indices: list[int], fps: int) -> np.ndarray:
    """Decode the frames `indices` (relative to start_s) of a video file -> (K, C, H, W) uint8."""
    import av

    wanted = {round(start_s * fps) + i: None for i in indices}
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        c.seek(int(start_s / float(s.time_base)), stream=s, backward=True, any_frame=False)
        for fr in c.decode(s):
            k = round(float(fr.pts * s.time_base) * fps)
            if k in wanted:
                wanted[k] = fr.to_ndarray(format="rgb24")
            if k >= max(wanted):
                break
    missing = [k for k, v in wanted.items() if v is None]
    if missing:
        raise ValueError(f"{path}: frames at {[k / fps for k in missing[:5]]}s could not be decoded")
    return np.stack(
        [stats_mod.downsample(wanted[round(start_s * fps) + i].transpose(2, 0, 1)) for i in indices]
    )


def episode_stats_from_files(src: Source, episode: int) -> dict:
    """One episode's stats from its stored rows and frames (videos are decoded)."""
    rows = src.frames(episode)
    n = rows.num_rows
    numeric, samples = {}, {}
    for k, f in src.features.items():
        if f["dtype"] == "video":
            path, a, b = src.video(episode, k)
            samples[k] = decode_segment(path, a, b, stats_mod.sample_indices(n), src.fps)
        elif f["dtype"] == "image":
            cells = rows.column(k).to_pylist()
            samples[k] = np.stack(
                [
                    stats_mod.downsample(ImageCodec.decode(cells[i]).transpose(2, 0, 1))
                    for i in stats_mod.sample_indices(n)
                ]
            )
        elif f["dtype"] != "string":
            if k == "timestamp":  # LeRobot's buffer holds frame_index / fps in float64
                numeric[k] = rows.column("frame_index").to_numpy() / src.fps
            else:
                col = rows.column(k)
                values = np.array(col.to_pylist(), dtype=f["dtype"])
                numeric[k] = values
    out = stats_mod.episode_stats(numeric, samples)
    return {k: out[k] for k in src.features if k in out}


def recompute_stats(root: str | Path, output: str | Path | None = None) -> Path:
    """Recompute every stat of `root`. With `output`, write a new dataset there; without, update
    `root`'s meta/episodes files and meta/stats.json in place (each file atomically)."""
    src = Source.open(root)
    per_episode = {e: episode_stats_from_files(src, e) for e in src.episode_indices}
    if output is not None:
        with DatasetBuilder(output, src.info) as b:
            for e in src.episode_indices:
                rows = src.frames(e)
                tasks = [src.tasks[i] for i in rows.column("task_index").to_pylist()]
                b.add_episode(
                    rows, tasks, videos={k: src.video(e, k) for k in src.video_keys}, stats=per_episode[e]
                )
            return b.close()
    by_file: dict[tuple, list[dict]] = {}
    for r in src.rows:
        by_file.setdefault((r["meta/episodes/chunk_index"], r["meta/episodes/file_index"]), []).append(r)
    for (chunk, file), rows in by_file.items():
        new_rows = []
        for r in rows:
            r = {k: v for k, v in r.items() if not k.startswith("stats/")}
            meta_cols = {k: r.pop(k) for k in ("meta/episodes/chunk_index", "meta/episodes/file_index")}
            r.update(stats_mod.flatten_stats(per_episode[r["episode_index"]]))
            r.update(meta_cols)
            new_rows.append(r)
        path = src.root / f"meta/episodes/chunk-{chunk:03d}/file-{file:03d}.parquet"
        atomic.write_table(path, tables.episodes_table(new_rows))
    agg = stats_mod.aggregate_stats([per_episode[e] for e in src.episode_indices])
    atomic.write_json(src.root / STATS_PATH, stats_mod.stats_to_json(agg))
    return src.root
