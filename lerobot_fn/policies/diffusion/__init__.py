"""Diffusion Policy (Chi et al. 2023) in LeRobot 0.6.1's checkpoint format, as pure functions.

The policy-family contract is `lerobot_fn.policies.family` (see lerobot_fn/policies/features.py
for feature types).
"""

from .config import CONFIG_TYPE, Config
from .inference import State, conditional_sample, initial_state, predict_chunk, scheduler_for, select_action
from .loss import loss
from .model import build_model
from .scheduler import NoiseScheduler, make_betas, make_scheduler
from .training import optimizer_preset, param_groups, scheduler_preset

BACKBONE_WEIGHTS_PASSED_IN = True  # build_model(config, backbone_weights=...) reads no file

__all__ = [
    "BACKBONE_WEIGHTS_PASSED_IN",
    "CONFIG_TYPE",
    "Config",
    "NoiseScheduler",
    "State",
    "build_model",
    "conditional_sample",
    "initial_state",
    "loss",
    "make_betas",
    "make_scheduler",
    "optimizer_preset",
    "param_groups",
    "predict_chunk",
    "scheduler_for",
    "scheduler_preset",
    "select_action",
]
