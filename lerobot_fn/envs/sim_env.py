"""A benchmark's gym env as a TorchRL env, built lazily inside its worker, with LeRobot's keys.

`SimEnv` knows its specs from the config alone, so TorchRL can size the shared-memory buffers of a
`ParallelEnv` without building a simulator; the gym env (and its package, GL context, GPU memory)
is created on the worker's first reset. Observations come out under LeRobot's nested keys
(`("observation", "image")`, `("observation", "state")`, ...), cameras as uint8 HWC; `make_env`
adds TorchRL's `ToTensorImage` so the policy sees float CHW in [0, 1], as LeRobot's
`preprocess_observation` gives it.

Reset inputs (`state_spec`): `episode_seed` (int64; the gym reset seed, < 0: unseeded) and `record`
(bool: render this episode's frames into `("render",)` for its video). Step outputs besides the
observation: `reward`, `done`/`terminated`/`truncated`, and `success` (gym `info["is_success"]`).
Once an episode has ended, further steps replay its last output with zero reward and do no
simulation (as LeRobot's `FreezeAfterEpisodeEnd`), so a batch waits for its longest episode cheaply.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import torch
from tensordict import TensorDict, TensorDictBase
from torchrl.data import Bounded, Categorical, Composite, Unbounded
from torchrl.envs import EnvBase

from .config import EnvConfig, Task, nested_get


def _obs_spec(config: EnvConfig, render: bool) -> Composite:
    spec = Composite()
    for k in config.observation_keys():
        if k.camera:
            spec[k.key] = Bounded(0, 255, shape=k.shape, dtype=torch.uint8)
        else:
            spec[k.key] = Unbounded(shape=k.shape, dtype=torch.float32)
    if render:
        h, w = config.render_size()
        spec["render"] = Bounded(0, 255, shape=(h, w, 3), dtype=torch.uint8)
    return spec


class SimEnv(EnvBase):
    """One simulator of `config` running `task`; the gym env is built on first reset."""

    def __init__(self, config: EnvConfig, task: Task, *, render: bool = False):
        super().__init__(device="cpu", batch_size=torch.Size([]))
        self.config, self.task, self.render = config, task, render
        self._gym: Any = None
        self._record = False
        self._final: TensorDictBase | None = None
        self._blank = np.zeros((*config.render_size(), 3), dtype=np.uint8) if render else None
        self.observation_spec = _obs_spec(config, render)
        self.observation_spec["success"] = Unbounded(shape=(1,), dtype=torch.bool)
        low, high = config.action_bounds()
        self.action_spec = Bounded(low, high, shape=config.action_shape, dtype=torch.float32)
        self.reward_spec = Unbounded(shape=(1,), dtype=torch.float32)
        flag = Categorical(2, shape=(1,), dtype=torch.bool)
        self.full_done_spec = Composite(done=flag, terminated=flag.clone(), truncated=flag.clone())
        self.state_spec = Composite(
            episode_seed=Unbounded(shape=(), dtype=torch.int64),
            record=Unbounded(shape=(), dtype=torch.bool),
        )

    @property
    def started(self) -> bool:
        return self._gym is not None

    def _ensure(self) -> None:
        if self._gym is None:
            self.config.setup_worker()
            self._gym = self.config.make_gym(self.task)

    def _observation(self, obs: Any, success: bool) -> TensorDict:
        out = TensorDict({}, batch_size=[])
        for k in self.config.observation_keys():
            value = np.asarray(nested_get(obs, k.source))
            if k.camera:
                out.set(k.key, torch.from_numpy(np.ascontiguousarray(value)))
            else:
                out.set(k.key, torch.from_numpy(value.astype(np.float32, copy=False)).reshape(k.shape))
        if self.render:
            frame = self._gym.render() if self._record else self._blank
            out.set("render", torch.from_numpy(np.ascontiguousarray(frame)))
        out.set("success", torch.tensor([success]))
        return out

    def _reset(self, tensordict: TensorDictBase | None = None, **kwargs) -> TensorDictBase:
        self._ensure()
        seed, record = -1, False
        if tensordict is not None:
            seed = int(tensordict.get("episode_seed", torch.tensor(-1)))
            record = bool(tensordict.get("record", torch.tensor(False)))
        self._record = record and self.render
        self._final = None
        obs, _info = self._gym.reset(seed=None if seed < 0 else seed)
        out = self._observation(obs, False)
        out.set("episode_seed", torch.tensor(seed))
        out.set("record", torch.tensor(record))
        false = torch.zeros(1, dtype=torch.bool)
        out.update({"done": false, "terminated": false.clone(), "truncated": false.clone()})
        return out

    def _step(self, tensordict: TensorDictBase) -> TensorDictBase:
        if self._final is not None:  # the episode is over: replay its last step, costing no simulation
            return self._final
        action = tensordict.get("action").detach().cpu().numpy()
        obs, reward, terminated, truncated, info = self._gym.step(action)
        out = self._observation(obs, bool(info.get("is_success", False)))
        out.set("reward", torch.tensor([float(reward)], dtype=torch.float32))
        out.set("terminated", torch.tensor([bool(terminated)]))
        out.set("truncated", torch.tensor([bool(truncated)]))
        out.set("done", torch.tensor([bool(terminated or truncated)]))
        if terminated or truncated:
            self._final = out.clone().set("reward", torch.zeros(1, dtype=torch.float32))
        return out

    def _set_seed(self, seed: int | None) -> None:
        """Seeds are given per episode (`episode_seed` at reset); nothing global to seed."""

    def close(self, *, raise_if_closed: bool = True) -> None:
        if self._gym is not None:
            self._gym.close()
            self._gym = None
        super().close(raise_if_closed=raise_if_closed)


def auto_num_envs(episodes_left: int, cores: int | None = None) -> int:
    """`eval.batch_size = 0` ("auto"): one env per CPU core, capped by the episodes left and by 64."""
    if cores is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(cores or 1, episodes_left, 64))


class _Factory:
    """A picklable constructor for the workers (the config is a plain attrs value)."""

    def __init__(self, config: EnvConfig, task: Task, render: bool):
        self.config, self.task, self.render = config, task, render

    def __call__(self) -> SimEnv:
        return SimEnv(self.config, self.task, render=self.render)


def make_env(config: EnvConfig, task: Task, num_envs: int = 1, *, render: bool = False) -> EnvBase:
    """`num_envs` copies of `task`: a `WorkerEnv` (shared memory, one worker process each) or, for one,
    a `SerialEnv` in this process; wrapped with `ToTensorImage` for the cameras. No simulator and no
    worker process exists until the first `reset()`; `close()` ends the workers."""
    from torchrl.envs import SerialEnv, TransformedEnv
    from torchrl.envs.transforms import ToTensorImage

    from .workers import WorkerEnv

    factory = _Factory(config, task, render)
    if num_envs > 1:
        base: EnvBase = WorkerEnv(factory, num_envs, description=f"{config.type}/{task.name}")
    else:
        base = SerialEnv(1, factory)
    cameras = [k.key for k in config.observation_keys() if k.camera]
    return TransformedEnv(base, ToTensorImage(in_keys=cameras)) if cameras else base
