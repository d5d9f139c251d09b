"""`data.sample_dataset()`: the sample dataset docs, specs and notebooks use on a fresh clone."""

import shutil

import pyarrow.parquet as pq
import pytest
import torch

from lerobot_fn import data
from lerobot_fn.data import sample


def _columns(root):
    table = pq.read_table(min((root / "data").rglob("*.parquet")))
    return {k: table.column(k).to_pylist() for k in ("observation.state", "action", "next.reward")}


def test_first_use_generates_it_into_the_cache_the_same_every_time(tmp_path, monkeypatch, sample_dataset_root):
    monkeypatch.setenv("HF_LEROBOT_HOME", str(tmp_path / "home"))
    root = data.sample_dataset()
    assert root == tmp_path / "home" / "lerobot_fn_samples" / "pusht_v1"
    ds = data.open(root)
    assert (len(ds), ds.num_episodes, ds.fps) == (240, 6, 10)
    assert ds.meta.video_keys == ["observation.image"]
    item = ds[0]
    assert item["observation", "image"].shape == (3, 96, 96)
    assert set(item.keys()) >= {"action", "next", "observation", "task"}
    # deterministic: the same values and frames as a build elsewhere (the session fixture's)
    assert _columns(root) == _columns(sample_dataset_root)
    torch.testing.assert_close(ds[37]["observation", "image"], data.open(sample_dataset_root)[37]["observation", "image"])
    # the second call reuses the cached copy
    info = root / "meta" / "info.json"
    before = info.stat().st_mtime_ns
    assert data.sample_dataset() == root and info.stat().st_mtime_ns == before
    assert list(root.parent.iterdir()) == [root]  # no temporary build directory left


def test_a_process_losing_the_build_race_returns_the_winners_complete_copy(tmp_path, monkeypatch, sample_dataset_root):
    target = tmp_path / "cache" / "pusht"

    def build_while_another_process_finishes_first(build, recipe):
        shutil.copytree(sample_dataset_root, build, dirs_exist_ok=True)
        shutil.copytree(sample_dataset_root, target)  # the other process renames its copy in first
        (target / "winner").touch()

    monkeypatch.setattr(sample, "_write", build_while_another_process_finishes_first)
    assert data.sample_dataset(root=target) == target
    assert (target / "winner").exists() and len(data.open(target)) == 240
    assert list(target.parent.iterdir()) == [target]  # the loser's build directory is removed


def test_a_failed_build_leaves_nothing_behind(tmp_path, monkeypatch):
    def disk_full(build, recipe):
        (build / "data").mkdir()
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sample, "_write", disk_full)
    with pytest.raises(OSError, match="No space left"):
        data.sample_dataset(root=tmp_path / "cache" / "pusht")
    assert list((tmp_path / "cache").iterdir()) == []


def test_unknown_sample_name_lists_the_available_ones():
    with pytest.raises(data.DatasetError, match=r"no sample dataset 'aloha'; available: pusht"):
        data.sample_dataset("aloha")


def test_a_non_dataset_directory_in_the_way_is_named_not_overwritten(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(data.DatasetError, match=f"{tmp_path} exists but holds no dataset"):
        data.sample_dataset(root=tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "mine"
