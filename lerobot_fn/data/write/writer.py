"""Record a LeRobotDataset v3.0: `create(root, ...)`, `add_frame`, `save_episode`, `finalize`.

The control loop only pays for `add_frame`: numeric values are copied into the episode
buffer, camera frames are handed over by reference to one background encoder per camera (video;
a thread copies them into its shared-memory ring, `frame_handoff.py`) or a PNG thread pool
(inline images). `save_episode` waits for the encoders, computes the episode's record
(`record.py`, pure) and commits it file by file (`commit.py`), each through write-temporary /
fsync / rename, data before the metadata that describes it and meta/info.json last. A kill -9 at any moment therefore leaves every saved episode readable (by this reader and by
LeRobot) and the episode in progress either complete or absent; `resume(root)` cleans up
what a crash left behind and continues. Files roll over as LeRobot's do (`chunks_size`,
`data_files_size_in_mb`, `video_files_size_in_mb`).
"""

from __future__ import annotations

import logging
import shutil
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Self

import numpy as np

from lerobot_fn.data import atomic, tables
from lerobot_fn.data.features import Feature, dump_features
from lerobot_fn.data.layout import FileCursor, Layout
from lerobot_fn.data.meta import (
    CODEBASE_VERSION,
    DEFAULT_CHUNK_SIZE,
    DEFAULT_DATA_FILE_SIZE_IN_MB,
    DEFAULT_DATA_PATH,
    DEFAULT_VIDEO_FILE_SIZE_IN_MB,
    DEFAULT_VIDEO_PATH,
    INFO_PATH,
)
from lerobot_fn.data.write.commit import CommitHook, commit_episode
from lerobot_fn.data.write.encode import BackgroundEncoder, VideoEncoding
from lerobot_fn.data.write.frame_handoff import FrameHandoff
from lerobot_fn.data.write.frame_input import ImageCodec, camera_hw, flatten_frame, validate_frame
from lerobot_fn.data.write.record import episode_record

log = logging.getLogger(__name__)


def _as_feature(name: str, spec: Any) -> Feature:
    if isinstance(spec, Feature):
        return spec
    if not isinstance(spec, dict) or "dtype" not in spec or "shape" not in spec:
        raise ValueError(
            f"feature {name!r}: expected a dict with 'dtype', 'shape' (and 'names'), got {spec!r}"
        )
    return Feature.from_dict(spec, key=name)


class DatasetWriter:
    """Appends episodes to a LeRobotDataset v3.0 root. Build it with `create` or `resume`.

    A context manager: leaving the block finalizes; leaving it on an exception discards the
    unsaved episode and keeps every saved one. `commit_hook(step)`, when given, is called at
    each named step of saving an episode (`commit.COMMIT_STEPS`), e.g. by crash tests.
    """

    def __init__(
        self,
        root: Path,
        info: dict,
        *,
        tasks: list[str],
        stats: dict,
        layout: Layout,
        encoding: VideoEncoding,
        encoder_threads: int | None = None,
        image_workers: int = 2,
        commit_hook: CommitHook | None = None,
    ) -> None:
        self.root = Path(root)
        self.info = info
        self.features: dict[str, Feature] = {
            k: Feature.from_dict(v, key=k) for k, v in info["features"].items()
        }
        self.tasks = list(tasks)
        self.stats = stats
        self.layout = layout
        self.encoding = encoding
        self.encoder_threads = encoder_threads
        self.commit_hook = commit_hook
        self._image_pool = ThreadPoolExecutor(max_workers=image_workers, thread_name_prefix="png")
        self._handoff = FrameHandoff()
        self._closed = False
        self._new_buffer()
        self._start_encoders()

    # -- properties -------------------------------------------------------------------------
    @property
    def fps(self) -> int:
        return int(self.info["fps"])

    @property
    def total_episodes(self) -> int:
        return int(self.info["total_episodes"])

    @property
    def total_frames(self) -> int:
        return int(self.info["total_frames"])

    @property
    def video_keys(self) -> list[str]:
        return [k for k, f in self.features.items() if f.dtype == "video"]

    @property
    def image_keys(self) -> list[str]:
        return [k for k, f in self.features.items() if f.dtype == "image"]

    @property
    def episode_frames(self) -> int:
        """Frames added to the episode in progress."""
        return self._n

    def __repr__(self) -> str:
        return (
            f"DatasetWriter(root={str(self.root)!r}, fps={self.fps}, episodes={self.total_episodes}, "
            f"frames={self.total_frames}, in_progress={self._n}, codec={self.encoding.vcodec!r})"
        )

    # -- recording --------------------------------------------------------------------------
    def _new_buffer(self) -> None:
        self._n = 0
        self._task: list[str] = []
        self._values: dict[str, list] = {
            k: []
            for k, f in self.features.items()
            if f.dtype not in ("video", "image") and k not in tables.DEFAULT_FEATURES
        }
        self._images: dict[str, list[Future]] = {k: [] for k in self.image_keys}
        self._encoders: dict[str, BackgroundEncoder] = {}
        self._encoded: dict[str, tuple[Path, np.ndarray | None]] = {}

    def add_frame(self, frame: Any, *, copy: bool = False) -> None:
        """Add one frame to the episode in progress: a TensorDict or a mapping of dotted
        feature names to values, plus `task` (a string). Returns without touching the disk.

        Camera frames are taken by reference, as LeRobot's `add_frame` takes them: they are
        copied for the encoder after `add_frame` returns, so the caller must not change a camera
        array afterwards (a camera's new frame is a new array). A caller that refills the same
        buffer every tick passes `copy=True` (add_frame then copies the cameras first)."""
        self._check_open()
        values, task = flatten_frame(frame)
        episode = self.total_episodes
        values = validate_frame(values, task, self.features, episode=episode, frame_index=self._n)
        handed = []  # checked before anything of the frame is kept
        for key in self.video_keys:
            enc = self._encoders.get(key) or self._start_encoder(key)
            enc.check()
            handed.append((enc, np.array(values[key]) if copy else values[key]))
        for key in self.image_keys:
            value = np.array(values[key]) if copy else values[key]
            self._images[key].append(self._image_pool.submit(ImageCodec.encode, value, self._n))
        for key, value in self._values.items():
            value.append(values[key])
        if handed:
            self._handoff.submit(handed)
        self._task.append(task)
        self._n += 1

    def _start_encoder(self, key: str) -> BackgroundEncoder:
        h, w = camera_hw(self.features[key].shape)
        enc = self._encoders[key] = BackgroundEncoder(
            key,
            self.layout.staging_video(key, self.total_episodes),
            fps=self.fps,
            height=h,
            width=w,
            encoding=self.encoding,
            threads=self.encoder_threads,
        )
        return enc

    def _start_encoders(self) -> None:
        """Start the next episode's encoder processes now, so add_frame never waits for one."""
        for key in self.video_keys:
            if key not in self._encoders:
                self._start_encoder(key)

    def discard_episode(self, *, restart: bool = True) -> None:
        """Drop the episode in progress (frames, encoders, staged videos)."""
        self._handoff.flush()
        for enc in self._encoders.values():
            enc.cancel()
        for path, _ in self._encoded.values():
            path.unlink(missing_ok=True)
        self._new_buffer()
        if restart:
            self._start_encoders()

    def save_episode(self) -> int:
        """Write the episode in progress to disk; returns its episode_index.

        Waits for the video encoders, builds the episode's record (`record.episode_record`,
        no I/O) and commits it in crash-safe order (`commit.commit_episode`). On a write
        failure (e.g. disk full) nothing saved before is touched, the episode is dropped and the
        writer closes; `data.resume(root)` repairs the files and continues.
        """
        self._check_open()
        episode = self.total_episodes
        if self._n == 0:
            raise ValueError(f"save_episode: episode {episode} has no frames; call add_frame first")
        self._finish_encoders(episode)
        record = episode_record(
            info=self.info,
            features=self.features,
            tasks=self.tasks,
            dataset_stats=self.stats,
            values=self._values,
            task_per_frame=self._task,
            images={k: [f.result() for f in futs] for k, futs in self._images.items()},
            video_samples={k: sample for k, (_, sample) in self._encoded.items()},
            video_info={
                k: self.encoding.info(*camera_hw(self.features[k].shape), self.fps) for k in self.video_keys
            },
        )
        try:
            staged = {k: self._encoded[k][0] for k in self.video_keys}
            commit_episode(record, self.layout, staged, self.commit_hook)
        except atomic.DatasetWriteError as e:
            # Files may hold part of this episode now: stop here, `resume` cuts it off on disk.
            err = atomic.DatasetWriteError(
                f"save_episode: episode {episode} was not saved: {e}. The {episode} episodes saved before are "
                f"intact; this writer is closed: fix the cause, then continue with data.resume({str(self.root)!r})"
            )
            err.errno = e.errno
            self.finalize()
            raise err from e
        self.info, self.tasks, self.stats = record.info, record.dataset_tasks, record.dataset_stats
        self.features = {k: Feature.from_dict(v, key=k) for k, v in self.info["features"].items()}
        self._encoded.clear()
        self._new_buffer()
        self._start_encoders()
        return episode

    def _finish_encoders(self, episode: int) -> None:
        """Wait for each camera's encoder; its staged mp4 and stats sample go to `_encoded`."""
        self._handoff.flush()
        for key, enc in list(self._encoders.items()):
            try:
                self._encoded[key] = (enc.path, enc.finish())
            except Exception as e:
                cause = e.__cause__
                if isinstance(cause, OSError) and cause.errno is not None:
                    err = atomic.explain_os_error(
                        cause, enc.path, f"episode {episode}: encoding camera {key!r} into"
                    )
                    raise err from e
                raise atomic.DatasetWriteError(f"episode {episode}: {e}") from e
            del self._encoders[key]
        for key in self.video_keys:
            if key not in self._encoded:
                raise ValueError(f"episode {episode}: no frame of video feature {key!r} was added")

    # -- lifetime ---------------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"writer for {self.root} is finalized; use data.resume({str(self.root)!r})")

    def finalize(self) -> None:
        """Stop background work and remove staging files. An unsaved episode is discarded
        (with a warning). Idempotent."""
        if self._closed:
            return
        if self._n:
            log.warning(
                "%s: discarding unsaved episode %d (%d frames; save_episode() was not called for it); "
                "the %d saved episodes are kept",
                self.root,
                self.total_episodes,
                self._n,
                self.total_episodes,
            )
        self.discard_episode(restart=False)
        self._handoff.close()
        self._image_pool.shutdown(wait=True)
        shutil.rmtree(self.root / atomic.STAGING_DIR, ignore_errors=True)
        self._closed = True

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.finalize()


def new_info(
    *,
    fps: int,
    features: dict[str, Feature],
    robot_type: str | None,
    use_videos: bool,
    chunks_size: int,
    data_files_size_in_mb: float,
    video_files_size_in_mb: float,
) -> dict:
    """A fresh info.json dict, keys in LeRobot's order."""
    return {
        "codebase_version": CODEBASE_VERSION,
        "fps": fps,
        "features": dump_features(features),
        "total_episodes": 0,
        "total_frames": 0,
        "total_tasks": 0,
        "chunks_size": chunks_size,
        "data_files_size_in_mb": data_files_size_in_mb,
        "video_files_size_in_mb": video_files_size_in_mb,
        "data_path": DEFAULT_DATA_PATH,
        "video_path": DEFAULT_VIDEO_PATH if use_videos else None,
        "robot_type": robot_type,
        "splits": {},
    }


def create(
    root: str | Path,
    *,
    fps: int,
    features: dict[str, Any],
    robot_type: str | None = None,
    use_videos: bool = True,
    encoding: VideoEncoding | None = None,
    chunks_size: int = DEFAULT_CHUNK_SIZE,
    data_files_size_in_mb: float = DEFAULT_DATA_FILE_SIZE_IN_MB,
    video_files_size_in_mb: float = DEFAULT_VIDEO_FILE_SIZE_IN_MB,
    encoder_threads: int | None = None,
    commit_hook: CommitHook | None = None,
) -> DatasetWriter:
    """Start a new dataset at `root` (which must not exist or be empty).

    `features`: LeRobot's form, {"observation.images.top": {"dtype": "video", "shape": (480, 640, 3),
    "names": ["height", "width", "channels"]}, "action": {"dtype": "float32", "shape": (6,), ...}}.
    With `use_videos=False`, "video" features are stored as inline PNG images instead.
    `encoding` defaults to LeRobot's AV1 settings (`VideoEncoding.av1()`). `commit_hook`: see
    `DatasetWriter`.
    """
    root = Path(root)
    if not isinstance(fps, int) or fps <= 0:
        raise ValueError(f"create: fps must be a positive int, got {fps!r}")
    if not features:
        raise ValueError("create: `features` is empty; describe at least one feature")
    feats = {k: _as_feature(k, v) for k, v in features.items()}
    clash = [k for k in feats if k in tables.DEFAULT_FEATURES]
    if clash:
        raise ValueError(f"create: features {clash} are added automatically; remove them from `features`")
    if not use_videos:
        feats = {
            k: Feature(dtype="image", shape=f.shape, names=f.names) if f.dtype == "video" else f
            for k, f in feats.items()
        }
    feats = {
        k: Feature(dtype=f.dtype, shape=f.shape, names=f.names) if f.dtype == "video" else f
        for k, f in feats.items()
    }
    for k, f in feats.items():
        tables.arrow_type(k, f)  # raises on unsupported dtype/shape
        if f.dtype in ("video", "image") and (len(f.shape) != 3 or 3 not in (f.shape[0], f.shape[-1])):
            raise ValueError(f"feature {k!r}: camera shape must be (H, W, 3) or (3, H, W), got {f.shape}")
    feats.update(tables.DEFAULT_FEATURES)
    encoding = encoding or VideoEncoding.av1()
    if any(f.dtype == "video" for f in feats.values()):
        encoding.check_available()
    with atomic.os_errors(root, "creating the dataset directory"):
        if root.exists() and any(root.iterdir()):
            raise FileExistsError(
                f"create: {root} exists and is not empty; use data.resume({str(root)!r}) to append"
            )
        root.mkdir(parents=True, exist_ok=True)
    info = new_info(
        fps=fps,
        features=feats,
        robot_type=robot_type,
        use_videos=use_videos,
        chunks_size=chunks_size,
        data_files_size_in_mb=data_files_size_in_mb,
        video_files_size_in_mb=video_files_size_in_mb,
    )
    for key, f in feats.items():  # the encoder settings are known now: record them up front
        if f.dtype == "video":
            info["features"][key]["info"] = encoding.info(*camera_hw(f.shape), fps)
    atomic.write_json(root / INFO_PATH, info)
    layout = Layout(root, info, FileCursor.empty(), {})
    return DatasetWriter(
        root,
        info,
        tasks=[],
        stats={},
        layout=layout,
        encoding=encoding,
        encoder_threads=encoder_threads,
        commit_hook=commit_hook,
    )
