"""Key presses from a terminal without Enter (cbreak mode), read by a background thread, and the
recording controls LeRobot users know: right arrow = end this episode early, left arrow = re-record it,
Esc = stop recording."""

from __future__ import annotations

import contextlib
import os
import select
import sys
import termios
import threading
import tty
from collections.abc import Callable
from typing import ClassVar, Self

ESCAPES = {"\x1b[C": "right", "\x1b[D": "left", "\x1b[A": "up", "\x1b[B": "down"}


def parse_keys(data: str) -> list[str]:
    """Key names in a chunk of terminal input: arrows by name, Esc as 'esc', others as themselves."""
    keys, i = [], 0
    while i < len(data):
        seq = data[i:i + 3]
        if seq in ESCAPES:
            keys.append(ESCAPES[seq])
            i += 3
        elif data[i] == "\x1b":
            keys.append("esc")
            i += 1
        else:
            keys.append(data[i])
            i += 1
    return keys


class KeyReader:
    """Calls `on_key(name)` for every key pressed on `fd` (stdin by default) until closed. On a terminal it
    switches to cbreak mode and restores the settings on close; on anything else it reads as it comes."""

    def __init__(self, on_key: Callable[[str], None], fd: int | None = None):
        self.on_key = on_key
        self.fd = sys.stdin.fileno() if fd is None else fd
        self._saved = None
        self._stop_r, self._stop_w = os.pipe()
        self._thread = threading.Thread(target=self._run, name="keys", daemon=True)

    def start(self) -> KeyReader:
        if os.isatty(self.fd):
            self._saved = termios.tcgetattr(self.fd)
            tty.setcbreak(self.fd)
        self._thread.start()
        return self

    def _run(self) -> None:
        while True:
            ready, _, _ = select.select([self.fd, self._stop_r], [], [])
            if self._stop_r in ready:
                return
            try:
                data = os.read(self.fd, 64)
            except OSError:
                return
            if not data:
                return
            for key in parse_keys(data.decode(errors="replace")):
                self.on_key(key)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.write(self._stop_w, b"x")
        if self._thread.is_alive():
            self._thread.join(timeout=2)
        if self._saved is not None:
            termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)
            self._saved = None
        for fd in (self._stop_r, self._stop_w):
            with contextlib.suppress(OSError):
                os.close(fd)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()


class RecordControls:
    """Flags the record loop polls: `exit_early` (next episode), `rerecord_episode`, `stop_recording` (LeRobot's
    names). Set them from keys with `listen()` or directly (a notebook button, a test)."""

    KEYMAP: ClassVar[dict[str, str]] = {"right": "next", "left": "rerecord", "esc": "stop"}

    def __init__(self):
        self.exit_early = self.rerecord_episode = self.stop_recording = False
        self._reader: KeyReader | None = None

    def press(self, key: str) -> None:
        action = self.KEYMAP.get(key)
        if action == "next":
            self.exit_early = True
        elif action == "rerecord":
            self.rerecord_episode = self.exit_early = True
        elif action == "stop":
            self.stop_recording = self.exit_early = True

    def listen(self, fd: int | None = None) -> RecordControls:
        """Read keys from the terminal (only when there is one, or from `fd`)."""
        if fd is not None or sys.stdin.isatty():
            self._reader = KeyReader(self.press, fd).start()
        return self

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
