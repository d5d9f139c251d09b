"""Robots and teleoperators from spec tables (`[robot]`, `[teleop]`, `[arm]`), with LeRobot's defaults."""

from __future__ import annotations

from .specs import ArmTarget, RobotConfig, TeleopConfig


def _degrees(use_degrees: bool | None, arm_type: str) -> bool:
    return (not arm_type.startswith("koch")) if use_degrees is None else use_degrees


def robot_from(cfg: RobotConfig):
    from .robots import make_robot

    return make_robot(cfg.type, port=cfg.port, id=cfg.id, cameras=cfg.cameras,
                      max_relative_target=cfg.max_relative_target, use_degrees=_degrees(cfg.use_degrees, cfg.type),
                      calibration_dir=cfg.calibration_dir, reply_margin_ms=cfg.reply_margin_ms,
                      disable_torque_on_disconnect=cfg.disable_torque_on_disconnect)


def teleop_from(cfg: TeleopConfig, joints: list[str] | None = None):
    from .teleoperators import make_teleoperator

    if cfg.type in ("keyboard", "gamepad"):
        kwargs = {"joints": joints, "step": cfg.step}
        if cfg.type == "gamepad" and cfg.port:
            kwargs["device"] = cfg.port
        return make_teleoperator(cfg.type, **kwargs)
    if not cfg.port:
        raise ValueError(f"[teleop] type '{cfg.type}' needs a port (a serial device or sim://{cfg.type})")
    return make_teleoperator(cfg.type, port=cfg.port, id=cfg.id, use_degrees=_degrees(cfg.use_degrees, cfg.type),
                             calibration_dir=cfg.calibration_dir, reply_margin_ms=cfg.reply_margin_ms)


def arm_from(cfg: ArmTarget):
    if cfg.type.endswith("follower"):
        from .robots import make_robot

        return make_robot(cfg.type, port=cfg.port, id=cfg.id, use_degrees=_degrees(cfg.use_degrees, cfg.type),
                          calibration_dir=cfg.calibration_dir)
    from .teleoperators import make_teleoperator

    return make_teleoperator(cfg.type, port=cfg.port, id=cfg.id, use_degrees=_degrees(cfg.use_degrees, cfg.type),
                             calibration_dir=cfg.calibration_dir)
