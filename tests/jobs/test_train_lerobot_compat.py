"""A checkpoint our `train` job writes loads in LeRobot 0.6.1 and predicts what ours predicts
(opt-in: `-m slow`; needs ../.lerobot-venv with LeRobot, run as a subprocess)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file
from train_specs import PUSHT, write_spec

from lerobot_fn import data, policies
from lerobot_fn.cli import main

pytestmark = pytest.mark.slow

LEROBOT_PYTHON = Path(__file__).resolve().parents[2] / ".lerobot-venv" / "bin" / "python"

LEROBOT_SIDE = r"""
import json, sys
from pathlib import Path
import torch
from safetensors.torch import load_file, save_file
from lerobot.configs.policies import PreTrainedConfig
from lerobot.policies.factory import get_policy_class, make_pre_post_processors

work, checkpoint = Path(sys.argv[1]), Path(sys.argv[2])
cfg = PreTrainedConfig.from_pretrained(checkpoint)
policy = get_policy_class(cfg.type).from_pretrained(checkpoint, config=cfg, strict=True).eval()
pre, post = make_pre_post_processors(cfg, pretrained_path=str(checkpoint))
if cfg.type == "act":  # deterministic at inference: compare predictions
    obs = load_file(str(work / "obs.safetensors"))
    with torch.no_grad():
        chunk = post(policy.predict_action_chunk(pre(dict(obs))))
    save_file({"chunk": chunk.contiguous()}, str(work / "lerobot_chunk.safetensors"))
(work / "lerobot.json").write_text(json.dumps({"type": cfg.type, "n_params": sum(p.numel() for p in policy.parameters())}))
"""


def _lerobot(tmp_path, checkpoint) -> dict:
    out = subprocess.run([str(LEROBOT_PYTHON), "-c", LEROBOT_SIDE, str(tmp_path), str(checkpoint)],
                         capture_output=True, text=True, timeout=300, check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads((tmp_path / "lerobot.json").read_text())


@pytest.fixture(autouse=True)
def _lerobot_venv():
    if not LEROBOT_PYTHON.is_file():
        pytest.fail(f"LeRobot 0.6.1 venv missing: {LEROBOT_PYTHON} (see README: slow checks)", pytrace=False)


def test_our_diffusion_checkpoint_loads_strictly_in_lerobot(tmp_path):
    spec = write_spec(tmp_path, "diffusion", steps=2)
    assert main([str(spec), "--set", f"run.output_dir={str(tmp_path / 'run')!r}"]) == 0
    checkpoint = (tmp_path / "run" / "checkpoints" / "last" / "pretrained_model").resolve()
    theirs = _lerobot(tmp_path, checkpoint)
    ours = policies.load(checkpoint)
    assert theirs == {"type": "diffusion", "n_params": sum(p.numel() for p in ours.model.parameters())}


def test_our_act_checkpoint_loads_and_predicts_the_same_in_lerobot(tmp_path):
    spec = write_spec(tmp_path, "act", steps=3)
    assert main([str(spec), "--set", f"run.output_dir={str(tmp_path / 'run')!r}"]) == 0
    checkpoint = (tmp_path / "run" / "checkpoints" / "last" / "pretrained_model").resolve()

    ds = data.open(PUSHT)
    frames = [ds[i] for i in (0, 30, 60)]
    obs = {"observation.image": torch.stack([f["observation", "image"] for f in frames]),
           "observation.state": torch.stack([f["observation", "state"] for f in frames]),
           "observation.environment_state": torch.stack([f["observation", "environment_state"] for f in frames])}
    save_file(obs, str(tmp_path / "obs.safetensors"))
    assert _lerobot(tmp_path, checkpoint)["type"] == "act"
    theirs = load_file(str(tmp_path / "lerobot_chunk.safetensors"))["chunk"]
    ours = policies.predict_chunk(policies.load(checkpoint), obs)
    assert theirs.shape == ours.shape == (3, 4, 2)
    torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-4)


DIFFUSERS_LRS = r"""
import json, torch
from lerobot.optim.schedulers import DiffuserSchedulerConfig
param = torch.nn.Parameter(torch.zeros(1))
opt = torch.optim.Adam([param], lr=1e-4)
sched = DiffuserSchedulerConfig(name="cosine", num_warmup_steps=500).build(opt, 2000)
lrs = []
for _ in range(2001):
    lrs.append(opt.param_groups[0]["lr"]); opt.step(); sched.step()
print(json.dumps(lrs))
"""


def test_diffusion_schedule_matches_lerobots_diffusers_scheduler():
    from lerobot_fn import train
    from lerobot_fn.policies.family import SchedulerPreset

    out = subprocess.run([str(LEROBOT_PYTHON), "-c", DIFFUSERS_LRS], capture_output=True, text=True, timeout=300,
                         check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    theirs = json.loads(out.stdout.strip().splitlines()[-1])
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.Adam([param], lr=1e-4)
    scheduler = train.make_scheduler(SchedulerPreset("cosine", 500), optimizer, 2000)
    ours = []
    for _ in range(2001):
        ours.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert ours == theirs
