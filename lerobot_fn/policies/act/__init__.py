"""ACT (Action Chunking Transformer) policy family, LeRobot 0.6.1 compatible.

The family contract shared with the other policy families and `lerobot_fn.policies.api`:
CONFIG_TYPE, Config, build_model, predict_chunk, initial_state, select_action, loss.
"""

from .config import CONFIG_TYPE, Config
from .inference import State, ensemble_step, initial_state, predict_chunk, select_action
from .loss import loss
from .model import ACT, ACTPolicy, build_model
from .training import make_optimizer, optimizer_preset, param_groups

__all__ = [
    "ACT",
    "CONFIG_TYPE",
    "ACTPolicy",
    "Config",
    "State",
    "build_model",
    "ensemble_step",
    "initial_state",
    "loss",
    "make_optimizer",
    "optimizer_preset",
    "param_groups",
    "predict_chunk",
    "select_action",
]
