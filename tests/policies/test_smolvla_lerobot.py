"""LeRobot 0.6.1 loads a SmolVLA checkpoint lerobot-fn saved (after a training step here) and reproduces
our outputs (opt-in: `-m slow`; needs .lerobot-venv (beside the repository root) with `lerobot[smolvla]==0.6.1`)."""

from __future__ import annotations

import json

import pytest
import torch
from lerobot_check import run_under_lerobot
from safetensors.torch import load_file
from test_smolvla import DATA, load, observation, run_all

from lerobot_fn import policies
from lerobot_fn.train.optim import make_optimizer

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("variant", ["a", "b"])
def test_lerobot_loads_our_checkpoint_and_reproduces_our_outputs(variant, tmp_path, monkeypatch):
    monkeypatch.chdir(DATA)
    root = DATA / f"smolvla_{variant}"
    inputs = load_file(root / "inputs.safetensors")
    policy = load(root)
    train = observation(inputs, 0)
    train["action"] = inputs["train.action"]
    train["action_is_pad"] = inputs["train.action_is_pad"]
    optimizer = make_optimizer(policy, lr=1e-2)
    loss, _ = policies.loss(policy, train, generator=torch.Generator().manual_seed(0))
    loss.backward()
    optimizer.step()
    saved = policies.save(policy, tmp_path / "pretrained_model")
    ours = run_all(policies.load(saved), inputs)
    theirs_path = tmp_path / "lerobot_outputs.safetensors"
    run_under_lerobot(DATA / "smolvla_generate.py", "--check", str(saved), str(theirs_path), "--variant", variant)
    theirs = load_file(theirs_path)
    reference = load_file(root / "outputs.safetensors")
    assert not torch.allclose(ours["chunk"], reference["chunk"], atol=1e-3)  # the step changed the policy
    torch.testing.assert_close(theirs["chunk"], ours["chunk"], atol=1e-4, rtol=0)
    torch.testing.assert_close(theirs["select_actions"], ours["select_actions"], atol=1e-4, rtol=0)
    assert abs(theirs["loss"].item() - ours["loss"].item()) < 1e-5
    meta = json.loads(theirs_path.with_suffix(".json").read_text())
    assert meta["trainable"] == sorted(k for k, p in policies.load(saved).model.named_parameters() if p.requires_grad)
