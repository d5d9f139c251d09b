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


@pytest.mark.parametrize("backend", ["pyav", "torchcodec"])
@pytest.mark.parametrize("name", NAMES)
def test_items_with_delta_timestamps_match_lerobot(dataset_fixtures, name, backend):
    ref, tensors = _reference(dataset_fixtures, name)
    ds = data.open(dataset_fixtures / name, delta_timestamps=ref["delta_timestamps"], video_backend=backend)
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


def test_string_and_language_columns_come_back_as_python_values(dataset_fixtures, tmp_path):
    import shutil

    import pyarrow as pa
    import pyarrow.parquet as pq

    root = tmp_path / "pusht_text"
    shutil.copytree(dataset_fixtures / "pusht_mini", root)
    for p in [root, *root.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    info = json.loads((root / "meta/info.json").read_text())
    info["features"]["observation.note"] = {"dtype": "string", "shape": [1], "names": None}
    info["features"]["language_events"] = {"dtype": "language", "shape": [1], "names": None}
    (root / "meta/info.json").write_text(json.dumps(info, indent=4))
    path = root / "data/chunk-000/file-000.parquet"
    table = pq.read_table(path)
    n = table.num_rows
    events_type = pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))
    events = [[{"role": "user", "content": f"step {i}"}] if i % 10 == 0 else [] for i in range(n)]
    table = table.append_column("observation.note", pa.array([f"note {i}" for i in range(n)]))
    table = table.append_column("language_events", pa.array(events, type=events_type))
    pq.write_table(table, path)

    ds = data.open(root, delta_timestamps={"observation.note": [-0.1, 0.0]})
    item = ds[30]
    assert item["language_events"] == [{"role": "user", "content": "step 30"}]
    assert item["observation", "note"] == ["note 29", "note 30"]
    assert data.open(root)[31]["observation", "note"] == "note 31"
    batch = next(iter(data.loader(ds, batch_size=3)))
    assert batch["language_events"][0] == [{"role": "user", "content": "step 0"}]


def test_depth_features_are_refused_clearly(dataset_fixtures, tmp_path):
    import shutil

    root = tmp_path / "pusht_depth"
    shutil.copytree(dataset_fixtures / "pusht_mini", root)
    for p in [root, *root.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    info = json.loads((root / "meta/info.json").read_text())
    info["features"]["observation.image"]["info"]["is_depth_map"] = True
    (root / "meta/info.json").write_text(json.dumps(info))
    with pytest.raises(data.DatasetError, match=r"depth-map features \['observation.image'\]"):
        data.open(root)
