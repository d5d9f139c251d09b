"""Playing action chunks without stalls: pure pieces of the schedule a background worker follows.

A policy predicts a chunk of H actions from the observation at tick t0. While the current chunk
plays, the next one is computed from a later observation; when it arrives `elapsed` ticks after
its observation, its first `elapsed` actions are already in the past and are dropped, and where
it overlaps what is left of the current chunk the two are cross-faded (the old plan hands over
smoothly to the new one, in the spirit of real-time chunking), so the arm never jumps or waits.
"""

from __future__ import annotations

import numpy as np


def blend_chunks(remaining: np.ndarray, new_chunk: np.ndarray, *, elapsed: int, blend_steps: int) -> np.ndarray:
    """The actions to play from now on.

    remaining: (R, D) actions of the current chunk not played yet (R may be 0);
    new_chunk: (H, D) the new chunk, its action 0 meant for the tick of its observation;
    elapsed: ticks between that observation and now; blend_steps: length of the cross-fade.
    Over the overlap the weight of the new chunk rises linearly from 1/(n+1) to n/(n+1).
    """
    if new_chunk.ndim != 2:
        raise ValueError(f"new_chunk must be (H, D), got shape {new_chunk.shape}")
    if elapsed < 0:
        raise ValueError(f"elapsed must be >= 0, got {elapsed}")
    fresh = np.asarray(new_chunk[elapsed:], dtype=np.float64)
    if len(fresh) == 0:  # the new chunk came too late to contribute anything; keep what is left
        return np.asarray(remaining, dtype=np.float64)
    if remaining is None or len(remaining) == 0 or blend_steps <= 0:
        return fresh
    if remaining.shape[1:] != fresh.shape[1:]:
        raise ValueError(f"chunk action size {fresh.shape[1:]} differs from the playing chunk's {remaining.shape[1:]}")
    n = min(len(remaining), len(fresh), blend_steps)
    w = (np.arange(1, n + 1, dtype=np.float64) / (n + 1))[:, None]
    out = fresh.copy()
    out[:n] = (1 - w) * np.asarray(remaining[:n], dtype=np.float64) + w * fresh[:n]
    return out


def request_margin(latency_ticks: float, *, safety: int = 2) -> int:
    """How many actions should still be queued when the next chunk is requested, so it arrives in time:
    the measured inference latency in ticks, rounded up, plus a safety margin."""
    return int(np.ceil(max(0.0, latency_ticks))) + safety
