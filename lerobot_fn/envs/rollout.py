"""Roll a batch of episodes through a TorchRL env: the per-episode numbers LeRobot's `eval_policy` keeps.

Every episode has its own seed (the env's reset seed) and its own `torch.Generator` seeded with it
for whatever the actor draws (a random policy's actions, Diffusion's noise), so an episode's result
depends only on its seed, not on which batch or env slot it ran in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import torch
from tensordict import NonTensorStack, TensorDict, TensorDictBase


@attrs.frozen
class Episode:
    """One evaluated episode, named as in LeRobot's `eval_info.json`."""

    seed: int
    sum_reward: float
    max_reward: float
    success: bool
    length: int


class RandomActor:
    """Uniform random actions in the env's action bounds (the baseline every benchmark reports)."""

    def __init__(self, low: float, high: float, shape: tuple[int, ...]):
        self.low, self.high, self.shape = low, high, shape

    def reset(self, n: int) -> Any:
        return None

    def act(self, obs: TensorDictBase, state: Any, generators: list[torch.Generator]):
        draws = torch.stack([torch.rand(self.shape, generator=g) for g in generators])
        return self.low + (self.high - self.low) * draws, state


class PolicyActor:
    """A `lerobot_fn.policies.Policy` stepped with `select_action`; Diffusion's noise is drawn from each
    episode's generator when a new chunk is due (so batching never changes an episode)."""

    def __init__(self, policy: Any):
        self.policy = policy

    def reset(self, n: int) -> Any:
        from lerobot_fn import policies

        return policies.initial_state(self.policy)

    def _noise(self, state: Any, generators: list[torch.Generator]) -> Any:
        if self.policy.type != "diffusion" or getattr(state, "actions", ()):
            return None
        from lerobot_fn.policies.diffusion.inference import scheduler_for

        config = self.policy.config
        shape = (config.horizon, config.action_feature.shape[0])
        n_steps = scheduler_for(config).step_count_with_noise(config.inference_steps)
        draws = [[torch.randn(shape, generator=g) for _ in range(1 + n_steps)] for g in generators]
        per_draw = [torch.stack(column) for column in zip(*draws, strict=True)]
        return {"initial": per_draw[0], "steps": per_draw[1:]}

    def act(self, obs: TensorDictBase, state: Any, generators: list[torch.Generator]):
        from lerobot_fn import policies

        return policies.select_action(self.policy, obs, state, noise=self._noise(state, generators))


def rollout(
    env: Any,
    actor: Any,
    seeds: list[int],
    *,
    task: str,
    max_steps: int,
    record: list[bool] | None = None,
    on_step: Callable[[TensorDictBase, torch.Tensor, TensorDictBase, torch.Tensor], None] | None = None,
    stopped: Callable[[], bool] | None = None,
) -> tuple[list[Episode], list[torch.Tensor]]:
    """Run `len(seeds)` episodes (one per env slot) until all are done or `max_steps` have passed.

    Returns the episodes and, for the slots with `record[i]`, their rendered frames (T, H, W, 3)
    from the reset through the last step of the episode. `on_step(obs, action, next, alive)` sees
    every transition (`alive`: the slots whose episode was still running), e.g. to record a dataset.
    `stopped()`, checked before every step, ends the rollout early (its episodes are then incomplete)."""
    n = len(seeds)
    record = record or [False] * n
    generators = [torch.Generator().manual_seed(s) for s in seeds]
    td = env.reset(TensorDict({"episode_seed": torch.tensor(seeds), "record": torch.tensor(record)}, [n]))
    state = actor.reset(n)
    done = torch.zeros(n, dtype=torch.bool)
    sum_reward = torch.zeros(n, dtype=torch.float64)
    max_reward = torch.full((n,), float("-inf"), dtype=torch.float64)
    success = torch.zeros(n, dtype=torch.bool)
    length = torch.zeros(n, dtype=torch.long)
    frames = [[td["render"][i].clone()] for i in range(n) if record[i]]
    recorded = [i for i in range(n) if record[i]]
    for _ in range(max_steps):
        if stopped is not None and stopped():
            break
        obs = td.select("observation").clone(False)
        obs.set("task", NonTensorStack(*([task] * n)))
        action, state = actor.act(obs, state, generators)
        # each step's input is only the action (our envs keep their state in the workers): no step_mdp
        # bookkeeping, and no chain of past steps kept alive through "next"
        nxt = env.step(TensorDict({"action": action.to(torch.float32)}, batch_size=[n])).get("next")
        alive = ~done
        if on_step is not None:
            on_step(obs, action, nxt, alive)
        reward = nxt.get("reward").reshape(n).double()
        sum_reward += torch.where(alive, reward, 0.0)
        max_reward = torch.where(alive, torch.maximum(max_reward, reward), max_reward)
        success |= alive & nxt.get("success").reshape(n)
        length += alive.long()
        for slot, i in enumerate(recorded):
            if alive[i]:
                frames[slot].append(nxt["render"][i].clone())
        done |= nxt.get("done").reshape(n)
        if bool(done.all()):
            break
        td = nxt
    episodes = [
        Episode(seeds[i], float(sum_reward[i]), float(max_reward[i]), bool(success[i]), int(length[i]))
        for i in range(n)
    ]
    return episodes, [torch.stack(f) for f in frames]
