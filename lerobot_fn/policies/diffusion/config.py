"""Diffusion Policy configuration: every field of LeRobot 0.6.1's `DiffusionConfig`, same defaults.

`Config.from_dict` reads a LeRobot `config.json`, `Config.to_dict` writes one LeRobot can parse
(same keys, same order, same value forms). Validation mirrors LeRobot's `__post_init__` and
`validate_features`, with errors that name the offending field.
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs

from lerobot_fn.policies.config_dict import PreTrainedFields, as_norm_map
from lerobot_fn.policies.features import FeatureType, NormalizationMode, norm_map_from_dict

CONFIG_TYPE = "diffusion"

OBS_STATE = "observation.state"
OBS_ENV_STATE = "observation.environment_state"
OBS_IMAGES = "observation.images"  # the stacked-cameras key LeRobot builds internally
ACTION = "action"

PREDICTION_TYPES = ("epsilon", "sample")
NOISE_SCHEDULERS = ("DDPM", "DDIM")


def _opt_pair(value: Any) -> tuple[int, int] | None:
    return None if value is None else tuple(int(v) for v in value)


def _int_tuple(value: Any) -> tuple[int, ...]:
    return tuple(int(v) for v in value)


def _float_tuple(value: Any) -> tuple[float, ...]:
    return tuple(float(v) for v in value)


def _default_norm_map() -> dict[FeatureType, NormalizationMode]:
    return norm_map_from_dict({"VISUAL": "MEAN_STD", "STATE": "MIN_MAX", "ACTION": "MIN_MAX"})


@attrs.frozen
class Config(PreTrainedFields):
    """LeRobot's `DiffusionConfig` (type "diffusion"); field order is config.json's order (the common
    `PreTrainedConfig` fields first, from `PreTrainedFields`)."""

    CONFIG_TYPE: ClassVar[str] = CONFIG_TYPE
    LABEL: ClassVar[str] = "diffusion"

    n_obs_steps: int = 2
    """LeRobot's Diffusion default (the common field's place in config.json is kept)."""
    # Inputs / output structure.
    horizon: int = 64
    n_action_steps: int = 32
    normalization_mapping: dict[FeatureType, NormalizationMode] = attrs.field(
        factory=_default_norm_map, converter=as_norm_map
    )
    drop_n_last_frames: int = 7
    # Vision backbone.
    vision_backbone: str = "resnet18"
    resize_shape: tuple[int, int] | None = attrs.field(default=None, converter=_opt_pair)
    crop_ratio: float = 1.0
    crop_shape: tuple[int, int] | None = attrs.field(default=None, converter=_opt_pair)
    crop_is_random: bool = True
    pretrained_backbone_weights: str | None = "ResNet18_Weights.IMAGENET1K_V1"
    use_group_norm: bool = False
    spatial_softmax_num_keypoints: int = 32
    use_separate_rgb_encoder_per_camera: bool = True
    # UNet.
    down_dims: tuple[int, ...] = attrs.field(default=(512, 1024, 2048), converter=_int_tuple)
    kernel_size: int = 5
    n_groups: int = 8
    diffusion_step_embed_dim: int = 128
    use_film_scale_modulation: bool = True
    gradient_checkpointing: bool = False
    # Noise scheduler.
    noise_scheduler_type: str = "DDPM"
    num_train_timesteps: int = 100
    beta_schedule: str = "squaredcos_cap_v2"
    beta_start: float = 0.0001
    beta_end: float = 0.02
    prediction_type: str = "epsilon"
    clip_sample: bool = True
    clip_sample_range: float = 1.0
    # Inference.
    num_inference_steps: int | None = None
    # Optimization.
    compile_model: bool = False
    compile_mode: str = "reduce-overhead"
    # Loss computation.
    do_mask_loss_for_padding: bool = False
    # Training presets.
    optimizer_lr: float = 1e-4
    optimizer_betas: tuple[float, ...] = attrs.field(default=(0.95, 0.999), converter=_float_tuple)
    optimizer_eps: float = 1e-8
    optimizer_weight_decay: float = 1e-6
    scheduler_name: str = "cosine"
    scheduler_warmup_steps: int = 500

    def __attrs_post_init__(self) -> None:
        if not self.vision_backbone.startswith("resnet"):
            raise ValueError(
                f"diffusion config: `vision_backbone` must be a ResNet variant, got {self.vision_backbone!r}"
            )
        if self.prediction_type not in PREDICTION_TYPES:
            raise ValueError(
                f"diffusion config: `prediction_type` must be one of {list(PREDICTION_TYPES)}, got {self.prediction_type!r}"
            )
        if self.noise_scheduler_type not in NOISE_SCHEDULERS:
            raise ValueError(
                f"diffusion config: `noise_scheduler_type` must be one of {list(NOISE_SCHEDULERS)}, "
                f"got {self.noise_scheduler_type!r}"
            )
        if self.resize_shape is not None and (len(self.resize_shape) != 2 or min(self.resize_shape) <= 0):
            raise ValueError(
                f"diffusion config: `resize_shape` must be two positive integers, got {self.resize_shape}"
            )
        if not 0 < self.crop_ratio <= 1.0:
            raise ValueError(f"diffusion config: `crop_ratio` must be in (0, 1], got {self.crop_ratio}")
        if self.resize_shape is not None:
            # As LeRobot: with a resize the crop is derived from crop_ratio (1.0 = no crop).
            derived = (
                (int(self.resize_shape[0] * self.crop_ratio), int(self.resize_shape[1] * self.crop_ratio))
                if self.crop_ratio < 1.0
                else None
            )
            object.__setattr__(self, "crop_shape", derived)
        if self.crop_shape is not None and (len(self.crop_shape) != 2 or min(self.crop_shape) <= 0):
            raise ValueError(
                f"diffusion config: `crop_shape` must have positive dimensions, got {self.crop_shape}"
            )
        if not self.down_dims:
            raise ValueError("diffusion config: `down_dims` must name at least one UNet level")
        factor = 2 ** len(self.down_dims)
        if self.horizon % factor != 0:
            raise ValueError(
                f"diffusion config: `horizon` ({self.horizon}) must be a multiple of the UNet downsampling "
                f"factor 2**len(down_dims) = {factor} (down_dims={list(self.down_dims)})"
            )
        if self.n_obs_steps < 1 or self.n_action_steps < 1:
            raise ValueError("diffusion config: `n_obs_steps` and `n_action_steps` must be >= 1")
        if (
            self.num_inference_steps is not None
            and not 1 <= self.num_inference_steps <= self.num_train_timesteps
        ):
            raise ValueError(
                f"diffusion config: `num_inference_steps` ({self.num_inference_steps}) must be in "
                f"[1, num_train_timesteps={self.num_train_timesteps}]"
            )

    # --- feature views (LeRobot's PreTrainedConfig properties) ---

    @property
    def type(self) -> str:
        return CONFIG_TYPE

    @property
    def env_state_key(self) -> str | None:
        return next((k for k, f in self.input_features.items() if f.type is FeatureType.ENV), None)

    @property
    def observation_delta_indices(self) -> list[int]:
        return list(range(1 - self.n_obs_steps, 1))

    @property
    def action_delta_indices(self) -> list[int]:
        return list(range(1 - self.n_obs_steps, 1 - self.n_obs_steps + self.horizon))

    @property
    def inference_steps(self) -> int:
        """Denoising steps at inference (`num_inference_steps`, else `num_train_timesteps`)."""
        return self.num_train_timesteps if self.num_inference_steps is None else self.num_inference_steps

    def validate_features(self) -> None:
        """LeRobot's feature checks plus the ones the model needs (state and action present)."""
        if self.robot_state_feature is None:
            raise ValueError(f"diffusion config: input_features must contain {OBS_STATE!r} of type STATE")
        if self.action_feature is None:
            raise ValueError(f"diffusion config: output_features must contain {ACTION!r} of type ACTION")
        images = self.image_features
        if not images and self.env_state_feature is None:
            raise ValueError(
                "diffusion config: input_features need at least one VISUAL feature or an ENV feature "
                f"(got {list(self.input_features)})"
            )
        if self.resize_shape is None and self.crop_shape is not None:
            for key, ft in images.items():
                if self.crop_shape[0] > ft.shape[1] or self.crop_shape[1] > ft.shape[2]:
                    raise ValueError(
                        f"diffusion config: `crop_shape` {list(self.crop_shape)} does not fit image "
                        f"{key!r} of shape {list(ft.shape)}"
                    )
        if images:
            first_key, first = next(iter(images.items()))
            for key, ft in images.items():
                if ft.shape != first.shape:
                    raise ValueError(
                        f"diffusion config: image {key!r} has shape {list(ft.shape)} but {first_key!r} has "
                        f"{list(first.shape)}; all cameras must share one shape"
                    )
