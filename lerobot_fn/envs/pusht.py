"""PushT (gym-pusht): push a T-shaped block onto a target with a point agent, 2-D position actions."""

from __future__ import annotations

from typing import Any, Literal

import attrs

from .config import EnvConfig, ObsKey, Task, register, require

PUSHT_TASK = "Push the T-shaped block onto the T-shaped target."


@register("pusht")
@attrs.frozen
class PushtEnv(EnvConfig):
    """LeRobot's `pusht` env: 10 fps, 300 steps, 96x96 camera + agent position (or T keypoints)."""

    task: str = "PushT-v0"
    fps: int = 10
    episode_length: int = 300
    obs_type: Literal["pixels_agent_pos", "environment_state_agent_pos", "pixels"] = "pixels_agent_pos"
    observation_height: int = 96
    observation_width: int = 96
    visualization_height: int = 384
    visualization_width: int = 384

    def tasks(self) -> list[Task]:
        return [Task("pusht", 0, self.task, PUSHT_TASK)]

    def observation_keys(self) -> list[ObsKey]:
        keys = []
        if self.obs_type in ("pixels", "pixels_agent_pos"):
            shape = (self.observation_height, self.observation_width, 3)
            keys.append(ObsKey(("pixels",), "observation.image", shape, camera=True))
        if self.obs_type == "environment_state_agent_pos":
            keys.append(ObsKey(("environment_state",), "observation.environment_state", (16,)))
        if self.obs_type != "pixels":
            keys.append(ObsKey(("agent_pos",), "observation.state", (2,)))
        return keys

    @property
    def action_shape(self) -> tuple[int, ...]:
        return (2,)

    def render_size(self) -> tuple[int, int]:
        return self.visualization_height, self.visualization_width

    def make_gym(self, task: Task) -> Any:
        gym = require("gymnasium", self.extra)
        require("gym_pusht", self.extra)  # registers gym_pusht/PushT-v0
        from .pusht_frames import use_fast_frames

        return use_fast_frames(gym.make(
            f"gym_pusht/{task.name}", obs_type=self.obs_type, render_mode="rgb_array",
            observation_height=self.observation_height, observation_width=self.observation_width,
            visualization_width=self.visualization_width, visualization_height=self.visualization_height,
            max_episode_steps=self.episode_length, disable_env_checker=True,
        ))

    def action_bounds(self) -> tuple[float, float]:
        return 0.0, 512.0
