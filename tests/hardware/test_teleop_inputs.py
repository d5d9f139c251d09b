"""Keyboard and gamepad teleoperation and the record controls, fed through a real pty and a FIFO."""

from __future__ import annotations

import os
import struct
import time

import pytest

from hardware.teleoperators.gamepad import EVENT, JS_EVENT_AXIS, JS_EVENT_INIT, GamepadTeleop
from hardware.teleoperators.keyboard import KeyboardTeleop
from hardware.teleoperators.keys import RecordControls, parse_keys

JOINTS = ["shoulder_pan", "shoulder_lift", "elbow_flex", "wrist_flex", "wrist_roll", "gripper"]
START = {f"{j}.pos": 10.0 for j in JOINTS}


def wait_for(predicate, timeout=60.0):  # the reader thread may be starved on a loaded machine
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.01)
    return predicate()


def test_parse_keys_names_arrows_and_escape():
    assert parse_keys("\x1b[Ca\x1b[D\x1b") == ["right", "a", "left", "esc"]


def test_keyboard_teleop_on_a_terminal_and_record_controls_share_it():
    master, slave = os.openpty()
    controls = RecordControls()
    teleop = KeyboardTeleop(JOINTS, step=1.5, fd=slave, other_keys=controls.press)
    teleop.attach(START)
    try:
        os.write(master, b"qqa" + b"h" + b"\x1b[C")
        assert wait_for(lambda: controls.exit_early)
        action = teleop.get_action()
        assert action["shoulder_pan.pos"] == pytest.approx(11.5)  # up, up, down
        assert action["gripper.pos"] == pytest.approx(8.5)
        assert not controls.rerecord_episode and not controls.stop_recording
        os.write(master, b"\x1b[D")
        assert wait_for(lambda: controls.rerecord_episode)
    finally:
        teleop.disconnect()
        os.close(master)
        os.close(slave)


def test_escape_stops_recording():
    controls = RecordControls()
    controls.press("esc")
    assert controls.stop_recording and controls.exit_early


def test_gamepad_axes_move_joints_from_the_linux_joystick_device(tmp_path):
    fifo = tmp_path / "js0"
    os.mkfifo(fifo)
    writer_fd = os.open(fifo, os.O_RDWR)  # keep the FIFO open so the reader never sees end of file
    pad = GamepadTeleop(JOINTS, step=2.0, device=str(fifo))
    pad.attach(START)
    try:
        os.write(writer_fd, EVENT.pack(0, 0, JS_EVENT_AXIS | JS_EVENT_INIT, 0)
                 + EVENT.pack(1, 32767, JS_EVENT_AXIS, 2) + EVENT.pack(2, -16384, JS_EVENT_AXIS, 5)
                 + EVENT.pack(3, 1000, JS_EVENT_AXIS, 1))  # axis 1 inside the dead zone
        assert wait_for(lambda: len(pad.axes) == 4)
        action = pad.get_action()
        assert action["elbow_flex.pos"] == pytest.approx(12.0)
        assert action["gripper.pos"] == pytest.approx(10.0 - 2.0 * 16384 / 32767)
        assert action["shoulder_lift.pos"] == 10.0 and action["shoulder_pan.pos"] == 10.0
    finally:
        pad.disconnect()
        os.close(writer_fd)
    with pytest.raises(ConnectionError, match="cannot open gamepad"):
        GamepadTeleop(JOINTS, device=str(tmp_path / "missing")).attach(START)
    assert struct.calcsize("<IhBB") == EVENT.size == 8
