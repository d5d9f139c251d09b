"""Calibration files where LeRobot keeps them: `<root>/<robots|teleoperators>/<name>/<id>.json`, root =
$HF_LEROBOT_CALIBRATION or $HF_LEROBOT_HOME/calibration (LeRobot 0.6.1 names SO-100/101 arms
`so_follower` / `so_leader`). Written crash-safely: temporary file, fsync, rename."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from lerobot_fn.robot import MotorCalibration, calibration_path, calibration_root, from_json, to_json


def default_root() -> Path:
    return calibration_root(dict(os.environ))


def path_for(category: str, name: str, device_id: str, root: str | Path | None = None) -> Path:
    return calibration_path(Path(root) if root else default_root(), category, name, device_id)


def load(path: Path) -> dict[str, MotorCalibration] | None:
    """The calibration in `path`, or None when there is no such file."""
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        return None
    return from_json(text, source=str(path))


def save(path: Path, calibration: dict[str, MotorCalibration]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(to_json(calibration))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
