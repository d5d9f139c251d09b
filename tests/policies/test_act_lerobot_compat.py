"""Side by side with LeRobot 0.6.1 itself (opt-in: `-m slow`; needs ../.lerobot-venv with LeRobot).

LeRobot runs in its own virtual environment as a subprocess; the two sides exchange plain JSON and
safetensors files. Checked: LeRobot parses the config.json we write and writes back the same
dict; `torch.manual_seed(s); build_model(config)` gives LeRobot's `ACTPolicy(config)` weights
bit for bit; the training loss and its gradients match LeRobot's `policy.forward(batch)`; and
`select_action` steps (action queue, temporal ensembling) match LeRobot's on batched frames.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import attrs
import pytest
import torch
from safetensors.torch import load_file, save_file

from lerobot_fn.policies import act

pytestmark = pytest.mark.slow

LEROBOT_PYTHON = Path(__file__).resolve().parents[2] / ".lerobot-venv" / "bin" / "python"

LEROBOT_SIDE = r"""
import json, sys
from pathlib import Path
import draccus, torch
from safetensors.torch import load_file, save_file
from lerobot.configs.policies import PreTrainedConfig
from lerobot.policies.act.modeling_act import ACTPolicy

work = Path(sys.argv[1])
cfg = PreTrainedConfig.from_pretrained(work / "ours")
(work / "lerobot_config.json").write_text(json.dumps(draccus.encode(cfg, PreTrainedConfig)))

torch.manual_seed(0)
policy = ACTPolicy(cfg)
save_file({k: v.contiguous() for k, v in policy.state_dict().items()}, str(work / "lerobot_init.safetensors"))

batch = load_file(str(work / "batch.safetensors"))
batch["action_is_pad"] = batch["action_is_pad"].bool()
policy.train()
torch.manual_seed(123)
loss, metrics = policy.forward(batch)
loss.backward()
grads = {n: p.grad for n, p in policy.named_parameters() if p.grad is not None}
save_file({"loss": loss.detach().reshape(1), **{"grad/" + k: v for k, v in grads.items()}},
          str(work / "lerobot_loss.safetensors"))
(work / "lerobot_metrics.json").write_text(json.dumps(metrics))

# Control steps: action queue, then temporal ensembling, on frames of batch size 3.
frames = load_file(str(work / "frames.safetensors"))
n_frames = len({k.split("/")[0] for k in frames})
out = {}
for name, overrides in (("queue", {"n_action_steps": 3}), ("ensemble", {"n_action_steps": 1, "temporal_ensemble_coeff": 0.3})):
    for key, value in overrides.items():
        setattr(cfg, key, value)
    runner = ACTPolicy(cfg)
    runner.load_state_dict(policy.state_dict())
    runner.eval()
    runner.reset()
    for t in range(n_frames):
        obs = {k.split("/", 1)[1]: v for k, v in frames.items() if k.startswith(f"{t}/")}
        out[f"{name}/{t}"] = runner.select_action(obs).contiguous()
save_file(out, str(work / "lerobot_steps.safetensors"))
"""


def _tiny_config() -> act.Config:
    return act.Config(
        input_features={
            "observation.images.top": {"type": "VISUAL", "shape": [3, 32, 32]},
            "observation.images.wrist": {"type": "VISUAL", "shape": [3, 32, 32]},
            "observation.state": {"type": "STATE", "shape": [3]},
        },
        output_features={"action": {"type": "ACTION", "shape": [2]}},
        device="cpu",
        chunk_size=4,
        n_action_steps=4,
        dim_model=16,
        n_heads=2,
        dim_feedforward=32,
        latent_dim=4,
        n_encoder_layers=2,
        n_vae_encoder_layers=2,
        pretrained_backbone_weights=None,
        dropout=0.0,  # dropout draws from torch's RNG in a different order than the VAE noise
    )


@pytest.fixture(scope="module")
def lerobot_run(tmp_path_factory):
    if not LEROBOT_PYTHON.exists():
        pytest.fail(f"LeRobot 0.6.1 venv not found at {LEROBOT_PYTHON} (needed by these opt-in checks)")
    work = tmp_path_factory.mktemp("act_lerobot")
    config = _tiny_config()
    (work / "ours").mkdir()
    (work / "ours" / "config.json").write_text(json.dumps(config.to_dict(), indent=4))
    g = torch.Generator().manual_seed(0)
    is_pad = torch.zeros(3, 4, dtype=torch.bool)
    is_pad[1, -1] = True
    batch = {
        "observation.images.top": torch.randn(3, 3, 32, 32, generator=g),
        "observation.images.wrist": torch.randn(3, 3, 32, 32, generator=g),
        "observation.state": torch.randn(3, 3, generator=g),
        "action": torch.randn(3, 4, 2, generator=g),
        "action_is_pad": is_pad,
    }
    save_file({**batch, "action_is_pad": is_pad.to(torch.uint8)}, str(work / "batch.safetensors"))
    frames = {
        f"{t}/{k}": torch.randn(3, *f.shape, generator=g)
        for t in range(8)
        for k, f in config.input_features.items()
    }
    save_file(frames, str(work / "frames.safetensors"))
    proc = subprocess.run(
        [str(LEROBOT_PYTHON), "-c", LEROBOT_SIDE, str(work)],
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return work, config, batch, frames


def test_lerobot_parses_our_config_json_unchanged(lerobot_run):
    work, config, *_ = lerobot_run
    theirs = json.loads((work / "lerobot_config.json").read_text())
    assert theirs == config.to_dict()
    assert act.Config.from_dict(theirs) == config


def test_seeded_init_equals_lerobot(lerobot_run):
    work, config, *_ = lerobot_run
    torch.manual_seed(0)
    ours = act.build_model(config).state_dict()
    theirs = load_file(work / "lerobot_init.safetensors")
    assert set(ours) == set(theirs)
    for k, v in theirs.items():
        assert torch.equal(ours[k], v), k


def test_training_loss_and_gradients_equal_lerobot(lerobot_run):
    work, config, batch, _ = lerobot_run
    model = act.build_model(config)
    model.load_state_dict(load_file(work / "lerobot_init.safetensors"), strict=True)
    model.train()
    # LeRobot samples the VAE latent with torch.randn_like after torch.manual_seed(123); a CPU
    # generator seeded the same way draws the same numbers.
    loss, metrics = act.loss(model, config, batch, generator=torch.Generator().manual_seed(123))
    loss.backward()
    theirs = load_file(work / "lerobot_loss.safetensors")
    their_metrics = json.loads((work / "lerobot_metrics.json").read_text())
    assert abs(loss.item() - theirs["loss"].item()) <= 1e-5
    assert set(metrics) == set(their_metrics)
    for k in metrics:
        assert metrics[k] == pytest.approx(their_metrics[k], abs=1e-5), k
    grads = {n: p.grad for n, p in model.named_parameters() if p.grad is not None}
    their_grads = {k.removeprefix("grad/"): v for k, v in theirs.items() if k.startswith("grad/")}
    assert set(grads) == set(their_grads)
    for k, v in their_grads.items():
        assert torch.allclose(grads[k], v, atol=1e-5, rtol=1e-4), k


@pytest.mark.parametrize(
    ("name", "overrides"),
    [("queue", {"n_action_steps": 3}), ("ensemble", {"n_action_steps": 1, "temporal_ensemble_coeff": 0.3})],
)
def test_select_action_steps_equal_lerobot(lerobot_run, name, overrides):
    work, config, _, frames = lerobot_run
    config = attrs.evolve(config, **overrides)
    model = act.build_model(config)
    model.load_state_dict(load_file(work / "lerobot_init.safetensors"), strict=True)
    model.eval()
    theirs = load_file(work / "lerobot_steps.safetensors")
    state = act.initial_state(config)
    for t in range(8):
        obs = {k.split("/", 1)[1]: v for k, v in frames.items() if k.startswith(f"{t}/")}
        with torch.inference_mode():
            action, state = act.select_action(model, config, obs, state)
        assert (action - theirs[f"{name}/{t}"]).abs().max() <= 1e-5, t
