"""Motor calibration values and LeRobot's calibration JSON format and locations.

A calibration file is `{motor_name: {"id", "drive_mode", "homing_offset", "range_min", "range_max"}}`
written with 4-space indentation, at `<calibration root>/robots/<name>/<id>.json` (teleoperators under
`teleoperators/`), where the root is `$HF_LEROBOT_CALIBRATION` or `$HF_LEROBOT_HOME/calibration`.
Pure: text in, text out; `hardware.calibration_files` reads and writes the files.
"""

from __future__ import annotations

import json
from pathlib import Path

import attrs

FIELDS = ("id", "drive_mode", "homing_offset", "range_min", "range_max")


@attrs.frozen
class MotorCalibration:
    """LeRobot's `MotorCalibration`: the values written into a motor's EEPROM and used to normalise."""

    id: int
    drive_mode: int
    homing_offset: int
    range_min: int
    range_max: int


def to_json(calibration: dict[str, MotorCalibration]) -> str:
    """The text LeRobot writes (draccus JSON, indent 4, fields in LeRobot's order, no trailing newline)."""
    return json.dumps({name: {f: int(getattr(c, f)) for f in FIELDS} for name, c in calibration.items()},
                      indent=4)


def from_json(text: str, *, source: str = "calibration") -> dict[str, MotorCalibration]:
    """Parse a LeRobot calibration file; errors name the file, the motor and the field."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{source}: not valid JSON ({exc}); delete it and calibrate again") from None
    if not isinstance(raw, dict):
        raise ValueError(  # noqa: TRY004 (a bad file is a ValueError like every other defect of its content)
            f"{source}: expected an object of motor name -> calibration, found {type(raw).__name__}")
    out = {}
    for name, entry in raw.items():
        if not isinstance(entry, dict):
            raise ValueError(  # noqa: TRY004
                f"{source}: motor '{name}': expected an object with {', '.join(FIELDS)}")
        missing = [f for f in FIELDS if f not in entry]
        if missing:
            raise ValueError(f"{source}: motor '{name}' lacks {', '.join(missing)}")
        bad = [f for f in FIELDS if not isinstance(entry[f], int) or isinstance(entry[f], bool)]
        if bad:
            raise ValueError(f"{source}: motor '{name}': {', '.join(bad)} must be integers, "
                             f"found {', '.join(repr(entry[f]) for f in bad)}")
        out[name] = MotorCalibration(**{f: entry[f] for f in FIELDS})
    return out


def calibration_root(environ: dict[str, str]) -> Path:
    """LeRobot's calibration root for the given environment variables."""
    if environ.get("HF_LEROBOT_CALIBRATION"):
        return Path(environ["HF_LEROBOT_CALIBRATION"]).expanduser()
    if environ.get("HF_LEROBOT_HOME"):
        home = Path(environ["HF_LEROBOT_HOME"]).expanduser()
    else:
        hf_home = environ.get("HF_HOME") or str(Path(environ.get("XDG_CACHE_HOME", "~/.cache")) / "huggingface")
        home = Path(hf_home).expanduser() / "lerobot"
    return home / "calibration"


def calibration_path(root: Path, category: str, device_name: str, device_id: str) -> Path:
    """`<root>/<robots|teleoperators>/<device_name>/<id>.json`."""
    if category not in ("robots", "teleoperators"):
        raise ValueError(f"category must be 'robots' or 'teleoperators', got {category!r}")
    if not device_id or "/" in device_id or device_id in (".", ".."):
        raise ValueError(f"device id {device_id!r} cannot name a calibration file; use e.g. 'my_follower'")
    return Path(root) / category / device_name / f"{device_id}.json"


def half_turn_homing(position: int, resolution: int, *, present_is_actual_minus_offset: bool) -> int:
    """The homing offset that makes `position` (read with a zero offset) read as half a turn.

    Feetech: Present = Actual - Homing_Offset, so offset = pos - (res-1)//2.
    Dynamixel: Present = Actual + Homing_Offset, so offset = (res-1)//2 - pos.
    """
    half = int((resolution - 1) / 2)
    return position - half if present_is_actual_minus_offset else half - position


def update_ranges(mins: dict[str, int], maxes: dict[str, int], positions: dict[str, int]) -> tuple[dict, dict]:
    """Widen recorded ranges of motion by one reading."""
    return ({m: min(v, positions[m]) for m, v in mins.items()}, {m: max(v, positions[m]) for m, v in maxes.items()})


def check_ranges(mins: dict[str, int], maxes: dict[str, int]) -> None:
    """LeRobot refuses a calibration where a joint never moved; so do we, naming the joints."""
    still = [m for m in mins if mins[m] == maxes[m]]
    if still:
        raise ValueError(f"joints {still} did not move while recording ranges of motion (min == max); "
                         "move every joint through its whole range before finishing")
