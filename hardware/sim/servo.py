"""One simulated servo: its control table memory (EEPROM + RAM), the rules a real one enforces on
writes, and a shaft that moves toward the goal at a set speed while torque is on (or follows a hand
moving it while torque is off).

`FeetechServo` (STS3215 and siblings) and `DynamixelServo` (X series) differ where the real ones do:
Present = Actual - Homing_Offset (Feetech, sign-magnitude registers, EEPROM guarded by the Lock
register, goals clamped to the limits) vs Present = ±Actual + Homing_Offset (Dynamixel, two's
complement, EEPROM writable only with torque off, goals outside the limits refused with a data limit
error, drive mode reverses direction, extended position mode is multi-turn).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from hardware.motors import dynamixel_tables as dxt
from hardware.motors import feetech_tables as ftt
from lerobot_fn.robot.encoding import (
    decode_sign_magnitude,
    decode_twos_complement,
    encode_sign_magnitude,
    encode_twos_complement,
)

Motion = Callable[[float], float]  # seconds since start -> shaft position (ticks), for a hand moving the joint


def wave(center: float, amplitude: float, period_s: float, phase: float = 0.0) -> Motion:
    """A hand moving a joint back and forth around `center` (a sine wave)."""
    return lambda t: center + amplitude * math.sin(2 * math.pi * t / period_s + phase)


class SimServo:
    table: dict[str, tuple[int, int]]
    factory: dict[str, int]
    read_only: set[str]
    eeprom_end: int

    def __init__(self, model: str, model_number: int, *, motor_id: int = 1, baud_index: int | None = None,
                 position: float = 2048.0, speed: float = 3000.0, motion: Motion | None = None,
                 registers: dict[str, int] | None = None):
        self.model, self.model_number = model, model_number
        self.mem = bytearray(256)
        self._by_address = {addr: (name, size) for name, (addr, size) in self.table.items()}
        for name, value in {**self.factory, "ID": motor_id, **(registers or {})}.items():
            self.set(name, value)
        self._raw_set("Model_Number", model_number)
        if baud_index is not None:
            self.set("Baud_Rate", baud_index)
        self.flash = bytes(self.mem[:self.eeprom_end])  # what survives a power cycle
        self.shaft = float(position)  # encoder ticks of the output shaft, unbounded
        self.speed = float(speed)  # ticks per second toward the goal while torque is on
        self.motion = motion
        self.overloaded = False
        self.lock = threading.RLock()
        self._t0 = self._last = time.monotonic()
        self._velocity = 0.0
        self._goal_present: float | None = None

    # -- registers -----------------------------------------------------------------------------
    def _raw_set(self, name: str, value: int) -> None:
        addr, size = self.table[name]
        self.mem[addr:addr + size] = int(value).to_bytes(size, "little")

    def _raw_get(self, name: str) -> int:
        addr, size = self.table[name]
        return int.from_bytes(self.mem[addr:addr + size], "little")

    def set(self, name: str, value: int) -> None:
        """Store a value (signed where the register is) without the write rules: a fixture's setter."""
        self._raw_set(name, self.encode(name, int(value)))

    def get(self, name: str) -> int:
        """A register's value, sign-decoded, with the present-state registers up to date."""
        with self.lock:
            self.refresh()
            return self.decode(name, self._raw_get(name))

    def encode(self, name: str, value: int) -> int:
        return value

    def decode(self, name: str, raw: int) -> int:
        return raw

    @property
    def id(self) -> int:
        return self._raw_get("ID")

    @property
    def baud_index(self) -> int:
        return self._raw_get("Baud_Rate")

    @property
    def torque(self) -> bool:
        return bool(self._raw_get("Torque_Enable"))

    # -- physics -------------------------------------------------------------------------------
    def present_from_shaft(self, shaft: float) -> float:
        raise NotImplementedError

    def shaft_step(self, delta_present: float) -> float:
        """How the shaft moves for a change of the present reading."""
        return delta_present

    def advance(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        dt, self._last = max(0.0, now - self._last), now
        before = self.shaft
        if self.torque and not self.overloaded and self._goal_present is not None:
            diff = self._goal_present - self.present_from_shaft(self.shaft)
            step = self.speed * dt
            self.shaft += self.shaft_step(max(-step, min(step, diff)))
        elif not self.torque and self.motion is not None:
            self.shaft = float(self.motion(now - self._t0))
        self._velocity = (self.shaft - before) / dt if dt > 0 else 0.0

    def refresh(self) -> None:
        self.advance()
        self._publish(round(self.present_from_shaft(self.shaft)))

    def _publish(self, present: int) -> None:
        raise NotImplementedError

    def goal_error(self) -> float:
        if self._goal_present is None:
            return 0.0
        return self._goal_present - self.present_from_shaft(self.shaft)

    # -- bus access ----------------------------------------------------------------------------
    def read(self, address: int, length: int) -> tuple[int, bytes]:
        """(error, data) for a READ of `length` bytes at `address`."""
        with self.lock:
            self.refresh()
            if address + length > len(self.mem):
                return self.range_error(), b""
            return self.status_error(), bytes(self.mem[address:address + length])

    def write(self, address: int, data: bytes) -> int:
        """Apply a WRITE register by register with the servo's rules; returns the status error."""
        with self.lock:
            self.refresh()
            end = address + len(data)
            names = [(n, a, s) for a, (n, s) in self._by_address.items() if address <= a < end]
            if not names or end > len(self.mem):
                return self.range_error()
            for name, addr, size in sorted(names, key=lambda x: x[1]):
                chunk = data[addr - address: addr - address + size]
                if len(chunk) < size:
                    return self.length_error()
                error = self.check_write(name, addr)
                if error is not None:
                    if error:
                        return error
                    continue  # silently ignored (Feetech)
                self._apply(name, int.from_bytes(chunk, "little"))
            return self.status_error()

    def _apply(self, name: str, raw: int) -> None:
        was_on = self.torque
        self._raw_set(name, raw)
        addr, size = self.table[name]
        if addr < self.eeprom_end and self.persists():
            self.flash = self.flash[:addr] + bytes(self.mem[addr:addr + size]) + self.flash[addr + size:]
        if name == "Torque_Enable":
            if raw and not was_on:  # holding torque: the goal becomes where the joint is now
                self._goal_present = self.present_from_shaft(self.shaft)
                self._raw_set("Goal_Position", self.encode("Goal_Position", round(self._goal_present)))
            if not raw:
                self._goal_present = None
        elif name == "Goal_Position":
            self._goal_present = float(self.limit_goal(self.decode(name, raw)))
            if not self.torque:
                self._goal_present = None

    def limit_goal(self, goal: int) -> int:
        return goal

    def persists(self) -> bool:
        """Whether an EEPROM write now is kept across a power cycle."""
        return True

    def power_cycle(self) -> None:
        """Power off and on: EEPROM comes back from flash, RAM from factory values, torque off."""
        with self.lock:
            self.mem[:self.eeprom_end] = self.flash
            for name, value in self.factory.items():
                if self.table[name][0] >= self.eeprom_end:
                    self.set(name, value)
            self._goal_present = None
            self.overloaded = False

    def check_write(self, name: str, address: int) -> int | None:
        """None: write it; 0: ignore it silently; an error code: refuse the packet."""
        raise NotImplementedError

    def status_error(self) -> int:
        raise NotImplementedError

    def range_error(self) -> int:
        raise NotImplementedError

    def length_error(self) -> int:
        return self.range_error()

    def set_overload(self, on: bool) -> None:
        """Overload protection trips: torque drops and every status carries the overload error."""
        with self.lock:
            self.refresh()
            self.overloaded = on
            if on:
                self._raw_set("Torque_Enable", 0)
                self._goal_present = None


class FeetechServo(SimServo):
    table = ftt.STS_SMS_CONTROL_TABLE
    factory = ftt.FACTORY
    read_only = ftt.READ_ONLY
    eeprom_end = ftt.SRAM_START

    def __init__(self, model: str = "sts3215", **kwargs):
        super().__init__(model, ftt.MODEL_NUMBER[model], **kwargs)

    def encode(self, name, value):
        bit = ftt.SIGN_MAGNITUDE_BITS.get(name)
        return encode_sign_magnitude(value, bit) if bit is not None else value

    def decode(self, name, raw):
        bit = ftt.SIGN_MAGNITUDE_BITS.get(name)
        return decode_sign_magnitude(raw, bit) if bit is not None else raw

    def present_from_shaft(self, shaft):
        present = shaft - self.decode("Homing_Offset", self._raw_get("Homing_Offset"))
        if not self._raw_get("Phase") & 0x10:  # angle feedback mode 0: readings stay in [0, 4095]
            present %= 4096
        return present

    def _publish(self, present):
        self._raw_set("Present_Position", self.encode("Present_Position", present))
        self._raw_set("Present_Velocity", self.encode("Present_Velocity", max(-32767, min(32767, round(self._velocity)))))
        load = 1000 if self.overloaded else min(1000, round(abs(self.goal_error())))
        self._raw_set("Present_Load", self.encode("Present_Load", load))
        self._raw_set("Moving", int(abs(self._velocity) > 1))
        self._raw_set("Present_Current", min(500, load // 2))
        self._raw_set("Status", ftt.ERRBIT_OVERLOAD if self.overloaded else 0)

    def limit_goal(self, goal):
        lo, hi = self._raw_get("Min_Position_Limit"), self._raw_get("Max_Position_Limit")
        return max(lo, min(hi, goal)) if hi > lo else goal

    def check_write(self, name, address):
        return 0 if name in self.read_only else None

    def persists(self):
        return not self._raw_get("Lock")  # Lock = 1: EPROM writes take effect but are lost at power off

    def status_error(self):
        return ftt.ERRBIT_OVERLOAD if self.overloaded else 0

    def range_error(self):
        return ftt.ERRBIT_ANGLE | self.status_error()


class DynamixelServo(SimServo):
    table = dxt.X_SERIES_CONTROL_TABLE
    factory = dxt.FACTORY
    read_only = dxt.READ_ONLY
    eeprom_end = dxt.RAM_START

    def __init__(self, model: str = "xl330-m288", **kwargs):
        super().__init__(model, dxt.MODEL_NUMBER[model], **kwargs)

    def encode(self, name, value):
        n = dxt.TWOS_COMPLEMENT_BYTES.get(name)
        return encode_twos_complement(value, n) if n is not None else value

    def decode(self, name, raw):
        n = dxt.TWOS_COMPLEMENT_BYTES.get(name)
        return decode_twos_complement(raw, n) if n is not None else raw

    def _sign(self) -> int:
        return -1 if self._raw_get("Drive_Mode") & 1 else 1

    def present_from_shaft(self, shaft):
        present = self._sign() * shaft + self.decode("Homing_Offset", self._raw_get("Homing_Offset"))
        if self._raw_get("Operating_Mode") not in (4, 5):  # single-turn modes read within one turn
            present %= 4096
        return present

    def shaft_step(self, delta_present):
        return self._sign() * delta_present

    def _publish(self, present):
        self._raw_set("Present_Position", self.encode("Present_Position", present))
        velocity = round(self._velocity / 4096 * 60 / 0.229)  # units of 0.229 rev/min
        self._raw_set("Present_Velocity", self.encode("Present_Velocity", velocity))
        self._raw_set("Present_Current", self.encode("Present_Current", min(1750, round(abs(self.goal_error())))))
        self._raw_set("Moving", int(abs(self._velocity) > 1))
        self._raw_set("Hardware_Error_Status", dxt.HW_ERR_OVERLOAD if self.overloaded else 0)

    def check_write(self, name, address):
        if name in self.read_only:
            return dxt.ERR_ACCESS | self.status_error()
        if address < self.eeprom_end and self.torque:
            return dxt.ERR_ACCESS | self.status_error()
        return None

    def write(self, address, data):
        goal_addr, size = self.table["Goal_Position"]
        if address <= goal_addr < address + len(data) and self._raw_get("Operating_Mode") == 3:
            goal = self.decode("Goal_Position", int.from_bytes(data[goal_addr - address: goal_addr - address + size],
                                                               "little"))
            lo, hi = self._raw_get("Min_Position_Limit"), self._raw_get("Max_Position_Limit")
            if not lo <= goal <= hi:
                return dxt.ERR_DATA_LIMIT | self.status_error()
        return super().write(address, data)

    def status_error(self):
        return dxt.ERRBIT_ALERT if self.overloaded else 0

    def range_error(self):
        return dxt.ERR_DATA_RANGE | self.status_error()

    def length_error(self):
        return dxt.ERR_DATA_LENGTH | self.status_error()
