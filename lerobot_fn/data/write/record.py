"""What one recorded episode is, computed without touching the disk (pure).

`episode_record` turns the writer's buffer (the values of every frame, the task of every frame,
the encoded inline images and the frames sampled for video stats) and the dataset's state before
the episode (info.json, tasks, stats) into an `EpisodeRecord`: its length and indices, its data
rows, its tasks, its stats, the dataset's stats and info.json after it. `commit.commit_episode`
then puts the record on disk; where each file goes (chunk, file, timestamps in a video file)
depends on the files already there, so those columns of the episodes row are filled in then.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
from attrs import frozen

from lerobot_fn.data import stats as stats_mod
from lerobot_fn.data import tables
from lerobot_fn.data.features import Feature
from lerobot_fn.data.write.frame_input import episode_columns


@frozen(kw_only=True, eq=False)
class EpisodeRecord:
    """One episode, ready to commit: what goes in the data file, the episodes row, tasks,
    stats.json and info.json."""

    episode_index: int
    length: int
    first_index: int  # the dataset-wide `index` of the episode's first frame
    tasks: list[str]  # the episode's tasks, in order of first appearance
    new_tasks: list[str]  # those the dataset did not have yet (tasks.parquet is rewritten when any)
    dataset_tasks: list[str]  # every task of the dataset after this episode, by task_index
    frames: pa.Table  # the episode's rows of the data file
    stats: dict[str, dict[str, np.ndarray]]  # this episode's stats, in the features' order
    dataset_stats: dict[str, dict[str, np.ndarray]]  # stats.json after this episode
    info: dict  # meta/info.json after this episode

    def episodes_row(self, data_location: Mapping[str, Any], video_locations: Mapping[str, Any]) -> dict:
        """The meta/episodes row, columns in LeRobot's order, given where the data rows and the
        videos were put (`Layout.append_frames` / `append_video`)."""
        return {
            "episode_index": self.episode_index,
            "tasks": list(self.tasks),
            "length": self.length,
            **data_location,
            **video_locations,
            **stats_mod.flatten_stats(self.stats),
        }


def episode_record(
    *,
    info: dict,
    features: Mapping[str, Feature],
    tasks: Sequence[str],
    dataset_stats: Mapping[str, dict],
    values: Mapping[str, list],
    task_per_frame: Sequence[str],
    images: Mapping[str, Sequence[tuple[dict, np.ndarray]]],
    video_samples: Mapping[str, np.ndarray | None],
    video_info: Mapping[str, dict],
) -> EpisodeRecord:
    """The record of the episode in a writer's buffer.

    `info`, `tasks`, `dataset_stats`: the dataset before this episode. `values`: numeric values
    per feature, one per frame; `task_per_frame`: each frame's task; `images`: per inline-image
    feature, each frame's (PNG cell, downsampled CHW copy); `video_samples`: per video feature,
    the (K, C, H, W) frames sampled for stats (None when none); `video_info`: per video feature,
    the encoder's `info` entry, recorded in info.json on the first episode or where missing.
    """
    n = len(task_per_frame)
    if n == 0:
        raise ValueError("episode_record: the episode has no frames")
    episode = int(info["total_episodes"])
    first_index = int(info["total_frames"])
    episode_tasks = list(dict.fromkeys(task_per_frame))
    new_tasks = [t for t in episode_tasks if t not in tasks]
    dataset_tasks = [*tasks, *new_tasks]
    columns, stat_columns = episode_columns(
        values,
        list(task_per_frame),
        dataset_tasks,
        features,
        n=n,
        fps=int(info["fps"]),
        episode_index=episode,
        first_index=first_index,
    )
    samples = {k: np.stack([imgs[i][1] for i in stats_mod.sample_indices(n)]) for k, imgs in images.items()}
    samples.update({k: s for k, s in video_samples.items() if s is not None})
    for k, imgs in images.items():
        columns[k] = [cell for cell, _ in imgs]
    ep_stats = stats_mod.episode_stats(stat_columns, samples)
    ordered = {k: ep_stats[k] for k in features if k in ep_stats}
    return EpisodeRecord(
        episode_index=episode,
        length=n,
        first_index=first_index,
        tasks=episode_tasks,
        new_tasks=new_tasks,
        dataset_tasks=dataset_tasks,
        frames=tables.frames_table(columns, features),
        stats=ordered,
        dataset_stats=stats_mod.aggregate_stats([dataset_stats, ordered]) if dataset_stats else ordered,
        info=info_after(info, length=n, n_tasks=len(dataset_tasks), video_info=video_info),
    )


def info_after(info: dict, *, length: int, n_tasks: int, video_info: Mapping[str, dict]) -> dict:
    """meta/info.json after one more episode of `length` frames (a new dict; `info` is unchanged).
    The video features' encoder entries are (re)written on the first episode and where missing."""
    out = dict(info)
    episode = int(info["total_episodes"])
    if video_info and (episode == 0 or any(not info["features"][k].get("info") for k in video_info)):
        feats = dict(info["features"])
        for key, entry in video_info.items():
            feats[key] = {**feats[key], "info": dict(entry)}
        out["features"] = feats
    out["total_episodes"] = episode + 1
    out["total_frames"] = int(info["total_frames"]) + length
    out["total_tasks"] = n_tasks
    out["splits"] = {"train": f"0:{episode + 1}"}
    return out
