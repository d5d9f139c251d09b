"""Getting a loader's batch onto the training device: cameras travel as uint8 (4x fewer bytes
through worker pipes, pinned memory and PCIe) and become float32 in [0, 1] on the device, the
values LeRobot's items hold."""

from __future__ import annotations

from collections.abc import Iterable

import torch
from tensordict import TensorDictBase

from lerobot_fn.process.keys import nested_key


def to_device(batch: TensorDictBase, device: torch.device, camera_keys: Iterable[str]) -> TensorDictBase:
    """`batch` on `device` (non-blocking: pin it first, as the job's loader does), uint8 cameras as
    float32 / 255 there."""
    batch = batch.to(device, non_blocking=True)
    for name in camera_keys:
        key = nested_key(name)
        image = batch.get(key, None)
        if image is not None and image.dtype == torch.uint8:
            batch.set(key, image.to(torch.float32).div_(255))
    return batch
