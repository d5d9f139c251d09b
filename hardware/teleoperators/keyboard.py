"""Drive the joints from the terminal: each key pair nudges one joint up / down by `step` per press.

    shoulder_pan q/a   shoulder_lift w/s   elbow_flex e/d   wrist_flex r/f   wrist_roll t/g   gripper y/h

Keys it does not use go to `other_keys` (the record job passes the arrow keys / Esc to its controls, so
one reader owns the terminal)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from .keys import KeyReader

PAIRS = ("qa", "ws", "ed", "rf", "tg", "yh")


class KeyboardTeleop:
    def __init__(self, joints: list[str], step: float = 2.0, *, fd: int | None = None,
                 other_keys: Callable[[str], None] | None = None):
        self.joints, self.step, self.fd, self.other_keys = list(joints), step, fd, other_keys
        self.keymap = {}
        for joint, (up, down) in zip(self.joints, PAIRS, strict=False):
            self.keymap[up], self.keymap[down] = (joint, 1.0), (joint, -1.0)
        self._target: dict[str, float] = {}
        self._reader: KeyReader | None = None

    def __repr__(self) -> str:
        return f"KeyboardTeleop(step={self.step})"

    @property
    def action_features(self) -> dict[str, type]:
        return {f"{j}.pos": float for j in self.joints}

    def attach(self, start: Mapping[str, float]) -> None:
        """Start from the robot's present joints (`<joint>.pos`) and listen to the keys."""
        self._target = {f"{j}.pos": float(start[f"{j}.pos"]) for j in self.joints}
        self._reader = KeyReader(self.press, self.fd).start()

    def press(self, key: str) -> None:
        if key in self.keymap:
            joint, sign = self.keymap[key]
            self._target[f"{joint}.pos"] += sign * self.step
        elif self.other_keys is not None:
            self.other_keys(key)

    def get_action(self) -> dict[str, float]:
        return dict(self._target)

    def disconnect(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
