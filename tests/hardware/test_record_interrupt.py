"""Ctrl-C during `lerobot-run` record: the job exits 130 after a clean shutdown, the saved episode is
kept, and the follower (a separate simulator process, read back through the SDK) has its torque off."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from hw_helpers import JOINTS, write_calibration

from hardware.motors import FeetechBus, Motor
from lerobot_fn import data

REPO = Path(__file__).resolve().parents[2]


def start(cmd, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # noqa: PLW1509
                            **kwargs)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=10)


def test_ctrl_c_keeps_saved_episodes_and_turns_torque_off(tmp_path):
    home = tmp_path / "home"
    write_calibration(home, "robots", "so_follower", "sim_follower")
    write_calibration(home, "teleoperators", "so_leader", "sim_leader")
    sims = [start([sys.executable, "-m", "hardware.sim", "--robot", robot, "--link", str(tmp_path / robot)], cwd=REPO)
            for robot in ("so101_follower", "so101_leader")]
    job = None
    try:
        deadline = time.monotonic() + 30
        while not all((tmp_path / r).is_symlink() for r in ("so101_follower", "so101_leader")):
            assert time.monotonic() < deadline, "simulators did not start"
            time.sleep(0.05)
        env = {**os.environ, "HF_LEROBOT_HOME": str(home), "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
        # the simulators are processes of their own on ptys: the vendor's 50 ms reply margin applies, which a
        # loaded machine can make them miss; a generous one only lets a late reply count
        sets = {"robot.port": tmp_path / "so101_follower", "teleop.port": tmp_path / "so101_leader",
                "robot.reply_margin_ms": 2000, "teleop.reply_margin_ms": 2000,
                "dataset.root": tmp_path / "ds", "dataset.episode_time_s": 0.5, "dataset.reset_time_s": 60.0,
                "dataset.video": "false", "robot.cameras.front.width": 32, "robot.cameras.front.height": 24,
                "robot.cameras.wrist.width": 32, "robot.cameras.wrist.height": 24, "run.output_dir": tmp_path / "run"}
        args = [a for k, v in sets.items() for a in ("--set", f"{k}={v}")]
        job = start([sys.executable, "-m", "lerobot_fn.cli", str(REPO / "specs" / "sim_record.toml"), *args],
                    cwd=tmp_path, env=env)
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(iter(job.stderr.readline, "")), daemon=True)
        reader.start()
        deadline = time.monotonic() + 120
        while not any("reset the scene" in line for line in lines):
            assert job.poll() is None, "".join(lines)[-3000:]
            assert time.monotonic() < deadline, "the first episode never ended"
            time.sleep(0.05)
        os.killpg(job.pid, signal.SIGINT)  # Ctrl-C in the terminal reaches the whole process group
        job.wait(timeout=60)
        reader.join(timeout=10)
        assert job.returncode == 130, "".join(lines)[-3000:]
        assert data.DatasetMeta.load(tmp_path / "ds").total_episodes == 1 and data.verify(tmp_path / "ds") == []
        motors = {j: Motor(i + 1, "sts3215") for i, j in enumerate(JOINTS)}
        with FeetechBus(str(tmp_path / "so101_follower"), motors, reply_margin_ms=2000) as bus:
            assert bus.torque_enabled() == dict.fromkeys(JOINTS, False)
    finally:
        for proc in [p for p in (job, *sims) if p is not None]:
            if proc is not job:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.communicate(timeout=20)
                except subprocess.TimeoutExpired:
                    stop(proc)
            else:
                stop(proc)
