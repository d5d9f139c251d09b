"""The `max_relative_target` safety clamp: never command a joint further than a set distance from
where it is now (LeRobot's `ensure_safe_goal_position`, in the motors' normalised units)."""

from __future__ import annotations

from collections.abc import Mapping


def clamp_relative(
    goal: Mapping[str, float], present: Mapping[str, float], max_relative_target: float | Mapping[str, float]
) -> tuple[dict[str, float], dict[str, tuple[float, float]]]:
    """(safe goals, {joint: (asked, sent)} for the joints that were clamped).

    `max_relative_target`: one number for every joint or a mapping joint -> number with exactly the
    goal's joints (LeRobot refuses other keys; so do we, naming them).
    """
    if isinstance(max_relative_target, Mapping):
        if set(max_relative_target) != set(goal):
            raise ValueError(f"max_relative_target keys {sorted(max_relative_target)} must match the action's "
                             f"joints {sorted(goal)}")
        caps = {k: float(v) for k, v in max_relative_target.items()}
    elif isinstance(max_relative_target, (int, float)) and not isinstance(max_relative_target, bool):
        caps = dict.fromkeys(goal, float(max_relative_target))
    else:
        raise TypeError(f"max_relative_target must be a number or a mapping joint -> number, "
                        f"got {max_relative_target!r}")
    if any(c < 0 for c in caps.values()):
        raise ValueError(f"max_relative_target must be >= 0, got {caps}")
    missing = [k for k in goal if k not in present]
    if missing:
        raise KeyError(f"no present position for joints {missing}")
    safe, clamped = {}, {}
    for joint, target in goal.items():
        now = present[joint]
        diff = max(-caps[joint], min(caps[joint], target - now))
        safe[joint] = now + diff
        if abs(safe[joint] - target) > 1e-4:
            clamped[joint] = (target, safe[joint])
    return safe, clamped
