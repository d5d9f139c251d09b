"""Processor steps and pipelines: pure `TensorDict -> TensorDict` functions captured in frozen objects.

Compose steps into a `Pipeline`; LeRobot's `policy_preprocessor.json` / `policy_postprocessor.json`
load as pipelines and pipelines save in the same form (`pipeline_from_config`, `pipeline_to_config`;
file I/O in `lerobot_fn.data.pretrained`).
"""

from lerobot_fn.process.actions import (
    AbsoluteActions,
    RelativeActions,
    action_mask,
    to_absolute_actions,
    to_relative_actions,
)
from lerobot_fn.process.basic import AddBatchDim, DeviceMove, RenameObservations
from lerobot_fn.process.image import CenterCrop, ImageCropResize, random_crop
from lerobot_fn.process.keys import dotted, from_flat_dict, nested_key, to_flat_dict
from lerobot_fn.process.normalize import (
    Normalize,
    Unnormalize,
    normalize_tensor,
    stats_from_state_dict,
    stats_to_tensors,
)
from lerobot_fn.process.observation import GymObservation, ImagesToFloat
from lerobot_fn.process.serialize import STEP_REGISTRY, pipeline_from_config, pipeline_to_config
from lerobot_fn.process.step import Pipeline, ProcessorStep, compose
from lerobot_fn.process.text import NewLineTask, TokenizeTask

__all__ = [
    "STEP_REGISTRY",
    "AbsoluteActions",
    "AddBatchDim",
    "CenterCrop",
    "DeviceMove",
    "GymObservation",
    "ImageCropResize",
    "ImagesToFloat",
    "NewLineTask",
    "Normalize",
    "Pipeline",
    "ProcessorStep",
    "RelativeActions",
    "RenameObservations",
    "TokenizeTask",
    "Unnormalize",
    "action_mask",
    "compose",
    "dotted",
    "from_flat_dict",
    "nested_key",
    "normalize_tensor",
    "pipeline_from_config",
    "pipeline_to_config",
    "random_crop",
    "stats_from_state_dict",
    "stats_to_tensors",
    "to_absolute_actions",
    "to_flat_dict",
    "to_relative_actions",
]
