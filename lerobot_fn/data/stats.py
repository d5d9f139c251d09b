"""Dataset statistics as LeRobot 0.6.1 computes them: per episode, then aggregated.

Each feature gets min, max, mean, std, count and the quantiles q01 q10 q50 q90 q99. Quantiles
come from a 5000-bin histogram spanning [min - 1e-10, max + 1e-10] with linear interpolation
inside the bin, and mean/std from the mean and mean of squares, in the array's own float
precision (float32 for float32/uint8/bool data, float64 for float64/int64 data). Doing the
same arithmetic in the same dtypes makes our stats.json equal LeRobot's to the last bit.

Images and videos: a subset of frames (`sample_indices`) is taken, frames whose longer side
is 300 px or more are strided down to about 150 px (`downsample`), stats are per channel in
[0, 1] with shape (C, 1, 1), and `count` is the number of sampled frames.

Everything here is pure numpy on arrays passed in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

QUANTILES = (0.01, 0.10, 0.50, 0.90, 0.99)
QUANTILE_KEYS = tuple(f"q{int(q * 100):02d}" for q in QUANTILES)
STAT_KEYS = ("min", "max", "mean", "std", "count", *QUANTILE_KEYS)
NUM_BINS = 5000

Stats = dict[str, np.ndarray]


def sample_count(n_frames: int, low: int = 100, high: int = 10_000, power: float = 0.75) -> int:
    """How many frames of an episode image stats look at: n for n < 100, then ~n**0.75."""
    low = min(low, n_frames)
    return max(low, min(int(n_frames**power), high))


def sample_indices(n_frames: int) -> list[int]:
    """Evenly spaced frame indices (first and last included) used for image stats."""
    k = sample_count(n_frames)
    return np.round(np.linspace(0, n_frames - 1, k)).astype(int).tolist()


def downsample(image_chw: np.ndarray, target: int = 150, threshold: int = 300) -> np.ndarray:
    """Stride a CHW image so its longer side is about `target` px once it reaches `threshold`."""
    _, h, w = image_chw.shape
    if max(h, w) < threshold:
        return image_chw
    step = int(w / target) if w > h else int(h / target)
    return image_chw[:, ::step, ::step]


def _histogram_quantile(hist: np.ndarray, edges: np.ndarray, target: float):
    cumsum = np.cumsum(hist)
    i = np.searchsorted(cumsum, target)
    if i == 0:
        return edges[0]
    if i >= len(cumsum):
        return edges[-1]
    before = cumsum[i - 1]
    inside = cumsum[i] - before
    if inside == 0:
        return edges[i]
    return edges[i] + (target - before) / inside * (edges[i + 1] - edges[i])


def vector_stats(rows: np.ndarray) -> Stats:
    """Stats of a (N, D) array along N, per column: the histogram estimator (N >= 2)."""
    rows = rows.astype(np.result_type(rows.dtype, np.float32), copy=False)
    n, d = rows.shape
    lo = np.min(rows, axis=0)
    hi = np.max(rows, axis=0)
    mean = np.mean(rows, axis=0)
    mean_sq = np.mean(rows**2, axis=0)
    std = np.sqrt(np.maximum(0, mean_sq - mean**2))
    out: Stats = {"min": lo.copy(), "max": hi.copy(), "mean": mean, "std": std, "count": np.array([n])}
    hists, edges = [], []
    for j in range(d):
        e = np.linspace(lo[j] - 1e-10, hi[j] + 1e-10, NUM_BINS + 1)
        h = np.zeros(NUM_BINS)
        h += np.histogram(rows[:, j], bins=e)[0]
        hists.append(h)
        edges.append(e)
    for q, key in zip(QUANTILES, QUANTILE_KEYS, strict=True):
        out[key] = np.array([_histogram_quantile(h, e, q * n) for h, e in zip(hists, edges, strict=True)])
    return out


def _few_rows_stats(rows: np.ndarray, count: int) -> Stats:
    """Fewer than two rows: no histogram, quantiles are the mean."""
    mean = np.mean(rows, axis=0)
    out: Stats = {
        "min": np.min(rows, axis=0),
        "max": np.max(rows, axis=0),
        "mean": mean,
        "std": np.std(rows, axis=0),
        "count": np.array([count]),
    }
    for key in QUANTILE_KEYS:
        out[key] = mean.copy()
    return out


def numeric_feature_stats(values: np.ndarray) -> Stats:
    """Stats of one numeric feature over an episode: `values` is (N,) or (N, D...)."""
    values = np.asarray(values)
    n = values.shape[0]
    rows = values.reshape(-1, 1) if values.ndim == 1 else values.reshape(n, -1)
    stats = vector_stats(rows) if rows.shape[0] >= 2 else _few_rows_stats(rows, n)
    stats["count"] = np.array([n])
    if values.ndim == 1:  # scalar feature: LeRobot keeps a (1,) shape
        stats = {k: v if k == "count" else np.asarray(v).reshape(1) for k, v in stats.items()}
    elif values.ndim > 2:
        stats = {k: v if k == "count" else np.asarray(v).reshape(values.shape[1:]) for k, v in stats.items()}
    return stats


def image_feature_stats(images_nchw: np.ndarray, scale: float = 255.0) -> Stats:
    """Per-channel stats of sampled uint8 images (K, C, H, W) in [0, 1], each of shape (C, 1, 1)."""
    k, c = images_nchw.shape[:2]
    rows = images_nchw.transpose(0, 2, 3, 1).reshape(-1, c)
    stats = vector_stats(rows) if rows.shape[0] >= 2 else _few_rows_stats(rows, k)
    stats["count"] = np.array([k])
    return {key: v if key == "count" else np.asarray(v).reshape(c, 1, 1) / scale for key, v in stats.items()}


def episode_stats(
    columns: Mapping[str, np.ndarray],
    images: Mapping[str, np.ndarray],
    scales: Mapping[str, float] | None = None,
) -> dict[str, Stats]:
    """Stats of one episode: numeric `columns` {name: (N, ...) array} and sampled `images`
    {name: (K, C, H, W) uint8}; `scales` overrides the 255 divisor (depth maps use 1)."""
    scales = scales or {}
    out: dict[str, Stats] = {}
    for name, values in columns.items():
        out[name] = numeric_feature_stats(values)
    for name, imgs in images.items():
        out[name] = image_feature_stats(imgs, scales.get(name, 255.0))
    return out


def aggregate_feature_stats(parts: Sequence[Stats]) -> Stats:
    """Combine one feature's stats of several episodes: count-weighted mean, pooled variance,
    min of mins, max of maxes, count-weighted quantiles."""
    means = np.stack([p["mean"] for p in parts])
    variances = np.stack([p["std"] ** 2 for p in parts])
    counts = np.stack([p["count"] for p in parts])
    total = counts.sum(axis=0)
    while counts.ndim < means.ndim:
        counts = np.expand_dims(counts, axis=-1)
    mean = (means * counts).sum(axis=0) / total
    var = ((variances + (means - mean) ** 2) * counts).sum(axis=0) / total
    out: Stats = {
        "min": np.min(np.stack([p["min"] for p in parts]), axis=0),
        "max": np.max(np.stack([p["max"] for p in parts]), axis=0),
        "mean": mean,
        "std": np.sqrt(var),
        "count": total,
    }
    for key in [k for k in parts[0] if k.startswith("q") and k[1:].isdigit()]:
        if all(key in p for p in parts):
            out[key] = (np.stack([p[key] for p in parts]) * counts).sum(axis=0) / total
    return out


def aggregate_stats(stats_list: Sequence[Mapping[str, Stats]]) -> dict[str, Stats]:
    """Aggregate per-episode (or per-dataset) stats into one, over the union of features."""
    names: list[str] = []
    for s in stats_list:
        names += [k for k in s if k not in names]
    return {name: aggregate_feature_stats([s[name] for s in stats_list if name in s]) for name in names}


def stats_to_json(stats: Mapping[str, Stats]) -> dict:
    """{feature: {stat: array}} -> plain lists/floats for stats.json."""
    return {name: {k: np.asarray(v).tolist() for k, v in feat.items()} for name, feat in stats.items()}


def stats_from_json(raw: Mapping) -> dict[str, Stats]:
    """stats.json dict -> {feature: {stat: np.ndarray}} (count as int64)."""
    out: dict[str, Stats] = {}
    for name, feat in raw.items():
        out[name] = {
            k: np.asarray(v, dtype=np.int64 if k == "count" else np.float64) for k, v in feat.items()
        }
    return out


def flatten_stats(stats: Mapping[str, Stats]) -> dict[str, list]:
    """{feature: {stat: array}} -> {"stats/<feature>/<stat>": nested list} (episodes table columns)."""
    return {
        f"stats/{name}/{k}": np.asarray(v).tolist() for name, feat in stats.items() for k, v in feat.items()
    }


def unflatten_stats(row: Mapping[str, object]) -> dict[str, Stats]:
    """An episodes-table row's `stats/<feature>/<stat>` columns -> {feature: {stat: array}}."""
    out: dict[str, Stats] = {}
    for col, value in row.items():
        if not col.startswith("stats/") or value is None:
            continue
        name, _, stat = col[len("stats/") :].rpartition("/")
        out.setdefault(name, {})[stat] = np.asarray(value, dtype=np.int64 if stat == "count" else np.float64)
    return out
