"""Optimizers and learning-rate schedules from a family's presets (LeRobot's semantics, pure).

`make_optimizer(policy)` builds LeRobot's optimizer for the policy's family over its parameter
groups; `make_scheduler(preset, optimizer, total_steps)` builds the schedule diffusers'
`get_scheduler(name, num_warmup_steps, num_training_steps)` returns (a `LambdaLR`), so learning
rates match LeRobot's step for step.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import attrs
import torch

from lerobot_fn.policies.family import OptimizerPreset, SchedulerPreset

OPTIMIZERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}
SCHEDULES = ("constant", "constant_with_warmup", "linear", "cosine")


def make_optimizer(policy: Any, preset: OptimizerPreset | None = None, *, lr: float | None = None
                   ) -> torch.optim.Optimizer:
    """The optimizer LeRobot builds for `policy` (family preset and parameter groups); `preset`
    replaces the family's, `lr` only its learning rate (groups with their own lr keep it)."""
    family, config = policy.family, policy.config
    preset = preset or family.optimizer_preset(config)
    if lr is not None:
        preset = attrs.evolve(preset, lr=lr)
    kind = OPTIMIZERS.get(preset.type)
    if kind is None:
        raise ValueError(f"optimizer type {preset.type!r} is not supported; known: {', '.join(OPTIMIZERS)}")
    groups = family.param_groups(policy.model, config)
    return kind(groups, lr=preset.lr, betas=preset.betas, eps=preset.eps, weight_decay=preset.weight_decay)


def lr_lambda(preset: SchedulerPreset, total_steps: int) -> Callable[[int], float]:
    """The learning-rate factor at each step, as diffusers' schedules compute it (cosine: half a cycle)."""
    if preset.name not in SCHEDULES:
        raise ValueError(f"scheduler {preset.name!r} is not supported; known: {', '.join(SCHEDULES)}")
    warmup = preset.num_warmup_steps

    def factor(step: int) -> float:
        if preset.name == "constant":
            return 1.0
        if step < warmup:
            return float(step) / float(max(1, warmup))
        if preset.name == "constant_with_warmup":
            return 1.0
        if preset.name == "linear":
            return max(0.0, float(total_steps - step) / float(max(1, total_steps - warmup)))
        progress = float(step - warmup) / float(max(1, total_steps - warmup))
        return max(0.0, 0.5 * (1.0 + math.cos(math.pi * 0.5 * 2.0 * progress)))

    return factor


def make_scheduler(preset: SchedulerPreset | None, optimizer: torch.optim.Optimizer, total_steps: int
                   ) -> torch.optim.lr_scheduler.LRScheduler | None:
    """`LambdaLR` for `preset` over `total_steps` optimizer steps (None: constant learning rate)."""
    if preset is None:
        return None
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda(preset, total_steps))
