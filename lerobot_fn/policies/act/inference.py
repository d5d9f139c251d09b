"""ACT inference as pure functions: one chunk, or one control step with an explicit `State`.

`select_action` reproduces LeRobot's `ACTPolicy.reset()` followed by one `select_action` call per
frame: an action queue refilled with the first `n_action_steps` actions of a new chunk when it
runs dry, or, with `temporal_ensemble_coeff` set, a new chunk every step averaged online with the
earlier chunks' predictions for the same time step (weights exp(-coeff * i), i = 0 the oldest).
"""

from __future__ import annotations

import attrs
import torch
from tensordict import TensorDictBase
from torch import Tensor

from lerobot_fn.process.keys import as_batch, dotted, leaf_names

from .config import Config
from .model import in_keys


@attrs.frozen
class State:
    """Per-episode inference state; a value, never mutated (each step returns a new one).

    action_queue: (B, k, action_dim) actions still to execute (None when empty).
    ensembled_actions: (B, chunk_size - 1, action_dim) running weighted means of the predictions
      for the coming steps (temporal ensembling), with ensembled_count (chunk_size - 1, 1) the
      number of predictions averaged into each.
    """

    action_queue: Tensor | None = None
    ensembled_actions: Tensor | None = None
    ensembled_count: Tensor | None = None


def initial_state(config: Config) -> State:
    """The state at the start of an episode (LeRobot's `policy.reset()`)."""
    return State()


def predict_chunk(model: torch.nn.Module, config: Config, batch: TensorDictBase, *, noise=None) -> Tensor:
    """(B, chunk_size, action_dim) normalized actions for a preprocessed batch (model in eval mode).

    `batch` is a nested TensorDict (or a `{dotted_name: Tensor}` mapping, nested once here).

    ACT draws no randomness at inference (the latent is zero), so `noise` must be None.
    """
    if noise is not None:
        raise ValueError("ACT inference is deterministic and takes no noise; pass noise=None")
    if model.training:
        raise RuntimeError("ACT predict_chunk needs the model in eval mode (call model.eval() first)")
    batch = as_batch(batch)
    _check_batch(config, batch)
    actions, _ = model(batch)
    return actions


def select_action(
    model: torch.nn.Module, config: Config, batch: TensorDictBase, state: State, *, noise=None
) -> tuple[Tensor, State]:
    """One control step: (B, action_dim) normalized action and the next state."""
    if config.temporal_ensemble_coeff is not None:
        chunk = predict_chunk(model, config, batch, noise=noise)
        return ensemble_step(config, chunk, state)
    queue = state.action_queue
    if queue is None or queue.shape[1] == 0:
        # A copy, not a view: a compiled model (CUDA graphs) may reuse its output buffer next call.
        queue = predict_chunk(model, config, batch, noise=noise)[:, : config.n_action_steps].clone()
    return queue[:, 0], attrs.evolve(state, action_queue=queue[:, 1:])


def ensemble_step(config: Config, chunk: Tensor, state: State) -> tuple[Tensor, State]:
    """Fold a new (B, chunk_size, A) prediction into the running ensemble; pop the current action.

    Online weighted mean: an entry averaged over n predictions with weights w_0..w_{n-1} takes the
    new prediction with weight w_n: avg' = (avg * W_{n-1} + a * w_n) / W_n, W the cumulative sum.
    """
    n = config.chunk_size
    weights = torch.exp(-config.temporal_ensemble_coeff * torch.arange(n, device=chunk.device))
    cumulative = torch.cumsum(weights, dim=0)
    if state.ensembled_actions is None:
        averaged = chunk.clone()  # kept across steps: must not alias the model's output buffer
        count = torch.ones((n, 1), dtype=torch.long, device=chunk.device)
    else:
        previous, prev_count = state.ensembled_actions, state.ensembled_count  # (B, n-1, A), (n-1, 1)
        updated = previous * cumulative[prev_count - 1]
        updated = updated + chunk[:, :-1] * weights[prev_count]
        updated = updated / cumulative[prev_count]
        averaged = torch.cat([updated, chunk[:, -1:]], dim=1)  # the newest step has only this prediction
        count = torch.cat([torch.clamp(prev_count + 1, max=n), torch.ones_like(prev_count[-1:])])
    return averaged[:, 0], attrs.evolve(state, ensembled_actions=averaged[:, 1:], ensembled_count=count[1:])


def _check_batch(config: Config, batch: TensorDictBase) -> None:
    """Every key ACT reads (`model.in_keys`) is in the batch (named in dotted form if not)."""
    present = set(batch.keys(include_nested=True, leaves_only=True))
    missing = [dotted(k) for k in in_keys(config) if k not in present]
    if missing:
        raise KeyError(f"ACT batch is missing {missing} (it has {leaf_names(batch)})")
