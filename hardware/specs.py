"""Schemas of the hardware jobs (`lerobot-run`): find_port, find_cameras, setup_motors, calibrate,
teleoperate, record, replay, run_policy. Importing this module loads no serial, SDK or camera code."""

from __future__ import annotations

from typing import Literal

import attrs

from lerobot_fn.specs.paths import DATASET_OR_HUB, PATH
from lerobot_fn.specs.schema import RunOptions, check, positive, spec_field

from .cameras.config import CameraConfig

ROBOT_TYPES = ("so100_follower", "so101_follower", "koch_follower")
LEADER_TYPES = ("so100_leader", "so101_leader", "koch_leader")
non_negative = check(lambda v: v >= 0, "a number >= 0")
positive_or_unset = check(lambda v: v is None or v > 0, "a number > 0")


@attrs.frozen(kw_only=True)
class RobotConfig:
    """A follower arm (LeRobot's `--robot.*` options)."""

    type: Literal["so100_follower", "so101_follower", "koch_follower"] = spec_field(doc="which arm")
    port: str = spec_field(doc="serial port (/dev/ttyACM0, COM3) or sim://<type> for a simulated arm")
    id: str = spec_field("default", doc="name of this arm: its calibration file is <id>.json")
    cameras: dict[str, CameraConfig] = spec_field(attrs.Factory(dict), doc="cameras by name: [robot.cameras.front]")
    max_relative_target: float | None = spec_field(
        None, doc="safety: the largest step a joint goal may take from where the joint is (normalised units)")
    use_degrees: bool | None = spec_field(
        None, doc="joints in degrees (else -100..100); default as LeRobot: true for SO arms, false for Koch")
    disable_torque_on_disconnect: bool = spec_field(True, doc="turn torque off when the job ends")
    calibration_dir: str | None = spec_field(None, doc="folder of calibration files (default: LeRobot's)",
                                             path=PATH)
    reply_margin_ms: float | None = spec_field(
        None, doc="ms to wait for a motor's reply beyond its transfer time (default: the vendor's, as LeRobot: "
                  "50 ms for Feetech; 250 ms on sim://); raise it for a simulator process on a loaded machine",
        validator=positive_or_unset)


@attrs.frozen(kw_only=True)
class TeleopConfig:
    """What drives the follower: a leader arm, the keyboard or a gamepad (LeRobot's `--teleop.*`)."""

    type: Literal["so100_leader", "so101_leader", "koch_leader", "keyboard", "gamepad"] = spec_field(
        doc="leader arm type, or keyboard / gamepad")
    port: str = spec_field("", doc="leader arm: serial port or sim://<type>; gamepad: /dev/input/js0")
    id: str = spec_field("default", doc="leader arm name (its calibration file is <id>.json)")
    use_degrees: bool | None = spec_field(None, doc="as the follower's (must match it)")
    step: float = spec_field(2.0, doc="keyboard / gamepad: joint step per tick at full press", validator=positive)
    calibration_dir: str | None = spec_field(None, doc="folder of calibration files (default: LeRobot's)",
                                             path=PATH)
    reply_margin_ms: float | None = spec_field(None, doc="leader arm: as the follower's",
                                               validator=positive_or_unset)


@attrs.frozen(kw_only=True)
class PolicyOptions:
    """A trained policy driving the robot."""

    path: str = spec_field(doc="a pretrained_model directory (LeRobot's layout), a Hub repo id, or sample:act_so101 "
                                   "(an untrained ACT for the simulated SO-101, made on first use)", path=DATASET_OR_HUB)
    device: str = spec_field("cpu", doc="torch device for inference")
    actions_per_chunk: int | None = spec_field(
        None, doc="actions played from each chunk (default: the policy's n_action_steps)")
    blend_steps: int = spec_field(4, doc="length of the cross-fade between consecutive chunks", validator=non_negative)
    worker: Literal["process", "thread"] = spec_field(
        "process", doc="where chunks are predicted: a separate lower-priority process (no GIL shared with the "
                       "control loop), or a thread of the job's process")
    torch_threads: int | None = spec_field(
        None, doc="torch threads of the worker process (default: all cores but one, at most 4)",
        validator=positive_or_unset)


@attrs.frozen(kw_only=True)
class DatasetOptions:
    """Where and what to record (LeRobot's `--dataset.*`)."""

    repo_id: str = spec_field(doc="dataset name, user/name (also the Hub repo when pushing)")
    root: str | None = spec_field(None, doc="dataset folder (default: $HF_LEROBOT_HOME/<repo_id>)", path=PATH)
    single_task: str = spec_field(doc="the task, in words, stored with every frame")
    fps: int = spec_field(30, doc="frames per second of the control loop and the dataset", validator=positive)
    num_episodes: int = spec_field(50, doc="episodes to record", validator=positive)
    episode_time_s: float = spec_field(60.0, doc="length of each episode", validator=positive)
    reset_time_s: float = spec_field(60.0, doc="time to reset the scene between episodes", validator=non_negative)
    video: bool = spec_field(True, doc="store cameras as video (false: PNG images)")
    push_to_hub: bool = spec_field(False, doc="upload the dataset to the Hub at the end")
    private: bool = spec_field(False, doc="make the Hub repo private")
    tags: list[str] = spec_field(attrs.Factory(list), doc="tags of the Hub dataset (besides LeRobot)")


@attrs.frozen(kw_only=True)
class _Job:
    run: RunOptions = spec_field(attrs.Factory(RunOptions), doc="run directory, seed and device")


@attrs.frozen(kw_only=True)
class FindPortSpec(_Job):
    """Find an arm's serial port: lists the ports, then asks you to unplug the arm and names the one that left."""


@attrs.frozen(kw_only=True)
class FindCamerasSpec(_Job):
    """List the cameras OpenCV can open, with their size and frame rate."""


@attrs.frozen(kw_only=True)
class ArmTarget:
    """One arm: a follower or a leader."""

    type: Literal["so100_follower", "so101_follower", "koch_follower", "so100_leader", "so101_leader",
                  "koch_leader"] = spec_field(doc="arm type")
    port: str = spec_field(doc="serial port or sim://<type>")
    id: str = spec_field("default", doc="arm name (calibration file <id>.json)")
    use_degrees: bool | None = spec_field(None, doc="joints in degrees (default as LeRobot for the type)")
    calibration_dir: str | None = spec_field(None, doc="folder of calibration files (default: LeRobot's)",
                                             path=PATH)


@attrs.frozen(kw_only=True)
class SetupMotorsSpec(_Job):
    """Give each motor of a new arm its id and baud rate, one motor at a time (gripper first)."""

    arm: ArmTarget = spec_field(doc="the arm to set up")


@attrs.frozen(kw_only=True)
class CalibrateSpec(_Job):
    """Calibrate an arm (centre it, move every joint through its range) and save LeRobot's calibration file."""

    arm: ArmTarget = spec_field(doc="the arm to calibrate")
    range_time_s: float | None = spec_field(
        None, doc="record ranges for this long instead of until Enter (no terminal needed)")


@attrs.frozen(kw_only=True)
class TeleoperateSpec(_Job):
    """Drive the follower with a leader arm (or keyboard / gamepad) at a fixed rate, showing the joints."""

    robot: RobotConfig = spec_field(doc="the follower")
    teleop: TeleopConfig = spec_field(doc="the leader")
    fps: int = spec_field(30, doc="control rate", validator=positive)
    duration_s: float | None = spec_field(None, doc="stop after this long (default: until Ctrl-C)")
    display_every_s: float = spec_field(1.0, doc="print the joints this often (0: never)", validator=non_negative)


@attrs.frozen(kw_only=True)
class RecordSpec(_Job):
    """Record episodes into a LeRobotDataset v3.0, teleoperated or policy-driven; right arrow ends an episode
    early, left arrow re-records it, Esc stops. `lerobot-run --resume RUN_DIR` appends to the dataset."""

    robot: RobotConfig = spec_field(doc="the follower")
    dataset: DatasetOptions = spec_field(doc="what to record and where")
    teleop: TeleopConfig | None = spec_field(None, doc="the leader (or keyboard / gamepad); needed without a policy")
    policy: PolicyOptions | None = spec_field(None, doc="a policy to drive the robot instead of a person")
    resume: bool = spec_field(False, doc="append to an existing dataset at the same root")
    keyboard_controls: bool = spec_field(True, doc="listen for the arrow keys / Esc on the terminal")


@attrs.frozen(kw_only=True)
class ReplaySpec(_Job):
    """Play a recorded episode's actions on the follower at the dataset's rate."""

    robot: RobotConfig = spec_field(doc="the follower")
    repo_id: str = spec_field(doc="dataset name")
    root: str | None = spec_field(None, doc="dataset folder (default: $HF_LEROBOT_HOME/<repo_id>)", path=PATH)
    episode: int = spec_field(0, doc="episode index", validator=non_negative)


@attrs.frozen(kw_only=True)
class RunPolicySpec(_Job):
    """Run a policy on the follower (chunks computed ahead in a background worker), without recording."""

    robot: RobotConfig = spec_field(doc="the follower")
    policy: PolicyOptions = spec_field(doc="the policy")
    fps: int = spec_field(30, doc="control rate", validator=positive)
    duration_s: float = spec_field(30.0, doc="how long to run", validator=positive)
    task: str | None = spec_field(None, doc="task text, for language-conditioned policies")
