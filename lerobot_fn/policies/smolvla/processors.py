"""SmolVLA's processor pipelines, as LeRobot 0.6.1's `make_smolvla_pre_post_processors` builds them:
rename -> batch -> task newline -> tokenise (the VLM's tokenizer) -> device -> normalise, and
unnormalise -> cpu. Image resizing and state/action padding happen in the model, as in LeRobot."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from lerobot_fn.process.basic import AddBatchDim, DeviceMove, RenameObservations
from lerobot_fn.process.normalize import Normalize, Unnormalize
from lerobot_fn.process.step import Pipeline
from lerobot_fn.process.text import NewLineTask, TokenizeTask

from .config import Config

PREPROCESSOR = "policy_preprocessor"
POSTPROCESSOR = "policy_postprocessor"


def tokenizer_step(config: Config, tokenizer: Any = None) -> TokenizeTask:
    """The task tokeniser for `config` (the VLM's own tokenizer unless one is passed)."""
    if tokenizer is None:
        from .model import _transformers

        tokenizer = _transformers().AutoTokenizer.from_pretrained(config.vlm_model_name)
    return TokenizeTask(tokenizer=tokenizer, tokenizer_name=config.vlm_model_name, max_length=config.tokenizer_max_length,
                        padding=config.pad_language_to, padding_side="right")


def make_processors(config: Config, stats: Mapping[str, Mapping[str, Any]] | None, *,
                    device: str | torch.device = "cpu", tokenizer: Any = None) -> tuple[Pipeline, Pipeline]:
    """(preprocessor, postprocessor) for a new SmolVLA policy; `stats` in `meta/stats.json` form."""
    features = {**config.input_features, **config.output_features}
    pre = Pipeline((
        RenameObservations({}),
        AddBatchDim(),
        NewLineTask(),
        tokenizer_step(config, tokenizer),
        DeviceMove(device=str(device)),
        Normalize.from_stats(features, config.normalization_mapping, stats or {}),
    ), PREPROCESSOR)
    post = Pipeline((
        Unnormalize.from_stats(config.output_features, config.normalization_mapping, stats or {}),
        DeviceMove(device="cpu"),
    ), POSTPROCESSOR)
    return pre, post
