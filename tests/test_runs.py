"""lerobot_fn.runs: a training run directory read for people (metrics tailed as they grow,
checkpoints, spec, summary), on run directories laid out as the train job writes them."""

from __future__ import annotations

import json
import os
import sys

import numpy as np
import pytest

from lerobot_fn import runs

SPEC = 'job = "train"\n[dataset]\nroot = "/data/pusht"\n[policy]\ntype = "act"\n[train]\nsteps = 4\n'


def _line(step, **extra):
    return {"step": step, "loss": 1.0 / step, "lr": 1e-4, "grad_norm": 2.0, "samples_per_s": 100.0,
            "data_wait_fraction": 0.1, "time_s": float(step), "l1_loss": 0.5, "kld_loss": 0.1, **extra}  # fmt: skip


@pytest.fixture
def run_dir(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "spec.toml").write_text(SPEC)
    (run / "run.json").write_text(json.dumps({"job": "train", "started": "2026-12-03T10:00:00+00:00"}))
    (run / "metrics.jsonl").write_text("".join(json.dumps(_line(s)) + "\n" for s in (1, 2)))
    for step in (2, 4):
        model = run / "checkpoints" / f"{step:06d}" / "pretrained_model"
        model.mkdir(parents=True)
        (model / "model.safetensors").write_bytes(b"x" * 1024 * step)
    (run / "checkpoints" / ".000006.tmp-123").mkdir()  # a save in progress
    (run / "checkpoints" / "last").symlink_to("000004")
    return run


def test_tail_reads_only_appended_complete_lines(run_dir):
    tail = runs.MetricsTail(run_dir)
    assert [r["step"] for r in tail.read()] == [1, 2]
    with open(run_dir / "metrics.jsonl", "a") as f:
        f.write(json.dumps(_line(3)) + "\n" + json.dumps(_line(4))[:20])  # step 4 still being written
        f.flush()
        assert [r["step"] for r in tail.read()] == [1, 2, 3]
        f.write(json.dumps(_line(4))[20:] + "\n")
    assert [r["step"] for r in tail.read()] == [1, 2, 3, 4]
    # a resumed run rewrites the file without the lines after its checkpoint
    (run_dir / "metrics.jsonl").write_text(json.dumps(_line(1)) + "\n")
    assert [r["step"] for r in tail.read()] == [1]
    (run_dir / "metrics.jsonl").unlink()
    assert tail.read() == []


def test_columns_and_panels(run_dir):
    records = runs.MetricsTail(run_dir).read() + [_line(3, eval={"pc_success": 40.0, "avg_sum_reward": 2.0})]
    cols = runs.metric_columns(records + [{"step": 4, "loss": 0.1}])
    assert list(cols)[:6] == ["step", *runs.TRAIN_METRICS]
    np.testing.assert_array_equal(cols["step"], [1, 2, 3, 4])
    assert np.isnan(cols["lr"][3]) and cols["loss"][3] == 0.1
    evals = runs.eval_columns(records)
    np.testing.assert_array_equal(evals["step"], [3])
    assert evals["pc_success"].tolist() == [40.0]
    assert runs.eval_columns(records[:2]) == {}
    panels, labels = runs.train_panels(records)
    assert list(panels) == [*runs.TRAIN_METRICS, "loss parts"]
    assert labels == {"loss parts": ["l1_loss", "kld_loss"]}
    assert panels["loss parts"][1].shape == (3, 2)


def test_checkpoints_skip_unfinished_saves(run_dir):
    found = runs.checkpoints(run_dir)
    assert [(c.step, c.is_last) for c in found] == [(2, False), (4, True)]
    assert found[1].pretrained_model == run_dir / "checkpoints" / "000004" / "pretrained_model"
    assert found[1].size_mb == round(4096 / 1024**2, 2)
    assert runs.checkpoints(run_dir / "nowhere") == []


def test_summary_and_spec(run_dir):
    text, spec = runs.read_spec(run_dir)
    assert text == SPEC and spec["train"]["steps"] == 4
    records = runs.MetricsTail(run_dir).read()
    summary = runs.run_summary(run_dir, records)
    assert (summary["policy"], summary["dataset"], summary["step"], summary["steps"]) == (
        "act",
        "/data/pusht",
        2,
        4,
    )
    assert summary["loss"] == 0.5 and summary["finished"] is False and summary["idle_s"] >= 0
    (run_dir / "result.json").write_text(json.dumps({"step": 4}))
    assert runs.run_summary(run_dir, records)["finished"] is True


def test_bad_run_directories_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=f"{tmp_path}.*no spec.toml"):
        runs.read_spec(tmp_path)
    with pytest.raises(FileNotFoundError, match="no spec.toml"):
        runs.start_resume(tmp_path)
    (tmp_path / "spec.toml").write_text("job = [")
    with pytest.raises(ValueError, match="spec.toml: not valid TOML"):
        runs.read_spec(tmp_path)


def test_resume_command():
    assert runs.resume_command("r") == [sys.executable, "-m", "lerobot_fn.cli", "--resume", "r"]
    assert runs.resume_command("r", 50)[-2:] == ["--set", "train.steps=50"]


def test_sample_run_refuses_a_folder_holding_something_else(tmp_path):
    (tmp_path / "stray.txt").write_text("not a run")
    with pytest.raises(FileExistsError, match="holds no finished run"):
        runs.sample_run(tmp_path)
    assert os.listdir(tmp_path) == ["stray.txt"]
