"""The SmolVLA network (Shukor et al. 2025, "SmolVLA: A Vision-Language-Action Model for Affordable
and Efficient Robotics"), in the paper's order:

1. Prefix: every camera through SigLIP + the connector (x sqrt(hidden)), the task's tokens through
   the VLM's embeddings (x sqrt(hidden)), the padded state through `state_proj`; images and
   language attend to each other, the state token attends to all of them.
2. Suffix: the noisy action chunk (`action_in_proj`) fused with a sine-cosine embedding of the
   flow-matching time by a two-layer MLP; causal within the chunk, attending to the prefix.
3. VLM layers on the prefix, expert layers on the suffix (see `vlm.py`); `action_out_proj` maps
   the expert's output to the velocity field v_t.

Module and parameter names equal LeRobot 0.6.1's `SmolVLAPolicy` (`model.*`), so its
`model.safetensors` loads strictly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch
import torch.nn.functional as F
from tensordict import TensorDictBase
from torch import Tensor, nn

from lerobot_fn.policies.vla.batch import as_batch, field, is_empty_camera, language, optional
from lerobot_fn.policies.vla.compile import compile_flow
from lerobot_fn.policies.vla.flow_matching import euler_sample, sinusoidal_time_embedding
from lerobot_fn.process.keys import leaf_names, nested_key
from lerobot_fn.process.padding import pad_vector, resize_with_pad

from .config import ACTION, OBS_LANGUAGE_ATTENTION_MASK, OBS_LANGUAGE_TOKENS, OBS_STATE, Config
from .vlm import PrefixCache, SmolVLMWithExpert, make_att_2d_masks


def _transformers():
    try:
        import transformers
    except ImportError as err:
        raise ImportError("the smolvla policy needs the optional 'transformers' package: "
                          "pip install 'lerobot-fn[vla]'") from err
    return transformers


def load_vlm(config: Config, *, load_weights: bool):
    """(transformers config, pre-loaded VLM or None) for `config.vlm_model_name` (Hub id or directory).

    With `config.load_vlm_weights` the VLM is bfloat16, as LeRobot loads it; weights are read only
    when `load_weights` (a checkpoint's model.safetensors overwrites them anyway)."""
    tf = _transformers()
    name = config.vlm_model_name
    try:
        vlm_config = tf.AutoConfig.from_pretrained(name)
        vlm = None
        if config.load_vlm_weights and load_weights:
            vlm = tf.AutoModelForImageTextToText.from_pretrained(name, dtype=torch.bfloat16, low_cpu_mem_usage=True)
            vlm_config = vlm.config
    except OSError as err:
        raise FileNotFoundError(
            f"smolvla: cannot load the VLM {name!r} (config `vlm_model_name`): {err}. Point it at a local "
            "SmolVLM directory or make the Hub model available in the Hugging Face cache") from err
    return vlm_config, vlm


def image_token_ids(config: Config) -> tuple[int, int]:
    """(fake_image_token_id, global_image_token_id) of the VLM's tokenizer (for `add_image_special_tokens`)."""
    tokenizer = _transformers().AutoTokenizer.from_pretrained(config.vlm_model_name)
    return tokenizer.fake_image_token_id, tokenizer.global_image_token_id


class VLAFlowMatching(nn.Module):
    """The VLM + expert and SmolVLA's projections (LeRobot's `VLAFlowMatching`)."""

    def __init__(self, config: Config, *, load_backbone_weights: bool = True) -> None:
        super().__init__()
        self.config = config
        vlm_config, vlm = load_vlm(config, load_weights=load_backbone_weights)
        if config.load_vlm_weights and vlm is None:
            vlm = _transformers().SmolVLMForConditionalGeneration(config=vlm_config).to(torch.bfloat16)
        self.vlm_with_expert = SmolVLMWithExpert(vlm_config, config, vlm=vlm)
        hidden = vlm_config.text_config.hidden_size
        expert = self.vlm_with_expert.expert_hidden_size
        self.state_proj = nn.Linear(config.max_state_dim, hidden)
        self.action_in_proj = nn.Linear(config.max_action_dim, expert)
        self.action_out_proj = nn.Linear(expert, config.max_action_dim)
        self.action_time_mlp_in = nn.Linear(expert * 2, expert)
        self.action_time_mlp_out = nn.Linear(expert, expert)
        self.state_proj.requires_grad_(config.train_state_proj)
        self.image_tokens = image_token_ids(config) if config.add_image_special_tokens else None

    def _special(self, ids: list[int], batch: int, device: torch.device) -> Tensor:
        tokens = torch.tensor(ids, dtype=torch.long, device=device)
        return self.vlm_with_expert.embed_language_tokens(tokens)[None].expand(batch, -1, -1)

    def embed_prefix(self, images: list[Tensor], img_masks: list[Tensor], lang_tokens: Tensor,
                     lang_masks: Tensor, state: Tensor) -> tuple[Tensor, Tensor, Tensor, int]:
        """(embeddings (B, P, hidden), pad mask (B, P), attention-block mask (B, P), number of image
        and language tokens before the state token)."""
        embs, pads, blocks = [], [], []
        b = state.shape[0]
        device = state.device

        def add(emb: Tensor, pad: Tensor, block: int) -> None:
            embs.append(emb)
            pads.append(pad)
            blocks.append(torch.full(pad.shape, block, dtype=torch.bool, device=device))

        for img, mask in zip(images, img_masks, strict=True):
            if self.image_tokens is not None:
                start = self._special(list(self.image_tokens), b, device)
                add(start, torch.ones(start.shape[:2], dtype=torch.bool, device=device), 0)
            emb = self.vlm_with_expert.embed_image(img)
            emb = emb * torch.tensor(emb.shape[-1] ** 0.5, dtype=emb.dtype, device=emb.device)
            add(emb, mask[:, None].expand(b, emb.shape[1]), 0)
            if self.image_tokens is not None:
                end = self._special([self.image_tokens[0]], b, device)
                add(end, torch.ones(end.shape[:2], dtype=torch.bool, device=device), 0)
        lang = self.vlm_with_expert.embed_language_tokens(lang_tokens)
        add(lang * math.sqrt(lang.shape[-1]), lang_masks, 0)
        n_context = sum(e.shape[1] for e in embs)
        state_emb = self.state_proj(state)
        state_emb = state_emb[:, None] if state_emb.ndim == 2 else state_emb
        add(state_emb, torch.ones(state_emb.shape[:2], dtype=torch.bool, device=device), 1)
        emb, pad, block = (torch.cat(x, dim=1) for x in (embs, pads, blocks))
        missing = self.config.prefix_length - emb.shape[1]
        if missing > 0:  # pad the prefix to a fixed length (masked out)
            emb = F.pad(emb, (0, 0, 0, missing))
            pad, block = F.pad(pad, (0, missing)), F.pad(block, (0, missing))
        return emb, pad, block, n_context

    def embed_suffix(self, noisy_actions: Tensor, time: Tensor) -> Tensor:
        """(B, chunk, max_action_dim) x_t and (B,) time -> (B, chunk, expert hidden) action tokens."""
        action_emb = self.action_in_proj(noisy_actions)
        hidden = self.vlm_with_expert.expert_hidden_size
        time_emb = sinusoidal_time_embedding(time, hidden, self.config.min_period, self.config.max_period)
        time_emb = time_emb.to(action_emb.dtype)[:, None, :].expand_as(action_emb)
        x = self.action_time_mlp_in(torch.cat([action_emb, time_emb], dim=2))
        return self.action_time_mlp_out(F.silu(x))

    def prefill(self, images, img_masks, lang_tokens, lang_masks, state) -> PrefixCache:
        """Embed the prefix and run it through the VLM layers once (the keys/values every step reuses).
        While training, images + language run apart from the state token (see `SmolVLMWithExpert.prefill`)."""
        emb, pad, block, n_context = self.embed_prefix(images, img_masks, lang_tokens, lang_masks, state)
        split = n_context if torch.is_grad_enabled() else None
        return self.vlm_with_expert.prefill(emb, make_att_2d_masks(pad, block), pad, split=split)

    def velocity(self, cache: PrefixCache, x_t: Tensor, time: Tensor) -> Tensor:
        """The predicted flow v_t (B, chunk, max_action_dim), float32, for noisy actions x_t at `time`."""
        suffix = self.embed_suffix(x_t, time)
        b, s = suffix.shape[:2]
        causal = torch.ones(s, s, dtype=torch.bool, device=suffix.device).tril()[None].expand(b, s, s)
        out = self.vlm_with_expert.suffix_pass(suffix, cache, causal)
        return self.action_out_proj(out[:, -self.config.chunk_size :].to(torch.float32))


    def forward(self, images: list[Tensor], img_masks: list[Tensor], lang_tokens: Tensor, lang_masks: Tensor,
                state: Tensor, noise: Tensor) -> Tensor:
        """The Euler sampler: x_1 = noise (B, chunk, max_action_dim) -> actions x_0, in `num_steps` steps
        of dt = -1/num_steps, the prefix run once. (`forward` so `policies.optimize` compiles it whole.)"""
        cache = self.prefill(images, img_masks, lang_tokens, lang_masks, state)
        return euler_sample(lambda x_t, time: self.velocity(cache, x_t, time), noise, self.config.num_steps)


class SmolVLAPolicy(nn.Module):
    """Holder whose single child `model` gives LeRobot's `model.*` state_dict prefix. `in_keys`: the
    nested batch keys it reads (cameras in config order, the tokenised task, the state; `action` and
    `action_is_pad` in training), `out_keys` what it produces."""

    out_keys = (ACTION,)

    def __init__(self, config: Config, *, load_backbone_weights: bool = True) -> None:
        super().__init__()
        self.config = config
        self.model = VLAFlowMatching(config, load_backbone_weights=load_backbone_weights)
        cameras = [k for k in config.image_features if not is_empty_camera(k)]  # those the data has
        self.in_keys = tuple(nested_key(k) for k in (*cameras, OBS_LANGUAGE_TOKENS, OBS_LANGUAGE_ATTENTION_MASK,
                                                      OBS_STATE))


def compile_model(model: SmolVLAPolicy, *, mode: str | None = None) -> SmolVLAPolicy:
    """`torch.compile` the two hot functions in place: the prefix pass (once per chunk) and the velocity
    field (once per Euler step); with mode="reduce-overhead" each replays as a CUDA graph (the prefix
    cache copied out of its graph: `vla.compile.compile_flow`)."""
    compile_flow(model.model, mode)
    return model


def build_model(config: Config, *, load_backbone_weights: bool = True) -> SmolVLAPolicy:
    """The SmolVLA network for `config`, with transformers' initialisation (as LeRobot's).

    The VLM's config (and, with `config.load_vlm_weights` and `load_backbone_weights`, its
    weights) come from `config.vlm_model_name`."""
    config.validate_features()
    return SmolVLAPolicy(config, load_backbone_weights=load_backbone_weights)


# --- batch -> model inputs (LeRobot's prepare_images / prepare_state / prepare_action) ---


def prepare_images(config: Config, batch: TensorDictBase) -> tuple[list[Tensor], list[Tensor]]:
    """Cameras in config order, resized with padding and scaled to [-1, 1] (SigLIP's range), with
    per-sample masks (`<key>_padding_mask` when given); up to `empty_cameras` missing cameras are
    filled with -1 and masked out."""
    found = {k: optional(batch, k) for k in config.image_features}
    present = [k for k, v in found.items() if v is not None]
    missing = [k for k, v in found.items() if v is None]
    if not present:
        raise ValueError(f"smolvla batch: no camera; expected at least one of {list(config.image_features)} "
                         f"(have {leaf_names(batch)})")
    images, masks = [], []
    for key in present:
        img = found[key][:, -1] if found[key].ndim == 5 else found[key]
        if config.resize_imgs_with_padding is not None:
            width, height = config.resize_imgs_with_padding
            img = resize_with_pad(img, height, width, pad_value=0)
        img = img * 2.0 - 1.0
        mask = optional(batch, f"{key}_padding_mask")
        mask = mask.bool() if mask is not None else torch.ones(img.shape[0], dtype=torch.bool, device=img.device)
        images.append(img)
        masks.append(mask)
    for _ in missing[: config.empty_cameras]:
        images.append(torch.full_like(images[-1], -1.0))
        masks.append(torch.zeros_like(masks[-1]))
    return images, masks


def prepare_state(config: Config, batch: TensorDictBase) -> Tensor:
    """The current state (B, state_dim), zero-padded to max_state_dim."""
    state = field("smolvla", batch, OBS_STATE)
    state = state[:, -1] if state.ndim > 2 else state
    return pad_vector(state, config.max_state_dim)


def model_inputs(config: Config, batch: TensorDictBase | Mapping[str, Tensor]) -> tuple:
    """(images, image masks, language tokens, language mask, padded state) for a preprocessed batch
    (the nested TensorDict `policies.preprocess` gives, or a `{dotted_name: Tensor}` mapping)."""
    batch = as_batch(batch)
    images, masks = prepare_images(config, batch)
    tokens, lang_mask = language("smolvla", batch)
    return images, masks, tokens, lang_mask, prepare_state(config, batch)


def prefill(model: SmolVLAPolicy, config: Config, batch: TensorDictBase | Mapping[str, Tensor]) -> PrefixCache:
    """The prefix cache for a preprocessed batch."""
    return model.model.prefill(*model_inputs(config, batch))
