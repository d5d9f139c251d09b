"""ACT's training presets (LeRobot 0.6.1): AdamW settings and the backbone's own learning rate."""

from __future__ import annotations

from typing import Any

import torch

from .config import Config


def optimizer_preset(config: Config) -> dict[str, Any]:
    """LeRobot's `ACTConfig.get_optimizer_preset()`: AdamW(lr, weight_decay), betas/eps at AdamW's
    LeRobot defaults, gradients clipped to norm 10; no learning-rate scheduler."""
    return {
        "type": "adamw",
        "lr": config.optimizer_lr,
        "betas": (0.9, 0.999),
        "eps": 1e-8,
        "weight_decay": config.optimizer_weight_decay,
        "grad_clip_norm": 10.0,
        "scheduler": None,
    }


def param_groups(model: torch.nn.Module, config: Config) -> list[dict[str, Any]]:
    """LeRobot's `ACTPolicy.get_optim_params()`: the backbone gets `optimizer_lr_backbone`."""
    rest, backbone = [], []
    for name, p in model.named_parameters():
        if p.requires_grad:
            (backbone if name.startswith("model.backbone") else rest).append(p)
    return [{"params": rest}, {"params": backbone, "lr": config.optimizer_lr_backbone}]


def make_optimizer(model: torch.nn.Module, config: Config) -> torch.optim.AdamW:
    """The AdamW optimizer LeRobot builds for ACT (clip gradients to `grad_clip_norm` yourself)."""
    preset = optimizer_preset(config)
    return torch.optim.AdamW(
        param_groups(model, config),
        lr=preset["lr"],
        betas=preset["betas"],
        eps=preset["eps"],
        weight_decay=preset["weight_decay"],
    )
