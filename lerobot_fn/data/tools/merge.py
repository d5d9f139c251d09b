"""Merge datasets with the same fps and features into one (episodes in input order)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from lerobot_fn.data.tools.build import DatasetBuilder, copy_episode
from lerobot_fn.data.tools.source import Source


def _comparable(features: dict) -> dict:
    """Features without the per-file video details that may differ harmlessly."""
    out = {}
    for k, f in features.items():
        g = {kk: vv for kk, vv in f.items() if kk != "info"}
        g["shape"] = list(g.get("shape") or [])
        out[k] = g
    return out


def merge(roots: Sequence[str | Path], output: str | Path) -> Path:
    """Write `output` holding every episode of `roots`, re-indexed; tasks are unified."""
    if len(roots) < 2:
        raise ValueError(f"merge: give at least two datasets, got {list(roots)}")
    sources = [Source.open(r) for r in roots]
    first = sources[0]
    for s in sources[1:]:
        if s.fps != first.fps:
            raise ValueError(f"merge: {s.root} has fps {s.fps}, {first.root} has {first.fps}")
        a, b = _comparable(first.features), _comparable(s.features)
        if a != b:
            diff = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
            raise ValueError(f"merge: features of {s.root} differ from {first.root} at {diff}")
        for k in first.video_keys:
            ca = (first.features[k].get("info") or {}).get("video.codec")
            cb = (s.features[k].get("info") or {}).get("video.codec")
            if ca != cb:
                raise ValueError(
                    f"merge: video {k!r} is {ca} in {first.root} but {cb} in {s.root}; "
                    "re-encode one of them first"
                )
    with DatasetBuilder(output, first.info) as b:
        for s in sources:
            for e in s.episode_indices:
                copy_episode(b, s, e)
        return b.close()
