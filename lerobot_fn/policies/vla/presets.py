"""The training presets of LeRobot's VLA configs (SmolVLA, pi0, pi05): AdamW with the config's
`optimizer_*` values and openpi's cosine decay with linear warm-up (`scheduler_*`)."""

from __future__ import annotations

from typing import Any

import torch

from lerobot_fn.policies.family import OptimizerPreset, SchedulerPreset


def optimizer_preset(config: Any) -> OptimizerPreset:
    """`get_optimizer_preset()`: AdamW(optimizer_lr, optimizer_betas, optimizer_eps,
    optimizer_weight_decay), gradients clipped to `optimizer_grad_clip_norm`."""
    b1, b2 = config.optimizer_betas
    return OptimizerPreset("adamw", lr=config.optimizer_lr, betas=(b1, b2), eps=config.optimizer_eps,
                           weight_decay=config.optimizer_weight_decay,
                           grad_clip_norm=float(config.optimizer_grad_clip_norm))


def scheduler_preset(config: Any) -> SchedulerPreset:
    """`get_scheduler_preset()`: warm up for `scheduler_warmup_steps` to `optimizer_lr`, then cosine
    decay to `scheduler_decay_lr` over `scheduler_decay_steps` (both scaled down when training is shorter)."""
    return SchedulerPreset("cosine_decay_with_warmup", num_warmup_steps=config.scheduler_warmup_steps,
                           num_decay_steps=config.scheduler_decay_steps, peak_lr=config.optimizer_lr,
                           decay_lr=config.scheduler_decay_lr)


def param_groups(model: torch.nn.Module, config: Any) -> list[dict[str, Any]]:
    """`get_optim_params()`: one group of the parameters that train (the frozen parts are left out;
    AdamW would skip them anyway, as they never get a gradient)."""
    return [{"params": [p for p in model.parameters() if p.requires_grad]}]
