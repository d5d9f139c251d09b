"""One LIBERO task as a gym env, as LeRobot 0.6.1 runs it (imported inside env workers only).

The task's fixed initial states (episode seed modulo their number), a few no-op steps so objects
settle, relative (delta) control; images rotated 180 degrees; state = eef position, axis-angle of
the eef quaternion, gripper qpos; success from the task's predicates ends the episode.
"""

from __future__ import annotations

import os
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import torch
from libero.libero import benchmark, get_libero_path
from libero.libero.envs import OffScreenRenderEnv

NOOP = [0.0] * 6 + [-1.0]


def quat2axisangle(quat: np.ndarray) -> np.ndarray:
    """(x, y, z, w) quaternion -> axis-angle (robosuite's formula, as LeRobot uses it)."""
    w = float(np.clip(quat[3], -1.0, 1.0))
    den = np.sqrt(1.0 - w * w)
    if np.isclose(den, 0.0):
        return np.zeros(3)
    return quat[:3] * 2.0 * np.arccos(w) / den


class LiberoTask(gym.Env):
    metadata: ClassVar[dict] = {"render_modes": ["rgb_array"], "render_fps": 20}

    def __init__(self, config: Any, task: Any):
        super().__init__()
        self.config = config
        suite = benchmark.get_benchmark_dict()[task.group]()
        spec = suite.get_task(task.task_id)
        self.description = spec.language
        self._init_states = torch.load(os.path.join(get_libero_path("init_states"), spec.problem_folder,
                                                    spec.init_states_file), weights_only=False)
        bddl = os.path.join(get_libero_path("bddl_files"), spec.problem_folder, spec.bddl_file)
        self._env = OffScreenRenderEnv(bddl_file_name=bddl, camera_heights=config.observation_height,
                                       camera_widths=config.observation_width, control_freq=config.fps)
        self._max_steps = config.max_steps(task.group)
        self._steps = 0
        self._last: dict | None = None

    def _obs(self, raw: dict) -> dict:
        state = np.concatenate([raw["robot0_eef_pos"], quat2axisangle(raw["robot0_eef_quat"]),
                                raw["robot0_gripper_qpos"]])
        return {"pixels": {"image": raw["agentview_image"][::-1, ::-1].copy(),
                           "image2": raw["robot0_eye_in_hand_image"][::-1, ::-1].copy()},
                "agent_pos": state}

    def render(self) -> np.ndarray:
        return self._last["pixels"]["image"]

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self._env.seed(seed)
        self._env.reset()
        raw = self._env.set_init_state(self._init_states[(seed or 0) % len(self._init_states)])
        for _ in range(self.config.num_steps_wait):
            raw, _, _, _ = self._env.step(NOOP)
        for robot in self._env.robots:
            robot.controller.use_delta = True
        self._steps = 0
        self._last = self._obs(raw)
        return self._last, {"is_success": False}

    def step(self, action: np.ndarray):
        raw, reward, done, _info = self._env.step(np.asarray(action, dtype=np.float64))
        self._steps += 1
        success = bool(self._env.check_success())
        self._last = self._obs(raw)
        truncated = self._steps >= self._max_steps
        return self._last, float(reward), bool(done) or success, truncated, {"is_success": success}

    def close(self) -> None:
        self._env.close()
