"""SmolVLA's pieces a user configures: image resize-with-pad and vector padding, the config.json schema,
LeRobot's processor pipeline for a new policy, the freezing options and the training presets."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from lerobot_fn import policies
from lerobot_fn.policies import smolvla
from lerobot_fn.process.padding import pad_vector, resize_with_pad
from lerobot_fn.train.optim import make_optimizer, make_scheduler

DATA = Path(__file__).resolve().parent / "data"
RAW = json.loads((DATA / "smolvla_a" / "pretrained_model" / "config.json").read_text())


@pytest.fixture(autouse=True)
def _in_data_dir(monkeypatch):
    monkeypatch.chdir(DATA)  # the configs name their VLM "smolvla_tiny_vlm", relative to here


def test_resize_with_pad_keeps_aspect_ratio_and_pads_left_and_top():
    img = torch.rand(2, 3, 24, 40)
    out = resize_with_pad(img, 32, 32)
    assert out.shape == (2, 3, 32, 32)
    resized = F.interpolate(img, size=(19, 32), mode="bilinear", align_corners=False)
    assert torch.equal(out[:, :, 13:, :], resized)
    assert torch.all(out[:, :, :13] == 0)
    tall = resize_with_pad(torch.rand(1, 3, 40, 20), 16, 16, pad_value=-1)
    assert tall.shape == (1, 3, 16, 16) and torch.all(tall[..., :8] == -1) and torch.all(tall[..., 8:] > -1)
    same = torch.rand(1, 3, 16, 16)
    assert resize_with_pad(same, 16, 16) is same
    with pytest.raises(ValueError, match=r"expected images \(B, C, H, W\)"):
        resize_with_pad(torch.rand(3, 16, 16), 8, 8)


def test_pad_vector_zero_pads_the_last_dimension():
    x = torch.rand(2, 5, 3)
    out = pad_vector(x, 8)
    assert out.shape == (2, 5, 8) and torch.equal(out[..., :3], x) and torch.all(out[..., 3:] == 0)
    assert pad_vector(x, 3) is x and pad_vector(x, 2) is x


def test_config_reads_and_writes_lerobots_json():
    config = smolvla.Config.from_dict(RAW)
    assert config.to_dict() == RAW
    assert config.action_delta_indices == list(range(5)) and config.observation_delta_indices == [0]
    with_empty = smolvla.Config.from_dict({**RAW, "empty_cameras": 2})
    assert list(with_empty.image_features)[-2:] == ["observation.images.empty_camera_0",
                                                   "observation.images.empty_camera_1"]
    assert smolvla.Config.from_dict(with_empty.to_dict()) == with_empty  # no duplicates on reload


@pytest.mark.parametrize(("change", "message"), [
    ({"chunk_sise": 5}, r"unknown key\(s\) \['chunk_sise'\]"),
    ({"type": "act"}, "expected 'smolvla'"),
    ({"n_action_steps": 9}, r"`n_action_steps` \(9\) must be <= `chunk_size` \(5\)"),
    ({"num_steps": "10"}, "key 'num_steps' has invalid value '10'"),
    ({"attention_mode": "both"}, "`attention_mode` must be one of"),
    ({"resize_imgs_with_padding": [32]}, "key 'resize_imgs_with_padding'"),
])
def test_bad_config_values_name_the_key(change, message):
    with pytest.raises(ValueError, match=message):
        smolvla.Config.from_dict({**RAW, **change})


def test_unsupported_options_are_refused_not_ignored():
    with pytest.raises(NotImplementedError, match="adapt_to_pi_aloha"):
        smolvla.Config.from_dict({**RAW, "adapt_to_pi_aloha": True})
    config = smolvla.Config.from_dict({**RAW, "rtc_config": {"enabled": True, "execution_horizon": 10}})
    with pytest.raises(NotImplementedError, match="real-time chunking"):
        smolvla.predict_chunk(None, config, {})


def test_state_wider_than_max_state_dim_is_refused():
    raw = {**RAW, "input_features": {**RAW["input_features"], "observation.state": {"type": "STATE", "shape": [9]}}}
    with pytest.raises(ValueError, match="state has 9 dimensions, more than max_state_dim=8"):
        smolvla.build_model(smolvla.Config.from_dict(raw))


def _stats():
    return {k: {"mean": torch.zeros(6), "std": torch.ones(6)} for k in ("observation.state", "action")}


def test_new_policy_gets_lerobots_pipelines_and_trains(tmp_path):
    config = smolvla.Config.from_dict(RAW)
    torch.manual_seed(0)
    policy = policies.from_config(config, stats=_stats())
    names = [s.registry_name for s in policy.preprocessor]
    assert names == ["rename_observations_processor", "to_batch_processor", "smolvla_new_line_processor",
                     "tokenizer_processor", "device_processor", "normalizer_processor"]
    assert [s.registry_name for s in policy.postprocessor] == ["unnormalizer_processor", "device_processor"]
    batch = {"observation.state": torch.randn(2, 6), "observation.images.top": torch.rand(2, 3, 24, 40),
             "observation.images.wrist": torch.rand(2, 3, 32, 32), "task": ["fold the towel", "open the drawer"],
             "action": torch.randn(2, 5, 6)}
    td = policies.preprocess(policy, batch)
    tokens, mask = td["observation", "language", "tokens"], td["observation", "language", "attention_mask"]
    assert mask.dtype == torch.bool and mask.all(dim=1).sum() == 1  # padded to the longest task
    short = int((~mask.all(dim=1)).nonzero())
    assert torch.all(tokens[short][~mask[short]] == policy.preprocessor[3].tokenizer.pad_token_id)
    vision_before = [p.clone() for p in policy.model.model.vlm_with_expert.vlm.model.vision_model.parameters()]
    expert_before = [p.clone() for p in policy.model.model.vlm_with_expert.lm_expert.parameters()]
    optimizer = make_optimizer(policy)
    loss, _ = policies.loss(policy, batch, generator=torch.Generator().manual_seed(0))
    loss.backward()
    optimizer.step()
    vision_after = policy.model.model.vlm_with_expert.vlm.model.vision_model.parameters()
    assert all(torch.equal(a, b) for a, b in zip(vision_before, vision_after, strict=True))
    expert_after = list(policy.model.model.vlm_with_expert.lm_expert.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(expert_before, expert_after, strict=True))
    saved = policies.save(policy, tmp_path / "pretrained_model")
    assert policies.load(saved).config == config


def test_training_the_whole_vlm_unfreezes_it_but_its_unused_last_layer():
    config = smolvla.Config.from_dict({**RAW, "freeze_vision_encoder": False, "train_expert_only": False,
                                       "train_state_proj": False})
    model = smolvla.build_model(config)
    params = dict(model.named_parameters())
    assert params["model.vlm_with_expert.vlm.model.vision_model.embeddings.patch_embedding.weight"].requires_grad
    assert params["model.vlm_with_expert.vlm.model.text_model.layers.2.mlp.up_proj.weight"].requires_grad
    assert not params["model.vlm_with_expert.vlm.model.text_model.layers.3.mlp.up_proj.weight"].requires_grad
    assert not params["model.vlm_with_expert.vlm.lm_head.weight"].requires_grad
    assert not params["model.state_proj.weight"].requires_grad
    assert len(model.model.vlm_with_expert.vlm.model.text_model.layers) == 4  # num_vlm_layers of 6
    model.train()
    assert model.model.vlm_with_expert.vlm.model.vision_model.training


def test_optimizer_and_schedule_are_lerobots():
    config = smolvla.Config.from_dict(RAW)
    preset = smolvla.optimizer_preset(config)
    assert (preset.type, preset.lr, preset.betas, preset.eps, preset.weight_decay, preset.grad_clip_norm) == (
        "adamw", 1e-4, (0.9, 0.95), 1e-8, 1e-10, 10.0)
    schedule = smolvla.scheduler_preset(config)
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.AdamW([param], lr=1e-4)
    scheduler = make_scheduler(schedule, optimizer, total_steps=3000)  # < 30000: phases scale by 0.1
    lrs = []
    for _ in range(3001):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    alpha = 2.5e-6 / 1e-4
    assert lrs[0] == pytest.approx(1e-4 / 101)
    assert lrs[50] == pytest.approx(1e-4 * ((1 / 101 - 1) * (1 - 50 / 100) + 1))
    expected = 1e-4 * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * 1500 / 3000)) + alpha)
    assert lrs[1500] == pytest.approx(expected)
    assert lrs[3000] == pytest.approx(2.5e-6)
