"""`loader(ds, ...)`: a torch DataLoader that yields TensorDict batches (batch size [B]).

Items are fetched as flat dicts (`Dataset.__getitems__`) and collated once per batch, so the
TensorDict is built once per batch rather than once per item. Workers are persistent by
default: each keeps its open video files across epochs.
"""

from __future__ import annotations

import functools
import gc

import torch
from tensordict import NonTensorData, NonTensorStack, TensorDict

from lerobot_fn.data.features import nested_key


def collate(items: list) -> TensorDict:
    """List of flat item dicts (or TensorDicts) -> one TensorDict with batch size [len(items)]."""
    if not items:
        raise ValueError("cannot collate an empty batch")
    if isinstance(items[0], TensorDict):
        return torch.stack(items)
    batch = len(items)
    nested: dict = {}
    others: dict = {}
    for name, first in items[0].items():
        if isinstance(first, torch.Tensor):
            value = torch.stack([it[name] for it in items])
            *parents, leaf = nested_key(name)
            d = nested
            for p in parents:
                d = d.setdefault(p, {})
            d[leaf] = value
        else:
            others[name] = [it[name] for it in items]
    td = TensorDict(nested, batch_size=[batch])
    for name, values in others.items():
        td.set(nested_key(name), NonTensorStack(*(NonTensorData(v) for v in values), batch_size=[batch]))
    return td


def _float_images(batch: TensorDict, keys: tuple) -> TensorDict:
    """uint8 camera tensors -> float32 in [0, 1] (what the workers would have produced)."""
    for key in keys:
        value = batch.get(key, None)
        if value is not None and value.dtype == torch.uint8:
            batch.set(key, value.to(torch.float32).div_(255))
    return batch


class _FloatImagesIterator:
    """Wraps a DataLoader iterator, converting uint8-transported images back to float32."""

    def __init__(self, it, keys: tuple):
        self._it, self._keys = it, keys

    def __iter__(self):
        return self

    def __next__(self) -> TensorDict:
        return _float_images(next(self._it), self._keys)

    def __len__(self) -> int:
        return len(self._it)

    def __getattr__(self, name):
        return getattr(self._it, name)


class TensorDictLoader(torch.utils.data.DataLoader):
    """A DataLoader yielding TensorDicts; see `loader`."""

    float_image_keys: tuple = ()

    def __iter__(self):
        if self.num_workers > 0 and hasattr(self.dataset, "close"):
            # Workers are forked from this process: close its open videos (and their codec
            # threads) first, so no FFmpeg state with live threads is copied into them, and
            # collect cyclic garbage here (e.g. an earlier loader's iterator), which a worker
            # would otherwise finalise after the fork, crashing on the parent's resources.
            self.dataset.close()
            gc.collect()
        it = super().__iter__()
        return _FloatImagesIterator(it, self.float_image_keys) if self.float_image_keys else it


def _uint8_transport_keys(dataset) -> tuple:
    """Camera keys to send as uint8 from workers, or () when the dataset must produce floats itself."""
    subs = getattr(dataset, "datasets", None) or [dataset]
    if not all(hasattr(d, "_uint8_transport") for d in subs):
        return ()
    if any(d.return_uint8 or d.image_transforms is not None for d in subs):
        return ()
    names = set.intersection(*(set(d.meta.camera_keys) for d in subs))
    return tuple(sorted(nested_key(n) for n in names))


def _worker_init(dataset, worker_id: int, uint8_transport: bool = False) -> None:
    if uint8_transport:
        for d in getattr(dataset, "datasets", None) or [dataset]:
            d._uint8_transport = True
    dataset = getattr(dataset, "stream", dataset)
    options = getattr(dataset, "options", None)
    if options and options.get("image_transforms") is not None:
        dataset = type("_T", (), {"image_transforms": options["image_transforms"]})()
    transforms = getattr(dataset, "image_transforms", None)
    if transforms is not None and hasattr(transforms, "reseed"):
        transforms.reseed(torch.initial_seed())
    for sub in getattr(dataset, "datasets", ()):
        _worker_init(sub, worker_id)


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
    from lerobot_fn.data.streaming import StreamingDataset, _RawStream

    if isinstance(dataset, StreamingDataset):
        if shuffle or sampler is not None:
            raise ValueError(
                "a streaming dataset shuffles itself (stream(..., shuffle=True)); "
                "pass shuffle=False and no sampler to loader"
            )
        dataset = _RawStream(dataset)
    if sampler is not None and shuffle:
        raise ValueError("pass either shuffle=True or a sampler (set shuffle on the sampler)")
    if persistent_workers is None:
        persistent_workers = num_workers > 0
    kwargs = {}
    if num_workers > 0:
        kwargs["prefetch_factor"] = prefetch_factor or 2
        kwargs["persistent_workers"] = persistent_workers
    float_keys = _uint8_transport_keys(dataset) if num_workers > 0 and not pin_memory else ()
    dl = TensorDictLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle,
        sampler=sampler,
        num_workers=num_workers,
        collate_fn=collate,
        drop_last=drop_last,
        generator=generator,
        pin_memory=pin_memory,
        worker_init_fn=functools.partial(_worker_init, dataset, uint8_transport=bool(float_keys)),
        **kwargs,
    )
    dl.float_image_keys = float_keys
    return dl
