"""The ready-to-run train specs, a few CPU steps each on the LeRobot-written pusht_mini fixture.

The brief's overrides (`dataset.root`, `train.steps=4`, `train.batch_size=4`, `train.num_workers=0`,
`train.device="cpu"`) plus, offline, no ImageNet backbone download for ACT; the default suite
also shrinks Diffusion's 263M-parameter UNet (its 3 GB checkpoint is the slow variant's)."""

from __future__ import annotations

import math

import pytest
from train_specs import PUSHT, REPO

from lerobot_fn import policies
from lerobot_fn.cli import main
from lerobot_fn.jobs.train_log import read_metrics

BRIEF = ["--set", f"dataset.root={str(PUSHT)!r}", "--set", "train.steps=4", "--set", "train.batch_size=4",
         "--set", "train.num_workers=0", "--set", 'train.device="cpu"']
OFFLINE = {"act_aloha": ["--set", 'policy.overrides.pretrained_backbone_weights=""'], "diffusion_pusht": []}
SMALL = {"act_aloha": [], "diffusion_pusht": ["--set", "policy.overrides.down_dims=[32, 64, 128]"]}


def _train(tmp_path, name: str, extra: list[str]):
    run = tmp_path / name
    assert main([str(REPO / "specs" / f"train_{name}.toml"), *BRIEF, *OFFLINE[name], *extra,
                 "--set", f"run.output_dir={str(run)!r}"]) == 0
    metrics = read_metrics(run)
    assert [r["step"] for r in metrics] == [4] and math.isfinite(metrics[-1]["loss"])
    return policies.load(run / "checkpoints" / "last"), run


@pytest.mark.parametrize("name", ["act_aloha", "diffusion_pusht"])
def test_spec_trains_a_few_steps_on_the_fixture(tmp_path, name):
    policy, run = _train(tmp_path, name, SMALL[name])
    if name == "act_aloha":  # LeRobot's ACT: chunks of 100, all executed; AdamW at 1e-5, constant
        assert policy.config.chunk_size == policy.config.n_action_steps == 100
        assert read_metrics(run)[-1]["lr"] == 1e-5
    else:  # PushT recipe: 2 observation steps, horizon 16, 84x84 crops; cosine warm-up from 0
        assert (policy.config.n_obs_steps, policy.config.horizon, policy.config.crop_shape) == (2, 16, (84, 84))
        assert 0 < read_metrics(run)[-1]["lr"] < 1e-4


@pytest.mark.slow
def test_diffusion_spec_at_full_size(tmp_path):
    policy, _ = _train(tmp_path, "diffusion_pusht", [])
    assert policy.config.down_dims == (512, 1024, 2048)


def test_a_spec_trains_on_the_sample_dataset_or_a_path_beside_it(tmp_path, monkeypatch, sample_lerobot_home):
    # a user's own clone has no ../shared: `sample:pusht` is the dataset the project makes, and a relative
    # root in a spec file means beside that file, from whatever directory it is run
    monkeypatch.setenv("HF_LEROBOT_HOME", str(sample_lerobot_home))
    monkeypatch.chdir(tmp_path)
    small = ["--set", "train.steps=2", "--set", "train.batch_size=4", "--set", "train.num_workers=0",
             "--set", "policy.overrides.down_dims=[32, 64, 128]"]
    assert main([str(REPO / "specs" / "train_diffusion_pusht.toml"), "--set", 'dataset.root="sample:pusht"',
                 *small, "--set", "run.output_dir='sample_run'"]) == 0
    assert [r["step"] for r in read_metrics(tmp_path / "sample_run")] == [2]
    spec_dir = tmp_path / "my_specs"
    spec_dir.mkdir()
    (spec_dir / "ds").symlink_to(PUSHT)
    (spec_dir / "train.toml").write_text((REPO / "specs" / "train_diffusion_pusht.toml").read_text().replace(
        '[dataset]\n', '[dataset]\nroot = "ds"\n', 1))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert main([str(spec_dir / "train.toml"), *small, "--set", "run.output_dir='path_run'"]) == 0
    assert [r["step"] for r in read_metrics(elsewhere / "path_run")] == [2]
