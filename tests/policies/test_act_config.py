"""ACT config: LeRobot's config.json read and written unchanged, LeRobot's defaults and checks."""

from __future__ import annotations

import json

import pytest

from lerobot_fn.policies import act
from lerobot_fn.policies.features import FeatureType, NormalizationMode


@pytest.fixture(scope="module")
def fixture_config(policy_fixtures):
    return json.loads((policy_fixtures / "act_aloha_mini" / "pretrained_model" / "config.json").read_text())


def test_round_trip_equals_lerobot_config_json(fixture_config):
    config = act.Config.from_dict(fixture_config)
    out = config.to_dict()
    assert out == fixture_config
    assert list(out) == list(fixture_config)  # same key order, "type" first
    assert act.Config.from_dict(out) == config
    assert json.loads(json.dumps(out)) == out  # plain JSON values


def test_parsed_values_are_typed(fixture_config):
    config = act.Config.from_dict(fixture_config)
    assert act.CONFIG_TYPE == "act"
    assert config.chunk_size == 20 and config.n_action_steps == 10
    assert list(config.image_features) == ["observation.images.top", "observation.images.left_wrist"]
    assert config.robot_state_feature.shape == (14,)
    assert config.action_feature.type is FeatureType.ACTION
    assert config.normalization_mapping[FeatureType.VISUAL] is NormalizationMode.MEAN_STD
    assert config.action_delta_indices == list(range(20))
    assert config.observation_delta_indices is None


def test_defaults_are_lerobots():
    config = act.Config()
    d = config.to_dict()
    # LeRobot 0.6.1 ACTConfig / PreTrainedConfig defaults.
    assert d["chunk_size"] == 100 and d["n_action_steps"] == 100 and d["n_obs_steps"] == 1
    assert d["pretrained_backbone_weights"] == "ResNet18_Weights.IMAGENET1K_V1"
    assert d["dim_model"] == 512 and d["n_heads"] == 8 and d["dim_feedforward"] == 3200
    assert d["n_decoder_layers"] == 1 and d["latent_dim"] == 32 and d["kl_weight"] == 10.0
    assert d["push_to_hub"] is True and d["device"] is None
    assert d["normalization_mapping"] == {"VISUAL": "MEAN_STD", "STATE": "MEAN_STD", "ACTION": "MEAN_STD"}


def test_unknown_key_is_named(fixture_config):
    with pytest.raises(ValueError, match="chunk_sise"):
        act.Config.from_dict({**fixture_config, "chunk_sise": 3})


def test_wrong_type_field_is_rejected(fixture_config):
    with pytest.raises(ValueError, match="'diffusion'"):
        act.Config.from_dict({**fixture_config, "type": "diffusion"})


@pytest.mark.parametrize(
    ("override", "needle"),
    [
        ({"chunk_size": "20"}, "chunk_size"),
        ({"use_vae": 1}, "use_vae"),
        ({"vision_backbone": "vit_b_16"}, "vision_backbone"),
        ({"n_action_steps": 30}, "n_action_steps"),
        ({"temporal_ensemble_coeff": 0.01}, "temporal_ensemble_coeff"),
        ({"n_obs_steps": 2}, "n_obs_steps"),
        ({"feedforward_activation": "swish"}, "feedforward_activation"),
        ({"dim_model": 63}, "n_heads"),
        ({"input_features": {"observation.state": {"type": "STAT", "shape": [3]}}}, "observation.state"),
        ({"normalization_mapping": {"VISUAL": "MEAN"}}, "normalization_mapping.VISUAL' has invalid value 'MEAN'"),
        ({"input_features": {"observation.state": {"type": "STATE"}}}, "'input_features.observation.state.shape' is missing"),
        ({"optimizer_lr": "1e-5"}, "'optimizer_lr' has invalid value '1e-5'"),
        ({"tags": ["ok", 3]}, "'tags.1' has invalid value 3"),
        ({"chunk_size": 0}, "chunk_size"),
    ],
)
def test_bad_values_raise_naming_the_field(fixture_config, override, needle):
    with pytest.raises(ValueError, match=needle):
        act.Config.from_dict({**fixture_config, **override})


def test_temporal_ensembling_needs_one_action_step(fixture_config):
    config = act.Config.from_dict({**fixture_config, "temporal_ensemble_coeff": 0.01, "n_action_steps": 1})
    assert config.temporal_ensemble_coeff == 0.01
    assert config.to_dict()["temporal_ensemble_coeff"] == 0.01


def test_dilation_flag_keeps_lerobots_written_form(fixture_config):
    """LeRobot types `replace_final_stride_with_dilation` int with default False; re-saved configs hold 0."""
    for written in (False, 0, True):
        out = act.Config.from_dict({**fixture_config, "replace_final_stride_with_dilation": written}).to_dict()
        assert out["replace_final_stride_with_dilation"] == written
        assert type(out["replace_final_stride_with_dilation"]) is type(written)
    with pytest.raises(ValueError, match="'replace_final_stride_with_dilation' has invalid value 'no'"):
        act.Config.from_dict({**fixture_config, "replace_final_stride_with_dilation": "no"})


def test_integers_for_float_fields_are_accepted(fixture_config):
    config = act.Config.from_dict({**fixture_config, "kl_weight": 10, "dropout": 0})
    assert config.kl_weight == 10.0 and isinstance(config.to_dict()["dropout"], float)


def test_build_model_needs_an_image_or_env_state_and_an_action():
    only_state = act.Config(
        input_features={"observation.state": {"type": "STATE", "shape": [3]}},
        output_features={"action": {"type": "ACTION", "shape": [2]}},
        pretrained_backbone_weights=None,
    )
    with pytest.raises(ValueError, match="at least one image"):
        act.build_model(only_state)
    no_action = act.Config(
        input_features={"observation.environment_state": {"type": "ENV", "shape": [3]}},
        pretrained_backbone_weights=None,
    )
    with pytest.raises(ValueError, match="'action'"):
        act.build_model(no_action)
