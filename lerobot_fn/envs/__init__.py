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

from .config import (
    ENV_TYPES,
    EnvConfig,
    MissingExtraError,
    ObsKey,
    Task,
    config_from_table,
    make_config,
    register,
)

# torch/torchrl-based names are imported on first use, so that a worker process (which imports
# only `lerobot_fn.envs.sim` and its benchmark's config) starts without importing torch
_LAZY = {"evaluate": "evaluation", "SimEnv": "sim_env", "auto_num_envs": "sim_env", "make_env": "sim_env",
         "WorkerEnv": "workers", "EnvWorkerError": "workers"}

BENCHMARK_MODULES = ("pusht", "aloha", "metaworld", "libero")


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def _load_all() -> None:
    """Import every benchmark's config module (light: none imports its simulator)."""
    for name in BENCHMARK_MODULES:
        importlib.import_module(f"{__name__}.{name}")


__all__ = [
    "ENV_TYPES", "EnvConfig", "EnvWorkerError", "MissingExtraError", "ObsKey", "SimEnv", "Task",
    "WorkerEnv", "auto_num_envs", "config_from_table", "evaluate", "make_config", "make_env", "register",
]
