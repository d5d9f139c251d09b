"""One optimisation step, as LeRobot's training loop does it: loss, backward, clip, step."""

from __future__ import annotations

from typing import Any

import torch

from lerobot_fn.policies import loss as policy_loss


def make_optimizer(policy: Any, *, lr: float, weight_decay: float = 1e-4) -> torch.optim.Optimizer:
    """AdamW over the trainable parameters (LeRobot's ACT/Diffusion presets are AdamW/Adam-like)."""
    params = [p for p in policy.model.parameters() if p.requires_grad]
    return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)


def train_step(
    policy: Any,
    optimizer: torch.optim.Optimizer,
    batch: Any,
    *,
    generator: torch.Generator | None = None,
    grad_clip_norm: float = 10.0,
) -> dict[str, float]:
    """Update `policy.model` on one raw batch; returns the loss, its parts and the gradient norm."""
    loss, metrics = policy_loss(policy, batch, generator=generator)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    grad_norm = torch.nn.utils.clip_grad_norm_(policy.model.parameters(), grad_clip_norm)
    optimizer.step()
    return {**metrics, "loss": float(loss.detach()), "grad_norm": float(grad_norm)}
