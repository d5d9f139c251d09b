"""Structural steps LeRobot puts in every policy pipeline: rename, add batch dim, device/dtype move."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import attrs
import torch
from tensordict import TensorDictBase

from lerobot_fn.process.keys import dotted, nested_key
from lerobot_fn.process.step import ProcessorStep


@attrs.frozen(eq=False)
class RenameObservations(ProcessorStep):
    """Rename observation keys (`{"observation.images.cam_high": "observation.images.top"}`); others kept."""

    registry_name: ClassVar[str] = "rename_observations_processor"
    rename_map: dict[str, str] = attrs.field(factory=dict, converter=dict)

    def __call__(self, td: TensorDictBase) -> TensorDictBase:
        if not self.rename_map:
            return td
        out = td.copy()
        present = {dotted(k) for k in td.keys(include_nested=True, leaves_only=True, is_leaf=_any_leaf)}
        for old, new in self.rename_map.items():
            if old in present and old.startswith("observation"):
                out.rename_key_(nested_key(old), nested_key(new))
        return out

    def get_config(self) -> dict[str, Any]:
        return {"rename_map": dict(self.rename_map)}


def _any_leaf(cls: type) -> bool:
    """Leaves are tensors and non-tensor data (task strings), not sub-TensorDicts."""
    from tensordict import NonTensorData, NonTensorStack

    return not issubclass(cls, TensorDictBase) or issubclass(cls, (NonTensorData, NonTensorStack))


_STATE_KEYS = ("observation.state", "observation.environment_state")


def _batchable(name: str, value: torch.Tensor) -> bool:
    """LeRobot's rule for which unbatched entries get a leading batch dimension."""
    if name in _STATE_KEYS or name == "action":
        return value.dim() == 1
    if name == "observation.image" or name.startswith("observation.images."):
        return value.dim() == 3
    if name in ("index", "task_index"):
        return value.dim() == 0
    return False


@attrs.frozen
class AddBatchDim(ProcessorStep):
    """Give a single frame a batch dimension of 1 (state/action 1-D, images 3-D, `task` str -> [str]).

    Entries that already have one are left as they are, as in LeRobot's `to_batch_processor`.
    """

    registry_name: ClassVar[str] = "to_batch_processor"

    def __call__(self, td: TensorDictBase) -> TensorDictBase:
        if td.batch_dims > 0:
            return td
        leaves = {dotted(k): v for k, v in td.items(include_nested=True, leaves_only=True)}
        hits = {name for name, v in leaves.items() if _batchable(name, v)}
        if not hits:
            return td
        if len(hits) == len(leaves):
            return td.unsqueeze(0)
        out = td.copy()
        for name in hits:
            out.set(nested_key(name), leaves[name].unsqueeze(0))
        task = td.get("task", None)
        if task is not None and not isinstance(task, torch.Tensor) and isinstance(td["task"], str):
            out.set("task", [td["task"]])
        return out


_DTYPES = {
    "float16": torch.float16,
    "float32": torch.float32,
    "float64": torch.float64,
    "bfloat16": torch.bfloat16,
    "half": torch.float16,
    "float": torch.float32,
    "double": torch.float64,
}


@attrs.frozen
class DeviceMove(ProcessorStep):
    """Move every tensor to `device` and cast floating tensors to `float_dtype` (if set).

    As in LeRobot's `device_processor`, a tensor already on some CUDA device stays there when the
    target is CUDA (multi-GPU), and the saved config keeps only the device type.
    """

    registry_name: ClassVar[str] = "device_processor"
    device: str = attrs.field(default="cpu", converter=str)
    float_dtype: str | None = attrs.field(default=None)

    @float_dtype.validator
    def _check_dtype(self, _attr, value) -> None:
        if value is not None and value not in _DTYPES:
            raise ValueError(f"device_processor: float_dtype {value!r} is not one of {sorted(_DTYPES)}")

    def __call__(self, td: TensorDictBase) -> TensorDictBase:
        target = torch.device(self.device)
        dtype = _DTYPES[self.float_dtype] if self.float_dtype is not None else None
        non_blocking = target.type == "cuda"

        def move(t: torch.Tensor) -> torch.Tensor:
            dest = t.device if (t.is_cuda and target.type == "cuda") else target
            if t.device != dest:
                t = t.to(dest, non_blocking=non_blocking)
            if dtype is not None and t.is_floating_point():
                t = t.to(dtype)
            return t

        leaves = td.values(include_nested=True, leaves_only=True)
        if all(t.device == target and (dtype is None or not t.is_floating_point() or t.dtype == dtype)
               for t in leaves):
            return td  # nothing to move: skip building a new TensorDict on the hot path
        return td.apply(move)

    def get_config(self) -> dict[str, Any]:
        return {"device": torch.device(self.device).type, "float_dtype": self.float_dtype}

    @classmethod
    def from_config(cls, config: Mapping[str, Any], state=None):
        return cls(device=config.get("device", "cpu"), float_dtype=config.get("float_dtype"))
