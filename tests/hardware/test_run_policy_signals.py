"""Ctrl-C (SIGINT to the terminal's process group) and SIGTERM (to the job alone) while `lerobot-run` runs a
policy: the job exits 130 / 143 after a clean shutdown, the follower (a separate simulator process, read
back through the SDK) has its torque off, and no process is left: the policy worker ends with the job."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from hw_helpers import JOINTS, policy_workers, wait_gone, write_calibration

from hardware.motors import FeetechBus, Motor

REPO = Path(__file__).resolve().parents[2]


def start(cmd, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # noqa: PLW1509
                            **kwargs)


def kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.communicate(timeout=10)


@pytest.mark.parametrize(("sig", "to_group", "code"), [
    pytest.param(signal.SIGINT, True, 130, id="ctrl-c"),
    pytest.param(signal.SIGTERM, False, 143, id="sigterm", marks=pytest.mark.slow),  # ~9 s; the same shutdown path
])
def test_a_signal_stops_the_policy_job_cleanly(tmp_path, sig, to_group, code):
    home = tmp_path / "home"
    write_calibration(home, "robots", "so_follower", "sim_follower")
    link = tmp_path / "follower"
    sim = start([sys.executable, "-m", "hardware.sim", "--robot", "so101_follower", "--link", str(link)], cwd=REPO)
    job = None
    try:
        deadline = time.monotonic() + 30
        while not link.is_symlink():
            assert time.monotonic() < deadline and sim.poll() is None, "the simulator did not start"
            time.sleep(0.05)
        env = {**os.environ, "HF_LEROBOT_HOME": str(home), "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
        # the simulator is a process of its own on a pty: the vendor's 50 ms reply margin applies, which a
        # loaded machine can make it miss; a generous one only lets a late reply count
        sets = {"robot.port": link, "robot.reply_margin_ms": 2000, "duration_s": 120, "robot.cameras.front.width": 32, "robot.cameras.front.height": 24,
                "robot.cameras.wrist.width": 32, "robot.cameras.wrist.height": 24, "run.output_dir": tmp_path / "run"}
        args = [a for k, v in sets.items() for a in ("--set", f"{k}={v}")]
        job = start([sys.executable, "-m", "lerobot_fn.cli", str(REPO / "specs" / "sim_run_policy.toml"), *args],
                    cwd=tmp_path, env=env)
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(iter(job.stderr.readline, "")), daemon=True)
        reader.start()
        deadline = time.monotonic() + 120
        while not any("running the policy" in line for line in lines):
            assert job.poll() is None, "".join(lines)[-3000:]
            assert time.monotonic() < deadline, "the policy never started"
            time.sleep(0.05)
        workers = policy_workers(job.pid)
        assert len(workers) == 1
        time.sleep(0.5)  # the loop plays chunks
        if to_group:
            os.killpg(job.pid, sig)  # Ctrl-C in the terminal reaches the whole process group, the worker too
        else:
            os.kill(job.pid, sig)  # `kill PID`: only the job gets it
        job.wait(timeout=60)
        reader.join(timeout=10)
        assert job.returncode == code, "".join(lines)[-3000:]
        assert wait_gone(workers[0], timeout=30), "the policy worker outlived the job"
        with pytest.raises(ProcessLookupError):
            os.killpg(job.pid, 0)  # nothing of the job's process group is left
        motors = {j: Motor(i + 1, "sts3215") for i, j in enumerate(JOINTS)}
        with FeetechBus(str(link), motors, reply_margin_ms=2000) as bus:
            assert bus.torque_enabled() == dict.fromkeys(JOINTS, False)
    finally:
        if job is not None:
            kill_group(job)
        sim.send_signal(signal.SIGTERM)
        try:
            sim.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            kill_group(sim)
