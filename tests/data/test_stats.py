"""Stats equal what LeRobot 0.6.1 wrote for the fixture datasets (per episode and aggregated)."""

import glob
import io
import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from lerobot_fn.data import stats as S


def _load(root):
    table = pa.concat_tables([pq.read_table(p) for p in sorted(glob.glob(str(root / "data/*/*.parquet")))])
    episodes = pq.read_table(root / "meta/episodes/chunk-000/file-000.parquet").to_pylist()
    info = json.loads((root / "meta/info.json").read_text())
    return table, episodes, info


@pytest.mark.parametrize("name", ["images_inline_mini", "aloha_sim_mini", "pusht_mini"])
def test_numeric_episode_stats_equal_lerobot_bit_for_bit(dataset_fixtures, name):
    table, episodes, info = _load(dataset_fixtures / name)
    checked = 0
    for ep in episodes:
        a, b = ep["dataset_from_index"], ep["dataset_to_index"]
        rows = table.slice(a, b - a)
        for feat, spec in info["features"].items():
            if spec["dtype"] in ("image", "video"):
                continue
            values = np.array(rows.column(feat).to_pylist(), dtype=spec["dtype"])
            if feat == "timestamp":  # LeRobot's buffer holds frame_index / fps as float64
                values = np.arange(b - a) / info["fps"]
            got = S.numeric_feature_stats(values)
            assert set(got) == set(S.STAT_KEYS)
            for key, value in got.items():
                ref = np.array(ep[f"stats/{feat}/{key}"])
                np.testing.assert_array_equal(
                    np.asarray(value, dtype=ref.dtype), ref, err_msg=f"{feat}/{key}"
                )
                checked += 1
    assert checked > 100


def test_image_episode_stats_equal_lerobot(dataset_fixtures):
    table, episodes, _ = _load(dataset_fixtures / "images_inline_mini")
    for ep in episodes:
        a, b = ep["dataset_from_index"], ep["dataset_to_index"]
        cells = table.column("observation.images.cam").slice(a, b - a).to_pylist()
        imgs = np.stack(
            [
                S.downsample(
                    np.asarray(Image.open(io.BytesIO(cells[i]["bytes"])).convert("RGB")).transpose(2, 0, 1)
                )
                for i in S.sample_indices(b - a)
            ]
        )
        got = S.image_feature_stats(imgs)
        for key, value in got.items():
            ref = np.array(ep[f"stats/observation.images.cam/{key}"])
            assert value.shape == ref.shape
            np.testing.assert_array_equal(np.asarray(value, dtype=ref.dtype), ref, err_msg=key)


@pytest.mark.parametrize("name", ["images_inline_mini", "aloha_sim_mini", "pusht_mini"])
def test_aggregated_stats_equal_stats_json(dataset_fixtures, name):
    root = dataset_fixtures / name
    _, episodes, _ = _load(root)
    # LeRobot aggregates float32 per-episode stats in memory; the parquet holds them as float64
    agg = S.aggregate_stats([S.unflatten_stats(ep) for ep in episodes])
    ref = S.stats_from_json(json.loads((root / "meta/stats.json").read_text()))
    assert set(agg) == set(ref)
    for feat in ref:
        for key in ref[feat]:
            np.testing.assert_allclose(
                agg[feat][key], ref[feat][key], rtol=1e-6, atol=1e-9, err_msg=f"{feat}/{key}"
            )


def test_sampling_follows_episode_length():
    assert S.sample_indices(1) == [0]
    assert len(S.sample_indices(57)) == 57
    assert len(S.sample_indices(500)) == 105  # int(500 ** 0.75)
    idx = S.sample_indices(1000)
    assert idx[0] == 0 and idx[-1] == 999 and len(idx) == 177
    assert S.downsample(np.zeros((3, 480, 640), np.uint8)).shape == (3, 120, 160)
    assert S.downsample(np.zeros((3, 96, 96), np.uint8)).shape == (3, 96, 96)


def test_single_frame_episode_has_stats_without_histogram():
    got = S.numeric_feature_stats(np.array([[1.0, 2.0]], dtype=np.float32))
    np.testing.assert_array_equal(got["q50"], [1.0, 2.0])
    np.testing.assert_array_equal(got["std"], [0.0, 0.0])
    assert got["count"].tolist() == [1]
