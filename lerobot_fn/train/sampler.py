"""The order training visits frames in, as a pure function of (seed, step): resumable and shardable.

Epoch `e` is a permutation of the usable frame positions drawn from a generator seeded with
(seed, e); global step `s` takes the `s`-th slice of `batch_size * world_size` positions (the
last incomplete slice of an epoch is dropped, as LeRobot's `drop_last=True`), and each process
takes its `batch_size` share. So resuming at step `s` needs only `s`; N processes together see
exactly the batches one process with the N-times larger batch sees.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch


class BatchOrder(torch.utils.data.Sampler[int]):
    """This process's row indices, batch after batch from `start_step` on, forever (the training
    loop stops it): give it as `sampler` to a loader with the same `batch_size` and it yields
    exactly `batch(start_step)`, `batch(start_step + 1)`, ..."""

    def __init__(self, positions: Sequence[int], batch_size: int, *, seed: int, start_step: int = 0,
                 shuffle: bool = True, rank: int = 0, world_size: int = 1):
        self.positions = np.asarray(positions, dtype=np.int64)
        self.batch_size, self.seed, self.start_step = batch_size, seed, start_step
        self.shuffle, self.rank, self.world_size = shuffle, rank, world_size
        global_batch = batch_size * world_size
        if len(self.positions) < global_batch:
            raise ValueError(
                f"the dataset has {len(self.positions)} usable frames, fewer than one batch of {global_batch} "
                f"(batch_size {batch_size} x {world_size} processes): lower train.batch_size or use more episodes"
            )
        self.steps_per_epoch = len(self.positions) // global_batch
        self._cached: tuple[int, np.ndarray] | None = None

    def epoch_order(self, epoch: int) -> np.ndarray:
        """Every usable position in epoch `epoch`'s order (pure; the last epoch's order is cached)."""
        if not self.shuffle:
            return self.positions
        if self._cached is None or self._cached[0] != epoch:
            g = torch.Generator().manual_seed((self.seed * 1_000_003 + epoch) % 2**63)
            self._cached = (epoch, self.positions[torch.randperm(len(self.positions), generator=g).numpy()])
        return self._cached[1]

    def batch(self, step: int) -> list[int]:
        """Row indices of this process's share of global step `step` (pure)."""
        epoch, within = divmod(step, self.steps_per_epoch)
        start = within * self.batch_size * self.world_size + self.rank * self.batch_size
        return self.epoch_order(epoch)[start:start + self.batch_size].tolist()

    def __iter__(self) -> Iterator[int]:
        step = self.start_step
        while True:
            yield from self.batch(step)
            step += 1

    def __len__(self) -> int:  # DataLoader asks; the stream is endless, the loop stops it
        return 2**62
