"""The quickstart job end to end through `lerobot-run`, as `make quickstart` runs it (a short variant):
expert demonstrations -> LeRobotDataset v3.0 -> trained ACT -> evaluated next to a random policy."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from lerobot_fn import data, policies

REPO = Path(__file__).resolve().parents[2]
SPEC = str(REPO / "specs" / "quickstart.toml")
SHORT = ["--set", "demos.episodes=10", "--set", "train.steps=600", "--set", "eval.n_episodes=8",
         "--set", "eval.max_episodes_rendered=0",
         "--set", 'env.options={obs_type="environment_state_agent_pos", episode_length=100}']

pytestmark = pytest.mark.timeout(300)


def lerobot_run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "lerobot_fn.cli", *args], capture_output=True, text=True,
                          check=False, cwd=cwd, env=env, timeout=240, stdin=subprocess.DEVNULL, start_new_session=True)


def test_short_quickstart_records_trains_and_beats_a_random_policy(tmp_path):
    out = lerobot_run(SPEC, *SHORT, "--set", "run.output_dir='run'", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    run = tmp_path / "run"
    result = json.loads((run / "result.json").read_text())

    # the trained policy clearly beats the random one on the same seeds
    assert result["trained_pc_success"] >= result["random_pc_success"] + 25, result
    assert result["trained_avg_max_reward"] > result["random_avg_max_reward"]
    assert "trained ACT" in out.stderr and "vs  random" in out.stderr and "docs/notebooks.md" in out.stderr

    # the demonstrations are a LeRobotDataset v3.0 of successful expert episodes
    ds = data.open(run / "dataset")
    assert ds.meta.total_episodes == 10 and ds.meta.info["codebase_version"] == "v3.0"
    assert ds[0]["observation", "environment_state"].shape == (39,) and ds[0]["action"].shape == (4,)
    assert ds[0]["task"] == "Reach a goal position"

    # both evaluations wrote eval_info.json on the same seeds; the checkpoint loads as ACT
    trained = json.loads(Path(result["eval_info"]["trained"]).read_text())
    random = json.loads(Path(result["eval_info"]["random"]).read_text())
    assert [e["seed"] for e in trained["per_episode"]] == [e["seed"] for e in random["per_episode"]]
    assert trained["overall"]["pc_success"] == result["trained_pc_success"]
    assert policies.load(result["checkpoint"]).type == "act"
    assert result["last_loss"] < result["first_loss"]

    spec = tomllib.loads((run / "spec.toml").read_text())
    assert spec["job"] == "quickstart" and spec["train"]["steps"] == 600
    assert len(json.loads((run / "run.json").read_text())["git"]["commit"]) == 40


def test_runtime_failure_exits_1_with_a_paragraph_and_traceback_only_with_debug(tmp_path):
    outputs = []
    for name, extra in (("run", []), ("debug", ["--debug"])):
        run = tmp_path / name
        run.mkdir()
        (run / "dataset").write_text("a file where the job wants its dataset directory")
        outputs.append((run, lerobot_run(SPEC, *SHORT, "--set", f"run.output_dir={str(run)!r}", *extra,
                                         cwd=tmp_path)))
    (run, out), (debug_run, debug) = outputs
    assert out.returncode == 1
    assert "job 'quickstart' failed" in out.stderr and str(run) in out.stderr
    assert "creating the dataset directory" in out.stderr and "Not a directory" in out.stderr
    assert "--debug" in out.stderr and "Traceback" not in out.stderr
    assert debug.returncode == 1 and "Traceback" in debug.stderr
    for directory in (run, debug_run):
        assert (directory / "dataset").read_text().startswith("a file"), "the failing job must not clobber it"


def test_unwritable_run_directory_exits_1(tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    out = lerobot_run(SPEC, "--set", f"run.output_dir={str(blocker / 'run')!r}", cwd=tmp_path)
    assert out.returncode == 1
    assert f"cannot create the run directory {blocker / 'run'}" in out.stderr and "Traceback" not in out.stderr


def test_ctrl_c_shuts_down_cleanly_with_exit_130(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    log = tmp_path / "stderr.txt"
    # SIGINT at its default in the child (a CI background job would otherwise pass it on ignored: a
    # Python handler in the parent becomes SIG_DFL across exec), in its own process group so the
    # whole tree can be killed if anything goes wrong
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with log.open("w") as err:
            proc = subprocess.Popen(
                [sys.executable, "-m", "lerobot_fn.cli", SPEC, *SHORT, "--set", "train.steps=100000",
                 "--set", "run.output_dir='run'"],
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
    assert data.open(tmp_path / "run" / "dataset").meta.total_episodes == 10, "recorded episodes survive Ctrl-C"
    assert not (tmp_path / "run" / "dataset" / ".staging").exists()
    deadline = time.monotonic() + 60  # no child process (env worker, loader worker) left behind; slow under load
    while time.monotonic() < deadline:
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    with pytest.raises(ProcessLookupError):
        os.killpg(proc.pid, 0)


def test_resume_of_a_directory_without_spec_exits_2(tmp_path):
    out = lerobot_run("--resume", str(tmp_path / "nowhere"), cwd=tmp_path)
    assert out.returncode == 2
    assert f"{tmp_path / 'nowhere' / 'spec.toml'}: spec file not found" in out.stderr
