"""lerobot_fn.envs: simulation benchmarks as lazily built, parallel TorchRL envs, and `evaluate`.

    from lerobot_fn import envs
    config = envs.make_config("pusht")               # a frozen attrs value; imports no simulator
    env = envs.make_env(config, config.tasks()[0], num_envs=4)   # workers start on first reset
    info = envs.evaluate(policy, config, n_episodes=50, seed=1000, output_dir="outputs/eval")

One config class per benchmark (`pusht`, `aloha`, `metaworld`, `libero`), registered by name in
`ENV_TYPES`; `lerobot_fn/envs/<name>.py` is all a new benchmark needs.
"""

from __future__ import annotations

import importlib

from .config import ENV_TYPES, EnvConfig, MissingExtraError, ObsKey, Task, make_config, register
from .evaluation import evaluate
from .sim_env import SimEnv, auto_num_envs, make_env

BENCHMARK_MODULES = ("pusht",)


def _load_all() -> None:
    """Import every benchmark's config module (light: none imports its simulator)."""
    for name in BENCHMARK_MODULES:
        importlib.import_module(f"{__name__}.{name}")


__all__ = [
    "ENV_TYPES", "EnvConfig", "MissingExtraError", "ObsKey", "SimEnv", "Task", "auto_num_envs",
    "evaluate", "make_config", "make_env", "register",
]
