"""lerobot_fn.data: LeRobotDataset v3.0 on disk and on the Hub.

The package has three parts: `read/` (items, batches, streaming, transforms), `write/` (the
episode writer, video encoding, recovery) and the `tools/` that edit whole datasets; the pieces
they share (meta, layout, features, video, atomic writes, errors, Hub) sit at the top. Every
public name is re-exported here. Importing this package is light: no video backend, no Hub
client is imported until used.
"""

# --- shared -------------------------------------------------------------------------------------
from lerobot_fn.data.atomic import DatasetWriteError
from lerobot_fn.data.errors import (
    DatasetError,
    DatasetFileError,
    DatasetVersionError,
    DeltaTimestampsError,
    FrameTimestampError,
)
from lerobot_fn.data.features import Feature, dump_features, nested_key, parse_features
from lerobot_fn.data.hub import download, lerobot_home
from lerobot_fn.data.meta import CODEBASE_VERSION, DatasetMeta

# --- reading ------------------------------------------------------------------------------------
from lerobot_fn.data.read.concat import ConcatDataset, concat
from lerobot_fn.data.read.loader import collate, loader
from lerobot_fn.data.read.reader import Dataset, open, to_tensordict
from lerobot_fn.data.read.sampler import EpisodeAwareSampler
from lerobot_fn.data.read.streaming import StreamingDataset, stream
from lerobot_fn.data.read.verify import FileProblem, verify
from lerobot_fn.data.sample import sample_dataset

# --- writing ------------------------------------------------------------------------------------
from lerobot_fn.data.write.encode import VideoEncoding
from lerobot_fn.data.write.resume import recover, resume
from lerobot_fn.data.write.writer import DatasetWriter, create

_TRANSFORMS = (
    "ImageTransforms",
    "ImageTransformsConfig",
    "TransformSpec",
    "apply_params",
    "random_transform",
    "sample_params",
)


def __getattr__(name):  # image transforms import torchvision lazily
    if name in _TRANSFORMS:
        from lerobot_fn.data.read import transforms

        return getattr(transforms, name)
    raise AttributeError(f"module 'lerobot_fn.data' has no attribute {name!r}")


__all__ = [
    "CODEBASE_VERSION",
    "ConcatDataset",
    "Dataset",
    "DatasetError",
    "DatasetFileError",
    "DatasetMeta",
    "DatasetVersionError",
    "DatasetWriteError",
    "DatasetWriter",
    "DeltaTimestampsError",
    "EpisodeAwareSampler",
    "Feature",
    "FileProblem",
    "FrameTimestampError",
    "ImageTransforms",
    "ImageTransformsConfig",
    "StreamingDataset",
    "TransformSpec",
    "VideoEncoding",
    "apply_params",
    "collate",
    "concat",
    "create",
    "download",
    "dump_features",
    "lerobot_home",
    "loader",
    "nested_key",
    "open",
    "parse_features",
    "random_transform",
    "recover",
    "resume",
    "sample_dataset",
    "sample_params",
    "stream",
    "to_tensordict",
    "verify",
]
