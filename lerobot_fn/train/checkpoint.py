"""A `TrainState` as plain values (tensors + JSON) and back: what `training_state/` holds.

Names follow LeRobot's `training_state/` files: `optimizer_state.safetensors` (the optimizer's
`state`, flattened with "/" as LeRobot's `flatten_dict`), `optimizer_param_groups.json`,
`scheduler_state.json`, `rng_state.safetensors` (the generators' states), `training_step.json`.
Pure: the run-directory shell (`jobs.train_checkpoint`) reads and writes the files.
"""

from __future__ import annotations

from typing import Any

import attrs
import torch

from lerobot_fn.train.state import TrainState

IMPLEMENTATION = ("fused", "foreach")  # param-group flags of the kernel choice, kept from the live optimizer


def optimizer_state(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], list[dict]]:
    """(flat tensors "state/<param index>/<name>", param_groups as JSON-able dicts)."""
    state_dict = optimizer.state_dict()
    flat = {}
    for index, values in state_dict["state"].items():
        for name, value in values.items():
            tensor = value if isinstance(value, torch.Tensor) else torch.tensor(value)
            flat[f"state/{index}/{name}"] = tensor.detach().to("cpu", copy=True).contiguous()  # a value, not a view
    groups = [{k: list(v) if isinstance(v, tuple) else v for k, v in g.items()} for g in state_dict["param_groups"]]
    for group in groups:  # how this machine runs the update is not the run's state: written as LeRobot's
        group.update({k: None for k in IMPLEMENTATION if k in group})
    return flat, groups


def load_optimizer_state(optimizer: torch.optim.Optimizer, flat: dict[str, torch.Tensor], groups: list[dict]) -> None:
    """Restore what `optimizer_state` returned (tuples such as `betas` come back as tuples)."""
    current = optimizer.state_dict()["param_groups"]
    if len(groups) != len(current) or any(len(a["params"]) != len(b["params"]) for a, b in zip(groups, current)):
        raise ValueError(f"optimizer state has {[len(g['params']) for g in groups]} parameters per group, "
                         f"this policy's optimizer {[len(g['params']) for g in current]}: not the same policy")
    restored_groups = [{**{k: tuple(v) if isinstance(cur.get(k), tuple) else v for k, v in g.items()},
                        **{k: cur[k] for k in IMPLEMENTATION if k in cur}}
                       for g, cur in zip(groups, current)]
    state: dict[int, dict[str, torch.Tensor]] = {}
    for key, tensor in flat.items():
        _, index, name = key.split("/", 2)
        state.setdefault(int(index), {})[name] = tensor
    optimizer.load_state_dict({"state": state, "param_groups": restored_groups})


def rng_state(state: TrainState) -> dict[str, torch.Tensor]:
    return {"generator": state.generator.get_state(), "data_generator": state.data_generator.get_state()}


def training_state(state: TrainState) -> dict[str, Any]:
    """Everything but the policy weights: {"optimizer": (flat, groups), "scheduler": dict | None,
    "rng": tensors, "ema": tensors | None, "step": int}."""
    return {
        "optimizer": optimizer_state(state.optimizer),
        "scheduler": state.scheduler.state_dict() if state.scheduler is not None else None,
        "rng": rng_state(state),
        "ema": {k: v.detach().to("cpu", copy=True) for k, v in state.ema.items()} if state.ema is not None else None,
        "step": state.step,
    }


def restore(state: TrainState, saved: dict[str, Any]) -> TrainState:
    """`state` (freshly `init`-ed for the same policy, weights already loaded) continued from `saved`."""
    load_optimizer_state(state.optimizer, *saved["optimizer"])
    if state.scheduler is not None and saved.get("scheduler") is not None:
        state.scheduler.load_state_dict(saved["scheduler"])
    state.generator.set_state(saved["rng"]["generator"])
    state.data_generator.set_state(saved["rng"]["data_generator"])
    ema = state.ema
    if ema is not None and saved.get("ema"):
        device = state.policy.device
        ema = {k: saved["ema"][k].to(device) for k in ema}
    return attrs.evolve(state, step=int(saved["step"]), ema=ema)
