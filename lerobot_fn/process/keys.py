"""LeRobot's dotted feature names <-> TensorDict nested keys.

`"observation.images.top"` is `("observation", "images", "top")` in a TensorDict; `"action_is_pad"`
stays a top-level key. A batch stays one nested TensorDict from the loader through the processors
to the policy families (`as_batch` nests a `{dotted_name: Tensor}` mapping once, at the boundary).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from tensordict import NonTensorData, NonTensorStack, TensorDict, TensorDictBase


def nested_key(name: str | tuple[str, ...]) -> tuple[str, ...]:
    """`"observation.state"` -> `("observation", "state")` (tuples pass through)."""
    if isinstance(name, tuple):
        return name
    return tuple(name.split("."))


def dotted(key: str | tuple[str, ...]) -> str:
    """`("observation", "state")` -> `"observation.state"`."""
    return key if isinstance(key, str) else ".".join(key)


def to_flat_dict(td: TensorDictBase) -> dict[str, torch.Tensor]:
    """Every tensor leaf of `td` under its dotted name (non-tensor leaves such as `task` are left out)."""
    return {dotted(k): v for k, v in td.items(include_nested=True, leaves_only=True)}


def from_flat_dict(flat: Mapping[str, object], batch_size: tuple[int, ...] | torch.Size = ()) -> TensorDict:
    """A TensorDict with nested keys from a `{dotted_name: value}` dict. Non-tensor values (`task`)
    become NonTensorData, or a NonTensorStack of the list's items when `batch_size` is given."""
    nested: dict = {}
    others = {}
    for name, value in flat.items():
        if not isinstance(value, torch.Tensor):
            others[name] = value
            continue
        *parents, leaf = nested_key(name)
        node = nested
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    td = TensorDict(nested, batch_size=list(batch_size))
    for name, value in others.items():
        if len(batch_size) and isinstance(value, list):
            value = NonTensorStack(*[NonTensorData(v) for v in value], batch_size=list(batch_size))
        else:
            value = NonTensorData(value)
        td.set(nested_key(name), value)
    return td


def get_leaf(td: TensorDictBase, name: str) -> torch.Tensor | None:
    """The tensor stored under dotted `name`, or None when absent."""
    return td.get(nested_key(name), None)


def non_tensor(td: TensorDictBase, name: str):
    """The python value of a non-tensor entry (e.g. `task`), or None when absent."""
    key = nested_key(name)
    if key not in td.keys(include_nested=True):
        return None
    value = td[key]
    if hasattr(value, "tolist") and not isinstance(value, torch.Tensor):
        value = value.tolist()
    return value


def as_batch(batch: TensorDictBase | Mapping[str, object]) -> TensorDictBase:
    """A batch as a nested TensorDict: a TensorDict passes through (no copy); a `{dotted_name: value}`
    mapping (convenient in a notebook or a test) is nested once, here at the family boundary."""
    if isinstance(batch, TensorDictBase):
        return batch
    if isinstance(batch, Mapping):
        return from_flat_dict(batch)
    raise TypeError(f"observations must be a TensorDict or a mapping of dotted names, got {type(batch).__name__}")


def leaf_names(td: TensorDictBase) -> list[str]:
    """The sorted dotted names of `td`'s tensor leaves (for error messages)."""
    return sorted(dotted(k) for k in td.keys(include_nested=True, leaves_only=True))
