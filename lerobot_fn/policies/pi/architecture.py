"""The transformers configs of pi's two Gemmas, from the config's variant names.

openpi's variants (its `gemma.get_config`), which LeRobot 0.6.1 builds into a PaliGemma with the
SigLIP So400m/14 tower and a 257152-token vocabulary:

    gemma_2b:   width 2048, depth 18, MLP 16384, 8 heads, 1 key/value head, head_dim 256
    gemma_300m: width 1024, depth 18, MLP 4096,  8 heads, 1 key/value head, head_dim 256

lerobot-fn also accepts a local directory as a variant (LeRobot does not): for `paligemma_variant`
a transformers PaliGemma directory (its `config.json`, and the tokenizer the processors then use),
for `action_expert_variant` a directory with a Gemma `config.json`. Small research backbones and
the tiny test models are built this way. Both Gemmas need the same head count and head_dim (their
attention is joint), and the same depth.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import attrs

PALIGEMMA_TOKENIZER = "google/paligemma-3b-pt-224"
"""The tokenizer LeRobot's pi processors load for the openpi variants."""
VOCAB_SIZE = 257152


@attrs.frozen
class GemmaVariant:
    """openpi's `gemma.Config`."""

    width: int
    depth: int
    mlp_dim: int
    num_heads: int
    num_kv_heads: int
    head_dim: int


GEMMA_VARIANTS = {
    "gemma_300m": GemmaVariant(width=1024, depth=18, mlp_dim=4096, num_heads=8, num_kv_heads=1, head_dim=256),
    "gemma_2b": GemmaVariant(width=2048, depth=18, mlp_dim=16_384, num_heads=8, num_kv_heads=1, head_dim=256),
}


def _transformers():
    try:
        import transformers
    except ImportError as err:
        raise ImportError("the pi0/pi05 policies need the optional 'transformers' package: "
                          "pip install 'lerobot-fn[vla]'") from err
    return transformers


def _from_directory(label: str, key: str, name: str, kind: type) -> Any:
    tf = _transformers()
    problem = None if Path(name).is_dir() else "no such directory"
    if problem is None:
        try:
            loaded = tf.AutoConfig.from_pretrained(name)
        except (OSError, ValueError) as err:
            problem = str(err)
    if problem is not None:
        raise FileNotFoundError(
            f"{label} config: `{key}` {name!r} is neither one of {sorted(GEMMA_VARIANTS)} nor a local directory "
            f"with a transformers config.json ({problem}; relative paths resolve against {Path.cwd()})")
    if not isinstance(loaded, kind):
        raise ValueError(f"{label} config: `{key}` {name!r} holds a {type(loaded).__name__}, expected a "  # noqa: TRY004 (a bad config value)
                         f"{kind.__name__}")
    return copy.deepcopy(loaded)


def paligemma_config(config: Any) -> Any:
    """The `PaliGemmaConfig` LeRobot's `PaliGemmaWithExpertModel` builds for `config` (its
    `image_resolution`; no tied embeddings: LeRobot's lm_head is a parameter of its own)."""
    tf = _transformers()
    name = config.paligemma_variant
    if name in GEMMA_VARIANTS:
        variant = GEMMA_VARIANTS[name]
        hf = tf.PaliGemmaConfig()
        hf._vocab_size = VOCAB_SIZE
        hf.image_token_index = VOCAB_SIZE
        text = hf.text_config
        text.hidden_size, text.intermediate_size = variant.width, variant.mlp_dim
        text.num_attention_heads, text.head_dim = variant.num_heads, variant.head_dim
        text.num_hidden_layers, text.num_key_value_heads = variant.depth, variant.num_kv_heads
        text.hidden_activation, text.vocab_size = "gelu_pytorch_tanh", VOCAB_SIZE
        vision = hf.vision_config
        vision.intermediate_size, vision.projection_dim, vision.projector_hidden_act = 4304, 2048, "gelu_fast"
    else:
        hf = _from_directory(config.type, "paligemma_variant", name, tf.PaliGemmaConfig)
    hf.vision_config.image_size = config.image_resolution[0]
    hf.tie_word_embeddings = hf.text_config.tie_word_embeddings = False
    hf.text_config.dtype = hf.vision_config.dtype = "float32"
    return hf


def expert_config(config: Any) -> Any:
    """The action expert's `GemmaConfig` (pi05: with the adaptive-RMSNorm time conditioning)."""
    tf = _transformers()
    name = config.action_expert_variant
    if name in GEMMA_VARIANTS:
        v = GEMMA_VARIANTS[name]
        hf = tf.GemmaConfig(head_dim=v.head_dim, hidden_size=v.width, intermediate_size=v.mlp_dim,
                            num_attention_heads=v.num_heads, num_hidden_layers=v.depth,
                            num_key_value_heads=v.num_kv_heads, vocab_size=VOCAB_SIZE,
                            hidden_activation="gelu_pytorch_tanh")
    else:
        hf = _from_directory(config.type, "action_expert_variant", name, tf.GemmaConfig)
    hf.tie_word_embeddings = False
    hf.dtype = "float32"
    return hf


def tokenizer_name(config: Any) -> str:
    """The tokenizer the processors use: PaliGemma's, or the local PaliGemma directory's."""
    return PALIGEMMA_TOKENIZER if config.paligemma_variant in GEMMA_VARIANTS else config.paligemma_variant


def check_compatible(label: str, text: Any, expert: Any) -> None:
    """The joint attention needs equal depth, head count, key/value heads and head_dim."""
    for key in ("num_hidden_layers", "num_attention_heads", "num_key_value_heads", "head_dim"):
        if getattr(text, key) != getattr(expert, key):
            raise ValueError(f"{label} config: the VLM and the action expert differ in {key} "
                             f"({getattr(text, key)} vs {getattr(expert, key)}); their attention is joint")
