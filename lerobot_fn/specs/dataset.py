"""Schemas of the `dataset.*` jobs: the dataset tools as `lerobot-run` specs.

Paths are relative to the spec file's directory (`--set` values: to the working directory); a
`dataset` may also be `"sample:pusht"`, the sample dataset generated on first use into the cache
(`lerobot_fn.data.sample_dataset`). An `output` left empty means `<run directory>/dataset`.
"""

from __future__ import annotations

import attrs

from .paths import DATASET, PATH
from .schema import RunOptions, spec_field

_RUN = attrs.Factory(RunOptions)
_OUTPUT_DOC = "directory of the new dataset (must not exist); empty: <run directory>/dataset"


@attrs.frozen
class InfoSpec:
    """Summarise a dataset: episodes, frames, fps, tasks, features and files; with `check`, also read
    every data and video file and fail (exit 1) naming each broken one."""

    dataset: str = spec_field(doc="dataset root directory", path=DATASET)
    check: bool = spec_field(True, doc="read every data and video file and report each broken one (data.verify)")
    run: RunOptions = spec_field(_RUN, doc="run options")


@attrs.frozen
class DeleteEpisodesSpec:
    """Delete episodes from a dataset, writing a new re-indexed dataset."""

    dataset: str = spec_field(doc="input dataset root directory", path=DATASET)
    episodes: list[int] = spec_field(doc="episode indices to delete")
    output: str = spec_field("", doc=_OUTPUT_DOC, path=PATH)
    run: RunOptions = spec_field(_RUN, doc="run options")


@attrs.frozen
class SplitSpec:
    """Split a dataset into several, by fractions of its episodes or by explicit episode lists."""

    dataset: str = spec_field(doc="input dataset root directory", path=DATASET)
    fractions: dict[str, float] = spec_field(
        attrs.Factory(dict), doc="split name -> fraction of the episodes, e.g. {train = 0.8, val = 0.2}"
    )
    episodes: dict[str, list[int]] = spec_field(
        attrs.Factory(dict), doc="split name -> episode indices (instead of fractions)"
    )
    output_dir: str = spec_field(
        "", doc="where the splits go (one dataset per name); empty: the run directory", path=PATH
    )
    run: RunOptions = spec_field(_RUN, doc="run options")


@attrs.frozen
class MergeSpec:
    """Merge datasets with the same fps and features into one."""

    datasets: list[str] = spec_field(doc="dataset root directories, merged in this order", path=DATASET)
    output: str = spec_field("", doc=_OUTPUT_DOC, path=PATH)
    run: RunOptions = spec_field(_RUN, doc="run options")


@attrs.frozen
class AddFeatureSpec:
    """Add a numeric feature whose per-frame values are in a .npy file (total_frames x shape)."""

    dataset: str = spec_field(doc="input dataset root directory", path=DATASET)
    name: str = spec_field(doc="feature name, e.g. observation.extra")
    values: str = spec_field(doc=".npy file with one row per frame, in index order", path=PATH)
    dtype: str = spec_field("float32", doc="feature dtype (float32, float64, int64, bool, ...)")
    shape: list[int] = spec_field(attrs.Factory(lambda: [1]), doc="feature shape")
    names: list[str] = spec_field(attrs.Factory(list), doc="names of the feature's dimensions (optional)")
    output: str = spec_field("", doc=_OUTPUT_DOC, path=PATH)
    run: RunOptions = spec_field(_RUN, doc="run options")


@attrs.frozen
class RemoveFeatureSpec:
    """Remove features (columns, videos and their stats) from a dataset."""

    dataset: str = spec_field(doc="input dataset root directory", path=DATASET)
    features: list[str] = spec_field(doc="feature names to remove")
    output: str = spec_field("", doc=_OUTPUT_DOC, path=PATH)
    run: RunOptions = spec_field(_RUN, doc="run options")


@attrs.frozen
class ImagesToVideoSpec:
    """Store inline image features (PNG in parquet) as videos."""

    dataset: str = spec_field(doc="input dataset root directory", path=DATASET)
    keys: list[str] = spec_field(attrs.Factory(list), doc="image features to convert; empty: all")
    vcodec: str = spec_field(
        "libsvtav1", doc="encoder: libsvtav1 (LeRobot's AV1 default), libx264, libx264rgb"
    )
    crf: int = spec_field(30, doc="quality (lower is better and larger)")
    output: str = spec_field("", doc=_OUTPUT_DOC, path=PATH)
    run: RunOptions = spec_field(_RUN, doc="run options")


@attrs.frozen
class RecomputeStatsSpec:
    """Recompute per-episode and dataset stats from the stored frames."""

    dataset: str = spec_field(doc="dataset root directory", path=DATASET)
    in_place: bool = spec_field(False, doc="update the dataset's meta files instead of writing a new dataset")
    output: str = spec_field("", doc=_OUTPUT_DOC + " (ignored with in_place)", path=PATH)
    run: RunOptions = spec_field(_RUN, doc="run options")


@attrs.frozen
class ConvertV21Spec:
    """Convert a LeRobotDataset v2.1 (jsonl metadata, one file per episode) to v3.0."""

    dataset: str = spec_field(doc="v2.1 dataset root directory", path=DATASET)
    output: str = spec_field("", doc=_OUTPUT_DOC, path=PATH)
    run: RunOptions = spec_field(_RUN, doc="run options")


@attrs.frozen
class PushSpec:
    """Upload a dataset to the Hugging Face Hub: repo, dataset card, files, codebase-version tag."""

    dataset: str = spec_field(doc="dataset root directory", path=DATASET)
    repo_id: str = spec_field(doc="Hub dataset repo, e.g. user/my_dataset")
    private: bool = spec_field(False, doc="create the repo private")
    branch: str = spec_field("", doc="branch to push to; empty: main")
    license: str = spec_field("apache-2.0", doc="license in the dataset card")
    tags: list[str] = spec_field(attrs.Factory(list), doc="extra tags for the dataset card")
    run: RunOptions = spec_field(_RUN, doc="run options")
