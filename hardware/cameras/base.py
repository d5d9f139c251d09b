"""A camera read by a background thread: the control loop takes the newest frame without waiting for
the device (`read_latest`), or waits for the next one with a timeout (`async_read`)."""

from __future__ import annotations

import threading
import time
from typing import Self

import numpy as np


class CameraTimeout(TimeoutError):
    pass


class ThreadedCamera:
    """Subclasses open the device in `_open`, return one RGB uint8 HWC frame per `_grab` call (blocking at
    the device's pace) and close it in `_close`."""

    def __init__(self, *, width: int, height: int, fps: float, name: str):
        self.width, self.height, self.fps, self.name = width, height, fps, name
        self._frame: np.ndarray | None = None
        self._stamp = 0.0
        self._count = 0
        self._error: BaseException | None = None
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {self.width}x{self.height} @ {self.fps:g} fps)"

    @property
    def is_connected(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def connect(self, warmup_timeout_s: float = 5.0) -> None:
        if self.is_connected:
            raise RuntimeError(f"{self} is already connected")
        self._open()
        self._stop.clear()
        self._error = None
        self._thread = threading.Thread(target=self._run, name=f"camera-{self.name}", daemon=True)
        self._thread.start()
        self.async_read(timeout_ms=warmup_timeout_s * 1000)  # the first frame proves the device works

    def _run(self) -> None:
        from hardware.threads import yield_to_control_loop

        yield_to_control_loop()
        try:
            while not self._stop.is_set():
                frame = self._grab()
                with self._cond:
                    self._frame, self._stamp, self._count = frame, time.perf_counter(), self._count + 1
                    self._cond.notify_all()
        except Exception as exc:  # noqa: BLE001 (reported to the reader, who raises it with the camera name)
            with self._cond:
                self._error = exc
                self._cond.notify_all()

    def _check(self) -> None:
        if self._error is not None:
            raise RuntimeError(f"{self} stopped delivering frames: {self._error}") from self._error
        if self._thread is None:
            raise RuntimeError(f"{self} is not connected; call connect() first")

    def read_latest(self, max_age_ms: float = 1000.0) -> np.ndarray:
        """The newest frame at once; an error if it is older than `max_age_ms` (a stalled device)."""
        with self._cond:
            self._check()
            if self._frame is None:
                raise CameraTimeout(f"{self} has not delivered a frame yet")
            age = (time.perf_counter() - self._stamp) * 1000
            if age > max_age_ms:
                raise CameraTimeout(f"{self}: the newest frame is {age:.0f} ms old (limit {max_age_ms:g} ms); "
                                    "is the camera still connected?")
            return self._frame

    def async_read(self, timeout_ms: float = 200.0) -> np.ndarray:
        """Wait for a frame newer than the last one seen, up to `timeout_ms`."""
        with self._cond:
            self._check()
            seen = self._count
            if not self._cond.wait_for(lambda: self._count > seen or self._error is not None, timeout_ms / 1000):
                raise CameraTimeout(f"{self}: no new frame within {timeout_ms:g} ms")
            self._check()
            return self._frame

    read = async_read

    def disconnect(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._thread = None
        self._close()

    def __enter__(self) -> Self:
        self.connect()
        return self

    def __exit__(self, *exc) -> None:
        self.disconnect()

    def _open(self) -> None:
        pass

    def _grab(self) -> np.ndarray:
        raise NotImplementedError

    def _close(self) -> None:
        pass
