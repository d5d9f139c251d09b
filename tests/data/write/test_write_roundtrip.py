"""Write with data.create / resume, read back with data.open: every frame equal.

Video with the lossless setting must be bit-exact; with LeRobot's AV1 default within codec
loss. Files, schemas and info.json must look like the LeRobot-written fixtures.
"""

import json

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch
from tensordict import TensorDict

from lerobot_fn import data
from lerobot_fn.data import stats as S

FEATURES = {
    "observation.images.top": {
        "dtype": "video",
        "shape": (24, 32, 3),
        "names": ["height", "width", "channels"],
    },
    "observation.images.cam": {
        "dtype": "image",
        "shape": (3, 16, 20),
        "names": ["channels", "height", "width"],
    },
    "observation.state": {"dtype": "float32", "shape": (4,), "names": ["j0", "j1", "j2", "j3"]},
    "observation.force": {"dtype": "float64", "shape": (3,), "names": None},
    "observation.count": {"dtype": "int64", "shape": (1,), "names": None},
    "action": {"dtype": "float32", "shape": (4,), "names": ["j0", "j1", "j2", "j3"]},
    "next.done": {"dtype": "bool", "shape": (1,), "names": None},
}


def smooth_image(rng, h, w, t):
    """A camera-like frame (gradients + a moving square): compresses like real footage."""
    y, x = np.mgrid[0:h, 0:w]
    img = np.stack([(x * 255 // w), (y * 255 // h), np.full_like(x, (t * 17) % 255)], axis=-1).astype(
        np.uint8
    )
    s = (t * 2) % max(1, w - 6)
    img[4:10, s : s + 6] = [250, 30, 30]
    return img


def make_frame(rng, e, i, n, smooth=False):
    top = smooth_image(rng, 24, 32, i) if smooth else rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)
    return {
        "observation.images.top": top,
        "observation.images.cam": rng.integers(0, 256, (3, 16, 20), dtype=np.uint8),
        "observation.state": rng.normal(size=4).astype(np.float32),
        "observation.force": rng.normal(size=3),
        "observation.count": np.int64(i * 3),
        "action": rng.normal(size=4).astype(np.float32),
        "next.done": i == n - 1,
        "task": f"task {e % 2}",
    }


def record(writer, lengths, rng, frames, smooth=False):
    for n in lengths:
        e = writer.total_episodes
        for i in range(n):
            f = make_frame(rng, e, i, n, smooth)
            frames.append(f)
            writer.add_frame(dict(f))
        assert writer.save_episode() == e


def check_items(ds, frames, exact_video=True):
    assert len(ds) == len(frames)
    for i, f in enumerate(frames):
        item = ds[i]
        top = (item["observation", "images", "top"] * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
        if exact_video:
            np.testing.assert_array_equal(top, f["observation.images.top"], err_msg=f"frame {i}")
        else:
            assert np.abs(top.astype(int) - f["observation.images.top"]).mean() < 6, f"frame {i}"
        cam = (item["observation", "images", "cam"] * 255).round().to(torch.uint8).numpy()
        np.testing.assert_array_equal(cam, f["observation.images.cam"])
        np.testing.assert_array_equal(item["observation", "state"].numpy(), f["observation.state"])
        np.testing.assert_allclose(
            item["observation", "force"].numpy(), f["observation.force"].astype(np.float32)
        )
        assert int(item["observation", "count"]) == int(f["observation.count"])
        assert bool(item["next", "done"]) == f["next.done"]
        assert item["task"] == f["task"]
        assert int(item["index"]) == i


def test_lossless_round_trip_with_resume(tmp_path):
    rng = np.random.default_rng(0)
    frames = []
    root = tmp_path / "ds"
    with data.create(
        root, fps=10, features=FEATURES, robot_type="so100", encoding=data.VideoEncoding.lossless()
    ) as w:
        record(w, [9, 5], rng, frames)
    with data.resume(root) as w:
        assert w.total_episodes == 2 and w.total_frames == 14
        record(w, [6], rng, frames)
    ds = data.open(root)
    check_items(ds, frames)
    info = json.loads((root / "meta/info.json").read_text())
    assert info["total_episodes"] == 3 and info["total_frames"] == 20 and info["total_tasks"] == 2
    assert info["splits"] == {"train": "0:3"} and info["robot_type"] == "so100"
    # episodes table: frame ranges and video offsets chain up inside the shared files
    eps = pq.read_table(root / "meta/episodes/chunk-000/file-000.parquet").to_pylist()
    assert [(e["dataset_from_index"], e["dataset_to_index"]) for e in eps] == [(0, 9), (9, 14), (14, 20)]
    key = "videos/observation.images.top"
    spans = [v for e in eps for v in (e[f"{key}/from_timestamp"], e[f"{key}/to_timestamp"])]
    assert spans == pytest.approx([0.0, 0.9, 0.9, 1.4, 1.4, 2.0])
    assert eps[1]["tasks"] == ["task 1"]


def test_av1_default_matches_lerobot_layout(tmp_path, dataset_fixtures):
    """Same features as the aloha fixture -> same info.json keys, parquet schemas and columns."""
    fixture = dataset_fixtures / "aloha_sim_mini"
    ref_info = json.loads((fixture / "meta/info.json").read_text())
    user = {
        k: v
        for k, v in ref_info["features"].items()
        if k not in ("timestamp", "frame_index", "episode_index", "index", "task_index")
    }
    user = {k: {kk: vv for kk, vv in v.items() if kk != "info"} for k, v in user.items()}
    root = tmp_path / "aloha"
    rng = np.random.default_rng(1)
    with data.create(root, fps=50, features=user, robot_type="aloha") as w:
        for n in (6, 4):
            for i in range(n):
                w.add_frame(
                    {
                        "observation.images.top": smooth_image(rng, 48, 64, i),
                        "observation.images.left_wrist": smooth_image(rng, 48, 64, i + 3),
                        "observation.state": rng.normal(size=14).astype(np.float32),
                        "action": rng.normal(size=14).astype(np.float32),
                        "task": "Insert the peg into the socket.",
                    }
                )
            w.save_episode()
    info = json.loads((root / "meta/info.json").read_text())
    assert list(info) == list(ref_info)
    assert info["features"] == ref_info["features"]  # video info included: av1, yuv420p, g 2, crf 30
    for rel in (
        "data/chunk-000/file-000.parquet",
        "meta/episodes/chunk-000/file-000.parquet",
        "meta/tasks.parquet",
    ):
        ours, ref = pq.read_schema(root / rel), pq.read_schema(fixture / rel)
        assert ours.names == ref.names, rel
        assert [str(t) for t in ours.types] == [str(t) for t in ref.types], rel
    stats = json.loads((root / "meta/stats.json").read_text())
    ref_stats = json.loads((fixture / "meta/stats.json").read_text())
    assert set(stats) == set(ref_stats)
    assert all(set(stats[k]) == set(ref_stats[k]) for k in stats)
    assert np.asarray(stats["observation.images.top"]["mean"]).shape == (3, 1, 1)
    import av

    with av.open(str(root / "videos/observation.images.top/chunk-000/file-000.mp4")) as c:
        s = c.streams.video[0]
        assert s.codec_context.name in ("libdav1d", "av1", "libaom-av1") and s.pix_fmt == "yuv420p"
        assert s.frames in (0, 10)


def test_av1_round_trip_within_codec_loss(tmp_path):
    rng = np.random.default_rng(2)
    frames = []
    with data.create(tmp_path / "ds", fps=15, features=FEATURES) as w:
        record(w, [7, 4], rng, frames, smooth=True)
    check_items(data.open(tmp_path / "ds"), frames, exact_video=False)


def test_rollover_by_size_and_chunks(tmp_path):
    """Tiny limits: every episode opens a new data/video/episodes file, 2 files per chunk."""
    rng = np.random.default_rng(3)
    frames = []
    root = tmp_path / "ds"
    with data.create(
        root,
        fps=10,
        features=FEATURES,
        encoding=data.VideoEncoding.lossless(),
        chunks_size=2,
        data_files_size_in_mb=0.001,
        video_files_size_in_mb=0.001,
    ) as w:
        record(w, [3, 4, 5], rng, frames)
    with data.resume(root) as w:
        record(w, [2], rng, frames)
    names = sorted(str(p.relative_to(root)) for p in root.rglob("*.parquet") if "data" in p.parts)
    assert names == [
        "data/chunk-000/file-000.parquet",
        "data/chunk-000/file-001.parquet",
        "data/chunk-001/file-000.parquet",
        "data/chunk-001/file-001.parquet",
    ]
    videos = sorted(str(p.relative_to(root)) for p in (root / "videos").rglob("*.mp4"))
    assert len(videos) == 4 and videos[-1].endswith("chunk-001/file-001.mp4")
    eps = sorted(p.relative_to(root) for p in (root / "meta/episodes").rglob("*.parquet"))
    assert len(eps) >= 2
    check_items(data.open(root), frames)


def test_stats_files_match_written_frames(tmp_path):
    rng = np.random.default_rng(4)
    frames = []
    root = tmp_path / "ds"
    with data.create(root, fps=10, features=FEATURES, encoding=data.VideoEncoding.lossless()) as w:
        record(w, [8, 5], rng, frames)
    eps = pq.read_table(root / "meta/episodes/chunk-000/file-000.parquet").to_pylist()
    state = np.stack([f["observation.state"] for f in frames[8:]])
    np.testing.assert_array_equal(
        eps[1]["stats/observation.state/mean"], S.numeric_feature_stats(state)["mean"]
    )
    tops = np.stack([frames[8 + i]["observation.images.top"].transpose(2, 0, 1) for i in S.sample_indices(5)])
    np.testing.assert_array_equal(
        np.asarray(eps[1]["stats/observation.images.top/max"]), S.image_feature_stats(tops)["max"]
    )
    stats = S.stats_from_json(json.loads((root / "meta/stats.json").read_text()))
    agg = S.aggregate_stats([S.unflatten_stats(e) for e in eps])
    for k in ("min", "max", "mean", "std", "q50"):
        np.testing.assert_allclose(stats["observation.state"][k], agg["observation.state"][k], rtol=1e-6)
    assert stats["observation.state"]["count"].tolist() == [13]
    assert stats["observation.images.cam"]["count"].tolist() == [13]


def test_tensordict_frames_and_discard(tmp_path):
    feats = {"observation.images.top": FEATURES["observation.images.top"], "action": FEATURES["action"]}
    root = tmp_path / "ds"
    rng = np.random.default_rng(5)
    kept = []
    with data.create(root, fps=10, features=feats, encoding=data.VideoEncoding.lossless()) as w:
        for i in range(3):  # discarded: never reaches the disk
            w.add_frame(
                {
                    "observation.images.top": rng.integers(0, 256, (24, 32, 3), dtype=np.uint8),
                    "action": np.zeros(4, np.float32),
                    "task": "junk",
                }
            )
        w.discard_episode()
        assert w.episode_frames == 0
        for i in range(4):
            img = torch.from_numpy(rng.integers(0, 256, (3, 24, 32), dtype=np.uint8))  # CHW tensor
            act = torch.randn(4)
            kept.append((img.permute(1, 2, 0).numpy().copy(), act.numpy().copy()))
            td = TensorDict({"observation": {"images": {"top": img}}, "action": act}, batch_size=[])
            td.set_non_tensor("task", "pick")
            w.add_frame(td)
        w.save_episode()
    ds = data.open(root)
    assert len(ds) == 4 and ds.meta.tasks == ["pick"]
    for i, (img, act) in enumerate(kept):
        item = ds[i]
        np.testing.assert_array_equal(
            (item["observation", "images", "top"] * 255).round().to(torch.uint8).permute(1, 2, 0).numpy(), img
        )
        np.testing.assert_array_equal(item["action"].numpy(), act)
    assert not (root / ".staging").exists()


def test_use_videos_false_stores_png_images(tmp_path):
    feats = {"observation.images.top": FEATURES["observation.images.top"], "action": FEATURES["action"]}
    rng = np.random.default_rng(6)
    imgs = [rng.integers(0, 256, (24, 32, 3), dtype=np.uint8) for _ in range(5)]
    with data.create(tmp_path / "ds", fps=10, features=feats, use_videos=False) as w:
        for img in imgs:
            w.add_frame({"observation.images.top": img, "action": np.zeros(4, np.float32), "task": "t"})
        w.save_episode()
    info = json.loads((tmp_path / "ds" / "meta/info.json").read_text())
    assert info["features"]["observation.images.top"]["dtype"] == "image" and info["video_path"] is None
    assert not (tmp_path / "ds" / "videos").exists()
    ds = data.open(tmp_path / "ds")
    for i, img in enumerate(imgs):
        got = (ds[i]["observation", "images", "top"] * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
        np.testing.assert_array_equal(got, img)
