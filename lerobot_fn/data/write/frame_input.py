"""What `add_frame` accepts and what `save_episode` makes of it (pure functions).

A frame is a TensorDict (nested keys, `task` as non-tensor data) or a flat mapping of dotted
names (`"observation.images.top"`) plus `"task"`. Values are numpy arrays, torch tensors or
python scalars. Camera frames are uint8 (H, W, 3) or (3, H, W), or float in [0, 1]. Every
problem is reported with the feature name, the episode and the frame index.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import numpy as np

from lerobot_fn.data import stats as stats_mod
from lerobot_fn.data.features import Feature
from lerobot_fn.data.tables import DEFAULT_FEATURES


def _to_numpy(value: Any) -> Any:
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return value
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return value


def flatten_frame(frame: Any) -> tuple[dict[str, Any], Any]:
    """(values by dotted name, task) from a TensorDict or a mapping."""
    try:
        from tensordict import TensorDictBase
    except ImportError:  # pragma: no cover
        TensorDictBase = ()
    if isinstance(frame, TensorDictBase):
        values: dict[str, Any] = {}
        for key, value in frame.items(include_nested=True, leaves_only=True):
            name = ".".join(key) if isinstance(key, tuple) else key
            if not hasattr(value, "shape") and hasattr(value, "data"):
                value = value.data
            elif type(value).__name__ in ("NonTensorData", "NonTensorStack"):
                value = value.tolist() if hasattr(value, "tolist") else value.data
            values[name] = value
        if "task" not in values and "task" in frame.keys():  # noqa: SIM118 - a TensorDict
            task = frame.get("task")
            values["task"] = getattr(task, "data", task)
    elif isinstance(frame, Mapping):
        values = dict(frame)
    else:
        raise TypeError(
            f"add_frame: expected a TensorDict or a mapping of feature names, got {type(frame).__name__}"
        )
    task = values.pop("task", None)
    return values, task


def camera_hw(shape: tuple[int, ...]) -> tuple[int, int]:
    """(height, width) of a camera feature's shape, (H, W, 3) or (3, H, W)."""
    return (shape[0], shape[1]) if shape[-1] == 3 else (shape[1], shape[2])


def _camera(name: str, feat: Feature, value: Any, where: str) -> np.ndarray:
    arr = np.asarray(_to_numpy(value))
    if arr.ndim != 3 or 3 not in (arr.shape[0], arr.shape[-1]):
        raise ValueError(
            f"{where}: camera {name!r} expects an (H, W, 3) or (3, H, W) image, got shape {arr.shape}"
        )
    if arr.shape[-1] != 3:  # CHW -> HWC
        arr = arr.transpose(1, 2, 0)
    expected = feat.shape if feat.shape[-1] == 3 else (feat.shape[1], feat.shape[2], feat.shape[0])
    if arr.shape != tuple(expected):
        raise ValueError(
            f"{where}: camera {name!r} expects images of {tuple(expected)} (H, W, C), got {arr.shape}"
        )
    if arr.dtype != np.uint8:
        if not np.issubdtype(arr.dtype, np.floating):
            raise ValueError(f"{where}: camera {name!r} expects uint8 or float in [0, 1], got {arr.dtype}")
        lo, hi = float(arr.min()), float(arr.max())
        if lo < 0.0 or hi > 1.0:
            raise ValueError(f"{where}: camera {name!r} float image outside [0, 1] (min {lo}, max {hi})")
        arr = np.round(arr * 255.0).astype(np.uint8)
    return arr


def _numeric(name: str, feat: Feature, value: Any, where: str) -> Any:
    if feat.dtype == "string":
        if not isinstance(value, str):
            raise ValueError(f"{where}: feature {name!r} expects a str, got {type(value).__name__}")
        return value
    arr = np.asarray(_to_numpy(value))
    shape = tuple(feat.shape)
    if arr.shape != shape and not (shape == (1,) and arr.shape == ()):
        raise ValueError(f"{where}: feature {name!r} expects shape {shape}, got {arr.shape}")
    target = np.dtype(feat.dtype)
    if arr.dtype != target and not np.can_cast(arr.dtype, target, casting="same_kind"):
        raise ValueError(
            f"{where}: feature {name!r} expects dtype {feat.dtype}, got {arr.dtype} (cannot cast safely)"
        )
    return np.array(arr, dtype=target).reshape(shape)


def validate_frame(
    values: dict[str, Any], task: Any, features: Mapping[str, Feature], *, episode: int, frame_index: int
) -> dict[str, Any]:
    """Check a frame against the features and return its values converted (cameras HWC uint8)."""
    where = f"add_frame (episode {episode}, frame {frame_index})"
    if not isinstance(task, str) or not task:
        raise ValueError(
            f"{where}: the frame needs a 'task' string describing the episode's task, got {task!r}"
        )
    expected = [k for k in features if k not in DEFAULT_FEATURES]
    missing = [k for k in expected if k not in values]
    extra = [k for k in values if k not in features]
    auto = [k for k in values if k in DEFAULT_FEATURES]
    if missing or extra or auto:
        parts = []
        if missing:
            parts.append(f"missing features {missing}")
        if extra:
            parts.append(f"unknown features {extra} (features: {expected})")
        if auto:
            parts.append(f"{auto} are filled in automatically, do not pass them")
        raise ValueError(f"{where}: " + "; ".join(parts))
    out: dict[str, Any] = {}
    for name in expected:
        feat = features[name]
        if feat.dtype in ("video", "image"):
            out[name] = _camera(name, feat, values[name], where)
        else:
            out[name] = _numeric(name, feat, values[name], where)
    return out


class ImageCodec:
    """PNG encoding of inline images (dtype "image"), run on a thread pool."""

    @staticmethod
    def encode(image_hwc: np.ndarray, frame_index: int, compress_level: int = 1) -> tuple[dict, np.ndarray]:
        """-> ({"bytes": PNG, "path": "frame-XXXXXX.png"}, downsampled CHW copy for stats)."""
        from PIL import Image

        buf = io.BytesIO()
        Image.fromarray(image_hwc).save(buf, format="PNG", compress_level=compress_level)
        small = np.ascontiguousarray(stats_mod.downsample(image_hwc.transpose(2, 0, 1)))
        return {"bytes": buf.getvalue(), "path": f"frame-{frame_index:06d}.png"}, small

    @staticmethod
    def decode(cell: dict) -> np.ndarray:
        """A parquet image cell -> uint8 (H, W, 3)."""
        from PIL import Image

        with Image.open(io.BytesIO(cell["bytes"])) as im:
            return np.asarray(im.convert("RGB"))


def episode_columns(
    values: Mapping[str, list],
    task_per_frame: list[str],
    tasks: list[str],
    features: Mapping[str, Feature],
    *,
    n: int,
    fps: int,
    episode_index: int,
    first_index: int,
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Buffered values -> (columns for the data table, numeric columns for stats).

    The automatic columns are filled in here; `timestamp` is frame_index / fps (its stats are
    taken in float64, the column is stored as float32, as LeRobot does).
    """
    task_id = {t: i for i, t in enumerate(tasks)}
    frame_index = np.arange(n, dtype=np.int64)
    auto = {
        "timestamp": frame_index / fps,
        "frame_index": frame_index,
        "episode_index": np.full(n, episode_index, dtype=np.int64),
        "index": np.arange(first_index, first_index + n, dtype=np.int64),
        "task_index": np.array([task_id[t] for t in task_per_frame], dtype=np.int64),
    }
    columns: dict[str, Any] = {}
    stat_columns: dict[str, np.ndarray] = {}
    for name, feat in features.items():
        if feat.dtype in ("video", "image"):
            continue
        if name in auto:
            col = auto[name]
        elif feat.dtype == "string":
            columns[name] = list(values[name])
            continue
        else:
            col = np.stack(values[name])
            if tuple(feat.shape) == (1,):
                col = col.reshape(n)
        stat_columns[name] = col
        columns[name] = col.astype(np.float32) if name == "timestamp" else col
    return columns, stat_columns
