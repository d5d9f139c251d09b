"""Stateful hardware shells. Depends on lerobot_fn (the pure maths is in `lerobot_fn.robot`), never the reverse.

- `motors`: `FeetechBus` (scservo_sdk) and `DynamixelBus` (dynamixel_sdk): named registers, retries, clear errors;
- `robots`: `SOFollower` (SO-100 / SO-101), `KochFollower`; `teleoperators`: leaders, keyboard, gamepad;
- `cameras`: threaded `OpenCVCamera`, `SyntheticCamera`; `calibration_files`: LeRobot's calibration files;
- `sim`: simulated servo chains on a pty (`sim://` ports, `python -m hardware.sim`);
- `loops`, `policy_runner`, `jobs`, `specs`: the control loops and the `lerobot-run` hardware jobs.
"""
