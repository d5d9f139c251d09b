"""Padding for vision-language-action policies: state/action vectors to a fixed width, images to a
fixed size without distortion (LeRobot's `pad_vector` and SmolVLA's `resize_with_pad`).

These run inside the policy (as in LeRobot, where they are not processor-pipeline steps), so a
checkpoint's processor files stay the ones LeRobot writes.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def pad_vector(vector: torch.Tensor, new_dim: int) -> torch.Tensor:
    """Zero-pad the last dimension to `new_dim` (a vector already that wide or wider is returned as is)."""
    if vector.shape[-1] >= new_dim:
        return vector
    return F.pad(vector, (0, new_dim - vector.shape[-1]))


def resize_with_pad(images: torch.Tensor, height: int, width: int, *, pad_value: float = 0.0) -> torch.Tensor:
    """(B, C, h, w) -> (B, C, height, width): bilinear resize keeping the aspect ratio, then pad on
    the left and top with `pad_value` (SmolVLA's convention; openpi pads centred)."""
    if images.ndim != 4:
        raise ValueError(f"resize_with_pad: expected images (B, C, H, W), got shape {tuple(images.shape)}")
    cur_h, cur_w = images.shape[2:]
    if (cur_h, cur_w) == (height, width):
        return images
    ratio = max(cur_w / width, cur_h / height)
    new_h, new_w = int(cur_h / ratio), int(cur_w / ratio)
    resized = F.interpolate(images, size=(new_h, new_w), mode="bilinear", align_corners=False)
    return F.pad(resized, (max(0, width - new_w), 0, max(0, height - new_h), 0), value=pad_value)
