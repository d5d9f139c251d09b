"""A motor bus over a vendor SDK: named registers, normalised positions, retries, clear errors.

`FeetechBus` (feetech.py, over `scservo_sdk`) and `DynamixelBus` (dynamixel.py, over
`dynamixel_sdk`) fill in the vendor parts. Values are normalised with `lerobot_fn.robot.normalize`
using the bus's calibration, exactly as LeRobot's `MotorsBus` does; a port `sim://<robot>` starts
the simulated arm in this process and talks to it through the same SDK calls.
"""

from __future__ import annotations

import contextlib
import logging
import termios
from collections.abc import Iterator, Sequence
from typing import Any, Self

import attrs

from lerobot_fn.robot import MotorCalibration, NormMode, normalize, to_bytes, unnormalize

from .errors import CHECK_GARBLED, CHECK_LINK, MotorCommError, MotorStatusError, PortUnplugged, where
from .sdk_calls import SdkCalls
from .setup import CalibrationAndSetup

log = logging.getLogger(__name__)

NORMALIZED = ("Goal_Position", "Present_Position")


@attrs.frozen
class Motor:
    """One motor of a bus: its id, model and how its position is normalised."""

    id: int
    model: str
    norm_mode: NormMode = NormMode.RANGE_M100_100


class MotorsBus(SdkCalls, CalibrationAndSetup):
    """Common logic; subclasses set the vendor tables and SDK objects."""

    vendor = "?"
    control_table: dict[str, dict[str, tuple[int, int]]]
    model_number: dict[str, int]
    resolution: dict[str, int]
    baudrate_table: dict[int, int]
    scan_baudrates: tuple[int, ...]
    default_baudrate = 1_000_000
    apply_drive_mode: bool
    homing_is_subtracted: bool  # Present = Actual - Homing_Offset (Feetech) or + (Dynamixel)

    def __init__(self, port: str, motors: dict[str, Motor], calibration: dict[str, MotorCalibration] | None = None,
                 *, num_retry: int = 2, reply_margin_ms: float | None = None):
        ids = [m.id for m in motors.values()]
        if len(ids) != len(set(ids)):
            raise ValueError(f"two motors share an id on {port}: {motors}")
        for name, m in motors.items():
            if m.model not in self.control_table:
                raise ValueError(f"motor '{name}': unknown {self.vendor} model {m.model!r}; "
                                 f"known: {', '.join(sorted(self.control_table))}")
        self.port = port
        self.motors = dict(motors)
        self.calibration: dict[str, MotorCalibration] = dict(calibration or {})
        self.num_retry = num_retry
        self._reply_margin = reply_margin_ms  # None: the vendor's (250 ms on a simulated arm)
        self._name_of = {m.id: n for n, m in self.motors.items()}
        self._port_handler = None
        self._device: str | None = None

    # -- connection ----------------------------------------------------------------------------
    @property
    def is_connected(self) -> bool:
        return self._port_handler is not None and self._port_handler.is_open

    @property
    def device(self) -> str:
        """The serial device actually opened (the pty behind a sim:// port)."""
        return self._device or self.port

    def connect(self, handshake: bool = True, *, baudrate: int | None = None) -> None:
        """Open the port at `baudrate` (default: the bus's) and, with `handshake`, check every motor answers
        with the expected model number."""
        if self.is_connected:
            raise RuntimeError(f"{type(self).__name__} at {self.port} is already connected")
        device = self.port
        from hardware.sim import is_sim_port, open_sim

        if is_sim_port(self.port):
            device = open_sim(self.port).port
        self._device = device
        try:
            self._open_sdk(device)
            margin = self._reply_margin or (self.SIM_REPLY_MARGIN_MS if is_sim_port(self.port) else self.reply_margin_ms)
            if margin is not None:
                self._set_reply_margin(margin)
            self._set_port_baudrate(baudrate or self.default_baudrate)
        except OSError as exc:  # pyserial's SerialException is one
            self._port_handler = None
            raise MotorCommError(f"could not open port {self.port}: {exc}. Check the device path (run "
                                 "`lerobot-run specs/so101_find_port.toml` to find it) and your permission to use it "
                                 "(on Linux: `sudo usermod -aG dialout $USER`, then log in again)",
                                 port=self.port) from None
        if handshake:
            try:
                self._handshake()
            except BaseException:
                self._close()
                raise

    def _set_reply_margin(self, margin_ms: float) -> None:
        """Patch the SDK's per-packet timeout: transfer time of the packet and 3 bytes, plus `margin_ms`."""
        ph = self._port_handler

        def set_packet_timeout(packet_length):
            ph.packet_start_time = ph.getCurrentTime()
            ph.packet_timeout = ph.tx_time_per_byte * (packet_length + 3.0) + margin_ms

        ph.setPacketTimeout = set_packet_timeout

    def _set_port_baudrate(self, baudrate: int) -> None:
        if not self._port_handler.setBaudRate(baudrate):
            raise MotorCommError(f"port {self.port}: the {self.vendor} SDK refused baud rate {baudrate}",
                                 port=self.port)

    def set_baudrate(self, baudrate: int) -> None:
        self._require()
        if self._port_handler.getBaudRate() != baudrate:
            self._set_port_baudrate(baudrate)

    @property
    def baudrate(self) -> int:
        return self._port_handler.getBaudRate() if self._port_handler else self.default_baudrate

    def _handshake(self) -> None:
        found = {}
        for name, m in self.motors.items():
            number = self.ping(name, num_retry=self.num_retry)
            if number is not None:
                found[name] = number
        missing = [n for n in self.motors if n not in found]
        wrong = {n: v for n, v in found.items() if v != self.model_number[self.motors[n].model]}
        if missing or wrong:
            lines = [f"motor check failed at port {self.port} ({self.baudrate} bps):"]
            if missing:
                lines.append("  no answer from " + ", ".join(f"'{n}' (id {self.motors[n].id})" for n in missing))
            for n, v in wrong.items():
                m = self.motors[n]
                lines.append(f"  '{n}' (id {m.id}) is model number {v}, expected {self.model_number[m.model]} "
                             f"({m.model})")
            lines.append(CHECK_LINK.format(baud=self.baudrate)
                         + (". A wrong model number means two motors share an id or a motor sits at the wrong "
                            "joint" if wrong else ""))
            raise MotorCommError("\n".join(lines), port=self.port)

    def disconnect(self, disable_torque: bool = True) -> None:
        """Close the port, turning torque off first (with retries; failures are logged, the port still closes)."""
        if not self.is_connected:
            return
        try:
            if disable_torque:
                self.disable_torque(num_retry=5)
        except PortUnplugged:
            log.warning("%s: the port went away before torque could be turned off", self.port)
        except (MotorCommError, MotorStatusError) as exc:
            log.warning("%s: could not turn torque off on every motor: %s", self.port, exc)
        finally:
            self._close()

    def _close(self) -> None:
        with contextlib.suppress(Exception):
            self._port_handler.closePort()
        self._port_handler = None

    def __enter__(self) -> Self:
        if not self.is_connected:
            self.connect()
        return self

    def __exit__(self, *exc) -> None:
        self.disconnect()

    def _require(self) -> None:
        if not self.is_connected:
            raise RuntimeError(f"{type(self).__name__} at {self.port} is not connected; call connect() first")

    # -- names, addresses ----------------------------------------------------------------------
    def _ids(self, motors: str | int | Sequence[str | int] | None) -> list[str]:
        if motors is None:
            return list(self.motors)
        if isinstance(motors, (str, int)):
            motors = [motors]
        return [self._name_of[m] if isinstance(m, int) else m for m in motors]

    def address(self, register: str, model: str) -> tuple[int, int]:
        try:
            return self.control_table[model][register]
        except KeyError:
            raise KeyError(f"register '{register}' is not in the {model} control table") from None

    def _common_address(self, register: str, names: list[str]) -> tuple[int, int]:
        addresses = {self.address(register, self.motors[n].model) for n in names}
        if len(addresses) != 1:
            raise ValueError(f"'{register}' sits at different addresses on these models; read them one by one")
        return addresses.pop()

    # -- one SDK call with retries and clear errors --------------------------------------------
    def _call(self, what: str, fn, *args, motor: str | None = None, motor_id: int | None = None,
              register: str | None = None, num_retry: int | None = None, check_status: bool = True) -> Any:
        self._require()
        tries = 1 + (self.num_retry if num_retry is None else num_retry)
        value, comm, error = None, None, 0
        for attempt in range(tries):
            try:
                # A transaction cut short (Ctrl-C inside the SDK's wait) leaves the SDK's port marked busy and
                # perhaps a late reply in the buffer: neither may fail or answer this call.
                self._port_handler.is_using = False
                self._port_handler.ser.reset_input_buffer()
                value, comm, error = fn(*args)
            except IndexError:
                # The SDK unpacks a reply shorter than it asked for without checking (a late reply to an
                # earlier, timed-out request, read as this one's): a garbled reply, retried like one.
                value, comm, error = None, self.comm_corrupt, 0
            except (OSError, termios.error) as exc:  # pyserial's SerialException when the device disappears
                self._port_handler.is_using = False
                raise PortUnplugged(
                    f"{what} {where(self.port, motor, motor_id, register)} failed: the port stopped working "
                    f"({exc}). The USB cable was unplugged or the adapter lost power: reconnect it (then "
                    "`lerobot-run specs/so101_find_port.toml` if its name changed)",
                    port=self.port, motor=motor, motor_id=motor_id, register=register) from None
            if comm == self.comm_success:
                break
            log.debug("%s %s: try %d/%d: %s", what, where(self.port, motor, motor_id, register), attempt + 1, tries,
                      self._sdk_result_text(comm))
        if comm != self.comm_success:
            hint = CHECK_GARBLED if "Incorrect" in self._sdk_result_text(comm) else CHECK_LINK
            raise MotorCommError(
                f"{what} {where(self.port, motor, motor_id, register)} failed after {tries} tries: "
                f"{self._sdk_result_text(comm)} {hint.format(baud=self.baudrate)}",
                port=self.port, motor=motor, motor_id=motor_id, register=register)
        if check_status and error:
            if isinstance(error, tuple):  # (motor id, error) from a sync read
                motor_id, error = error
                motor = self._name_of.get(motor_id)
            raise MotorStatusError(
                f"{what} {where(self.port, motor, motor_id, register)}: the motor reports "
                f"{self._sdk_error_text(error)} (status 0x{error:02x}). {self._status_hint(error)}",
                port=self.port, motor=motor, motor_id=motor_id, register=register)
        return value

    def _status_hint(self, error: int) -> str:
        return "Check the motor"

    # -- registers -----------------------------------------------------------------------------
    def ping(self, motor: str | int, num_retry: int = 0) -> int | None:
        """The model number of a motor, or None when it does not answer."""
        motor_id = motor if isinstance(motor, int) else self.motors[motor].id
        try:
            number = self._call("ping", self._sdk_ping, motor_id, motor_id=motor_id, num_retry=num_retry,
                                      check_status=False)
        except MotorCommError:
            return None
        return number

    def read(self, register: str, motor: str, *, normalize: bool = True, num_retry: int | None = None):
        m = self.motors[motor]
        addr, size = self.address(register, m.model)
        value = self._call("read", self._sdk_read, m.id, addr, size, motor=motor, motor_id=m.id,
                                 register=register, num_retry=num_retry)
        value = self._decode(register, m.model, value)
        if normalize and register in NORMALIZED:
            return self._normalize(motor, value)
        return value

    def write(self, register: str, motor: str, value: float, *, normalize: bool = True,
              num_retry: int | None = None) -> None:
        m = self.motors[motor]
        addr, size = self.address(register, m.model)
        raw = self._unnormalize(motor, value) if normalize and register in NORMALIZED else int(value)
        data = to_bytes(self._encode(register, m.model, raw), size)
        self._call("write", self._sdk_write, m.id, addr, size, data, motor=motor, motor_id=m.id, register=register,
                   num_retry=num_retry)

    def sync_read(self, register: str, motors: str | Sequence[str] | None = None, *, normalize: bool = True,
                  num_retry: int | None = None) -> dict[str, float]:
        """One register of several motors in one round trip."""
        names = self._ids(motors)
        addr, size = self._common_address(register, names)
        ids = [self.motors[n].id for n in names]
        raw = self._call("sync read", self._sdk_sync_read, ids, addr, size, register=register, num_retry=num_retry)
        out = {}
        for name, motor_id in zip(names, ids, strict=True):
            value = self._decode(register, self.motors[name].model, raw[motor_id])
            out[name] = self._normalize(name, value) if normalize and register in NORMALIZED else value
        return out

    def sync_write(self, register: str, values: float | dict[str, float], *, normalize: bool = True,
                   num_retry: int | None = None) -> None:
        """One register of several motors in one packet (no answer expected: fast, for control loops)."""
        if not isinstance(values, dict):
            values = dict.fromkeys(self.motors, values)
        names = list(values)
        addr, size = self._common_address(register, names)
        data = {}
        for name, value in values.items():
            m = self.motors[name]
            raw = self._unnormalize(name, value) if normalize and register in NORMALIZED else int(value)
            data[m.id] = to_bytes(self._encode(register, m.model, raw), size)
        self._call("sync write", self._sdk_sync_write, data, addr, size, register=register, num_retry=num_retry)

    # -- normalisation -------------------------------------------------------------------------
    def _calibration_of(self, motor: str) -> MotorCalibration:
        try:
            return self.calibration[motor]
        except KeyError:
            raise RuntimeError(f"motor '{motor}' at {self.port} has no calibration; calibrate the arm first "
                               "(`lerobot-run specs/so101_calibrate.toml`) or read raw values with "
                               "normalize=False") from None

    def _normalize(self, motor: str, raw: int) -> float:
        m = self.motors[motor]
        return normalize(raw, self._calibration_of(motor), m.norm_mode, resolution=self.resolution[m.model],
                         apply_drive_mode=self.apply_drive_mode, motor=motor)

    def _unnormalize(self, motor: str, value: float) -> int:
        m = self.motors[motor]
        return unnormalize(value, self._calibration_of(motor), m.norm_mode, resolution=self.resolution[m.model],
                           apply_drive_mode=self.apply_drive_mode, motor=motor)

    # -- torque --------------------------------------------------------------------------------
    def enable_torque(self, motors: str | Sequence[str] | None = None, num_retry: int | None = None) -> None:
        for name in self._ids(motors):
            self.write("Torque_Enable", name, 1, num_retry=num_retry)

    def disable_torque(self, motors: str | Sequence[str] | None = None, num_retry: int | None = None) -> None:
        """Torque off on every motor asked, trying them all even when one fails (then raising the first error)."""
        first = None
        for name in self._ids(motors):
            try:
                self._disable_one(name, num_retry)
            except PortUnplugged:
                raise
            except (MotorCommError, MotorStatusError) as exc:
                first = first or exc
        if first is not None:
            raise first

    def _disable_one(self, name: str, num_retry: int | None) -> None:
        self.write("Torque_Enable", name, 0, num_retry=num_retry)

    def torque_enabled(self) -> dict[str, bool]:
        return {n: bool(v) for n, v in self.sync_read("Torque_Enable", normalize=False).items()}

    @contextlib.contextmanager
    def torque_disabled(self, motors: str | Sequence[str] | None = None) -> Iterator[None]:
        """Torque off inside the block (to write EEPROM), back on after it, on every exit path."""
        self.disable_torque(motors)
        try:
            yield
        finally:
            self.enable_torque(motors)
