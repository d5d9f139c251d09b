"""Leader arms moved by hand: SO-100 / SO-101 leader (Feetech) and Koch leader (Dynamixel XL330-M077).
`get_action()` -> {"<joint>.pos": float}, in the units the matching follower expects."""

from __future__ import annotations

from collections.abc import Mapping

from hardware.robots.arm import Arm, ArmLayout
from lerobot_fn.robot import NormMode

SO_LEADER = ArmLayout("so_leader", "teleoperators", "feetech", ("sts3215",) * 6, ("wrist_roll",), 0)
KOCH_LEADER = ArmLayout("koch_leader", "teleoperators", "dynamixel", ("xl330-m077",) * 6,
                        ("shoulder_pan", "wrist_roll"), 4, inverted_joints=("elbow_flex",),
                        body_norm=NormMode.RANGE_M100_100)


class Leader(Arm):
    @property
    def action_features(self) -> dict[str, type]:
        return {f"{j}.pos": float for j in self.joints}

    def get_action(self) -> dict[str, float]:
        return self.read_joints()

    def send_feedback(self, feedback: Mapping[str, float]) -> None:
        goals = {k.removesuffix(".pos"): v for k, v in feedback.items() if k.endswith(".pos")}
        if goals:
            self.bus.sync_write("Goal_Position", goals)

    def enable_torque(self) -> None:
        self.bus.enable_torque()

    def disable_torque(self) -> None:
        self.bus.disable_torque()


class SOLeader(Leader):
    """SO-100 / SO-101 leader (LeRobot's `so100_leader` / `so101_leader`)."""

    layout = SO_LEADER

    def configure(self) -> None:
        self.bus.disable_torque()
        self.bus.configure_motors()
        for joint in self.bus.motors:
            self.bus.write("Operating_Mode", joint, 0, normalize=False)


class KochLeader(Leader):
    """Koch v1.1 leader: the gripper holds `gripper_open_pos` with current-limited torque, a trigger."""

    layout = KOCH_LEADER

    def __init__(self, port, *, gripper_open_pos: float = 50.0, **kwargs):
        super().__init__(port, **kwargs)
        self.gripper_open_pos = gripper_open_pos

    def configure(self) -> None:
        bus = self.bus
        bus.disable_torque()
        bus.configure_motors()
        for joint in bus.motors:
            if joint != "gripper":
                bus.write("Operating_Mode", joint, 4, normalize=False)
        bus.write("Operating_Mode", "gripper", 5, normalize=False)
        bus.enable_torque("gripper")
        if self.calibration:
            bus.write("Goal_Position", "gripper", self.gripper_open_pos)
