"""`loader(ds, ...)`: a torch DataLoader that yields TensorDict batches (batch size [B]).

Items are fetched as flat dicts (`Dataset.__getitems__`) and collated once per batch, so the
TensorDict is built once per batch rather than once per item. Workers are persistent by
default: each keeps its open video files across epochs. Without workers the next batches are
fetched ahead in threads (`read.prefetch`).
"""

from __future__ import annotations

import functools
import gc
import operator
import sys

import numpy as np
import torch
from tensordict import NonTensorData, NonTensorStack, TensorDict
from tensordict.utils import LinkedList

from lerobot_fn.data.features import nested_key
from lerobot_fn.data.read import buffers, prefetch
from lerobot_fn.process.keys import from_flat_dict


class Batch(TensorDict):
    """A collated batch: a TensorDict whose text entries (`batch["task"]`) read as plain lists of
    strings, as in LeRobot's batches, instead of tensordict's `LinkedList` (a list that writes back
    into the batch and does not pickle). Indexing, `.to(device)` and pickling keep the class."""

    def __getitem__(self, index):
        out = super().__getitem__(index)
        return list(out) if type(out) is LinkedList else out

    def __reduce_ex__(self, protocol):
        # From a DataLoader worker, frame tensors in reused shared memory travel as the memory's
        # descriptor (read.buffers), and small tensors (actions, states, pads, indices) as their
        # bytes: torch would put each in its own shared memory, whose descriptor the main process
        # fetches over a socket from the worker, one connection per tensor. The rest pickles as
        # a TensorDict.
        if torch.utils.data.get_worker_info() is None:
            return super().__reduce_ex__(protocol)
        leaves = dict(self.items(include_nested=True, leaves_only=True))
        sent = buffers.sendable(leaves)
        for key, value in leaves.items():
            if key not in sent and isinstance(value, torch.Tensor) and value.nbytes <= SMALL_TENSOR:
                try:
                    sent[key] = value.numpy()  # numpy arrays pickle by value
                except (TypeError, RuntimeError):  # a dtype numpy lacks (bfloat16), or autograd
                    pass
        if not sent:
            return super().__reduce_ex__(protocol)
        return _with_tensors, (self.exclude(*sent), sent)


SMALL_TENSOR = 1 << 20  # bytes; larger ones go through shared memory


def _with_tensors(batch: Batch, tensors: dict) -> Batch:
    for key, value in tensors.items():
        batch.set(key, torch.from_numpy(value) if isinstance(value, np.ndarray) else value)
    return batch


class Items(list):
    """A dataset's `__getitems__` result: the flat item dicts, and in `stacked` the batch tensors
    their values are views of ({name: (B, ...)}), which `collate` takes instead of stacking."""

    def __init__(self, items=(), stacked: dict | None = None):
        super().__init__(items)
        self.stacked = stacked or {}


def collate(items: list) -> Batch:
    """List of flat item dicts (or TensorDicts) -> one `Batch` with batch size [len(items)]."""
    if not items:
        raise ValueError("cannot collate an empty batch")
    if isinstance(items[0], TensorDict):
        stacked = torch.stack(items)
        batch = Batch({}, batch_size=stacked.batch_size)
        batch.update(stacked)
        return batch
    batch = len(items)
    nested: dict = {}
    others: dict = {}
    stacked = getattr(items, "stacked", {})
    for name, first in items[0].items():
        if isinstance(first, torch.Tensor):
            value = stacked[name] if name in stacked else torch.stack([it[name] for it in items])
            *parents, leaf = nested_key(name)
            d = nested
            for p in parents:
                d = d.setdefault(p, {})
            d[leaf] = value
        else:
            others[name] = [it[name] for it in items]
    td = Batch(nested, batch_size=[batch])
    for name, values in others.items():
        td.set(nested_key(name), NonTensorStack(*(NonTensorData(v) for v in values), batch_size=[batch]))
    return td


def get_items(dataset, index):
    """`ds[index]` of a map-style dataset: an int gives one item (batch size []); a slice, a list,
    an array or a 1-D tensor of ints gives those items stacked into a `Batch`, as the loader would."""
    if isinstance(index, slice):
        indices = list(range(len(dataset)))[index]
        if not indices:
            raise IndexError(f"slice {index} selects no frame of a dataset of {len(dataset)} frames")
        return collate(dataset.__getitems__(indices))
    if isinstance(index, (list, tuple, np.ndarray, torch.Tensor)) and np.ndim(index) == 1:
        values = index.tolist() if hasattr(index, "tolist") else list(index)
        if not values or any(isinstance(v, bool) for v in values):
            raise IndexError(f"index {index!r}: expected a non-empty sequence of frame indices (ints)")
        return collate(dataset.__getitems__([_frame_index(v) for v in values]))
    return from_flat_dict(dataset.get_raw(_frame_index(index)))


def _frame_index(value) -> int:
    try:
        if isinstance(value, bool):
            raise TypeError
        return operator.index(value)
    except TypeError:
        raise TypeError(
            f"dataset index must be an int, a slice or a sequence of ints, got {type(value).__name__} {value!r}"
        ) from None


class TensorDictLoader(torch.utils.data.DataLoader):
    """A DataLoader yielding TensorDicts; see `loader`."""

    def __iter__(self):
        # persistent workers already forked are reused (torch keeps them in `_iterator`)
        forks = self.num_workers > 0 and (self._iterator is None or not self.persistent_workers)
        if forks and hasattr(self.dataset, "close"):
            # Workers are forked from this process: close its open videos (and their codec
            # threads) first, so no FFmpeg state with live threads is copied into them, and
            # collect cyclic garbage here (e.g. an earlier loader's iterator), which a worker
            # would otherwise finalise after the fork, crashing on the parent's resources. A
            # full collection takes 0.2-0.3 s with torch imported: once per fork, not per epoch.
            self.dataset.close()
            gc.collect()
        batches = prefetch.batches(self) if prefetch.prefetching(self) else super().__iter__()
        return _never_empty(batches, self.batch_size, self.drop_last)


def _never_empty(it, batch_size, drop_last):
    """Yield the batches of `it`; an epoch without any batch is an error, not a silent no-op (a
    training loop `while step < steps: for batch in loader:` would otherwise spin forever)."""
    empty = True
    for batch in it:
        empty = False
        yield batch
    if empty:
        why = f" with drop_last=True and batch_size={batch_size}" if drop_last else ""
        raise ValueError(f"the data loader yielded no batch{why}: the dataset (or stream) has fewer frames")


def check_batches(size: int, batch_size: int, drop_last: bool, what: str = "the dataset") -> None:
    """Refuse a loader that would yield no batch: fewer frames than one batch with drop_last."""
    if drop_last and size < batch_size:
        raise ValueError(
            f"{what} has {size} frames, fewer than batch_size={batch_size}: with drop_last=True the "
            f"loader would yield no batch. Use batch_size <= {size}, drop_last=False, or more data."
        )


_PARENT_GONE = (EOFError, ConnectionResetError, BrokenPipeError)


def _quiet_when_the_parent_leaves() -> None:
    """In a worker: when the main process stops (Ctrl-C, SIGTERM) while it is fetching a batch's
    shared-memory handle, multiprocessing's resource-sharer thread here prints the broken connection's
    traceback. That is the parent leaving, not a failure of the worker's: it is not printed."""
    default = sys.excepthook

    def hook(kind, value, tb):
        if not issubclass(kind, _PARENT_GONE):
            default(kind, value, tb)

    sys.excepthook = hook


def _worker_init(dataset, worker_id: int) -> None:
    _quiet_when_the_parent_leaves()
    _init_dataset(dataset)


def _init_dataset(dataset) -> None:
    """A worker's copy of the dataset: image transforms reseeded per worker."""
    dataset = getattr(dataset, "stream", dataset)
    options = getattr(dataset, "options", None)
    if options and options.get("image_transforms") is not None:
        dataset = type("_T", (), {"image_transforms": options["image_transforms"]})()
    transforms = getattr(dataset, "image_transforms", None)
    if transforms is not None and hasattr(transforms, "reseed"):
        transforms.reseed(torch.initial_seed())
    for sub in getattr(dataset, "datasets", ()):
        _init_dataset(sub)


def loader(
    dataset,
    batch_size: int = 1,
    shuffle: bool = False,
    num_workers: int = 0,
    *,
    sampler=None,
    drop_last: bool = False,
    generator: torch.Generator | None = None,
    pin_memory: bool = False,
    prefetch_factor: int | None = None,
    persistent_workers: bool | None = None,
) -> torch.utils.data.DataLoader:
    """DataLoader over a `Dataset` (or `concat` of them) yielding TensorDict batches.

    `sampler` (e.g. an `EpisodeAwareSampler`) replaces `shuffle`. `generator` seeds shuffling
    and, through the workers' seeds, image augmentations.
    """
    from lerobot_fn.data.read.streaming import StreamingDataset, _RawStream

    if isinstance(dataset, StreamingDataset):
        if shuffle or sampler is not None:
            raise ValueError(
                "a streaming dataset shuffles itself (stream(..., shuffle=True)); "
                "pass shuffle=False and no sampler to loader"
            )
        dataset = _RawStream(dataset)
    if sampler is not None and shuffle:
        raise ValueError("pass either shuffle=True or a sampler (set shuffle on the sampler)")
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    if sampler is not None and hasattr(sampler, "__len__"):
        check_batches(len(sampler), batch_size, drop_last, "the sampler")
    elif not isinstance(dataset, torch.utils.data.IterableDataset):
        check_batches(len(dataset), batch_size, drop_last)
    if persistent_workers is None:
        persistent_workers = num_workers > 0
    kwargs = {}
    if num_workers > 0:
        kwargs["prefetch_factor"] = prefetch_factor or 2
        kwargs["persistent_workers"] = persistent_workers
    return TensorDictLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle,
        sampler=sampler,
        num_workers=num_workers,
        collate_fn=collate,
        drop_last=drop_last,
        generator=generator,
        pin_memory=pin_memory,
        worker_init_fn=functools.partial(_worker_init, dataset),
        **kwargs,
    )
