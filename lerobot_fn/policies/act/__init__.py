"""ACT (Action Chunking Transformer) policy family, LeRobot 0.6.1 compatible.

The family contract shared with the other policy families and `lerobot_fn.policies.api`:
see `lerobot_fn.policies.family` (CONFIG_TYPE, Config, build_model, loss, predict_chunk,
initial_state, select_action, optimizer_preset, scheduler_preset, param_groups).
"""

from .config import CONFIG_TYPE, Config
from .inference import State, ensemble_step, initial_state, predict_chunk, select_action
from .loss import loss
from .model import ACT, ACTPolicy, build_model
from .training import optimizer_preset, param_groups, scheduler_preset

BACKBONE_WEIGHTS_PASSED_IN = True  # build_model(config, backbone_weights=...) reads no file

__all__ = [
    "ACT",
    "BACKBONE_WEIGHTS_PASSED_IN",
    "CONFIG_TYPE",
    "ACTPolicy",
    "Config",
    "State",
    "build_model",
    "ensemble_step",
    "initial_state",
    "loss",
    "optimizer_preset",
    "param_groups",
    "predict_chunk",
    "scheduler_preset",
    "select_action",
]
