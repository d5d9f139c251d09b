"""pi0 / pi05 configuration: every field of LeRobot 0.6.1's `PI0Config` / `PI05Config`, same defaults.

`PiConfig` holds the fields both share (pi0's defaults); `pi05.Config` changes two defaults
(`tokenizer_max_length` 200, QUANTILES for state and action). `from_dict` reads a LeRobot
`config.json`; `to_dict` writes one LeRobot parses. As LeRobot's `validate_features`,
`empty_cameras` adds `observation.images.empty_camera_<i>` inputs at `image_resolution`.

The backbone sizes come from `paligemma_variant` / `action_expert_variant` (openpi's "gemma_2b",
"gemma_300m"); lerobot-fn also takes a local directory there (see `pi.architecture`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import attrs

from lerobot_fn.policies.config_dict import config_fields, config_to_dict, parse_features
from lerobot_fn.policies.features import FeatureType, NormalizationMode, PolicyFeature, norm_map_from_dict
from lerobot_fn.policies.vla.config import (
    COMMON_KINDS,
    PreTrainedFields,
    check_shapes,
    check_values,
    float_pair,
    opt_list,
)

OBS_STATE = "observation.state"
OBS_IMAGES = "observation.images"
OBS_LANGUAGE_TOKENS = "observation.language.tokens"
OBS_LANGUAGE_ATTENTION_MASK = "observation.language.attention_mask"
ACTION = "action"
DTYPES = ("bfloat16", "float32")


def mean_std_map() -> dict[FeatureType, NormalizationMode]:
    return norm_map_from_dict({"VISUAL": "IDENTITY", "STATE": "MEAN_STD", "ACTION": "MEAN_STD"})


def quantiles_map() -> dict[FeatureType, NormalizationMode]:
    return norm_map_from_dict({"VISUAL": "IDENTITY", "STATE": "QUANTILES", "ACTION": "QUANTILES"})


def _int_pair(value: Any) -> tuple[int, int]:
    return tuple(int(v) for v in value)


@attrs.frozen
class PiConfig(PreTrainedFields):
    """The fields of LeRobot's `PI0Config` / `PI05Config` (pi0's defaults)."""

    CONFIG_TYPE: ClassVar[str] = "pi0"

    paligemma_variant: str = "gemma_2b"
    """The VLM's Gemma: "gemma_2b" / "gemma_300m", or a local PaliGemma directory (see `pi.architecture`)."""
    action_expert_variant: str = "gemma_300m"
    """The action expert's Gemma: "gemma_300m" / "gemma_2b", or a local directory with a Gemma config.json."""
    dtype: str = "float32"
    """"bfloat16" keeps the vision tower, projector and norms in float32, the rest of the backbone bf16 (as LeRobot)."""
    chunk_size: int = 50
    n_action_steps: int = 50
    max_state_dim: int = 32
    """Shorter state vectors are zero-padded to this size."""
    max_action_dim: int = 32
    """Actions are zero-padded to this size; the sampler works in this space, outputs are cut back."""
    num_inference_steps: int = 10
    """Euler steps of the flow-matching sampler."""
    time_sampling_beta_alpha: float = 1.5
    time_sampling_beta_beta: float = 1.0
    time_sampling_scale: float = 0.999
    time_sampling_offset: float = 0.001
    min_period: float = 4e-3
    max_period: float = 4.0
    use_relative_actions: bool = False
    """Actions relative to the state (the preprocessor subtracts it, the postprocessor adds it back)."""
    relative_exclude_joints: list[str] = attrs.field(factory=lambda: ["gripper"], converter=list)
    action_feature_names: list[str] | None = attrs.field(default=None, converter=opt_list)
    rtc_config: dict[str, Any] | None = None
    """Real-Time Chunking settings (kept for LeRobot; RTC guidance itself is not implemented here)."""
    image_resolution: tuple[int, int] = attrs.field(default=(224, 224), converter=_int_pair)
    """(height, width) every camera is resized to, keeping its aspect ratio, padded centred (openpi)."""
    empty_cameras: int = 0
    normalization_mapping: dict[FeatureType, NormalizationMode] = attrs.field(factory=mean_std_map)
    gradient_checkpointing: bool = False
    compile_model: bool = False
    compile_mode: str = "max-autotune"
    freeze_vision_encoder: bool = False
    train_expert_only: bool = False
    optimizer_lr: float = 2.5e-5
    optimizer_betas: tuple[float, float] = attrs.field(default=(0.9, 0.95), converter=float_pair)
    optimizer_eps: float = 1e-8
    optimizer_weight_decay: float = 0.01
    optimizer_grad_clip_norm: float = 1.0
    scheduler_warmup_steps: int = 1_000
    scheduler_decay_steps: int = 30_000
    scheduler_decay_lr: float = 2.5e-6
    tokenizer_max_length: int = 48

    def __attrs_post_init__(self) -> None:
        label = self.CONFIG_TYPE
        if self.n_action_steps > self.chunk_size:
            raise ValueError(f"{label} config: `n_action_steps` ({self.n_action_steps}) must be <= `chunk_size` "
                             f"({self.chunk_size}), the number of actions one model call predicts")
        if self.dtype not in DTYPES:
            raise ValueError(f"{label} config: `dtype` must be one of {list(DTYPES)}, got {self.dtype!r}")
        if self.image_resolution[0] != self.image_resolution[1]:
            raise ValueError(f"{label} config: PaliGemma needs a square `image_resolution`, got "
                             f"{list(self.image_resolution)}")
        if self.num_inference_steps < 1:
            raise ValueError(f"{label} config: `num_inference_steps` must be >= 1, got {self.num_inference_steps}")
        # LeRobot's validate_features: the empty cameras become inputs (filled with -1, masked out).
        features = dict(self.input_features)
        for i in range(self.empty_cameras):
            features.setdefault(f"{OBS_IMAGES}.empty_camera_{i}",
                                PolicyFeature(FeatureType.VISUAL, (3, *self.image_resolution)))
        object.__setattr__(self, "input_features", features)

    @property
    def type(self) -> str:
        return self.CONFIG_TYPE

    @property
    def state_in_prompt(self) -> bool:
        """pi05 reads the (discretised) state from the prompt; pi0 projects it into the expert."""
        return self.CONFIG_TYPE == "pi05"

    @property
    def observation_delta_indices(self) -> None:
        return None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> PiConfig:
        """Build from LeRobot's config.json contents; unknown keys, a wrong "type" and wrongly typed values
        are errors naming the key."""
        fields = parse_features(config_fields(cls, d, cls.CONFIG_TYPE, cls.CONFIG_TYPE))
        check_values(cls.CONFIG_TYPE, fields, _KINDS)
        check_shapes(cls.CONFIG_TYPE, fields, ("optimizer_betas",), positive_int_pairs=("image_resolution",))
        return cls(**fields)

    def to_dict(self) -> dict[str, Any]:
        """LeRobot's config.json form: "type" first, then every field."""
        return config_to_dict(self, self.CONFIG_TYPE)


_KINDS: dict[str, tuple[type, ...]] = {
    **COMMON_KINDS,
    **dict.fromkeys(("chunk_size", "n_action_steps", "max_state_dim", "max_action_dim", "num_inference_steps",
                     "empty_cameras", "scheduler_warmup_steps", "scheduler_decay_steps", "tokenizer_max_length"),
                    (int,)),
    **dict.fromkeys(("time_sampling_beta_alpha", "time_sampling_beta_beta", "time_sampling_scale",
                     "time_sampling_offset", "min_period", "max_period", "optimizer_lr", "optimizer_eps",
                     "optimizer_weight_decay", "optimizer_grad_clip_norm", "scheduler_decay_lr"), (int, float)),
    **dict.fromkeys(("use_relative_actions", "gradient_checkpointing", "compile_model", "freeze_vision_encoder",
                     "train_expert_only"), (bool,)),
    **dict.fromkeys(("paligemma_variant", "action_expert_variant", "dtype", "compile_mode"), (str,)),
}
