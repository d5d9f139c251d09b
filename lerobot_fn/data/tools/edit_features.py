"""Add a feature (values for every frame) or remove features, writing a new dataset."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lerobot_fn.data import stats as stats_mod
from lerobot_fn.data import tables
from lerobot_fn.data.features import Feature
from lerobot_fn.data.tools.build import DatasetBuilder, copy_episode
from lerobot_fn.data.tools.source import Source


def add_feature(
    root: str | Path,
    output: str | Path,
    name: str,
    feature: dict,
    values: np.ndarray | Callable[[int, Any], np.ndarray],
) -> Path:
    """Write `output` = `root` plus the numeric feature `name` ({"dtype", "shape", "names"}).

    `values`: an array with one entry per frame (total_frames, *shape), in index order, or a
    function (episode_index, episode rows as a pyarrow Table) -> (length, *shape) array.
    """
    src = Source.open(root)
    if name in src.features:
        raise ValueError(f"add_feature: {src.root} already has a feature {name!r}")
    feat = Feature.from_dict(feature, key=name)
    if feat.dtype in ("video", "image"):
        raise ValueError(f"add_feature: {name!r}: only numeric features can be added (got {feat.dtype})")
    tables.arrow_type(name, feat)
    total = sum(int(r["length"]) for r in src.rows)
    if not callable(values):
        values = np.asarray(values)
        if values.shape[0] != total:
            raise ValueError(
                f"add_feature: {name!r} has {values.shape[0]} values, {src.root} has {total} frames"
            )
    info = dict(src.info)
    feats = dict(info["features"])
    defaults = {k: feats.pop(k) for k in tables.DEFAULT_FEATURES if k in feats}
    feats[name] = feat.to_dict()
    info["features"] = {**feats, **defaults}
    with DatasetBuilder(output, info) as b:
        for e in src.episode_indices:
            r = src.row(e)
            if callable(values):
                ep_values = np.asarray(values(e, src.frames(e)))
            else:
                a = int(r["dataset_from_index"])
                ep_values = values[a : a + int(r["length"])]
            ep_values = np.asarray(ep_values, dtype=feat.dtype)
            if ep_values.shape[1:] != tuple(feat.shape) and not (feat.shape == (1,) and ep_values.ndim == 1):
                raise ValueError(
                    f"add_feature: {name!r} episode {e}: values of shape {ep_values.shape[1:]}, "
                    f"feature shape {feat.shape}"
                )
            if feat.shape == (1,):
                ep_values = ep_values.reshape(-1)
            extra = {name: stats_mod.numeric_feature_stats(ep_values)}
            copy_episode(b, src, e, extra_columns={name: ep_values}, extra_stats=extra)
        return b.close()


def remove_feature(root: str | Path, output: str | Path, names: Sequence[str]) -> Path:
    """Write `output` = `root` without the features `names` (columns, videos and stats)."""
    src = Source.open(root)
    names = [names] if isinstance(names, str) else list(names)
    unknown = [n for n in names if n not in src.features]
    if unknown:
        raise ValueError(f"remove_feature: {unknown} not in {src.root} (features: {list(src.features)})")
    protected = [n for n in names if n in tables.DEFAULT_FEATURES]
    if protected:
        raise ValueError(f"remove_feature: {protected} are required by the format and cannot be removed")
    info = dict(src.info)
    info["features"] = {k: v for k, v in info["features"].items() if k not in names}
    if not any(f["dtype"] == "video" for f in info["features"].values()):
        info["video_path"] = None
    with DatasetBuilder(output, info) as b:
        for e in src.episode_indices:
            copy_episode(b, src, e, drop=tuple(names))
        return b.close()
