"""An OpenCV camera (a device index such as 0, a path such as /dev/video2, or a video file) read by a
background thread; frames come out RGB (or BGR) uint8 HWC, optionally rotated."""

from __future__ import annotations

import cv2
import numpy as np

from .base import ThreadedCamera

ROTATIONS = {0: None, 90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, -90: cv2.ROTATE_90_COUNTERCLOCKWISE,
             270: cv2.ROTATE_90_COUNTERCLOCKWISE}


class OpenCVCamera(ThreadedCamera):
    def __init__(self, index_or_path: int | str, *, fps: float | None = None, width: int | None = None,
                 height: int | None = None, color_mode: str = "rgb", rotation: int = 0, name: str | None = None):
        if color_mode not in ("rgb", "bgr"):
            raise ValueError(f"color_mode must be 'rgb' or 'bgr', got {color_mode!r}")
        if rotation not in ROTATIONS:
            raise ValueError(f"rotation must be one of {sorted(ROTATIONS)}, got {rotation!r}")
        self.index_or_path, self.color_mode, self.rotation = index_or_path, color_mode, rotation
        self._want = (width, height, fps)
        self._cap: cv2.VideoCapture | None = None
        w, h = (height, width) if rotation in (90, -90, 270) else (width, height)
        super().__init__(width=w or 0, height=h or 0, fps=fps or 0, name=name or str(index_or_path))

    def _open(self) -> None:
        cap = cv2.VideoCapture(self.index_or_path)
        if not cap.isOpened():
            cap.release()
            raise ConnectionError(f"OpenCV could not open camera {self.index_or_path!r}; list the cameras with "
                                  "`lerobot-run specs/so101_find_cameras.toml` and check nothing else uses it")
        width, height, fps = self._want
        if width:
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        if height:
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        if fps:
            cap.set(cv2.CAP_PROP_FPS, fps)
        got = (round(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), round(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
        if (width and got[0] != width) or (height and got[1] != height):
            cap.release()
            raise ConnectionError(f"camera {self.index_or_path!r} gives {got[0]}x{got[1]}, not the {width}x{height} "
                                  "asked for; use a size it supports (find_cameras lists them)")
        w, h = got
        self.width, self.height = (h, w) if self.rotation in (90, -90, 270) else (w, h)
        self.fps = fps or cap.get(cv2.CAP_PROP_FPS) or 30.0
        self._cap = cap

    def _grab(self) -> np.ndarray:
        ok, frame = self._cap.read()
        if not ok:
            raise ConnectionError(f"camera {self.index_or_path!r} returned no frame (unplugged, or the end of a file)")
        if self.color_mode == "rgb":
            frame = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        if ROTATIONS[self.rotation] is not None:
            frame = cv2.rotate(frame, ROTATIONS[self.rotation])
        return frame

    def _close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


def find_cameras(max_index: int = 10) -> list[dict]:
    """The cameras OpenCV can open: /dev/video* on Linux, indices 0..max_index elsewhere, with their size."""
    import glob
    import sys

    targets: list[int | str] = sorted(glob.glob("/dev/video*")) if sys.platform.startswith("linux") else list(
        range(max_index))
    found = []
    for target in targets:
        cap = cv2.VideoCapture(target)
        try:
            if cap.isOpened():
                found.append({"index_or_path": target, "width": round(cap.get(cv2.CAP_PROP_FRAME_WIDTH)),
                              "height": round(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)),
                              "fps": cap.get(cv2.CAP_PROP_FPS)})
        finally:
            cap.release()
    return found
