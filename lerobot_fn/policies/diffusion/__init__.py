"""Diffusion Policy (Chi et al. 2023) in LeRobot 0.6.1's checkpoint format, as pure functions.

The policy-family contract: `CONFIG_TYPE`, `Config`, `build_model`, `predict_chunk`,
`initial_state`, `select_action`, `loss` (see lerobot_fn/policies/features.py for feature types).
"""

from .config import CONFIG_TYPE, Config
from .inference import State, conditional_sample, initial_state, predict_chunk, scheduler_for, select_action
from .loss import loss
from .model import build_model
from .scheduler import NoiseScheduler, make_betas, make_scheduler

__all__ = [
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
    "predict_chunk",
    "scheduler_for",
    "select_action",
]
