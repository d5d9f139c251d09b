"""Reading a LeRobotDataset v3.0 episode by episode for the tools (tables, not tensors).

`Source.open(root)` loads meta/info.json, the tasks, every episodes row (stats included) and
gives each episode's data rows as a pyarrow Table and each video segment as (file, from, to).
Tools never decode what they only copy: rows are re-indexed columns, videos are packet copies.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from attrs import define, field

from lerobot_fn.data.errors import DatasetFileError
from lerobot_fn.data.meta import EPISODES_DIR, INFO_PATH, load_info, load_tasks


@define
class Source:
    """One input dataset: info, tasks, episode rows and lazily loaded data files."""

    root: Path
    info: dict
    tasks: list[str]
    rows: list[dict]
    _files: dict[Path, pa.Table] = field(factory=dict, repr=False)

    @classmethod
    def open(cls, root: str | Path) -> Source:
        from lerobot_fn.data.sample import resolve_source

        root = Path(resolve_source(root))
        info = load_info(root)
        rows: list[dict] = []
        for path in sorted((root / EPISODES_DIR).glob("*/*.parquet")):
            rows += pq.read_table(path).to_pylist()
        if not rows:
            raise DatasetFileError(f"{root}: no episodes under {root / EPISODES_DIR}")
        rows.sort(key=lambda r: r["episode_index"])
        return cls(root=root, info=info, tasks=load_tasks(root), rows=rows)

    @property
    def fps(self) -> int:
        return int(self.info["fps"])

    @property
    def features(self) -> dict:
        return self.info["features"]

    @property
    def video_keys(self) -> list[str]:
        return [k for k, f in self.features.items() if f["dtype"] == "video"]

    @property
    def episode_indices(self) -> list[int]:
        return [int(r["episode_index"]) for r in self.rows]

    def row(self, episode: int) -> dict:
        for r in self.rows:
            if r["episode_index"] == episode:
                return r
        raise IndexError(
            f"{self.root}: no episode {episode} (episodes {self.episode_indices[0]}.."
            f"{self.episode_indices[-1]})"
        )

    def frames(self, episode: int) -> pa.Table:
        """The data rows of one episode, in frame order."""
        r = self.row(episode)
        path = self.root / self.info["data_path"].format(
            chunk_index=r["data/chunk_index"], file_index=r["data/file_index"]
        )
        if path not in self._files:
            if not path.is_file():
                raise DatasetFileError(f"missing data file {path} (episode {episode})")
            self._files[path] = pq.read_table(path)
        table = self._files[path]
        mask = pc.equal(table.column("episode_index"), pa.scalar(episode, pa.int64()))
        rows = table.filter(mask)
        if rows.num_rows != r["length"]:
            raise DatasetFileError(
                f"{path}: episode {episode} has {rows.num_rows} rows, meta/episodes says {r['length']}"
            )
        return rows.sort_by("frame_index")

    def video(self, episode: int, key: str) -> tuple[Path, float, float]:
        """(mp4 path, from_timestamp, to_timestamp) of one episode's camera `key`."""
        r = self.row(episode)
        path = self.root / self.info["video_path"].format(
            video_key=key,
            chunk_index=r[f"videos/{key}/chunk_index"],
            file_index=r[f"videos/{key}/file_index"],
        )
        if not path.is_file():
            raise DatasetFileError(f"missing video file {path} (feature {key!r}, episode {episode})")
        return path, float(r[f"videos/{key}/from_timestamp"]), float(r[f"videos/{key}/to_timestamp"])

    def info_json(self) -> str:
        return (self.root / INFO_PATH).read_text()


def load_json(path: Path) -> dict:
    return json.loads(Path(path).read_text())
