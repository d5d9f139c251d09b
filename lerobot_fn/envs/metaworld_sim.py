"""The Meta-World gym env of one task, as LeRobot 0.6.1 builds it (imported inside env workers only).

MT1(task, seed=42), its first train task, object and goal positions drawn from the reset seed, the
corner2 camera moved and its image flipped as LeRobot does; success ends the episode; `agent_pos`
is the hand position and gripper opening (the observation's first 4 values).
"""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium as gym
import metaworld
import numpy as np
from gymnasium import spaces


class MetaworldTask(gym.Env):
    metadata: ClassVar[dict] = {"render_modes": ["rgb_array"], "render_fps": 80}

    def __init__(self, name: str, config: Any):
        super().__init__()
        self.name, self.config = name, config
        mt1 = metaworld.MT1(name, seed=42)
        env = mt1.train_classes[name](render_mode="rgb_array", camera_name=config.camera_name,
                                      width=config.observation_width, height=config.observation_height)
        env.set_task(mt1.train_tasks[0])
        if config.camera_name == "corner2":
            env.model.cam_pos[2] = [0.75, 0.075, 0.7]
        env.reset()
        env._freeze_rand_vec = False  # a new object/goal position every reset ...
        env.seeded_rand_vec = True  # ... drawn from the reset seed
        self._env = env
        self._steps = 0
        self.action_space = spaces.Box(-1.0, 1.0, shape=(4,), dtype=np.float32)
        self.observation_space = spaces.Dict({})  # the TorchRL side knows the shapes from the config

    def render(self) -> np.ndarray:
        image = self._env.render()
        return np.flip(image, (0, 1)).copy() if self.config.camera_name == "corner2" else image

    def _obs(self, raw: np.ndarray) -> dict:
        obs = {"agent_pos": raw[:4]}
        if self.config.obs_type == "pixels_agent_pos":
            obs["pixels"] = self.render()
        else:
            obs["environment_state"] = raw
        return obs

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        if seed is not None:
            self._env.seed(seed)
        raw, _ = self._env.reset(seed=seed)
        self._steps = 0
        return self._obs(raw), {"is_success": False}

    def step(self, action: np.ndarray):
        raw, reward, terminated, truncated, info = self._env.step(np.asarray(action, dtype=np.float64))
        self._steps += 1
        success = bool(info.get("success", 0))
        truncated = bool(truncated) or self._steps >= self.config.episode_length
        return self._obs(raw), float(reward), bool(terminated) or success, truncated, {"is_success": success}

    def close(self) -> None:
        self._env.close()
