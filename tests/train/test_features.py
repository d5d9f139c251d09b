"""Dataset features -> policy features and the delta_timestamps a policy asks for (LeRobot semantics)."""

from __future__ import annotations

import json

import pytest

from lerobot_fn import data, train
from lerobot_fn.policies.features import FeatureType, PolicyFeature
from lerobot_fn.policies.registry import family


def test_fixture_dataset_features_map_like_lerobot(dataset_fixtures, policy_fixtures):
    meta = data.DatasetMeta.load(dataset_fixtures / "pusht_mini")
    features = train.policy_features(meta.features)
    assert features["observation.image"] == PolicyFeature(FeatureType.VISUAL, (3, 96, 96))
    assert features["observation.state"].type is FeatureType.STATE
    assert features["observation.environment_state"].type is FeatureType.ENV
    assert features["action"] == PolicyFeature(FeatureType.ACTION, (2,))
    assert not {"timestamp", "index", "episode_index", "frame_index", "task_index"} & set(features)
    assert not {"next.reward", "next.done", "next.success"} & set(features)

    # the Diffusion fixture was trained on these PushT features: they agree with its config.json
    config = json.loads((policy_fixtures / "diffusion_pusht_mini" / "pretrained_model" / "config.json").read_text())
    for name, feature in config["input_features"].items():
        assert features[name] == PolicyFeature(feature["type"], feature["shape"])


def test_split_features_puts_actions_in_outputs(dataset_fixtures):
    meta = data.DatasetMeta.load(dataset_fixtures / "aloha_sim_mini")
    inputs, outputs = train.split_features(train.policy_features(meta.features))
    assert set(outputs) == {"action"}
    assert {"observation.images.top", "observation.images.left_wrist", "observation.state"} == set(inputs)


def test_delta_timestamps_follow_the_policy_config(policy_fixtures):
    fam = family("diffusion")
    raw = json.loads((policy_fixtures / "diffusion_pusht_mini" / "pretrained_model" / "config.json").read_text())
    config = fam.Config.from_dict(raw)  # n_obs_steps 2, horizon 16
    deltas = train.delta_timestamps(config, fps=10)
    assert deltas["observation.state"] == pytest.approx([-0.1, 0.0])
    assert deltas["observation.image"] == pytest.approx([-0.1, 0.0])
    assert deltas["action"] == pytest.approx([i / 10 for i in range(-1, 15)])

    act = family("act")
    act_raw = json.loads((policy_fixtures / "act_aloha_mini" / "pretrained_model" / "config.json").read_text())
    act_deltas = train.delta_timestamps(act.Config.from_dict(act_raw), fps=50)
    assert list(act_deltas) == ["action"] and act_deltas["action"] == pytest.approx([i / 50 for i in range(20)])
