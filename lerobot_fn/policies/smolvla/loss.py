"""SmolVLA's flow-matching training loss (LeRobot's `SmolVLAPolicy.forward`, reduction "mean").

x_t = t * noise + (1 - t) * actions, target u_t = noise - actions, loss = MSE(u_t, v_t) over the
real action dimensions and the in-episode steps (`action_is_pad` masks the rest). Noise is N(0, 1);
t ~ Beta(1.5, 1.0) * 0.999 + 0.001. Both are drawn in LeRobot's order (noise, then time on the
CPU) from `generator`, or torch's default RNG; or pass them explicitly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from tensordict import TensorDictBase
from torch import Tensor

from lerobot_fn.policies.vla.batch import as_batch, optional
from lerobot_fn.policies.vla.flow_matching import check_noise, sample_time
from lerobot_fn.process.keys import leaf_names
from lerobot_fn.process.padding import pad_vector

from .config import ACTION, Config
from .model import SmolVLAPolicy, prefill

__all__ = ["loss", "sample_time"]

def loss(model: SmolVLAPolicy, config: Config, batch: TensorDictBase | Mapping[str, Tensor], *,
         generator: torch.Generator | None = None, noise: Tensor | None = None, time: Tensor | None = None
         ) -> tuple[Tensor, dict[str, Any]]:
    """(scalar loss, metrics as 0-d tensors) for a preprocessed batch with `action` (B, chunk, A)."""
    batch = as_batch(batch)
    if optional(batch, ACTION) is None:
        raise KeyError(f"smolvla loss: the batch has no {ACTION!r} (have {leaf_names(batch)})")
    actions = pad_vector(batch.get(ACTION), config.max_action_dim)
    if actions.ndim != 3 or actions.shape[1] != config.chunk_size:
        raise ValueError(f"smolvla loss: {ACTION!r} has shape {tuple(batch.get(ACTION).shape)}, expected "
                         f"(B, chunk_size={config.chunk_size}, action_dim)")
    noise = check_noise(noise, tuple(actions.shape), actions.device, generator, "smolvla")
    if time is None:
        time = sample_time(actions.shape[0], actions.device, generator, label="smolvla loss")
    t = time[:, None, None]
    x_t = t * noise + (1 - t) * actions
    u_t = noise - actions
    cache = prefill(model, config, batch)
    v_t = model.model.velocity(cache, x_t, time)
    losses = F.mse_loss(u_t, v_t, reduction="none")[:, :, : config.action_feature.shape[0]]
    metrics = {"losses_after_forward": losses.detach().mean()}
    pad = optional(batch, "action_is_pad")
    if pad is None:
        total = losses.mean()
    else:
        losses = losses * (~pad).unsqueeze(-1)
        metrics["losses_after_in_ep_bound"] = losses.detach().mean()
        total = losses.sum() / ((~pad).sum() * losses.shape[-1]).clamp_min(1)
    metrics["loss"] = total.detach()
    return total, metrics
