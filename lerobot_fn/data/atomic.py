"""Crash-safe file writes: write a hidden temporary file, fsync it, rename it into place.

A reader (or a kill -9) sees either the old file or the new one, never half of one.
Temporary names start with "." and end in ".tmp-<pid>", so LeRobot's `*/*.parquet` globs and
ours never pick them up, and `remove_temporaries` can clean them after a crash.
OS errors become `DatasetWriteError`s that say which file and why (disk full, no permission).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lerobot_fn.data.errors import DatasetError

TMP_MARK = ".tmp-"
STAGING_DIR = ".staging"  # in-progress episode videos live here, inside the dataset root

_DISK_FULL = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}
_NO_ACCESS = {errno.EACCES, errno.EPERM, errno.EROFS}


class DatasetWriteError(DatasetError, OSError):
    """Writing a dataset file failed (disk full, no permission, ...); names the file.

    Every episode saved before the failure is still on disk and loadable.
    """


def explain_os_error(e: OSError, path: Path | str, doing: str = "writing") -> DatasetWriteError:
    """Turn an OSError into a DatasetWriteError naming the file, the cause and what to do."""
    if e.errno in _DISK_FULL:
        why = "the disk is full (or a file-size limit was reached); free some space and save again"
    elif e.errno in _NO_ACCESS:
        why = "permission denied; choose a directory you can write to or fix its permissions"
    else:
        why = e.strerror or str(e)
    err = DatasetWriteError(f"{doing} {path} failed: {why} [{errno.errorcode.get(e.errno or 0, e.errno)}]")
    err.errno = e.errno
    return err


@contextlib.contextmanager
def os_errors(path: Path | str, doing: str = "writing") -> Iterator[None]:
    """Re-raise OSErrors inside the block as DatasetWriteErrors about `path`."""
    try:
        yield
    except (DatasetWriteError, FileExistsError):
        raise
    except OSError as e:
        raise explain_os_error(e, path, doing) from e


def tmp_path(path: Path) -> Path:
    """The hidden temporary sibling of `path` used while writing it."""
    return path.with_name(f".{path.name}{TMP_MARK}{os.getpid()}")


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def commit(tmp: Path, path: Path) -> None:
    """fsync `tmp`, rename it onto `path`, fsync the directory."""
    with os_errors(path):
        fsync_file(tmp)
        os.replace(tmp, path)
        fsync_dir(path.parent)


@contextlib.contextmanager
def atomic_path(path: Path | str) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces `path` atomically, on error
    it is removed and `path` is untouched."""
    path = Path(path)
    with os_errors(path):
        path.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp_path(path)
    try:
        with os_errors(path):
            yield tmp
        commit(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_bytes(path: Path | str, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_json(path: Path | str, obj: Any) -> None:
    """Write json as LeRobot does (indent 4, UTF-8 kept as is), atomically."""
    write_bytes(path, json.dumps(obj, indent=4, ensure_ascii=False).encode("utf-8"))


def write_table(path: Path | str, table) -> None:
    """Write a pyarrow Table to parquet (snappy, dictionary encoding, as LeRobot), atomically."""
    import pyarrow.parquet as pq

    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="snappy", use_dictionary=True)


def remove_temporaries(root: Path) -> list[Path]:
    """Delete temporary files left by a crashed writer under `root`; returns what was removed."""
    import shutil

    removed = []
    staging = root / STAGING_DIR
    if staging.exists():
        shutil.rmtree(staging, ignore_errors=True)
        removed.append(staging)
    for p in root.rglob(f".*{TMP_MARK}*"):
        p.unlink(missing_ok=True)
        removed.append(p)
    return removed


@contextlib.contextmanager
def built_directory(target: Path | str, *, done: str) -> Iterator[Path]:
    """Build a directory in a temporary folder beside `target`, renamed to `target` when the block
    succeeds: `target` is complete or absent, whatever kills the builder. When another process put a
    complete copy there first (`target/done` exists), that copy is kept and this one removed; the
    temporary folder is removed on every exit path."""
    import shutil
    import tempfile

    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(prefix=f".{target.name}.building-", dir=target.parent))
    try:
        yield build
        try:
            build.rename(target)  # atomic; fails when another process has put its copy there first
        except OSError:
            if not (target / done).exists():
                raise
    finally:
        shutil.rmtree(build, ignore_errors=True)
