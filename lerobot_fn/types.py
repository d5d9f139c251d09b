"""The feature vocabulary of policies and processors: LeRobot's `configs/types.py`.

`FeatureType`, `NormalizationMode` and `PolicyFeature` mirror LeRobot's so a `config.json` or a
processor JSON written by LeRobot reads and writes back unchanged. A neutral core module: both
`lerobot_fn.process` (normalisation) and `lerobot_fn.policies` (family configs) import it, and it
imports neither.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any

import attrs


class FeatureType(str, Enum):
    """What a policy input or output is; selects its normalisation mode."""

    STATE = "STATE"
    VISUAL = "VISUAL"
    ENV = "ENV"
    ACTION = "ACTION"
    REWARD = "REWARD"
    LANGUAGE = "LANGUAGE"


class NormalizationMode(str, Enum):
    """LeRobot's normalisation modes (formulas live in `lerobot_fn.process`)."""

    MIN_MAX = "MIN_MAX"
    MEAN_STD = "MEAN_STD"
    IDENTITY = "IDENTITY"
    QUANTILES = "QUANTILES"
    QUANTILE10 = "QUANTILE10"


@attrs.frozen
class PolicyFeature:
    """One policy input/output: its type and per-frame shape (e.g. VISUAL, (3, 96, 96))."""

    type: FeatureType = attrs.field(converter=FeatureType)
    shape: tuple[int, ...] = attrs.field(converter=lambda s: tuple(int(x) for x in s))

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type.value, "shape": list(self.shape)}


def features_from_dict(raw: Mapping[str, Mapping[str, Any]] | None) -> dict[str, PolicyFeature]:
    """`{"observation.state": {"type": "STATE", "shape": [14]}}` -> `{name: PolicyFeature}`."""
    return {name: PolicyFeature(type=f["type"], shape=f["shape"]) for name, f in (raw or {}).items()}


def features_to_dict(features: Mapping[str, PolicyFeature]) -> dict[str, dict[str, Any]]:
    """Inverse of `features_from_dict`, in LeRobot's JSON form (insertion order kept)."""
    return {name: f.to_dict() for name, f in features.items()}


def norm_map_from_dict(raw: Mapping[str, str] | None) -> dict[FeatureType, NormalizationMode]:
    """`{"VISUAL": "MEAN_STD"}` -> `{FeatureType.VISUAL: NormalizationMode.MEAN_STD}`."""
    return {FeatureType(k): NormalizationMode(v) for k, v in (raw or {}).items()}


def norm_map_to_dict(norm_map: Mapping[FeatureType, NormalizationMode]) -> dict[str, str]:
    return {FeatureType(k).value: NormalizationMode(v).value for k, v in norm_map.items()}
