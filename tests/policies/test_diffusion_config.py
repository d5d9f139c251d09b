"""Diffusion config: LeRobot's config.json read and written unchanged, LeRobot's defaults and checks."""

from __future__ import annotations

import json
from pathlib import Path

import attrs
import pytest
import torch

from lerobot_fn import policies
from lerobot_fn.policies import diffusion as dp
from lerobot_fn.policies.features import FeatureType, NormalizationMode, PolicyFeature

DATA = Path(__file__).parent / "data"
LEROBOT_DEFAULTS = json.loads((DATA / "diffusion_reference.json").read_text())["default_config"]


@pytest.fixture(scope="module")
def fixture_json(policy_fixtures):
    return json.loads(
        (policy_fixtures / "diffusion_pusht_mini" / "pretrained_model" / "config.json").read_text()
    )


def test_fixture_config_round_trips_exactly(fixture_json):
    config = dp.Config.from_dict(fixture_json)
    out = config.to_dict()
    assert out == fixture_json
    assert list(out) == list(fixture_json)  # same key order, "type" first
    assert json.loads(json.dumps(out)) == fixture_json
    assert dp.Config.from_dict(out) == config


def test_fixture_config_values_are_typed(fixture_json):
    config = dp.Config.from_dict(fixture_json)
    assert config.type == dp.CONFIG_TYPE == "diffusion"
    assert config.crop_shape == (84, 84) and config.down_dims == (32, 64, 128)
    assert config.image_features == {"observation.image": PolicyFeature(FeatureType.VISUAL, (3, 96, 96))}
    assert config.robot_state_feature.shape == (2,) and config.action_feature.shape == (2,)
    assert config.normalization_mapping[FeatureType.VISUAL] is NormalizationMode.MEAN_STD
    assert config.normalization_mapping["ACTION"] is NormalizationMode.MIN_MAX
    assert config.inference_steps == 10
    assert config.observation_delta_indices == [-1, 0]
    assert config.action_delta_indices == list(range(-1, 15))


def test_defaults_are_lerobots():
    out = dp.Config().to_dict()
    assert list(out) == list(LEROBOT_DEFAULTS)
    lerobot = dict(LEROBOT_DEFAULTS, device=None)  # LeRobot fills `device` from the machine at runtime
    assert out == lerobot
    assert dp.Config().inference_steps == 100


def test_unknown_key_is_named(fixture_json):
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['n_obs_step'\]"):
        dp.Config.from_dict({**fixture_json, "n_obs_step": 3})


def test_wrong_type_and_bad_values_are_named(fixture_json):
    with pytest.raises(ValueError, match="\"type\" is 'act'"):
        dp.Config.from_dict({**fixture_json, "type": "act"})
    with pytest.raises(ValueError, match="key 'horizon' has invalid value 'sixteen'"):
        dp.Config.from_dict({**fixture_json, "horizon": "sixteen"})
    with pytest.raises(ValueError, match="key 'clip_sample' has invalid value 1"):
        dp.Config.from_dict({**fixture_json, "clip_sample": 1})
    with pytest.raises(ValueError, match=r"key 'down_dims.1' has invalid value 64.0"):
        dp.Config.from_dict({**fixture_json, "down_dims": [32, 64.0, 128]})
    with pytest.raises(ValueError, match=r"key 'input_features.observation.state.shape.0' has invalid value 2.5"):
        dp.Config.from_dict({**fixture_json, "input_features": {"observation.state": {"type": "STATE", "shape": [2.5]}}})
    with pytest.raises(ValueError, match=r"key 'normalization_mapping.STATE' has invalid value 'MINMAX'"):
        dp.Config.from_dict({**fixture_json, "normalization_mapping": {"STATE": "MINMAX"}})
    with pytest.raises(ValueError, match="prediction_type"):
        dp.Config.from_dict({**fixture_json, "prediction_type": "v_prediction"})
    with pytest.raises(ValueError, match="noise_scheduler_type"):
        dp.Config.from_dict({**fixture_json, "noise_scheduler_type": "PNDM"})
    with pytest.raises(ValueError, match=r"`horizon` \(12\) must be a multiple .* 8"):
        dp.Config.from_dict({**fixture_json, "horizon": 12})
    with pytest.raises(ValueError, match="vision_backbone"):
        dp.Config.from_dict({**fixture_json, "vision_backbone": "vit_b_16"})
    with pytest.raises(ValueError, match="crop_ratio"):
        dp.Config.from_dict({**fixture_json, "crop_ratio": 1.5})


def test_resize_derives_crop_from_ratio_like_lerobot():
    assert dp.Config(resize_shape=(44, 52), crop_ratio=0.9).crop_shape == (39, 46)
    assert dp.Config(resize_shape=(44, 52), crop_ratio=1.0, crop_shape=(10, 10)).crop_shape is None
    assert dp.Config(crop_shape=(84, 84)).crop_shape == (84, 84)  # legacy crop-only configs keep theirs


def test_config_is_frozen(fixture_json):
    config = dp.Config.from_dict(fixture_json)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        config.horizon = 32
    assert attrs.evolve(config, num_inference_steps=5).num_inference_steps == 5


def _features(images: dict[str, tuple[int, ...]], env: bool = False) -> dict:
    feats = {k: PolicyFeature(FeatureType.VISUAL, s) for k, s in images.items()}
    feats["observation.state"] = PolicyFeature(FeatureType.STATE, (2,))
    if env:
        feats["observation.environment_state"] = PolicyFeature(FeatureType.ENV, (4,))
    return feats


def test_feature_checks_name_the_problem():
    action = {"action": PolicyFeature(FeatureType.ACTION, (2,))}
    base = {
        "pretrained_backbone_weights": None,
        "output_features": action,
        "horizon": 16,
        "down_dims": (8, 16),
    }
    with pytest.raises(ValueError, match="at least one VISUAL feature or an ENV feature"):
        dp.build_model(dp.Config(input_features=_features({}), **base))
    with pytest.raises(ValueError, match="'observation.images.b' has shape \\[3, 32, 32\\]"):
        dp.build_model(
            dp.Config(
                input_features=_features(
                    {"observation.images.a": (3, 48, 48), "observation.images.b": (3, 32, 32)}
                ),
                **base,
            )
        )
    with pytest.raises(ValueError, match="crop_shape.*does not fit image 'observation.image'"):
        dp.build_model(
            dp.Config(
                input_features=_features({"observation.image": (3, 40, 40)}), crop_shape=(84, 84), **base
            )
        )
    with pytest.raises(ValueError, match="must contain 'action'"):
        dp.build_model(
            dp.Config(
                input_features=_features({}, env=True),
                pretrained_backbone_weights=None,
                horizon=16,
                down_dims=(8, 16),
            )
        )


def test_pretrained_backbone_never_downloads(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    feats = _features({"observation.image": (3, 64, 64)})
    action = {"action": PolicyFeature(FeatureType.ACTION, (2,))}
    common = {
        "input_features": feats,
        "output_features": action,
        "horizon": 16,
        "down_dims": (8, 16),
        "crop_shape": None,
    }
    named = dp.Config(pretrained_backbone_weights="ResNet18_Weights.IMAGENET1K_V1", **common)
    with pytest.raises(FileNotFoundError, match="torchvision cache"):
        policies.from_config(named)
    assert "diffusion.rgb_encoder.0.backbone.0.weight" in dp.build_model(named).state_dict()  # no file read
    import torchvision

    weights = torchvision.models.resnet18(weights=None).state_dict()
    with pytest.raises(ValueError, match="use_group_norm=True cannot be combined"):
        dp.build_model(attrs.evolve(named, use_group_norm=True), backbone_weights=weights)


def test_pretrained_backbone_from_local_file(tmp_path):
    import torchvision

    reference = torchvision.models.resnet18(weights=None)
    torch.nn.init.constant_(reference.conv1.weight, 0.25)
    path = tmp_path / "resnet18.pth"
    torch.save(reference.state_dict(), path)
    feats = _features({"observation.image": (3, 64, 64)})
    action = {"action": PolicyFeature(FeatureType.ACTION, (2,))}
    config = dp.Config(
        input_features=feats,
        output_features=action,
        horizon=16,
        down_dims=(8, 16),
        pretrained_backbone_weights=str(path),
    )
    model = policies.from_config(config).model  # the shell reads the file, the core loads it
    trunk = model.diffusion.rgb_encoder[0].backbone
    assert torch.equal(trunk[0].weight, reference.conv1.weight)
    assert torch.equal(trunk[4][0].conv1.weight, reference.layer1[0].conv1.weight)
