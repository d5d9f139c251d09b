"""Action steps (`process/actions.py`): relative/absolute actions, their pairing and LeRobot config."""

import pytest
import torch
from tensordict import TensorDict

from lerobot_fn.process import AbsoluteActions, RelativeActions, pipeline_from_config, pipeline_to_config


def test_relative_then_absolute_actions_round_trip_with_mask():
    state = torch.tensor([[1.0, 2.0, 3.0]])
    action = torch.tensor([[[2.0, 2.0, 2.0], [4.0, 4.0, 4.0]]])  # (B, T, A)
    rel = RelativeActions(enabled=True, exclude_joints=("gripper",), action_names=("shoulder", "elbow", "gripper"))
    td = TensorDict({"observation": {"state": state}, "action": action}, batch_size=[1])
    out = rel(td)
    torch.testing.assert_close(out["action"], torch.tensor([[[1.0, 0.0, 2.0], [3.0, 2.0, 4.0]]]))
    back = AbsoluteActions(enabled=True).pair_with(rel)(out)
    torch.testing.assert_close(back["action"], action)
    assert RelativeActions()(td) is td  # disabled by default, like LeRobot


def test_absolute_actions_needs_state():
    with pytest.raises(ValueError, match="needs 'observation.state'"):
        AbsoluteActions(enabled=True)(TensorDict({"action": torch.zeros(1, 2)}, batch_size=[1]))


def test_relative_pair_loads_from_lerobot_config():
    config = {"name": "p", "steps": [
        {"registry_name": "relative_actions_processor",
         "config": {"enabled": True, "exclude_joints": ["grip"], "action_names": ["a", "grip"]}},
        {"registry_name": "absolute_actions_processor", "config": {"enabled": True}},
    ]}
    p = pipeline_from_config(config, {})
    assert p[1].action_names == ("a", "grip")
    assert pipeline_to_config(p)[0] == config
