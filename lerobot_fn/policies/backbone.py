"""torchvision ResNet backbones whose pretrained weights come only from local files.

These machines (and many robots) have no network: `pretrained_backbone_weights` is either a path
to a weights file (`.pth`/`.pt` state dict or `.safetensors`) or a torchvision weights name such
as "ResNet18_Weights.IMAGENET1K_V1" whose file must already sit in the torchvision cache
(`torch.hub.get_dir()/checkpoints`). Nothing is ever downloaded; a missing file is a clear error.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
import torchvision
from torch import nn


def torchvision_cache_file(weights: str) -> Path:
    """Where torchvision keeps the file of weights enum `weights` (it may not exist)."""
    try:
        enum_value = torchvision.models.get_weight(weights)
    except (ValueError, KeyError, AttributeError) as err:
        raise FileNotFoundError(
            f"pretrained_backbone_weights {weights!r} is neither an existing file nor a torchvision "
            "weights name like 'ResNet18_Weights.IMAGENET1K_V1'"
        ) from err
    return Path(torch.hub.get_dir()) / "checkpoints" / enum_value.url.rsplit("/", 1)[-1]


def read_backbone_weights(weights: str | Path) -> dict[str, torch.Tensor]:
    """The state dict named by `weights` (local file, else the torchvision cache); never downloads."""
    path = Path(weights).expanduser()
    if not path.is_file():
        path = torchvision_cache_file(str(weights))
        if not path.is_file():
            raise FileNotFoundError(
                f"backbone weights {str(weights)!r} are not in the torchvision cache (looked for {path}) and "
                "downloads are disabled: copy the file there, point pretrained_backbone_weights at a local "
                "file, or set it to null for random initialisation"
            )
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    state = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise ValueError(f"backbone weights file {path} does not hold a state dict")
    return state


def build_resnet(
    name: str,
    *,
    weights: str | Path | None = None,
    norm_layer: Callable[[int], nn.Module] | None = None,
    replace_stride_with_dilation: tuple[bool, bool, bool] = (False, False, False),
) -> nn.Module:
    """`torchvision.models.<name>` (e.g. "resnet18") with `weights` loaded from disk if given.

    The classifier (`fc`) may be missing from `weights`; every other parameter must match.
    """
    if not hasattr(torchvision.models, name):
        raise ValueError(f"unknown vision backbone {name!r} (expected a torchvision model such as 'resnet18')")
    kwargs = {"weights": None, "replace_stride_with_dilation": list(replace_stride_with_dilation)}
    if norm_layer is not None:
        kwargs["norm_layer"] = norm_layer
    model = getattr(torchvision.models, name)(**kwargs)
    if weights is not None:
        state = read_backbone_weights(weights)
        missing, unexpected = model.load_state_dict(state, strict=False)
        missing = [k for k in missing if not k.startswith("fc.")]
        if missing or unexpected:
            raise ValueError(
                f"backbone weights {str(weights)!r} do not fit {name}: missing {missing[:5]}, "
                f"unexpected {unexpected[:5]}"
            )
    return model
