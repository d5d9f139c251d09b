"""Streaming mode: an IterableDataset that fetches a Hub dataset file by file as it iterates.

Only meta/ is downloaded up front. Episodes are grouped by the data file that holds them; for
each group (in a shuffled order when `shuffle`) the data file and the group's video files are
fetched with `huggingface_hub.hf_hub_download` into the LeRobot-style cache, and the group's
frames are yielded (shuffled within the group). DataLoader workers split the groups.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import torch

from lerobot_fn.data import hub
from lerobot_fn.data.errors import DatasetFileError
from lerobot_fn.data.meta import DatasetMeta
from lerobot_fn.data.read.reader import Dataset, to_tensordict


class StreamingDataset(torch.utils.data.IterableDataset):
    """Iterate a (Hub or local) dataset without having all of it on disk first.

    Yields TensorDict items like `Dataset`; `raw=True` in `iter_raw` gives flat dicts (used by
    `data.loader`'s collate). Each iteration reshuffles with `seed + epoch`.
    """

    def __init__(
        self,
        source: str | os.PathLike,
        *,
        delta_timestamps: dict[str, Sequence[float]] | None = None,
        episodes: Sequence[int] | None = None,
        revision: str | None = None,
        root: str | os.PathLike | None = None,
        tolerance_s: float = 1e-4,
        image_transforms: Callable | None = None,
        video_backend: str | None = None,
        return_uint8: bool = False,
        shuffle: bool = True,
        seed: int = 0,
    ):
        path = Path(source)
        self.repo_id: str | None = None
        if path.is_dir():
            self.root = path
        elif isinstance(source, str) and hub.looks_like_repo_id(source):
            self.repo_id = source
            self.root = Path(root).expanduser() if root is not None else hub.lerobot_home() / source
            self.revision = revision
            self._fetch_meta()
        else:
            raise DatasetFileError(
                f"no dataset directory at {path} (and {str(source)!r} is not a Hub repo id)"
            )
        self.meta = DatasetMeta.load(self.root, repo_id=self.repo_id)
        eps = self.meta.episode_indices if episodes is None else sorted(set(episodes))
        groups: dict[str, list[int]] = {}
        for e in eps:
            groups.setdefault(str(self.meta.data_file(e)), []).append(e)
        self.groups = list(groups.values())
        self.options = dict(
            delta_timestamps=delta_timestamps,
            tolerance_s=tolerance_s,
            image_transforms=image_transforms,
            video_backend=video_backend,
            return_uint8=return_uint8,
        )
        self.shuffle = shuffle
        self.seed = seed
        self.epoch = 0
        self.num_frames = sum(self.meta.episode_range(e)[1] - self.meta.episode_range(e)[0] for e in eps)

    def _fetch_meta(self) -> None:
        if (self.root / "meta/info.json").is_file() and any(
            (self.root / "meta/episodes").glob("*/*.parquet")
        ):
            return
        if hub.is_offline():
            raise DatasetFileError(
                f"{self.repo_id!r} metadata not cached in {self.root} and HF_HUB_OFFLINE is set"
            )
        from huggingface_hub import snapshot_download

        self.revision = self.revision or hub.safe_revision(self.repo_id)
        snapshot_download(
            self.repo_id,
            repo_type="dataset",
            revision=self.revision,
            local_dir=self.root,
            allow_patterns="meta/**",
        )

    def _fetch(self, rel: str) -> None:
        if (self.root / rel).is_file() or self.repo_id is None:
            return
        if hub.is_offline():
            raise DatasetFileError(
                f"{self.repo_id}: {rel} is not cached in {self.root} and HF_HUB_OFFLINE is set"
            )
        from huggingface_hub import hf_hub_download

        self.revision = self.revision or hub.safe_revision(self.repo_id)
        hf_hub_download(self.repo_id, rel, repo_type="dataset", revision=self.revision, local_dir=self.root)

    def __len__(self) -> int:
        return self.num_frames

    def iter_raw(self) -> Iterator[dict]:
        """Flat item dicts, group by group (see the module docstring)."""
        g = torch.Generator().manual_seed(self.seed + self.epoch)
        self.epoch += 1
        order = (
            torch.randperm(len(self.groups), generator=g).tolist()
            if self.shuffle
            else range(len(self.groups))
        )
        info = torch.utils.data.get_worker_info()
        mine = [o for k, o in enumerate(order) if info is None or k % info.num_workers == info.id]
        for gi in mine:
            eps = self.groups[gi]
            self._fetch(str(self.meta.data_file(eps[0])))
            for key in self.meta.video_keys:
                for rel in sorted({str(self.meta.video_file(e, key)) for e in eps}):
                    self._fetch(rel)
            ds = Dataset(self.meta, episodes=eps, **self.options)
            try:
                rows = torch.randperm(len(ds), generator=g).tolist() if self.shuffle else range(len(ds))
                for r in rows:
                    yield ds.get_raw(r)
            finally:
                ds.close()

    def __iter__(self) -> Iterator:
        for raw in self.iter_raw():
            yield to_tensordict(raw)


def stream(source: str | os.PathLike, **kwargs) -> StreamingDataset:
    """Open a dataset in streaming mode; same arguments as `data.open` plus `shuffle`, `seed`."""
    return StreamingDataset(source, **kwargs)


class _RawStream(torch.utils.data.IterableDataset):
    """A StreamingDataset seen as flat dicts, so `data.loader` collates once per batch."""

    def __init__(self, stream: StreamingDataset):
        self.stream = stream

    def __iter__(self) -> Iterator[dict]:
        return self.stream.iter_raw()

    def __len__(self) -> int:
        return len(self.stream)
