"""Helpers for the hardware tests (imported by name: tests/ has no packages)."""

from __future__ import annotations

from hardware import sim

JOINTS = sim.JOINTS
KOCH_FOLLOWER_MODELS = ["xl430-w250", "xl430-w250", "xl330-m288", "xl330-m288", "xl330-m288", "xl330-m288"]


def chain_of(port: str) -> sim.ServoChain:
    server = sim.running(port)
    assert server is not None, f"no simulator running for {port}"
    return server.chain


def assert_torque_off(port: str) -> None:
    assert not any(s.torque for s in chain_of(port).servos), "a motor kept its torque after disconnect"


def write_calibration(home, category: str, name: str, device_id: str, *, drive_modes: dict | None = None) -> dict:
    """A plausible calibration file (factory homing, ranges around the simulated rest pose) so a robot
    connects without calibrating first; returns it."""
    from hardware import calibration_files
    from hardware.sim.robots import REST_POSE
    from lerobot_fn.robot import MotorCalibration

    calibration = {j: MotorCalibration(i + 1, (drive_modes or {}).get(j, 0), 0, int(REST_POSE[i]) - 900,
                                       int(REST_POSE[i]) + 900) for i, j in enumerate(JOINTS)}
    calibration_files.save(home / "calibration" / category / name / f"{device_id}.json", calibration)
    return calibration


def run_no_hang(cmd: list[str], *, timeout: float, **kwargs):
    """Run a command in its own process group with SIGINT at its default, read its output with a deadline,
    kill the group on timeout, and check nothing of the group is left behind. Returns (returncode, out, err)."""
    import os
    import signal
    import subprocess

    import pytest

    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # noqa: PLW1509
                            **kwargs)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate(timeout=10)
        pytest.fail(f"{cmd[:3]} did not finish in {timeout} s\n{err[-3000:]}")
    with pytest.raises(ProcessLookupError):
        os.killpg(proc.pid, 0)  # nothing of its process group is left
    return proc.returncode, out, err


def policy_workers(parent: int | None = None) -> list[int]:
    """Pids of the `hardware.policy_worker` processes whose parent is `parent` (default: this process)."""
    import os
    from pathlib import Path

    parent = os.getpid() if parent is None else parent
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        if ppid == parent and b"hardware.policy_worker" in cmdline:
            found.append(int(entry.name))
    return found


def wait_gone(pid: int, timeout: float = 10.0) -> bool:
    """True once `pid` has exited (a zombie counts as gone: its parent reaps it), False after `timeout`."""
    import time
    from pathlib import Path

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.02)
    return False
