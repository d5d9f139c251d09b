"""ACT's image backbone: a torchvision ResNet cut after `layer4`, with frozen batch norm.

Pretrained ImageNet weights come in as a state dict (`lerobot_fn.policies.backbone`); the shell
`data.pretrained.read_backbone_weights` reads the file `pretrained_backbone_weights` names.
"""

from __future__ import annotations

from collections.abc import Mapping

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
    name: str, *, dilate_last: bool, weights: Mapping[str, Tensor] | None = None, source: str = "backbone weights"
) -> ResNetTrunk:
    """A frozen-BN ResNet trunk, loaded with the `weights` state dict if given (read from `source`)."""
    try:
        resnet = build_resnet(
            name,
            weights=weights,
            source=source,
            norm_layer=FrozenBatchNorm2d,
            replace_stride_with_dilation=(False, False, bool(dilate_last)),
        )
    except NotImplementedError as e:  # torchvision's BasicBlock (resnet18/34) cannot dilate
        raise ValueError(
            f"ACT config 'replace_final_stride_with_dilation' is not supported by {name!r} ({e}); "
            "use a Bottleneck ResNet such as resnet50 or set it to false"
        ) from e
    return ResNetTrunk(resnet)
