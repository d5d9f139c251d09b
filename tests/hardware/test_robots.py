"""Followers and leaders on simulated arms: calibration files in LeRobot's format and place, a saved
calibration restored to fresh motors, the safety clamp, teleoperation, torque off on every exit path."""

from __future__ import annotations

import json
import time

import pytest
from hw_helpers import JOINTS, chain_of, write_calibration

from hardware.calibration_ui import TimedUI
from hardware.robots import KochFollower, SOFollower
from hardware.teleoperators import KochLeader, SOLeader
from lerobot_fn.robot import from_json


@pytest.fixture(autouse=True)
def lerobot_home(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_LEROBOT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("HF_LEROBOT_CALIBRATION", raising=False)
    return tmp_path / "home"


def test_calibration_is_saved_where_and_how_lerobot_keeps_it(sim_port, lerobot_home):
    port = sim_port("so101_follower", motion="wave")  # a hand keeps moving the joints
    robot = SOFollower(port, id="arm")
    robot.bus.connect()
    try:
        calibration = robot.calibrate(TimedUI(0.8, log=lambda _: None))
    finally:
        robot.disconnect()
    path = lerobot_home / "calibration" / "robots" / "so_follower" / "arm.json"
    assert robot.calibration_path == path
    on_disk = json.loads(path.read_text())
    assert list(on_disk) == list(JOINTS) and list(on_disk["gripper"]) == [
        "id", "drive_mode", "homing_offset", "range_min", "range_max"]
    assert from_json(path.read_text()) == calibration
    assert calibration["wrist_roll"].range_min == 0 and calibration["wrist_roll"].range_max == 4095
    for joint in JOINTS[:4]:  # ranges recorded while the hand moved the joints
        assert 0 <= calibration[joint].range_min < calibration[joint].range_max <= 4095
        assert (calibration[joint].range_min, calibration[joint].range_max) != (0, 4095)


def test_a_saved_calibration_is_written_to_fresh_motors_on_connect(sim_port):
    first = sim_port("so101_follower")
    with SOFollower(first, id="same") as robot:  # no file yet: the simulated hand calibrates it
        saved = robot.calibration
    fresh = sim_port("so101_follower")  # the same arm, power-cycled to factory values
    robot = SOFollower(fresh, id="same")
    assert robot.calibration == saved
    with robot:
        assert robot.bus.read_calibration() == {j: saved[j] for j in JOINTS}


def test_send_action_clamps_and_returns_what_was_sent(sim_port, lerobot_home):
    write_calibration(lerobot_home, "robots", "so_follower", "clamp")
    port = sim_port("so101_follower", speed=6000)
    with SOFollower(port, id="clamp", max_relative_target=5.0) as robot:
        robot.bus.enable_torque()
        now = robot.read_joints()
        goal = {k: v + (50.0 if k == "elbow_flex.pos" else 1.0) for k, v in now.items()}
        sent = robot.send_action(goal)
        assert sent["elbow_flex.pos"] == pytest.approx(now["elbow_flex.pos"] + 5.0)
        assert sent["wrist_flex.pos"] == pytest.approx(goal["wrist_flex.pos"])
        time.sleep(0.1)
        assert robot.read_joints()["elbow_flex.pos"] == pytest.approx(sent["elbow_flex.pos"], abs=0.2)
        with pytest.raises(KeyError, match="no joints"):
            robot.send_action({"elbow.pos": 1.0})


@pytest.mark.parametrize("error", [KeyboardInterrupt, RuntimeError])
def test_torque_is_off_after_ctrl_c_or_an_exception(sim_port, lerobot_home, error):
    write_calibration(lerobot_home, "robots", "so_follower", "exit")
    port = sim_port("so101_follower")
    robot = SOFollower(port, id="exit")
    with pytest.raises(error), robot:
        robot.bus.enable_torque()
        assert all(s.torque for s in chain_of(port).servos)
        raise error("stop")
    assert not robot.is_connected
    assert not any(s.torque for s in chain_of(port).servos)


@pytest.mark.parametrize(("follower_cls", "leader_cls", "robot"), [(SOFollower, SOLeader, "so101"),
                                                                     (KochFollower, KochLeader, "koch")])
def test_follower_follows_the_leader(sim_port, lerobot_home, follower_cls, leader_cls, robot):
    write_calibration(lerobot_home, "robots", follower_cls.layout.name, "f")
    write_calibration(lerobot_home, "teleoperators", leader_cls.layout.name, "l")
    follower = follower_cls(sim_port(f"{robot}_follower", speed=6000), id="f")
    leader = leader_cls(sim_port(f"{robot}_leader"), id="l")  # a simulated hand moves the leader
    with follower, leader:
        follower.bus.enable_torque()
        first = leader.get_action()
        for _ in range(20):
            action = leader.get_action()
            follower.send_action(action)
            time.sleep(0.02)
        time.sleep(0.1)
        reached = follower.read_joints()
        moved = max(abs(action[k] - first[k]) for k in action)
        assert moved > 1.0  # the leader really moved
        for key in action:
            if key != "gripper.pos" or robot == "so101":  # Koch's leader gripper is a spring trigger
                assert reached[key] == pytest.approx(action[key], abs=2.5), key
    assert not any(s.torque for s in chain_of(follower.port).servos)


def test_koch_leader_calibration_inverts_the_elbow(sim_port):
    leader = KochLeader(sim_port("koch_leader"), id="inv")
    with leader:
        assert leader.calibration["elbow_flex"].drive_mode == 1
        assert leader.bus.read("Drive_Mode", "elbow_flex", normalize=False) == 1
        assert leader.bus.read("Operating_Mode", "gripper", normalize=False) == 5  # current-based position


def test_no_calibration_and_no_terminal_is_a_clear_error(monkeypatch, tmp_path):
    from hardware.sim import SimServer, make_chain

    with SimServer(make_chain("so101_follower"), "feetech", link=tmp_path / "tty") as server:
        monkeypatch.setattr("sys.stdin.isatty", lambda: False)
        robot = SOFollower(server.port, id="nocal", reply_margin_ms=2000)  # a pty path: 50 ms could be missed
        with pytest.raises(RuntimeError, match=r"no calibration .*nocal.json.*so101_calibrate.toml"):
            robot.connect()
        assert not robot.is_connected


def test_background_teleoperation_starts_and_stops(sim_port, lerobot_home):
    from hardware.loops import BackgroundTeleop

    write_calibration(lerobot_home, "robots", "so_follower", "bg")
    write_calibration(lerobot_home, "teleoperators", "so_leader", "bg")
    with SOFollower(sim_port("so101_follower"), id="bg") as follower, SOLeader(sim_port("so101_leader"), id="bg") as leader:
        teleop = BackgroundTeleop(follower, leader, fps=50)
        teleop.start()
        seen, deadline = [teleop.last_action], time.monotonic() + 60  # a loaded machine may take long
        while len(seen) < 3 and time.monotonic() < deadline:  # two ticks (each leaves a new action): one period
            if teleop.last_action is not seen[-1]:
                seen.append(teleop.last_action)
            time.sleep(0.005)
        stats = teleop.stop()
        assert not teleop.running and stats.n >= 1
        assert set(teleop.last_action) == {f"{j}.pos" for j in JOINTS}
        assert "shoulder_pan.pos" in teleop.last_observation


def test_reply_margin_ms_lets_an_arm_wait_for_a_simulator_that_does_not_run_for_a_while(tmp_path, lerobot_home):
    """A serial path (not sim://) gets the vendor's 50 ms margin, which a simulator process starved of CPU
    can miss; `reply_margin_ms` reaches the bus: a read waits through a 1 s pause of the simulator."""
    import os
    import signal
    import subprocess
    import sys
    import threading
    from pathlib import Path

    write_calibration(lerobot_home, "robots", "so_follower", "slow")
    link = tmp_path / "so101"
    proc = subprocess.Popen([sys.executable, "-m", "hardware.sim", "--robot", "so101_follower", "--link", str(link)],
                            cwd=Path(__file__).resolve().parents[2], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    resume = threading.Timer(1.0, os.kill, (proc.pid, signal.SIGCONT))
    try:
        deadline = time.monotonic() + 60
        while not link.is_symlink() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert link.is_symlink(), "the simulator did not start"
        with SOFollower(str(link), id="slow", reply_margin_ms=20_000) as robot:
            before = robot.read_joints()
            os.kill(proc.pid, signal.SIGSTOP)  # as if the machine gave the simulator no CPU for a second
            resume.start()
            assert robot.read_joints().keys() == before.keys()  # 50 ms x 3 tries would have failed here
            resume.join(timeout=30)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
    finally:
        resume.cancel()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGCONT)
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate(timeout=10)
    assert proc.poll() is not None
