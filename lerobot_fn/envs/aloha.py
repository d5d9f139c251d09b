"""ALOHA (gym-aloha): the bimanual insertion and transfer-cube tasks in MuJoCo (dm_control)."""

from __future__ import annotations

from typing import Any, Literal

import attrs

from .config import EnvConfig, HeadlessGL, ObsKey, Task, register, require

TASK_DESCRIPTIONS = {
    "AlohaInsertion-v0": "Insert the peg into the socket.",
    "AlohaTransferCube-v0": "Pick up the cube with the right arm and transfer it to the left arm.",
}


@register("aloha")
@attrs.frozen
class AlohaEnv(HeadlessGL, EnvConfig):
    """LeRobot's `aloha` env: 50 fps, 400 steps, the `top` camera (480x640) and 14 joint positions;
    videos are rendered at the visualization size;
    actions are 14 absolute joint targets in [-1, 1] (normalised as gym-aloha defines them)."""

    task: Literal["AlohaInsertion-v0", "AlohaTransferCube-v0"] = "AlohaInsertion-v0"
    fps: int = 50
    episode_length: int = 400
    obs_type: Literal["pixels_agent_pos", "pixels"] = "pixels_agent_pos"
    visualization_height: int = 480
    visualization_width: int = 640

    def tasks(self) -> list[Task]:
        return [Task("aloha", 0, self.task, TASK_DESCRIPTIONS[self.task])]

    def observation_keys(self) -> list[ObsKey]:
        shape = (480, 640, 3)  # gym-aloha's cameras render at this size whatever its arguments say
        if self.obs_type == "pixels":  # LeRobot: a single camera maps to observation.image.top
            return [ObsKey(("pixels",), "observation.image.top", shape, camera=True)]
        return [ObsKey(("pixels", "top"), "observation.images.top", shape, camera=True),
                ObsKey(("agent_pos",), "observation.state", (14,))]

    @property
    def action_shape(self) -> tuple[int, ...]:
        return (14,)

    def render_size(self) -> tuple[int, int]:
        return self.visualization_height, self.visualization_width

    def make_gym(self, task: Task) -> Any:
        gym = require("gymnasium", self.extra)
        require("gym_aloha", self.extra)  # registers gym_aloha/Aloha*-v0
        return gym.make(
            f"gym_aloha/{task.name}", obs_type=self.obs_type, render_mode="rgb_array",
            visualization_height=self.visualization_height, visualization_width=self.visualization_width,
            max_episode_steps=self.episode_length, disable_env_checker=True,
        )
