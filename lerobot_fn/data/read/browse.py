"""Interactive viewing of a dataset: one frame's camera images on demand, an episode's signals.

`DatasetBrowser` keeps one reader open (video containers stay open between calls) and decodes
only the frame asked for, so moving a frame slider costs one seek-and-decode per camera.
`episode_signals` reads an episode's low-dimensional columns straight from its parquet file,
without touching the videos. Both serve `notebooks/explore_dataset.py`.
"""

from __future__ import annotations

import os
from typing import Self

import numpy as np
import pyarrow.compute as pc

from lerobot_fn.data.meta import DatasetMeta, read_parquet
from lerobot_fn.data.read.columns import column_to_numpy
from lerobot_fn.data.read.reader import Dataset
from lerobot_fn.data.read.reader import open as open_dataset
from lerobot_fn.data.read.summary import signal_features


def episode_signals(
    meta: DatasetMeta, episode: int, features: list[str] | None = None
) -> dict[str, np.ndarray]:
    """An episode's numeric features as numpy arrays of shape (length, dim), in frame order,
    plus `frame_index` (length,). `features` defaults to `signal_features(meta)`."""
    features = signal_features(meta) if features is None else list(features)
    unknown = [f for f in features if f not in meta.features or meta.features[f].is_visual]
    if unknown:
        raise KeyError(f"episode_signals: {unknown} are not numeric features of {meta.root}")
    path = meta.root / meta.data_file(episode)
    table = read_parquet(path, columns=["episode_index", "frame_index", *features])
    table = table.filter(pc.equal(table.column("episode_index"), episode))
    table = table.sort_by("frame_index")
    out = {"frame_index": column_to_numpy(table.column("frame_index"), (1,), "frame_index", str(path))}
    for name in features:
        values = column_to_numpy(table.column(name), meta.features[name].shape, name, str(path))
        out[name] = values.reshape(len(table), -1).astype(np.float64)
    return out


class DatasetBrowser:
    """An open dataset for looking at, frame by frame.

    `frame(episode, frame_index)` gives every camera of that frame as uint8 HWC numpy arrays
    (one seek and decode per camera on the open containers); `close()` (or `with`) releases the
    video files. `source` is a local dataset root or a Hub repo id, as for `data.open`.
    """

    def __init__(self, source: str | os.PathLike | Dataset):
        self.dataset = source if isinstance(source, Dataset) else open_dataset(source, return_uint8=True)
        if not self.dataset.return_uint8:
            raise ValueError("DatasetBrowser needs a dataset opened with return_uint8=True")
        self.meta = self.dataset.meta

    @property
    def episodes(self) -> list[int]:
        return list(self.dataset.episodes)

    def episode_length(self, episode: int) -> int:
        start, end = self.meta.episode_range(episode)
        return end - start

    def _position(self, episode: int, frame_index: int) -> int:
        """Row position in the dataset of one frame (rows are stored episode after episode)."""
        length = self.episode_length(episode)
        if not 0 <= frame_index < length:
            raise IndexError(
                f"episode {episode} of {self.meta.root} has frames 0..{length - 1}, not {frame_index}"
            )
        first = sum(self.episode_length(e) for e in self.dataset.episodes if e < episode)
        return first + frame_index

    def frame(self, episode: int, frame_index: int) -> dict[str, np.ndarray]:
        """{camera key: uint8 (H, W, C)} for one frame of one episode."""
        if episode not in set(self.dataset.episodes):
            raise IndexError(f"episode {episode} not in {self.meta.root} (it has {self.episodes})")
        item = self.dataset.get_raw(self._position(episode, frame_index))
        if int(item["episode_index"]) != episode or int(item["frame_index"]) != frame_index:
            raise RuntimeError(
                f"{self.meta.root}: row for episode {episode} frame {frame_index} holds episode "
                f"{int(item['episode_index'])} frame {int(item['frame_index'])} (rows out of order?)"
            )
        return {key: item[key].permute(1, 2, 0).numpy() for key in self.meta.camera_keys}

    def signals(self, episode: int, features: list[str] | None = None) -> dict[str, np.ndarray]:
        """`episode_signals` of this dataset."""
        return episode_signals(self.meta, episode, features)

    def close(self) -> None:
        self.dataset.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"DatasetBrowser({str(self.meta.root)!r}, episodes={len(self.dataset.episodes)})"
