"""Convert inline image features (PNG in parquet) to video features (mp4 per camera)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from lerobot_fn.data.meta import DEFAULT_VIDEO_PATH
from lerobot_fn.data.tools.build import DatasetBuilder, copy_episode
from lerobot_fn.data.tools.source import Source
from lerobot_fn.data.write.encode import VideoEncoding, encode_frames
from lerobot_fn.data.write.frame_input import ImageCodec


def images_to_video(
    root: str | Path,
    output: str | Path,
    *,
    keys: Sequence[str] | None = None,
    encoding: VideoEncoding | None = None,
) -> Path:
    """Write `output` with the image features `keys` (default: all) stored as videos encoded
    with `encoding` (default LeRobot's AV1). Per-episode image stats are kept (same pixels)."""
    src = Source.open(root)
    images = [k for k, f in src.features.items() if f["dtype"] == "image"]
    keys = images if keys is None else list(keys)
    bad = [k for k in keys if k not in images]
    if bad or not keys:
        raise ValueError(
            f"images_to_video: {bad or 'no'} image features to convert in {src.root} (images: {images})"
        )
    encoding = encoding or VideoEncoding.av1()
    encoding.check_available()
    info = dict(src.info)
    feats = {}
    for k, f in info["features"].items():
        if k in keys:
            shape = list(f["shape"])
            h, w = (shape[0], shape[1]) if shape[-1] == 3 else (shape[1], shape[2])
            feats[k] = {
                "dtype": "video",
                "shape": [h, w, 3],
                "names": ["height", "width", "channels"],
                "info": encoding.info(h, w, src.fps),
            }
        else:
            feats[k] = f
    info["features"] = feats
    info["video_path"] = info.get("video_path") or DEFAULT_VIDEO_PATH
    with DatasetBuilder(output, info) as b:
        for e in src.episode_indices:
            cells = src.frames(e)
            staged = {}
            for k in keys:
                path = b.staging / f"{k}_{e:06d}.mp4"
                encode_frames(
                    (ImageCodec.decode(c) for c in cells.column(k).to_pylist()),
                    path,
                    fps=src.fps,
                    encoding=encoding,
                )
                staged[k] = path
            _copy_with_videos(b, src, e, keys, staged)
        return b.close()


def _copy_with_videos(b: DatasetBuilder, src: Source, e: int, keys: list[str], staged: dict) -> None:
    from lerobot_fn.data import stats as stats_mod

    frames = src.frames(e).drop_columns(keys)
    tasks = [src.tasks[i] for i in frames.column("task_index").to_pylist()]
    videos = {k: src.video(e, k) for k in src.video_keys}
    videos.update(staged)
    b.add_episode(frames, tasks, videos=videos, stats=stats_mod.unflatten_stats(src.row(e)))


__all__ = ["images_to_video", "copy_episode"]
