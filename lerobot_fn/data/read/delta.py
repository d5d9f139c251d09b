"""`delta_timestamps` semantics, as pure functions (LeRobot's rules).

Offsets in seconds become frame offsets `round(delta * fps)`; each must be a multiple of 1/fps
within `tolerance_s`. Query frames are clamped to the episode; `<key>_is_pad` marks the ones
that fell outside it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from lerobot_fn.data.errors import DeltaTimestampsError


def check_delta_timestamps(
    delta_timestamps: Mapping[str, Iterable[float]],
    fps: float,
    tolerance_s: float,
    features: Iterable[str] | None = None,
) -> None:
    """Raise DeltaTimestampsError for an unknown feature or an offset off the 1/fps grid."""
    if features is not None:
        known = list(features)
        unknown = [k for k in delta_timestamps if k not in known]
        if unknown:
            raise DeltaTimestampsError(
                f"delta_timestamps names feature(s) {unknown} that the dataset does not have; "
                f"known features: {known}"
            )
    off_grid = {}
    for key, deltas in delta_timestamps.items():
        deltas = list(deltas)
        if not deltas:
            raise DeltaTimestampsError(f"delta_timestamps[{key!r}] is empty")
        bad = [d for d in deltas if abs(d * fps - round(d * fps)) / fps > tolerance_s]
        if bad:
            off_grid[key] = bad
    if off_grid:
        raise DeltaTimestampsError(
            f"delta_timestamps must be multiples of 1/fps = 1/{fps} s (within tolerance_s={tolerance_s}); "
            f"these are not: {off_grid}"
        )


def delta_indices(delta_timestamps: Mapping[str, Iterable[float]], fps: float) -> dict[str, np.ndarray]:
    """Offsets in seconds -> int64 frame offsets per feature."""
    return {k: np.array([round(d * fps) for d in v], dtype=np.int64) for k, v in delta_timestamps.items()}


def query_frames(
    index: np.ndarray, episode_start: np.ndarray, episode_end: np.ndarray, offsets: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For items at global frames `index` (B,) of episodes [start, end) (B,): the (B, K) global
    frame indices of one feature's K offsets, clamped to the episode, and the is_pad mask."""
    wanted = index[:, None] + offsets[None, :]
    lo, hi = episode_start[:, None], episode_end[:, None] - 1
    is_pad = (wanted < lo) | (wanted > hi)
    return np.clip(wanted, lo, hi), is_pad
