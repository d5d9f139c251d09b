"""ACT's image backbone: a torchvision ResNet cut after `layer4`, with frozen batch norm.

Pretrained ImageNet weights are never downloaded: `pretrained_backbone_weights` names either a
local weights file or a torchvision weights enum (e.g. "ResNet18_Weights.IMAGENET1K_V1") whose
file must already be in the torchvision cache (`torch.hub.get_dir()/checkpoints`).
"""

from __future__ import annotations

from pathlib import Path

import torch
import torchvision
from torch import Tensor, nn
from torchvision.ops import FrozenBatchNorm2d

_TRUNK = ("conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4")


class ResNetTrunk(nn.Module):
    """ResNet without its pooling and classifier: (B, 3, H, W) -> (B, C, H/32, W/32) feature map.

    Children keep torchvision's names (conv1, bn1, layer1..layer4) so the state_dict keys are
    LeRobot's `model.backbone.*`.
    """

    def __init__(self, resnet: nn.Module):
        super().__init__()
        for name in _TRUNK:
            self.add_module(name, getattr(resnet, name))
        self.out_channels: int = resnet.fc.in_features

    def forward(self, x: Tensor) -> Tensor:
        for name in _TRUNK:
            x = getattr(self, name)(x)
        return x


def build_resnet_trunk(
    name: str, *, dilate_last: bool, weights: str | None, load_weights: bool = True
) -> ResNetTrunk:
    """A frozen-BN ResNet trunk; loads `weights` (local file or torchvision cache) when asked."""
    factory = getattr(torchvision.models, name, None)
    if factory is None or not callable(factory):
        raise ValueError(f"ACT config 'vision_backbone': torchvision has no model named {name!r}")
    try:
        resnet = factory(
            weights=None,
            replace_stride_with_dilation=[False, False, bool(dilate_last)],
            norm_layer=FrozenBatchNorm2d,
        )
    except NotImplementedError as e:  # torchvision's BasicBlock (resnet18/34) cannot dilate
        raise ValueError(
            f"ACT config 'replace_final_stride_with_dilation' is not supported by {name!r} ({e}); "
            "use a Bottleneck ResNet such as resnet50 or set it to false"
        ) from e
    if weights and load_weights:
        state = _read_weights(weights)
        # The trunk has no classifier; a full ResNet file also carries fc.* which we drop.
        state = {k: v for k, v in state.items() if not k.startswith("fc.")}
        missing, unexpected = resnet.load_state_dict(state, strict=False)
        missing = [k for k in missing if not k.startswith("fc.")]
        if missing or unexpected:
            raise ValueError(
                f"backbone weights {weights!r} do not fit torchvision {name}: "
                f"missing {missing[:5]}, unexpected {unexpected[:5]}"
            )
    return ResNetTrunk(resnet)


def _read_weights(weights: str) -> dict[str, Tensor]:
    """State dict from a local file, or from the torchvision cache for a weights enum name."""
    path = Path(weights).expanduser()
    if not path.is_file():
        path = _cached_torchvision_file(weights)
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    state = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(state, dict):
        raise ValueError(f"backbone weights file {path} does not hold a state dict")  # noqa: TRY004
    return state


def _cached_torchvision_file(weights: str) -> Path:
    try:
        enum_value = torchvision.models.get_weight(weights)
    except (ValueError, KeyError, AttributeError) as e:
        raise FileNotFoundError(
            f"ACT config 'pretrained_backbone_weights' = {weights!r} is neither an existing file nor a "
            "torchvision weights name like 'ResNet18_Weights.IMAGENET1K_V1'"
        ) from e
    filename = enum_value.url.rsplit("/", 1)[-1]
    path = Path(torch.hub.get_dir()) / "checkpoints" / filename
    if not path.is_file():
        raise FileNotFoundError(
            f"backbone weights {weights!r} are not in the torchvision cache (looked for {path}); downloads "
            "are disabled: copy the file there, set 'pretrained_backbone_weights' to a local file path, "
            "or set it to null to start from random weights"
        )
    return path
