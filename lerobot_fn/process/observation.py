"""Raw environment / camera observations -> LeRobot's observation format.

`GymObservation` is LeRobot's `observation_processor`: gym keys `pixels` (HWC uint8, or one entry
per camera), `agent_pos` and `environment_state` become `observation.image` /
`observation.images.<camera>` (float32 CHW in [0, 1]), `observation.state` and
`observation.environment_state` (float32), each with a batch dimension.
`ImagesToFloat` is the uint8 fast path: keep images uint8 CHW until they are on the device, then
convert there.
"""

from __future__ import annotations

from typing import ClassVar

import attrs
import torch
from tensordict import TensorDict, TensorDictBase

from lerobot_fn.process.keys import dotted
from lerobot_fn.process.step import ProcessorStep


def _hwc_image(img: torch.Tensor, key: str) -> torch.Tensor:
    img = torch.as_tensor(img)
    if img.ndim == 3:
        img = img.unsqueeze(0)
    if img.ndim != 4:
        raise ValueError(f"observation_processor: {key!r} must be (H, W, C) or (B, H, W, C), got {tuple(img.shape)}")
    _, h, w, c = img.shape
    if not (c < h and c < w):
        raise ValueError(f"observation_processor: {key!r} is not channel-last (got shape {tuple(img.shape)})")
    if img.dtype != torch.uint8:
        raise ValueError(f"observation_processor: {key!r} must be uint8 pixels, got {img.dtype}")
    return img.permute(0, 3, 1, 2).contiguous().to(torch.float32) / 255.0


def _vector(value: torch.Tensor) -> torch.Tensor:
    value = torch.as_tensor(value).float()
    return value.unsqueeze(0) if value.dim() == 1 else value


@attrs.frozen
class GymObservation(ProcessorStep):
    """Gym observation keys -> LeRobot observation keys, images to float CHW in [0, 1], batched."""

    registry_name: ClassVar[str] = "observation_processor"

    def __call__(self, td: TensorDictBase) -> TensorDictBase:
        flat: dict[str, torch.Tensor] = {}
        rest = {}
        for key, value in td.items(include_nested=True, leaves_only=True):
            name = dotted(key)
            if name == "pixels":
                flat["observation.image"] = _hwc_image(value, name)
            elif name.startswith("pixels."):
                flat["observation.images." + name[len("pixels."):]] = _hwc_image(value, name)
            elif name == "agent_pos":
                flat["observation.state"] = _vector(value)
            elif name == "environment_state":
                flat["observation.environment_state"] = _vector(value)
            else:
                rest[key] = value
        out = TensorDict({}, batch_size=[])
        for name, value in flat.items():
            out.set(tuple(name.split(".")), value)
        for key, value in rest.items():
            out.set(key, value)
        for name in ("task",):
            if name in td and not isinstance(td.get(name), torch.Tensor):
                out.set(name, td[name])
        sizes = {v.shape[0] for v in flat.values()}
        if len(sizes) == 1 and all(v.shape[:1] == (sizes.copy().pop(),) for v in out.values(True, True)):
            out.batch_size = [sizes.pop()]
        return out


@attrs.frozen
class ImagesToFloat(ProcessorStep):
    """uint8 observation images -> float32 in [0, 1] (same layout); float images pass through."""

    def __call__(self, td: TensorDictBase) -> TensorDictBase:
        out = td.copy()
        for key, value in td.items(include_nested=True, leaves_only=True):
            name = dotted(key)
            if name.startswith("observation.image") and value.dtype == torch.uint8:
                out.set(key, value.to(torch.float32) / 255.0)
        return out
