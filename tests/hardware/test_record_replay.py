"""End to end through `lerobot-run`: record with a simulated SO-101 leader and follower and two synthetic
cameras writes a valid 2-episode LeRobotDataset; replay drives the simulated follower through it and
the positions match the recording."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hw_helpers import run_no_hang

from hardware import jobs, sim
from hardware.specs import ReplaySpec, RobotConfig
from lerobot_fn import data
from lerobot_fn.specs import RunContext

REPO = Path(__file__).resolve().parents[2]


def run_cli(args: list[str], env: dict, cwd: Path, timeout: float = 180) -> subprocess.CompletedProcess:
    code, out, err = run_no_hang([sys.executable, "-m", "lerobot_fn.cli", *args], timeout=timeout, cwd=cwd, env=env)
    return subprocess.CompletedProcess(args, code, out, err)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("record")
    env = {**os.environ, "HF_LEROBOT_HOME": str(tmp / "home"), "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1",
           "PYTHONPATH": str(REPO)}
    small = [f"robot.cameras.{c}.{k}={v}" for c in ("front", "wrist") for k, v in (("width", 64), ("height", 48))]
    sets = [*small, "dataset.episode_time_s=1.0", "dataset.reset_time_s=0.2", f"run.output_dir={tmp / 'run'}"]
    result = run_cli([str(REPO / "specs" / "sim_record.toml"), *[a for s in sets for a in ("--set", s)]], env, tmp)
    assert result.returncode == 0, result.stderr[-3000:]
    return tmp, json.loads((tmp / "run" / "result.json").read_text())


def test_record_writes_a_valid_two_episode_dataset(recorded):
    tmp, result = recorded
    root = tmp / "home" / "local" / "so101_sim_demo"
    assert result["dataset"] == str(root) and result["total_episodes"] == 2
    assert data.verify(root) == []
    meta = data.DatasetMeta.load(root)
    assert meta.total_episodes == 2 and meta.fps == 30 and meta.robot_type == "so_follower"
    assert meta.features["observation.state"].names == [f"{j}.pos" for j in sim.JOINTS]
    assert meta.video_keys == ["observation.images.front", "observation.images.wrist"]
    assert meta.total_frames == 60  # 2 episodes x 1 s at 30 fps
    item = data.open(root)[meta.total_frames - 1]
    assert tuple(item["observation", "images", "front"].shape) == (3, 48, 64)
    assert item["episode_index"].item() == 1
    # the follower followed the leader: state lags the commanded action by about one tick
    ds = data.open(root)
    states = np.stack([ds[i]["observation", "state"].numpy() for i in range(5, 29)])
    actions = np.stack([ds[i]["action"].numpy() for i in range(4, 28)])
    assert np.median(np.abs(states - actions)) < 2.0
    assert np.ptp(states, axis=0).max() > 5.0  # and the arm really moved
    assert (tmp / "home" / "calibration" / "robots" / "so_follower" / "sim_follower.json").is_file()


def test_replay_retraces_the_recorded_episode(recorded, monkeypatch):
    tmp, _ = recorded
    monkeypatch.setenv("HF_LEROBOT_HOME", str(tmp / "home"))
    port = "sim://so101_follower/replay"
    spec = ReplaySpec(robot=RobotConfig(type="so101_follower", port=port, id="sim_follower"),
                      repo_id="local/so101_sim_demo", episode=1)
    try:
        result = jobs.replay(spec, RunContext(out_dir=tmp / "replay", seed=0, log=logging.getLogger("replay")))
        assert not any(s.torque for s in sim.running(port).chain.servos)  # torque off at the end
    finally:
        sim.release(port)
    assert result["frames"] == 30
    assert result["state_error_median"] < 1.5  # degrees (late ticks on a loaded machine shift a few frames)
    assert result["state_error_p95_after_start"] < 5.0
    for key, value in result["last_action"].items():
        assert result["final_positions"][key] == pytest.approx(value, abs=0.5)
