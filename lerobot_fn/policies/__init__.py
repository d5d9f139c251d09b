"""Policies (ACT, Diffusion) as pure functions over TensorDict batches.

    policy = policies.load("lerobot/act_aloha_sim_transfer_cube_human")   # or a local pretrained_model/
    state = policies.initial_state(policy)
    action, state = policies.select_action(policy, obs, state)

Families live in `policies.act` / `policies.diffusion`; `policies.registry` maps LeRobot's config
"type" to them. Importing this package imports no family until one is needed.
"""

from lerobot_fn.policies.api import (
    Policy,
    from_config,
    initial_state,
    load,
    loss,
    make_processors,
    postprocess,
    predict_chunk,
    preprocess,
    save,
    select_action,
)
from lerobot_fn.policies.checkpoint import load_pipeline, save_pipeline

__all__ = [
    "Policy",
    "from_config",
    "initial_state",
    "load",
    "load_pipeline",
    "loss",
    "make_processors",
    "postprocess",
    "predict_chunk",
    "preprocess",
    "save",
    "save_pipeline",
    "select_action",
]
