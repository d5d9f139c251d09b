"""SmolVLA's training presets (LeRobot 0.6.1 `SmolVLAConfig`): AdamW and openpi's cosine decay with
linear warm-up (LeRobot's `CosineDecayWithWarmupSchedulerConfig`)."""

from __future__ import annotations

from typing import Any

import torch

from lerobot_fn.policies.family import OptimizerPreset, SchedulerPreset

from .config import Config


def optimizer_preset(config: Config) -> OptimizerPreset:
    """`SmolVLAConfig.get_optimizer_preset()`: AdamW(lr 1e-4, betas (0.9, 0.95), eps 1e-8,
    weight_decay 1e-10), gradients clipped to norm 10."""
    b1, b2 = config.optimizer_betas
    return OptimizerPreset("adamw", lr=config.optimizer_lr, betas=(b1, b2), eps=config.optimizer_eps,
                           weight_decay=config.optimizer_weight_decay,
                           grad_clip_norm=float(config.optimizer_grad_clip_norm))


def scheduler_preset(config: Config) -> SchedulerPreset:
    """`SmolVLAConfig.get_scheduler_preset()`: warm up for 1000 steps to `optimizer_lr`, then cosine
    decay to `scheduler_decay_lr` over 30000 steps (both scaled down when training is shorter)."""
    return SchedulerPreset("cosine_decay_with_warmup", num_warmup_steps=config.scheduler_warmup_steps,
                           num_decay_steps=config.scheduler_decay_steps, peak_lr=config.optimizer_lr,
                           decay_lr=config.scheduler_decay_lr)


def param_groups(model: torch.nn.Module, config: Config) -> list[dict[str, Any]]:
    """`SmolVLAPolicy.get_optim_params()`: one group; the frozen parts (`freeze_vision_encoder`,
    `train_expert_only`, `train_state_proj`) have requires_grad False and are left out."""
    return [{"params": [p for p in model.parameters() if p.requires_grad]}]
