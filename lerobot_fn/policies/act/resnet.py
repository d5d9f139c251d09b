"""ACT's image backbone: a torchvision ResNet cut after `layer4`, with frozen batch norm.

Pretrained ImageNet weights are never downloaded (`lerobot_fn.policies.backbone`):
`pretrained_backbone_weights` names a local weights file or a torchvision weights enum (e.g.
"ResNet18_Weights.IMAGENET1K_V1") whose file must already be in the torchvision cache.
"""

from __future__ import annotations

from torch import Tensor, nn
from torchvision.ops import FrozenBatchNorm2d

from lerobot_fn.policies.backbone import build_resnet

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
    try:
        resnet = build_resnet(
            name,
            weights=weights if load_weights and weights else None,
            norm_layer=FrozenBatchNorm2d,
            replace_stride_with_dilation=(False, False, bool(dilate_last)),
        )
    except NotImplementedError as e:  # torchvision's BasicBlock (resnet18/34) cannot dilate
        raise ValueError(
            f"ACT config 'replace_final_stride_with_dilation' is not supported by {name!r} ({e}); "
            "use a Bottleneck ResNet such as resnet50 or set it to false"
        ) from e
    return ResNetTrunk(resnet)
