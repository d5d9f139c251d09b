"""Motor value normalisation exactly as LeRobot 0.6.1's `MotorsBus._normalize / _unnormalize`.

Modes (LeRobot's `MotorNormMode` values, so configs and datasets line up):
- `range_m100_100`: clamp raw to [min, max], map linearly to [-100, 100] (negated with drive mode);
- `range_0_100`: clamp raw to [min, max], map to [0, 100] (100 - x with drive mode);
- `degrees`: (raw - mid) * 360 / (resolution - 1), mid = (min + max) / 2, no clamp, no drive mode.
Unnormalising truncates toward zero with `int()`, as LeRobot does, so both round-trip alike.
"""

from __future__ import annotations

from enum import Enum

from .calibration import MotorCalibration


class NormMode(str, Enum):
    RANGE_0_100 = "range_0_100"
    RANGE_M100_100 = "range_m100_100"
    DEGREES = "degrees"


def _checked(calibration: MotorCalibration, motor: str) -> tuple[int, int]:
    lo, hi = calibration.range_min, calibration.range_max
    if lo == hi:
        raise ValueError(f"invalid calibration for motor '{motor}': range_min and range_max are both {lo}; "
                         "recalibrate it (move the joint through its whole range)")
    return lo, hi


def normalize(raw: int, calibration: MotorCalibration, mode: NormMode, *, resolution: int,
              apply_drive_mode: bool, motor: str = "?") -> float:
    """A raw (sign-decoded) position in the user's units."""
    lo, hi = _checked(calibration, motor)
    inverted = apply_drive_mode and bool(calibration.drive_mode)
    mode = NormMode(mode)
    if mode is NormMode.RANGE_M100_100:
        norm = ((min(hi, max(lo, raw)) - lo) / (hi - lo)) * 200 - 100
        return -norm if inverted else norm
    if mode is NormMode.RANGE_0_100:
        norm = ((min(hi, max(lo, raw)) - lo) / (hi - lo)) * 100
        return 100 - norm if inverted else norm
    return (raw - (lo + hi) / 2) * 360 / (resolution - 1)


def unnormalize(value: float, calibration: MotorCalibration, mode: NormMode, *, resolution: int,
                apply_drive_mode: bool, motor: str = "?") -> int:
    """A value in the user's units as a raw position (inverse of `normalize` up to truncation)."""
    lo, hi = _checked(calibration, motor)
    inverted = apply_drive_mode and bool(calibration.drive_mode)
    mode = NormMode(mode)
    if mode is NormMode.RANGE_M100_100:
        value = -value if inverted else value
        return int(((min(100.0, max(-100.0, value)) + 100) / 200) * (hi - lo) + lo)
    if mode is NormMode.RANGE_0_100:
        value = 100 - value if inverted else value
        return int((min(100.0, max(0.0, value)) / 100) * (hi - lo) + lo)
    return int(value * (resolution - 1) / 360 + (lo + hi) / 2)
