"""Items match what LeRobot 0.6.1 returned for the same datasets (the compatibility proof).

Every key of every reference item: exact for non-image tensors (dtype, shape, values), within
1/255 for decoded images; the task string; no extra or missing keys.
"""

import json

import pytest
import torch
from safetensors.torch import load_file

from lerobot_fn import data

NAMES = ["aloha_sim_mini", "pusht_mini", "images_inline_mini"]


def _reference(dataset_fixtures, name):
    ref = json.loads((dataset_fixtures / f"{name}.reference.json").read_text())
    tensors = load_file(str(dataset_fixtures / f"{name}.reference.safetensors"))
    return ref, tensors


def _expected(tensors, prefix, plain):
    out = {}
    for k, v in tensors.items():
        if not k.startswith(prefix):
            continue
        rest = k[len(prefix) :]
        if not plain and rest.startswith("plain/"):
            continue
        out[rest] = v
    return out


def _leaf_names(td):
    return {
        ".".join(k) if isinstance(k, tuple) else k for k in td.keys(include_nested=True, leaves_only=True)
    }


def _assert_item_matches(td, expected, camera_keys, where):
    assert _leaf_names(td) - {"task"} == set(expected), where
    for name, want in expected.items():
        got = td.get(tuple(name.split(".")))
        assert got.dtype == want.dtype, f"{where} {name}: dtype {got.dtype} != {want.dtype}"
        assert got.shape == want.shape, f"{where} {name}: shape {tuple(got.shape)} != {tuple(want.shape)}"
        if name in camera_keys:
            diff = (got - want).abs().max().item()
            assert diff <= 1 / 255 + 1e-6, f"{where} {name}: image differs by {diff}"
        else:
            assert torch.equal(got, want), f"{where} {name}: values differ"


@pytest.mark.parametrize("name", NAMES)
def test_items_with_delta_timestamps_match_lerobot(dataset_fixtures, name):
    ref, tensors = _reference(dataset_fixtures, name)
    ds = data.open(dataset_fixtures / name, delta_timestamps=ref["delta_timestamps"], video_backend="pyav")
    assert len(ds) == ref["num_frames"] and ds.num_episodes == ref["num_episodes"]
    for i in ref["indices"]:
        td = ds[i]
        assert td.batch_size == torch.Size([])
        _assert_item_matches(td, _expected(tensors, f"{i}/", False), ds.meta.camera_keys, f"{name}[{i}]")
        assert td["task"] == ref["items"][str(i)]["task"]


@pytest.mark.parametrize("name", NAMES)
def test_plain_items_match_lerobot(dataset_fixtures, name):
    ref, tensors = _reference(dataset_fixtures, name)
    ds = data.open(dataset_fixtures / name)
    for i in ref["plain_indices"]:
        td = ds[i]
        _assert_item_matches(td, _expected(tensors, f"{i}/plain/", True), ds.meta.camera_keys, f"{name}[{i}]")
        assert td["task"] == ref["plain_items"][str(i)]["task"]


@pytest.mark.parametrize("name", ["aloha_sim_mini", "images_inline_mini"])
def test_uint8_mode_is_the_float_image_times_255(dataset_fixtures, name):
    ref, _ = _reference(dataset_fixtures, name)
    f = data.open(dataset_fixtures / name, delta_timestamps=ref["delta_timestamps"])
    u = data.open(dataset_fixtures / name, delta_timestamps=ref["delta_timestamps"], return_uint8=True)
    i = ref["indices"][1]
    a, b = f[i], u[i]
    for cam in f.meta.camera_keys:
        key = tuple(cam.split("."))
        assert b.get(key).dtype == torch.uint8
        assert torch.equal(b.get(key).float() / 255, a.get(key))


def test_episode_subset_keeps_global_indices_and_clamps_to_episode(dataset_fixtures):
    ref, tensors = _reference(dataset_fixtures, "pusht_mini")
    ds = data.open(dataset_fixtures / "pusht_mini", episodes=[2, 1], delta_timestamps=ref["delta_timestamps"])
    assert ds.episodes == [1, 2] and len(ds) == 35 + 20
    assert set(ds._tensors["episode_index"].tolist()) == {1, 2}
    # the first frame of episode 2 (global index 59) is row 35 here and pads like LeRobot's item 59
    td = ds[35]
    assert int(td["index"]) == 59
    _assert_item_matches(td, _expected(tensors, "59/", False), ds.meta.camera_keys, "subset[35]")


def test_multi_camera_item_nests_keys(dataset_fixtures):
    ds = data.open(dataset_fixtures / "aloha_sim_mini")
    td = ds[3]
    assert set(td["observation", "images"].keys()) == {"top", "left_wrist"}
    assert td["observation", "images", "top"].shape == (3, 48, 64)
    assert isinstance(td["task"], str)
