"""Convert a LeRobotDataset v2.1 (jsonl metadata, one file per episode) to v3.0.

v2.1: meta/info.json (codebase_version "v2.1"), meta/episodes.jsonl, meta/tasks.jsonl,
meta/episodes_stats.jsonl, data/chunk-XXX/episode_XXXXXX.parquet and
videos/chunk-XXX/<key>/episode_XXXXXX.mp4. The v3.0 output packs episodes into shared files
(videos by packet copy, no re-encoding) and keeps the v2.1 per-episode stats, as LeRobot's
`convert_dataset_v21_to_v30` does.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from lerobot_fn.data.errors import DatasetError, DatasetFileError
from lerobot_fn.data.meta import (
    DEFAULT_CHUNK_SIZE,
    DEFAULT_DATA_FILE_SIZE_IN_MB,
    DEFAULT_DATA_PATH,
    DEFAULT_VIDEO_FILE_SIZE_IN_MB,
    DEFAULT_VIDEO_PATH,
    INFO_PATH,
)
from lerobot_fn.data.tools.build import DatasetBuilder


def _jsonl(path: Path) -> list[dict]:
    if not path.is_file():
        raise DatasetFileError(
            f"missing file: {path} (a v2.1 dataset has meta/episodes.jsonl, tasks.jsonl, "
            "episodes_stats.jsonl)"
        )
    out = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if line.strip():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise DatasetFileError(f"{path}:{n}: not valid JSON ({e})") from e
    return out


def _stats(raw: dict, features: dict) -> dict:
    out = {}
    for name, feat in raw.items():
        arrays = {k: np.asarray(v, dtype=np.int64 if k == "count" else np.float64) for k, v in feat.items()}
        if features.get(name, {}).get("dtype") in ("image", "video"):
            arrays = {k: v if k == "count" else v.reshape(-1, 1, 1) for k, v in arrays.items()}
        out[name] = arrays
    return out


def v30_info(info: dict, *, data_files_size_in_mb: float, video_files_size_in_mb: float) -> dict:
    """The v3.0 info.json of a v2.1 one (same features; LeRobot adds `fps` to non-video ones)."""
    features = {}
    for k, f in info["features"].items():
        f = dict(f)
        if f["dtype"] != "video":
            f["fps"] = int(info["fps"])
        features[k] = f
    return {
        "codebase_version": "v3.0",
        "robot_type": info.get("robot_type"),
        "total_episodes": 0,
        "total_frames": 0,
        "total_tasks": 0,
        "chunks_size": info.get("chunks_size", DEFAULT_CHUNK_SIZE),
        "data_files_size_in_mb": data_files_size_in_mb,
        "video_files_size_in_mb": video_files_size_in_mb,
        "fps": int(info["fps"]),
        "splits": {},
        "data_path": DEFAULT_DATA_PATH,
        "video_path": DEFAULT_VIDEO_PATH if info.get("video_path") else None,
        "features": features,
    }


def convert_v21(
    root: str | Path,
    output: str | Path,
    *,
    data_files_size_in_mb: float = DEFAULT_DATA_FILE_SIZE_IN_MB,
    video_files_size_in_mb: float = DEFAULT_VIDEO_FILE_SIZE_IN_MB,
) -> Path:
    """Write the v3.0 version of the v2.1 dataset at `root` to `output` (`root` is only read)."""
    root = Path(root)
    info_path = root / INFO_PATH
    if not info_path.is_file():
        raise DatasetFileError(f"missing file: {info_path} ({root} is not a LeRobotDataset root)")
    info = json.loads(info_path.read_text())
    version = str(info.get("codebase_version"))
    if not version.startswith("v2"):
        raise DatasetError(
            f"{info_path}: codebase_version is {version!r}; convert_v21 converts v2.x datasets"
        )
    episodes = sorted(_jsonl(root / "meta/episodes.jsonl"), key=lambda r: r["episode_index"])
    tasks = {t["task_index"]: t["task"] for t in _jsonl(root / "meta/tasks.jsonl")}
    ep_stats = {r["episode_index"]: r["stats"] for r in _jsonl(root / "meta/episodes_stats.jsonl")}
    chunks = int(info.get("chunks_size", DEFAULT_CHUNK_SIZE))
    video_keys = [k for k, f in info["features"].items() if f["dtype"] == "video"]
    new_info = v30_info(
        info, data_files_size_in_mb=data_files_size_in_mb, video_files_size_in_mb=video_files_size_in_mb
    )
    with DatasetBuilder(output, new_info) as b:
        for ep in episodes:
            e = int(ep["episode_index"])
            where = {"episode_chunk": e // chunks, "episode_index": e}
            data_file = root / info["data_path"].format(**where)
            if not data_file.is_file():
                raise DatasetFileError(f"missing data file {data_file} (episode {e})")
            rows = pq.read_table(data_file).sort_by("frame_index")
            if rows.num_rows != int(ep["length"]):
                raise DatasetFileError(
                    f"{data_file}: {rows.num_rows} rows, meta/episodes.jsonl says {ep['length']}"
                )
            try:
                frame_tasks = [tasks[i] for i in rows.column("task_index").to_pylist()]
            except KeyError as err:
                raise DatasetFileError(f"{data_file}: task_index {err} not in meta/tasks.jsonl") from None
            videos = {}
            for key in video_keys:
                src = root / info["video_path"].format(video_key=key, **where)
                if not src.is_file():
                    raise DatasetFileError(f"missing video file {src} (feature {key!r}, episode {e})")
                staged = b.staging / f"{key}_{e:06d}.mp4"
                shutil.copyfile(src, staged)
                videos[key] = staged
            if e not in ep_stats:
                raise DatasetFileError(f"{root / 'meta/episodes_stats.jsonl'}: no stats for episode {e}")
            b.add_episode(rows, frame_tasks, videos=videos, stats=_stats(ep_stats[e], info["features"]))
        return b.close()
