"""The quickstart job end to end through `lerobot-run`, as `make quickstart` runs it (smaller)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import torch

from lerobot_fn import data, policies

REPO = Path(__file__).resolve().parents[2]
SMALL = ["--set", "train.steps=2", "--set", "train.batch_size=4", "--set", "dataset.episodes=2",
         "--set", "dataset.frames_per_episode=12", "--set", "dataset.image_size=[32, 32]"]


def lerobot_run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "lerobot_fn.cli", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=600)


@pytest.mark.parametrize("policy", ["act", "diffusion"])
def test_quickstart_records_trains_saves_and_reloads(tmp_path, policy):
    out = lerobot_run(str(REPO / "specs" / "quickstart.toml"), *SMALL, "--set", f"train.policy={policy!r}",
                      "--set", "run.output_dir='run'", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    run = tmp_path / "run"

    # the run directory says how to repeat the run
    spec = tomllib.loads((run / "spec.toml").read_text())
    assert spec["job"] == "quickstart" and spec["train"]["steps"] == 2 and spec["train"]["policy"] == policy
    record = json.loads((run / "run.json").read_text())
    assert record["seed"] == 0 and "torch" in record["versions"] and record["versions"]["python"]
    assert len(record["git"]["commit"]) == 40 and isinstance(record["git"]["dirty"], bool)
    assert "train step 2/2" in (run / "log.txt").read_text()

    # the dataset it wrote is a valid LeRobotDataset that reads back
    ds = data.open(run / "dataset")
    assert len(ds) == 24 and ds.meta.total_episodes == 2
    assert ds[0]["observation", "images", "top"].shape == (3, 32, 32)

    # the checkpoint loads and predicts what the job reported
    result = json.loads((run / "result.json").read_text())
    assert result["frames"] == 24 and result["policy"] == policy
    loaded = policies.load(result["checkpoint"])
    assert loaded.type == policy
    assert all(map(torch.isfinite, (torch.tensor(result["first_loss"]), torch.tensor(result["last_loss"]))))


def test_same_seed_same_losses(tmp_path):
    results = []
    for name in ("a", "b"):
        out = lerobot_run(str(REPO / "specs" / "quickstart.toml"), *SMALL, "--set", f"run.output_dir='{name}'",
                          "--set", "dataset.use_videos=false", cwd=tmp_path)
        assert out.returncode == 0, out.stderr
        results.append(json.loads((tmp_path / name / "result.json").read_text()))
    assert results[0]["first_loss"] == results[1]["first_loss"]
    assert results[0]["last_loss"] == results[1]["last_loss"]


def test_runtime_failure_exits_1_with_a_paragraph_and_traceback_only_with_debug(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "dataset").write_text("a file where the job wants its dataset directory")
    args = [str(REPO / "specs" / "quickstart.toml"), *SMALL, "--set", f"run.output_dir={str(run)!r}"]
    out = lerobot_run(*args, cwd=tmp_path)
    assert out.returncode == 1
    assert "job 'quickstart' failed" in out.stderr and str(run) in out.stderr
    assert "--debug" in out.stderr and "Traceback" not in out.stderr
    debug = lerobot_run(*args, "--debug", cwd=tmp_path)
    assert debug.returncode == 1 and "Traceback" in debug.stderr
    assert (run / "dataset").read_text().startswith("a file"), "the failing job must not clobber what was there"


def test_unwritable_run_directory_exits_1(tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    out = lerobot_run(str(REPO / "specs" / "quickstart.toml"), "--set", f"run.output_dir={str(blocker / 'run')!r}",
                      cwd=tmp_path)
    assert out.returncode == 1
    assert f"cannot create the run directory {blocker / 'run'}" in out.stderr and "Traceback" not in out.stderr


def test_ctrl_c_shuts_down_cleanly_with_exit_130(tmp_path):
    import signal
    import time

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    log = tmp_path / "stderr.txt"
    # SIGINT at its default in the child (a CI background job would otherwise pass it on ignored: a
    # Python handler in the parent becomes SIG_DFL across exec), in its own process group so the
    # whole tree can be killed if anything goes wrong
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with log.open("w") as err:
            proc = subprocess.Popen(
                [sys.executable, "-m", "lerobot_fn.cli", str(REPO / "specs" / "quickstart.toml"), *SMALL,
                 "--set", "train.steps=100000", "--set", "run.output_dir='run'"],
                cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=err, text=True, start_new_session=True,
            )
    finally:
        signal.signal(signal.SIGINT, previous)
    try:
        deadline = time.monotonic() + 120
        while "read back" not in log.read_text():  # wait until training has started
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "training did not start within 120 s:\n" + log.read_text()
            time.sleep(0.2)
        time.sleep(1.0)
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)
        assert proc.returncode == 130, log.read_text()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate(timeout=10)
    rest = log.read_text()
    assert "interrupted" in rest and "Traceback" not in rest
    assert data.open(tmp_path / "run" / "dataset").meta.total_episodes == 2, "recorded episodes survive Ctrl-C"
    assert not (tmp_path / "run" / "dataset" / ".staging").exists()
    time.sleep(0.5)
    with pytest.raises(ProcessLookupError):  # no child process (video encoder, loader worker) left behind
        os.killpg(proc.pid, 0)


def test_resume_reruns_from_the_run_directory_keeping_saved_episodes(tmp_path):
    first = lerobot_run(str(REPO / "specs" / "quickstart.toml"), *SMALL, "--set", "run.output_dir='run'",
                        "--set", "dataset.use_videos=false", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    # a user asks for more episodes than the first run recorded: only the missing one is recorded
    again = lerobot_run("--resume", "run", "--set", "dataset.episodes=3", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "recording 1 synthetic episodes" in again.stderr
    record = json.loads((tmp_path / "run" / "run.json").read_text())
    assert record["resume"] is True
    assert tomllib.loads((tmp_path / "run" / "spec.toml").read_text())["dataset"]["episodes"] == 3
    ds = data.open(tmp_path / "run" / "dataset")
    assert ds.meta.total_episodes == 3 and len(ds) == 36


def test_resume_of_a_directory_without_spec_exits_2(tmp_path):
    out = lerobot_run("--resume", str(tmp_path / "nowhere"), cwd=tmp_path)
    assert out.returncode == 2
    assert f"{tmp_path / 'nowhere' / 'spec.toml'}: spec file not found" in out.stderr
