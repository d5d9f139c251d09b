"""DatasetMeta and Feature: LeRobot-written metadata loads exactly and bad layouts fail clearly."""

import json
import shutil

import numpy as np
import pytest

from lerobot_fn.data import DatasetFileError, DatasetMeta, DatasetVersionError, Feature
from lerobot_fn.data.features import dump_features, nested_key, parse_features

NAMES = ["aloha_sim_mini", "pusht_mini", "images_inline_mini"]


@pytest.mark.parametrize("name", NAMES)
def test_features_round_trip_info_json(dataset_fixtures, name):
    info = json.loads((dataset_fixtures / name / "meta/info.json").read_text())
    feats = parse_features(info["features"])
    assert dump_features(feats) == info["features"]
    assert all(isinstance(f, Feature) for f in feats.values())


def test_meta_fields_match_files(dataset_fixtures):
    meta = DatasetMeta.load(dataset_fixtures / "aloha_sim_mini")
    assert meta.fps == 50 and meta.robot_type == "aloha" and meta.codebase_version == "v3.0"
    assert meta.video_keys == ["observation.images.top", "observation.images.left_wrist"]
    assert meta.features["observation.state"].shape == (14,)
    assert meta.features["observation.images.top"].codec == "av1"
    assert meta.tasks == ["Insert the peg into the socket.", "Pick up the cube and transfer it."]
    assert meta.episode_range(1) == (40, 97)
    assert str(meta.video_file(2, "observation.images.top")) == (
        "videos/observation.images.top/chunk-000/file-000.mp4"
    )
    assert meta.video_from_timestamp(1, "observation.images.top") == pytest.approx(0.8)
    stats = json.loads((meta.root / "meta/stats.json").read_text())
    np.testing.assert_array_equal(meta.stats["action"]["mean"], np.asarray(stats["action"]["mean"]))


def test_meta_multi_chunk_data_paths(dataset_fixtures):
    meta = DatasetMeta.load(dataset_fixtures / "images_inline_mini")
    files = {str(meta.data_file(e)) for e in meta.episode_indices}
    assert files == {
        "data/chunk-000/file-000.parquet",
        "data/chunk-000/file-001.parquet",
        "data/chunk-001/file-000.parquet",
    }
    assert meta.data_files_size_in_mb == 0.0001  # float limits as LeRobot writes them


def test_nested_key():
    assert nested_key("observation.images.top") == ("observation", "images", "top")
    assert nested_key("action_is_pad") == ("action_is_pad",)


def _copy(src, tmp_path):
    dst = tmp_path / src.name
    shutil.copytree(src, dst)
    for p in dst.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    dst.chmod(0o755)
    return dst


def test_v21_dataset_says_how_to_convert(dataset_fixtures, tmp_path):
    root = _copy(dataset_fixtures / "pusht_mini", tmp_path)
    info = json.loads((root / "meta/info.json").read_text())
    info["codebase_version"] = "v2.1"
    (root / "meta/info.json").write_text(json.dumps(info))
    (root / "meta/episodes.jsonl").write_text('{"episode_index": 0, "tasks": ["t"], "length": 24}\n')
    with pytest.raises(DatasetVersionError, match=r"v2\.1.*dataset\.convert_v21"):
        DatasetMeta.load(root)


def test_missing_info_and_truncated_episodes(dataset_fixtures, tmp_path):
    root = _copy(dataset_fixtures / "pusht_mini", tmp_path)
    ep = root / "meta/episodes/chunk-000/file-000.parquet"
    ep.write_bytes(ep.read_bytes()[: ep.stat().st_size // 2])
    with pytest.raises(DatasetFileError, match="file-000.parquet"):
        DatasetMeta.load(root)
    (root / "meta/info.json").unlink()
    with pytest.raises(DatasetFileError, match="info.json"):
        DatasetMeta.load(root)
