"""Dataset summaries for people: the schema, one row per episode, and per-feature statistics.

Each function returns a list of flat dicts (one per table row, plain Python values) built from
a dataset's metadata alone, so a notebook table, a report or a test can show or check them
without decoding a frame. `notebooks/explore_dataset.py` is their main user.
"""

from __future__ import annotations

import numpy as np

from lerobot_fn.data.features import DEFAULT_FEATURE_NAMES, Feature
from lerobot_fn.data.meta import DatasetMeta, load_episodes

#: The statistics `feature_stats_table` shows, in this order, when the dataset has them.
STATS_SHOWN = ("mean", "std", "min", "max", "q01", "q50", "q99")


def dim_names(feature: Feature) -> list[str]:
    """Per-dimension names: the feature's `names` (a list, or LeRobot's {"motors": [...]} form),
    else `0..n-1`."""
    names = feature.names
    if isinstance(names, dict):  # older LeRobot datasets: {"motors": ["a", "b"]}
        names = next(iter(names.values()), None)
    size = int(np.prod(feature.shape)) if feature.shape else 1
    if isinstance(names, (list, tuple)) and len(names) == size:
        return [str(n) for n in names]
    return [str(i) for i in range(size)]


def _storage(feature: Feature) -> str:
    if feature.is_video:
        info = feature.info or {}
        return f"video {info.get('video.codec', '?')} {info.get('video.pix_fmt', '')}".strip()
    if feature.is_image:
        return "image (PNG in parquet)"
    return "parquet"


def schema_table(meta: DatasetMeta) -> list[dict]:
    """One row per feature: name, dtype, shape, names and how it is stored."""
    rows = []
    for name, feat in meta.features.items():
        names = feat.names
        if isinstance(names, dict):
            names = next(iter(names.values()), None)
        rows.append(
            {
                "feature": name,
                "dtype": feat.dtype,
                "shape": str(tuple(feat.shape)),
                "names": ", ".join(str(n) for n in names) if isinstance(names, (list, tuple)) else "",
                "storage": _storage(feat),
            }
        )
    return rows


def signal_features(meta: DatasetMeta) -> list[str]:
    """The numeric features worth plotting and summarising: everything but the cameras, strings
    and LeRobot's bookkeeping columns (timestamp, frame_index, episode_index, index, task_index)."""
    return [
        name
        for name, feat in meta.features.items()
        if not feat.is_visual
        and name not in DEFAULT_FEATURE_NAMES
        and (feat.dtype == "bool" or feat.dtype.startswith(("float", "int", "uint")))
    ]


def signal_panels(
    meta: DatasetMeta, signals: dict[str, np.ndarray]
) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], dict[str, list[str]]]:
    """Plot panels for an episode's signals (from `browse.episode_signals`): one panel per vector
    feature, its lines named by `dim_names`, and the scalar features (reward, done, success...)
    together in one panel "scalars". Returns (panels {title: (frame_index, values)}, labels)."""
    x = signals["frame_index"]
    panels, labels = {}, {}
    scalars = [n for n in signals if n != "frame_index" and signals[n].reshape(len(x), -1).shape[1] == 1]
    for name, values in signals.items():
        if name == "frame_index" or name in scalars:
            continue
        panels[name] = (x, values)
        labels[name] = dim_names(meta.features[name])
    if scalars:
        panels["scalars"] = (x, np.concatenate([signals[n].reshape(len(x), 1) for n in scalars], axis=1))
        labels["scalars"] = scalars
    return panels, labels


def _round(values, digits: int = 4):
    arr = np.asarray(values, dtype=np.float64).reshape(-1)
    out = [round(float(v), digits) for v in arr]
    return out[0] if len(out) == 1 else out


def episode_table(meta: DatasetMeta, features: list[str] | None = None) -> list[dict]:
    """One row per episode: index, length, duration, tasks, and the episode's mean of each of
    `features` (default `signal_features`) from meta/episodes' per-episode stats (a number for
    a scalar feature, a list for a vector; absent when the dataset has no per-episode stats).
    For scalar features the maximum is given too (e.g. whether `next.success` was ever reached)."""
    features = signal_features(meta) if features is None else features
    unknown = [f for f in features if f not in meta.features]
    if unknown:
        raise KeyError(f"episode_table: no feature {unknown} in {meta.root} (it has {list(meta.features)})")
    table = load_episodes(meta.root, with_stats=True)
    columns = set(table.column_names)
    rows = []
    for row in table.to_pylist():
        e = int(row["episode_index"])
        length = int(row["length"])
        out = {
            "episode_index": e,
            "length": length,
            "duration_s": round(length / meta.fps, 3),
            "tasks": " | ".join(row.get("tasks") or []),
        }
        for name in features:
            mean_col = f"stats/{name}/mean"
            if mean_col not in columns:
                continue
            out[f"{name} mean"] = _round(row[mean_col])
            if tuple(meta.features[name].shape) in ((), (1,)):
                out[f"{name} max"] = _round(row[f"stats/{name}/max"])
        rows.append(out)
    return rows


def feature_stats_table(meta: DatasetMeta, features: list[str] | None = None) -> list[dict]:
    """One row per feature dimension (camera features: per channel) with the dataset-wide
    statistics of meta/stats.json (`STATS_SHOWN` that are present); features without stats are
    skipped. `features` defaults to the signals and the cameras."""
    if features is None:
        features = signal_features(meta) + meta.camera_keys
    rows = []
    for name in features:
        stats = meta.stats.get(name)
        if not stats:
            continue
        feat = meta.features[name]
        dims = ["r", "g", "b"] if feat.is_visual else dim_names(feat)
        for i, dim in enumerate(dims):
            row = {"feature": name, "dim": dim}
            for stat in STATS_SHOWN:
                if stat in stats:
                    values = np.asarray(stats[stat], dtype=np.float64).reshape(-1)
                    if i < len(values):
                        row[stat] = round(float(values[i]), 4)
            rows.append(row)
    return rows
