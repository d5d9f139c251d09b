"""`sim://<robot>[/<instance>][?motion=wave|still&speed=TICKS_PER_S&factory=1]` ports.

A robot or bus given such a port starts that simulated arm in this process (once: it stays powered,
with its EEPROM, until `release` or exit, as a real arm stays plugged in) and opens its pty with the
vendor SDK like any serial port.
"""

from __future__ import annotations

import atexit
import threading
from urllib.parse import parse_qs, urlsplit

from .robots import make_chain, protocol_of
from .server import SimServer

SCHEME = "sim://"
_RUNNING: dict[str, SimServer] = {}
_LOCK = threading.Lock()


def is_sim_port(port: str) -> bool:
    return isinstance(port, str) and port.startswith(SCHEME)


def parse(port: str) -> tuple[str, dict]:
    """(robot, options) of a sim:// port, or a ValueError that shows the form."""
    parts = urlsplit(port)
    robot = parts.netloc
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    unknown = set(query) - {"motion", "speed", "factory"}
    if parts.scheme != "sim" or not robot or unknown:
        raise ValueError(f"bad simulator port {port!r}: expected sim://<robot>[/<instance>]"
                         "[?motion=wave|still&speed=<ticks/s>&factory=1]"
                         + (f"; unknown options {sorted(unknown)}" if unknown else ""))
    options = {"motion": query.get("motion"), "factory": query.get("factory", "0") in ("1", "true", "yes")}
    if "speed" in query:
        options["speed"] = float(query["speed"])
    return robot, options


def open_sim(port: str) -> SimServer:
    """The running simulator behind `port`, started on first use."""
    with _LOCK:
        server = _RUNNING.get(port)
        if server is None or server.unplugged:
            robot, options = parse(port)
            server = SimServer(make_chain(robot, **options), protocol_of(robot)).start()
            _RUNNING[port] = server
        return server


def running(port: str) -> SimServer | None:
    return _RUNNING.get(port)


def release(port: str) -> None:
    """Power the simulated arm off (its state is lost)."""
    with _LOCK:
        server = _RUNNING.pop(port, None)
    if server is not None:
        server.stop()


def release_all() -> None:
    for port in list(_RUNNING):
        release(port)


atexit.register(release_all)
