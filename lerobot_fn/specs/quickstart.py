"""Schema of the `quickstart` job: the offline first run of a new user."""

from __future__ import annotations

from typing import Literal

import attrs

from .schema import RunOptions, positive, spec_field


@attrs.frozen
class SampleDataset:
    """A small synthetic PushT-like dataset written with the dataset writer."""

    episodes: int = spec_field(3, doc="number of episodes to record", validator=positive)
    frames_per_episode: int = spec_field(30, doc="frames in each episode", validator=positive)
    fps: int = spec_field(10, doc="frames per second", validator=positive)
    image_size: tuple[int, int] = spec_field((64, 64), doc="camera image height and width in pixels")
    use_videos: bool = spec_field(True, doc="store the camera as AV1 video (false: PNG images in parquet)")


@attrs.frozen
class QuickTrain:
    """A few optimisation steps of a small policy on the sample dataset."""

    policy: Literal["act", "diffusion"] = spec_field("act", doc="policy family to train")
    steps: int = spec_field(20, doc="optimisation steps", validator=positive)
    batch_size: int = spec_field(8, doc="frames per batch", validator=positive)
    learning_rate: float = spec_field(1e-4, doc="AdamW learning rate", validator=positive)
    chunk_size: int = spec_field(8, doc="actions predicted per chunk (ACT chunk_size / Diffusion horizon)",
                                 validator=positive)


@attrs.frozen
class QuickstartSpec:
    """Write a sample dataset, read it back, train a small policy for a few steps, predict an action chunk
    and save the checkpoint: every stage of the library, offline, in about a minute on a laptop CPU."""

    dataset: SampleDataset = spec_field(attrs.Factory(SampleDataset), doc="the sample dataset to write")
    train: QuickTrain = spec_field(attrs.Factory(QuickTrain), doc="the short training run")
    run: RunOptions = spec_field(attrs.Factory(RunOptions), doc="run directory, seed and device")
