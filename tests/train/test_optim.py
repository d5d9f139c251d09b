"""LeRobot's optimizer and schedule presets per family, and the schedules as diffusers computes them."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch

from lerobot_fn import train
from lerobot_fn.policies import act, diffusion
from lerobot_fn.policies.family import OptimizerPreset, SchedulerPreset

FEATURES = {"input_features": {"observation.state": {"type": "STATE", "shape": [2]},
                               "observation.environment_state": {"type": "ENV", "shape": [4]}},
            "output_features": {"action": {"type": "ACTION", "shape": [2]}}}


def test_lerobot_presets():
    a = act.Config.from_dict({"type": "act", **FEATURES})
    assert act.optimizer_preset(a) == OptimizerPreset("adamw", lr=1e-5, betas=(0.9, 0.999), eps=1e-8,
                                                      weight_decay=1e-4, grad_clip_norm=10.0)
    assert act.scheduler_preset(a) is None and a.optimizer_lr_backbone == 1e-5
    d = diffusion.Config.from_dict({"type": "diffusion", **FEATURES})
    assert diffusion.optimizer_preset(d) == OptimizerPreset("adam", lr=1e-4, betas=(0.95, 0.999), eps=1e-8,
                                                            weight_decay=1e-6, grad_clip_norm=10.0)
    assert diffusion.scheduler_preset(d) == SchedulerPreset("cosine", num_warmup_steps=500)


def _lrs(preset, total, steps):
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.Adam([param], lr=1.0)
    scheduler = train.make_scheduler(preset, optimizer, total)
    out = []
    for _ in range(steps):
        out.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return out


def test_cosine_with_warmup_is_diffusers_schedule():
    lrs = _lrs(SchedulerPreset("cosine", num_warmup_steps=500), total=2000, steps=2001)
    assert lrs[0] == 0.0 and lrs[250] == 0.5 and lrs[500] == 1.0  # linear warm-up from 0
    progress = (1250 - 500) / 1500
    assert lrs[1250] == pytest.approx(0.5 * (1 + math.cos(math.pi * progress)))
    assert lrs[2000] == pytest.approx(0.0, abs=1e-12)


def test_other_schedules():
    assert _lrs(SchedulerPreset("constant_with_warmup", 4), 10, 6) == [0.0, 0.25, 0.5, 0.75, 1.0, 1.0]
    assert _lrs(SchedulerPreset("linear", 2), 6, 7) == pytest.approx([0.0, 0.5, 1.0, 0.75, 0.5, 0.25, 0.0])
    assert train.make_scheduler(None, torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1), 5) is None
    with pytest.raises(ValueError, match="scheduler 'exponential' is not supported"):
        _lrs(SchedulerPreset("exponential"), 10, 1)


def test_make_optimizer_uses_the_family_preset_and_groups():
    config = act.Config.from_dict({"type": "act", **FEATURES, "optimizer_lr": 3e-5, "optimizer_lr_backbone": 1e-6})
    policy = SimpleNamespace(family=act, config=config, model=act.build_model(config))
    optimizer = train.make_optimizer(policy)
    assert isinstance(optimizer, torch.optim.AdamW)
    assert [g["lr"] for g in optimizer.param_groups] == [3e-5, 1e-6]
    assert optimizer.param_groups[0]["weight_decay"] == 1e-4
    assert [g["lr"] for g in train.make_optimizer(policy, lr=1e-3).param_groups] == [1e-3, 1e-6]
    with pytest.raises(ValueError, match="optimizer type 'lion'"):
        train.make_optimizer(policy, OptimizerPreset("lion", lr=1.0))
