"""Diffusion Policy training loss (LeRobot's `DiffusionPolicy.forward`), randomness from a generator.

Noise a clean action trajectory to a random timestep, predict the noise ("epsilon") or the clean
trajectory ("sample") with the UNet, and take the MSE; with `do_mask_loss_for_padding` only
in-episode actions (`~action_is_pad`) count. Draw order matches LeRobot: random-crop offsets
(training mode), then the noise, then the timesteps.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import Tensor

from .config import ACTION, Config
from .inference import _env_state, host_to_device, randn, scheduler_for
from .model import DiffusionPolicyModel, require_state, stack_images

ACTION_IS_PAD = "action_is_pad"


def loss(
    model: DiffusionPolicyModel,
    config: Config,
    batch: Mapping[str, Tensor],
    *,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, dict[str, Tensor]]:
    """Normalised training batch -> (scalar loss, {"loss": value as a 0-d tensor}).

    batch: state (B, n_obs_steps, D), images (B, n_obs_steps, C, H, W), action (B, horizon, A),
    action_is_pad (B, horizon). Random crops apply when `model.training` (as LeRobot).
    """
    batch = dict(batch)
    if config.n_obs_steps == 1:
        for k in config.image_features:
            if k in batch and batch[k].ndim == 4:
                batch[k] = batch[k].unsqueeze(1)
    for key in (ACTION, ACTION_IS_PAD):
        if key not in batch:
            raise KeyError(f"diffusion loss: batch is missing {key!r} (have {sorted(batch)})")
    state = require_state(batch, 3, "(B, n_obs_steps, state_dim)")
    trajectory = batch[ACTION]
    a_dim = config.action_feature.shape[0]
    if trajectory.ndim != 3 or trajectory.shape[1] != config.horizon or trajectory.shape[2] != a_dim:
        raise ValueError(
            f"diffusion loss: {ACTION!r} has shape {tuple(trajectory.shape)}, expected (B, horizon={config.horizon}, {a_dim})"
        )
    if state.shape[1] != config.n_obs_steps:
        raise ValueError(
            f"diffusion loss: {state.shape[1]} observation steps in the batch, config n_obs_steps is {config.n_obs_steps}"
        )
    if tuple(batch[ACTION_IS_PAD].shape) != tuple(trajectory.shape[:2]):
        raise ValueError(
            f"diffusion loss: {ACTION_IS_PAD!r} has shape {tuple(batch[ACTION_IS_PAD].shape)}, expected {tuple(trajectory.shape[:2])}"
        )
    images = stack_images(config, batch, history=True)
    cond = model.diffusion.global_conditioning(
        state, images, _env_state(config, batch), train_crop=model.training, generator=generator
    )

    sched = scheduler_for(config)
    device = trajectory.device
    eps = randn(trajectory.shape, generator, device, trajectory.dtype)
    draw_on = generator.device if generator is not None else device
    timesteps = torch.randint(
        0, config.num_train_timesteps, (trajectory.shape[0],), device=draw_on, generator=generator
    )
    timesteps = host_to_device(timesteps.long(), device)
    noisy = sched.add_noise(trajectory, eps, timesteps)
    pred = model.diffusion.unet(noisy, timesteps, global_cond=cond)
    target = eps if config.prediction_type == "epsilon" else trajectory
    err = F.mse_loss(pred, target, reduction="none")  # (B, horizon, A)

    if config.do_mask_loss_for_padding:
        mask = (~batch[ACTION_IS_PAD].bool()).unsqueeze(-1)
        value = (err * mask).sum() / (mask.sum() * err.shape[-1]).clamp_min(1)
    else:
        value = err.mean()
    return value, {"loss": value.detach()}  # a 0-d tensor: no device sync per step
