"""pi0 / pi05 pieces a user configures, and training through the train job (`lerobot-run`): a new tiny
pi05 on the LeRobot-written pusht_mini fixture (its states cut into the prompt, QUANTILES statistics),
then fine-tuning that checkpoint as pi0 would be: `policy.path`, bf16, gradient checkpointing."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch

from lerobot_fn import policies
from lerobot_fn.cli import main
from lerobot_fn.policies import pi0, pi05
from lerobot_fn.process.prompt import discretize_state, state_prompt

DATA = Path(__file__).resolve().parent / "data"
RAW = json.loads((DATA / "pi0" / "pretrained_model" / "config.json").read_text())
TINY = {"paligemma_variant": f'"{DATA / "pi_tiny_paligemma"}"', "action_expert_variant": f'"{DATA / "pi_tiny_expert"}"',
        "chunk_size": 4, "n_action_steps": 4, "max_state_dim": 8, "max_action_dim": 8,
        "image_resolution": "[32, 32]", "tokenizer_max_length": 40, "num_inference_steps": 2}


def test_config_reads_and_writes_lerobots_json():
    config = pi0.Config.from_dict(RAW)
    assert config.to_dict() == RAW
    assert config.action_delta_indices == list(range(5)) and config.observation_delta_indices is None
    assert pi05.Config().tokenizer_max_length == 200 and pi05.Config().normalization_mapping != pi0.Config().normalization_mapping
    with_empty = pi0.Config.from_dict({**RAW, "empty_cameras": 1})
    assert with_empty.input_features["observation.images.empty_camera_0"].shape == (3, 32, 32)
    assert pi0.Config.from_dict(with_empty.to_dict()) == with_empty


@pytest.mark.parametrize(("change", "message"), [
    ({"chunk_sise": 5}, r"unknown key\(s\) \['chunk_sise'\]"),
    ({"type": "pi05"}, "expected 'pi0'"),
    ({"n_action_steps": 9}, r"`n_action_steps` \(9\) must be <= `chunk_size` \(5\)"),
    ({"num_inference_steps": "10"}, "key 'num_inference_steps' has invalid value '10'"),
    ({"dtype": "float16"}, "`dtype` must be one of"),
    ({"image_resolution": [32, 48]}, "square `image_resolution`"),
])
def test_bad_config_values_name_the_key(change, message):
    with pytest.raises(ValueError, match=message):
        pi0.Config.from_dict({**RAW, **change})


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
@pytest.mark.parametrize("family", [pi0, pi05])
def test_real_size_state_dict_is_lerobots(family, dtype):
    """openpi's sizes (gemma_2b + gemma_300m, SigLIP So400m/14 at 224): every key, shape and dtype as
    LeRobot 0.6.1 builds them (pi_real_size.json), on the meta device."""
    raw = json.loads((DATA / family.CONFIG_TYPE / "pretrained_model" / "config.json").read_text())
    config = family.Config.from_dict({**raw, "paligemma_variant": "gemma_2b", "action_expert_variant": "gemma_300m",
                                      "image_resolution": [224, 224], "dtype": dtype})
    with torch.device("meta"):
        state = family.build_model(config).state_dict()
    layout = {re.sub(r"\.\d+\.", ".N.", k): [list(v.shape), str(v.dtype).removeprefix("torch.")]
              for k, v in state.items()}
    reference = json.loads((DATA / "pi_real_size.json").read_text())[f"{family.CONFIG_TYPE}.{dtype}"]
    assert len(state) == reference["n"] and layout == reference["keys"]


def test_unknown_variant_or_mismatched_backbones_are_clear_errors(tmp_path, monkeypatch):
    monkeypatch.chdir(DATA)
    with pytest.raises(FileNotFoundError, match="`paligemma_variant` 'gemma_7b' is neither one of"):
        pi0.build_model(pi0.Config.from_dict({**RAW, "paligemma_variant": "gemma_7b"}))
    with pytest.raises(ValueError, match="holds a PaliGemmaConfig, expected a GemmaConfig"):
        pi0.build_model(pi0.Config.from_dict({**RAW, "action_expert_variant": "pi_tiny_paligemma"}))
    with pytest.raises(ValueError, match="state has 9 dimensions, more than max_state_dim=8"):
        features = {**RAW["input_features"], "observation.state": {"type": "STATE", "shape": [9]}}
        pi0.build_model(pi0.Config.from_dict({**RAW, "input_features": features}))


def test_pi05_prompt_is_openpis():
    state = torch.tensor([[-1.0, -0.999, 0.0, 0.5, 0.9999, 1.0, 3.0, -2.0]])
    bins = discretize_state(state)
    assert bins.tolist() == [[0, 0, 128, 192, 255, 255, 255, -1]]
    assert state_prompt(" open_the drawer\n", bins[0, :3]) == "Task: open the drawer, State: 0 0 128;\nAction: "


def test_optimizer_and_schedule_are_lerobots():
    preset = pi0.optimizer_preset(pi0.Config())
    assert (preset.type, preset.lr, preset.betas, preset.eps, preset.weight_decay, preset.grad_clip_norm) == (
        "adamw", 2.5e-5, (0.9, 0.95), 1e-8, 0.01, 1.0)
    schedule = pi05.scheduler_preset(pi05.Config())
    assert (schedule.name, schedule.num_warmup_steps, schedule.num_decay_steps, schedule.peak_lr, schedule.decay_lr) == (
        "cosine_decay_with_warmup", 1000, 30000, 2.5e-5, 2.5e-6)


def _spec(path: Path, dataset: Path, policy: str, extra: str = "") -> Path:
    path.write_text("\n".join([
        'job = "train"', "[dataset]", f'root = "{dataset}"', "[policy]", policy, extra,
        "[train]", "steps = 2", "batch_size = 4", "num_workers = 0", 'device = "cpu"', "log_every = 1",
        "save_every = 0", "[log]", "progress = false"]) + "\n")
    return path


def test_trains_a_new_pi05_then_fine_tunes_it_in_bf16_with_checkpointing(tmp_path, dataset_fixtures):
    pusht = dataset_fixtures / "pusht_mini"
    overrides = "[policy.overrides]\n" + "\n".join(f"{k} = {v}" for k, v in TINY.items())
    first = _spec(tmp_path / "new.toml", pusht, 'type = "pi05"', overrides + "\ntrain_expert_only = true")
    assert main([str(first), "--set", f"run.output_dir={str(tmp_path / 'new')!r}"]) == 0
    trained = tmp_path / "new" / "checkpoints" / "last" / "pretrained_model"
    tokenizer = json.loads((trained / "policy_preprocessor.json").read_text())["steps"][5]["config"]
    assert tokenizer["tokenizer_name"] == str(DATA / "pi_tiny_paligemma")
    second = _spec(tmp_path / "tune.toml", pusht, f'path = "{trained}"',
                   "[policy.overrides]\ngradient_checkpointing = true")
    assert main([str(second), "--set", f"run.output_dir={str(tmp_path / 'tune')!r}",
                 "--set", 'train.mixed_precision="bf16"']) == 0
    before = policies.load(trained)
    after = policies.load(tmp_path / "tune" / "checkpoints" / "last")
    assert after.config.gradient_checkpointing and not before.config.gradient_checkpointing
    start, end = before.model.state_dict(), after.model.state_dict()
    changed = {k for k in start if not torch.equal(start[k], end[k])}
    assert changed and not any(".paligemma." in k for k in changed)  # train_expert_only: the VLM stayed frozen
    assert any(".gemma_expert." in k for k in changed)
    frame = {"observation.state": torch.zeros(2), "observation.image": torch.rand(3, 96, 96), "task": "push the T"}
    action, _ = policies.select_action(after, frame, policies.initial_state(after))
    assert action.shape == (1, 2) and torch.isfinite(action).all()
