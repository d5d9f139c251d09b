"""Serve a simulated servo chain on a pseudo-terminal, so any program opens it as a serial port.

`SimServer(chain, protocol)` opens a pty, answers every instruction packet written to it from a
background thread, and optionally links the slave device at a path of your choice. The baud rate a
program sets on the port is read back from the pty (TCGETS2), and servos only answer at their own
rate, as on a real bus. `unplug()` closes the device side like pulling the USB cable.
"""

from __future__ import annotations

import array
import contextlib
import fcntl
import logging
import os
import select
import sys
import termios
import threading
import tty
from pathlib import Path
from typing import Self

from . import dynamixel_protocol, feetech_protocol
from .chain import ServoChain

log = logging.getLogger(__name__)
_TCGETS2 = 0x802C542A  # _IOR('T', 0x2A, struct termios2) on Linux


def _pty_baud(fd: int) -> int | None:
    """The output speed a program set on the pty (None where it cannot be read)."""
    if not sys.platform.startswith("linux"):
        return None
    buf = array.array("I", [0] * 11)  # struct termios2: 4 flags, c_line + 19 c_cc (5 words), 2 speeds
    try:
        fcntl.ioctl(fd, _TCGETS2, buf, True)
    except OSError:
        return None
    return int(buf[10]) or None


PROTOCOLS = {"feetech": (feetech_protocol.FeetechParser, feetech_protocol.handle),
             "dynamixel": (dynamixel_protocol.DynamixelParser, dynamixel_protocol.handle)}


class SimServer:
    """A chain of simulated servos behind a pty. Use as a context manager (or `start` / `stop`)."""

    def __init__(self, chain: ServoChain, protocol: str, *, link: str | os.PathLike | None = None):
        if protocol not in PROTOCOLS:
            raise ValueError(f"unknown protocol {protocol!r}; expected one of {sorted(PROTOCOLS)}")
        self.chain, self.protocol = chain, protocol
        self.link = Path(link) if link else None
        self._parser_cls, self._handle = PROTOCOLS[protocol]
        self._master = self._slave = None
        self._thread: threading.Thread | None = None
        self._stop_r, self._stop_w = None, None
        self.device: str | None = None
        self.unplugged = False

    @property
    def port(self) -> str:
        """What a program opens: the link if one was asked for, else the pty's device path."""
        if self.device is None:
            raise RuntimeError("the simulator is not started")
        return str(self.link) if self.link else self.device

    def start(self) -> SimServer:
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no echo, no line discipline, even before a program configures it
        attrs = termios.tcgetattr(self._slave)
        attrs[3] &= ~termios.ECHO
        termios.tcsetattr(self._slave, termios.TCSANOW, attrs)
        self.device = os.ttyname(self._slave)
        if self.link:
            if self.link.is_symlink() or self.link.exists():
                self.link.unlink()
            self.link.parent.mkdir(parents=True, exist_ok=True)
            self.link.symlink_to(self.device)
        self.chain.port_baud = lambda: _pty_baud(self._slave) if self._slave is not None else None
        self._stop_r, self._stop_w = os.pipe()
        self._thread = threading.Thread(target=self._serve, name=f"sim-{self.protocol}", daemon=True)
        self._thread.start()
        return self

    def _serve(self) -> None:
        parser = self._parser_cls()
        while True:
            try:
                ready, _, _ = select.select([self._master, self._stop_r], [], [])
            except (OSError, ValueError):
                return
            if self._stop_r in ready:
                return
            try:
                data = os.read(self._master, 4096)
            except OSError:
                return
            if not data:
                return
            parser.feed(data)
            for motor_id, inst, params in parser.packets():
                try:
                    replies = self._handle(self.chain, motor_id, inst, params)
                except Exception:  # a simulator bug must not look like a silent servo
                    log.exception("simulated bus failed on packet id=%s inst=%s", motor_id, inst)
                    replies = []
                for reply in replies:
                    try:
                        os.write(self._master, reply)
                    except OSError:
                        return

    def unplug(self) -> None:
        """Pull the cable: the device side goes away and the program's reads and writes fail."""
        self.unplugged = True
        self._close(unlink=True)

    def stop(self) -> None:
        self._close(unlink=True)

    def _close(self, *, unlink: bool) -> None:
        if self._stop_w is not None:
            with contextlib.suppress(OSError):
                os.write(self._stop_w, b"x")
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2)
        self._thread = None
        for name in ("_master", "_slave", "_stop_r", "_stop_w"):
            fd = getattr(self, name)
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
                setattr(self, name, None)
        if unlink and self.link and self.link.is_symlink():
            with contextlib.suppress(OSError):
                self.link.unlink()

    def __enter__(self) -> Self:
        return self.start() if self.device is None else self

    def __exit__(self, *exc) -> None:
        self.stop()
