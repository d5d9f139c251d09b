"""The calibration and motor-setup half of a `MotorsBus` (a mixin: it uses the bus's registers and SDK calls).

Calibration as LeRobot does it: reset (homing 0, full range), half-turn homing at the present pose, then
the ranges recorded by the caller; setup gives the one connected motor its joint's id and the bus's baud
rate, finding it first by broadcast pings at every baud rate the vendor supports.
"""

from __future__ import annotations

from collections.abc import Sequence

from lerobot_fn.robot import MotorCalibration, half_turn_homing, to_bytes

from .errors import CHECK_LINK, MotorCommError


class CalibrationAndSetup:
    # -- calibration ---------------------------------------------------------------------------
    def read_calibration(self) -> dict[str, MotorCalibration]:
        raise NotImplementedError

    def write_calibration(self, calibration: dict[str, MotorCalibration], cache: bool = True) -> None:
        raise NotImplementedError

    @property
    def is_calibrated(self) -> bool:
        """The calibration held here is the one in the motors."""
        return bool(self.calibration) and self.read_calibration() == {n: self.calibration.get(n) for n in self.motors}

    def reset_calibration(self, motors: Sequence[str] | None = None) -> None:
        for name in self._ids(motors):
            max_res = self.resolution[self.motors[name].model] - 1
            self.write("Homing_Offset", name, 0, normalize=False)
            self.write("Min_Position_Limit", name, 0, normalize=False)
            self.write("Max_Position_Limit", name, max_res, normalize=False)
        self.calibration = {}

    def set_half_turn_homings(self, motors: Sequence[str] | None = None) -> dict[str, int]:
        """Make every joint's present position read half a turn (2047) where it is now."""
        names = self._ids(motors)
        self.reset_calibration(names)
        positions = self.sync_read("Present_Position", names, normalize=False)
        offsets = {n: half_turn_homing(p, self.resolution[self.motors[n].model],
                                       present_is_actual_minus_offset=self.homing_is_subtracted)
                   for n, p in positions.items()}
        for name, offset in offsets.items():
            self.write("Homing_Offset", name, offset, normalize=False)
        return offsets

    # -- motor setup ---------------------------------------------------------------------------
    def find_single_motor(self, motor: str, initial_baudrate: int | None = None) -> tuple[int, int]:
        """(baud rate, id) of the only motor on the bus, scanning baud rates with broadcast pings."""
        model = self.motors[motor].model
        expected = self.model_number[model]
        for baud in [initial_baudrate] if initial_baudrate else list(self.baudrate_table):
            self.set_baudrate(baud)
            found = self.broadcast_ping()
            if len(found) > 1:
                raise MotorCommError(f"{len(found)} motors answered at {baud} bps on {self.port} (ids "
                                     f"{sorted(found)}); connect only the '{motor}' motor", port=self.port)
            if found:
                found_id, number = next(iter(found.items()))
                if number != expected:
                    raise MotorCommError(f"the motor found at {baud} bps (id {found_id}) is model number {number}, "
                                         f"expected {expected} ({model}) for '{motor}': connect the right motor",
                                         port=self.port, motor=motor, motor_id=found_id)
                return baud, found_id
        raise MotorCommError(f"no motor answered on {self.port} at any of {list(self.baudrate_table)} bps while "
                             f"looking for '{motor}' ({model}): " + CHECK_LINK.format(baud="every"),
                             port=self.port, motor=motor)

    def setup_motor(self, motor: str, initial_baudrate: int | None = None, initial_id: int | None = None) -> None:
        """Give the only connected motor this joint's id and the bus's default baud rate."""
        if not self.is_connected:
            self.connect(handshake=False)
        if initial_baudrate is None or initial_id is None:
            initial_baudrate, initial_id = self.find_single_motor(motor, initial_baudrate)
        self.set_baudrate(initial_baudrate)
        target = self.motors[motor]
        self._raw_write(initial_id, target.model, "Torque_Enable", 0)
        self._unlock(initial_id, target.model)
        self._raw_write(initial_id, target.model, "ID", target.id)
        self._raw_write(target.id, target.model, "Baud_Rate", self.baudrate_table[self.default_baudrate])
        self.set_baudrate(self.default_baudrate)
        if self.ping(target.id, num_retry=2) is None:
            raise MotorCommError(f"'{motor}' does not answer at id {target.id}, {self.default_baudrate} bps after "
                                 "setup; power-cycle it and run the setup again", port=self.port, motor=motor,
                                 motor_id=target.id)

    def _unlock(self, motor_id: int, model: str) -> None:
        pass

    def _raw_write(self, motor_id: int, model: str, register: str, value: int) -> None:
        addr, size = self.address(register, model)
        self._call("write", self._sdk_write, motor_id, addr, size, to_bytes(value, size), motor_id=motor_id,
                   register=register)

    def scan(self) -> dict[int, dict[int, int]]:
        """{baud rate: {id: model number}} of every motor found at every baud rate the vendor supports."""
        out = {}
        for baud in self.scan_baudrates:
            self.set_baudrate(baud)
            found = self.broadcast_ping()
            if found:
                out[baud] = found
        return out
