"""pi0 (PaliGemma + a Gemma action expert, flow matching; Physical Intelligence), LeRobot 0.6.1 compatible.

The family contract is `lerobot_fn.policies.family`; the network is `policies.pi` through
`transformers` (`pip install 'lerobot-fn[vla]'`). Start from a pi0 checkpoint
(`policies.load("lerobot/pi0_base")`, or `policy.path` in a train spec).
"""

import attrs

from lerobot_fn.policies.pi.config import PiConfig
from lerobot_fn.policies.pi.model import PiPolicy, build_model, compile_model
from lerobot_fn.policies.pi.policy import (
    State,
    initial_state,
    loss,
    predict_chunk,
    sample_actions,
    select_action,
)
from lerobot_fn.policies.pi.processors import make_processors
from lerobot_fn.policies.vla.presets import optimizer_preset, param_groups, scheduler_preset

CONFIG_TYPE = "pi0"


@attrs.frozen
class Config(PiConfig):
    """LeRobot's `PI0Config` (type "pi0")."""

    CONFIG_TYPE = CONFIG_TYPE


__all__ = ["CONFIG_TYPE", "Config", "PiPolicy", "State", "build_model", "compile_model", "initial_state", "loss",
           "make_processors", "optimizer_preset", "param_groups", "predict_chunk", "sample_actions",
           "scheduler_preset", "select_action"]
