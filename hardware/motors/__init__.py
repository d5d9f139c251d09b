"""Motor buses: `FeetechBus` (scservo_sdk) and `DynamixelBus` (dynamixel_sdk), imported on first use so
that `import hardware.motors` does not load a vendor SDK."""

from .bus import Motor, MotorsBus
from .errors import MotorBusError, MotorCommError, MotorStatusError, PortUnplugged

__all__ = ["DynamixelBus", "FeetechBus", "Motor", "MotorBusError", "MotorCommError", "MotorStatusError", "MotorsBus",
           "PortUnplugged"]


def __getattr__(name):
    if name == "FeetechBus":
        from .feetech import FeetechBus

        return FeetechBus
    if name == "DynamixelBus":
        from .dynamixel import DynamixelBus

        return DynamixelBus
    raise AttributeError(name)
