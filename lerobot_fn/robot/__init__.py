"""lerobot_fn.robot: the pure maths of running a robot (no serial port, no file, no global).

- `calibration`: `MotorCalibration`, LeRobot's calibration JSON and file locations, homing offsets;
- `normalize`: LeRobot's exact normalisation modes (`range_m100_100`, `range_0_100`, `degrees`);
- `encoding`: sign-magnitude and two's complement registers, little-endian bytes;
- `safety`: the `max_relative_target` clamp;
- `timing`: precise sleep, a drift-free ticker, loop jitter statistics;
- `chunking`: blending action chunks computed ahead while the current one plays.
"""

from .calibration import (
    MotorCalibration,
    calibration_path,
    calibration_root,
    from_json,
    half_turn_homing,
    to_json,
)
from .chunking import blend_chunks, request_margin
from .encoding import (
    decode_sign_magnitude,
    decode_twos_complement,
    encode_sign_magnitude,
    encode_twos_complement,
    from_bytes,
    to_bytes,
)
from .normalize import NormMode, normalize, unnormalize
from .safety import clamp_relative
from .timing import LoopStats, Ticker, loop_stats, precise_sleep, sleep_until

__all__ = [
    "LoopStats", "MotorCalibration", "NormMode", "Ticker", "blend_chunks", "calibration_path", "calibration_root",
    "clamp_relative", "decode_sign_magnitude", "decode_twos_complement", "encode_sign_magnitude",
    "encode_twos_complement", "from_bytes", "from_json", "half_turn_homing", "loop_stats", "normalize",
    "precise_sleep", "request_margin", "sleep_until", "to_bytes", "to_json", "unnormalize",
]
