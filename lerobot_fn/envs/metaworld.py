"""Meta-World v3 (metaworld): 50 Sawyer-arm manipulation tasks, MT10/MT50, LeRobot's difficulty groups."""

from __future__ import annotations

from typing import Any, Literal

import attrs

from .config import EnvConfig, HeadlessGL, ObsKey, Task, register, require
from .metaworld_tasks import DIFFICULTY_TO_TASKS, MT10, MT50, TASK_DESCRIPTIONS

SUITES = {"MT10": MT10, "MT50": MT50, **DIFFICULTY_TO_TASKS}


@register("metaworld")
@attrs.frozen
class MetaworldEnv(HeadlessGL, EnvConfig):
    """LeRobot's `metaworld` env: `task` is a task (`reach-v3`), a difficulty group (easy, medium, hard,
    very_hard), MT10 / MT50, or a comma-separated list of those; one task_id per task of a group.

    obs_type `pixels_agent_pos` is LeRobot's (corner2 camera -> observation.image, hand position and
    gripper -> observation.state); `environment_state_agent_pos` gives the full 39-d Meta-World
    observation (objects and goal included) as observation.environment_state instead of the image."""

    extra = "metaworld"
    task: str = "reach-v3"
    fps: int = 80
    episode_length: int = 500
    obs_type: Literal["pixels_agent_pos", "environment_state_agent_pos"] = "pixels_agent_pos"
    observation_height: int = 480
    observation_width: int = 480
    camera_name: str = "corner2"

    def __attrs_post_init__(self) -> None:
        self.tasks()  # unknown names fail when the config is made, not in a worker

    def tasks(self) -> list[Task]:
        out = []
        for group in [t.strip() for t in self.task.split(",") if t.strip()]:
            names = SUITES.get(group, [group.removeprefix("metaworld-")])
            for task_id, name in enumerate(names):
                if name not in TASK_DESCRIPTIONS:
                    raise ValueError(f"unknown Meta-World task {name!r}; give a task such as reach-v3, a group "
                                     f"({', '.join(SUITES)}) or a comma-separated list")
                out.append(Task(group, task_id, name, TASK_DESCRIPTIONS[name]))
        return out

    def observation_keys(self) -> list[ObsKey]:
        if self.obs_type == "pixels_agent_pos":
            image = ObsKey(("pixels",), "observation.image",
                           (self.observation_height, self.observation_width, 3), camera=True)
            return [image, ObsKey(("agent_pos",), "observation.state", (4,))]
        return [ObsKey(("agent_pos",), "observation.state", (4,)),
                ObsKey(("environment_state",), "observation.environment_state", (39,))]

    @property
    def action_shape(self) -> tuple[int, ...]:
        return (4,)

    def render_size(self) -> tuple[int, int]:
        return self.observation_height, self.observation_width

    def make_gym(self, task: Task) -> Any:
        require("metaworld", self.extra)
        from .metaworld_sim import MetaworldTask

        return MetaworldTask(task.name, self)
