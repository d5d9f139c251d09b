"""SmolVLA through the train job (`lerobot-run`): a new tiny policy on the LeRobot-written pusht_mini
fixture (its task strings tokenised on the way), then fine-tuning from that checkpoint under bf16."""

from __future__ import annotations

from pathlib import Path

import torch

from lerobot_fn import policies
from lerobot_fn.cli import main

TINY_VLM = Path(__file__).resolve().parent / "data" / "smolvla_tiny_vlm"
TINY = {"vlm_model_name": f'"{TINY_VLM}"', "num_vlm_layers": 4, "chunk_size": 4, "n_action_steps": 4,
        "max_state_dim": 8, "max_action_dim": 8, "resize_imgs_with_padding": "[32, 32]",
        "tokenizer_max_length": 12}


def _spec(path: Path, dataset: Path, policy: str, extra: str = "") -> Path:
    path.write_text("\n".join([
        'job = "train"', "[dataset]", f'root = "{dataset}"', "[policy]", policy, extra,
        "[train]", "steps = 3", "batch_size = 4", "num_workers = 0", 'device = "cpu"', "log_every = 1",
        "save_every = 0", "[log]", "progress = false"]) + "\n")
    return path


def test_trains_a_new_smolvla_then_fine_tunes_it_in_bf16(tmp_path, dataset_fixtures):
    pusht = dataset_fixtures / "pusht_mini"
    overrides = "[policy.overrides]\n" + "\n".join(f"{k} = {v}" for k, v in TINY.items())
    first = _spec(tmp_path / "new.toml", pusht, 'type = "smolvla"', overrides)
    assert main([str(first), "--set", f"run.output_dir={str(tmp_path / 'new')!r}"]) == 0
    trained = tmp_path / "new" / "checkpoints" / "last" / "pretrained_model"
    second = _spec(tmp_path / "tune.toml", pusht, f'path = "{trained}"')
    assert main([str(second), "--set", f"run.output_dir={str(tmp_path / 'tune')!r}",
                 "--set", 'train.mixed_precision="bf16"']) == 0
    before = policies.load(trained)
    after = policies.load(tmp_path / "tune" / "checkpoints" / "last")
    assert after.config == before.config and after.config.vlm_model_name == str(TINY_VLM)
    start, end = before.model.state_dict(), after.model.state_dict()
    changed = {k for k in start if not torch.equal(start[k], end[k])}
    assert changed and all(".lm_expert." in k or ".vlm." not in k for k in changed)  # the VLM stayed frozen
    assert any(k.startswith("model.vlm_with_expert.lm_expert.") for k in changed)
    frame = {"observation.state": torch.zeros(2), "observation.image": torch.rand(3, 96, 96), "task": "push the T"}
    action, _ = policies.select_action(after, frame, policies.initial_state(after))
    assert action.shape == (1, 2) and torch.isfinite(action).all()
