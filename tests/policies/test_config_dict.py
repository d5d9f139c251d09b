"""config.json <-> a family's attrs Config (`policies/config_dict.py`): the shared `PreTrainedFields`,
structuring through the one converter with errors naming the key, and LeRobot's key order."""

from __future__ import annotations

import attrs
import pytest

from lerobot_fn.policies import act, diffusion
from lerobot_fn.policies.config_dict import PreTrainedFields, config_to_dict, structure_config
from lerobot_fn.policies.features import FeatureType, PolicyFeature

COMMON = ["n_obs_steps", "input_features", "output_features", "device", "use_amp", "use_peft", "push_to_hub",
          "repo_id", "private", "tags", "license", "pretrained_path", "pretrained_revision"]


@attrs.frozen
class Tiny(PreTrainedFields):
    n_obs_steps: int = 3  # redeclared for another default, as Diffusion does
    chunk_size: int = 4
    scale: float = 1.0


def test_every_family_starts_with_lerobots_pretrained_config_fields_in_order():
    for config in (act.Config(), diffusion.Config(), Tiny()):
        assert list(config_to_dict(config, "tiny"))[1:14] == COMMON
    assert diffusion.Config().n_obs_steps == 2 and act.Config().n_obs_steps == 1
    assert Tiny().action_delta_indices == [0, 1, 2, 3] and Tiny().reward_delta_indices is None


def test_structure_config_types_values_and_names_bad_ones():
    tiny = structure_config(Tiny, {"type": "tiny", "scale": 2, "tags": ["a"],
                                   "input_features": {"observation.state": {"type": "STATE", "shape": [2]}}},
                            "tiny", "tiny")
    assert tiny.scale == 2.0 and tiny.tags == ["a"]
    assert tiny.robot_state_feature == PolicyFeature(FeatureType.STATE, (2,))
    with pytest.raises(ValueError, match=r"tiny config: key 'chunk_size' has invalid value '4' \(expected int\)"):
        structure_config(Tiny, {"chunk_size": "4"}, "tiny", "tiny")
    with pytest.raises(ValueError, match=r"\"type\" is 'act', expected 'tiny'"):
        structure_config(Tiny, {"type": "act"}, "tiny", "tiny")
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['chunk'\]"):
        structure_config(Tiny, {"chunk": 4}, "tiny", "tiny")


def test_features_given_as_dicts_or_values_are_the_same_config():
    as_dict = act.Config(input_features={"observation.environment_state": {"type": "ENV", "shape": [3]}})
    as_value = act.Config(input_features={"observation.environment_state": PolicyFeature(FeatureType.ENV, (3,))})
    assert as_dict == as_value
