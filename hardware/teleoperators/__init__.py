"""Teleoperators: leader arms (`SOLeader`, `KochLeader`), `KeyboardTeleop`, `GamepadTeleop`; `make_teleoperator`."""

from .leader import KochLeader, Leader, SOLeader

TELEOP_TYPES = {"so100_leader": SOLeader, "so101_leader": SOLeader, "koch_leader": KochLeader}


def make_teleoperator(type: str, **kwargs):
    if type == "keyboard":
        from .keyboard import KeyboardTeleop

        return KeyboardTeleop(**kwargs)
    if type == "gamepad":
        from .gamepad import GamepadTeleop

        return GamepadTeleop(**kwargs)
    try:
        cls = TELEOP_TYPES[type]
    except KeyError:
        raise ValueError(f"unknown teleoperator type {type!r}; known: {', '.join([*TELEOP_TYPES, 'keyboard', 'gamepad'])}"
                         ) from None
    return cls(**kwargs)


__all__ = ["TELEOP_TYPES", "KochLeader", "Leader", "SOLeader", "make_teleoperator"]
