"""Put an `EpisodeRecord` on disk, file by file, in crash-safe order.

Every file goes through `atomic` (write a temporary, fsync, rename), data before the metadata
that describes it and meta/info.json last:

    videos -> data parquet -> tasks.parquet -> episodes parquet -> stats.json -> info.json

Trailing video frames and data rows that no episodes row points at are invisible to readers
(ours and LeRobot's), and `recover` cuts them; an episodes row without the matching info.json
is rolled forward by `recover`. So a kill at any moment leaves every saved episode readable and
this one either complete or absent.

`commit_hook`, when given, is called with the name of each step once it is on disk
(`COMMIT_STEPS`): crash tests pass one that stops the process there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from lerobot_fn.data import atomic, tables
from lerobot_fn.data import stats as stats_mod
from lerobot_fn.data.layout import Layout
from lerobot_fn.data.meta import INFO_PATH, STATS_PATH, TASKS_PATH
from lerobot_fn.data.remux import video_duration_s
from lerobot_fn.data.write.record import EpisodeRecord

CommitHook = Callable[[str], None]

#: The named steps of `commit_episode`, in order; the hook runs after each.
COMMIT_STEPS = ("after_videos", "after_data", "after_episodes")


def commit_episode(
    record: EpisodeRecord,
    layout: Layout,
    staged_videos: Mapping[str, Path],
    commit_hook: CommitHook | None = None,
) -> None:
    """Write `record` and move its staged mp4s (one per video feature) into the dataset at
    `layout.root`. Raises `atomic.DatasetWriteError` naming the file on an OS error; files
    may then hold part of the episode, which `recover` cuts off."""
    root = layout.root
    step = commit_hook or _no_hook
    video_locations: dict = {}
    for key, staged in staged_videos.items():  # videos first: trailing video content is invisible
        video_locations.update(layout.append_video(key, staged, video_duration_s(staged)))
    step("after_videos")
    data_location = layout.append_frames(record.frames, record.first_index)
    step("after_data")
    if record.new_tasks:
        atomic.write_table(root / TASKS_PATH, tables.tasks_table(record.dataset_tasks))
    layout.append_episode(record.episodes_row(data_location, video_locations))
    step("after_episodes")
    atomic.write_json(root / STATS_PATH, stats_mod.stats_to_json(record.dataset_stats))
    atomic.write_json(root / INFO_PATH, record.info)  # the commit point


def _no_hook(step: str) -> None:
    return None
