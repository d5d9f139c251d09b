"""Camera settings as written in a spec (`[robot.cameras.front]`), and `make_camera`."""

from __future__ import annotations

from typing import Literal

import attrs

from lerobot_fn.specs.schema import positive, spec_field


@attrs.frozen
class CameraConfig:
    """One camera: an OpenCV device / file, or a synthetic moving pattern (no device needed)."""

    type: Literal["opencv", "synthetic"] = spec_field("opencv", doc="'opencv' (a device or file) or 'synthetic'")
    index_or_path: str = spec_field("0", doc="OpenCV device index (\"0\"), device path (/dev/video2) or video file")
    width: int = spec_field(640, doc="frame width in pixels", validator=positive)
    height: int = spec_field(480, doc="frame height in pixels", validator=positive)
    fps: int = spec_field(30, doc="frames per second", validator=positive)
    color_mode: Literal["rgb", "bgr"] = spec_field("rgb", doc="channel order of the frames")
    rotation: Literal[0, 90, 180, -90] = spec_field(0, doc="rotate frames by this many degrees")


def make_camera(config: CameraConfig, name: str):
    if config.type == "synthetic":
        from .synthetic import SyntheticCamera

        return SyntheticCamera(config.width, config.height, config.fps, name=name)
    from .opencv import OpenCVCamera

    target = int(config.index_or_path) if config.index_or_path.isdigit() else config.index_or_path
    return OpenCVCamera(target, fps=config.fps, width=config.width, height=config.height,
                        color_mode=config.color_mode, rotation=config.rotation, name=name)
