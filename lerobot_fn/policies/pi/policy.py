"""pi0 / pi05 as pure functions: sample an action chunk, step an episode with an explicit action-queue
state, and the flow-matching training loss (LeRobot's `predict_action_chunk`, `select_action`, `forward`).

`noise` is x_1, (B, chunk_size, max_action_dim); when not given it is drawn from `generator` (or
torch's default RNG, as LeRobot does).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from tensordict import TensorDictBase
from torch import Tensor

from lerobot_fn.policies.vla.batch import as_batch, optional, refuse_rtc
from lerobot_fn.policies.vla.flow_matching import State, check_noise, initial_state, queue_step, sample_time
from lerobot_fn.process.keys import leaf_names
from lerobot_fn.process.padding import pad_vector

from .config import ACTION, PiConfig
from .model import PiPolicy, model_inputs

__all__ = ["State", "initial_state", "loss", "predict_chunk", "sample_actions", "select_action"]


def sample_actions(model: PiPolicy, config: PiConfig, batch: TensorDictBase | Mapping[str, Tensor], *,
                   noise: Tensor | None = None, generator: torch.Generator | None = None) -> Tensor:
    """(B, chunk_size, max_action_dim) normalised, padded actions for a preprocessed batch."""
    images, masks, tokens, lang_mask, state = model_inputs(config, batch)
    shape = (tokens.shape[0], config.chunk_size, config.max_action_dim)
    noise = check_noise(noise, shape, tokens.device, generator, config.type)
    return model.model(images, masks, tokens, lang_mask, state, noise)


def predict_chunk(model: PiPolicy, config: PiConfig, batch: TensorDictBase | Mapping[str, Tensor], *,
                  noise: Tensor | None = None, generator: torch.Generator | None = None) -> Tensor:
    """(B, chunk_size, action_dim) normalised actions (LeRobot's `predict_action_chunk`)."""
    refuse_rtc(config)
    actions = sample_actions(model, config, batch, noise=noise, generator=generator)
    return actions[:, :, : config.action_feature.shape[0]]


def select_action(model: PiPolicy, config: PiConfig, batch: TensorDictBase | Mapping[str, Tensor], state: State, *,
                  noise: Tensor | None = None, generator: torch.Generator | None = None) -> tuple[Tensor, State]:
    """One control step: (B, action_dim) normalised action. A new chunk is sampled only when the queue
    is empty (`noise` / `generator` are used only then); its first `n_action_steps` actions are queued."""
    return queue_step(state, config.n_action_steps,
                      lambda: predict_chunk(model, config, batch, noise=noise, generator=generator))


def loss(model: PiPolicy, config: PiConfig, batch: TensorDictBase | Mapping[str, Tensor], *,
         generator: torch.Generator | None = None, noise: Tensor | None = None, time: Tensor | None = None
         ) -> tuple[Tensor, dict[str, Any]]:
    """(scalar loss, metrics as 0-d tensors) for a preprocessed batch with `action` (B, chunk, A).

    x_t = t * noise + (1 - t) * actions, target u_t = noise - actions; the loss is the MSE of u_t and
    v_t over every step and real action dimension. As LeRobot's pi0/pi05, `action_is_pad` is not
    used: steps past an episode's end (copies of its last action) count too."""
    batch = as_batch(batch)
    if optional(batch, ACTION) is None:
        raise KeyError(f"{config.type} loss: the batch has no {ACTION!r} (have {leaf_names(batch)})")
    actions = pad_vector(batch.get(ACTION), config.max_action_dim)
    if actions.ndim != 3 or actions.shape[1] != config.chunk_size:
        raise ValueError(f"{config.type} loss: {ACTION!r} has shape {tuple(batch.get(ACTION).shape)}, expected "
                         f"(B, chunk_size={config.chunk_size}, action_dim)")
    noise = check_noise(noise, tuple(actions.shape), actions.device, generator, config.type)
    if time is None:
        time = sample_time(actions.shape[0], actions.device, generator, alpha=config.time_sampling_beta_alpha,
                           beta=config.time_sampling_beta_beta, scale=config.time_sampling_scale,
                           offset=config.time_sampling_offset, label=f"{config.type} loss")
    t = time[:, None, None]
    x_t = t * noise + (1 - t) * actions
    u_t = noise - actions
    images, masks, tokens, lang_mask, state = model_inputs(config, batch)
    cache = model.model.prefill(images, masks, tokens, lang_mask)
    v_t = model.model.velocity(cache, state, x_t, time)
    losses = F.mse_loss(u_t, v_t, reduction="none")[:, :, : config.action_feature.shape[0]]
    total = losses.mean()
    return total, {"loss": total.detach()}
