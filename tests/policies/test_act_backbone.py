"""ACT's ResNet backbone weights: passed to the pure `build_model` as a state dict; the shell
(`policies.from_config` = `data.pretrained.from_config`) reads them from a local file or the
torchvision cache, never a download."""

from __future__ import annotations

import pytest
import torch
import torchvision
from torchvision.ops import FrozenBatchNorm2d

from lerobot_fn import policies
from lerobot_fn.data.pretrained import read_backbone_weights
from lerobot_fn.policies import act, api

FEATURES = {
    "input_features": {"observation.images.top": {"type": "VISUAL", "shape": [3, 32, 32]}},
    "output_features": {"action": {"type": "ACTION", "shape": [2]}},
}
SMALL = {"chunk_size": 2, "n_action_steps": 2, "dim_model": 16, "n_heads": 2, "dim_feedforward": 16}


def _resnet18_file(path, seed=5):
    torch.manual_seed(seed)
    net = torchvision.models.resnet18(weights=None)  # a full ResNet state dict, fc and BN counters included
    torch.save(net.state_dict(), path)
    return net.state_dict()


def test_local_weights_file_is_loaded(tmp_path):
    saved = _resnet18_file(tmp_path / "resnet18.pth")
    config = act.Config(**FEATURES, **SMALL, pretrained_backbone_weights=str(tmp_path / "resnet18.pth"))
    for model in (policies.from_config(config).model,  # the shell reads the file
                  act.build_model(config, backbone_weights=read_backbone_weights(tmp_path / "resnet18.pth"))):
        backbone = model.model.backbone
        assert torch.equal(backbone.conv1.weight, saved["conv1.weight"])
        assert torch.equal(backbone.layer4[1].bn2.running_var, saved["layer4.1.bn2.running_var"])
        assert isinstance(backbone.bn1, FrozenBatchNorm2d)


def test_safetensors_weights_file_is_loaded(tmp_path):
    from safetensors.torch import save_file

    saved = _resnet18_file(tmp_path / "resnet18.pth")
    save_file({k: v.contiguous() for k, v in saved.items()}, str(tmp_path / "resnet18.safetensors"))
    config = act.Config(**FEATURES, **SMALL, pretrained_backbone_weights=str(tmp_path / "resnet18.safetensors"))
    backbone = policies.from_config(config).model.model.backbone
    assert torch.equal(backbone.layer2[0].conv1.weight, saved["layer2.0.conv1.weight"])


def test_torchvision_weights_name_reads_the_cache_only(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    config = act.Config(**FEATURES, **SMALL, pretrained_backbone_weights="ResNet18_Weights.IMAGENET1K_V1")
    expected_file = tmp_path / "hub" / "checkpoints" / "resnet18-f37072fd.pth"
    with pytest.raises(FileNotFoundError, match="torchvision cache") as err:
        policies.from_config(config)
    assert str(expected_file) in str(err.value)
    assert "point pretrained_backbone_weights at a local file" in str(err.value)  # what to do
    expected_file.parent.mkdir(parents=True)
    saved = _resnet18_file(expected_file)
    backbone = policies.from_config(config).model.model.backbone
    assert torch.equal(backbone.layer1[0].conv1.weight, saved["layer1.0.conv1.weight"])


def test_build_model_reads_no_file(tmp_path, monkeypatch):
    """The core builds a random backbone when no weights are passed (a checkpoint's weights follow),
    whatever the config names; the core API refuses to start training from it silently."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))  # empty cache: reading would fail
    config = act.Config(**FEATURES, **SMALL)  # LeRobot's default names ImageNet weights
    model = act.build_model(config)
    assert "model.backbone.conv1.weight" in model.state_dict()
    with pytest.raises(ValueError, match="read_backbone_weights"):
        api.from_config(config)


def test_unknown_weights_name_and_mismatched_or_broken_files_are_clear_errors(tmp_path):
    bad_name = act.Config(**FEATURES, **SMALL, pretrained_backbone_weights="NotAResNet_Weights.X")
    with pytest.raises(FileNotFoundError, match="NotAResNet_Weights.X"):
        policies.from_config(bad_name)
    torch.save({"conv1.weight": torch.zeros(1)}, tmp_path / "wrong.pth")
    wrong = act.Config(**FEATURES, **SMALL, pretrained_backbone_weights=str(tmp_path / "wrong.pth"))
    with pytest.raises(ValueError, match="wrong.pth.*do not fit resnet18"):
        policies.from_config(wrong)
    _resnet18_file(tmp_path / "cut.pth")
    (tmp_path / "cut.pth").write_bytes((tmp_path / "cut.pth").read_bytes()[:5000])
    cut = act.Config(**FEATURES, **SMALL, pretrained_backbone_weights=str(tmp_path / "cut.pth"))
    with pytest.raises(ValueError, match="cut.pth cannot be read"):
        policies.from_config(cut)


def test_dilation_keeps_the_feature_map_twice_as_large():
    images = torch.randn(1, 3, 64, 64)
    common = {**FEATURES, **SMALL, "pretrained_backbone_weights": None, "vision_backbone": "resnet50"}
    dilated = act.build_model(act.Config(**common, replace_final_stride_with_dilation=True))
    with torch.no_grad():
        # Output stride 16 instead of 32: 64 / 16 = 4.
        assert dilated.model.backbone(images).shape == (1, 2048, 4, 4)
        assert dilated.model.encoder_img_feat_input_proj.in_channels == 2048


def test_dilation_on_a_basic_block_resnet_is_a_clear_error():
    config = act.Config(
        **FEATURES, **SMALL, pretrained_backbone_weights=None, replace_final_stride_with_dilation=True
    )
    with pytest.raises(ValueError, match="replace_final_stride_with_dilation"):
        act.build_model(config)
