"""hardware.console.RobotConsole (the robot console notebook's library) on simulated SO-101 arms."""

from __future__ import annotations

import json
import time

import pytest
from hw_helpers import write_calibration

from hardware.console import RobotConsole


@pytest.fixture
def console(sim_port, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_LEROBOT_HOME", str(tmp_path))  # calibration files of this test only
    write_calibration(tmp_path, "robots", "so_follower", "t_follower")  # connect without a calibration sweep
    write_calibration(tmp_path, "teleoperators", "so_leader", "t_leader")
    with RobotConsole(sim_port("so101_follower"), sim_port("so101_leader"), id="t") as c:
        yield c
    assert not c.follower.is_connected and not c.leader.is_connected  # torque off, ports closed


def _wait(predicate, what, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def _wait_ticks(teleop, n):
    """Wait until a background teleoperation loop has run `n` ticks (each leaves a new observation)."""
    seen = [teleop.last_observation]

    def more():
        if teleop.last_observation is not seen[-1]:
            seen.append(teleop.last_observation)
        return len(seen) > n

    _wait(more, f"{n} ticks of the loop")


def test_joints_and_torque(console):
    joints = console.joints()
    assert list(joints["follower"]) == console.follower.joints and len(joints["leader"]) == 6
    assert console.torque()
    console.set_torque(False)
    assert not console.torque()
    console.set_torque(True)
    assert console.torque()


def test_teleoperation_makes_the_follower_follow(console):
    console.start_teleop(fps=30)
    _wait_ticks(console.teleop, 15)  # half a second at 30 fps, longer on a loaded machine
    joints = console.joints()  # from the loop's last reading while it runs
    stats = console.stop_teleop()
    assert stats.n >= 10
    assert all(abs(joints["follower"][j] - joints["leader"][j]) < 10 for j in joints["leader"])
    with pytest.raises(RuntimeError, match="stop teleoperation before calibrating"):
        console.start_teleop()
        console.calibrate("leader")
    console.stop_teleop()


def test_calibration_walk_through(console, tmp_path):
    session = console.calibrate("leader")  # the simulated leader moves by itself
    _wait(lambda: session.state == "waiting", "step 1")
    assert "middle of its range" in session.message
    with pytest.raises(RuntimeError, match="busy"):
        console.set_torque(False)  # the calibration holds the buses
    session.proceed()
    _wait(lambda: session.state == "recording" and len(session.ranges()) == 5, "step 2 with live ranges")
    # the leader keeps waving: the ranges grow
    _wait(lambda: all(r["min"] is not None and r["min"] < r["max"] for r in session.ranges()), "the ranges to grow")
    session.proceed()
    session.join(60)
    assert session.state == "done", session.error
    saved = json.loads((tmp_path / "calibration/teleoperators/so_leader/t_leader.json").read_text())
    assert set(saved) == set(console.leader.joints)
    assert all(c["range_min"] < c["range_max"] for c in saved.values())


def test_unknown_kind():
    with pytest.raises(ValueError, match="unknown arm kind 'so200'"):
        RobotConsole("sim://so101_follower", "sim://so101_leader", kind="so200")
