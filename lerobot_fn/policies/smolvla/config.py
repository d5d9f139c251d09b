"""SmolVLA configuration: every field of LeRobot 0.6.1's `SmolVLAConfig`, same defaults and order.

`Config.from_dict` reads a LeRobot `config.json`; `Config.to_dict` writes one LeRobot parses. As
LeRobot's `validate_features`, `empty_cameras` adds `observation.images.empty_camera_<i>` inputs
(so a saved config lists them, as LeRobot's does).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from lerobot_fn.policies.config_dict import config_fields, config_to_dict, parse_features
from lerobot_fn.policies.features import FeatureType, NormalizationMode, PolicyFeature, norm_map_from_dict
from lerobot_fn.policies.vla.config import (
    COMMON_KINDS,
    PreTrainedFields,
    check_shapes,
    check_values,
    float_pair,
    opt_int_pair,
)

CONFIG_TYPE = "smolvla"
OBS_STATE = "observation.state"
OBS_IMAGES = "observation.images"
OBS_LANGUAGE_TOKENS = "observation.language.tokens"
OBS_LANGUAGE_ATTENTION_MASK = "observation.language.attention_mask"
ACTION = "action"
EMPTY_CAMERA_SHAPE = (3, 480, 640)
ATTENTION_MODES = ("cross_attn", "self_attn")
PAD_LANGUAGE = ("longest", "max_length")


def _default_norm_map() -> dict[FeatureType, NormalizationMode]:
    return norm_map_from_dict({"VISUAL": "IDENTITY", "STATE": "MEAN_STD", "ACTION": "MEAN_STD"})


@attrs.frozen
class Config(PreTrainedFields):
    """LeRobot's `SmolVLAConfig` (type "smolvla"); field order is config.json's order (the common
    `PreTrainedConfig` fields first)."""

    # Input / output structure.
    chunk_size: int = 50
    n_action_steps: int = 50
    normalization_mapping: dict[FeatureType, NormalizationMode] = attrs.field(factory=_default_norm_map)
    max_state_dim: int = 32
    """Shorter state vectors are zero-padded to this size before `state_proj`."""
    max_action_dim: int = 32
    """Actions are zero-padded to this size; the sampler works in this space, outputs are cut back."""
    resize_imgs_with_padding: tuple[int, int] | None = attrs.field(default=(512, 512), converter=opt_int_pair)
    """(width, height) every camera is resized to, keeping its aspect ratio, padding left and top."""
    empty_cameras: int = 0
    adapt_to_pi_aloha: bool = False
    use_delta_joint_actions_aloha: bool = False
    tokenizer_max_length: int = 48
    num_steps: int = 10
    """Euler steps of the flow-matching sampler."""
    use_cache: bool = True
    freeze_vision_encoder: bool = True
    train_expert_only: bool = True
    train_state_proj: bool = True
    # Training presets.
    optimizer_lr: float = 1e-4
    optimizer_betas: tuple[float, float] = attrs.field(default=(0.9, 0.95), converter=float_pair)
    optimizer_eps: float = 1e-8
    optimizer_weight_decay: float = 1e-10
    optimizer_grad_clip_norm: float = 10
    scheduler_warmup_steps: int = 1_000
    scheduler_decay_steps: int = 30_000
    scheduler_decay_lr: float = 2.5e-6
    # The VLM backbone and the action expert.
    vlm_model_name: str = "HuggingFaceTB/SmolVLM2-500M-Video-Instruct"
    """A Hub id or local directory with the SmolVLM config and tokenizer (and weights, see below)."""
    load_vlm_weights: bool = False
    """Read the VLM's pretrained weights when building a new policy (a checkpoint has them anyway)."""
    add_image_special_tokens: bool = False
    attention_mode: str = "cross_attn"
    prefix_length: int = -1
    pad_language_to: str = "longest"
    num_expert_layers: int = -1
    num_vlm_layers: int = 16
    """Only the first `num_vlm_layers` text layers of the VLM are kept."""
    self_attn_every_n_layers: int = 2
    expert_width_multiplier: float = 0.75
    min_period: float = 4e-3
    max_period: float = 4.0
    rtc_config: dict[str, Any] | None = None
    """Real-Time Chunking settings (kept for LeRobot; RTC guidance itself is not implemented here)."""
    compile_model: bool = False
    compile_mode: str = "max-autotune"

    def __attrs_post_init__(self) -> None:
        if self.n_action_steps > self.chunk_size:
            raise ValueError(
                f"smolvla config: `n_action_steps` ({self.n_action_steps}) must be <= `chunk_size` "
                f"({self.chunk_size}), the number of actions one model call predicts"
            )
        if self.use_delta_joint_actions_aloha:
            raise NotImplementedError("smolvla config: `use_delta_joint_actions_aloha` is not supported (nor in LeRobot)")
        if self.adapt_to_pi_aloha:
            raise NotImplementedError("smolvla config: `adapt_to_pi_aloha` (ALOHA joint/gripper conversions) is not "
                                      "supported here; set it to false")
        if self.attention_mode not in ATTENTION_MODES:
            raise ValueError(f"smolvla config: `attention_mode` must be one of {list(ATTENTION_MODES)}, "
                             f"got {self.attention_mode!r}")
        if self.pad_language_to not in PAD_LANGUAGE:
            raise ValueError(f"smolvla config: `pad_language_to` must be one of {list(PAD_LANGUAGE)}, "
                             f"got {self.pad_language_to!r}")
        if self.num_steps < 1:
            raise ValueError(f"smolvla config: `num_steps` must be >= 1, got {self.num_steps}")
        # LeRobot's validate_features: the empty cameras become inputs (filled with -1, masked out).
        features = dict(self.input_features)
        for i in range(self.empty_cameras):
            features.setdefault(f"{OBS_IMAGES}.empty_camera_{i}", PolicyFeature(FeatureType.VISUAL, EMPTY_CAMERA_SHAPE))
        object.__setattr__(self, "input_features", features)

    @property
    def type(self) -> str:
        return CONFIG_TYPE

    @property
    def observation_delta_indices(self) -> list[int]:
        return [0]

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Config:
        """Build from LeRobot's config.json contents; unknown keys and a wrong "type" are errors."""
        d = parse_features(config_fields(cls, d, CONFIG_TYPE, "smolvla"))
        check_values("smolvla", d, _KINDS)
        check_shapes("smolvla", d, ("optimizer_betas",), positive_int_pairs=("resize_imgs_with_padding",))
        return cls(**d)

    def to_dict(self) -> dict[str, Any]:
        """LeRobot's config.json form: "type" first, then every field in LeRobot's order."""
        return config_to_dict(self, CONFIG_TYPE)


_KINDS: dict[str, tuple[type, ...]] = {
    **COMMON_KINDS,
    **dict.fromkeys(("chunk_size", "n_action_steps", "max_state_dim", "max_action_dim",
                     "empty_cameras", "tokenizer_max_length", "num_steps", "scheduler_warmup_steps",
                     "scheduler_decay_steps", "prefix_length", "num_expert_layers", "num_vlm_layers",
                     "self_attn_every_n_layers"), (int,)),
    **dict.fromkeys(("optimizer_lr", "optimizer_eps", "optimizer_weight_decay", "optimizer_grad_clip_norm",
                     "scheduler_decay_lr", "expert_width_multiplier", "min_period", "max_period"), (int, float)),
    **dict.fromkeys(("adapt_to_pi_aloha", "use_delta_joint_actions_aloha",
                     "use_cache", "freeze_vision_encoder", "train_expert_only", "train_state_proj",
                     "load_vlm_weights", "add_image_special_tokens", "compile_model"), (bool,)),
    **dict.fromkeys(("vlm_model_name", "attention_mode", "pad_language_to", "compile_mode"), (str,)),
}

