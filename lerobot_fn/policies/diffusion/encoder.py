"""Diffusion Policy's RGB encoder: resize -> crop -> ResNet trunk -> spatial softmax -> linear + ReLU.

Parameter names match LeRobot's `DiffusionRgbEncoder` (`backbone.<i>...`, `pool.nets`,
`pool.pos_grid`, `out`) so checkpoints load strictly. Cropping is a center crop unless the caller
asks for a random one (training), and a random crop draws its offsets from a `torch.Generator`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchvision.transforms.functional import resize as tv_resize

from lerobot_fn.policies.backbone import build_resnet

from .config import Config


def resnet_trunk(config: Config, weights: Mapping[str, Tensor] | None = None) -> nn.Sequential:
    """torchvision ResNet without its avgpool and fc (layer4 features), BN -> GroupNorm if asked.

    `weights`: the pretrained state dict (`policies.backbone`: read by the shell, passed in), or None.
    """
    if weights is not None and config.use_group_norm:
        raise ValueError(
            "diffusion config: use_group_norm=True cannot be combined with pretrained_backbone_weights "
            f"({config.pretrained_backbone_weights!r}): replacing BatchNorm would discard the pretrained weights"
        )
    resnet = build_resnet(config.vision_backbone, weights=weights, source=str(config.pretrained_backbone_weights))
    trunk = nn.Sequential(*list(resnet.children())[:-2])
    if config.use_group_norm:
        _batchnorm_to_groupnorm(trunk)
    return trunk


def _batchnorm_to_groupnorm(module: nn.Module) -> None:
    """Replace every BatchNorm2d by GroupNorm with C // 16 groups, in place (LeRobot's choice)."""
    for name, child in module.named_children():
        if isinstance(child, nn.BatchNorm2d):
            setattr(module, name, nn.GroupNorm(child.num_features // 16, child.num_features))
        else:
            _batchnorm_to_groupnorm(child)


def _dry_run(backbone: nn.Module, shape: tuple[int, ...]) -> Tensor:
    """Feature map of a zero image, run in training mode like LeRobot (so a fresh model's BatchNorm
    statistics match LeRobot's seeded init); eval mode when a 1x1 map makes batch-1 BatchNorm fail."""
    with torch.inference_mode():
        try:
            return backbone(torch.zeros(shape))
        except ValueError:
            backbone.eval()
            try:
                return backbone(torch.zeros(shape))
            finally:
                backbone.train()


class SpatialSoftmax(nn.Module):
    """Keypoints as softmax-weighted mean (x, y) of each feature channel (Finn et al., robomimic).

    A 1x1 conv first maps C channels to `num_kp` keypoint maps; `pos_grid` is (H*W, 2) of
    normalised coordinates in [-1, 1], x varying fastest.
    """

    def __init__(self, input_shape: tuple[int, int, int], num_kp: int | None):
        super().__init__()
        c, self.h, self.w = input_shape
        self.nets = nn.Conv2d(c, num_kp, kernel_size=1) if num_kp is not None else None
        self.num_kp = num_kp if num_kp is not None else c
        pos_x, pos_y = np.meshgrid(np.linspace(-1.0, 1.0, self.w), np.linspace(-1.0, 1.0, self.h))
        grid = np.stack([pos_x.reshape(-1), pos_y.reshape(-1)], axis=1)
        self.register_buffer("pos_grid", torch.from_numpy(grid).float())

    def forward(self, features: Tensor) -> Tensor:
        # (B, C, H, W) -> (B, K, H, W) -> (B*K, H*W) -> softmax -> (B*K, 2) -> (B, K, 2)
        if self.nets is not None:
            features = self.nets(features)
        attention = F.softmax(features.reshape(-1, self.h * self.w), dim=-1)
        return (attention @ self.pos_grid).view(-1, self.num_kp, 2)


def center_crop(x: Tensor, size: tuple[int, int]) -> Tensor:
    """torchvision's CenterCrop offsets: round((H - h) / 2), round((W - w) / 2)."""
    h, w = x.shape[-2:]
    top = round((h - size[0]) / 2.0)
    left = round((w - size[1]) / 2.0)
    return x[..., top : top + size[0], left : left + size[1]]


def random_crop(x: Tensor, size: tuple[int, int], generator: torch.Generator | None) -> Tensor:
    """torchvision's RandomCrop: one offset (top, then left) for the whole batch."""
    h, w = x.shape[-2:]
    on = generator.device if generator is not None else "cpu"
    top = int(torch.randint(0, h - size[0] + 1, size=(1,), generator=generator, device=on).item())
    left = int(torch.randint(0, w - size[1] + 1, size=(1,), generator=generator, device=on).item())
    return x[..., top : top + size[0], left : left + size[1]]


class RgbEncoder(nn.Module):
    """(B, C, H, W) image in normalised pixel space -> (B, 2 * num_keypoints) feature."""

    def __init__(self, config: Config, *, backbone_weights: Mapping[str, Tensor] | None = None):
        super().__init__()
        self.resize_shape = config.resize_shape
        self.crop_shape = config.crop_shape
        self.crop_is_random = config.crop_is_random
        self.backbone = resnet_trunk(config, backbone_weights)
        image_shape = next(iter(config.image_features.values())).shape
        hw = self.crop_shape or self.resize_shape or tuple(image_shape[1:])
        fmap = _dry_run(self.backbone, (1, image_shape[0], *hw))
        self.pool = SpatialSoftmax(tuple(fmap.shape[1:]), num_kp=config.spatial_softmax_num_keypoints)
        self.feature_dim = config.spatial_softmax_num_keypoints * 2
        self.out = nn.Linear(config.spatial_softmax_num_keypoints * 2, self.feature_dim)
        self.relu = nn.ReLU()

    def forward(
        self, x: Tensor, *, train_crop: bool = False, generator: torch.Generator | None = None
    ) -> Tensor:
        if self.resize_shape is not None:
            x = tv_resize(x, list(self.resize_shape), antialias=True)
        if self.crop_shape is not None:
            if train_crop and self.crop_is_random:
                x = random_crop(x, self.crop_shape, generator)
            else:
                x = center_crop(x, self.crop_shape)
        x = torch.flatten(self.pool(self.backbone(x)), start_dim=1)  # (B, K * 2)
        return self.relu(self.out(x))
