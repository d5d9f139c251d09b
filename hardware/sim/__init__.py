"""Servo simulator: Feetech SCS/STS and Dynamixel 2.0 chains on a pseudo-terminal.

`python -m hardware.sim --robot so101_follower --link /tmp/so101` serves one until killed; robots
accept `sim://so101_follower` ports to start one in-process (`hardware.sim.ports`).
"""

from .chain import CORRUPT, NO_REPLY, SHORT, ServoChain
from .ports import is_sim_port, open_sim, release, release_all, running
from .robots import JOINTS, ROBOTS, make_chain, protocol_of
from .server import SimServer
from .servo import DynamixelServo, FeetechServo, SimServo, wave

__all__ = ["CORRUPT", "JOINTS", "NO_REPLY", "ROBOTS", "SHORT", "DynamixelServo", "FeetechServo", "ServoChain", "SimServer",
           "SimServo", "is_sim_port", "make_chain", "open_sim", "protocol_of", "release", "release_all", "running",
           "wave"]
