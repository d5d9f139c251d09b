"""ACT configuration: every field of LeRobot 0.6.1's `ACTConfig`, its defaults and its checks.

`Config.from_dict` reads LeRobot's `config.json`; `Config.to_dict` writes it back in the same key
order and value forms, so a checkpoint's config round-trips and LeRobot can parse ours.
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from lerobot_fn.policies.config_dict import PreTrainedFields, as_norm_map
from lerobot_fn.policies.features import FeatureType, NormalizationMode

CONFIG_TYPE = "act"

OBS_STATE = "observation.state"
OBS_ENV_STATE = "observation.environment_state"
ACTION = "action"

_ACTIVATIONS = ("relu", "gelu", "glu")
_AT_LEAST_ONE = ("chunk_size", "n_action_steps", "dim_model", "n_heads", "dim_feedforward", "n_encoder_layers",
                 "n_decoder_layers", "latent_dim", "n_vae_encoder_layers")


def _default_norm_map() -> dict[FeatureType, NormalizationMode]:
    return {
        FeatureType.VISUAL: NormalizationMode.MEAN_STD,
        FeatureType.STATE: NormalizationMode.MEAN_STD,
        FeatureType.ACTION: NormalizationMode.MEAN_STD,
    }


@attrs.frozen(kw_only=True)
class Config(PreTrainedFields):
    """Action Chunking Transformer settings (LeRobot 0.6.1 `ACTConfig`, same names and defaults; the
    common `PreTrainedConfig` fields come first, from `PreTrainedFields`)."""

    CONFIG_TYPE: ClassVar[str] = CONFIG_TYPE
    LABEL: ClassVar[str] = "ACT"

    # Input / output structure.
    chunk_size: int = 100
    n_action_steps: int = 100
    normalization_mapping: dict[FeatureType, NormalizationMode] = attrs.field(factory=_default_norm_map, converter=as_norm_map)
    # Vision backbone.
    vision_backbone: str = "resnet18"
    pretrained_backbone_weights: str | None = "ResNet18_Weights.IMAGENET1K_V1"
    replace_final_stride_with_dilation: bool | int = False
    """LeRobot types it `int` with default False: its config.json holds false or 0 (kept as written)."""
    # Transformer layers.
    pre_norm: bool = False
    dim_model: int = 512
    n_heads: int = 8
    dim_feedforward: int = 3200
    feedforward_activation: str = "relu"
    n_encoder_layers: int = 4
    n_decoder_layers: int = 1
    # VAE.
    use_vae: bool = True
    latent_dim: int = 32
    n_vae_encoder_layers: int = 4
    # Inference.
    temporal_ensemble_coeff: float | None = None
    # Training and loss computation.
    dropout: float = 0.1
    kl_weight: float = 10.0
    # Training preset.
    optimizer_lr: float = 1e-5
    optimizer_weight_decay: float = 1e-4
    optimizer_lr_backbone: float = 1e-5

    def __attrs_post_init__(self) -> None:
        # The same checks as LeRobot's ACTConfig.__post_init__, as ValueErrors naming the fields.
        for name in _AT_LEAST_ONE:
            if getattr(self, name) < 1:
                raise ValueError(f"ACT config field {name!r} must be >= 1, got {getattr(self, name)}")
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
