"""The run directory shell: creates it, records how to repeat the run, logs into it, writes the result.

A run directory holds everything needed to run it again: `spec.toml` (resolved), `run.json` (seed,
package versions, git revision, command line), `log.txt`, and the job's `result.json`. `open_run` is
a context manager (the log files are released on every exit); the job itself only sees the pure
`specs.RunContext` value it yields. `lerobot-run` (`cli.py`) is its user.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import importlib.metadata
import json
import logging
import os
import platform
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lerobot_fn.specs.context import RunContext

RECORDED_PACKAGES = (
    "lerobot-fn", "torch", "torchvision", "tensordict", "torchrl", "av", "pyarrow", "datasets",
    "huggingface_hub", "safetensors", "attrs", "cattrs", "numpy", "gymnasium",
)


def default_run_dir(job: str, now: _dt.datetime | None = None) -> Path:
    stamp = (now or _dt.datetime.now()).strftime("%Y-%m-%d_%H-%M-%S")
    return Path("outputs") / job.replace(".", "_") / stamp


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in RECORDED_PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return versions


def git_revision(start: Path | None = None) -> dict[str, Any]:
    """The commit of the lerobot-fn checkout (and whether it had local changes), if it is one."""
    where = start or Path(__file__).resolve().parents[1]
    try:
        def git(*args: str) -> subprocess.CompletedProcess:
            return subprocess.run(["git", *args], cwd=where, capture_output=True, text=True, timeout=10, check=False)

        rev = git("rev-parse", "HEAD")
        if rev.returncode != 0:
            return {}
        dirty = git("status", "--porcelain", "--untracked-files=no")
        return {"commit": rev.stdout.strip(), "dirty": bool(dirty.stdout.strip())}
    except (OSError, subprocess.SubprocessError):
        return {}


RUN_FILES = ("spec.toml", "run.json")


def make_run_dir(out_dir: Path, *, unique: bool) -> Path:
    """Create the run directory; never reuse one that holds a run.

    `unique` (a default name such as outputs/train/<timestamp>): when taken, `_2`, `_3`, ... is
    appended, so runs started in the same second get their own directories. An explicit directory
    that already holds a run's files is an error (`FileExistsError`); an empty one is used."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    candidate, n = out_dir, 1
    while True:
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            if not unique:
                held = [name for name in RUN_FILES if (candidate / name).exists()]
                if held:
                    raise FileExistsError(
                        errno.EEXIST,
                        f"it already holds a run ({', '.join(held)}); continue it with --resume {candidate}",
                        str(candidate),
                    ) from None
                return candidate
            n += 1
            candidate = out_dir.with_name(f"{out_dir.name}_{n}")


@contextlib.contextmanager
def open_run(
    out_dir: Path, *, job: str, spec_toml: str, seed: int, resume: bool = False, unique: bool = False
) -> Iterator[RunContext]:
    """Create (or reopen, when resuming) the run directory, record how to repeat the run, and yield
    the job's `RunContext`; its log files are released on every exit.

    The directory used is `ctx.out_dir` (with `unique`, possibly `out_dir` plus a suffix; see
    `make_run_dir`)."""
    if resume:
        out_dir.mkdir(parents=True, exist_ok=True)
    else:
        out_dir = make_run_dir(out_dir, unique=unique)
    (out_dir / "spec.toml").write_text(spec_toml, encoding="utf-8")
    record = {
        "job": job,
        "seed": seed,
        "started": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "command": [Path(sys.argv[0]).name, *sys.argv[1:]],
        "cwd": os.getcwd(),
        "resume": resume,
        "versions": package_versions(),
        "git": git_revision(),
        "repeat": f"lerobot-run {out_dir / 'spec.toml'}",
    }
    (out_dir / "run.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    log = _logger(out_dir, job)
    try:
        yield RunContext(out_dir=out_dir, seed=seed, log=log, resume=resume)
    finally:
        _release(log)


FILE_ONLY = {"terminal": False}  # `log.info(..., extra=FILE_ONLY)`: into log.txt, not onto the terminal
PACKAGE_LOG = logging.getLogger("lerobot_fn")


def _to_terminal(record: logging.LogRecord) -> bool:
    return getattr(record, "terminal", True)


def _logger(out_dir: Path, job: str) -> logging.Logger:
    """The run's logger: every record goes to `log.txt` and (unless FILE_ONLY) to stderr. The library's
    own loggers (`lerobot_fn.data.write.writer`, ...) go to the same two places while the run is open."""
    log = logging.getLogger(f"lerobot_fn.run.{job}.{out_dir}")
    log.setLevel(logging.INFO)
    log.propagate = False
    _release(log)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S")
    to_file = logging.FileHandler(out_dir / "log.txt", encoding="utf-8")
    to_err = logging.StreamHandler(sys.stderr)
    to_err.addFilter(_to_terminal)
    for handler in (to_file, to_err):
        handler.setFormatter(fmt)
        log.addHandler(handler)
        PACKAGE_LOG.addHandler(handler)
    if PACKAGE_LOG.level == logging.NOTSET or PACKAGE_LOG.level > logging.INFO:
        PACKAGE_LOG.setLevel(logging.INFO)
    return log


def _release(log: logging.Logger) -> None:
    for handler in list(log.handlers):
        handler.close()
        log.removeHandler(handler)
        PACKAGE_LOG.removeHandler(handler)


def write_result(ctx: RunContext, result: Any) -> None:
    """Write the job's result (`result.json`; nothing for a job that returns None)."""
    if result is not None:
        (ctx.out_dir / "result.json").write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")
