"""LeRobot's normalisation modes, formulas and truncation, and the register encodings."""

from __future__ import annotations

import pytest

from lerobot_fn.robot import (
    MotorCalibration,
    NormMode,
    decode_sign_magnitude,
    decode_twos_complement,
    encode_sign_magnitude,
    encode_twos_complement,
    from_bytes,
    normalize,
    to_bytes,
    unnormalize,
)

CAL = MotorCalibration(id=1, drive_mode=0, homing_offset=0, range_min=1000, range_max=3000)
INV = MotorCalibration(id=1, drive_mode=1, homing_offset=0, range_min=1000, range_max=3000)


def norm(raw, cal=CAL, mode=NormMode.RANGE_M100_100, drive=True):
    return normalize(raw, cal, mode, resolution=4096, apply_drive_mode=drive)


def unnorm(value, cal=CAL, mode=NormMode.RANGE_M100_100, drive=True):
    return unnormalize(value, cal, mode, resolution=4096, apply_drive_mode=drive)


def test_range_m100_100_maps_the_calibrated_range_and_clamps_outside_it():
    assert norm(1000) == -100 and norm(3000) == 100 and norm(2000) == 0
    assert norm(1500) == -50
    assert norm(0) == -100 and norm(4095) == 100  # clamped to the range
    assert norm(1500, INV) == 50  # drive mode negates (Feetech applies it)
    assert norm(1500, INV, drive=False) == -50  # Dynamixel: the motor applies drive mode itself


def test_range_0_100_and_its_drive_mode():
    assert norm(1000, mode=NormMode.RANGE_0_100) == 0
    assert norm(2500, mode=NormMode.RANGE_0_100) == 75
    assert norm(2500, INV, mode=NormMode.RANGE_0_100) == 25


def test_degrees_are_centred_on_the_range_middle_and_not_clamped():
    assert norm(2000, mode=NormMode.DEGREES) == 0
    assert norm(2000 + 4095 // 4, mode=NormMode.DEGREES) == pytest.approx(1023 * 360 / 4095)
    assert norm(4095, mode=NormMode.DEGREES) == pytest.approx((4095 - 2000) * 360 / 4095)
    assert norm(1500, INV, mode=NormMode.DEGREES) == norm(1500, mode=NormMode.DEGREES)  # no drive mode


def test_unnormalize_truncates_like_lerobot_and_clamps_to_the_user_range():
    assert unnorm(0) == 2000
    assert unnorm(-50) == 1500 and unnorm(50, INV) == 1500
    assert unnorm(100.0) == 3000 and unnorm(250.0) == 3000 and unnorm(-1e9) == 1000
    # int() truncates toward zero: 0.0999 -> 2000.999 -> 2000
    assert unnorm(0.0999) == 2000
    assert unnorm(33.3, mode=NormMode.RANGE_0_100) == int(0.333 * 2000 + 1000)
    assert unnorm(-10.0, mode=NormMode.DEGREES) == int(-10.0 * 4095 / 360 + 2000)


@pytest.mark.parametrize("mode", list(NormMode))
@pytest.mark.parametrize("cal", [CAL, INV])
def test_round_trip_stays_within_one_step(mode, cal):
    for raw in range(1000, 3001, 37):
        assert abs(unnorm(norm(raw, cal, mode), cal, mode) - raw) <= 1


def test_equal_range_bounds_are_a_clear_error():
    bad = MotorCalibration(id=3, drive_mode=0, homing_offset=0, range_min=5, range_max=5)
    with pytest.raises(ValueError, match="elbow_flex.*recalibrate"):
        normalize(5, bad, NormMode.RANGE_0_100, resolution=4096, apply_drive_mode=True, motor="elbow_flex")


def test_sign_magnitude_like_feetech_registers():
    assert encode_sign_magnitude(100, 15) == 100
    assert encode_sign_magnitude(-100, 15) == 0x8000 | 100
    assert encode_sign_magnitude(-2047, 11) == 0x800 | 2047
    assert decode_sign_magnitude(0x800 | 5, 11) == -5 and decode_sign_magnitude(5, 11) == 5
    with pytest.raises(ValueError, match="exceeds 2047"):
        encode_sign_magnitude(2048, 11)
    for v in range(-2047, 2048, 91):
        assert decode_sign_magnitude(encode_sign_magnitude(v, 11), 11) == v


def test_twos_complement_and_bytes_like_dynamixel_registers():
    assert encode_twos_complement(-1, 4) == 0xFFFFFFFF
    assert decode_twos_complement(0xFFFFFFFE, 4) == -2
    assert decode_twos_complement(0x7FFF, 2) == 0x7FFF
    with pytest.raises(ValueError, match="out of range"):
        encode_twos_complement(1 << 31, 4)
    assert to_bytes(0x1234, 2) == [0x34, 0x12]
    assert from_bytes(to_bytes(0xDEADBEEF, 4)) == 0xDEADBEEF
    with pytest.raises(ValueError, match="negative"):
        to_bytes(-3, 2)
    with pytest.raises(ValueError, match="does not fit"):
        to_bytes(256, 1)
