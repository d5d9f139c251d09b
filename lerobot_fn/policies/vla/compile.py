"""`torch.compile` of a VLA flow (SmolVLA's, pi's): its two hot functions, in place.

`prefill` (the prefix through the VLM, once per chunk) and `velocity` (the expert, once per Euler
step) are compiled with static shapes. Under CUDA graphs ("reduce-overhead", "max-autotune") a
graph's outputs live in memory the next compiled call overwrites (at inference every call starts
a new graph generation), while the prefix cache serves every velocity call after it: its tensors
are copied out of the graph's memory (a few MB at batch 1) so the next graph cannot overwrite them.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

CUDA_GRAPH_MODES = frozenset({"reduce-overhead", "max-autotune"})


def _own_memory(value: Any) -> Any:
    """Tensors cloned, tuples (and NamedTuples such as a PrefixCache) rebuilt, anything else as is."""
    if isinstance(value, torch.Tensor):
        return value.clone()
    if isinstance(value, tuple):
        items = [_own_memory(v) for v in value]
        return type(value)(*items) if hasattr(value, "_fields") else tuple(items)
    return value


def compile_flow(flow: nn.Module, mode: str | None = None) -> None:
    """Replace `flow.prefill` and `flow.velocity` by their compiled versions (instance attributes:
    parameter names, hence checkpoints, unchanged; `del flow.prefill` returns to the eager method)."""
    prefill = torch.compile(flow.prefill, mode=mode, dynamic=False)
    if mode in CUDA_GRAPH_MODES:
        def prefill_kept(*args: Any, **kwargs: Any) -> Any:
            return _own_memory(prefill(*args, **kwargs))
        flow.prefill = prefill_kept
    else:
        flow.prefill = prefill
    flow.velocity = torch.compile(flow.velocity, mode=mode, dynamic=False)
