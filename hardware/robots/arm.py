"""What followers and leaders share: a motor bus with named joints, its calibration file, the
calibration procedure, connect / disconnect with torque off on every exit path."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Self

import attrs

from hardware import calibration_files
from hardware.calibration_ui import CalibrationUI, ConsoleUI
from hardware.motors import Motor, MotorsBus
from lerobot_fn.robot import MotorCalibration, NormMode
from lerobot_fn.robot.calibration import check_ranges, update_ranges

log = logging.getLogger(__name__)

JOINTS = ("shoulder_pan", "shoulder_lift", "elbow_flex", "wrist_flex", "wrist_roll", "gripper")


@attrs.frozen
class ArmLayout:
    """The motors of an arm type and how it is calibrated (as LeRobot 0.6.1 does for that arm)."""

    name: str  # LeRobot's class `name`: the calibration folder (so_follower, koch_leader, ...)
    category: str  # "robots" or "teleoperators"
    vendor: str  # "feetech" or "dynamixel"
    models: tuple[str, ...]
    full_turn_joints: tuple[str, ...]  # ranges not recorded: set to the whole turn
    calibration_operating_mode: int  # Feetech position mode 0; Dynamixel extended position 4
    inverted_joints: tuple[str, ...] = ()  # drive mode 1 (the Koch leader's elbow)
    body_norm: NormMode | None = None  # fixed body normalisation (Koch leader); None: from use_degrees

    def motors(self, use_degrees: bool) -> dict[str, Motor]:
        body = self.body_norm or (NormMode.DEGREES if use_degrees else NormMode.RANGE_M100_100)
        return {j: Motor(i + 1, m, NormMode.RANGE_0_100 if j == "gripper" else body)
                for i, (j, m) in enumerate(zip(JOINTS, self.models, strict=True))}

    def bus_class(self) -> type[MotorsBus]:
        if self.vendor == "feetech":
            from hardware.motors.feetech import FeetechBus

            return FeetechBus
        from hardware.motors.dynamixel import DynamixelBus

        return DynamixelBus


class Arm:
    """A connected arm; subclasses add observations/actions (followers) or actions/feedback (leaders).

    reply_margin_ms: how long the bus waits for a motor's status packet beyond the packet's transfer time
    (None: the bus's default, as LeRobot's: 50 ms for Feetech, the SDK's own for Dynamixel, 250 ms on a
    sim:// port). Raise it when the motors are served by a process that may be starved of CPU (a
    `python -m hardware.sim` on a loaded machine); a real arm answers well within the default.
    """

    layout: ArmLayout

    def __init__(self, port: str, *, id: str = "default", use_degrees: bool = True,
                 calibration_dir: str | Path | None = None, disable_torque_on_disconnect: bool = True,
                 reply_margin_ms: float | None = None):
        self.port, self.id = port, id
        self.disable_torque_on_disconnect = disable_torque_on_disconnect
        if calibration_dir:
            self.calibration_path = Path(calibration_dir) / f"{id}.json"
        else:
            self.calibration_path = calibration_files.path_for(self.layout.category, self.layout.name, id)
        self.calibration = calibration_files.load(self.calibration_path) or {}
        self.bus = self.layout.bus_class()(port, self.layout.motors(use_degrees), self.calibration,
                                           reply_margin_ms=reply_margin_ms)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(port={self.port!r}, id={self.id!r})"

    @property
    def joints(self) -> list[str]:
        return list(self.bus.motors)

    @property
    def is_connected(self) -> bool:
        return self.bus.is_connected

    # -- connection ----------------------------------------------------------------------------
    def connect(self, calibrate: bool = True, ui: CalibrationUI | None = None) -> None:
        """Open the bus, make sure the motors hold this arm's calibration, configure them.

        With a calibration file, its values are written to motors that differ. Without one, the arm is
        calibrated through `ui` (the terminal when there is one, a simulated hand on a sim:// port) or,
        with neither, a clear error says how to calibrate.
        """
        self.bus.connect()
        try:
            if self.calibration and not self.bus.is_calibrated:
                log.info("%s: writing the calibration of %s to the motors", self, self.calibration_path)
                self.bus.disable_torque()
                self.bus.write_calibration(self.calibration)
            elif not self.calibration and calibrate:
                self.calibrate(ui or self.default_ui())
            self.configure()
        except BaseException:
            self.disconnect()
            raise

    def default_ui(self) -> CalibrationUI:
        """How to calibrate here: a simulated hand on a sim:// port, else the terminal, else a clear error."""
        from hardware.sim import is_sim_port

        if is_sim_port(self.port):
            from hardware.sim.hand import SimHand

            return SimHand(self.port)
        if sys.stdin.isatty():
            return ConsoleUI()
        raise RuntimeError(f"{self} has no calibration ({self.calibration_path} does not exist) and no terminal to "
                           "calibrate it from: run the calibrate job first (`lerobot-run specs/so101_calibrate.toml`, "
                           "or koch_calibrate.toml) with this port and id")

    def disconnect(self) -> None:
        """Torque off (unless disabled in the config) and close the port; safe to call twice."""
        self.bus.disconnect(disable_torque=self.disable_torque_on_disconnect)

    def __enter__(self) -> Self:
        if not self.is_connected:
            self.connect()
        return self

    def __exit__(self, *exc) -> None:
        self.disconnect()

    # -- calibration ---------------------------------------------------------------------------
    def calibrate(self, ui: CalibrationUI) -> dict[str, MotorCalibration]:
        """LeRobot's procedure: torque off, centre the arm (half-turn homing), record each joint's range of
        motion (full-turn joints get the whole turn), write it to the motors and save the file."""
        bus, layout = self.bus, self.layout
        bus.disable_torque()
        for joint in bus.motors:
            bus.write("Operating_Mode", joint, layout.calibration_operating_mode, normalize=False)
        for joint in layout.inverted_joints:
            bus.write("Drive_Mode", joint, 1, normalize=False)
        ui.wait(f"Move {self} to the middle of its range of motion.")
        offsets = bus.set_half_turn_homings()
        recorded = [j for j in bus.motors if j not in layout.full_turn_joints]
        ui.start_recording(f"Move every joint except {list(layout.full_turn_joints)} through its whole range.")
        positions = bus.sync_read("Present_Position", recorded, normalize=False, num_retry=5)
        mins, maxes = dict(positions), dict(positions)
        while ui.keep_recording(positions, mins, maxes):
            positions = bus.sync_read("Present_Position", recorded, normalize=False, num_retry=5)
            mins, maxes = update_ranges(mins, maxes, positions)
        check_ranges(mins, maxes)
        for joint in layout.full_turn_joints:
            mins[joint], maxes[joint] = 0, bus.resolution[bus.motors[joint].model] - 1
        calibration = {j: MotorCalibration(id=m.id, drive_mode=int(j in layout.inverted_joints),
                                           homing_offset=offsets[j], range_min=mins[j], range_max=maxes[j])
                       for j, m in bus.motors.items()}
        bus.write_calibration(calibration)
        self.calibration = calibration
        calibration_files.save(self.calibration_path, calibration)
        log.info("%s: calibration saved to %s", self, self.calibration_path)
        return calibration

    def configure(self) -> None:
        raise NotImplementedError

    # -- shared reads --------------------------------------------------------------------------
    def read_joints(self) -> dict[str, float]:
        """Normalised joint positions as `<joint>.pos` (LeRobot's keys)."""
        return {f"{j}.pos": v for j, v in self.bus.sync_read("Present_Position", num_retry=2).items()}

    def setup_motors(self, prompt) -> None:
        """One motor at a time (gripper first, as LeRobot): `prompt(joint)` asks the user to connect only it."""
        for joint in reversed(self.bus.motors):
            prompt(joint)
            self.bus.setup_motor(joint)
        if self.bus.is_connected:
            self.bus.disconnect(disable_torque=False)
