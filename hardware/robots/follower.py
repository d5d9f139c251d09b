"""Follower arms: SO-100 / SO-101 (Feetech STS3215) and Koch (Dynamixel XL430 / XL330), with cameras.

`get_observation()` -> {"<joint>.pos": float, "<camera>": uint8 HWC}; `send_action(action)` clamps the
goal with `max_relative_target` and returns what was sent. Same keys, units and defaults as LeRobot 0.6.1.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from hardware.cameras import CameraConfig, make_camera
from lerobot_fn.robot import clamp_relative

from .arm import Arm, ArmLayout

log = logging.getLogger(__name__)

SO_FOLLOWER = ArmLayout("so_follower", "robots", "feetech", ("sts3215",) * 6, ("wrist_roll",), 0)
KOCH_FOLLOWER = ArmLayout("koch_follower", "robots", "dynamixel",
                          ("xl430-w250", "xl430-w250", "xl330-m288", "xl330-m288", "xl330-m288", "xl330-m288"),
                          ("shoulder_pan", "wrist_roll"), 4)


class Follower(Arm):
    def __init__(self, port: str, *, id: str = "default", cameras: Mapping[str, CameraConfig] | None = None,
                 max_relative_target: float | Mapping[str, float] | None = None, use_degrees: bool = True,
                 calibration_dir: str | Path | None = None, disable_torque_on_disconnect: bool = True,
                 reply_margin_ms: float | None = None):
        super().__init__(port, id=id, use_degrees=use_degrees, calibration_dir=calibration_dir,
                         disable_torque_on_disconnect=disable_torque_on_disconnect, reply_margin_ms=reply_margin_ms)
        self.max_relative_target = max_relative_target
        self.camera_configs = dict(cameras or {})
        self.cameras = {name: make_camera(cfg, name) for name, cfg in self.camera_configs.items()}

    @property
    def observation_features(self) -> dict[str, type | tuple]:
        return {**{f"{j}.pos": float for j in self.joints},
                **{n: (c.height, c.width, 3) for n, c in self.camera_configs.items()}}

    @property
    def action_features(self) -> dict[str, type]:
        return {f"{j}.pos": float for j in self.joints}

    @property
    def is_connected(self) -> bool:
        return self.bus.is_connected and all(c.is_connected for c in self.cameras.values())

    def connect(self, calibrate=True, ui=None) -> None:
        super().connect(calibrate, ui)
        try:
            for camera in self.cameras.values():
                camera.connect()
        except BaseException:
            self.disconnect()
            raise

    def disconnect(self) -> None:
        try:
            super().disconnect()
        finally:
            for camera in self.cameras.values():
                camera.disconnect()

    def get_observation(self, camera_max_age_ms: float = 500.0) -> dict:
        obs = self.read_joints()
        for name, camera in self.cameras.items():
            obs[name] = camera.read_latest(max_age_ms=camera_max_age_ms)
        return obs

    def send_action(self, action: Mapping[str, float]) -> dict[str, float]:
        """Command joint goals (`<joint>.pos` keys); returns the goals actually sent (after the clamp)."""
        goal = {k.removesuffix(".pos"): float(v) for k, v in action.items() if k.endswith(".pos")}
        unknown = set(goal) - set(self.joints)
        if unknown:
            raise KeyError(f"{self}: no joints {sorted(unknown)}; joints are {self.joints}")
        if self.max_relative_target is not None:
            present = self.bus.sync_read("Present_Position", list(goal), num_retry=2)
            caps = self.max_relative_target
            if isinstance(caps, Mapping):
                caps = {j: caps[j] for j in goal}
            goal, clamped = clamp_relative(goal, present, caps)
            if clamped:
                log.warning("%s: goals clamped by max_relative_target: %s", self,
                            {j: f"{a:.1f} -> {s:.1f}" for j, (a, s) in clamped.items()})
        self.bus.sync_write("Goal_Position", goal)
        return {f"{j}.pos": v for j, v in goal.items()}


class SOFollower(Follower):
    """SO-100 / SO-101 follower (LeRobot's `so100_follower` / `so101_follower`)."""

    layout = SO_FOLLOWER

    def __init__(self, port, *, position_p_coefficient: int = 16, position_i_coefficient: int = 0,
                 position_d_coefficient: int = 32, **kwargs):
        super().__init__(port, **kwargs)
        self.pid = (position_p_coefficient, position_i_coefficient, position_d_coefficient)

    def configure(self) -> None:
        bus = self.bus
        with bus.torque_disabled():
            bus.configure_motors()
            for joint in bus.motors:
                bus.write("Operating_Mode", joint, 0, normalize=False)
                bus.write("P_Coefficient", joint, self.pid[0], normalize=False)
                bus.write("I_Coefficient", joint, self.pid[1], normalize=False)
                bus.write("D_Coefficient", joint, self.pid[2], normalize=False)
            bus.write("Max_Torque_Limit", "gripper", 500, normalize=False)  # 50 %: no burnt gripper
            bus.write("Protection_Current", "gripper", 250, normalize=False)
            bus.write("Overload_Torque", "gripper", 25, normalize=False)


class KochFollower(Follower):
    """Koch v1.1 follower (LeRobot's `koch_follower`; normalised in -100..100 unless use_degrees)."""

    layout = KOCH_FOLLOWER

    def __init__(self, port, *, use_degrees: bool = False, **kwargs):
        super().__init__(port, use_degrees=use_degrees, **kwargs)

    def configure(self) -> None:
        bus = self.bus
        with bus.torque_disabled():
            bus.configure_motors()
            for joint in bus.motors:
                if joint != "gripper":
                    bus.write("Operating_Mode", joint, 4, normalize=False)  # extended position
            bus.write("Operating_Mode", "gripper", 5, normalize=False)  # current-based position
            bus.write("Position_P_Gain", "elbow_flex", 1500, normalize=False)
            bus.write("Position_I_Gain", "elbow_flex", 0, normalize=False)
            bus.write("Position_D_Gain", "elbow_flex", 600, normalize=False)
