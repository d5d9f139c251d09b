"""What a job gets to talk to the world: its output folder, seed, logger and progress bars (a value).

The run directory itself (creating it, `spec.toml` / `run.json` / `log.txt` / `result.json`, the git
revision) is the shell `lerobot_fn.run_dir`'s, which hands a job this value.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TypeVar

import attrs

T = TypeVar("T")


@attrs.frozen
class RunContext:
    """Handed to every job's run function; jobs write only under `out_dir`."""

    out_dir: Path
    seed: int
    log: logging.Logger
    resume: bool = False

    def progress(self, iterable: Iterable[T], *, desc: str, total: int | None = None) -> Iterator[T]:
        """A progress bar on stderr (quiet when stderr is not a terminal)."""
        from tqdm import tqdm

        return iter(tqdm(iterable, desc=desc, total=total, disable=not sys.stderr.isatty(), leave=False))
