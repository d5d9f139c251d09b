"""The `train` job through `lerobot-run`: checkpoints, exact resume, fine-tuning, errors, logs."""

from __future__ import annotations

import json

import pytest
import torch
from train_specs import PUSHT, weights, write_spec

from lerobot_fn import policies
from lerobot_fn.cli import main
from lerobot_fn.jobs.train_log import read_metrics


def run(*args: str) -> int:
    return main([*args])


@pytest.mark.parametrize("policy", ["act", "diffusion"])
def test_resume_is_bit_identical_to_an_uninterrupted_run(tmp_path, policy):
    """N steps + `--resume --set train.steps=2N` == 2N steps: weights, optimizer and the logged losses,
    with dropout / VAE noise (ACT), random crops and diffusion noise (Diffusion) and image augmentation on."""
    extra = ("[dataset.image_transforms]\nenable = true\n"
             '[scheduler]\nname = "constant_with_warmup"\nnum_warmup_steps = 3\n')
    spec = write_spec(tmp_path, policy, steps=4, extra=extra)
    assert run(str(spec), "--set", f"run.output_dir={str(tmp_path / 'straight')!r}") == 0
    assert run(str(spec), "--set", "train.steps=2", "--set", f"run.output_dir={str(tmp_path / 'resumed')!r}") == 0
    assert run("--resume", str(tmp_path / "resumed"), "--set", "train.steps=4") == 0

    straight, resumed = weights(tmp_path / "straight"), weights(tmp_path / "resumed")
    assert straight.keys() == resumed.keys()
    assert all(torch.equal(straight[k], resumed[k]) for k in straight), "weights differ after resume"
    losses = [[r["loss"] for r in read_metrics(tmp_path / d)] for d in ("straight", "resumed")]
    assert losses[0] == losses[1] and len(losses[0]) == 4
    lrs = [r["lr"] for r in read_metrics(tmp_path / "straight")]
    assert lrs[0] == 0.0 and lrs[-1] == pytest.approx(1e-5 if policy == "act" else 1e-4)  # warm-up, then flat
    checkpoints = sorted(p.name for p in (tmp_path / "resumed" / "checkpoints").iterdir())
    assert checkpoints == ["000002", "000004", "last"]


def test_checkpoint_layout_is_lerobots_and_loads(tmp_path):
    """...and the opt-in TensorBoard events and W&B offline run (no network) are written."""
    spec = write_spec(tmp_path, "act", steps=2, extra="tensorboard = true\nwandb = true\n")
    assert run(str(spec), "--set", f"run.output_dir={str(tmp_path / 'run')!r}", "--set", "train.save_every=1") == 0
    root = tmp_path / "run" / "checkpoints"
    assert sorted(p.name for p in root.iterdir()) == ["000001", "000002", "last"]
    assert (root / "last").is_symlink() and (root / "last").resolve() == root / "000002"
    pretrained = root / "000002" / "pretrained_model"
    assert {p.name for p in pretrained.iterdir()} >= {"config.json", "model.safetensors", "train_config.json",
                                                      "policy_preprocessor.json", "policy_postprocessor.json"}
    training = root / "000002" / "training_state"
    assert {p.name for p in training.iterdir()} == {"optimizer_state.safetensors", "optimizer_param_groups.json",
                                                    "rng_state.safetensors", "training_step.json"}
    assert json.loads((training / "training_step.json").read_text()) == {"step": 2, "num_processes": 1, "batch_size": 4}
    assert json.loads((pretrained / "train_config.json").read_text())["spec"]["train"]["steps"] == 2
    policy = policies.load(root / "last")
    assert policy.type == "act" and policy.config.chunk_size == 4
    record = read_metrics(tmp_path / "run")[-1]
    assert {"step", "loss", "grad_norm", "lr", "samples_per_s", "data_wait_fraction", "l1_loss"} <= set(record)
    assert record["step"] == 2 and 0 <= record["data_wait_fraction"] <= 1 and record["samples_per_s"] > 0
    result = json.loads((tmp_path / "run" / "result.json").read_text())
    assert result["step"] == 2 and result["checkpoint"].endswith("000002/pretrained_model")

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(tmp_path / "run" / "tensorboard"))
    events.Reload()
    assert [e.step for e in events.Scalars("train/loss")] == [1, 2]
    assert events.Scalars("train/loss")[-1].value == pytest.approx(record["loss"], rel=1e-6)
    offline = list((tmp_path / "run" / "wandb").glob("offline-run-*/run-*.wandb"))
    assert len(offline) == 1 and offline[0].stat().st_size > 0


def test_fine_tunes_a_lerobot_checkpoint(tmp_path, dataset_fixtures, policy_fixtures):
    """A LeRobot 0.6.1 ACT checkpoint trains on, re-normalised with the new dataset's statistics."""
    fixture = policy_fixtures / "act_aloha_mini" / "pretrained_model"
    spec = tmp_path / "finetune.toml"
    spec.write_text(f'job = "train"\n[dataset]\nroot = "{dataset_fixtures / "aloha_sim_mini"}"\n'
                    f'[policy]\npath = "{fixture}"\n[train]\nsteps = 2\nbatch_size = 2\nnum_workers = 0\n'
                    f'device = "cpu"\nlog_every = 1\n[log]\nprogress = false\n')
    assert run(str(spec), "--set", f"run.output_dir={str(tmp_path / 'run')!r}") == 0
    before = policies.load(fixture)
    after = policies.load(tmp_path / "run" / "checkpoints" / "last")
    assert after.config.chunk_size == before.config.chunk_size == 20
    start, end = before.model.state_dict(), after.model.state_dict()
    assert start.keys() == end.keys()
    assert any(not torch.equal(start[k], end[k]) for k in start), "fine-tuning changed no weight"
    changed = sum(not torch.equal(start[k], end[k]) for k in start)
    assert changed > len(start) // 2


def test_a_dataset_smaller_than_one_batch_fails_at_once_naming_both_sizes(tmp_path, capsys):
    spec = write_spec(tmp_path, "act", steps=2)
    assert run(str(spec), "--set", "train.batch_size=500", "--set", f"run.output_dir={str(tmp_path / 'run')!r}") == 1
    err = capsys.readouterr().err
    assert "108 usable frames, fewer than one batch of 500" in err and str(PUSHT) in err
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_spec_mistakes_exit_2_naming_the_key(tmp_path, capsys):
    spec = write_spec(tmp_path, "act", overrides={"chunk_sise": 4})
    assert run(str(spec), "--set", f"run.output_dir={str(tmp_path / 'a')!r}") == 2
    assert "policy.overrides" in capsys.readouterr().err
    assert run(str(spec), "--set", "policy.type='acty'", "--set", f"run.output_dir={str(tmp_path / 'b')!r}") == 2
    err = capsys.readouterr().err
    assert "policy.type" in err and "'acty' is not supported" in err and "act, diffusion" in err
    assert run(str(spec), "--set", "train.stepz=3") == 2
    assert "train.stepz" in capsys.readouterr().err


def test_explain_documents_every_key(capsys):
    from lerobot_fn.specs.train import TrainSpec

    assert run("--explain", "train") == 0
    text = capsys.readouterr().out
    import attrs

    def paths(cls, prefix=""):
        for f in attrs.fields(cls):
            if attrs.has(f.type):
                yield from paths(f.type, f"{prefix}{f.name}.")
            else:
                yield f"{prefix}{f.name}"

    attrs.resolve_types(TrainSpec)
    keys = list(paths(TrainSpec))
    for key in ("dataset.root", "dataset.repo_id", "train.steps", "train.batch_size", "train.num_workers",
                "train.device", "run.output_dir", "train.eval_every", "log.tensorboard", "log.wandb"):
        assert key in keys
    for key in keys:
        line = next((line for line in text.splitlines() if line.startswith(f"{key}:")), None)
        assert line is not None, f"--explain train does not document {key}"


def test_eval_every_evaluates_in_simulation_and_logs_the_results(tmp_path, capsys):
    image_and_state = '{"observation.image" = {type = "VISUAL", shape = [3, 96, 96]}, ' \
                      '"observation.state" = {type = "STATE", shape = [2]}}'
    extra = '[eval]\nn_episodes = 2\nbatch_size = 1\n[eval.env]\ntype = "pusht"\n[eval.env.options]\nepisode_length = 5\n'
    spec = write_spec(tmp_path, "diffusion", steps=2, extra=extra)
    # the env gives no environment_state, which a policy of all pusht_mini's features reads: refused up front
    assert run(str(spec), "--set", "train.eval_every=1", "--set", f"run.output_dir={str(tmp_path / 'bad')!r}") == 2
    assert "eval.env" in capsys.readouterr().err
    assert not (tmp_path / "bad" / "checkpoints").exists()
    assert run(str(spec), "--set", "train.eval_every=2", "--set", f"policy.overrides.input_features={image_and_state}",
               "--set", f"run.output_dir={str(tmp_path / 'run')!r}") == 0
    lines = read_metrics(tmp_path / "run")
    evals = [r for r in lines if "eval" in r]
    assert [r["step"] for r in evals] == [2] and evals[0]["eval"]["n_episodes"] == 2
    assert 0 <= evals[0]["eval"]["pc_success"] <= 100
    info = json.loads((tmp_path / "run" / "eval" / "000002" / "eval_info.json").read_text())
    assert info["overall"]["n_episodes"] == 2
