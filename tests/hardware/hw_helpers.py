"""Helpers for the hardware tests (imported by name: tests/ has no packages)."""

from __future__ import annotations

from hardware import sim

JOINTS = sim.JOINTS
KOCH_FOLLOWER_MODELS = ["xl430-w250", "xl430-w250", "xl330-m288", "xl330-m288", "xl330-m288", "xl330-m288"]


def chain_of(port: str) -> sim.ServoChain:
    server = sim.running(port)
    assert server is not None, f"no simulator running for {port}"
    return server.chain


def assert_torque_off(port: str) -> None:
    assert not any(s.torque for s in chain_of(port).servos), "a motor kept its torque after disconnect"


def write_calibration(home, category: str, name: str, device_id: str, *, drive_modes: dict | None = None) -> dict:
    """A plausible calibration file (factory homing, ranges around the simulated rest pose) so a robot
    connects without calibrating first; returns it."""
    from hardware import calibration_files
    from hardware.sim.robots import REST_POSE
    from lerobot_fn.robot import MotorCalibration

    calibration = {j: MotorCalibration(i + 1, (drive_modes or {}).get(j, 0), 0, int(REST_POSE[i]) - 900,
                                       int(REST_POSE[i]) + 900) for i, j in enumerate(JOINTS)}
    calibration_files.save(home / "calibration" / category / name / f"{device_id}.json", calibration)
    return calibration
