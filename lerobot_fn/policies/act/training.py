"""ACT's training presets (LeRobot 0.6.1 `ACTConfig`): AdamW, the backbone's own learning rate, no schedule."""

from __future__ import annotations

from typing import Any

import torch

from lerobot_fn.policies.family import OptimizerPreset

from .config import Config


def optimizer_preset(config: Config) -> OptimizerPreset:
    """`ACTConfig.get_optimizer_preset()`: AdamW(lr=optimizer_lr, weight_decay=optimizer_weight_decay),
    betas (0.9, 0.999), eps 1e-8, gradients clipped to norm 10 (AdamWConfig's defaults)."""
    return OptimizerPreset("adamw", lr=config.optimizer_lr, weight_decay=config.optimizer_weight_decay)


def scheduler_preset(config: Config) -> None:
    """`ACTConfig.get_scheduler_preset()`: none, the learning rate stays constant."""


def param_groups(model: torch.nn.Module, config: Config) -> list[dict[str, Any]]:
    """`ACTPolicy.get_optim_params()`: the backbone gets `optimizer_lr_backbone`."""
    rest, backbone = [], []
    for name, p in model.named_parameters():
        if p.requires_grad:
            (backbone if name.startswith("model.backbone") else rest).append(p)
    return [{"params": rest}, {"params": backbone, "lr": config.optimizer_lr_backbone}]
