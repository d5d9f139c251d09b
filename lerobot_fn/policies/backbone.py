"""torchvision ResNet backbones, with pretrained weights passed in as a state dict (pure).

The core reads no file: `pretrained_backbone_weights` in a config names a local weights file or a
torchvision weights name ("ResNet18_Weights.IMAGENET1K_V1"), and the shell
`lerobot_fn.data.pretrained.read_backbone_weights` reads it (from disk or the torchvision cache,
never a download) and hands the state dict to `build_model(config, backbone_weights=...)`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch
import torchvision
from torch import nn


def build_resnet(
    name: str,
    *,
    weights: Mapping[str, torch.Tensor] | None = None,
    source: str = "backbone weights",
    norm_layer: Callable[[int], nn.Module] | None = None,
    replace_stride_with_dilation: tuple[bool, bool, bool] = (False, False, False),
) -> nn.Module:
    """`torchvision.models.<name>` (e.g. "resnet18"), loaded with `weights` if given.

    The classifier (`fc`) may be missing from `weights`; every other parameter must match, else a
    ValueError names `source` (what the weights were read from)."""
    if not hasattr(torchvision.models, name):
        raise ValueError(f"unknown vision backbone {name!r} (expected a torchvision model such as 'resnet18')")
    kwargs = {"weights": None, "replace_stride_with_dilation": list(replace_stride_with_dilation)}
    if norm_layer is not None:
        kwargs["norm_layer"] = norm_layer
    model = getattr(torchvision.models, name)(**kwargs)
    if weights is not None:
        try:
            missing, unexpected = model.load_state_dict(dict(weights), strict=False)
        except RuntimeError as err:  # a tensor of the wrong shape
            raise ValueError(f"backbone weights {source!r} do not fit {name}: {err}") from err
        missing = [k for k in missing if not k.startswith("fc.")]
        if missing or unexpected:
            raise ValueError(
                f"backbone weights {source!r} do not fit {name}: missing {missing[:5]}, "
                f"unexpected {unexpected[:5]}"
            )
    return model
