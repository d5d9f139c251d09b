"""ACT configuration: every field of LeRobot 0.6.1's `ACTConfig`, its defaults and its checks.

`Config.from_dict` reads LeRobot's `config.json`; `Config.to_dict` writes it back in the same key
order and value forms, so a checkpoint's config round-trips and LeRobot can parse ours.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from lerobot_fn.policies.config_dict import config_fields, config_to_dict
from lerobot_fn.policies.features import (
    FeatureType,
    FeatureViews,
    NormalizationMode,
    PolicyFeature,
    features_from_dict,
    norm_map_from_dict,
)

CONFIG_TYPE = "act"

OBS_STATE = "observation.state"
OBS_ENV_STATE = "observation.environment_state"
ACTION = "action"

_ACTIVATIONS = ("relu", "gelu", "glu")


def _default_norm_map() -> dict[FeatureType, NormalizationMode]:
    return {
        FeatureType.VISUAL: NormalizationMode.MEAN_STD,
        FeatureType.STATE: NormalizationMode.MEAN_STD,
        FeatureType.ACTION: NormalizationMode.MEAN_STD,
    }


def _check_int(inst: Any, attribute: attrs.Attribute, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"ACT config field {attribute.name!r} must be an integer, got {value!r}")  # noqa: TRY004


def _check_positive_int(inst: Any, attribute: attrs.Attribute, value: Any) -> None:
    _check_int(inst, attribute, value)
    if value < 1:
        raise ValueError(f"ACT config field {attribute.name!r} must be >= 1, got {value}")


def _to_float(value: Any) -> Any:
    return float(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _to_opt_float(value: Any) -> Any:
    return None if value is None else _to_float(value)


def _check_float(inst: Any, attribute: attrs.Attribute, value: Any) -> None:
    if not isinstance(value, float):
        raise ValueError(f"ACT config field {attribute.name!r} must be a number, got {value!r}")  # noqa: TRY004


def _check_opt_float(inst: Any, attribute: attrs.Attribute, value: Any) -> None:
    if value is not None:
        _check_float(inst, attribute, value)


def _check_bool(inst: Any, attribute: attrs.Attribute, value: Any) -> None:
    if not isinstance(value, bool):
        raise ValueError(f"ACT config field {attribute.name!r} must be true or false, got {value!r}")  # noqa: TRY004


def _check_opt_bool(inst: Any, attribute: attrs.Attribute, value: Any) -> None:
    if value is not None:
        _check_bool(inst, attribute, value)


def _check_opt_str(inst: Any, attribute: attrs.Attribute, value: Any) -> None:
    if value is not None and not isinstance(value, str):
        raise ValueError(f"ACT config field {attribute.name!r} must be a string or null, got {value!r}")


def _to_features(value: Any) -> dict[str, PolicyFeature]:
    if value is None:
        return {}
    out = {}
    for name, f in dict(value).items():
        if isinstance(f, PolicyFeature):
            out[name] = f
            continue
        try:
            out.update(features_from_dict({name: f}))
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(
                f"ACT config feature {name!r} must look like {{'type': 'STATE', 'shape': [14]}}, got {f!r} ({e})"
            ) from e
    return out


def _to_norm_map(value: Any) -> dict[FeatureType, NormalizationMode]:
    try:
        return norm_map_from_dict(
            {FeatureType(k).value: NormalizationMode(v).value for k, v in value.items()}
        )
    except (AttributeError, ValueError) as e:
        raise ValueError(
            f"ACT config 'normalization_mapping' must map feature types to modes, got {value!r} ({e})"
        ) from e


def _to_tags(value: Any) -> tuple[str, ...] | None:
    return None if value is None else tuple(value)


def _to_dilation(value: Any) -> Any:
    # LeRobot types it `int` with default False; JSON holds false/true (or 0/1).
    if isinstance(value, int):
        return value
    raise ValueError(f"ACT config field 'replace_final_stride_with_dilation' must be a bool, got {value!r}")


@attrs.frozen(kw_only=True)
class Config(FeatureViews):
    """Action Chunking Transformer settings (LeRobot 0.6.1 `ACTConfig`, same names and defaults)."""

    # Common PreTrainedConfig fields.
    n_obs_steps: int = attrs.field(default=1, validator=_check_int)
    input_features: dict[str, PolicyFeature] = attrs.field(factory=dict, converter=_to_features)
    output_features: dict[str, PolicyFeature] = attrs.field(factory=dict, converter=_to_features)
    device: str | None = attrs.field(default=None, validator=_check_opt_str)
    use_amp: bool = attrs.field(default=False, validator=_check_bool)
    use_peft: bool = attrs.field(default=False, validator=_check_bool)
    push_to_hub: bool = attrs.field(default=True, validator=_check_bool)
    repo_id: str | None = attrs.field(default=None, validator=_check_opt_str)
    private: bool | None = attrs.field(default=None, validator=_check_opt_bool)
    tags: tuple[str, ...] | None = attrs.field(default=None, converter=_to_tags)
    license: str | None = attrs.field(default=None, validator=_check_opt_str)
    pretrained_path: str | None = attrs.field(default=None, converter=lambda v: None if v is None else str(v))
    pretrained_revision: str | None = attrs.field(default=None, validator=_check_opt_str)
    # Input / output structure.
    chunk_size: int = attrs.field(default=100, validator=_check_positive_int)
    n_action_steps: int = attrs.field(default=100, validator=_check_positive_int)
    normalization_mapping: dict[FeatureType, NormalizationMode] = attrs.field(
        factory=_default_norm_map, converter=_to_norm_map
    )
    # Vision backbone.
    vision_backbone: str = "resnet18"
    pretrained_backbone_weights: str | None = attrs.field(
        default="ResNet18_Weights.IMAGENET1K_V1", validator=_check_opt_str
    )
    replace_final_stride_with_dilation: int = attrs.field(default=False, converter=_to_dilation)
    # Transformer layers.
    pre_norm: bool = attrs.field(default=False, validator=_check_bool)
    dim_model: int = attrs.field(default=512, validator=_check_positive_int)
    n_heads: int = attrs.field(default=8, validator=_check_positive_int)
    dim_feedforward: int = attrs.field(default=3200, validator=_check_positive_int)
    feedforward_activation: str = "relu"
    n_encoder_layers: int = attrs.field(default=4, validator=_check_positive_int)
    n_decoder_layers: int = attrs.field(default=1, validator=_check_positive_int)
    # VAE.
    use_vae: bool = attrs.field(default=True, validator=_check_bool)
    latent_dim: int = attrs.field(default=32, validator=_check_positive_int)
    n_vae_encoder_layers: int = attrs.field(default=4, validator=_check_positive_int)
    # Inference.
    temporal_ensemble_coeff: float | None = attrs.field(
        default=None, converter=_to_opt_float, validator=_check_opt_float
    )
    # Training and loss computation.
    dropout: float = attrs.field(default=0.1, converter=_to_float, validator=_check_float)
    kl_weight: float = attrs.field(default=10.0, converter=_to_float, validator=_check_float)
    # Training preset.
    optimizer_lr: float = attrs.field(default=1e-5, converter=_to_float, validator=_check_float)
    optimizer_weight_decay: float = attrs.field(default=1e-4, converter=_to_float, validator=_check_float)
    optimizer_lr_backbone: float = attrs.field(default=1e-5, converter=_to_float, validator=_check_float)

    def __attrs_post_init__(self) -> None:
        # The same checks as LeRobot's ACTConfig.__post_init__, as ValueErrors naming the fields.
        if not isinstance(self.vision_backbone, str) or not self.vision_backbone.startswith("resnet"):
            raise ValueError(
                f"ACT config 'vision_backbone' must be one of the ResNet variants, got {self.vision_backbone!r}"
            )
        if self.feedforward_activation not in _ACTIVATIONS:
            raise ValueError(
                f"ACT config 'feedforward_activation' must be one of {_ACTIVATIONS}, "
                f"got {self.feedforward_activation!r}"
            )
        if self.temporal_ensemble_coeff is not None and self.n_action_steps > 1:
            raise ValueError(
                "ACT config: 'n_action_steps' must be 1 when 'temporal_ensemble_coeff' is set (the policy is "
                f"queried every step to form the ensemble); got n_action_steps={self.n_action_steps}"
            )
        if self.n_action_steps > self.chunk_size:
            raise ValueError(
                f"ACT config: 'n_action_steps' ({self.n_action_steps}) must not exceed 'chunk_size' "
                f"({self.chunk_size}), the number of actions predicted per model invocation"
            )
        if self.n_obs_steps != 1:
            raise ValueError(
                f"ACT config: 'n_obs_steps' must be 1 (no observation history), got {self.n_obs_steps}"
            )
        if self.dim_model % self.n_heads != 0:
            raise ValueError(
                f"ACT config: 'dim_model' ({self.dim_model}) must be divisible by 'n_heads' ({self.n_heads})"
            )

    # -- feature views (LeRobot's PreTrainedConfig properties) ------------------------------------

    @property
    def env_state_key(self) -> str | None:
        """LeRobot reads the environment state from `observation.environment_state` whatever its name."""
        return OBS_ENV_STATE if self.env_state_feature is not None else None

    @property
    def observation_delta_indices(self) -> None:
        return None

    @property
    def action_delta_indices(self) -> list[int]:
        """Frame offsets of the action targets a training item needs: the whole chunk."""
        return list(range(self.chunk_size))

    @property
    def reward_delta_indices(self) -> None:
        return None

    def validate_features(self) -> None:
        """LeRobot's `validate_features` plus the action output the model needs; run by build_model."""
        if not self.image_features and self.env_state_feature is None:
            raise ValueError(
                "ACT config 'input_features' must include at least one image (type VISUAL) or the "
                f"environment state (type ENV); got {sorted(self.input_features)}"
            )
        if self.action_feature is None:
            raise ValueError(
                f"ACT config 'output_features' must include 'action' of type ACTION; got {sorted(self.output_features)}"
            )

    # -- LeRobot config.json ------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Config:
        """Parse LeRobot's `config.json` dict; unknown keys and a wrong "type" raise ValueError."""
        d = config_fields(cls, d, CONFIG_TYPE, "ACT")
        try:
            return cls(**d)
        except (KeyError, TypeError) as e:
            raise ValueError(f"invalid ACT config value: {e}") from e

    def to_dict(self) -> dict[str, Any]:
        """LeRobot's `config.json` form: "type" first, then fields in LeRobot's order."""
        return config_to_dict(self, CONFIG_TYPE)
