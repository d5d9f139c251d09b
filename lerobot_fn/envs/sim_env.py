"""A benchmark as a TorchRL env with LeRobot's nested keys, built lazily (in its worker, if any).

`SimEnv` (one simulator in this process) and `WorkerEnv` (N simulators in N worker processes) know
their specs from the config alone, so no simulator, GL context or GPU memory exists before the
first reset. Observations come out under LeRobot's nested keys (`("observation", "image")`,
`("observation", "state")`, ...), cameras as float32 CHW in [0, 1], exactly LeRobot's
`preprocess_observation` (converted where the simulator runs: in the workers, in parallel).

Reset inputs (`state_spec`): `episode_seed` (int64; the gym reset seed, < 0: unseeded) and `record`
(bool: render this episode's frames into `("render",)` for its video). Step outputs besides the
observation: `reward`, `done`/`terminated`/`truncated`, and `success` (gym `info["is_success"]`).
"""

from __future__ import annotations

import os

import numpy as np
import torch
from tensordict import TensorDict, TensorDictBase
from torchrl.data import Bounded, Categorical, Composite, Unbounded
from torchrl.envs import EnvBase

from .config import EnvConfig, Task
from .sim import FLAGS, Simulator, layout

OUTPUT_FLAGS = ("done", "terminated", "truncated")
ENVS_PER_CORE = 5


def nested(name: str) -> tuple[str, ...]:
    return tuple(name.split("."))


def set_specs(env: EnvBase, config: EnvConfig, render: bool, batch: tuple[int, ...] = ()) -> None:
    """Observation, action, reward, done and state specs of `config` (batch dims first)."""
    obs = Composite(shape=batch)
    cameras = {k.feature for k in config.observation_keys() if k.camera}
    for name, shape, dtype in layout(config, render):
        if name in ("reward", *OUTPUT_FLAGS):
            continue
        if name in cameras:
            obs[nested(name)] = Bounded(0.0, 1.0, shape=(*batch, *shape), dtype=torch.float32)
        elif dtype is np.uint8:
            obs[nested(name)] = Bounded(0, 255, shape=(*batch, *shape), dtype=torch.uint8)
        elif dtype is np.bool_:
            obs[name] = Unbounded(shape=(*batch, *shape), dtype=torch.bool)
        else:
            obs[nested(name)] = Unbounded(shape=(*batch, *shape), dtype=torch.float32)
    env.observation_spec = obs
    low, high = config.action_bounds()
    env.action_spec = Bounded(low, high, shape=(*batch, *config.action_shape), dtype=torch.float32)
    env.reward_spec = Unbounded(shape=(*batch, 1), dtype=torch.float32)
    flag = Categorical(2, shape=(*batch, 1), dtype=torch.bool)
    env.full_done_spec = Composite({k: flag.clone() for k in OUTPUT_FLAGS}, shape=batch)
    env.state_spec = Composite(
        episode_seed=Unbounded(shape=batch, dtype=torch.int64),
        record=Unbounded(shape=batch, dtype=torch.bool),
        shape=batch,
    )


def to_tensordict(arrays: dict[str, np.ndarray], batch: tuple[int, ...], *, copy: bool) -> TensorDict:
    """Flat LeRobot-named arrays -> a TensorDict with nested keys (zero-copy unless `copy`)."""
    td = TensorDict({}, batch_size=batch)
    for name, array in arrays.items():
        tensor = torch.from_numpy(np.array(array) if copy else array)
        td.set(nested(name) if name not in FLAGS and name != "reward" else name, tensor)
    return td


class SimEnv(EnvBase):
    """One simulator of `config` running `task` in this process; built on its first reset."""

    def __init__(self, config: EnvConfig, task: Task, *, render: bool = False):
        super().__init__(device="cpu", batch_size=torch.Size([]))
        self.config, self.task, self.render = config, task, render
        self.sim = Simulator(config, task, render)
        set_specs(self, config, render)

    def _reset(self, tensordict: TensorDictBase | None = None, **kwargs) -> TensorDictBase:
        seed, record = -1, False
        if tensordict is not None:
            seed = int(tensordict.get("episode_seed", torch.tensor(-1)))
            record = bool(tensordict.get("record", torch.tensor(False)))
        out = to_tensordict(self.sim.reset(None if seed < 0 else seed, record), (), copy=True)
        return out.exclude("reward").update({"episode_seed": torch.tensor(seed), "record": torch.tensor(record)})

    def _step(self, tensordict: TensorDictBase) -> TensorDictBase:
        action = tensordict.get("action").detach().cpu().numpy().astype(np.float32)
        return to_tensordict(self.sim.step(action), (), copy=True)

    def _set_seed(self, seed: int | None) -> None:
        """Seeds are given per episode (`episode_seed` at reset); nothing global to seed."""

    def close(self, *, raise_if_closed: bool = True) -> None:
        self.sim.close()
        super().close(raise_if_closed=raise_if_closed)


def auto_num_envs(episodes_left: int, cores: int | None = None) -> int:
    """`eval.batch_size = 0` ("auto"): 5 envs per CPU core, capped by the episodes left and by 64.

    More envs than cores because with a policy in the loop the policy, not the simulators, sets the
    pace: a worker sleeps while the policy runs, and a larger batch costs the policy less per episode
    (PushT + Diffusion on 2 cores, 50 episodes: 2 envs 128 s, 10 envs 68 s; benchmarks/RESULTS.md)."""
    if cores is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(ENVS_PER_CORE * (cores or 1), episodes_left, 64))


class _Factory:
    """A picklable constructor (the config is a plain attrs value)."""

    def __init__(self, config: EnvConfig, task: Task, render: bool):
        self.config, self.task, self.render = config, task, render

    def __call__(self) -> SimEnv:
        return SimEnv(self.config, self.task, render=self.render)


def make_env(config: EnvConfig, task: Task, num_envs: int = 1, *, render: bool = False) -> EnvBase:
    """`num_envs` copies of `task`: a `WorkerEnv` (shared memory, one worker process each) or, for one,
    a `SerialEnv` of a `SimEnv` in this process. No simulator and no worker process exists until the
    first `reset()`; `close()` ends the workers. Wrap it in TorchRL transforms as any `EnvBase`."""
    from torchrl.envs import SerialEnv

    from .workers import WorkerEnv

    if num_envs > 1:
        return WorkerEnv(config, task, num_envs, render=render)
    return SerialEnv(1, _Factory(config, task, render))
