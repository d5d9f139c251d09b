"""A camera that needs no device: a moving colour pattern at a set size and frame rate, so recording and
policy loops can be tried (and benchmarked) with the cost of real frames."""

from __future__ import annotations

import time

import numpy as np

from .base import ThreadedCamera


class SyntheticCamera(ThreadedCamera):
    """Frame k is a diagonal colour gradient shifted by `k * speed` pixels, with a bright square that moves
    with it; the frame number is written into the first pixel row (bytes 0-3) for checks."""

    def __init__(self, width: int = 640, height: int = 480, fps: float = 30.0, *, name: str = "synthetic",
                 speed: int = 4):
        super().__init__(width=width, height=height, fps=fps, name=name)
        self.speed = speed
        ys, xs = np.mgrid[0:height, 0:2 * width]
        self._base = np.stack([(xs + ys) % 256, (2 * xs) % 256, (3 * ys) % 256], axis=-1).astype(np.uint8)
        self._k = 0
        self._next = 0.0

    def _open(self) -> None:
        self._k, self._next = 0, time.perf_counter()

    def _grab(self) -> np.ndarray:
        # wait for the frame's time as a device read blocks (no spinning: the CPU is the control loop's);
        # disconnect() does not wait for a slow frame rate
        wait = self._next - time.perf_counter()
        if wait > 0 and self._stop.wait(wait):
            return self._frame
        self._next += 1.0 / self.fps
        shift = (self._k * self.speed) % self.width
        frame = np.ascontiguousarray(self._base[:, shift:shift + self.width])
        side = max(2, min(self.width, self.height) // 8)
        x = (self._k * self.speed) % max(1, self.width - side)
        frame[self.height // 2 - side // 2: self.height // 2 + side // 2, x:x + side] = 255
        frame[0, :4, 0] = np.frombuffer(int(self._k).to_bytes(4, "little"), dtype=np.uint8)
        self._k += 1
        return frame


def frame_number(frame: np.ndarray) -> int:
    """The frame number a `SyntheticCamera` wrote into `frame`."""
    return int.from_bytes(bytes(frame[0, :4, 0]), "little")
