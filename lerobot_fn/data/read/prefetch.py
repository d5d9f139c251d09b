"""Batches of a `num_workers=0` loader fetched ahead in threads of the main process.

Without workers, torch's DataLoader fetches a batch only when it is asked for, so the cores sit
idle while the caller works on the previous batch (and while the last frames of a batch finish
decoding, one decode thread has nothing to do). Here up to `depth` batches are fetched ahead
(sampler order kept), each in its own fetch thread, so the decode threads always have the next
batch's frames queued. Same batches in the same order as torch's iterator; an error is raised
at the batch that caused it. A dataset with image transforms is fetched one batch at a time
(in order), so its augmentation generator is drawn in the same order as without prefetching.
"""

from __future__ import annotations

import sys
from collections import deque
from concurrent.futures import ThreadPoolExecutor, wait

import torch


def prefetching(loader) -> bool:
    """Whether `loader` (a DataLoader) is one this module iterates: map-style, in the main
    process, batched by a batch sampler, nothing pinned."""
    return (
        loader.num_workers == 0
        and loader.batch_sampler is not None
        and not loader.pin_memory
        and not isinstance(loader.dataset, torch.utils.data.IterableDataset)
    )


def batches(loader, depth: int = 2):
    """Yield `loader`'s batches, up to `depth` of them being fetched ahead."""
    dataset, collate = loader.dataset, loader.collate_fn
    if _augments(dataset):
        depth = 1

    def fetch(indices):
        if hasattr(dataset, "__getitems__"):
            return collate(dataset.__getitems__(indices))
        return collate([dataset[i] for i in indices])

    order = iter(loader.batch_sampler)
    # torch's iterator draws its workers' base seed here, before the sampler's first draw: drawn
    # the same, so a shuffled epoch (and every later one) has torch's order
    torch.empty((), dtype=torch.int64).random_(generator=loader.generator)
    pending: deque = deque()
    pool = ThreadPoolExecutor(max_workers=depth, thread_name_prefix="lerobot_fn-prefetch")
    # an unfinished iterator still referenced at interpreter exit is closed after the modules'
    # names are gone (`wait` is None by then) and after the fetch threads were joined: nothing to do
    finalizing = sys.is_finalizing
    try:
        for indices in order:
            pending.append(pool.submit(fetch, indices))
            if len(pending) >= depth:
                break
        while pending:
            batch = pending.popleft().result()
            for indices in order:  # one more batch in flight before this one is handed out
                pending.append(pool.submit(fetch, indices))
                break
            yield batch
    finally:
        if not finalizing():
            for f in pending:
                f.cancel()
            wait(pending)  # no fetch still writes into a batch once the iterator is gone
            pool.shutdown(wait=True)


def _augments(dataset) -> bool:
    """Whether `dataset` (or a dataset it concatenates) draws image transforms."""
    return getattr(dataset, "image_transforms", None) is not None or any(
        _augments(d) for d in getattr(dataset, "datasets", ())
    )
