"""Dataset summaries (lerobot_fn.data.read.summary): the tables explore_dataset.py shows, checked
against the LeRobot-written fixtures' own files."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq
import pytest

from lerobot_fn import data
from lerobot_fn.data.features import Feature
from lerobot_fn.data.read import summary


def _episode_column(root, episode, name):
    table = pq.read_table(root / "data/chunk-000/file-000.parquet", columns=["episode_index", name])
    values = table.column(name).to_pylist()
    return np.array([v for e, v in zip(table.column("episode_index").to_pylist(), values) if e == episode])


def test_schema_table_lists_every_feature_in_order(dataset_fixtures):
    meta = data.open(dataset_fixtures / "aloha_sim_mini").meta
    rows = summary.schema_table(meta)
    assert [r["feature"] for r in rows] == list(meta.features)
    top = rows[0]
    assert top == {
        "feature": "observation.images.top",
        "dtype": "video",
        "shape": "(48, 64, 3)",
        "names": "height, width, channels",
        "storage": "video av1 yuv420p",
    }
    state = next(r for r in rows if r["feature"] == "observation.state")
    assert state["shape"] == "(14,)" and state["names"].startswith("left_waist, left_shoulder")
    inline = summary.schema_table(data.open(dataset_fixtures / "images_inline_mini").meta)[0]
    assert inline["storage"] == "image (PNG in parquet)"


def test_signal_features_leave_out_cameras_and_bookkeeping(dataset_fixtures):
    meta = data.open(dataset_fixtures / "pusht_mini").meta
    assert summary.signal_features(meta) == [
        "observation.state", "observation.environment_state", "action",
        "next.reward", "next.done", "next.success",
    ]  # fmt: skip


def test_episode_table_matches_the_frames(dataset_fixtures):
    root = dataset_fixtures / "pusht_mini"
    meta = data.open(root).meta
    rows = summary.episode_table(meta)
    assert [r["episode_index"] for r in rows] == [0, 1, 2, 3]
    assert [r["length"] for r in rows] == [24, 35, 20, 29]
    assert [r["duration_s"] for r in rows] == [2.4, 3.5, 2.0, 2.9]
    assert {r["tasks"] for r in rows} == set(meta.tasks)
    for row in rows:
        e = row["episode_index"]
        action = np.stack(_episode_column(root, e, "action"))
        np.testing.assert_allclose(row["action mean"], action.mean(axis=0), atol=1e-4)
        success = _episode_column(root, e, "next.success").astype(float).reshape(-1)
        assert row["next.success max"] == success.max()
        assert row["next.success mean"] == pytest.approx(success.mean(), abs=1e-4)


def test_episode_table_unknown_feature_names_it(dataset_fixtures):
    meta = data.open(dataset_fixtures / "pusht_mini").meta
    with pytest.raises(KeyError, match="observation.velocity"):
        summary.episode_table(meta, ["observation.velocity"])


def test_feature_stats_table_per_dimension(dataset_fixtures):
    meta = data.open(dataset_fixtures / "aloha_sim_mini").meta
    rows = summary.feature_stats_table(meta)
    state = [r for r in rows if r["feature"] == "observation.state"]
    assert [r["dim"] for r in state] == meta.features["observation.state"].names
    np.testing.assert_allclose([r["mean"] for r in state], meta.stats["observation.state"]["mean"], atol=1e-4)
    np.testing.assert_allclose([r["q99"] for r in state], meta.stats["observation.state"]["q99"], atol=1e-4)
    top = [r for r in rows if r["feature"] == "observation.images.top"]
    assert [r["dim"] for r in top] == ["r", "g", "b"]
    np.testing.assert_allclose(
        [r["std"] for r in top], meta.stats["observation.images.top"]["std"].reshape(-1), atol=1e-4
    )


def test_dim_names_forms():
    assert summary.dim_names(Feature("float32", (2,), ["x", "y"])) == ["x", "y"]
    assert summary.dim_names(Feature("float32", (2,), {"motors": ["a", "b"]})) == ["a", "b"]  # LeRobot < 2.0
    assert summary.dim_names(Feature("float32", (3,), None)) == ["0", "1", "2"]
    assert summary.dim_names(Feature("float32", (3,), ["too", "few"])) == ["0", "1", "2"]


def test_signal_panels_group_the_scalars(dataset_fixtures):
    from lerobot_fn.data.read.browse import episode_signals

    meta = data.open(dataset_fixtures / "pusht_mini").meta
    signals = episode_signals(meta, 0)
    panels, labels = summary.signal_panels(meta, signals)
    assert list(panels) == ["observation.state", "observation.environment_state", "action", "scalars"]
    assert labels["action"] == ["motor_0", "motor_1"]
    assert labels["scalars"] == ["next.reward", "next.done", "next.success"]
    x, y = panels["scalars"]
    assert y.shape == (24, 3)
    np.testing.assert_array_equal(x, np.arange(24))
    np.testing.assert_array_equal(y[:, 2], signals["next.success"].reshape(-1))
