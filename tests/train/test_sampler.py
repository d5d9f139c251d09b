"""The data order: a pure function of (seed, step), resumable and split exactly across processes."""

from __future__ import annotations

import pytest

from lerobot_fn import train


def test_resuming_at_a_step_continues_the_same_order():
    positions = list(range(10, 47))
    full = train.BatchOrder(positions, 4, seed=3)
    stream = iter(full)
    first = [[next(stream) for _ in range(4)] for _ in range(20)]
    assert first == [full.batch(s) for s in range(20)]
    resumed = iter(train.BatchOrder(positions, 4, seed=3, start_step=13))
    assert [next(resumed) for _ in range(4)] == first[13]
    # one epoch (9 whole batches of 37 positions) visits distinct frames; the next epoch is reshuffled
    epoch = [i for b in first[:9] for i in b]
    assert len(set(epoch)) == 36 and set(epoch) <= set(positions)
    assert first[9:18] != first[:9]
    assert train.BatchOrder(positions, 4, seed=4).batch(0) != first[0]


def test_processes_split_each_global_batch():
    positions = list(range(64))
    one = train.BatchOrder(positions, 8, seed=0)
    ranks = [train.BatchOrder(positions, 4, seed=0, rank=r, world_size=2) for r in range(2)]
    for step in range(12):
        assert ranks[0].batch(step) + ranks[1].batch(step) == one.batch(step)


def test_fewer_frames_than_one_batch_is_an_error_naming_both():
    with pytest.raises(ValueError, match="has 5 usable frames, fewer than one batch of 8 \\(batch_size 4 x 2"):
        train.BatchOrder(range(5), 4, seed=0, world_size=2)
