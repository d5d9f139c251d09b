"""Env steps/s: our WorkerEnv vs gymnasium's AsyncVectorEnv (shared memory), same simulator, same
number of workers, PushT (pixels + agent_pos, LeRobot's default) and Meta-World reach-v3 (state).

    .venv/bin/python benchmarks/bench_envs.py --workers 2 --steps 300 --repeats 3

Both sides step the same gym env with constant actions after a seeded reset (worker start-up is
not timed); runs are interleaved so a busy machine penalises both alike. Ours is stepped as
`evaluate`'s rollout steps it: a TensorDict holding the action in, the step's "next" out (float
CHW cameras, as a policy reads them; AsyncVectorEnv gives uint8 HWC), no `step_mdp`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import gymnasium as gym
import numpy as np
import torch
from tensordict import TensorDict

from lerobot_fn import envs

CASES = {
    "pusht": lambda: envs.make_config("pusht"),
    "metaworld": lambda: envs.make_config("metaworld", task="reach-v3", obs_type="environment_state_agent_pos",
                                          episode_length=100_000),
}


class _GymFactory:
    def __init__(self, config, task):
        self.config, self.task = config, task

    def __call__(self):
        self.config.setup_worker()
        return self.config.make_gym(self.task)


def ours(config, workers: int, steps: int) -> float:
    task = config.tasks()[0]
    env = envs.make_env(config, task, workers)
    try:
        env.reset(TensorDict({"episode_seed": torch.arange(workers),
                                   "record": torch.zeros(workers, dtype=torch.bool)}, [workers]))
        action = torch.full((workers, *config.action_shape), float(np.mean(config.action_bounds())))
        start = time.perf_counter()
        for _ in range(steps):
            env.step(TensorDict({"action": action}, [workers])).get("next")
        return workers * steps / (time.perf_counter() - start)
    finally:
        env.close()


def gymnasium_async(config, workers: int, steps: int) -> float:
    task = config.tasks()[0]
    env = gym.vector.AsyncVectorEnv([_GymFactory(config, task)] * workers, shared_memory=True,
                                    context="spawn", observation_mode="different")
    try:
        env.reset(seed=list(range(workers)))
        action = np.full((workers, *config.action_shape), np.mean(config.action_bounds()), dtype=np.float32)
        start = time.perf_counter()
        for _ in range(steps):
            env.step(action)
        return workers * steps / (time.perf_counter() - start)
    finally:
        env.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--envs", default=",".join(CASES), help="comma-separated subset of: " + ", ".join(CASES))
    args = parser.parse_args()
    results = {}
    for name in args.envs.split(","):
        config = CASES[name]()
        runs = {"ours": [], "gymnasium_async": []}
        for _ in range(args.repeats):
            runs["ours"].append(ours(config, args.workers, args.steps))
            runs["gymnasium_async"].append(gymnasium_async(config, args.workers, args.steps))
        med = {k: statistics.median(v) for k, v in runs.items()}
        results[name] = {"runs": runs, "median": med, "ratio": med["ours"] / med["gymnasium_async"]}
        print(f"{name}: ours {med['ours']:.0f} steps/s, AsyncVectorEnv {med['gymnasium_async']:.0f} steps/s, "
              f"ratio {results[name]['ratio']:.2f}x  (runs {runs})", flush=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
