"""A daisy chain of simulated servos on one bus, with the faults a test can inject.

Faults are consumed per reply: `no_reply` (the servo stays silent: a timeout for the SDK),
`corrupt` (a reply whose checksum / CRC is wrong), `short` (a well-formed reply carrying fewer bytes
than asked for, as a late answer to an earlier request looks), and the servo's own `overload` state. A servo
answers only at its own baud rate (when the port's rate is known) and only while attached.
"""

from __future__ import annotations

import threading
from collections import defaultdict, deque
from collections.abc import Callable, Iterable

from .servo import SimServo

NO_REPLY, CORRUPT, SHORT = "no_reply", "corrupt", "short"
FAULTS = (NO_REPLY, CORRUPT, SHORT)


class ServoChain:
    def __init__(self, servos: Iterable[SimServo], *, baud_table: dict[int, int], joints: Iterable[str] | None = None):
        self.servos: list[SimServo] = list(servos)
        names = list(joints) if joints is not None else [str(s.id) for s in self.servos]
        self._joint_of = {id(s): name for s, name in zip(self.servos, names, strict=True)}  # for `servo`, `attach_only`
        self.attached: set[int] = {id(s) for s in self.servos}
        self.baud_of_index = {v: k for k, v in baud_table.items()}
        self.port_baud: Callable[[], int | None] = lambda: None
        self._faults: dict[int | None, deque[str]] = defaultdict(deque)
        self._lock = threading.Lock()
        self.packets = 0  # instruction packets handled, for tests and benchmarks

    # -- who answers ---------------------------------------------------------------------------
    def live(self) -> list[SimServo]:
        """Attached servos listening at the port's baud rate, in chain order."""
        baud = self.port_baud()
        return [s for s in self.servos if id(s) in self.attached
                and (baud is None or self.baud_of_index.get(s.baud_index) == baud)]

    def by_id(self, motor_id: int) -> SimServo | None:
        return next((s for s in self.live() if s.id == motor_id), None)

    def servo(self, joint: str) -> SimServo:
        """The servo of a joint (by the name it was created with)."""
        for s in self.servos:
            if self._joint_of[id(s)] == joint:
                return s
        raise KeyError(f"no simulated servo for joint {joint!r}; joints: {list(self._joint_of.values())}")

    def attach_only(self, joint: str) -> None:
        """Unplug every servo but one, as `setup_motors` asks a user to (connect one motor at a time)."""
        self.attached = {id(self.servo(joint))}

    def attach_all(self) -> None:
        self.attached = {id(s) for s in self.servos}

    # -- faults --------------------------------------------------------------------------------
    def inject(self, fault: str, motor_id: int | None = None, count: int = 1) -> None:
        """The next `count` replies of `motor_id` (any servo when None) get `fault`."""
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; expected one of {FAULTS}")
        with self._lock:
            self._faults[motor_id].extend([fault] * count)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def take_fault(self, motor_id: int) -> str | None:
        with self._lock:
            for key in (motor_id, None):
                if self._faults.get(key):
                    return self._faults[key].popleft()
        return None


def reply(chain: ServoChain, servo, error: int, params: bytes = b"", *, status_packet, as_id: int | None = None
          ) -> list[bytes]:
    """The status packet `servo` answers with (from `as_id`, the id it had when the instruction came, if
    given), or nothing / a damaged one when a fault is queued for it."""
    motor_id = servo.id if as_id is None else as_id
    fault = chain.take_fault(motor_id)
    if fault == NO_REPLY:
        return []
    packet = status_packet(motor_id, error, params[: len(params) // 2] if fault == SHORT else params)
    if fault == CORRUPT:
        packet = packet[:-1] + bytes([packet[-1] ^ 0x5A])
    return [packet]


def run_pending(servo) -> None:
    """ACTION: apply the write a REG_WRITE left pending."""
    pending = getattr(servo, "pending", None)
    if pending is not None:
        servo.write(*pending)
        servo.pending = None
