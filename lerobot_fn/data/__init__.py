"""lerobot_fn.data: LeRobotDataset v3.0 on disk and on the Hub.

Reading (`open`, `loader`, `concat`, `stream`, transforms) is the reader's part; writing
(`create`, `resume`, tools) is added below in the marked section. Importing this package is
light: no video backend, no Hub client is imported until used.
"""

from lerobot_fn.data.errors import (
    DatasetError,
    DatasetFileError,
    DatasetVersionError,
    DeltaTimestampsError,
    FrameTimestampError,
)
from lerobot_fn.data.features import Feature, dump_features, nested_key, parse_features
from lerobot_fn.data.meta import CODEBASE_VERSION, DatasetMeta

# --- reading (reader helper) -----------------------------------------------------------------
from lerobot_fn.data.reader import Dataset, open, to_tensordict  # noqa: A004
from lerobot_fn.data.concat import ConcatDataset, concat
from lerobot_fn.data.loader import collate, loader
from lerobot_fn.data.sampler import EpisodeAwareSampler
from lerobot_fn.data.streaming import StreamingDataset, stream
from lerobot_fn.data.hub import download, lerobot_home

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
        from lerobot_fn.data import transforms

        return getattr(transforms, name)
    raise AttributeError(f"module 'lerobot_fn.data' has no attribute {name!r}")


# --- writing (writer helper): add create, resume and tools below this line ---------------------
from lerobot_fn.data.atomic import DatasetWriteError
from lerobot_fn.data.encode import VideoEncoding
from lerobot_fn.data.resume import recover, resume
from lerobot_fn.data.sample import sample_dataset
from lerobot_fn.data.verify import FileProblem, verify
from lerobot_fn.data.writer import DatasetWriter, create
