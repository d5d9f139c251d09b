"""Simulated arms: each robot's real motor ids and models on its real protocol, as a `ServoChain`.

`so100_follower`, `so101_follower`, `so100_leader`, `so101_leader`: six Feetech STS3215, ids 1-6,
1 Mbps. `koch_follower`: XL430-W250 (ids 1-2) and XL330-M288 (3-6); `koch_leader`: six
XL330-M077; both at 1 Mbps. `factory=True` gives the same motors straight out of the box (all id 1,
at the vendor's default baud rate: 1 Mbps Feetech, 57600 bps Dynamixel), one plugged in at a time,
as `setup_motors` expects. Leaders move by themselves (a hand moving them) unless `motion="still"`.
"""

from __future__ import annotations

from hardware.motors import dynamixel_tables as dxt
from hardware.motors import feetech_tables as ftt

from .chain import ServoChain
from .servo import DynamixelServo, FeetechServo, wave

JOINTS = ("shoulder_pan", "shoulder_lift", "elbow_flex", "wrist_flex", "wrist_roll", "gripper")
MODELS = {
    "so100_follower": ["sts3215"] * 6,
    "so101_follower": ["sts3215"] * 6,
    "so100_leader": ["sts3215"] * 6,
    "so101_leader": ["sts3215"] * 6,
    "koch_follower": ["xl430-w250", "xl430-w250", "xl330-m288", "xl330-m288", "xl330-m288", "xl330-m288"],
    "koch_leader": ["xl330-m077"] * 6,
}
REST_POSE = (2048.0, 1400.0, 2900.0, 2300.0, 2048.0, 2100.0)  # shaft ticks of an arm lying at rest
AMPLITUDE = (500.0, 350.0, 350.0, 400.0, 600.0, 250.0)
PERIOD_S = (4.0, 5.0, 3.5, 3.0, 6.0, 2.5)
ROBOTS = tuple(MODELS)


def protocol_of(robot: str) -> str:
    return "dynamixel" if robot.startswith("koch") else "feetech"


def make_chain(robot: str, *, motion: str | None = None, speed: float = 3000.0, factory: bool = False) -> ServoChain:
    """The servo chain of `robot`; `motion`: "wave" (a hand moves every joint) or "still"."""
    if robot not in MODELS:
        raise ValueError(f"no simulated robot {robot!r}; known: {', '.join(ROBOTS)}")
    motion = motion or ("wave" if robot.endswith("leader") else "still")
    if motion not in ("wave", "still"):
        raise ValueError(f"motion must be 'wave' or 'still', got {motion!r}")
    dynamixel = protocol_of(robot) == "dynamixel"
    servo_cls = DynamixelServo if dynamixel else FeetechServo
    baud_table = dxt.BAUDRATE_TABLE if dynamixel else ftt.BAUDRATE_TABLE
    baud = (dxt.BAUDRATE_TABLE[57_600] if factory else dxt.BAUDRATE_TABLE[1_000_000]) if dynamixel else 0
    servos = []
    for i, model in enumerate(MODELS[robot]):
        hand = wave(REST_POSE[i], AMPLITUDE[i], PERIOD_S[i], phase=i) if motion == "wave" else None
        servos.append(servo_cls(model, motor_id=1 if factory else i + 1, baud_index=baud,
                                position=hand(0.0) if hand else REST_POSE[i], speed=speed, motion=hand))
    chain = ServoChain(servos, baud_table=baud_table, joints=JOINTS)
    if factory:
        chain.attach_only(JOINTS[-1])
    return chain
