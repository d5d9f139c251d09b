"""Items and batches as a user indexes them: `ds[i]`, `ds[a:b]`, `ds[[i, j]]`, loader batches;
text entries are plain lists of strings; a loader that could never yield a batch fails at once."""

import pickle

import pytest
import torch

from lerobot_fn import data


@pytest.fixture(scope="module")
def ds(sample_dataset_root):
    return data.open(sample_dataset_root)


def test_slices_and_index_lists_give_a_stacked_batch_equal_to_the_items(ds):
    for index, rows in [
        (slice(0, 3), [0, 1, 2]),
        (slice(-2, None), [238, 239]),
        (slice(0, 9, 4), [0, 4, 8]),
        ([5, 1], [5, 1]),
        (torch.tensor([7, 3]), [7, 3]),
    ]:
        batch = ds[index]
        assert batch.batch_size == (len(rows),)
        assert batch["index"].tolist() == rows
        torch.testing.assert_close(batch["observation", "image"][-1], ds[rows[-1]]["observation", "image"])


@pytest.mark.parametrize("index", [1.5, "0", None, [True, False]])
def test_an_index_that_is_not_a_frame_index_is_refused_by_name(ds, index):
    with pytest.raises((TypeError, IndexError), match="index"):
        ds[index]


def test_an_empty_or_out_of_range_selection_says_so(ds):
    with pytest.raises(IndexError, match="selects no frame of a dataset of 240 frames"):
        ds[300:400]
    with pytest.raises(IndexError, match="out of range"):
        ds[[0, 240]]


def test_task_is_a_plain_list_of_strings_in_every_kind_of_batch(ds):
    batches = [
        ds[0:4],
        ds[[0, 1]],
        next(iter(data.loader(ds, batch_size=4))),
        next(iter(data.loader(ds, batch_size=4, num_workers=1))),
        ds[0:4].to("cpu"),
        ds[0:4][1:3],
    ]
    for batch in batches:
        tasks = batch["task"]
        assert (
            type(tasks) is list and all(type(t) is str for t in tasks) and len(tasks) == batch.batch_size[0]
        )
        assert pickle.loads(pickle.dumps(tasks)) == tasks
    assert ds[0:4][2]["task"] == "push the red dot onto the green square"


def test_fewer_frames_than_one_batch_with_drop_last_fails_at_once_naming_both(ds):
    with pytest.raises(ValueError, match="the dataset has 240 frames, fewer than batch_size=241"):
        data.loader(ds, batch_size=241, drop_last=True)
    assert len(data.loader(ds, batch_size=241)) == 1  # without drop_last: one short batch
    one_episode = data.EpisodeAwareSampler(ds, episode_indices_to_use=[2])  # what a sampler selects counts
    with pytest.raises(ValueError, match="the sampler has 40 frames, fewer than batch_size=64"):
        data.loader(ds, batch_size=64, sampler=one_episode, drop_last=True)
