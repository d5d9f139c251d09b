"""Diffusion Policy's training presets (LeRobot 0.6.1 `DiffusionConfig`): Adam and a cosine schedule
with warm-up, as diffusers' `get_scheduler("cosine", num_warmup_steps=500)` builds it."""

from __future__ import annotations

from typing import Any

import torch

from lerobot_fn.policies.family import OptimizerPreset, SchedulerPreset

from .config import Config


def optimizer_preset(config: Config) -> OptimizerPreset:
    """`DiffusionConfig.get_optimizer_preset()`: Adam(lr 1e-4, betas (0.95, 0.999), eps 1e-8,
    weight_decay 1e-6) by default; gradients clipped to norm 10 (AdamConfig's default)."""
    b1, b2 = config.optimizer_betas
    return OptimizerPreset("adam", lr=config.optimizer_lr, betas=(b1, b2), eps=config.optimizer_eps,
                           weight_decay=config.optimizer_weight_decay)


def scheduler_preset(config: Config) -> SchedulerPreset:
    """`DiffusionConfig.get_scheduler_preset()`: `scheduler_name` ("cosine") with
    `scheduler_warmup_steps` (500) linear warm-up steps."""
    return SchedulerPreset(config.scheduler_name, num_warmup_steps=config.scheduler_warmup_steps)


def param_groups(model: torch.nn.Module, config: Config) -> list[dict[str, Any]]:
    """`DiffusionPolicy.get_optim_params()`: every parameter, one group."""
    return [{"params": [p for p in model.parameters() if p.requires_grad]}]
