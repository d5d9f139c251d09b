"""Split a dataset into several by fractions of its episodes or by explicit episode lists."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from lerobot_fn.data.tools.build import DatasetBuilder, copy_episode
from lerobot_fn.data.tools.source import Source


def fractions_to_episodes(total: int, fractions: Mapping[str, float]) -> dict[str, list[int]]:
    """LeRobot's rule: split k takes int(total * fraction) episodes in order, the last split
    takes the rest; a split with no episode is skipped."""
    if sum(fractions.values()) > 1.0 + 1e-9:
        raise ValueError(f"split fractions must sum to <= 1, got {dict(fractions)}")
    out, start, names = {}, 0, list(fractions)
    for name in names:
        count = int(total * fractions[name])
        if count == 0:
            continue
        end = total if name == names[-1] else start + count
        out[name] = list(range(start, end))
        start = end
    return out


def split(
    root: str | Path, output_dir: str | Path, splits: Mapping[str, float] | Mapping[str, Sequence[int]]
) -> dict[str, Path]:
    """Write one dataset per split under `output_dir/<name>`; `splits` maps names to
    fractions ({"train": 0.8, "val": 0.2}) or to episode lists ({"val": [3, 7]})."""
    src = Source.open(root)
    if not splits:
        raise ValueError("split: no splits given")
    if all(isinstance(v, (int, float)) for v in splits.values()):
        chosen = fractions_to_episodes(len(src.rows), splits)  # type: ignore[arg-type]
        chosen = {k: [src.episode_indices[i] for i in v] for k, v in chosen.items()}
    else:
        chosen = {k: sorted(int(e) for e in v) for k, v in splits.items()}  # type: ignore[union-attr]
        for name, eps in chosen.items():
            unknown = sorted(set(eps) - set(src.episode_indices))
            if unknown:
                raise ValueError(f"split {name!r}: episodes {unknown} not in {src.root}")
            if not eps:
                raise ValueError(f"split {name!r}: empty episode list")
    out = {}
    for name, eps in chosen.items():
        with DatasetBuilder(Path(output_dir) / name, src.info) as b:
            for e in eps:
                copy_episode(b, src, e)
            out[name] = b.close()
    return out
