"""The family contract (`policies/family.py`): every registered family fills it in, and a family
whose model builder reads no file takes its backbone weights as a state dict."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
import torchvision

from lerobot_fn.policies import act, diffusion, family, registry
from lerobot_fn.policies.api import untrained_model


def test_every_registered_family_fills_in_the_contract():
    for name in registry.FAMILIES:
        module = registry.family(name)
        family.check_family(module)
        assert module.CONFIG_TYPE == name
    with pytest.raises(TypeError, match="lacks .*optimizer_preset"):
        family.check_family(SimpleNamespace(CONFIG_TYPE="x", Config=object))


def test_act_and_diffusion_take_their_backbone_weights_passed_in():
    weights = torchvision.models.resnet18(weights=None).state_dict()
    torch.nn.init.constant_(weights["conv1.weight"], 0.5)
    image = {"observation.image": {"type": "VISUAL", "shape": [3, 32, 32]},
             "observation.state": {"type": "STATE", "shape": [2]}}
    action = {"action": {"type": "ACTION", "shape": [2]}}
    configs = {
        act: act.Config(input_features=image, output_features=action, chunk_size=2, n_action_steps=2, dim_model=8,
                        n_heads=2, dim_feedforward=8),
        diffusion: diffusion.Config(input_features=image, output_features=action, horizon=8, down_dims=(8, 16),
                                    crop_shape=None),
    }
    for module, config in configs.items():
        assert module.BACKBONE_WEIGHTS_PASSED_IN
        assert torch.all(_stem(module.build_model(config, backbone_weights=weights)) == 0.5)
        assert not torch.all(_stem(untrained_model(module, config)) == 0.5)  # no weights: random, no file read


def _stem(model: torch.nn.Module) -> torch.Tensor:
    """The ResNet's first convolution (64, 3, 7, 7), whatever the family names it."""
    return next(v for v in model.state_dict().values() if v.shape == (64, 3, 7, 7))
