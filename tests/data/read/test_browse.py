"""DatasetBrowser: one frame's cameras and one episode's signals, equal to what the reader gives."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lerobot_fn import data
from lerobot_fn.data.read.browse import DatasetBrowser, episode_signals


@pytest.mark.parametrize("name", ["aloha_sim_mini", "images_inline_mini"])
def test_frames_equal_the_reader_items(dataset_fixtures, name):
    root = dataset_fixtures / name  # aloha: 2 video cameras; images_inline: PNG cells in 3 data files
    reference = data.open(root, return_uint8=True)
    with DatasetBrowser(root) as browser:
        assert browser.episodes == reference.episodes
        for e in browser.episodes:
            start, end = reference.meta.episode_range(e)
            assert browser.episode_length(e) == end - start
            for f in (0, (end - start) // 2, end - start - 1):
                images = browser.frame(e, f)
                item = reference[start + f]
                assert list(images) == reference.meta.camera_keys
                for key, image in images.items():
                    assert image.dtype == np.uint8 and image.shape == tuple(
                        reference.meta.features[key].shape
                    )
                    expected = item[tuple(key.split("."))].permute(1, 2, 0).numpy()
                    np.testing.assert_array_equal(image, expected)


def test_signals_equal_the_reader_columns(dataset_fixtures):
    root = dataset_fixtures / "pusht_mini"
    ds = data.open(root)
    start, end = ds.meta.episode_range(2)
    signals = episode_signals(ds.meta, 2)
    np.testing.assert_array_equal(signals["frame_index"], np.arange(end - start))
    for name in ("observation.state", "action", "next.reward", "next.success"):
        expected = torch.stack([ds[i][tuple(name.split("."))] for i in range(start, end)])
        got = signals[name]
        assert got.shape == (end - start, int(np.prod(ds.meta.features[name].shape)))
        np.testing.assert_allclose(got.reshape(expected.shape), expected.double().numpy(), atol=1e-6)


def test_bad_requests_name_what_and_where(dataset_fixtures):
    root = dataset_fixtures / "pusht_mini"
    with DatasetBrowser(root) as browser:
        with pytest.raises(IndexError, match=r"episode 1 .* has frames 0\.\.34, not 35"):
            browser.frame(1, 35)
        with pytest.raises(IndexError, match=r"episode 9 not in .*pusht_mini"):
            browser.frame(9, 0)
        with pytest.raises(KeyError, match="observation.image"):
            browser.signals(0, ["observation.image"])  # a camera is not a signal
    with pytest.raises(data.DatasetError, match="no dataset directory"):
        DatasetBrowser(root / "missing")


def test_stays_usable_after_close(dataset_fixtures):
    browser = DatasetBrowser(dataset_fixtures / "aloha_sim_mini")
    before = browser.frame(1, 3)
    browser.close()
    after = browser.frame(1, 3)  # the reader reopens its video files
    assert all(np.array_equal(before[k], after[k]) for k in before)
    browser.close()
