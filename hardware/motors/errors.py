"""Errors of a motor bus: each names the port, the motor (name and id) and the register, and says
what to check. `MotorCommError` (no or garbled answer) is a ConnectionError; `MotorStatusError`
(the motor answered with an error bit set) a RuntimeError; `PortUnplugged` when the device vanished."""

from __future__ import annotations

CHECK_LINK = ("check that the arm's power supply is on (USB alone does not power the motors), the cable "
              "to this motor is plugged in at both ends, the bus baud rate matches the motor's "
              "({baud} bps here; `lerobot-run specs/so101_setup_motors.toml` sets ids and baud rates), and "
              "the motor id is right")
CHECK_GARBLED = ("the answer arrived damaged: check the cable and its connectors, that no other program "
                 "has the port open, and the baud rate ({baud} bps here)")


class MotorBusError(Exception):
    """Base of the bus errors; `.port`, `.motor`, `.motor_id`, `.register` say where."""

    def __init__(self, message: str, *, port: str, motor: str | None = None, motor_id: int | None = None,
                 register: str | None = None):
        super().__init__(message)
        self.port, self.motor, self.motor_id, self.register = port, motor, motor_id, register


class MotorCommError(MotorBusError, ConnectionError):
    pass


class MotorStatusError(MotorBusError, RuntimeError):
    pass


class PortUnplugged(MotorBusError, ConnectionError):
    pass


def where(port: str, motor: str | None, motor_id: int | None, register: str | None) -> str:
    parts = []
    if register:
        parts.append(f"'{register}'")
    if motor is not None or motor_id is not None:
        parts.append(f"on motor '{motor}' (id {motor_id})" if motor else f"on motor id {motor_id}")
    parts.append(f"at port {port}")
    return " ".join(parts)
