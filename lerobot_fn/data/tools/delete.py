"""Delete episodes: a new dataset without them, every remaining episode re-indexed from 0."""

from __future__ import annotations

from pathlib import Path

from lerobot_fn.data.tools.build import DatasetBuilder, copy_episode
from lerobot_fn.data.tools.source import Source


def delete_episodes(root: str | Path, episodes: list[int], output: str | Path) -> Path:
    """Write `output` = `root` minus `episodes`; frames, indices, tasks and stats re-indexed."""
    src = Source.open(root)
    unknown = sorted(set(episodes) - set(src.episode_indices))
    if unknown:
        raise ValueError(
            f"delete_episodes: episodes {unknown} not in {src.root} "
            f"(it has {src.episode_indices[0]}..{src.episode_indices[-1]})"
        )
    keep = [e for e in src.episode_indices if e not in set(episodes)]
    if not keep:
        raise ValueError(f"delete_episodes: deleting {sorted(episodes)} would leave {src.root} empty")
    with DatasetBuilder(output, src.info) as b:
        for e in keep:
            copy_episode(b, src, e)
        return b.close()
