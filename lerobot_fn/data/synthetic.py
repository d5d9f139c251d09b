"""Synthetic PushT-like episodes for offline demos and tests: a dot moves toward a goal on a 2-D
table, seen by one camera. Pure: frames come from a generator, nothing touches the disk."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

TASK = "push the red dot onto the green square"


def sample_features(
    height: int, width: int, *, use_videos: bool = True, image_key: str = "observation.images.top"
) -> dict[str, dict]:
    """LeRobot-form features of the synthetic task: one camera, 2-D state and action."""
    return {
        image_key: {
            "dtype": "video" if use_videos else "image",
            "shape": (height, width, 3),
            "names": ["height", "width", "channels"],
        },
        "observation.state": {"dtype": "float32", "shape": (2,), "names": ["x", "y"]},
        "action": {"dtype": "float32", "shape": (2,), "names": ["x", "y"]},
    }


def render(position: np.ndarray, goal: np.ndarray, height: int, width: int) -> np.ndarray:
    """A uint8 HWC image: grey table, green goal square, red agent disc (positions in [0, 1])."""
    ys, xs = np.mgrid[0:height, 0:width]
    image = np.full((height, width, 3), 200, dtype=np.uint8)
    gy, gx = goal[1] * (height - 1), goal[0] * (width - 1)
    radius = max(2, min(height, width) // 12)
    image[(abs(ys - gy) <= radius) & (abs(xs - gx) <= radius)] = (40, 170, 60)
    py, px = position[1] * (height - 1), position[0] * (width - 1)
    image[(ys - py) ** 2 + (xs - px) ** 2 <= radius**2] = (200, 40, 40)
    return image


def trajectory(generator: torch.Generator, frames: int) -> tuple[np.ndarray, np.ndarray]:
    """(positions (frames + 1, 2), goal (2,)) in [0, 1]: each step moves a fixed fraction of the
    way to the goal, with a little noise; positions[t + 1] is the action taken at frame t."""
    start, goal = torch.rand(2, 2, generator=generator, dtype=torch.float64).numpy()
    noise = torch.randn(frames, 2, generator=generator, dtype=torch.float64).numpy() * 0.01
    positions = [start]
    for t in range(frames):
        positions.append(np.clip(positions[-1] + 0.15 * (goal - positions[-1]) + noise[t], 0.0, 1.0))
    return np.stack(positions), goal


def sample_episode(
    generator: torch.Generator, *, frames: int, height: int, width: int
) -> Iterator[dict[str, object]]:
    """Frames of one episode; `action` is the next target position (absolute, like PushT)."""
    positions, goal = trajectory(generator, frames)
    for t in range(frames):
        yield {
            "observation.images.top": render(positions[t], goal, height, width),
            "observation.state": positions[t].astype(np.float32),
            "action": positions[t + 1].astype(np.float32),
            "task": TASK,
        }
