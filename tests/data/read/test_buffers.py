"""Batch frame memory is reused from batch to batch, never while a batch (or a view of it) is alive:
batches a caller keeps still hold their own frames, with and without workers."""

import gc
import multiprocessing
import time

import pytest
import torch

from lerobot_fn import data
from lerobot_fn.data.read import buffers

DELTA = {"observation.images.top": [-0.02, 0.0], "observation.images.left_wrist": [0.0]}
CAMS = [("observation", "images", "top"), ("observation", "images", "left_wrist")]


def _check(batch, ref):
    want = ref[batch["index"].tolist()]
    for key in CAMS:
        assert torch.equal(batch[key], want[key]), key


@pytest.mark.timeout(120)
@pytest.mark.parametrize("workers", [0, 2])
def test_kept_batches_and_views_keep_their_frames_while_memory_is_reused(dataset_fixtures, workers):
    ds = data.open(dataset_fixtures / "aloha_sim_mini", delta_timestamps=DELTA)
    ref = data.open(dataset_fixtures / "aloha_sim_mini", delta_timestamps=DELTA)
    loader = data.loader(
        ds, batch_size=4, shuffle=True, num_workers=workers, generator=torch.Generator().manual_seed(0)
    )
    kept, views = [], []
    for _ in range(2):  # persistent workers: the second epoch reuses the first's memory
        for i, batch in enumerate(loader):
            _check(batch, ref)
            if i % 7 == 0:
                kept.append(batch)
            if i % 7 == 3:
                views.append((batch[CAMS[0]][1].clone(), batch[CAMS[0]][1]))
    for batch in kept:  # later batches did not write into kept ones
        _check(batch, ref)
    for copy, view in views:  # nor into a view outliving its batch
        assert torch.equal(view, copy)
    del loader, kept, views
    gc.collect()
    deadline = time.monotonic() + 20
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not multiprocessing.active_children()
    ds.close()


def test_a_dropped_batch_frees_its_memory_and_a_kept_one_does_not(dataset_fixtures):
    ds = data.open(dataset_fixtures / "aloha_sim_mini", delta_timestamps=DELTA)
    ds.close()  # start from no free segment
    first = ds[[0, 1, 2, 3]]
    used = {first[k].untyped_storage().data_ptr() for k in CAMS}
    second = ds[[4, 5, 6, 7]]
    assert not used & {second[k].untyped_storage().data_ptr() for k in CAMS}  # first is alive
    del first
    third = ds[[8, 9, 10, 11]]
    assert {third[k].untyped_storage().data_ptr() for k in CAMS} == used  # first's memory, reused
    assert len(buffers._POOL.segments) <= buffers.MAX_SEGMENTS
    ds.close()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("persistent", [True, False])
def test_a_worker_sends_each_segment_descriptor_once_and_exited_workers_mappings_are_dropped(
    dataset_fixtures, monkeypatch, persistent
):
    received = {"batches": 0, "descriptors": 0}
    receive = buffers._receive

    def counting(key, fd_holder, *args):
        received["batches"] += 1
        received["descriptors"] += fd_holder is not None
        return receive(key, fd_holder, *args)

    # pickled by name, in the workers (which inherit the patch) and unpickled here
    counting.__module__, counting.__qualname__ = buffers.__name__, "_receive"
    monkeypatch.setattr(buffers, "_receive", counting)
    ds = data.open(dataset_fixtures / "aloha_sim_mini", delta_timestamps=DELTA)
    ref = data.open(dataset_fixtures / "aloha_sim_mini", delta_timestamps=DELTA)
    loader = data.loader(
        ds, batch_size=4, shuffle=True, num_workers=2, persistent_workers=persistent,
        generator=torch.Generator().manual_seed(0),
    )
    for _ in range(2):  # non-persistent: the second epoch's workers are new processes
        for batch in loader:
            _check(batch, ref)
    # frames and descriptors: 2 cameras a batch; a worker reuses a few segments for all its batches
    assert received["batches"] >= 2 * len(loader) * len(CAMS)
    assert 0 < received["descriptors"] <= received["batches"] / 4
    assert received["descriptors"] <= (1 if persistent else 2) * 2 * buffers.MAX_SEGMENTS
    assert buffers._DELIVERED  # the live workers' segments stay mapped between batches
    del loader, batch
    gc.collect()
    deadline = time.monotonic() + 20
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not multiprocessing.active_children()
    buffers.drop_free()
    assert not buffers._DELIVERED  # no mapping of an exited worker's memory is kept
    ds.close()
