"""Errors raised by lerobot_fn.data: each names the file, key, episode or timestamp at fault."""

from __future__ import annotations


class DatasetError(Exception):
    """Base class for every dataset problem (bad file, bad argument, bad version)."""


class DatasetFileError(DatasetError, FileNotFoundError):
    """A dataset file is missing, truncated or unreadable; the message names the file."""


class DatasetVersionError(DatasetError):
    """The dataset is in a codebase version this reader cannot read (e.g. v2.1)."""


class DeltaTimestampsError(DatasetError, ValueError):
    """`delta_timestamps` names an unknown feature or holds offsets that are not multiples of 1/fps."""


class FrameTimestampError(DatasetError, ValueError):
    """A decoded video frame is further than `tolerance_s` from the requested timestamp."""


class EncoderError(RuntimeError):
    """The video encoder failed; the message names the camera, the file and the codec."""


V21_HINT = (
    "lerobot-fn reads LeRobotDataset v3.0 only: convert {root} once with the `lerobot-run` job "
    "`dataset.convert_v21` (see `lerobot-run --explain dataset.convert_v21`), or with LeRobot's "
    "`python -m lerobot.scripts.convert_dataset_v21_to_v30`."
)
