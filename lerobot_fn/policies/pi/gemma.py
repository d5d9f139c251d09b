"""PaliGemma with a Gemma action expert: the two transformers pi runs layer by layer side by side.

The modules are `transformers`' own (a `PaliGemmaForConditionalGeneration` and a `GemmaForCausalLM`
without token embeddings), under LeRobot's attribute names so `state_dict` keys are LeRobot's. For
pi05 the expert's RMSNorms are adaptive (`AdaRMSNorm`: scale, shift and a residual gate from the
time embedding). The attention that joins the two is written here:

- the prefix (images, language) runs through the VLM's layers; its post-RoPE keys and values of
  every layer are the `PrefixCache`;
- the suffix (pi0: state + noisy actions; pi05: noisy actions) runs through the expert; its queries
  attend to [prefix; suffix] keys of the same layer.

Prefix tokens never attend to the suffix, so training (LeRobot's one joint pass) and sampling
(prefix once, then one suffix pass per Euler step) are the same computation: `prefill`, then
`suffix_pass`. RoPE is the VLM's (openpi uses one for both). Masked attention uses openpi's finite
mask value, so fully masked rows (padding) give uniform weights, not NaN.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

from .architecture import check_compatible, expert_config, paligemma_config

MASK_VALUE = -2.3819763e38
"""openpi's additive attention-mask value (LeRobot's OPENPI_ATTENTION_MASK_VALUE)."""
FLOAT32_PARTS = ("vision_tower", "multi_modal_projector", "input_layernorm", "post_attention_layernorm", "model.norm")
"""What stays float32 in a `dtype="bfloat16"` policy (LeRobot's params_to_keep_float32)."""


class AdaRMSNorm(nn.Module):
    """Gemma's RMSNorm conditioned on a vector (LeRobot's `PiGemmaRMSNorm` with `cond_dim`):
    `dense(cond)` gives scale, shift and gate; returns (normed * (1 + scale) + shift, gate)."""

    def __init__(self, dim: int, eps: float, cond_dim: int) -> None:
        super().__init__()
        self.eps = eps
        self.dense = nn.Linear(cond_dim, dim * 3)
        nn.init.zeros_(self.dense.weight)

    def forward(self, x: Tensor, cond: Tensor) -> tuple[Tensor, Tensor]:
        normed = x * torch.rsqrt(x.float().square().mean(-1, keepdim=True) + self.eps)
        modulation = self.dense(cond)
        if x.ndim == 3:
            modulation = modulation[:, None]
        scale, shift, gate = modulation.chunk(3, dim=-1)
        return (normed * (1 + scale.float()) + shift.float()).to(x.dtype), gate.to(x.dtype)


def rms_norm(norm: nn.Module, x: Tensor, cond: Tensor | None) -> tuple[Tensor, Tensor | None]:
    """(normed x, residual gate or None) for a Gemma RMSNorm or an `AdaRMSNorm`."""
    if isinstance(norm, AdaRMSNorm):
        return norm(x, cond)
    normed = x * torch.rsqrt(x.float().square().mean(-1, keepdim=True) + norm.eps)
    return (normed * (1.0 + norm.weight.float())).type_as(x), None


def gated_residual(x: Tensor, y: Tensor, gate: Tensor | None) -> Tensor:
    return x + y if gate is None else x + y * gate


def attention_bias(mask: Tensor) -> Tensor:
    """Bool (B, Lq, Lk) "may attend" -> additive float32 (B, 1, Lq, Lk) bias."""
    return torch.where(mask[:, None], 0.0, MASK_VALUE)


def make_att_2d_masks(pad_masks: Tensor, att_masks: Tensor) -> Tensor:
    """big_vision's prefix-LM masks: token i may attend to valid token j when cumsum(att)[j] <= cumsum(att)[i]."""
    cumsum = torch.cumsum(att_masks, dim=1)
    return (cumsum[:, None, :] <= cumsum[:, :, None]) & (pad_masks[:, None, :] & pad_masks[:, :, None])


class PrefixCache(NamedTuple):
    """Per VLM layer: post-RoPE prefix keys and values (B, Hkv, P, D); and the prefix padding mask (B, P)."""

    keys: tuple[Tensor, ...]
    values: tuple[Tensor, ...]
    pad_mask: Tensor


class PaliGemmaWithExpert(nn.Module):
    """`paligemma` (transformers' PaliGemmaForConditionalGeneration) and `gemma_expert` (a GemmaForCausalLM
    with no token embeddings; pi05: adaptive norms). Built from `architecture`'s configs."""

    def __init__(self, config: Any) -> None:
        super().__init__()
        from transformers import GemmaForCausalLM, PaliGemmaForConditionalGeneration

        vlm_config, ex_config = paligemma_config(config), expert_config(config)
        check_compatible(config.type, vlm_config.text_config, ex_config)
        self.paligemma = PaliGemmaForConditionalGeneration(vlm_config)
        self.gemma_expert = GemmaForCausalLM(ex_config)
        self.gemma_expert.model.embed_tokens = None
        if config.state_in_prompt:  # pi05: time-conditioned norms in the expert
            width, eps = ex_config.hidden_size, ex_config.rms_norm_eps
            for layer in self.gemma_expert.model.layers:
                layer.input_layernorm = AdaRMSNorm(width, eps, width)
                layer.post_attention_layernorm = AdaRMSNorm(width, eps, width)
            self.gemma_expert.model.norm = AdaRMSNorm(width, eps, width)
        self.head_dim = ex_config.head_dim
        self.gradient_checkpointing = config.gradient_checkpointing
        self.freeze_vision_encoder = config.freeze_vision_encoder
        self.train_expert_only = config.train_expert_only
        if config.dtype == "bfloat16":
            self.to(torch.bfloat16)
            for name, param in self.named_parameters():
                if any(part in name for part in FLOAT32_PARTS):
                    param.data = param.data.to(torch.float32)
        self._set_requires_grad()

    # --- freezing (LeRobot's _set_requires_grad / train) ---

    def _set_requires_grad(self) -> None:
        if self.freeze_vision_encoder:
            self.paligemma.model.vision_tower.eval()
            self.paligemma.model.vision_tower.requires_grad_(False)
        if self.train_expert_only:
            self.paligemma.eval()
            self.paligemma.requires_grad_(False)

    def train(self, mode: bool = True) -> PaliGemmaWithExpert:
        super().train(mode)
        if self.freeze_vision_encoder:
            self.paligemma.model.vision_tower.eval()
        if self.train_expert_only:
            self.paligemma.eval()
        return self

    # --- embeddings ---

    @property
    def vlm_layers(self) -> nn.ModuleList:
        return self.paligemma.model.language_model.layers

    def embed_image(self, image: Tensor) -> Tensor:
        """(B, 3, H, W) in [-1, 1] -> (B, tokens, VLM width): SigLIP and the projector, in float32."""
        features = self.paligemma.model.get_image_features(image.to(torch.float32)).pooler_output
        return features.to(image.dtype)

    def embed_language_tokens(self, tokens: Tensor) -> Tensor:
        """Token ids -> (B, L, VLM width), Gemma's embeddings (scaled by sqrt(width))."""
        return self.paligemma.model.language_model.embed_tokens(tokens)

    def rope(self, x: Tensor, position_ids: Tensor) -> tuple[Tensor, Tensor]:
        return self.paligemma.model.language_model.rotary_emb(x, position_ids)

    # --- one layer ---

    def _qkv(self, layer: nn.Module, hidden: Tensor, cond: Tensor | None, rope: tuple[Tensor, Tensor]):
        from transformers.models.gemma.modeling_gemma import apply_rotary_pos_emb

        x, gate = rms_norm(layer.input_layernorm, hidden, cond)
        x = x.to(layer.self_attn.q_proj.weight.dtype)
        shape = (*x.shape[:-1], -1, self.head_dim)
        attn = layer.self_attn
        q, k, v = (proj(x).view(shape).transpose(1, 2) for proj in (attn.q_proj, attn.k_proj, attn.v_proj))
        q, k = apply_rotary_pos_emb(q, k, *rope)
        return q, k, v, gate

    def _attend(self, q: Tensor, k: Tensor, v: Tensor, bias: Tensor) -> Tensor:
        """(B, H, Lq, D) x (B, Hkv, Lk, D) -> (B, Lq, H * D), softmax in float32."""
        k = k.repeat_interleave(q.shape[1] // k.shape[1], dim=1)
        v = v.repeat_interleave(q.shape[1] // v.shape[1], dim=1)
        scores = torch.matmul(q, k.transpose(2, 3)) * self.head_dim**-0.5 + bias
        weights = F.softmax(scores, dim=-1, dtype=torch.float32).to(q.dtype)
        return torch.matmul(weights, v).transpose(1, 2).flatten(2)

    @staticmethod
    def _finish(layer: nn.Module, hidden: Tensor, att: Tensor, gate: Tensor | None, cond: Tensor | None) -> Tensor:
        """Output projection + (gated) residual, then the MLP block + (gated) residual."""
        out = gated_residual(hidden, layer.self_attn.o_proj(att.to(layer.self_attn.o_proj.weight.dtype)), gate)
        x, gate = rms_norm(layer.post_attention_layernorm, out, cond)
        x = layer.mlp(x.to(layer.mlp.up_proj.weight.dtype))
        return gated_residual(out, x, gate)

    def _maybe_checkpoint(self, fn, *args):
        if self.gradient_checkpointing and self.training and torch.is_grad_enabled():
            return checkpoint(fn, *args, use_reentrant=False, preserve_rng_state=False)
        return fn(*args)

    # --- the two passes ---

    def prefill(self, prefix: Tensor, att_2d: Tensor, pad_mask: Tensor) -> PrefixCache:
        """Run the prefix (B, P, VLM width) through the VLM layers; keep every layer's keys/values."""
        layers = self.vlm_layers
        hidden = prefix.to(layers[0].self_attn.q_proj.weight.dtype)
        bias = attention_bias(att_2d)
        rope = self.rope(hidden, torch.cumsum(pad_mask, dim=1) - 1)
        keys, values = [], []

        def layer_pass(layer, hidden):
            q, k, v, gate = self._qkv(layer, hidden, None, rope)
            return self._finish(layer, hidden, self._attend(q, k, v, bias), gate, None), k, v

        for i, layer in enumerate(layers):
            if i == len(layers) - 1:  # the last layer's prefix output is never read
                _, k, v, _ = self._qkv(layer, hidden, None, rope)
            else:
                hidden, k, v = self._maybe_checkpoint(layer_pass, layer, hidden)
            keys.append(k)
            values.append(v)
        return PrefixCache(tuple(keys), tuple(values), pad_mask)

    def suffix_pass(self, suffix: Tensor, pad: Tensor, att: Tensor, cache: PrefixCache,
                    cond: Tensor | None) -> Tensor:
        """Run the suffix (B, S, expert width) through the expert against the prefix cache; returns its
        final-normed output (B, S, expert width)."""
        layers = self.gemma_expert.model.layers
        hidden = suffix.to(layers[0].self_attn.q_proj.weight.dtype)
        b, s = pad.shape
        prefix_pad = cache.pad_mask
        mask = torch.cat([prefix_pad[:, None, :].expand(b, s, prefix_pad.shape[1]), make_att_2d_masks(pad, att)], 2)
        bias = attention_bias(mask)
        positions = prefix_pad.sum(dim=-1, keepdim=True) + torch.cumsum(pad, dim=1) - 1
        rope = self.rope(hidden, positions)

        def layer_pass(layer, hidden, k_prefix, v_prefix, cond):
            q, k, v, gate = self._qkv(layer, hidden, cond, rope)
            k, v = torch.cat([k_prefix, k], dim=2), torch.cat([v_prefix, v], dim=2)
            return self._finish(layer, hidden, self._attend(q, k, v, bias), gate, cond)

        for i, layer in enumerate(layers):
            hidden = self._maybe_checkpoint(layer_pass, layer, hidden, cache.keys[i], cache.values[i], cond)
        return rms_norm(self.gemma_expert.model.norm, hidden, cond)[0]
