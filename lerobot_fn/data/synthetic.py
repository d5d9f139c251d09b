"""Synthetic PushT-like episodes for offline demos and tests: a dot moves toward a goal on a 2-D
table, seen by one camera. Pure: frames come from a generator, nothing touches the disk."""

from __future__ import annotations

from typing import Iterator

import numpy as np
import torch


def sample_features(height: int, width: int, *, use_videos: bool = True) -> dict[str, dict]:
    """LeRobot-form features of the synthetic task: one camera, 2-D state and action."""
    return {
        "observation.images.top": {
            "dtype": "video" if use_videos else "image",
            "shape": (height, width, 3),
            "names": ["height", "width", "channels"],
        },
        "observation.state": {"dtype": "float32", "shape": (2,), "names": ["x", "y"]},
        "action": {"dtype": "float32", "shape": (2,), "names": ["x", "y"]},
    }


def _render(position: np.ndarray, goal: np.ndarray, height: int, width: int) -> np.ndarray:
    """A uint8 HWC image: grey table, green goal square, red agent disc (positions in [0, 1])."""
    ys, xs = np.mgrid[0:height, 0:width]
    image = np.full((height, width, 3), 200, dtype=np.uint8)
    gy, gx = goal[1] * (height - 1), goal[0] * (width - 1)
    radius = max(2, min(height, width) // 12)
    image[(abs(ys - gy) <= radius) & (abs(xs - gx) <= radius)] = (40, 170, 60)
    py, px = position[1] * (height - 1), position[0] * (width - 1)
    image[(ys - py) ** 2 + (xs - px) ** 2 <= radius**2] = (200, 40, 40)
    return image


def sample_episode(
    generator: torch.Generator, *, frames: int, height: int, width: int
) -> Iterator[dict[str, object]]:
    """Frames of one episode: the agent moves a fixed fraction of the way to the goal each step,
    with a little noise; `action` is the next target position (absolute, like PushT)."""
    start, goal = torch.rand(2, 2, generator=generator, dtype=torch.float64).numpy()
    noise = torch.randn(frames, 2, generator=generator, dtype=torch.float64).numpy() * 0.01
    position = start.copy()
    for t in range(frames):
        target = np.clip(position + 0.15 * (goal - position) + noise[t], 0.0, 1.0)
        yield {
            "observation.images.top": _render(position, goal, height, width),
            "observation.state": position.astype(np.float32),
            "action": target.astype(np.float32),
            "task": "push the red dot onto the green square",
        }
        position = target
