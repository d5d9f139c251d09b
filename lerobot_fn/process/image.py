"""Image crop / resize over every image entry (keys containing "image"), like LeRobot's
`image_crop_resize_processor`: crop (top, left, height, width) per key, then bilinear resize of
all images to `resize_size`, clamped to [0, 1]."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import attrs
import torch
import torchvision.transforms.v2.functional as F
from tensordict import TensorDictBase

from lerobot_fn.process.keys import dotted
from lerobot_fn.process.step import ProcessorStep


def _crop_map(value: Mapping[str, Any] | None) -> dict[str, tuple[int, int, int, int]] | None:
    if value is None:
        return None
    return {k: tuple(int(x) for x in v) for k, v in dict(value).items()}


def _size(value) -> tuple[int, int] | None:
    return None if value is None else tuple(int(x) for x in value)


@attrs.frozen
class ImageCropResize(ProcessorStep):
    """Crop images named in `crop_params_dict` and resize all images to `resize_size` (H, W)."""

    registry_name: ClassVar[str] = "image_crop_resize_processor"
    crop_params_dict: dict[str, tuple[int, int, int, int]] | None = attrs.field(
        default=None, converter=_crop_map, eq=False
    )
    resize_size: tuple[int, int] | None = attrs.field(default=None, converter=_size)

    def __call__(self, td: TensorDictBase) -> TensorDictBase:
        if self.resize_size is None and not self.crop_params_dict:
            return td
        out = td.copy()
        for key, image in td.items(include_nested=True, leaves_only=True):
            name = dotted(key)
            if "image" not in name or not name.startswith("observation"):
                continue
            if self.crop_params_dict is not None and name in self.crop_params_dict:
                image = F.crop(image, *self.crop_params_dict[name])
            if self.resize_size is not None:
                image = F.resize(image, list(self.resize_size)).clamp(0.0, 1.0)
            out.set(key, image)
        return out

    def get_config(self) -> dict[str, Any]:
        crops = None if self.crop_params_dict is None else {k: list(v) for k, v in self.crop_params_dict.items()}
        return {"crop_params_dict": crops, "resize_size": None if self.resize_size is None else list(self.resize_size)}


@attrs.frozen
class CenterCrop(ProcessorStep):
    """Center-crop every observation image to `size` (H, W) (evaluation-time crop of Diffusion Policy)."""

    size: tuple[int, int] = attrs.field(converter=_size)

    def __call__(self, td: TensorDictBase) -> TensorDictBase:
        out = td.copy()
        for key, image in td.items(include_nested=True, leaves_only=True):
            name = dotted(key)
            if "image" in name and name.startswith("observation") and image.dim() >= 3:
                out.set(key, F.center_crop(image, list(self.size)))
        return out

    def get_config(self) -> dict[str, Any]:
        return {"size": list(self.size)}


def random_crop(image: torch.Tensor, size: tuple[int, int], generator: torch.Generator | None = None) -> torch.Tensor:
    """Crop (..., H, W) to `size` at one offset drawn from `generator` (shared across the batch)."""
    h, w = image.shape[-2:]
    ch, cw = size
    if ch > h or cw > w:
        raise ValueError(f"random_crop: crop {size} is larger than the image {(h, w)}")
    top = int(torch.randint(0, h - ch + 1, (1,), generator=generator))
    left = int(torch.randint(0, w - cw + 1, (1,), generator=generator))
    return image[..., top : top + ch, left : left + cw]
