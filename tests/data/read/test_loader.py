"""Loader, EpisodeAwareSampler and concat: batches a training loop relies on."""

import pytest
import torch

from lerobot_fn import data
from lerobot_fn.data.read.sampler import episode_positions


def test_loader_batches_are_tensordicts_with_stacked_items(dataset_fixtures):
    ds = data.open(
        dataset_fixtures / "aloha_sim_mini", delta_timestamps={"action": [i / 50 for i in range(5)]}
    )
    batch = next(iter(data.loader(ds, batch_size=4, shuffle=False)))
    assert batch.batch_size == torch.Size([4])
    assert batch["action"].shape == (4, 5, 14) and batch["action_is_pad"].dtype == torch.bool
    assert batch["observation", "images", "top"].shape == (4, 3, 48, 64)
    for i in range(4):
        item = ds[i]
        assert torch.equal(batch["action"][i], item["action"])
        assert torch.equal(batch["observation", "images", "top"][i], item["observation", "images", "top"])
    assert batch["task"] == [ds[i]["task"] for i in range(4)]


def test_loader_with_two_workers_covers_every_frame_once(dataset_fixtures):
    ds = data.open(dataset_fixtures / "pusht_mini", return_uint8=True)
    g = torch.Generator().manual_seed(0)
    seen = []
    for batch in data.loader(ds, batch_size=16, shuffle=True, num_workers=2, generator=g):
        assert batch["observation", "image"].dtype == torch.uint8
        seen += batch["index"].tolist()
    assert sorted(seen) == list(range(108)) and seen != list(range(108))


def test_episode_aware_sampler_drops_frames_at_episode_ends(dataset_fixtures):
    ds = data.open(dataset_fixtures / "pusht_mini")  # episodes of 24, 35, 20, 29 frames
    s = data.EpisodeAwareSampler(ds, drop_n_first_frames=2, drop_n_last_frames=7)
    frames = [int(ds._tensors["frame_index"][i]) for i in s]
    assert len(s) == 108 - 4 * 9 == len(frames)
    assert min(frames) == 2
    for ep, length in enumerate([24, 35, 20, 29]):
        in_ep = [int(ds._tensors["frame_index"][i]) for i in s if int(ds._tensors["episode_index"][i]) == ep]
        assert in_ep == list(range(2, length - 7))
    sub = data.EpisodeAwareSampler(ds, episode_indices_to_use=[1], shuffle=True, generator=torch.Generator())
    idx = list(sub)
    assert sorted(idx) == list(range(24, 59)) and idx != sorted(idx)
    batch = next(iter(data.loader(ds, batch_size=8, sampler=sub)))
    assert set(batch["episode_index"].tolist()) == {1}


def test_sampler_on_episode_subset_uses_rows_of_that_subset(dataset_fixtures):
    ds = data.open(dataset_fixtures / "pusht_mini", episodes=[3])
    s = data.EpisodeAwareSampler(ds, drop_n_last_frames=4)
    assert list(s) == list(range(29 - 4))


def test_sampler_rejects_bad_arguments(dataset_fixtures):
    ds = data.open(dataset_fixtures / "pusht_mini")
    with pytest.raises(ValueError, match="no frames left"):
        data.EpisodeAwareSampler(ds, drop_n_first_frames=20, drop_n_last_frames=20)
    with pytest.raises(ValueError, match=r"\[9\]"):
        data.EpisodeAwareSampler(ds, episode_indices_to_use=[9])
    with pytest.raises(ValueError, match=">= 0"):
        episode_positions([0], [5], -1, 0)


def test_concat_adds_dataset_index_and_keeps_common_pad_masks(dataset_fixtures):
    a = data.open(dataset_fixtures / "pusht_mini", delta_timestamps={"action": [0.0, 0.1]})
    b = data.open(
        dataset_fixtures / "pusht_mini",
        episodes=[1, 3],
        delta_timestamps={"action": [0.0, 0.1]},
    )
    both = data.concat([a, b])
    assert len(both) == 108 + 35 + 29
    first, last = both[0], both[len(both) - 1]
    assert int(first["dataset_index"]) == 0 and int(last["dataset_index"]) == 1
    assert int(last["index"]) == 107 and torch.equal(last["action"], b[len(b) - 1]["action"])
    with pytest.raises(ValueError, match=r"delta_timestamps\['action'\] is \[0.0, 0.1\]"):
        data.concat(
            [a, data.open(dataset_fixtures / "pusht_mini", delta_timestamps={"observation.state": [0.0]})]
        )
    batch = next(iter(data.loader(both, batch_size=6, sampler=[0, 1, 2, 150, 151, 152])))
    assert batch["dataset_index"].tolist() == [0, 0, 0, 1, 1, 1] and batch["action_is_pad"].shape == (6, 2)


def test_concat_drops_features_not_everywhere_and_rejects_shape_clash(dataset_fixtures, tmp_path):
    a = data.open(dataset_fixtures / "aloha_sim_mini")
    b = data.open(dataset_fixtures / "aloha_sim_mini", episodes=[0])
    assert data.concat([a, b]).disabled_features == set()
    c = data.open(dataset_fixtures / "pusht_mini")
    with pytest.raises(ValueError, match=r"'action' is float32\[14\].*float32\[2\]"):
        data.concat([a, c])


@pytest.mark.parametrize(
    ("name", "delta", "frames"),
    [
        ("aloha_sim_mini", {"observation.images.top": [-0.02, 0.0]}, 130),
        ("images_inline_mini", {"observation.images.cam": [-0.05, 0.0]}, 57),
    ],
)
def test_float_images_from_workers_equal_the_items(dataset_fixtures, name, delta, frames):
    # workers decode float32 straight into shared memory: values must be exactly the items'
    ds = data.open(dataset_fixtures / name, delta_timestamps=delta)
    batches = list(data.loader(ds, batch_size=16, num_workers=2))
    assert sum(b.batch_size[0] for b in batches) == frames
    b = batches[-1]
    for j, i in enumerate(b["index"].tolist()):
        item = ds[i]
        for cam in ds.meta.camera_keys:
            key = tuple(cam.split("."))
            assert b[key].dtype == torch.float32 and torch.equal(b[key][j], item[key])
