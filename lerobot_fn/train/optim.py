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
SCHEDULES = ("constant", "constant_with_warmup", "linear", "cosine", "cosine_decay_with_warmup")


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
    return kind(groups, lr=preset.lr, betas=preset.betas, eps=preset.eps, weight_decay=preset.weight_decay,
                fused=_all_on_cuda(groups) or None)


def _all_on_cuda(groups: list[dict[str, Any]]) -> bool:
    """The fused (one-kernel) Adam is used when every parameter is a CUDA float tensor: the same
    update as LeRobot's foreach Adam up to rounding, without a launch per tensor group."""
    params = [p for g in groups for p in g["params"]]
    return bool(params) and all(p.is_cuda and p.is_floating_point() for p in params)


def lr_lambda(preset: SchedulerPreset, total_steps: int) -> Callable[[int], float]:
    """The learning-rate factor at each step, as diffusers' schedules compute it (cosine: half a cycle)."""
    if preset.name not in SCHEDULES:
        raise ValueError(f"scheduler {preset.name!r} is not supported; known: {', '.join(SCHEDULES)}")
    warmup = preset.num_warmup_steps
    if preset.name == "cosine_decay_with_warmup":
        return _cosine_decay_with_warmup(preset, total_steps)

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


def _cosine_decay_with_warmup(preset: SchedulerPreset, total_steps: int) -> Callable[[int], float]:
    """LeRobot's `CosineDecayWithWarmupSchedulerConfig`: linear warm-up from 1/(warmup+1), then cosine
    decay from peak_lr to decay_lr; both phases shrink in proportion when total_steps < num_decay_steps."""
    warmup, decay = preset.num_warmup_steps, preset.num_decay_steps
    if decay is None or preset.peak_lr is None or preset.decay_lr is None:
        raise ValueError("scheduler 'cosine_decay_with_warmup' needs num_decay_steps, peak_lr and decay_lr")
    if total_steps < decay:
        warmup, decay = int(warmup * total_steps / decay), total_steps
    alpha = preset.decay_lr / preset.peak_lr

    def factor(step: int) -> float:
        if step < warmup:
            if step <= 0:
                return 1 / (warmup + 1)
            return (1 / (warmup + 1) - 1) * (1 - step / warmup) + 1
        cosine = 0.5 * (1 + math.cos(math.pi * min(step, decay) / decay))
        return (1 - alpha) * cosine + alpha

    return factor


def make_scheduler(preset: SchedulerPreset | None, optimizer: torch.optim.Optimizer, total_steps: int
                   ) -> torch.optim.lr_scheduler.LRScheduler | None:
    """`LambdaLR` for `preset` over `total_steps` optimizer steps (None: constant learning rate)."""
    if preset is None:
        return None
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda(preset, total_steps))
