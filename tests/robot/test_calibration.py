"""Calibration values, LeRobot's JSON text and file locations, homing offsets."""

from __future__ import annotations

from pathlib import Path

import pytest

from lerobot_fn.robot import (
    MotorCalibration,
    calibration_path,
    calibration_root,
    from_json,
    half_turn_homing,
    to_json,
)
from lerobot_fn.robot.calibration import check_ranges, update_ranges

# Written by LeRobot 0.6.1 (`draccus.dump(dict[str, MotorCalibration], f, indent=4)` in Robot._save_calibration).
LEROBOT_TEXT = (
    '{\n    "shoulder_pan": {\n        "id": 1,\n        "drive_mode": 0,\n        "homing_offset": -1470,\n'
    '        "range_min": 758,\n        "range_max": 3292\n    },\n    "gripper": {\n        "id": 6,\n'
    '        "drive_mode": 1,\n        "homing_offset": 12,\n        "range_min": 2000,\n        "range_max": 3400\n'
    '    }\n}'
)


def test_lerobot_file_reads_and_writes_back_byte_for_byte():
    cal = from_json(LEROBOT_TEXT)
    assert cal["shoulder_pan"] == MotorCalibration(1, 0, -1470, 758, 3292)
    assert cal["gripper"].drive_mode == 1
    assert list(cal) == ["shoulder_pan", "gripper"]
    assert to_json(cal) == LEROBOT_TEXT


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not valid JSON"),
        
        ('{"gripper": {"id": 6}}', "gripper.*lacks drive_mode"),
        ('{"gripper": {"id": 6, "drive_mode": 0, "homing_offset": 1.5, "range_min": 0, "range_max": 1}}',
         "homing_offset must be integers"),
    ],
)
def test_bad_files_name_the_file_motor_and_field(text, message):
    with pytest.raises(ValueError, match=message) as info:
        from_json(text, source="/x/so_follower/arm.json")
    assert "/x/so_follower/arm.json" in str(info.value)


def test_locations_follow_lerobot_environment_variables():
    assert calibration_root({"HF_LEROBOT_HOME": "/h"}) == Path("/h/calibration")
    assert calibration_root({"HF_LEROBOT_HOME": "/h", "HF_LEROBOT_CALIBRATION": "/c"}) == Path("/c")
    assert calibration_root({"HF_HOME": "/hf"}) == Path("/hf/lerobot/calibration")
    assert calibration_path(Path("/c"), "robots", "so_follower", "arm") == Path("/c/robots/so_follower/arm.json")
    assert calibration_path(Path("/c"), "teleoperators", "koch_leader", "l") == Path(
        "/c/teleoperators/koch_leader/l.json")
    with pytest.raises(ValueError, match="cannot name a calibration file"):
        calibration_path(Path("/c"), "robots", "so_follower", "../etc")


def test_half_turn_homing_conventions_of_both_vendors():
    # Feetech: Present = Actual - Homing_Offset -> after homing, present reads 2047.
    off = half_turn_homing(3000, 4096, present_is_actual_minus_offset=True)
    assert 3000 - off == 2047
    # Dynamixel: Present = Actual + Homing_Offset.
    off = half_turn_homing(3000, 4096, present_is_actual_minus_offset=False)
    assert 3000 + off == 2047


def test_range_recording_widens_and_refuses_a_joint_that_never_moved():
    mins, maxes = {"a": 10, "b": 5}, {"a": 10, "b": 5}
    mins, maxes = update_ranges(mins, maxes, {"a": 4, "b": 5})
    mins, maxes = update_ranges(mins, maxes, {"a": 30, "b": 5})
    assert (mins["a"], maxes["a"]) == (4, 30)
    with pytest.raises(ValueError, match=r"\['b'\] did not move"):
        check_ranges(mins, maxes)


def test_a_file_that_is_not_an_object_is_an_error_naming_the_file():
    with pytest.raises(ValueError, match="/x/a.json: expected an object"):
        from_json("[1, 2]", source="/x/a.json")
