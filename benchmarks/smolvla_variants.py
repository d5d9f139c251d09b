"""bench_smolvla.py's fine-tuning variants of lerobot-fn and its profiler summary.

Each variant is a context manager that changes the loaded lerobot-fn policy in place for one
measurement and undoes the change on exit, so one process measures them all on the same weights:
- `gqa`: attention as before session 4 (SDPA's `enable_gqa` on un-expanded K/V), for before/after;
- `castfrozen`: the frozen VLM's Linear/Conv2d weights stored in bfloat16 (under autocast the same
  values the per-step casts make, without the casts);
- `compile-vision`: `torch.compile` of SigLIP + connector only (frozen: an inference graph);
- `compile`: the train job's `compile = true` (`train.compile_for_training`).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F


@contextlib.contextmanager
def gqa(policy: Any, init: dict) -> Iterator[None]:
    from lerobot_fn.policies.smolvla import vlm

    def attend(q, k, v, bias, scale):
        dtype = torch.promote_types(q.dtype, k.dtype)
        q, k, v = (t.to(dtype).transpose(1, 2) for t in (q, k, v))
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias.to(dtype), scale=scale,
                                             enable_gqa=q.shape[1] != k.shape[1])
        return out.transpose(1, 2).flatten(2)

    saved, vlm.attend = vlm.attend, attend
    try:
        yield
    finally:
        vlm.attend = saved


@contextlib.contextmanager
def castfrozen(policy: Any, init: dict) -> Iterator[None]:
    vlm = policy.model.model.vlm_with_expert.vlm
    frozen = [m for m in vlm.modules() if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d))
              and not any(p.requires_grad for p in m.parameters())]
    for m in frozen:
        m.to(torch.bfloat16)
    try:
        yield
    finally:
        for m in frozen:
            m.float()
        policy.model.load_state_dict(init)


@contextlib.contextmanager
def compile_vision(policy: Any, init: dict) -> Iterator[None]:
    expert = policy.model.model.vlm_with_expert
    expert.embed_image = torch.compile(expert.embed_image, dynamic=False)
    try:
        yield
    finally:
        expert.__dict__.pop("embed_image", None)


@contextlib.contextmanager
def compile_training(policy: Any, init: dict) -> Iterator[None]:
    from lerobot_fn.train import compile_for_training

    compile_for_training(policy)
    try:
        yield
    finally:
        for name in ("prefill", "velocity"):  # back to the eager methods
            policy.model.model.__dict__.pop(name, None)


TRAIN_VARIANTS: dict[str, Callable[[Any, dict], contextlib.AbstractContextManager]] = {
    "gqa": gqa, "castfrozen": castfrozen, "compile-vision": compile_vision, "compile": compile_training}


def profile(step: Callable[[], None], steps: int, path: Path, cuda: bool) -> dict[str, float]:
    """Profile `steps` calls of `step` (after one untimed call); write the top ops by self device
    time (and by self CPU time) to `path`; return wall and summed kernel time per step (ms)."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
    step()
    if cuda:
        torch.cuda.synchronize()
    with torch_profile(activities=activities) as prof:
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        if cuda:
            torch.cuda.synchronize()
        wall = (time.perf_counter() - t0) * 1e3 / steps
    table = prof.key_averages()
    kernel_us = sum(e.self_device_time_total for e in table if e.device_type == torch.autograd.DeviceType.CUDA)
    sort = "self_cuda_time_total" if cuda else "self_cpu_time_total"
    text = [f"# {steps} steps: wall {wall:.1f} ms/step, kernels {kernel_us / 1e3 / steps:.1f} ms/step",
            table.table(sort_by=sort, row_limit=45, max_name_column_width=90),
            table.table(sort_by="self_cpu_time_total", row_limit=20, max_name_column_width=90)]
    path.write_text("\n".join(text))
    return {"wall_ms": wall, "kernel_ms": kernel_us / 1e3 / steps}
