"""commit_episode: an episode record goes to disk data first, metadata after, info.json last."""

import json

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch

from lerobot_fn import data
from lerobot_fn.data import stats as S
from lerobot_fn.data.features import Feature
from lerobot_fn.data.layout import FileCursor, Layout
from lerobot_fn.data.meta import INFO_PATH
from lerobot_fn.data.tables import DEFAULT_FEATURES
from lerobot_fn.data.write.commit import COMMIT_STEPS, commit_episode
from lerobot_fn.data.write.encode import VideoEncoding, encode_frames
from lerobot_fn.data.write.record import episode_record
from lerobot_fn.data.write.writer import new_info

KEY = "observation.images.top"
FEATURES = {
    KEY: Feature(dtype="video", shape=(16, 24, 3), names=["height", "width", "channels"]),
    "observation.state": Feature(dtype="float32", shape=(2,), names=None),
    **DEFAULT_FEATURES,
}
ENCODING = VideoEncoding.lossless()


def image(e, i):
    return np.random.default_rng(100 * e + i).integers(0, 256, (16, 24, 3), dtype=np.uint8)


def new_dataset(root):
    info = new_info(
        fps=10,
        features=FEATURES,
        robot_type=None,
        use_videos=True,
        chunks_size=1000,
        data_files_size_in_mb=100,
        video_files_size_in_mb=200,
    )
    info["features"][KEY]["info"] = ENCODING.info(16, 24, 10)
    root.mkdir()
    (root / INFO_PATH).parent.mkdir()
    (root / INFO_PATH).write_text(json.dumps(info))
    return info, Layout(root, info, FileCursor.empty(), {})


def episode(root, info, tasks, stats, e, n):
    """The record of episode `e` (n frames) and its staged mp4, as the writer makes them."""
    frames = [image(e, i) for i in range(n)]
    staged = root / ".staging" / f"ep{e}.mp4"
    staged.parent.mkdir(exist_ok=True)
    encode_frames(frames, staged, fps=10, encoding=ENCODING)
    record = episode_record(
        info=info,
        features=FEATURES,
        tasks=tasks,
        dataset_stats=stats,
        values={"observation.state": [np.array([e, i], np.float32) for i in range(n)]},
        task_per_frame=[f"task {e}"] * n,
        images={},
        video_samples={KEY: np.stack([frames[i].transpose(2, 0, 1) for i in S.sample_indices(n)])},
        video_info={KEY: ENCODING.info(16, 24, 10)},
    )
    return record, {KEY: staged}


def check_frames(root, lengths):
    ds = data.open(root)
    assert ds.num_episodes == len(lengths) and len(ds) == sum(lengths)
    k = 0
    for e, n in enumerate(lengths):
        for i in range(n):
            item = ds[k]
            top = (item["observation", "images", "top"] * 255).round().to(torch.uint8).permute(1, 2, 0)
            np.testing.assert_array_equal(top.numpy(), image(e, i), err_msg=f"episode {e} frame {i}")
            assert item["observation", "state"].tolist() == [e, i] and item["task"] == f"task {e}"
            k += 1


def test_each_step_is_on_disk_before_the_metadata_that_describes_it(tmp_path):
    root = tmp_path / "ds"
    info, layout = new_dataset(root)
    record, staged = episode(root, info, [], {}, 0, 5)
    seen = []

    def hook(step):
        saved = json.loads((root / INFO_PATH).read_text())["total_episodes"]
        videos = list(root.glob(f"videos/{KEY}/*/*.mp4"))
        data_rows = sum(pq.read_metadata(p).num_rows for p in root.glob("data/*/*.parquet"))
        episodes_rows = sum(pq.read_metadata(p).num_rows for p in root.glob("meta/episodes/*/*.parquet"))
        seen.append((step, saved, len(videos), data_rows, episodes_rows, (root / "meta/stats.json").exists()))

    commit_episode(record, layout, staged, hook)
    assert seen == [
        ("after_videos", 0, 1, 0, 0, False),
        ("after_data", 0, 1, 5, 0, False),
        ("after_episodes", 0, 1, 5, 1, False),
    ]
    assert [s[0] for s in seen] == list(COMMIT_STEPS)
    assert json.loads((root / INFO_PATH).read_text()) == record.info
    assert not staged[KEY].exists()  # moved into the dataset
    check_frames(root, [5])


@pytest.mark.parametrize("step", COMMIT_STEPS)
def test_a_commit_stopped_at_any_step_keeps_the_saved_episodes(tmp_path, step):
    root = tmp_path / "ds"
    info, layout = new_dataset(root)
    first, staged = episode(root, info, [], {}, 0, 4)
    commit_episode(first, layout, staged)
    second, staged = episode(root, first.info, first.dataset_tasks, first.dataset_stats, 1, 3)

    def stop(name):
        if name == step:
            raise KeyboardInterrupt(name)  # as a kill here: nothing after this step runs

    with pytest.raises(KeyboardInterrupt):
        commit_episode(second, layout, staged, stop)
    data.recover(root)
    check_frames(root, [4, 3] if step == "after_episodes" else [4])  # an episodes row is the record
