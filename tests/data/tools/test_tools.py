"""Dataset tools on the LeRobot-written fixtures: outputs hold exactly the frames the operation
implies (videos are packet copies, so decoded frames are identical), re-indexed, with stats
recomputed; inputs are never modified."""

import hashlib
import json
import shutil

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch

from lerobot_fn import data
from lerobot_fn.data import stats as S
from lerobot_fn.data import tools
from lerobot_fn.data.tools.build import extract_segment

SKIP = {"index", "episode_index", "task_index"}


def digest(root):
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def assert_same_frame(a, b, where):
    keys = [
        k
        for k in a.keys(include_nested=True, leaves_only=True)
        if (k if isinstance(k, str) else k[0]) not in SKIP
    ]
    for k in keys:
        if k == "task":
            assert a["task"] == b["task"], where
            continue
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=0, msg=lambda m, k=k: f"{where} {k}: {m}")


def check_mapping(src, out, mapping, video_every=7):
    """out[new] equals src[old] for every (new, old); indices are 0..n-1."""
    assert len(out) == len(mapping)
    for new, old in enumerate(mapping):
        if new % video_every and new != len(mapping) - 1:  # numeric columns for every frame, videos sampled
            a, b = src.get_raw(old), out.get_raw(new)
            for k, v in a.items():
                if k in SKIP or k == "task" or not torch.is_tensor(v) or v.dtype == torch.uint8:
                    continue
                assert torch.equal(v, b[k]), (new, old, k)
        else:
            assert_same_frame(src[old], out[new], f"frame {new} (source {old})")
        assert int(out.get_raw(new)["index"]) == new


def check_stats(root):
    """stats.json is the aggregate of the per-episode stats; index stats match the new indices."""
    rows = [r for p in sorted(root.glob("meta/episodes/*/*.parquet")) for r in pq.read_table(p).to_pylist()]
    agg = S.aggregate_stats([S.unflatten_stats(r) for r in rows])
    stats = S.stats_from_json(json.loads((root / "meta/stats.json").read_text()))
    assert set(stats) == set(agg)
    for f in stats:
        for k in stats[f]:
            np.testing.assert_allclose(stats[f][k], agg[f][k], rtol=1e-9, err_msg=f"{f}/{k}")
    n = sum(r["length"] for r in rows)
    assert stats["index"]["min"].tolist() == [0.0] and stats["index"]["max"].tolist() == [n - 1.0]
    assert stats["episode_index"]["max"].tolist() == [len(rows) - 1.0]


def test_delete_episodes(tmp_path, dataset_fixtures):
    root = dataset_fixtures / "aloha_sim_mini"
    before = digest(root)
    out = tools.delete_episodes(root, [1], tmp_path / "out")
    src, dst = data.open(root), data.open(out)
    check_mapping(src, dst, list(range(0, 40)) + list(range(97, 130)))
    assert dst.meta.total_episodes == 2 and dst.meta.tasks == ["Insert the peg into the socket."]
    assert [dst.meta.episode_range(e) for e in (0, 1)] == [(0, 40), (40, 73)]
    check_stats(out)
    assert digest(root) == before
    with pytest.raises(ValueError, match=r"episodes \[7\] not in"):
        tools.delete_episodes(root, [7], tmp_path / "x")
    with pytest.raises(ValueError, match="would leave"):
        tools.delete_episodes(root, [0, 1, 2], tmp_path / "y")
    with pytest.raises(FileExistsError, match="not empty"):
        tools.delete_episodes(root, [0], out)
    assert not (tmp_path / "x").exists() and not list(tmp_path.glob(".*tmp-*"))


def test_split_and_merge_round_trip(tmp_path, dataset_fixtures):
    root = dataset_fixtures / "pusht_mini"
    parts = tools.split(root, tmp_path / "split", {"train": 0.5, "val": 0.5})
    src = data.open(root)
    lengths = [src.meta.episode_range(e)[1] - src.meta.episode_range(e)[0] for e in range(4)]
    train, val = data.open(parts["train"]), data.open(parts["val"])
    assert (train.num_episodes, val.num_episodes) == (2, 2)
    check_mapping(src, train, list(range(lengths[0] + lengths[1])))
    check_mapping(src, val, list(range(lengths[0] + lengths[1], sum(lengths))))
    check_stats(parts["val"])
    merged = tools.merge([parts["train"], parts["val"]], tmp_path / "merged")
    check_mapping(src, data.open(merged), list(range(sum(lengths))))
    by_list = tools.split(root, tmp_path / "lists", {"a": [3, 0]})
    check_mapping(
        src, data.open(by_list["a"]), list(range(lengths[0])) + list(range(sum(lengths[:3]), sum(lengths)))
    )
    # LeRobot's rule: int(n * fraction) each, the last split takes the rest, empty splits are skipped
    assert tools.fractions_to_episodes(10, {"train": 0.7, "val": 0.2, "test": 0.1}) == {
        "train": list(range(7)),
        "val": [7, 8],
        "test": [9],
    }
    assert tools.fractions_to_episodes(10, {"train": 0.8, "val": 0.15, "test": 0.05}) == {
        "train": list(range(8)),
        "val": [8],
    }


def test_merge_refuses_incompatible(tmp_path, dataset_fixtures):
    with pytest.raises(ValueError, match="fps 10"):
        tools.merge([dataset_fixtures / "aloha_sim_mini", dataset_fixtures / "pusht_mini"], tmp_path / "m")
    with pytest.raises(ValueError, match="at least two"):
        tools.merge([dataset_fixtures / "pusht_mini"], tmp_path / "m")


def test_add_and_remove_feature(tmp_path, dataset_fixtures):
    root = dataset_fixtures / "images_inline_mini"
    src = data.open(root)
    n = len(src)
    values = np.arange(n * 2, dtype=np.float32).reshape(n, 2)
    out = tools.add_feature(
        root,
        tmp_path / "add",
        "observation.extra",
        {"dtype": "float32", "shape": (2,), "names": ["x", "y"]},
        values,
    )
    dst = data.open(out)
    assert list(dst.meta.features)[-6:] == [
        "observation.extra",
        "timestamp",
        "frame_index",
        "episode_index",
        "index",
        "task_index",
    ]
    check_mapping(src, dst, list(range(n)), video_every=5)
    for i in (0, 17, n - 1):
        np.testing.assert_array_equal(dst[i]["observation", "extra"].numpy(), values[i])
    stats = json.loads((out / "meta/stats.json").read_text())
    assert stats["observation.extra"]["max"] == [float(2 * n - 2), float(2 * n - 1)]
    check_stats(out)

    removed = tools.remove_feature(out, tmp_path / "rm", ["observation.extra", "observation.images.cam"])
    dst = data.open(removed)
    assert "observation.extra" not in dst.meta.features and "observation.images.cam" not in dst.meta.features
    assert "observation.images.cam" not in json.loads((removed / "meta/stats.json").read_text())
    assert torch.equal(dst[3]["observation", "state"], src[3]["observation", "state"])
    with pytest.raises(ValueError, match="required by the format"):
        tools.remove_feature(root, tmp_path / "bad", ["timestamp"])
    with pytest.raises(ValueError, match="has 3 values"):
        tools.add_feature(root, tmp_path / "bad2", "x", {"dtype": "float32", "shape": (1,)}, np.zeros(3))


def test_images_to_video_lossless(tmp_path, dataset_fixtures):
    root = dataset_fixtures / "images_inline_mini"
    out = tools.images_to_video(root, tmp_path / "v", encoding=data.VideoEncoding.lossless())
    src, dst = data.open(root), data.open(out)
    assert dst.meta.video_keys == ["observation.images.cam"] and dst.meta.image_keys == []
    check_mapping(src, dst, list(range(len(src))), video_every=3)
    # the same pixels: per-episode image stats carried over unchanged
    a, b = (
        [r for p in sorted(d.glob("meta/episodes/*/*.parquet")) for r in pq.read_table(p).to_pylist()]
        for d in (root, out)
    )
    assert [r["stats/observation.images.cam/mean"] for r in a] == [
        r["stats/observation.images.cam/mean"] for r in b
    ]


def test_recompute_stats_matches_lerobot(tmp_path, dataset_fixtures):
    root = tmp_path / "copy"
    shutil.copytree(dataset_fixtures / "images_inline_mini", root)
    for p in root.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    ref_rows = pq.read_table(root / "meta/episodes/chunk-000/file-000.parquet").to_pylist()
    ref_stats = json.loads((root / "meta/stats.json").read_text())
    stats_path = root / "meta/stats.json"
    stats_path.write_text("{}")  # lose the stats
    tools.recompute_stats(root)
    rows = pq.read_table(root / "meta/episodes/chunk-000/file-000.parquet").to_pylist()
    assert rows == ref_rows  # every per-episode stat, bit for bit
    new = json.loads(stats_path.read_text())
    for f in ref_stats:
        for k in ref_stats[f]:
            np.testing.assert_allclose(new[f][k], ref_stats[f][k], rtol=1e-6, err_msg=f"{f}/{k}")


def write_v21(src_root, dst):
    """A v2.1 copy of a v3.0 dataset: one parquet/mp4 per episode, jsonl metadata."""
    info = json.loads((src_root / "meta/info.json").read_text())
    rows = pq.read_table(src_root / "meta/episodes/chunk-000/file-000.parquet").to_pylist()
    data_table = pq.read_table(src_root / "data/chunk-000/file-000.parquet")
    tasks = pq.read_table(src_root / "meta/tasks.parquet").to_pylist()
    (dst / "meta").mkdir(parents=True)
    (dst / "data/chunk-000").mkdir(parents=True)
    v_keys = [k for k, f in info["features"].items() if f["dtype"] == "video"]
    with open(dst / "meta/episodes.jsonl", "w") as f:
        for r in rows:
            f.write(
                json.dumps({"episode_index": r["episode_index"], "tasks": r["tasks"], "length": r["length"]})
                + "\n"
            )
    with open(dst / "meta/tasks.jsonl", "w") as f:
        for t in sorted(tasks, key=lambda t: t["task_index"]):
            f.write(json.dumps({"task_index": t["task_index"], "task": t["task"]}) + "\n")
    with open(dst / "meta/episodes_stats.jsonl", "w") as f:
        for r in rows:
            st = {
                k: {
                    s: v.tolist()
                    for s, v in d.items()
                    if s in ("min", "max", "mean", "std", "count")
                }
                for k, d in S.unflatten_stats(r).items()
            }
            f.write(json.dumps({"episode_index": r["episode_index"], "stats": st}) + "\n")
    for r in rows:
        e = r["episode_index"]
        part = data_table.slice(r["dataset_from_index"], r["length"])
        pq.write_table(part, dst / f"data/chunk-000/episode_{e:06d}.parquet")
        for k in v_keys:
            out = dst / f"videos/chunk-000/{k}/episode_{e:06d}.mp4"
            out.parent.mkdir(parents=True, exist_ok=True)
            src_video = src_root / f"videos/{k}/chunk-000/file-000.mp4"
            extract_segment(src_video, r[f"videos/{k}/from_timestamp"], r[f"videos/{k}/to_timestamp"], out)
    v21 = {k: v for k, v in info.items() if k not in ("data_files_size_in_mb", "video_files_size_in_mb")}
    v21.update(
        codebase_version="v2.1",
        total_chunks=1,
        total_videos=len(v_keys) * len(rows),
        data_path="data/chunk-{episode_chunk:03d}/episode_{episode_index:06d}.parquet",
        video_path="videos/chunk-{episode_chunk:03d}/{video_key}/episode_{episode_index:06d}.mp4",
    )
    (dst / "meta/info.json").write_text(json.dumps(v21, indent=4))


def test_convert_v21(tmp_path, dataset_fixtures):
    fixture = dataset_fixtures / "pusht_mini"
    old = tmp_path / "v21"
    write_v21(fixture, old)
    with pytest.raises(data.DatasetVersionError, match="convert_v21"):
        data.open(old)
    before = digest(old)
    out = tools.convert_v21(old, tmp_path / "v30")
    assert digest(old) == before
    src, dst = data.open(fixture), data.open(out)
    check_mapping(src, dst, list(range(len(src))))
    info = json.loads((out / "meta/info.json").read_text())
    assert info["codebase_version"] == "v3.0" and "total_chunks" not in info
    assert info["total_episodes"] == 4 and info["total_frames"] == len(src)
    check_stats(out)
    with pytest.raises(data.DatasetError, match="codebase_version is 'v3.0'"):
        tools.convert_v21(fixture, tmp_path / "again")


def test_info(dataset_fixtures):
    info = tools.dataset_info(dataset_fixtures / "aloha_sim_mini")
    assert info["episodes"] == 3 and info["frames"] == 130 and info["fps"] == 50
    assert info["episode_length"] == {"min": 33, "max": 57, "mean": 43.33}
    assert info["features"]["observation.images.top"]["codec"] == "av1"
