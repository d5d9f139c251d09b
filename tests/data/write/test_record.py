"""episode_record: what an episode is (lengths, indices, tasks, stats, info.json), without I/O."""

import numpy as np
import pytest

from lerobot_fn.data import stats as S
from lerobot_fn.data import tables
from lerobot_fn.data.features import Feature
from lerobot_fn.data.write.record import episode_record, info_after
from lerobot_fn.data.write.writer import new_info

FEATURES = {
    "observation.images.top": Feature(dtype="video", shape=(8, 12, 3), names=["height", "width", "channels"]),
    "observation.state": Feature(dtype="float32", shape=(2,), names=None),
    "next.done": Feature(dtype="bool", shape=(1,), names=None),
    **tables.DEFAULT_FEATURES,
}
VIDEO_INFO = {"observation.images.top": {"video.height": 8, "video.width": 12, "video.codec": "av1"}}


def info_with(episodes, frames):
    info = new_info(
        fps=10,
        features=FEATURES,
        robot_type=None,
        use_videos=True,
        chunks_size=1000,
        data_files_size_in_mb=100,
        video_files_size_in_mb=200,
    )
    return {**info, "total_episodes": episodes, "total_frames": frames}


def buffer(n, tasks):
    values = {
        "observation.state": [np.array([i, -i], np.float32) for i in range(n)],
        "next.done": [np.array([i == n - 1]) for i in range(n)],
    }
    samples = np.stack([np.full((3, 8, 12), i, np.uint8) for i in S.sample_indices(n)]) if n else None
    return values, tasks, {"observation.images.top": samples}


def make(info, tasks, stats, n=5, task_per_frame=None):
    values, per_frame, samples = buffer(n, task_per_frame or ["pick"] * n)
    return episode_record(
        info=info,
        features=FEATURES,
        tasks=tasks,
        dataset_stats=stats,
        values=values,
        task_per_frame=per_frame,
        images={},
        video_samples=samples,
        video_info=VIDEO_INFO,
    )


def test_indices_and_automatic_columns_continue_the_dataset():
    rec = make(info_with(episodes=3, frames=40), ["pick"], {}, n=5)
    assert (rec.episode_index, rec.length, rec.first_index) == (3, 5, 40)
    cols = rec.frames.to_pydict()
    assert cols["index"] == list(range(40, 45))
    assert cols["frame_index"] == list(range(5))
    assert cols["episode_index"] == [3] * 5
    np.testing.assert_allclose(cols["timestamp"], np.arange(5) / 10, rtol=1e-6)
    assert cols["observation.state"][4] == [4.0, -4.0]
    assert rec.frames.schema.equals(tables.frames_schema(FEATURES))  # the data file's schema, video excluded


def test_new_tasks_get_the_next_task_index():
    rec = make(info_with(1, 5), ["pick"], {}, n=4, task_per_frame=["place", "pick", "place", "stack"])
    assert rec.tasks == ["place", "pick", "stack"]
    assert rec.new_tasks == ["place", "stack"]
    assert rec.dataset_tasks == ["pick", "place", "stack"]
    assert rec.frames.column("task_index").to_pylist() == [1, 0, 1, 2]
    assert rec.info["total_tasks"] == 3


def test_stats_of_the_episode_and_of_the_dataset():
    first = make(info_with(0, 0), [], {}, n=5)
    state = np.stack([[i, -i] for i in range(5)]).astype(np.float32)
    np.testing.assert_array_equal(
        first.stats["observation.state"]["mean"], S.numeric_feature_stats(state)["mean"]
    )
    assert list(first.stats) == [k for k in FEATURES if k in first.stats]  # features' order
    assert first.stats["observation.images.top"]["count"].tolist() == [len(S.sample_indices(5))]
    second = make(first.info, first.dataset_tasks, first.dataset_stats, n=3)
    assert second.dataset_stats["observation.state"]["count"].tolist() == [8]
    assert second.dataset_stats["observation.state"]["max"].tolist() == [4.0, 0.0]


def test_episodes_row_in_lerobots_column_order():
    rec = make(info_with(0, 0), [], {}, n=2)
    row = rec.episodes_row({"data/chunk_index": 0, "dataset_from_index": 0}, {"videos/x/chunk_index": 0})
    keys = list(row)
    assert keys[:5] == ["episode_index", "tasks", "length", "data/chunk_index", "dataset_from_index"]
    assert keys[5] == "videos/x/chunk_index" and all(k.startswith("stats/") for k in keys[6:])
    assert row["stats/observation.state/max"] == [1.0, 0.0]


def test_info_after_counts_and_fills_missing_encoder_info():
    info = info_with(2, 30)
    info["features"]["observation.images.top"].pop("info", None)
    after = info_after(info, length=7, n_tasks=2, video_info=VIDEO_INFO)
    assert (after["total_episodes"], after["total_frames"], after["total_tasks"]) == (3, 37, 2)
    assert after["splits"] == {"train": "0:3"}
    assert after["features"]["observation.images.top"]["info"] == VIDEO_INFO["observation.images.top"]
    assert (
        "info" not in info["features"]["observation.images.top"] and info["total_episodes"] == 2
    )  # unchanged
    kept = {**after["features"]["observation.images.top"]["info"], "video.codec": "h264"}
    later = {**after, "features": {**after["features"], "observation.images.top": {"info": kept}}}
    assert info_after(later, length=1, n_tasks=2, video_info=VIDEO_INFO)["features"] == later["features"]


def test_an_empty_episode_is_refused():
    with pytest.raises(ValueError, match="no frames"):
        make(info_with(0, 0), [], {}, n=0, task_per_frame=[])
