"""Episode-aware sampling: iterate frames of chosen episodes, optionally dropping the first/last N.

Dropping the last frames of each episode (e.g. `drop_n_last_frames = horizon - n_action_steps`
for Diffusion, as LeRobot does) avoids training on chunks that are mostly padding.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch


def episode_positions(
    episode_starts: Sequence[int],
    episode_ends: Sequence[int],
    drop_n_first_frames: int = 0,
    drop_n_last_frames: int = 0,
) -> np.ndarray:
    """Row positions [start + first, end - last) of every episode, concatenated (pure)."""
    if drop_n_first_frames < 0 or drop_n_last_frames < 0:
        raise ValueError(
            f"drop_n_first_frames and drop_n_last_frames must be >= 0, got "
            f"{drop_n_first_frames} and {drop_n_last_frames}"
        )
    parts = [
        np.arange(s + drop_n_first_frames, e - drop_n_last_frames, dtype=np.int64)
        for s, e in zip(episode_starts, episode_ends, strict=True)
    ]
    out = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    if len(out) == 0:
        raise ValueError(
            f"no frames left after dropping {drop_n_first_frames} first and {drop_n_last_frames} "
            "last frames of every episode"
        )
    return out


class EpisodeAwareSampler(torch.utils.data.Sampler[int]):
    """Sampler over a `Dataset`'s rows, episode by episode.

    `episode_indices_to_use` restricts to some episodes (by episode_index); frames closer than
    `drop_n_first_frames` / `drop_n_last_frames` to an episode's ends are skipped. With
    `shuffle`, each epoch is a permutation drawn from `generator`.
    """

    def __init__(
        self,
        dataset,
        *,
        episode_indices_to_use: Sequence[int] | None = None,
        drop_n_first_frames: int = 0,
        drop_n_last_frames: int = 0,
        shuffle: bool = False,
        generator: torch.Generator | None = None,
    ):
        ep_col = dataset._tensors["episode_index"].numpy()
        wanted = set(dataset.episodes if episode_indices_to_use is None else episode_indices_to_use)
        unknown = wanted - set(dataset.episodes)
        if unknown:
            raise ValueError(f"episode_indices_to_use {sorted(unknown)} are not in the dataset")
        starts, ends = [], []
        # rows of one episode are contiguous in file order
        change = np.flatnonzero(np.diff(ep_col)) + 1
        bounds = np.concatenate([[0], change, [len(ep_col)]])
        for s, e in zip(bounds[:-1], bounds[1:], strict=True):
            if int(ep_col[s]) in wanted and e - s > drop_n_first_frames + drop_n_last_frames:
                starts.append(int(s))
                ends.append(int(e))
        self.indices = episode_positions(starts, ends, drop_n_first_frames, drop_n_last_frames)
        self.shuffle = shuffle
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        if self.shuffle:
            order = torch.randperm(len(self.indices), generator=self.generator).numpy()
            yield from self.indices[order].tolist()
        else:
            yield from self.indices.tolist()

    def __len__(self) -> int:
        return len(self.indices)
