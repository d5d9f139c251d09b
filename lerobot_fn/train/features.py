"""From a dataset's features to a policy's: what LeRobot's `dataset_to_policy_features` does,
plus the `delta_timestamps` a policy config asks the dataset for."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lerobot_fn.policies.features import FeatureType, PolicyFeature


def policy_features(features: Mapping[str, Any]) -> dict[str, PolicyFeature]:
    """Dataset features (name -> Feature with dtype/shape) -> policy features.

    Cameras (image/video, stored HWC) become VISUAL with shape CHW; `observation.environment_state`
    is ENV; other `observation.*` are STATE; `action` is ACTION. Bookkeeping columns (index,
    timestamp, ...) and non-numeric features are left out.
    """
    out: dict[str, PolicyFeature] = {}
    for name, feature in features.items():
        shape = tuple(feature.shape)
        if feature.dtype in ("image", "video"):
            if len(shape) != 3:
                raise ValueError(f"camera feature {name!r} must have 3 dimensions, got shape {shape}")
            chw = shape if shape[0] in (1, 3) and shape[-1] not in (1, 3) else (shape[2], shape[0], shape[1])
            out[name] = PolicyFeature(FeatureType.VISUAL, chw)
        elif name == "observation.environment_state":
            out[name] = PolicyFeature(FeatureType.ENV, shape)
        elif name.startswith("observation."):
            out[name] = PolicyFeature(FeatureType.STATE, shape)
        elif name == "action":
            out[name] = PolicyFeature(FeatureType.ACTION, shape)
    return out


def split_features(features: Mapping[str, PolicyFeature]) -> tuple[dict, dict]:
    """(input_features, output_features): actions are outputs, everything else inputs."""
    inputs = {k: f for k, f in features.items() if f.type is not FeatureType.ACTION}
    outputs = {k: f for k, f in features.items() if f.type is FeatureType.ACTION}
    return inputs, outputs


def delta_timestamps(config: Any, fps: int) -> dict[str, list[float]]:
    """The dataset `delta_timestamps` a policy config needs (LeRobot's `resolve_delta_timestamps`):
    each `*_delta_indices` divided by fps, for every input feature and `action`."""
    result: dict[str, list[float]] = {}
    observation = config.observation_delta_indices
    action = config.action_delta_indices
    for name in config.input_features:
        if observation is not None:
            result[name] = [i / fps for i in observation]
    if action is not None:
        result["action"] = [i / fps for i in action]
    return result
