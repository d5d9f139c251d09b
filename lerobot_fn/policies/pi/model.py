"""The pi0 / pi05 network (Black et al. 2024, "pi0: A Vision-Language-Action Flow Model for General Robot
Control"; Physical Intelligence 2025, "pi0.5"), in openpi's order:

1. Prefix: every camera through SigLIP + the projector, the prompt's tokens through Gemma's
   embeddings; bidirectional attention among them.
2. Suffix, in the action expert:
   - pi0: the state (`state_proj`) as its own block, then the noisy chunk (`action_in_proj`) fused
     with a sine-cosine embedding of the flow-matching time by a two-layer MLP (`action_time_mlp_*`);
   - pi05: the noisy chunk alone; the time embedding, through `time_mlp_*`, conditions the
     expert's adaptive RMSNorms; the state is in the prompt (see `processors`).
   The chunk attends to the prefix, the state and itself (not causal).
3. `action_out_proj` maps the expert's output to the velocity field v_t.

Module and parameter names equal LeRobot 0.6.1's `PI0Policy` / `PI05Policy` (`model.*`), so its
`model.safetensors` loads strictly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from tensordict import TensorDictBase
from torch import Tensor, nn

from lerobot_fn.policies.vla.batch import as_batch, field, is_empty_camera, language, optional
from lerobot_fn.policies.vla.compile import compile_flow
from lerobot_fn.policies.vla.flow_matching import euler_sample, sinusoidal_time_embedding
from lerobot_fn.process.keys import leaf_names, nested_key
from lerobot_fn.process.padding import pad_vector

from .config import ACTION, OBS_LANGUAGE_ATTENTION_MASK, OBS_LANGUAGE_TOKENS, OBS_STATE, PiConfig
from .gemma import PaliGemmaWithExpert, PrefixCache, make_att_2d_masks


class PiFlowMatching(nn.Module):
    """PaliGemma + the expert and pi's projections (LeRobot's `PI0Pytorch` / `PI05Pytorch`)."""

    def __init__(self, config: PiConfig) -> None:
        super().__init__()
        self.config = config
        self.paligemma_with_expert = PaliGemmaWithExpert(config)
        width = self.paligemma_with_expert.gemma_expert.config.hidden_size
        self.action_in_proj = nn.Linear(config.max_action_dim, width)
        self.action_out_proj = nn.Linear(width, config.max_action_dim)
        if config.state_in_prompt:
            self.time_mlp_in = nn.Linear(width, width)
            self.time_mlp_out = nn.Linear(width, width)
        else:
            self.state_proj = nn.Linear(config.max_state_dim, width)
            self.action_time_mlp_in = nn.Linear(2 * width, width)
            self.action_time_mlp_out = nn.Linear(width, width)

    def embed_prefix(self, images: list[Tensor], img_masks: list[Tensor], tokens: Tensor,
                     lang_masks: Tensor) -> tuple[Tensor, Tensor]:
        """(embeddings (B, P, VLM width), pad mask (B, P)); the whole prefix is one attention block."""
        embs, pads = [], []
        for img, mask in zip(images, img_masks, strict=True):
            emb = self.paligemma_with_expert.embed_image(img)
            embs.append(emb)
            pads.append(mask[:, None].expand(emb.shape[0], emb.shape[1]))
        embs.append(self.paligemma_with_expert.embed_language_tokens(tokens))
        pads.append(lang_masks)
        return torch.cat(embs, dim=1), torch.cat(pads, dim=1)

    def embed_suffix(self, state: Tensor | None, x_t: Tensor,
                     time: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor | None]:
        """(suffix (B, S, expert width), pad mask, attention-block mask, AdaRMS condition or None) for
        noisy actions x_t (B, chunk, max_action_dim) at `time` (B,)."""
        b, chunk = x_t.shape[:2]
        width = self.action_in_proj.out_features
        time_emb = sinusoidal_time_embedding(time, width, self.config.min_period, self.config.max_period)
        time_emb = time_emb.to(time.dtype)
        action_emb = self.action_in_proj(x_t)
        blocks = [1] + [0] * (chunk - 1)
        if self.config.state_in_prompt:
            cond = F.silu(self.time_mlp_out(F.silu(self.time_mlp_in(time_emb))))
            suffix = action_emb
        else:
            cond = None
            state_emb = self.state_proj(state.to(self.state_proj.weight.dtype))[:, None]
            fused = torch.cat([action_emb, time_emb[:, None].expand_as(action_emb)], dim=2)
            fused = self.action_time_mlp_out(F.silu(self.action_time_mlp_in(fused)))
            suffix = torch.cat([state_emb, fused], dim=1)
            blocks = [1, *blocks]
        pad = torch.ones(b, suffix.shape[1], dtype=torch.bool, device=x_t.device)
        att = torch.tensor(blocks, dtype=torch.int32, device=x_t.device)[None].expand(b, -1)
        return suffix, pad, att, cond

    def prefill(self, images, img_masks, tokens, lang_masks) -> PrefixCache:
        """Embed the prefix and run it through the VLM once (the keys/values every step reuses).
        With nothing in PaliGemma training, no autograd graph is kept for it."""
        vlm = self.paligemma_with_expert
        trains = torch.is_grad_enabled() and any(p.requires_grad for p in vlm.paligemma.parameters())
        with torch.set_grad_enabled(trains):
            emb, pad = self.embed_prefix(images, img_masks, tokens, lang_masks)
            att = torch.zeros_like(pad, dtype=torch.int32)
            return vlm.prefill(emb, make_att_2d_masks(pad, att), pad)

    def velocity(self, cache: PrefixCache, state: Tensor | None, x_t: Tensor, time: Tensor) -> Tensor:
        """The predicted flow v_t (B, chunk, max_action_dim), float32, for noisy actions x_t at `time`."""
        suffix, pad, att, cond = self.embed_suffix(state, x_t, time)
        out = self.paligemma_with_expert.suffix_pass(suffix, pad, att, cache, cond)
        return self.action_out_proj(out[:, -self.config.chunk_size :].to(torch.float32))

    def forward(self, images: list[Tensor], img_masks: list[Tensor], tokens: Tensor, lang_masks: Tensor,
                state: Tensor | None, noise: Tensor) -> Tensor:
        """The Euler sampler: x_1 = noise (B, chunk, max_action_dim) -> actions x_0 in `num_inference_steps`
        steps, the prefix run once. (`forward` so `policies.optimize` compiles it whole.)"""
        cache = self.prefill(images, img_masks, tokens, lang_masks)
        return euler_sample(lambda x_t, t: self.velocity(cache, state, x_t, t), noise, self.config.num_inference_steps)


class PiPolicy(nn.Module):
    """Holder whose single child `model` gives LeRobot's `model.*` state_dict prefix. `in_keys`: the
    nested batch keys it reads (cameras in config order, the tokenised prompt, pi0's state; `action`
    in training), `out_keys` what it produces."""

    out_keys = (ACTION,)

    def __init__(self, config: PiConfig) -> None:
        super().__init__()
        self.config = config
        self.model = PiFlowMatching(config)
        state = () if config.state_in_prompt else (OBS_STATE,)
        cameras = [k for k in config.image_features if not is_empty_camera(k)]  # those the data has
        self.in_keys = tuple(nested_key(k) for k in (*cameras, OBS_LANGUAGE_TOKENS, OBS_LANGUAGE_ATTENTION_MASK,
                                                      *state))


def build_model(config: PiConfig, *, load_backbone_weights: bool = True) -> PiPolicy:
    """The pi0 / pi05 network for `config`, with transformers' initialisation (as LeRobot's).

    There are no separate backbone weights to read: pretrained pi weights come in a pi checkpoint
    (`policies.load("lerobot/pi0_base")`, or `policy.path` in a train spec)."""
    config.validate_features()
    return PiPolicy(config)


def compile_model(model: PiPolicy, *, mode: str | None = None) -> PiPolicy:
    """`torch.compile` the two hot functions in place: the prefix pass (once per chunk) and the velocity
    field (once per Euler step); with mode="reduce-overhead" each replays as a CUDA graph (the prefix
    cache copied out of its graph: `vla.compile.compile_flow`)."""
    compile_flow(model.model, mode)
    return model


# --- batch -> model inputs (LeRobot's _preprocess_images / prepare_state) ---


def resize_with_pad(images: Tensor, height: int, width: int) -> Tensor:
    """(B, C, h, w) in [0, 1] -> (B, C, height, width): bilinear resize keeping the aspect ratio, clipped
    to [0, 1], then zero padding split evenly on both sides (openpi's `resize_with_pad_torch`)."""
    cur_h, cur_w = images.shape[2:]
    ratio = max(cur_w / width, cur_h / height)
    new_h, new_w = int(cur_h / ratio), int(cur_w / ratio)
    resized = F.interpolate(images, size=(new_h, new_w), mode="bilinear", align_corners=False).clamp(0.0, 1.0)
    top, left = (height - new_h) // 2, (width - new_w) // 2
    return F.pad(resized, (left, width - new_w - left, top, height - new_h - top), value=0.0)


def prepare_images(config: PiConfig, batch: TensorDictBase) -> tuple[list[Tensor], list[Tensor]]:
    """Cameras in config order, at `image_resolution` and scaled to [-1, 1] (SigLIP's range); every
    configured camera missing from the batch is filled with -1 and masked out."""
    found = {k: optional(batch, k) for k in config.image_features}
    present = [k for k, v in found.items() if v is not None]
    if not present:
        raise ValueError(f"{config.type} batch: no camera; expected at least one of {list(config.image_features)} "
                         f"(have {leaf_names(batch)})")
    images, masks = [], []
    for key in present:
        img = found[key].to(torch.float32)
        if tuple(img.shape[2:]) != tuple(config.image_resolution):
            img = resize_with_pad(img, *config.image_resolution)
        images.append(img * 2.0 - 1.0)
        masks.append(torch.ones(img.shape[0], dtype=torch.bool, device=img.device))
    for _ in range(len(config.image_features) - len(present)):
        images.append(torch.full_like(images[-1], -1.0))
        masks.append(torch.zeros_like(masks[-1]))
    return images, masks


def prepare_state(config: PiConfig, batch: TensorDictBase) -> Tensor | None:
    """pi0: the state (B, state_dim) zero-padded to max_state_dim; pi05: None (the state is in the prompt)."""
    if config.state_in_prompt:
        return None
    return pad_vector(field(config.type, batch, OBS_STATE), config.max_state_dim)


def model_inputs(config: PiConfig, batch: TensorDictBase | Mapping[str, Tensor]) -> tuple[list, list, Tensor, Tensor, Any]:
    """(images, image masks, language tokens, language mask, padded state or None) for a preprocessed batch
    (the nested TensorDict `policies.preprocess` gives, or a `{dotted_name: Tensor}` mapping)."""
    batch = as_batch(batch)
    images, masks = prepare_images(config, batch)
    tokens, lang_mask = language(config.type, batch)
    return images, masks, tokens, lang_mask, prepare_state(config, batch)
