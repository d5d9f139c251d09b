"""Opt-in (slow, needs .lerobot-venv with `lerobot[feetech]==0.6.1`): LeRobot 0.6.1's own
`FeetechMotorsBus` and `SO101Follower` drive our simulated SO-101 through its pty, and our calibration
files and LeRobot's are the same files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hw_helpers import run_no_hang

from hardware import calibration_files
from hardware.motors import FeetechBus, Motor
from lerobot_fn.robot import MotorCalibration, NormMode

REPO = Path(__file__).resolve().parents[2]
LEROBOT_PY = REPO / ".lerobot-venv" / "bin" / "python"
JOINTS = ["shoulder_pan", "shoulder_lift", "elbow_flex", "wrist_flex", "wrist_roll", "gripper"]

pytestmark = pytest.mark.slow

BUS_SCRIPT = """
import json, sys, time
from lerobot.motors import Motor, MotorCalibration, MotorNormMode
from lerobot.motors.feetech import FeetechMotorsBus
joints = %(joints)r
motors = {j: Motor(i + 1, "sts3215", MotorNormMode.RANGE_0_100 if j == "gripper" else MotorNormMode.DEGREES)
          for i, j in enumerate(joints)}
bus = FeetechMotorsBus(port=sys.argv[1], motors=motors)
bus.connect()
out = {"raw": bus.sync_read("Present_Position", normalize=False), "broadcast": bus.broadcast_ping()}
bus.disable_torque()
out["homings"] = bus.set_half_turn_homings()
out["centred"] = bus.sync_read("Present_Position", normalize=False)
cal = {j: MotorCalibration(i + 1, 0, out["homings"][j], 1000, 3000) for i, j in enumerate(joints)}
bus.write_calibration(cal)
out["is_calibrated"] = bus.is_calibrated
bus.configure_motors()
bus.enable_torque()
bus.sync_write("Goal_Position", {"elbow_flex": 20.0, "gripper": 75.0})
time.sleep(0.3)
out["moved"] = bus.sync_read("Present_Position")
out["single"] = bus.read("Present_Position", "elbow_flex")
bus.disconnect()
print(json.dumps(out))
"""

ROBOT_SCRIPT = """
import json, sys, time
from pathlib import Path
from lerobot.robots.so_follower import SO101Follower, SO101FollowerConfig
robot = SO101Follower(SO101FollowerConfig(port=sys.argv[1], id="interop", calibration_dir=Path(sys.argv[2])))
robot.connect(calibrate=False)
obs = robot.get_observation()
sent = robot.send_action({"elbow_flex.pos": obs["elbow_flex.pos"] + 5.0})
time.sleep(0.3)
after = robot.get_observation()
robot.disconnect()
print(json.dumps({"obs": obs, "sent": sent, "after": after}))
"""


def run(cmd: list[str], timeout: float = 120) -> str:
    code, out, err = run_no_hang(cmd, timeout=timeout)
    assert code == 0, err[-4000:]
    return out.strip().splitlines()[-1]


@pytest.fixture
def simulated_so101(tmp_path):
    if not LEROBOT_PY.exists():
        pytest.fail(f"LeRobot 0.6.1 is needed for this check: create {LEROBOT_PY.parent.parent} "
                    "(python3.12 -m venv .lerobot-venv && .lerobot-venv/bin/pip install 'lerobot[feetech]==0.6.1')")
    link = tmp_path / "so101"
    server = subprocess.Popen([sys.executable, "-m", "hardware.sim", "--robot", "so101_follower", "--link", str(link)],
                              cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              start_new_session=True,
                              preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # noqa: PLW1509
    try:
        deadline = time.monotonic() + 30
        while not link.is_symlink() and time.monotonic() < deadline and server.poll() is None:
            time.sleep(0.05)
        assert link.is_symlink(), "the simulator did not start"
        yield link
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.communicate(timeout=10)
    assert server.poll() is not None


def test_lerobot_feetech_bus_reads_writes_and_calibrates_our_simulated_so101(simulated_so101):
    out = json.loads(run([str(LEROBOT_PY), "-c", BUS_SCRIPT % {"joints": JOINTS}, str(simulated_so101)]))
    assert out["broadcast"] == {str(i): 777 for i in range(1, 7)}
    assert set(out["centred"].values()) == {2047}
    assert out["is_calibrated"] is True
    assert out["moved"]["elbow_flex"] == pytest.approx(20.0, abs=0.2)
    assert out["moved"]["gripper"] == pytest.approx(75.0, abs=0.1)
    assert out["single"] == pytest.approx(out["moved"]["elbow_flex"], abs=0.2)
    # our bus sees what LeRobot wrote: the same calibration in the EEPROM, the same degrees, torque off
    motors = {j: Motor(i + 1, "sts3215", NormMode.RANGE_0_100 if j == "gripper" else NormMode.DEGREES)
              for i, j in enumerate(JOINTS)}
    with FeetechBus(str(simulated_so101), motors, reply_margin_ms=2000) as bus:  # 50 ms may be missed under load
        calibration = bus.read_calibration()
        assert calibration == {j: MotorCalibration(i + 1, 0, out["homings"][j], 1000, 3000)
                               for i, j in enumerate(JOINTS)}
        bus.calibration = calibration
        ours = bus.sync_read("Present_Position")
        assert ours["elbow_flex"] == pytest.approx(out["moved"]["elbow_flex"], abs=0.2)
        assert bus.torque_enabled() == dict.fromkeys(JOINTS, False)


def test_lerobot_so101_follower_uses_our_calibration_file(simulated_so101, tmp_path):
    motors = {j: Motor(i + 1, "sts3215", NormMode.RANGE_0_100 if j == "gripper" else NormMode.DEGREES)
              for i, j in enumerate(JOINTS)}
    with FeetechBus(str(simulated_so101), motors, reply_margin_ms=2000) as bus:  # 50 ms may be missed under load
        bus.disable_torque()
        homings = bus.set_half_turn_homings()
        calibration = {j: MotorCalibration(i + 1, 0, homings[j], 1047, 3047) for i, j in enumerate(JOINTS)}
        bus.write_calibration(calibration)
    calibration_files.save(tmp_path / "cal" / "interop.json", calibration)
    out = json.loads(run([str(LEROBOT_PY), "-c", ROBOT_SCRIPT, str(simulated_so101), str(tmp_path / "cal")]))
    assert out["obs"]["elbow_flex.pos"] == pytest.approx(0.0, abs=0.2)  # centred: the middle of 1047..3047
    assert out["after"]["elbow_flex.pos"] == pytest.approx(out["sent"]["elbow_flex.pos"], abs=0.3)
