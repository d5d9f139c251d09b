"""Follower arms: `SOFollower` (SO-100 / SO-101), `KochFollower`; `make_robot(type, ...)` by LeRobot type name."""

from .arm import JOINTS, Arm, ArmLayout
from .follower import Follower, KochFollower, SOFollower

ROBOT_TYPES = {"so100_follower": SOFollower, "so101_follower": SOFollower, "koch_follower": KochFollower}


def make_robot(type: str, **kwargs) -> Follower:
    try:
        cls = ROBOT_TYPES[type]
    except KeyError:
        raise ValueError(f"unknown robot type {type!r}; known: {', '.join(ROBOT_TYPES)}") from None
    return cls(**kwargs)


__all__ = ["JOINTS", "ROBOT_TYPES", "Arm", "ArmLayout", "Follower", "KochFollower", "SOFollower", "make_robot"]
