"""LIBERO (hf-libero): the libero_spatial/object/goal/10/90 suites, with their natural-language tasks."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Literal

import attrs

from .config import EnvConfig, HeadlessGL, ObsKey, Task, register, require

# LeRobot 0.6.1's per-suite step limits (a little above the longest training demonstration)
SUITE_MAX_STEPS = {"libero_spatial": 280, "libero_object": 280, "libero_goal": 300, "libero_10": 520,
                   "libero_90": 400}


def quiet_libero() -> Any:
    """Import LIBERO without its first-run question on stdin: point LIBERO_CONFIG_PATH at a config
    naming the package's own folders (a user's existing config is kept)."""
    if "LIBERO_CONFIG_PATH" not in os.environ:
        import importlib.util

        spec = importlib.util.find_spec("libero")
        if spec is None or not spec.submodule_search_locations:
            require("libero", "libero")
        root = Path(next(iter(spec.submodule_search_locations))) / "libero"
        folder = Path(tempfile.gettempdir()) / f"lerobot-fn-libero-{os.getuid()}"
        folder.mkdir(exist_ok=True)
        (folder / "config.yaml").write_text(
            f"benchmark_root: {root}\nbddl_files: {root / 'bddl_files'}\ninit_states: {root / 'init_files'}\n"
            f"datasets: {root.parent / 'datasets'}\nassets: {root / 'assets'}\n", encoding="utf-8")
        os.environ["LIBERO_CONFIG_PATH"] = str(folder)
    return require("libero.libero.benchmark", "libero")


@register("libero")
@attrs.frozen
class LiberoEnv(HeadlessGL, EnvConfig):
    """LeRobot's `libero` env: `task` is a suite (or a comma-separated list); one task_id per task, the
    policy gets the task's `language`. Cameras agentview -> observation.images.image and wrist ->
    observation.images.image2 (rotated 180 degrees, as LeRobot's LiberoProcessorStep), state = end
    effector position, axis-angle and gripper (8), relative 7-d actions, 20 Hz control."""

    extra = "libero"
    task: str = "libero_10"
    task_ids: tuple[int, ...] | None = None
    fps: int = 20
    episode_length: int | None = None  # None: the suite's LeRobot limit
    obs_type: Literal["pixels_agent_pos"] = "pixels_agent_pos"
    observation_height: int = 360
    observation_width: int = 360
    num_steps_wait: int = 10

    def suites(self) -> list[str]:
        return [s.strip() for s in self.task.split(",") if s.strip()]

    def tasks(self) -> list[Task]:
        benchmark = quiet_libero()
        out = []
        for suite_name in self.suites():
            suite = benchmark.get_benchmark_dict()[suite_name]()
            ids = self.task_ids if self.task_ids is not None else range(suite.n_tasks)
            out += [Task(suite_name, i, suite.get_task(i).name, suite.get_task(i).language) for i in ids]
        return out

    def max_steps(self, suite: str) -> int:
        return self.episode_length or SUITE_MAX_STEPS.get(suite, 500)

    def observation_keys(self) -> list[ObsKey]:
        shape = (self.observation_height, self.observation_width, 3)
        return [ObsKey(("pixels", "image"), "observation.images.image", shape, camera=True),
                ObsKey(("pixels", "image2"), "observation.images.image2", shape, camera=True),
                ObsKey(("agent_pos",), "observation.state", (8,))]

    @property
    def action_shape(self) -> tuple[int, ...]:
        return (7,)

    def render_size(self) -> tuple[int, int]:
        return self.observation_height, self.observation_width

    def make_gym(self, task: Task) -> Any:
        quiet_libero()
        from .libero_sim import LiberoTask

        return LiberoTask(self, task)
