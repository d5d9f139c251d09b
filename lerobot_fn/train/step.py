"""`step(state, batch) -> (state, metrics)`: one optimisation step, as LeRobot's `update_policy`.

augment (optional) -> preprocess -> loss (under bf16 autocast if asked) -> backward, over
`grad_accumulation` micro-batches -> average gradients across processes (DDP) -> clip -> optimizer
step -> scheduler step -> EMA. Metrics are 0-d tensors on the device: nothing here waits for the
GPU; read them (`float(...)`) only at log steps.
"""

from __future__ import annotations

import contextlib
from typing import Any

import attrs
import torch
from tensordict import TensorDictBase

from lerobot_fn.policies.api import preprocess
from lerobot_fn.process.keys import nested_key
from lerobot_fn.train.state import TrainState


def step(state: TrainState, batch: TensorDictBase) -> tuple[TrainState, dict[str, Any]]:
    """One optimizer step on a raw training batch (observations, `action`, `action_is_pad`)."""
    policy, opts = state.policy, state.options
    model = policy.model
    if not model.training:
        model.train()
    if opts.image_transforms is not None:
        batch = augment(batch, policy.config, opts.image_transforms, state.data_generator)
    micro = _micro_batches(batch, opts.grad_accumulation)
    totals: dict[str, torch.Tensor] = {}
    for part in micro:
        with _autocast(policy.device, opts.mixed_precision):
            loss, parts = policy.family.loss(model, policy.config, preprocess(policy, part), generator=state.generator)
        (loss / len(micro)).backward()
        for name, value in {"loss": loss.detach(), **parts}.items():
            if isinstance(value, torch.Tensor):
                totals[name] = totals.get(name, 0) + value.detach().float() / len(micro)
    params = [p for p in model.parameters() if p.grad is not None]
    if opts.distributed:
        _average_across_processes([p.grad for p in params], totals)
    grad_norm = (torch.nn.utils.clip_grad_norm_(params, opts.grad_clip_norm) if opts.grad_clip_norm
                 else torch.nn.utils.get_total_norm([p.grad for p in params]))
    lr = state.lr
    state.optimizer.step()
    if state.scheduler is not None:
        state.scheduler.step()
    state.optimizer.zero_grad(set_to_none=True)
    if state.ema is not None:
        _update_ema(state.ema, model, opts.ema_decay)
    return attrs.evolve(state, step=state.step + 1), {**totals, "grad_norm": grad_norm.detach(), "lr": lr}


def _micro_batches(batch: TensorDictBase, parts: int) -> list[TensorDictBase]:
    size = batch.batch_size[0]
    if parts == 1:
        return [batch]
    if size % parts:
        raise ValueError(f"batch_size {size} is not divisible by grad_accumulation {parts}")
    each = size // parts
    return [batch[i * each:(i + 1) * each] for i in range(parts)]


def _autocast(device: torch.device, mixed_precision: str):
    if mixed_precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def _average_across_processes(grads: list[torch.Tensor], metrics: dict[str, torch.Tensor]) -> None:
    """Gradients (and the logged metrics) averaged over every process, in one flat all-reduce."""
    import torch.distributed as dist

    world = dist.get_world_size()
    names = sorted(metrics)
    flat = torch.cat([g.reshape(-1) for g in grads] + [metrics[n].reshape(1).to(grads[0].dtype) for n in names])
    dist.all_reduce(flat)
    flat /= world
    offset = 0
    for g in grads:
        g.copy_(flat[offset:offset + g.numel()].view_as(g))
        offset += g.numel()
    for n in names:
        metrics[n] = flat[offset].to(metrics[n].dtype)
        offset += 1


@torch.no_grad()
def _update_ema(ema: dict[str, torch.Tensor], model: torch.nn.Module, decay: float) -> None:
    state = model.state_dict()
    names = list(ema)
    torch._foreach_lerp_([ema[n] for n in names], [state[n].detach() for n in names], 1.0 - decay)


def augment(batch: TensorDictBase, config: Any, transform: Any, generator: torch.Generator) -> TensorDictBase:
    """Image augmentation as LeRobot applies it: per sample and per camera, `transform(image,
    generator)` (e.g. `data.random_transform` with a config); an observation history
    (T, C, H, W) gets the same parameters for every frame. `batch` itself is left unchanged."""
    keys = [nested_key(name) for name in config.image_features if nested_key(name) in batch.keys(True)]
    if not keys:
        return batch
    augmented = {key: torch.stack([transform(image, generator) for image in batch.get(key)]) for key in keys}
    out = batch.exclude(*keys)
    for key, value in augmented.items():
        out.set(key, value)
    return out
