"""SmolVLA (a SmolVLM backbone + flow-matching action expert), LeRobot 0.6.1 compatible.

The family contract is `lerobot_fn.policies.family`; the VLM comes from `transformers`
(`pip install 'lerobot-fn[vla]'`), named by the config's `vlm_model_name`.
"""

from .config import CONFIG_TYPE, Config
from .inference import State, initial_state, predict_chunk, sample_actions, select_action
from .loss import loss, sample_time
from .model import SmolVLAPolicy, VLAFlowMatching, build_model, compile_model
from .processors import make_processors
from .training import optimizer_preset, param_groups, scheduler_preset

__all__ = [
    "CONFIG_TYPE",
    "Config",
    "SmolVLAPolicy",
    "State",
    "VLAFlowMatching",
    "build_model",
    "compile_model",
    "initial_state",
    "loss",
    "make_processors",
    "optimizer_preset",
    "param_groups",
    "predict_chunk",
    "sample_actions",
    "sample_time",
    "scheduler_preset",
    "select_action",
]
