"""A batch's video frames, decoded in parallel into one tensor per camera, are exactly the frames
LeRobot's PyAV path gives (rgb24, value / 255), also when a history window repeats a frame at an
episode start, when many threads read one file, and after a failed read."""

import functools
import gc
import multiprocessing
import shutil
import threading
import time

import av
import pytest
import torch

from lerobot_fn import data
from lerobot_fn.data import DatasetFileError
from lerobot_fn.data.read.frames import DecodeThreads

DELTA = {"observation.images.top": [-0.04, -0.02, 0.0], "observation.images.left_wrist": [-0.02, 0.0]}


@functools.cache
def _file_frames(path: str):
    """Every frame of a video, converted as LeRobot's PyAV decoder does (rgb24 -> CHW)."""
    with av.open(path) as c:
        return torch.stack(
            [torch.from_numpy(f.to_ndarray(format="rgb24")).permute(2, 0, 1) for f in c.decode(video=0)]
        )


def _expected(ds, cam, index):
    """The uint8 frames an item asks for: history offsets clamped to its episode, as LeRobot does."""
    meta = ds.meta
    ep = int(ds._tensors["episode_index"][index])
    start, end = meta.episode_range(ep)
    first = round(meta.video_from_timestamp(ep, cam) * meta.fps)
    truth = _file_frames(str(ds.root / meta.video_file(ep, cam)))
    wanted = [min(max(index + round(d * meta.fps), start), end - 1) for d in DELTA[cam]]
    return truth[[first + w - start for w in wanted]]


@pytest.mark.parametrize("uint8", [True, False])
def test_batch_frames_equal_lerobots_pyav_frames_with_repeats_and_many_threads(dataset_fixtures, uint8):
    ds = data.open(dataset_fixtures / "aloha_sim_mini", delta_timestamps=DELTA, return_uint8=uint8)
    ds._threads = DecodeThreads(4)  # more threads than cameras: several read the same file at once
    starts = [ds.meta.episode_range(e)[0] for e in ds.episodes]
    indices = [*starts, *(s + 1 for s in starts), 7, 64, 65, 129, 100, 3, 50, 51]
    batch = ds[indices]
    for cam, deltas in DELTA.items():
        key = tuple(cam.split("."))
        got = batch[key]
        assert got.shape == (len(indices), len(deltas), 3, 48, 64)
        assert got.dtype == (torch.uint8 if uint8 else torch.float32)
        for j, i in enumerate(indices):
            want = _expected(ds, cam, i)
            assert torch.equal(got[j], want if uint8 else want.float() / 255), f"{cam} item {i}"
            assert torch.equal(ds[i].get(key), got[j])  # one item alone gives the same values
    ds.close()


def test_failed_read_names_file_and_timestamps_and_later_reads_still_work(dataset_fixtures, tmp_path):
    root = tmp_path / "pusht_mini"
    shutil.copytree(dataset_fixtures / "pusht_mini", root)
    video = root / "videos/observation.image/chunk-000/file-000.mp4"
    good = data.open(dataset_fixtures / "pusht_mini")[3]["observation", "image"]
    video.write_bytes(video.read_bytes()[: int(video.stat().st_size * 0.6)])
    ds = data.open(root)
    with pytest.raises(DatasetFileError, match=r"observation\.image/chunk-000/file-000\.mp4.*\d+\.\d+.*s"):
        ds[[3, len(ds) - 1]]
    assert torch.equal(ds[3]["observation", "image"], good)  # the failed container was not reused


@pytest.mark.timeout(60)
def test_workers_and_decode_threads_end_with_the_loader(dataset_fixtures):
    ds = data.open(dataset_fixtures / "aloha_sim_mini", delta_timestamps=DELTA)
    it = iter(data.loader(ds, batch_size=8, shuffle=True, num_workers=2))
    next(it)
    assert len(multiprocessing.active_children()) == 2
    del it  # stopped mid-epoch
    gc.collect()
    deadline = time.monotonic() + 20
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not multiprocessing.active_children()
    ds[[0, 1, 2]]  # the main process's own decode threads
    assert any(t.name.startswith("lerobot_fn-decode") for t in threading.enumerate())
    ds.close()
    assert not any(t.name.startswith("lerobot_fn-decode") for t in threading.enumerate())
