"""The map-style dataset: `open(root)` -> `Dataset`, `ds[i]` -> TensorDict like LeRobot's item.

Parquet columns are loaded once into tensors (columnar, shared by forked workers without
copies); an item gathers its rows with tensor indexing, decodes inline images (PNG) and video
frames for exactly the timestamps it needs, and nests keys by splitting names on ".".
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import torch
from attrs import define
from tensordict import TensorDict

from lerobot_fn.data.errors import DatasetError, DatasetFileError
from lerobot_fn.data.features import Feature
from lerobot_fn.data.meta import DatasetMeta, read_parquet
from lerobot_fn.data.read import buffers
from lerobot_fn.data.read.columns import _is_numeric, _torch_dtype, column_to_numpy, decode_image
from lerobot_fn.data.read.delta import check_delta_timestamps, delta_indices, query_frames
from lerobot_fn.data.read.frames import DecodeThreads, VideoRequest, decode_batch
from lerobot_fn.data.read.loader import Items, get_items
from lerobot_fn.data.video import VideoDecoder
from lerobot_fn.process.keys import from_flat_dict

_255 = np.float32(255)


@define
class _BatchPlan:
    """Where the values of a batch's items come from, worked out for the whole batch at once
    (one numpy operation per feature, not one small tensor operation per item and feature)."""

    idx: np.ndarray  # (B,) dataset rows
    episodes: list[int]
    frames: list[int]  # global frame index of each item
    rows: dict[str, np.ndarray]  # feature with delta_timestamps -> (B, K) rows of its query frames
    pads: dict[str, np.ndarray]  # the same features -> (B, K) bool, True where padded
    videos: list[dict[str, tuple[Path, list[float]]]]  # per item: camera -> (file, seconds in it)


class Dataset(torch.utils.data.Dataset):
    """A LeRobotDataset v3.0 opened for reading; `ds[i]` is a TensorDict with batch size [].

    Build it with `lerobot_fn.data.open`. `meta` holds the metadata; `episodes` the selected
    episode indices (all when None was given); `return_uint8` gives uint8 images instead of
    float32 in [0, 1].
    """

    def __init__(
        self,
        meta: DatasetMeta,
        *,
        episodes: Sequence[int] | None = None,
        delta_timestamps: dict[str, Sequence[float]] | None = None,
        tolerance_s: float = 1e-4,
        image_transforms: Callable | None = None,
        video_backend: str | None = None,
        return_uint8: bool = False,
    ):
        self.meta = meta
        self.root = meta.root
        self.tolerance_s = tolerance_s
        self.return_uint8 = return_uint8
        if image_transforms is not None and not callable(image_transforms):
            raise TypeError(f"image_transforms must be callable, got {type(image_transforms).__name__}")
        self.image_transforms = image_transforms
        # the frames of a batch are decoded in parallel threads (read.frames): one codec thread
        # each is faster than FFmpeg's automatic threading on top (benchmarks/bench_reader.py)
        self.decoder = VideoDecoder(video_backend, threads=1)
        self.video_backend = self.decoder.backend

        known = meta.episode_indices
        if episodes is None:
            self.episodes = list(known)
        else:
            missing = [e for e in episodes if e not in meta._rows]
            if missing:
                raise DatasetError(
                    f"episodes {missing} not in {self.root} (it has episodes {min(known)}..{max(known)})"
                )
            self.episodes = sorted(set(int(e) for e in episodes))

        self.delta_timestamps = (
            None if delta_timestamps is None else {k: list(v) for k, v in delta_timestamps.items()}
        )
        self._delta = None
        if self.delta_timestamps is not None:
            check_delta_timestamps(self.delta_timestamps, meta.fps, tolerance_s, meta.features)
            self._delta = delta_indices(self.delta_timestamps, meta.fps)

        depth = [k for k, f in meta.features.items() if f.is_depth]
        if depth:
            raise DatasetError(
                f"{self.root}: depth-map features {depth} are not supported by this reader yet "
                "(LeRobot dequantises them to millimetres); open the dataset with LeRobot instead"
            )
        self._load_frames()
        self._check_videos()
        self._threads = DecodeThreads()
        self._episode_cache: dict[int, tuple] = {}

    # -- loading --------------------------------------------------------------------------
    def _load_frames(self) -> None:
        meta = self.meta
        files = sorted({str(meta.data_file(e)) for e in self.episodes})
        tables = []
        for rel in files:
            t = read_parquet(self.root / rel)
            # Keep only rows of the selected episodes that meta/episodes knows: rows past the last
            # saved episode (a recording killed before its episodes row was written) are not data.
            keep = pc.is_in(t.column("episode_index"), value_set=pa.array(self.episodes, pa.int64()))
            if not pc.all(keep).as_py():
                t = t.filter(keep)
            tables.append((rel, t))
        self._tensors: dict[str, torch.Tensor] = {}
        self._images: dict[str, pa.Array] = {}
        self._objects: dict[str, pa.Array] = {}  # strings, language rows: returned as Python values
        self._columns = [k for k, f in meta.features.items() if not f.is_video]
        for name in self._columns:
            feat = meta.features[name]
            parts = []
            for rel, t in tables:
                if name not in t.column_names:
                    raise DatasetFileError(
                        f"{self.root / rel}: no column {name!r} (declared in meta/info.json)"
                    )
                parts.append((rel, t.column(name)))
            if feat.is_image:
                # kept as one Arrow array: no Python object per frame, nothing copied by workers
                self._images[name] = pa.chunked_array(
                    [chunk for _, col in parts for chunk in col.chunks]
                ).combine_chunks()
            elif not _is_numeric(feat):
                self._objects[name] = pa.chunked_array(
                    [chunk for _, col in parts for chunk in col.chunks]
                ).combine_chunks()
            else:
                arrays = [column_to_numpy(col, feat.shape, name, str(self.root / rel)) for rel, col in parts]
                values = np.concatenate(arrays) if arrays else np.zeros((0,))
                self._tensors[name] = torch.from_numpy(np.ascontiguousarray(values)).to(_torch_dtype(feat))
        for req in ("index", "episode_index", "timestamp", "task_index"):
            if req not in self._tensors:
                raise DatasetFileError(f"{self.root}: data files lack the {req!r} column")
        index = self._tensors["index"].numpy()
        self._order = np.argsort(index, kind="stable")
        self._sorted_index = index[self._order]
        expected = sum(meta.episode_range(e)[1] - meta.episode_range(e)[0] for e in self.episodes)
        if len(index) != expected:
            raise DatasetFileError(
                f"{self.root}: data files hold {len(index)} frames for episodes {self.episodes[:10]}"
                f"{'...' if len(self.episodes) > 10 else ''} but meta/episodes says {expected}"
            )

    def _check_videos(self) -> None:
        for key in self.meta.video_keys:
            for e in self.episodes:
                path = self.root / self.meta.video_file(e, key)
                if not path.is_file():
                    raise DatasetFileError(f"missing video file {path} (feature {key!r}, episode {e})")

    # -- items ----------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._tensors["index"])

    @property
    def num_frames(self) -> int:
        return len(self)

    @property
    def num_episodes(self) -> int:
        return len(self.episodes)

    @property
    def fps(self) -> int:
        return self.meta.fps

    @property
    def features(self) -> dict[str, Feature]:
        return self.meta.features

    def _image(self, name: str, row: int) -> torch.Tensor:
        return decode_image(self._images[name][row].as_py(), self.root, name)

    def get_raw(self, idx: int) -> dict:
        """One item as a flat dict {LeRobot name: tensor, "task": str}; `__getitem__` nests it."""
        return self.__getitems__([idx])[0]

    def _episode_videos(self, ep: int) -> tuple[int, int, dict[str, tuple[Path, float]]]:
        """(start, end, {camera: (video file, where the episode starts in it)}), computed once."""
        cached = self._episode_cache.get(ep)
        if cached is None:
            meta = self.meta
            videos = {
                k: (self.root / meta.video_file(ep, k), meta.video_from_timestamp(ep, k))
                for k in meta.video_keys
            }
            cached = self._episode_cache[ep] = (*meta.episode_range(ep), videos)
        return cached

    def _plan(self, indices: Sequence[int]) -> _BatchPlan:
        """The batch's episodes, query rows, pads and video requests (negative indices count
        from the end, as in a list)."""
        n = len(self)
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        idx = np.where(idx < 0, idx + n, idx)
        outside = np.flatnonzero((idx < 0) | (idx >= n))
        if outside.size:
            raise IndexError(f"index {indices[outside[0]]} out of range for a dataset of {n} frames")
        episodes = self._tensors["episode_index"].numpy()[idx].tolist()
        frame = self._tensors["index"].numpy()[idx]
        spans = [self._episode_videos(ep) for ep in episodes]
        start = np.array([s[0] for s in spans], dtype=np.int64)
        end = np.array([s[1] for s in spans], dtype=np.int64)
        rows: dict[str, np.ndarray] = {}
        pads: dict[str, np.ndarray] = {}
        for key, offsets in (self._delta or {}).items():
            wanted, pads[key] = query_frames(frame, start, end, offsets)
            rows[key] = self._order[np.searchsorted(self._sorted_index, wanted)]
        timestamp = self._tensors["timestamp"].numpy()
        seconds = {  # per camera, per item: the timestamps of its frames (float32, as stored)
            key: timestamp[rows[key] if key in rows else idx[:, None]].tolist()
            for key in self.meta.video_keys
        }
        videos = [
            {key: (path, [offset + t for t in seconds[key][i]]) for key, (path, offset) in files.items()}
            for i, (_, _, files) in enumerate(spans)
        ]
        return _BatchPlan(idx, episodes, frame.tolist(), rows, pads, videos)

    def _assemble(self, plan: _BatchPlan, videos: dict[str, torch.Tensor]) -> Items:
        """The flat items (decoded videos, columns, pads, task) and the batch tensors their
        values are views of: numeric columns are gathered once for the whole batch."""
        meta = self.meta
        stacked: dict[str, torch.Tensor] = {}
        for name in self._columns:
            if name in self._tensors:
                # gathered by numpy: a torch gather of an action chunk starts torch's OpenMP threads,
                # which then spin through the decode threads' codec calls (see video._convert)
                rows = plan.rows.get(name)
                column = self._tensors[name].numpy()
                stacked[name] = torch.from_numpy(column[rows if rows is not None else plan.idx])
        pads = {f"{key}_is_pad": torch.from_numpy(pad) for key, pad in plan.pads.items()}
        # a single frame is (C, H, W), as in LeRobot
        videos = {k: v.squeeze(1) if v.shape[1] == 1 else v for k, v in videos.items()}
        # each item's views, made at once per tensor (unbind: one call, not one index per item)
        views = {name: t.unbind(0) for name, t in (*videos.items(), *stacked.items(), *pads.items())}
        task_index = self._tensors["task_index"].numpy()[plan.idx].tolist()
        transformed = self.image_transforms is not None
        items = []
        for i, idx in enumerate(plan.idx.tolist()):
            item: dict = {}
            for key in meta.video_keys:
                item[key] = views[key][i]
            for name in self._columns:
                rows = plan.rows.get(name)
                if name in stacked:
                    item[name] = views[name][i]
                elif name in self._images:
                    if rows is not None:
                        item[name] = torch.stack([self._image(name, r) for r in rows[i].tolist()])
                    else:
                        item[name] = self._image(name, idx)
                    if not self.return_uint8:
                        item[name] = torch.from_numpy(np.divide(item[name].numpy(), _255, dtype=np.float32))
                else:
                    vals = self._objects[name]
                    item[name] = (
                        [vals[r].as_py() for r in rows[i].tolist()] if rows is not None else vals[idx].as_py()
                    )
            for name in pads:
                item[name] = views[name][i]
            if transformed:
                for cam in meta.camera_keys:
                    if not meta.features[cam].is_depth:
                        item[cam] = self.image_transforms(item[cam])
            try:
                item["task"] = meta.tasks[task_index[i]]
            except IndexError:
                raise DatasetFileError(
                    f"{self.root}: frame {plan.frames[i]} (episode {plan.episodes[i]}) has task_index "
                    f"{task_index[i]} but meta/tasks.parquet has {len(meta.tasks)} tasks"
                ) from None
            items.append(item)
        stacked.update(pads)
        if not transformed:  # transformed images are new tensors: collate stacks them
            stacked.update(videos)
        return Items(items, stacked)

    def __getitem__(self, idx) -> TensorDict:
        """`ds[i]`: one item (batch size []); `ds[a:b]`, `ds[[i, j]]`: a stacked `Batch`."""
        return get_items(self, idx)

    def __getitems__(self, indices: list[int]) -> Items:
        """Batched fetch used by `torch.utils.data.DataLoader`: raw dicts, collated by `loader`.

        Every video frame of the batch is decoded in parallel into one tensor per camera (see
        `read.frames`); the items are views into it and into the batch's column tensors, and
        `collate` takes those tensors as the batch's.
        """
        plan = self._plan(indices)
        requests = (
            VideoRequest(i, key, path, ts, plan.episodes[i])
            for i, videos in enumerate(plan.videos)
            for key, (path, ts) in videos.items()
        )
        dtype = torch.uint8 if self.return_uint8 else torch.float32
        videos = decode_batch(self.decoder, self._threads, requests, len(plan.idx), dtype, self.tolerance_s)
        return self._assemble(plan, videos)

    # -- lifecycle ------------------------------------------------------------------------
    def close(self) -> None:
        """Close open video files and the decode thread pool (the dataset stays usable)."""
        self._threads.close()
        self.decoder.close()
        buffers.drop_free()

    def __enter__(self) -> Dataset:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"Dataset(root={str(self.root)!r}, frames={len(self)}, episodes={len(self.episodes)}, "
            f"fps={self.fps}, video_backend={self.video_backend!r}, "
            f"delta_timestamps={self.delta_timestamps}, return_uint8={self.return_uint8})"
        )


to_tensordict = from_flat_dict  # a flat item {dotted name: value} -> nested TensorDict


def open(
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
) -> Dataset:
    """Open a LeRobotDataset v3.0 from a local directory, a Hub repo id (`user/name`) or a sample
    dataset (`"sample:pusht"`, see `sample_dataset`).

    For a repo id the files go to `root` (default `$HF_LEROBOT_HOME/<repo_id>`, shared with
    LeRobot); only the files of `episodes` are fetched when given. See `Dataset` for items.
    """
    from lerobot_fn.data import hub
    from lerobot_fn.data.sample import resolve_source

    source = resolve_source(source)
    path = Path(source)
    repo_id = None
    if path.is_dir():
        local = path
    elif isinstance(source, str) and hub.looks_like_repo_id(source):
        repo_id = source
        try:
            local = hub.download(
                source, root=root, revision=revision, episodes=None if episodes is None else list(episodes)
            )
        except DatasetFileError as e:  # a mistyped local path looks like "user/name" too: say both
            raise DatasetFileError(
                f"no local dataset directory {path.absolute()}, and the Hub lookup of {source!r} failed: {e}"
            ) from e
    else:
        what = "is not a directory" if path.exists() else "does not exist"
        raise DatasetFileError(
            f"no dataset directory at {path.absolute()}: it {what} (and {str(source)!r} is not a Hub repo id user/name)"
        )
    meta = DatasetMeta.load(local, repo_id=repo_id)
    return Dataset(
        meta,
        episodes=episodes,
        delta_timestamps=delta_timestamps,
        tolerance_s=tolerance_s,
        image_transforms=image_transforms,
        video_backend=video_backend,
        return_uint8=return_uint8,
    )
