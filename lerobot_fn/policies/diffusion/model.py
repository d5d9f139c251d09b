"""Diffusion Policy network: observation encoders -> global conditioning -> conditional 1-D UNet.

`build_model(config)` returns a module whose `state_dict` keys are exactly LeRobot's
`DiffusionPolicy` keys (`diffusion.rgb_encoder...`, `diffusion.unet...`), so a LeRobot
`model.safetensors` loads with `strict=True`. The noise scheduler is not a module (LeRobot's isn't
either); it lives in `scheduler.py`.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from tensordict import TensorDictBase
from torch import Tensor, nn

from lerobot_fn.process.keys import leaf_names, nested_key

from .config import ACTION, OBS_STATE, Config
from .encoder import RgbEncoder
from .unet import ConditionalUnet1d


class DiffusionModel(nn.Module):
    """Holds the RGB encoder(s) and the UNet; sizes the UNet's conditioning from the features."""

    def __init__(self, config: Config, *, backbone_weights: Mapping[str, Tensor] | None = None):
        super().__init__()
        config.validate_features()
        self.image_keys = tuple(config.image_features)
        self.env_state_key = config.env_state_key
        self.separate_encoders = config.use_separate_rgb_encoder_per_camera
        cond_dim = config.robot_state_feature.shape[0]
        if self.image_keys:
            n_cams = len(self.image_keys)
            if self.separate_encoders:
                self.rgb_encoder = nn.ModuleList(
                    [RgbEncoder(config, backbone_weights=backbone_weights) for _ in range(n_cams)]
                )
                cond_dim += self.rgb_encoder[0].feature_dim * n_cams
            else:
                self.rgb_encoder = RgbEncoder(config, backbone_weights=backbone_weights)
                cond_dim += self.rgb_encoder.feature_dim * n_cams
        if config.env_state_feature is not None:
            cond_dim += config.env_state_feature.shape[0]
        self.unet = ConditionalUnet1d(config, global_cond_dim=cond_dim * config.n_obs_steps)
        if config.compile_model:
            # As LeRobot (which also gives the state_dict its `unet._orig_mod.` keys); compiles lazily.
            self.unet = torch.compile(self.unet, mode=config.compile_mode)

    def global_conditioning(
        self,
        state: Tensor,
        images: Tensor | None,
        env_state: Tensor | None,
        *,
        train_crop: bool = False,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """state (B, S, D), images (B, S, N, C, H, W), env_state (B, S, E) -> (B, S * (D + N*F + E))."""
        b, s = state.shape[:2]
        feats = [state]
        if images is not None:
            n = images.shape[2]
            if self.separate_encoders:
                per_cam = (
                    images.transpose(0, 2).transpose(1, 2).reshape(n, b * s, *images.shape[3:])
                )  # (N, B*S, C, H, W)
                enc = torch.cat(
                    [
                        e(x, train_crop=train_crop, generator=generator)
                        for e, x in zip(self.rgb_encoder, per_cam)
                    ]
                )  # (N*B*S, F)
                enc = enc.reshape(n, b, s, -1).permute(1, 2, 0, 3)  # (B, S, N, F)
            else:
                enc = self.rgb_encoder(
                    images.reshape(b * s * n, *images.shape[3:]), train_crop=train_crop, generator=generator
                )
                enc = enc.reshape(b, s, n, -1)  # (B, S, N, F)
            feats.append(enc.reshape(b, s, -1))  # cameras concatenated per step
        if env_state is not None:
            feats.append(env_state)
        return torch.cat(feats, dim=-1).flatten(start_dim=1)


class DiffusionPolicyModel(nn.Module):
    """The Diffusion Policy network on a TensorDict, with LeRobot's state_dict layout (`diffusion.`).

    `in_keys`: the nested keys it reads (joint state, cameras in config order, environment state);
    `out_keys`: what its sampling produces. `inputs(batch)` reads them as plain tensors for the
    plain-tensor `DiffusionModel` (conditioning + UNet), through `require_state`, `stack_images`
    and `env_state` below, which name a missing or misshapen entry."""

    out_keys = (ACTION,)

    def __init__(self, config: Config, *, backbone_weights: Mapping[str, Tensor] | None = None):
        super().__init__()
        self.diffusion = DiffusionModel(config, backbone_weights=backbone_weights)
        env = () if config.env_state_key is None else (config.env_state_key,)
        self.in_keys = tuple(nested_key(k) for k in (OBS_STATE, *config.image_features, *env))


def build_model(config: Config, *, backbone_weights: Mapping[str, Tensor] | None = None) -> DiffusionPolicyModel:
    """A fresh Diffusion Policy model for `config`, initialised like LeRobot's under the same seed.

    `backbone_weights`: the ResNet state dict `config.pretrained_backbone_weights` names, read by the
    shell (`data.pretrained.read_backbone_weights`) and loaded into every camera's encoder; None
    leaves them randomly initialised (a checkpoint's weights are loaded next anyway).
    """
    return DiffusionPolicyModel(config, backbone_weights=backbone_weights)


def stack_images(config: Config, batch: TensorDictBase, *, history: bool, lift_frames: bool = False) -> Tensor | None:
    """Stack the cameras of `batch` in config order on a new axis -4: (..., N, C, H, W). With
    `lift_frames`, a single frame per camera (B, C, H, W) counts as a one-step history (as LeRobot)."""
    keys = tuple(config.image_features)
    if not keys:
        return None
    images = [batch.get(nested_key(k), None) for k in keys]
    missing = [k for k, x in zip(keys, images) if x is None]
    if missing:
        raise KeyError(f"diffusion batch: missing image feature(s) {missing} (have {leaf_names(batch)})")
    if lift_frames:
        images = [x.unsqueeze(1) if x.ndim == 4 else x for x in images]
    want = 5 if history else 4
    for k, x in zip(keys, images):
        if x.ndim != want:
            shape = "(B, n_obs_steps, C, H, W)" if history else "(B, C, H, W)"
            raise ValueError(f"diffusion batch: {k!r} has shape {tuple(x.shape)}, expected {shape}")
    return torch.stack(images, dim=-4)


def require_state(batch: TensorDictBase, ndim: int, what: str) -> Tensor:
    x = batch.get(nested_key(OBS_STATE), None)
    if x is None:
        raise KeyError(f"diffusion batch: missing {OBS_STATE!r} (have {leaf_names(batch)})")
    if x.ndim != ndim:
        raise ValueError(f"diffusion batch: {OBS_STATE!r} has shape {tuple(x.shape)}, expected {what}")
    return x


def env_state(config: Config, batch: TensorDictBase) -> Tensor | None:
    """The environment state the config names, or None when it names none."""
    key = config.env_state_key
    if key is None:
        return None
    value = batch.get(nested_key(key), None)
    if value is None:
        raise KeyError(f"diffusion batch: missing environment state {key!r} (have {leaf_names(batch)})")
    return value
