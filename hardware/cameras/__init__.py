"""Cameras read by background threads: `OpenCVCamera`, `SyntheticCamera`, `find_cameras`, `make_camera`."""

from .base import CameraTimeout, ThreadedCamera
from .config import CameraConfig, make_camera
from .synthetic import SyntheticCamera, frame_number

__all__ = ["CameraConfig", "CameraTimeout", "SyntheticCamera", "ThreadedCamera", "find_cameras", "frame_number",
           "make_camera"]


def __getattr__(name):
    if name in ("OpenCVCamera", "find_cameras"):
        from . import opencv

        return getattr(opencv, name)
    raise AttributeError(name)
