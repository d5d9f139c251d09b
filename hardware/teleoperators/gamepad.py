"""Drive the joints with a gamepad through the Linux joystick device (/dev/input/js*): axis k moves
joint k at up to `step` units per tick (dead zone 10 %); no extra package needed."""

from __future__ import annotations

import contextlib
import os
import select
import struct
import threading
from collections.abc import Mapping

EVENT = struct.Struct("<IhBB")  # time (ms), value, type, number
JS_EVENT_BUTTON, JS_EVENT_AXIS, JS_EVENT_INIT = 0x01, 0x02, 0x80
DEAD_ZONE = 0.1


class GamepadTeleop:
    def __init__(self, joints: list[str], step: float = 2.0, *, device: str = "/dev/input/js0"):
        self.joints, self.step, self.device = list(joints), step, device
        self.axes: dict[int, float] = {}
        self.buttons: dict[int, bool] = {}
        self._target: dict[str, float] = {}
        self._fd: int | None = None
        self._stop_r, self._stop_w = os.pipe()
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"GamepadTeleop({self.device!r})"

    @property
    def action_features(self) -> dict[str, type]:
        return {f"{j}.pos": float for j in self.joints}

    def attach(self, start: Mapping[str, float]) -> None:
        try:
            self._fd = os.open(self.device, os.O_RDONLY | os.O_NONBLOCK)
        except OSError as exc:
            raise ConnectionError(f"cannot open gamepad {self.device}: {exc.strerror}; is it plugged in? "
                                  "(ls /dev/input/js*)") from None
        self._target = {f"{j}.pos": float(start[f"{j}.pos"]) for j in self.joints}
        self._thread = threading.Thread(target=self._run, name="gamepad", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        pending = b""
        while True:
            ready, _, _ = select.select([self._fd, self._stop_r], [], [])
            if self._stop_r in ready:
                return
            try:
                data = os.read(self._fd, EVENT.size * 32)
            except BlockingIOError:
                continue
            except OSError:
                return
            if not data:
                continue
            pending += data
            while len(pending) >= EVENT.size:
                _, value, kind, number = EVENT.unpack_from(pending)
                pending = pending[EVENT.size:]
                if kind & ~JS_EVENT_INIT == JS_EVENT_AXIS:
                    self.axes[number] = value / 32767.0
                elif kind & ~JS_EVENT_INIT == JS_EVENT_BUTTON:
                    self.buttons[number] = bool(value)

    def get_action(self) -> dict[str, float]:
        for i, joint in enumerate(self.joints):
            value = self.axes.get(i, 0.0)
            if abs(value) > DEAD_ZONE:
                self._target[f"{joint}.pos"] += self.step * value
        return dict(self._target)

    def disconnect(self) -> None:
        with contextlib.suppress(OSError):
            os.write(self._stop_w, b"x")
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
