"""Several datasets read as one (LeRobot's MultiLeRobotDataset semantics).

Items keep only the features every dataset has (the others are dropped, with their
`_is_pad` masks) and gain `dataset_index`, the position of the source dataset.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

import torch

from lerobot_fn.data.read.loader import get_items
from lerobot_fn.data.read.reader import Dataset


class ConcatDataset(torch.utils.data.Dataset):
    """Datasets side by side: index i runs through the first dataset, then the second, ..."""

    def __init__(self, datasets: Sequence[Dataset]):
        if not datasets:
            raise ValueError("concat needs at least one dataset")
        self.datasets = list(datasets)
        common = set(self.datasets[0].features)
        for ds in self.datasets[1:]:
            common &= set(ds.features)
        if not common:
            roots = [str(ds.root) for ds in self.datasets]
            raise ValueError(f"datasets {roots} share no feature; nothing to concatenate")
        first = self.datasets[0]
        for ds in self.datasets[1:]:
            for k in sorted(common):
                fa, fb = first.features[k], ds.features[k]
                if fa.shape != fb.shape or (fa.dtype != fb.dtype and not (fa.is_visual and fb.is_visual)):
                    raise ValueError(
                        f"cannot concatenate: feature {k!r} is {fa.dtype}{list(fa.shape)} in {first.root} "
                        f"but {fb.dtype}{list(fb.shape)} in {ds.root}"
                    )
            da, db = first.delta_timestamps or {}, ds.delta_timestamps or {}
            for k in sorted(common):
                if da.get(k) != db.get(k):
                    raise ValueError(
                        f"cannot concatenate: delta_timestamps[{k!r}] is {da.get(k)} for {first.root} but "
                        f"{db.get(k)} for {ds.root}; items would not stack into batches"
                    )
        self.disabled_features = set().union(*(set(ds.features) for ds in self.datasets)) - common
        pads = [{f"{k}_is_pad" for k in (ds.delta_timestamps or {})} for ds in self.datasets]
        self._drop = self.disabled_features | (set().union(*pads) - set.intersection(*pads))
        self.cumulative_sizes = []
        total = 0
        for ds in self.datasets:
            total += len(ds)
            self.cumulative_sizes.append(total)

    @property
    def fps(self) -> int:
        return self.datasets[0].fps

    @property
    def features(self):
        return {k: v for k, v in self.datasets[0].features.items() if k not in self.disabled_features}

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def get_raw(self, idx: int) -> dict:
        if idx < 0:
            idx += len(self)
        if not 0 <= idx < len(self):
            raise IndexError(f"index {idx} out of range for {len(self)} frames")
        which = bisect.bisect_right(self.cumulative_sizes, idx)
        start = self.cumulative_sizes[which - 1] if which else 0
        item = self.datasets[which].get_raw(idx - start)
        for key in self._drop:
            item.pop(key, None)
        item["dataset_index"] = torch.tensor(which)
        return item

    def __getitem__(self, idx):
        """`ds[i]`: one item; `ds[a:b]`, `ds[[i, j]]`: a stacked `Batch` (see `read.loader.get_items`)."""
        return get_items(self, idx)

    def __getitems__(self, indices: list[int]) -> list[dict]:
        return [self.get_raw(i) for i in indices]

    def close(self) -> None:
        for ds in self.datasets:
            ds.close()

    def __repr__(self) -> str:
        return f"ConcatDataset(frames={len(self)}, datasets={[str(d.root) for d in self.datasets]})"


def concat(datasets: Sequence[Dataset]) -> ConcatDataset:
    """Read several datasets as one; see `ConcatDataset`."""
    return ConcatDataset(datasets)
