"""Image augmentations as LeRobot offers them, written as pure functions taking a generator.

LeRobot's defaults (`ImageTransformsConfig`): brightness (0.8, 1.2), contrast (0.8, 1.2),
saturation (0.5, 1.5), hue (-0.05, 0.05), sharpness (0.5, 1.5), affine (degrees (-5, 5),
translate (0.05, 0.05)); each sample applies a random subset of at most `max_num_transforms`
of them, drawn by weight without replacement, in the listed order unless `random_order`.

`sample_params(config, generator, size)` draws what to apply; `apply_params(image, params)`
applies it (same parameters to every frame of a (T, C, H, W) stack); `random_transform` does
both. `ImageTransforms` is the small stateful callable a `Dataset` takes as `image_transforms`.
"""

from __future__ import annotations

import torch
from attrs import field, frozen
from torchvision.transforms.v2 import functional as F

KINDS = ("brightness", "contrast", "saturation", "hue", "sharpness", "affine")


@frozen
class TransformSpec:
    """One augmentation: its `kind`, sampling `weight`, and the range its parameter is drawn from.

    For "affine", `low`/`high` are the rotation degrees and `translate` the max fraction of
    width/height to shift by.
    """

    kind: str = field()
    low: float = 0.0
    high: float = 0.0
    weight: float = 1.0
    translate: tuple[float, float] = (0.0, 0.0)

    @kind.validator
    def _check_kind(self, _, value):
        if value not in KINDS:
            raise ValueError(f"unknown transform kind {value!r}; expected one of {KINDS}")


def _default_tfs() -> dict[str, TransformSpec]:
    return {
        "brightness": TransformSpec("brightness", 0.8, 1.2),
        "contrast": TransformSpec("contrast", 0.8, 1.2),
        "saturation": TransformSpec("saturation", 0.5, 1.5),
        "hue": TransformSpec("hue", -0.05, 0.05),
        "sharpness": TransformSpec("sharpness", 0.5, 1.5),
        "affine": TransformSpec("affine", -5.0, 5.0, translate=(0.05, 0.05)),
    }


@frozen
class ImageTransformsConfig:
    """Which augmentations, how many per sample, in which order (LeRobot's defaults)."""

    max_num_transforms: int = 3
    random_order: bool = False
    tfs: dict[str, TransformSpec] = field(factory=_default_tfs)


def _uniform(low: float, high: float, generator: torch.Generator) -> float:
    return low + (high - low) * float(torch.rand((), generator=generator))


def sample_params(
    config: ImageTransformsConfig, generator: torch.Generator, size: tuple[int, int]
) -> list[tuple[str, object]]:
    """Draw the subset of transforms and their parameters for one sample; `size` is (H, W)."""
    specs = [s for s in config.tfs.values() if s.weight > 0]
    k = min(config.max_num_transforms, len(specs))
    if k == 0:
        return []
    weights = torch.tensor([s.weight for s in specs], dtype=torch.float64)
    chosen = torch.multinomial(weights / weights.sum(), k, replacement=False, generator=generator)
    if not config.random_order:
        chosen = chosen.sort().values
    params: list[tuple[str, object]] = []
    h, w = size
    for i in chosen.tolist():
        s = specs[i]
        if s.kind == "affine":
            angle = _uniform(s.low, s.high, generator)
            max_dx, max_dy = s.translate[0] * w, s.translate[1] * h
            tx = round(_uniform(-max_dx, max_dx, generator))
            ty = round(_uniform(-max_dy, max_dy, generator))
            params.append(("affine", (angle, (tx, ty))))
        else:
            params.append((s.kind, _uniform(s.low, s.high, generator)))
    return params


def apply_params(image: torch.Tensor, params: list[tuple[str, object]]) -> torch.Tensor:
    """Apply drawn parameters to a (C, H, W) or (T, C, H, W) image, float in [0, 1] or uint8."""
    for kind, value in params:
        if kind == "brightness":
            image = F.adjust_brightness(image, value)
        elif kind == "contrast":
            image = F.adjust_contrast(image, value)
        elif kind == "saturation":
            image = F.adjust_saturation(image, value)
        elif kind == "hue":
            image = F.adjust_hue(image, value)
        elif kind == "sharpness":
            image = F.adjust_sharpness(image, value)
        elif kind == "affine":
            angle, (tx, ty) = value
            image = F.affine(image, angle=angle, translate=[tx, ty], scale=1.0, shear=[0.0, 0.0])
        else:
            raise ValueError(f"unknown transform kind {kind!r}")
    return image


def random_transform(
    image: torch.Tensor, config: ImageTransformsConfig, generator: torch.Generator
) -> torch.Tensor:
    """Sample and apply a random subset of augmentations to one image (or frame stack)."""
    return apply_params(image, sample_params(config, generator, tuple(image.shape[-2:])))


class ImageTransforms:
    """Callable for `data.open(..., image_transforms=...)`: owns a generator, applies `random_transform`.

    DataLoader workers built by `data.loader` reseed it from their worker seed, so workers draw
    different augmentations and a run is reproducible from the loader's generator.
    """

    def __init__(self, config: ImageTransformsConfig | None = None, seed: int = 0):
        self.config = config or ImageTransformsConfig()
        self.generator = torch.Generator().manual_seed(seed)

    def reseed(self, seed: int) -> None:
        self.generator.manual_seed(seed % (2**63))

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        return random_transform(image, self.config, self.generator)

    def __repr__(self) -> str:
        names = ", ".join(self.config.tfs)
        return f"ImageTransforms(k={self.config.max_num_transforms}, tfs=[{names}])"


__all__ = [
    "ImageTransforms",
    "ImageTransformsConfig",
    "TransformSpec",
    "apply_params",
    "random_transform",
    "sample_params",
]
