"""Where each episode goes: the current data, video and episodes files and their rollover.

`Layout` appends one episode at a time to the current file of each kind, moving to the next
file (`chunk-XXX/file-YYY`, `chunks_size` files per chunk) when the file would reach its
size limit, with the same rules as LeRobot 0.6.1. Every file is rewritten through a
temporary file and an atomic rename, so a crash leaves the previous version in place.
"""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
from attrs import define, field

from lerobot_fn.data import atomic, tables
from lerobot_fn.data.meta import DEFAULT_EPISODES_PATH
from lerobot_fn.data.remux import concat_videos


def next_file(chunk: int, file: int, chunks_size: int) -> tuple[int, int]:
    """The file after (chunk, file): files 0..chunks_size-1 per chunk directory."""
    return (chunk + 1, 0) if file == chunks_size - 1 else (chunk, file + 1)


def size_mb(path: Path) -> float:
    return path.stat().st_size / (1024**2)


@define
class VideoCursor:
    chunk: int
    file: int
    end_s: float  # to_timestamp of the last episode in the file


@define
class FileCursor:
    """The current data file and episodes file (None before the first episode)."""

    data: tuple[int, int] | None = None
    data_table: pa.Table | None = None
    episodes: tuple[int, int] | None = None
    episode_rows: list[dict] = field(factory=list)

    @classmethod
    def empty(cls) -> FileCursor:
        return cls()


class Layout:
    """Appends episodes to a dataset root's files; see the module docstring."""

    def __init__(self, root: Path, info: dict, cursor: FileCursor, videos: dict[str, VideoCursor]) -> None:
        self.root = Path(root)
        self.info = info
        self.cursor = cursor
        self.videos = videos

    @property
    def chunks_size(self) -> int:
        return int(self.info["chunks_size"])

    def data_path(self, chunk: int, file: int) -> Path:
        return self.root / self.info["data_path"].format(chunk_index=chunk, file_index=file)

    def video_path(self, key: str, chunk: int, file: int) -> Path:
        return self.root / self.info["video_path"].format(video_key=key, chunk_index=chunk, file_index=file)

    def episodes_path(self, chunk: int, file: int) -> Path:
        return self.root / DEFAULT_EPISODES_PATH.format(chunk_index=chunk, file_index=file)

    def staging_video(self, key: str, episode: int) -> Path:
        return self.root / atomic.STAGING_DIR / f"{key}_episode-{episode:06d}_{os.getpid()}.mp4"

    # -- data -------------------------------------------------------------------------------
    def append_frames(self, table: pa.Table, first_index: int) -> dict:
        """Append an episode's rows to the current data file (or the next one when full)."""
        n = table.num_rows
        c = self.cursor
        if c.data is None:
            c.data, c.data_table = (0, 0), None
        else:
            path = self.data_path(*c.data)
            rows = c.data_table.num_rows if c.data_table is not None else 0
            current = size_mb(path) if path.exists() else 0.0
            per_frame = current / rows if rows else 0.0
            if current + per_frame * n >= float(self.info["data_files_size_in_mb"]):
                c.data, c.data_table = next_file(*c.data, self.chunks_size), None
        combined = table if c.data_table is None else pa.concat_tables([c.data_table, table])
        atomic.write_table(self.data_path(*c.data), combined)
        c.data_table = combined
        return {
            "data/chunk_index": c.data[0],
            "data/file_index": c.data[1],
            "dataset_from_index": first_index,
            "dataset_to_index": first_index + n,
        }

    # -- videos -----------------------------------------------------------------------------
    def append_video(self, key: str, staged: Path, duration_s: float) -> dict:
        """Append an episode's staged mp4 to the key's current video file (packet copy)."""
        cur = self.videos.get(key)
        start = 0.0
        if cur is None:
            chunk, file = self._first_video_file(key)
            self._move_into(staged, self.video_path(key, chunk, file))
        else:
            path = self.video_path(key, cur.chunk, cur.file)
            if size_mb(path) + size_mb(staged) >= float(self.info["video_files_size_in_mb"]):
                chunk, file = next_file(cur.chunk, cur.file, self.chunks_size)
                self._move_into(staged, self.video_path(key, chunk, file))
            else:
                chunk, file, start = cur.chunk, cur.file, cur.end_s
                with atomic.atomic_path(path) as tmp:
                    concat_videos([path, staged], tmp)
                staged.unlink(missing_ok=True)
        self.videos[key] = VideoCursor(chunk, file, start + duration_s)
        return {
            f"videos/{key}/chunk_index": chunk,
            f"videos/{key}/file_index": file,
            f"videos/{key}/from_timestamp": start,
            f"videos/{key}/to_timestamp": start + duration_s,
        }

    def _first_video_file(self, key: str) -> tuple[int, int]:
        rows = self.cursor.episode_rows
        if rows and f"videos/{key}/chunk_index" in rows[-1]:
            return next_file(
                rows[-1][f"videos/{key}/chunk_index"], rows[-1][f"videos/{key}/file_index"], self.chunks_size
            )
        return 0, 0

    @staticmethod
    def _move_into(staged: Path, path: Path) -> None:
        with atomic.os_errors(path):
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic.fsync_file(staged)
            os.replace(staged, path)
            atomic.fsync_dir(path.parent)

    # -- episodes metadata --------------------------------------------------------------------
    def append_episode(self, row: dict) -> None:
        """Append one episode's metadata row to the current episodes file (or the next)."""
        c = self.cursor
        if c.episodes is None:
            c.episodes, c.episode_rows = (0, 0), []
        elif c.episode_rows:
            path = self.episodes_path(*c.episodes)
            if path.exists():
                current = size_mb(path)
                last = int(c.episode_rows[-1]["episode_index"])
                per_frame = current / last if last > 0 else 0.0
                if current + per_frame * int(row["length"]) >= float(self.info["data_files_size_in_mb"]):
                    c.episodes, c.episode_rows = next_file(*c.episodes, self.chunks_size), []
        row = {k: tables.json_safe(v) for k, v in row.items()}
        row["meta/episodes/chunk_index"], row["meta/episodes/file_index"] = c.episodes
        rows = [*c.episode_rows, row]
        atomic.write_table(self.episodes_path(*c.episodes), tables.episodes_table(rows))
        c.episode_rows = rows
