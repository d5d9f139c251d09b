"""Continue recording into an existing dataset, after a clean stop or a crash.

`recover(root)` makes the files agree with meta/episodes, the record of saved episodes:
it deletes temporaries and staged videos, cuts data rows and video frames that a crash left
after the last saved episode, and rolls meta/info.json and meta/stats.json forward when the
crash hit between the episodes file and info.json. `resume(root)` recovers, then returns a
writer that appends after the last episode.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from lerobot_fn.data import atomic, tables
from lerobot_fn.data import stats as stats_mod
from lerobot_fn.data.layout import FileCursor, Layout, VideoCursor
from lerobot_fn.data.meta import EPISODES_DIR, INFO_PATH, STATS_PATH, TASKS_PATH, load_info, read_json
from lerobot_fn.data.remux import trim_video, video_duration_s
from lerobot_fn.data.write.commit import CommitHook
from lerobot_fn.data.write.encode import VideoEncoding
from lerobot_fn.data.write.writer import DatasetWriter

log = logging.getLogger(__name__)

_CODECS = {"av1": "libsvtav1", "h264": "libx264"}


def episode_rows(root: Path) -> list[dict]:
    """Every meta/episodes row (stats included) as python dicts, by episode_index."""
    rows: list[dict] = []
    for path in sorted((root / EPISODES_DIR).glob("*/*.parquet")):
        rows += pq.read_table(path).to_pylist()
    rows.sort(key=lambda r: r["episode_index"])
    for i, r in enumerate(rows):
        if r["episode_index"] != i:
            raise atomic.DatasetWriteError(
                f"{root / EPISODES_DIR}: episode indices are not 0..{len(rows) - 1} "
                f"(found {r['episode_index']} at position {i}); this dataset cannot be appended to"
            )
    return rows


def _trim_data(root: Path, info: dict, total_frames: int) -> list[str]:
    done = []
    for path in sorted((root / "data").glob("*/*.parquet")):
        table = pq.read_table(path)
        keep = table.filter(pc.less(table.column("index"), pa.scalar(total_frames, pa.int64())))
        if keep.num_rows == table.num_rows:
            continue
        if keep.num_rows == 0:
            path.unlink()
            done.append(f"removed {path.relative_to(root)} (no saved episode)")
        else:
            atomic.write_table(path, keep.replace_schema_metadata(table.schema.metadata))
            done.append(f"cut {table.num_rows - keep.num_rows} unsaved rows from {path.relative_to(root)}")
    return done


def _trim_videos(root: Path, info: dict, rows: list[dict]) -> list[str]:
    done = []
    video_keys = [k for k, f in info["features"].items() if f["dtype"] == "video"]
    for key in video_keys:
        last = rows[-1] if rows else None
        keep_file = (last[f"videos/{key}/chunk_index"], last[f"videos/{key}/file_index"]) if last else None
        for path in sorted((root / "videos" / key).glob("*/*.mp4")):
            chunk, file = int(path.parent.name.split("-")[1]), int(path.stem.split("-")[1])
            if keep_file is None or (chunk, file) > keep_file:
                path.unlink()
                done.append(f"removed {path.relative_to(root)} (no saved episode)")
            elif (chunk, file) == keep_file:
                end = float(last[f"videos/{key}/to_timestamp"])
                if video_duration_s(path) > end + 0.5 / info["fps"]:
                    with atomic.atomic_path(path) as tmp:
                        trim_video(path, tmp, end)
                    done.append(f"cut unsaved frames after {end:.3f}s from {path.relative_to(root)}")
    return done


def recover(root: str | Path) -> list[str]:
    """Bring a dataset left by a crashed writer back to its saved episodes; returns what was done."""
    root = Path(root)
    info = load_info(root)
    done = [f"removed {p.relative_to(root)}" for p in atomic.remove_temporaries(root)]
    rows = episode_rows(root) if (root / EPISODES_DIR).exists() else []
    total_frames = int(rows[-1]["dataset_to_index"]) if rows else 0
    done += _trim_data(root, info, total_frames)
    done += _trim_videos(root, info, rows)
    if len(rows) != info.get("total_episodes") or total_frames != info.get("total_frames"):
        n_tasks = pq.read_metadata(root / TASKS_PATH).num_rows if (root / TASKS_PATH).exists() else 0
        per_episode = [stats_mod.unflatten_stats(r) for r in rows]
        if per_episode:
            atomic.write_json(
                root / STATS_PATH, stats_mod.stats_to_json(stats_mod.aggregate_stats(per_episode))
            )
        info = {
            **info,
            "total_episodes": len(rows),
            "total_frames": total_frames,
            "total_tasks": n_tasks,
            "splits": {"train": f"0:{len(rows)}"} if rows else {},
        }
        atomic.write_json(root / INFO_PATH, info)
        done.append(f"rolled meta/info.json forward to {len(rows)} episodes, {total_frames} frames")
    for line in done:
        log.info("recover %s: %s", root, line)
    return done


def encoding_from_info(info: dict) -> VideoEncoding:
    """The encoder settings recorded in info.json's first video feature (default AV1 if none)."""
    for feat in info["features"].values():
        vi = feat.get("info") or {}
        if feat["dtype"] == "video" and vi:
            vcodec = _CODECS.get(vi.get("video.codec"), vi.get("video.codec"))
            if vcodec == "libx264" and vi.get("video.pix_fmt") == "gbrp":
                vcodec = "libx264rgb"
            return VideoEncoding(
                vcodec=vcodec,
                pix_fmt="rgb24" if vi.get("video.pix_fmt") == "gbrp" else vi.get("video.pix_fmt", "yuv420p"),
                g=vi.get("video.g", 2),
                crf=vi.get("video.crf"),
                preset=vi.get("video.preset"),
                fast_decode=vi.get("video.fast_decode", 0) or 0,
                extra_options=vi.get("video.extra_options") or {},
            )
    return VideoEncoding.av1()


def resume(
    root: str | Path,
    *,
    encoding: VideoEncoding | None = None,
    encoder_threads: int | None = None,
    commit_hook: CommitHook | None = None,
) -> DatasetWriter:
    """Open an existing dataset for appending episodes (recovering it first if a writer crashed).

    New episodes continue the current data, video and episodes files. `encoding` defaults to
    the settings recorded in meta/info.json so appended videos match the existing ones.
    `commit_hook`: see `DatasetWriter`.
    """
    root = Path(root)
    recover(root)
    info = load_info(root)
    rows = episode_rows(root) if (root / EPISODES_DIR).exists() else []
    cursor = FileCursor.empty()
    videos: dict[str, VideoCursor] = {}
    if rows:
        last = rows[-1]
        cursor.data = (last["data/chunk_index"], last["data/file_index"])
        data_path = root / info["data_path"].format(chunk_index=cursor.data[0], file_index=cursor.data[1])
        cursor.data_table = pq.read_table(data_path)
        cursor.episodes = (last["meta/episodes/chunk_index"], last["meta/episodes/file_index"])
        cursor.episode_rows = [
            r
            for r in rows
            if (r["meta/episodes/chunk_index"], r["meta/episodes/file_index"]) == cursor.episodes
        ]
        for key, f in info["features"].items():
            if f["dtype"] == "video":
                videos[key] = VideoCursor(
                    last[f"videos/{key}/chunk_index"],
                    last[f"videos/{key}/file_index"],
                    float(last[f"videos/{key}/to_timestamp"]),
                )
    tasks_path = root / TASKS_PATH
    tasks: list[str] = []
    if tasks_path.exists():
        t = pq.read_table(tasks_path).sort_by("task_index")
        tasks = t.column("task").to_pylist()
    stats = stats_mod.stats_from_json(read_json(root / STATS_PATH)) if (root / STATS_PATH).exists() else {}
    encoding = encoding or encoding_from_info(info)
    if any(f["dtype"] == "video" for f in info["features"].values()):
        encoding.check_available()
    layout = Layout(root, info, cursor, videos)
    return DatasetWriter(
        root,
        info,
        tasks=tasks,
        stats=stats,
        layout=layout,
        encoding=encoding,
        encoder_threads=encoder_threads,
        commit_hook=commit_hook,
    )


__all__ = ["encoding_from_info", "episode_rows", "recover", "resume", "tables"]
