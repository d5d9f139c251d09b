"""`torch.compile` for training: the parts of a model whose forward is the same graph every step.

A training forward draws randomness on the host (Diffusion's random crop offsets, ACT's latent
seed) from a `torch.Generator`; Dynamo cannot trace a generator and would specialise on the drawn
integers, recompiling every step until it gives up. So a module whose `forward` takes a
`generator` runs eagerly and its children are compiled instead; every other module that owns a
`forward` is compiled whole, with static shapes (a training batch never changes shape). A family
may name its own targets (`compile_for_training(model, mode)`, else its `compile_model`, as
SmolVLA's prefix pass and velocity field, which draw nothing either). Compiling is in place (`Module.compile`): parameter names, hence checkpoints, are unchanged.
"""

from __future__ import annotations

import inspect
from typing import Any

import torch


def compile_targets(module: torch.nn.Module) -> list[torch.nn.Module]:
    """The outermost modules with their own `forward` that take no `generator` (searched inside
    containers and inside the modules that draw randomness)."""
    forward = type(module).forward
    owns = forward is not torch.nn.Module.forward and not isinstance(module, (torch.nn.ModuleList, torch.nn.ModuleDict))
    if owns and "generator" not in inspect.signature(forward).parameters:
        return [module]
    return [m for child in module.children() for m in compile_targets(child)]


def compile_for_training(policy: Any, mode: str | None = None, *, backend: Any = "inductor") -> list[str]:
    """Compile `policy.model` for training in place; returns the compiled modules' names."""
    model = policy.model
    own = getattr(policy.family, "compile_for_training", None) or getattr(policy.family, "compile_model", None)
    if own is not None:
        own(model, mode=mode)
        return ["(family's own targets)"]
    names = {id(m): n for n, m in model.named_modules()}
    targets = compile_targets(model)
    for target in targets:
        target.compile(mode=mode, dynamic=False, backend=backend)
    return [names[id(t)] or type(t).__name__ for t in targets]
