"""Scripted experts: demonstrations without a human (Meta-World ships one hand-written policy per task)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .config import require


class MetaworldExpert:
    """Meta-World's scripted policy of `task` (e.g. reach-v3) as an actor (see `rollout`). It reads the
    full 39-d observation, so the env must use obs_type "environment_state_agent_pos"."""

    def __init__(self, task: str):
        from .metaworld_tasks import EXPERT_POLICIES

        policies = require("metaworld.policies", "metaworld")
        self.task = task
        self.policy = getattr(policies, EXPERT_POLICIES[task])()

    def reset(self, n: int) -> Any:
        return None

    def act(self, obs: Any, state: Any, generators: list[torch.Generator]):
        if ("observation", "environment_state") not in obs.keys(True):
            raise ValueError("the Meta-World expert reads observation.environment_state: use "
                             "obs_type = \"environment_state_agent_pos\"")
        full = obs.get(("observation", "environment_state")).double().numpy()
        actions = np.stack([np.clip(self.policy.get_action(row), -1.0, 1.0) for row in full])
        return torch.from_numpy(actions.astype(np.float32)), state
