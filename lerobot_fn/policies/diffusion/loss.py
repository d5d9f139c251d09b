"""Diffusion Policy training loss (LeRobot's `DiffusionPolicy.forward`), randomness from a generator.

Noise a clean action trajectory to a random timestep, predict the noise ("epsilon") or the clean
trajectory ("sample") with the UNet, and take the MSE; with `do_mask_loss_for_padding` only
in-episode actions (`~action_is_pad`) count. Draw order matches LeRobot: random-crop offsets
(training mode), then the noise, then the timesteps.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from tensordict import TensorDictBase
from torch import Tensor

from lerobot_fn.process.keys import as_batch, leaf_names

from .config import ACTION, Config
from .inference import host_to_device, randn, scheduler_for
from .model import DiffusionPolicyModel, env_state, require_state, stack_images

ACTION_IS_PAD = "action_is_pad"


def loss(
    model: DiffusionPolicyModel,
    config: Config,
    batch: TensorDictBase,
    *,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, dict[str, Tensor]]:
    """Normalised training batch -> (scalar loss, {"loss": value as a 0-d tensor}).

    batch: state (B, n_obs_steps, D), images (B, n_obs_steps, C, H, W), action (B, horizon, A),
    action_is_pad (B, horizon). Random crops apply when `model.training` (as LeRobot).
    """
    batch = as_batch(batch)
    for key in (ACTION, ACTION_IS_PAD):
        if key not in batch:
            raise KeyError(f"diffusion loss: batch is missing {key!r} (have {leaf_names(batch)})")
    state = require_state(batch, 3, "(B, n_obs_steps, state_dim)")
    trajectory = batch.get(ACTION)
    is_pad = batch.get(ACTION_IS_PAD)
    a_dim = config.action_feature.shape[0]
    if trajectory.ndim != 3 or trajectory.shape[1] != config.horizon or trajectory.shape[2] != a_dim:
        raise ValueError(
            f"diffusion loss: {ACTION!r} has shape {tuple(trajectory.shape)}, expected (B, horizon={config.horizon}, {a_dim})"
        )
    if state.shape[1] != config.n_obs_steps:
        raise ValueError(
            f"diffusion loss: {state.shape[1]} observation steps in the batch, config n_obs_steps is {config.n_obs_steps}"
        )
    if tuple(is_pad.shape) != tuple(trajectory.shape[:2]):
        raise ValueError(
            f"diffusion loss: {ACTION_IS_PAD!r} has shape {tuple(is_pad.shape)}, expected {tuple(trajectory.shape[:2])}"
        )
    images = stack_images(config, batch, history=True, lift_frames=config.n_obs_steps == 1)
    cond = model.diffusion.global_conditioning(
        state, images, env_state(config, batch), train_crop=model.training, generator=generator
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
        mask = (~is_pad.bool()).unsqueeze(-1)
        value = (err * mask).sum() / (mask.sum() * err.shape[-1]).clamp_min(1)
    else:
        value = err.mean()
    return value, {"loss": value.detach()}  # a 0-d tensor: no device sync per step
