"""`sample_dataset()`: a small PushT-like LeRobotDataset v3.0, generated on first use into the cache.

Docs, shipped specs, notebooks and tests need a real dataset (parquet + AV1 video written by our
writer) that exists on a fresh clone with no network. It is built once per cache from a fixed seed
(the same frames and values every time) in a temporary directory next to its final place, then
renamed there: two processes racing to build it both end with one complete copy, and a killed
build leaves no half dataset where the reader would look.
"""

from __future__ import annotations

import os
from pathlib import Path

import attrs
import numpy as np
import torch

from lerobot_fn.data.atomic import built_directory
from lerobot_fn.data.errors import DatasetError
from lerobot_fn.data.hub import lerobot_home
from lerobot_fn.data.meta import INFO_PATH
from lerobot_fn.data.synthetic import TASK, render, sample_features, trajectory

PUSHT_SCALE = 512.0  # PushT's state and action are pixel coordinates on a 512 x 512 table


@attrs.frozen
class SampleRecipe:
    """How a sample dataset is generated; `version` is part of its cache directory name, so a
    change to the recipe builds a fresh copy instead of reusing a stale one."""

    episodes: int
    frames_per_episode: int
    fps: int
    image_size: tuple[int, int]
    use_videos: bool = True
    seed: int = 0
    version: int = 1


SAMPLES = {
    "pusht": SampleRecipe(episodes=6, frames_per_episode=40, fps=10, image_size=(96, 96)),
    # the same task with the camera as PNG images in the parquet files (what `images_to_video` converts)
    "pusht_images": SampleRecipe(episodes=3, frames_per_episode=20, fps=10, image_size=(96, 96), use_videos=False),
}
SAMPLE_PREFIX = "sample:"  # `dataset = "sample:pusht"` in a spec, `data.open("sample:pusht")`; = specs.paths.SAMPLE_PREFIX


def _features(recipe: SampleRecipe) -> dict[str, dict]:
    """LeRobot's `lerobot/pusht` features: `observation.image`, 2-D state and action, reward and flags."""
    height, width = recipe.image_size
    features = sample_features(height, width, use_videos=recipe.use_videos, image_key="observation.image")
    features.update({
        "next.reward": {"dtype": "float32", "shape": (1,), "names": None},
        "next.done": {"dtype": "bool", "shape": (1,), "names": None},
        "next.success": {"dtype": "bool", "shape": (1,), "names": None},
    })
    return features


def _pusht_frames(generator: torch.Generator, recipe: SampleRecipe):
    height, width = recipe.image_size
    n = recipe.frames_per_episode
    positions, goal = trajectory(generator, n)
    for t in range(n):
        distance = float(np.linalg.norm(positions[t + 1] - goal))
        yield {
            "observation.image": render(positions[t], goal, height, width),
            "observation.state": (positions[t] * PUSHT_SCALE).astype(np.float32),
            "action": (positions[t + 1] * PUSHT_SCALE).astype(np.float32),
            "next.reward": np.array([max(0.0, 1.0 - 4.0 * distance)], dtype=np.float32),
            "next.done": np.array([t == n - 1]),
            "next.success": np.array([distance < 0.05]),
            "task": TASK,
        }


def _write(root: Path, recipe: SampleRecipe) -> None:
    from lerobot_fn.data.write.writer import create

    generator = torch.Generator().manual_seed(recipe.seed)
    features = _features(recipe)
    with create(root, fps=recipe.fps, features=features, robot_type="synthetic", use_videos=recipe.use_videos) as writer:
        for _ in range(recipe.episodes):
            for frame in _pusht_frames(generator, recipe):
                writer.add_frame(frame)
            writer.save_episode()


def sample_root(name: str = "pusht") -> Path:
    """Where `sample_dataset(name)` lives in the cache: `$HF_LEROBOT_HOME/lerobot_fn_samples/<name>_v<N>`."""
    return lerobot_home() / "lerobot_fn_samples" / f"{name}_v{_recipe(name).version}"


def _recipe(name: str) -> SampleRecipe:
    try:
        return SAMPLES[name]
    except KeyError:
        raise DatasetError(f"no sample dataset {name!r}; available: {', '.join(sorted(SAMPLES))}") from None


def sample_dataset(name: str = "pusht", root: str | os.PathLike | None = None) -> Path:
    """The path of a small deterministic sample dataset, generated on first use.

    "pusht": 6 episodes x 40 frames at 10 fps, a 96x96 AV1 camera `observation.image`, 2-D
    `observation.state` and `action` in PushT's pixel coordinates, `next.reward/done/success`.
    "pusht_images": 3 episodes x 20 frames of the same, the camera stored as PNG images.
    `root` puts it there instead of the cache (`$HF_LEROBOT_HOME/lerobot_fn_samples/`).
    Open it with `data.open(sample_dataset())`.
    """
    recipe = _recipe(name)
    target = Path(root).expanduser() if root is not None else sample_root(name)
    if (target / INFO_PATH).is_file():
        return target
    if target.exists() and any(target.iterdir()):
        raise DatasetError(f"{target} exists but holds no dataset (no {INFO_PATH}); remove it or choose another root")
    with built_directory(target, done=INFO_PATH) as build:  # safe when processes race
        _write(build, recipe)
    return target


def resolve_source(source):
    """`"sample:<name>"` -> the path of that sample dataset (built on first use); anything else as given.

    A local directory literally called `sample:<name>` wins, as a path always does."""
    if isinstance(source, str) and source.startswith(SAMPLE_PREFIX) and not Path(source).exists():
        return sample_dataset(source[len(SAMPLE_PREFIX):])
    return source
