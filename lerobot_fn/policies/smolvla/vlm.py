"""SmolVLM with an action expert: the two transformers SmolVLA runs layer by layer side by side.

The modules are `transformers`' own (a `SmolVLMForConditionalGeneration` cut to its first
`num_vlm_layers` text layers, and a narrower Llama "expert"), kept under LeRobot's attribute
names so `state_dict` keys are LeRobot's. The attention that joins them is written here:

- prefix (images, language, state) runs through the VLM's text layers; its post-RoPE keys and
  values of every layer are the `PrefixCache`;
- the suffix (noisy actions + time) runs through the expert. On self-attention layers (every
  `self_attn_every_n_layers`-th) its queries attend to [prefix; suffix] keys; on the others it
  cross-attends to the prefix keys/values, re-projected by the expert's own k/v projections.

Prefix tokens never attend to the suffix, so training (LeRobot's one joint pass) and sampling
(prefix once, then one suffix pass per Euler step) are the same computation: `prefill` then
`suffix_pass`. The cross-attention projections of the prefix are computed once per prefix, not
per step. RoPE uses LeRobot's wavelength 10_000 (not the VLM config's `rope_theta`).
"""

from __future__ import annotations

import copy
import itertools
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .config import Config

ROPE_WAVELENGTH = 10_000


def expert_intermediate_size(hidden: int, ffn_multiplier: int = 4, multiple_of: int = 256) -> int:
    """The expert's MLP width for its hidden size (LeRobot's `get_intermediate_size`)."""
    hidden = int(ffn_multiplier * int(2 * hidden / 3))
    return multiple_of * ((hidden + multiple_of - 1) // multiple_of)


def rope_tables(positions: Tensor, head_dim: int) -> tuple[Tensor, Tensor]:
    """(cos, sin), each (B, L, 1, head_dim / 2) float32, for integer positions (B, L)."""
    half = head_dim // 2
    exponents = (2.0 / head_dim) * torch.arange(half, dtype=torch.float32, device=positions.device)
    radians = positions[..., None].to(torch.float32) / (ROPE_WAVELENGTH**exponents)[None, None, :]
    radians = radians[..., None, :]
    return torch.cos(radians), torch.sin(radians)


def apply_rope(x: Tensor, rope: tuple[Tensor, Tensor]) -> Tensor:
    """Rotate (B, L, H, D) by `rope_tables` (computed in float32, returned in x's dtype)."""
    cos, sin = rope
    x32 = x.to(torch.float32)
    x1, x2 = x32.chunk(2, dim=-1)
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1).to(x.dtype)


def attention_bias(mask: Tensor, dtype: torch.dtype) -> Tensor:
    """Bool (B, Lq, Lk) "may attend" -> additive (B, 1, Lq, Lk) bias. A finite minimum (not -inf), as
    LeRobot's eager attention: fully masked rows (padding tokens) give uniform weights, not NaN."""
    bias = torch.zeros(mask.shape, dtype=dtype, device=mask.device)
    return bias.masked_fill_(~mask, torch.finfo(dtype).min)[:, None]


def attend(q: Tensor, k: Tensor, v: Tensor, bias: Tensor, scale: float) -> Tensor:
    """Grouped-query attention: q (B, Lq, H, D), k/v (B, Lk, Hkv, D) -> (B, Lq, H * D).

    K/V are repeated to all H heads first (each kv head serves H / Hkv consecutive query heads, as
    LeRobot expands them), so a fused kernel takes the mask (cuDNN's flash kernel on an H200); SDPA's
    `enable_gqa` with a mask measured no faster (benchmarks/smolvla_variants.py `gqa`)."""
    dtype = torch.promote_types(q.dtype, k.dtype)
    groups = q.shape[2] // k.shape[2]
    if groups > 1:
        k, v = k.repeat_interleave(groups, dim=2), v.repeat_interleave(groups, dim=2)
    q, k, v = (t.to(dtype).transpose(1, 2) for t in (q, k, v))
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias.to(dtype), scale=scale)
    return out.transpose(1, 2).flatten(2)


def make_att_2d_masks(pad_masks: Tensor, att_masks: Tensor) -> Tensor:
    """big_vision's prefix-LM masks: token i may attend to valid token j when cumsum(att)[j] <= cumsum(att)[i]."""
    cumsum = torch.cumsum(att_masks, dim=1)
    return (cumsum[:, None, :] <= cumsum[:, :, None]) & (pad_masks[:, None, :] & pad_masks[:, :, None])


class PrefixCache(NamedTuple):
    """Per VLM layer: post-RoPE prefix keys/values (B, P, Hkv, D); for cross-attention layers with an
    expert, the expert's projections of them (B, P, Hkv_e, D); and the prefix padding mask (B, P)."""

    keys: tuple[Tensor, ...]
    values: tuple[Tensor, ...]
    cross: tuple[tuple[Tensor, Tensor] | None, ...]
    pad_mask: Tensor


def _qkv(layer: nn.Module, hidden: Tensor, head_dim: int) -> tuple[Tensor, Tensor, Tensor]:
    h = layer.input_layernorm(hidden)
    h = h.to(layer.self_attn.q_proj.weight.dtype)
    shape = (*h.shape[:-1], -1, head_dim)
    attn = layer.self_attn
    return attn.q_proj(h).view(shape), attn.k_proj(h).view(shape), attn.v_proj(h).view(shape)


def _finish(layer: nn.Module, hidden: Tensor, att: Tensor) -> Tensor:
    """Output projection + residual, then the MLP block + residual (a Llama decoder layer's rest)."""
    out = layer.self_attn.o_proj(att.to(layer.self_attn.o_proj.weight.dtype)) + hidden
    return layer.mlp(layer.post_attention_layernorm(out)) + out


class SmolVLMWithExpert(nn.Module):
    """`vlm` (transformers' SmolVLMForConditionalGeneration) and `lm_expert` (a Llama model without
    token embeddings). Built from the VLM's transformers config; `vlm` may be passed pre-loaded."""

    def __init__(self, vlm_config: Any, config: Config, *, vlm: nn.Module | None = None) -> None:
        super().__init__()
        from transformers import AutoModel, SmolVLMForConditionalGeneration

        self.vlm = vlm if vlm is not None else SmolVLMForConditionalGeneration(config=vlm_config)
        text = self.vlm.model.text_model
        if config.num_vlm_layers > 0:
            text.layers = text.layers[: config.num_vlm_layers]
        self.num_vlm_layers = len(text.layers)
        text_config = vlm_config.text_config
        expert_config = copy.deepcopy(text_config)
        expert_config.hidden_size = int(text_config.hidden_size * config.expert_width_multiplier)
        expert_config.intermediate_size = expert_intermediate_size(expert_config.hidden_size)
        expert_config.num_hidden_layers = self.num_vlm_layers
        if config.num_expert_layers > 0:
            if self.num_vlm_layers % config.num_expert_layers:
                raise ValueError(f"smolvla config: num_vlm_layers ({self.num_vlm_layers}) is not a multiple of "
                                 f"num_expert_layers ({config.num_expert_layers})")
            expert_config.num_hidden_layers = config.num_expert_layers
        self.lm_expert = AutoModel.from_config(expert_config)
        self.num_expert_layers = len(self.lm_expert.layers)
        self.self_attn_every_n_layers = config.self_attn_every_n_layers
        self.attention_mode = config.attention_mode
        self.head_dim = text_config.head_dim
        if "cross" in self.attention_mode:  # the expert projects the VLM's keys/values: VLM kv width in
            kv_in = text_config.num_key_value_heads * text_config.head_dim
            kv_out = expert_config.num_key_value_heads * expert_config.head_dim
            for j, layer in enumerate(self.lm_expert.layers):
                if self.self_attn_every_n_layers > 0 and j % self.self_attn_every_n_layers == 0:
                    continue
                layer.self_attn.k_proj = nn.Linear(kv_in, kv_out, bias=expert_config.attention_bias)
                layer.self_attn.v_proj = nn.Linear(kv_in, kv_out, bias=expert_config.attention_bias)
        self.lm_expert.embed_tokens = None
        self.expert_hidden_size = expert_config.hidden_size
        self.freeze_vision_encoder = config.freeze_vision_encoder
        self.train_expert_only = config.train_expert_only
        self._set_requires_grad()

    # --- which layers do what ---

    def layer_pairs(self) -> list[tuple[nn.Module, nn.Module | None]]:
        """(VLM layer, expert layer or None) per VLM layer: with fewer expert layers, every k-th VLM
        layer has one and the suffix passes the others unchanged."""
        every = self.num_vlm_layers // self.num_expert_layers
        vlm_layers = self.vlm.model.text_model.layers
        return [(vlm_layers[i], None if every > 0 and i > 0 and i % every else self.lm_expert.layers[i // every])
                for i in range(self.num_vlm_layers)]

    def is_self_attn(self, i: int) -> bool:
        return "cross" not in self.attention_mode or (
            self.self_attn_every_n_layers > 0 and i % self.self_attn_every_n_layers == 0)

    # --- freezing (LeRobot's set_requires_grad / train) ---

    def _set_requires_grad(self) -> None:
        vision = self.vlm.model.vision_model
        if self.freeze_vision_encoder:
            vision.eval()
            vision.requires_grad_(False)
        if self.train_expert_only:
            self.vlm.eval()
            self.vlm.requires_grad_(False)
        else:  # the last layer(s) feed nothing the loss reads: frozen, as in LeRobot (no unused DDP params)
            last = [self.num_vlm_layers - 1]
            if self.num_vlm_layers != self.num_expert_layers and self.num_vlm_layers % self.num_expert_layers == 0:
                last.append(self.num_vlm_layers - 2)
            patterns = ["lm_head", "text_model.norm.weight", *(f"text_model.layers.{i}." for i in last)]
            for name, p in self.vlm.named_parameters():
                if any(pattern in name for pattern in patterns):
                    p.requires_grad_(False)
        for name, p in self.lm_expert.named_parameters():
            if "lm_head" in name:
                p.requires_grad_(False)

    def train(self, mode: bool = True) -> SmolVLMWithExpert:
        super().train(mode)
        if self.freeze_vision_encoder:
            self.vlm.model.vision_model.eval()
        if self.train_expert_only:
            self.vlm.eval()
        return self

    # --- embeddings ---

    def embed_image(self, image: Tensor) -> Tensor:
        """(B, 3, H, W) in [-1, 1] -> (B, tokens, text hidden) through SigLIP and the connector.

        SmolVLM's vision forward with every patch valid (LeRobot passes no patch mask), its patch
        positions computed without the data-dependent indexing that stops torch.compile."""
        vision = self.vlm.model.vision_model
        pixels = image.to(vision.dtype)
        emb = vision.embeddings
        patches = emb.patch_embedding(pixels).flatten(2).transpose(1, 2)
        rows, cols = pixels.shape[2] // emb.patch_size, pixels.shape[3] // emb.patch_size
        side = emb.num_patches_per_side
        boundaries = torch.arange(1 / side, 1.0, 1 / side, device=pixels.device)

        def buckets(n: int) -> Tensor:
            coords = torch.arange(n, device=pixels.device, dtype=torch.float32) * (1.0 / torch.tensor(float(n)))
            return torch.bucketize(coords.clamp(max=1.0 - 1e-6).to(pixels.dtype), boundaries, right=True)

        position_ids = (buckets(rows)[:, None] * side + buckets(cols)[None, :]).reshape(1, -1)
        hidden = patches + emb.position_embedding(position_ids)
        hidden = vision.encoder(inputs_embeds=hidden, attention_mask=None).last_hidden_state
        return self.vlm.model.connector(vision.post_layernorm(hidden))

    def embed_language_tokens(self, tokens: Tensor) -> Tensor:
        return self.vlm.model.text_model.get_input_embeddings()(tokens)

    # --- the two passes ---

    def prefill(self, prefix: Tensor, att_2d: Tensor, pad_mask: Tensor, *, split: int | None = None) -> PrefixCache:
        """Run the prefix (B, P, hidden) through the VLM layers; keep every layer's keys/values.

        `split`: tokens [:split] (images, language) never attend to the rest (state, padding), so
        they can run as their own stream; with a frozen VLM they then carry no autograd graph and
        backward runs through the one state token only (same values, a fraction of the work)."""
        scale = self.head_dim**-0.5
        bias = attention_bias(att_2d, prefix.dtype)
        rope = rope_tables(torch.cumsum(pad_mask, dim=1) - 1, self.head_dim)
        bounds = [0, prefix.shape[1]] if split is None else [0, split, prefix.shape[1]]
        spans = list(itertools.pairwise(bounds))
        streams = [prefix[:, a:b] for a, b in spans]
        if split is not None and not any(p.requires_grad for p in self.vlm.parameters()):
            streams[0] = streams[0].detach()  # images + language: nothing to train upstream
        keys, values, cross = [], [], []
        pairs = self.layer_pairs()
        for i, (layer, expert) in enumerate(pairs):
            qkv = [_qkv(layer, h, self.head_dim) for h in streams]
            k = apply_rope(torch.cat([x[1] for x in qkv], dim=1), rope)
            v = torch.cat([x[2] for x in qkv], dim=1)
            keys.append(k)
            values.append(v)
            if expert is not None and not self.is_self_attn(i):
                b, p = k.shape[:2]
                ek = expert.self_attn.k_proj(k.reshape(b, p, -1).to(expert.self_attn.k_proj.weight.dtype))
                ev = expert.self_attn.v_proj(v.reshape(b, p, -1).to(expert.self_attn.v_proj.weight.dtype))
                cross.append((ek.view(b, p, -1, self.head_dim), ev.view(b, p, -1, self.head_dim)))
            else:
                cross.append(None)
            if i == len(pairs) - 1:  # the last layer's prefix output is never read
                break
            for j, ((a, e), h, (q, _, _)) in enumerate(zip(spans, streams, qkv, strict=True)):
                rope_j = (rope[0][:, a:e], rope[1][:, a:e])
                att = attend(apply_rope(q, rope_j), k[:, :e], v[:, :e], bias[:, :, a:e, :e], scale)
                streams[j] = _finish(layer, h, att)
        return PrefixCache(tuple(keys), tuple(values), tuple(cross), pad_mask)

    def suffix_pass(self, suffix: Tensor, cache: PrefixCache, suffix_att_2d: Tensor) -> Tensor:
        """Run the suffix (B, S, expert hidden) through the expert layers against the prefix cache;
        returns the expert's final-normed output (B, S, expert hidden)."""
        scale = self.head_dim**-0.5
        b, s = suffix.shape[:2]
        p = cache.pad_mask.shape[1]
        prefix_part = cache.pad_mask[:, None, :].expand(b, s, p)
        offsets = cache.pad_mask.sum(dim=-1, keepdim=True)
        rope_self = rope_tables(offsets + torch.arange(s, device=suffix.device)[None], self.head_dim)
        rope_cross = rope_tables(torch.arange(s, device=suffix.device)[None].expand(b, s), self.head_dim)
        bias_self = attention_bias(torch.cat([prefix_part, suffix_att_2d], dim=2), suffix.dtype)
        bias_cross = attention_bias(prefix_part, suffix.dtype)
        for i, (_, expert) in enumerate(self.layer_pairs()):
            if expert is None:
                continue
            if self.is_self_attn(i):
                q, k, v = _qkv(expert, suffix, self.head_dim)
                k = torch.cat([cache.keys[i], apply_rope(k, rope_self)], dim=1)
                v = torch.cat([cache.values[i], v], dim=1)
                att = attend(apply_rope(q, rope_self), k, v, bias_self, scale)
            else:
                h = expert.input_layernorm(suffix).to(expert.self_attn.q_proj.weight.dtype)
                q = expert.self_attn.q_proj(h).view(b, s, -1, self.head_dim)
                k, v = cache.cross[i]
                att = attend(apply_rope(q, rope_cross), k, v, bias_cross, scale)
            suffix = _finish(expert, suffix, att)
        return self.lm_expert.norm(suffix)
