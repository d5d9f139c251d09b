"""Policy feature views shared by every policy family.

The vocabulary itself (`FeatureType`, `NormalizationMode`, `PolicyFeature` and their dict forms)
lives in the neutral `lerobot_fn.types`, which the processors import too; it is re-exported here.
"""

from __future__ import annotations

from lerobot_fn.types import (
    FeatureType,
    NormalizationMode,
    PolicyFeature,
    features_from_dict,
    features_to_dict,
    norm_map_from_dict,
    norm_map_to_dict,
)

__all__ = [
    "FeatureType",
    "FeatureViews",
    "NormalizationMode",
    "PolicyFeature",
    "features_from_dict",
    "features_to_dict",
    "norm_map_from_dict",
    "norm_map_to_dict",
]


class FeatureViews:
    """LeRobot's `PreTrainedConfig` feature properties, for any config with `input_features` and
    `output_features` (mixed into each family's attrs Config)."""

    input_features: dict[str, PolicyFeature]
    output_features: dict[str, PolicyFeature]

    @property
    def image_features(self) -> dict[str, PolicyFeature]:
        """Camera inputs in `input_features` order (the order their tokens enter the model)."""
        return {k: f for k, f in self.input_features.items() if f.type is FeatureType.VISUAL}

    @property
    def robot_state_feature(self) -> PolicyFeature | None:
        f = self.input_features.get("observation.state")
        return f if f is not None and f.type is FeatureType.STATE else None

    @property
    def env_state_feature(self) -> PolicyFeature | None:
        return next((f for f in self.input_features.values() if f.type is FeatureType.ENV), None)

    @property
    def action_feature(self) -> PolicyFeature | None:
        f = self.output_features.get("action")
        return f if f is not None and f.type is FeatureType.ACTION else None
