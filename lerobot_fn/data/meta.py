"""LeRobotDataset v3.0 metadata: meta/info.json, stats.json, tasks.parquet, episodes/*.parquet.

`DatasetMeta.load(root)` reads them all (small files) and offers the path templates and the
per-episode lookups a reader needs: which data/video file holds an episode, its frame range,
its offset inside a concatenated video file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from attrs import field, frozen

from lerobot_fn.data.errors import V21_HINT, DatasetError, DatasetFileError, DatasetVersionError
from lerobot_fn.data.features import Feature, parse_features

CODEBASE_VERSION = "v3.0"

# Layout and defaults, as LeRobot 0.6.1 writes them.
DEFAULT_CHUNK_SIZE = 1000  # max files per chunk directory
DEFAULT_DATA_FILE_SIZE_IN_MB = 100
DEFAULT_VIDEO_FILE_SIZE_IN_MB = 200
INFO_PATH = "meta/info.json"
STATS_PATH = "meta/stats.json"
TASKS_PATH = "meta/tasks.parquet"
EPISODES_DIR = "meta/episodes"
DATA_DIR = "data"
VIDEO_DIR = "videos"
CHUNK_FILE_PATTERN = "chunk-{chunk_index:03d}/file-{file_index:03d}"
DEFAULT_EPISODES_PATH = EPISODES_DIR + "/" + CHUNK_FILE_PATTERN + ".parquet"
DEFAULT_DATA_PATH = DATA_DIR + "/" + CHUNK_FILE_PATTERN + ".parquet"
DEFAULT_VIDEO_PATH = VIDEO_DIR + "/{video_key}/" + CHUNK_FILE_PATTERN + ".mp4"
LEGACY_EPISODES_PATH = "meta/episodes.jsonl"
LEGACY_TASKS_PATH = "meta/tasks.jsonl"


def read_json(path: Path) -> Any:
    """Read a json file, naming the file in any error."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise DatasetFileError(f"missing file: {path}") from None
    except json.JSONDecodeError as e:
        raise DatasetFileError(f"{path} is not valid JSON ({e})") from e


def read_parquet(path: Path, columns: list[str] | None = None) -> pa.Table:
    """Read a parquet file, turning missing/truncated files into a DatasetFileError naming it."""
    if not Path(path).is_file():
        raise DatasetFileError(f"missing file: {path}")
    try:
        return pq.read_table(path, columns=columns)
    except (pa.ArrowInvalid, pa.ArrowIOError, OSError) as e:
        raise DatasetFileError(f"cannot read parquet file {path} (truncated or corrupt?): {e}") from e


def check_version(root: Path, info: dict) -> str:
    """Return the codebase version, raising DatasetVersionError for v2.x or future majors."""
    version = str(info.get("codebase_version", ""))
    if not version.startswith("v"):
        raise DatasetVersionError(f"{root / INFO_PATH}: no valid 'codebase_version' (got {version!r})")
    try:
        major = int(version[1:].split(".")[0])
    except ValueError:
        raise DatasetVersionError(f"{root / INFO_PATH}: cannot parse codebase_version {version!r}") from None
    if major < 3:
        raise DatasetVersionError(
            f"{root} is a LeRobotDataset {version} (meta/info.json codebase_version). "
            + V21_HINT.format(root=root)
        )
    if major > 3:
        raise DatasetVersionError(
            f"{root} is a LeRobotDataset {version}, newer than the {CODEBASE_VERSION} this "
            "lerobot-fn reads; update lerobot-fn."
        )
    return version


def load_info(root: Path) -> dict:
    """meta/info.json as a dict; a v2.1 layout (jsonl metadata) gets the conversion hint."""
    root = Path(root)
    path = root / INFO_PATH
    if not path.is_file():
        if not root.exists():
            raise DatasetFileError(f"dataset root does not exist: {root}")
        raise DatasetFileError(f"missing file: {path} ({root} is not a LeRobotDataset root)")
    info = read_json(path)
    check_version(root, info)  # a v2.x dataset stops here with the conversion hint
    for key in ("fps", "features"):
        if key not in info:
            raise DatasetError(f"{path}: missing required key {key!r}")
    return info


def load_stats(root: Path) -> dict[str, dict[str, np.ndarray]]:
    """meta/stats.json as {feature: {stat: np.ndarray (at least 1-d)}}; {} when absent."""
    path = Path(root) / STATS_PATH
    if not path.is_file():
        return {}
    raw = read_json(path)
    return {
        feat: {stat: np.atleast_1d(np.asarray(val)) for stat, val in stats.items()}
        for feat, stats in raw.items()
    }


def load_tasks(root: Path) -> list[str]:
    """meta/tasks.parquet as the list of task strings indexed by task_index."""
    path = Path(root) / TASKS_PATH
    table = read_parquet(path)
    names = table.column_names
    if "task_index" not in names or "task" not in names:
        raise DatasetFileError(f"{path}: expected columns 'task' and 'task_index', found {names}")
    idx = table.column("task_index").to_pylist()
    text = table.column("task").to_pylist()
    tasks: list[str | None] = [None] * (max(idx) + 1 if idx else 0)
    for i, t in zip(idx, text, strict=True):
        tasks[i] = t
    return tasks  # type: ignore[return-value]


def load_episodes(root: Path, *, with_stats: bool = False) -> pa.Table:
    """All meta/episodes/*/*.parquet rows sorted by episode_index (stats/* columns dropped unless asked)."""
    ep_dir = Path(root) / EPISODES_DIR
    paths = sorted(ep_dir.glob("*/*.parquet"))
    if not paths:
        raise DatasetFileError(f"missing episodes metadata: no parquet file under {ep_dir}")
    tables = []
    for p in paths:
        cols = None
        if not with_stats:
            try:
                cols = [c for c in pq.read_schema(p).names if not c.startswith("stats/")]
            except (pa.ArrowInvalid, OSError) as e:
                raise DatasetFileError(f"cannot read parquet file {p} (truncated or corrupt?): {e}") from e
        tables.append(read_parquet(p, columns=cols))
    table = pa.concat_tables(tables, promote_options="default")
    return table.sort_by("episode_index")


@frozen
class DatasetMeta:
    """Everything in meta/: info, typed features, stats, tasks and the episodes table.

    `episodes` is a pyarrow Table (one row per episode, LeRobot's columns such as
    `dataset_from_index`, `data/chunk_index`, `videos/<key>/from_timestamp`); `episode(i)`
    gives one row as a dict.
    """

    root: Path
    info: dict
    features: dict[str, Feature]
    stats: dict[str, dict[str, np.ndarray]]
    tasks: list[str]
    episodes: pa.Table
    repo_id: str | None = None
    _rows: dict[int, int] = field(factory=dict, eq=False, repr=False)
    _columns: dict[str, list] = field(factory=dict, eq=False, repr=False)

    @classmethod
    def load(cls, root: str | Path, repo_id: str | None = None) -> DatasetMeta:
        root = Path(root)
        info = load_info(root)
        try:
            features = parse_features(info["features"])
        except ValueError as e:
            raise DatasetError(f"{root / INFO_PATH}: {e}") from e
        if info.get("total_episodes") == 0 and not any((root / EPISODES_DIR).glob("*/*.parquet")):
            raise DatasetError(
                f"{root} has no saved episode yet (meta/info.json: total_episodes 0): nothing to read; "
                f"record episodes with lerobot_fn.data.resume({str(root)!r})"
            )
        episodes = load_episodes(root)
        ep_index = episodes.column("episode_index").to_pylist()
        columns = {name: episodes.column(name).to_pylist() for name in episodes.column_names}
        return cls(
            root=root,
            info=info,
            features=features,
            stats=load_stats(root),
            tasks=load_tasks(root),
            episodes=episodes,
            repo_id=repo_id,
            rows={e: i for i, e in enumerate(ep_index)},
            columns=columns,
        )

    # -- info.json fields -------------------------------------------------------------------
    @property
    def codebase_version(self) -> str:
        return self.info["codebase_version"]

    @property
    def fps(self) -> int:
        return self.info["fps"]

    @property
    def robot_type(self) -> str | None:
        return self.info.get("robot_type")

    @property
    def total_episodes(self) -> int:
        return int(self.info.get("total_episodes", len(self._rows)))

    @property
    def total_frames(self) -> int:
        return int(self.info.get("total_frames", 0))

    @property
    def total_tasks(self) -> int:
        return int(self.info.get("total_tasks", len(self.tasks)))

    @property
    def chunks_size(self) -> int:
        return int(self.info.get("chunks_size", DEFAULT_CHUNK_SIZE))

    @property
    def data_files_size_in_mb(self) -> float:
        return self.info.get("data_files_size_in_mb", DEFAULT_DATA_FILE_SIZE_IN_MB)

    @property
    def video_files_size_in_mb(self) -> float:
        return self.info.get("video_files_size_in_mb", DEFAULT_VIDEO_FILE_SIZE_IN_MB)

    @property
    def data_path(self) -> str:
        return self.info.get("data_path") or DEFAULT_DATA_PATH

    @property
    def video_path(self) -> str | None:
        return self.info.get("video_path")

    # -- features ---------------------------------------------------------------------------
    @property
    def video_keys(self) -> list[str]:
        return [k for k, f in self.features.items() if f.is_video]

    @property
    def image_keys(self) -> list[str]:
        return [k for k, f in self.features.items() if f.is_image]

    @property
    def camera_keys(self) -> list[str]:
        return [k for k, f in self.features.items() if f.is_visual]

    @property
    def episode_indices(self) -> list[int]:
        return list(self._rows)

    # -- per-episode lookups ----------------------------------------------------------------
    def _row(self, episode_index: int) -> int:
        try:
            return self._rows[int(episode_index)]
        except KeyError:
            raise IndexError(
                f"episode {episode_index} not in {self.root / EPISODES_DIR} "
                f"(episodes: {min(self._rows, default=None)}..{max(self._rows, default=None)})"
            ) from None

    def episode(self, episode_index: int) -> dict:
        """One row of the episodes table as a dict."""
        row = self._row(episode_index)
        return {name: col[row] for name, col in self._columns.items()}

    def episode_value(self, episode_index: int, column: str) -> Any:
        """One column of one episode's row (e.g. `dataset_from_index`)."""
        row = self._row(episode_index)
        try:
            return self._columns[column][row]
        except KeyError:
            raise DatasetFileError(
                f"{self.root / EPISODES_DIR}: episodes table has no column {column!r}"
            ) from None

    def episode_range(self, episode_index: int) -> tuple[int, int]:
        """(dataset_from_index, dataset_to_index) of an episode: global frame indices, end exclusive."""
        return (
            int(self.episode_value(episode_index, "dataset_from_index")),
            int(self.episode_value(episode_index, "dataset_to_index")),
        )

    def data_file(self, episode_index: int) -> Path:
        """Relative path of the parquet file holding an episode's frames."""
        return Path(
            self.data_path.format(
                chunk_index=self.episode_value(episode_index, "data/chunk_index"),
                file_index=self.episode_value(episode_index, "data/file_index"),
            )
        )

    def video_file(self, episode_index: int, video_key: str) -> Path:
        """Relative path of the mp4 holding an episode's frames for one camera."""
        if self.video_path is None:
            raise DatasetError(f"{self.root / INFO_PATH}: video_path is null but {video_key!r} is a video")
        return Path(
            self.video_path.format(
                video_key=video_key,
                chunk_index=self.episode_value(episode_index, f"videos/{video_key}/chunk_index"),
                file_index=self.episode_value(episode_index, f"videos/{video_key}/file_index"),
            )
        )

    def video_from_timestamp(self, episode_index: int, video_key: str) -> float:
        """Where the episode starts inside its (concatenated) video file, in seconds."""
        return float(self.episode_value(episode_index, f"videos/{video_key}/from_timestamp"))

    def task_index(self, task: str) -> int | None:
        try:
            return self.tasks.index(task)
        except ValueError:
            return None

    def __repr__(self) -> str:
        return (
            f"DatasetMeta(root={str(self.root)!r}, codebase_version={self.codebase_version!r}, "
            f"fps={self.fps}, episodes={len(self._rows)}, frames={self.total_frames}, "
            f"robot_type={self.robot_type!r}, features={list(self.features)})"
        )
