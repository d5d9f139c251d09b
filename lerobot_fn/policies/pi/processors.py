"""pi0 / pi05 processor pipelines, as LeRobot 0.6.1's `make_pi0_pre_post_processors` /
`make_pi05_pre_post_processors` build them:

    pi0:  rename -> batch -> task newline -> tokenise -> device -> relative actions -> normalise
    pi05: rename -> batch -> relative actions -> normalise -> state into the prompt -> tokenise -> device
    both: unnormalise -> absolute actions -> cpu

The tokenizer is PaliGemma's (`pi.architecture.tokenizer_name`), padding every prompt to
`tokenizer_max_length`. pi05's prompt is openpi's: "Task: <task>, State: <256-bin state>;\nAction: ",
the normalised state cut into 256 bins over [-1, 1] (`process.prompt`). Image resizing and state/action
padding happen in the model, as in LeRobot.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from lerobot_fn.process.actions import AbsoluteActions, RelativeActions
from lerobot_fn.process.basic import AddBatchDim, DeviceMove, RenameObservations
from lerobot_fn.process.normalize import Normalize, Unnormalize
from lerobot_fn.process.prompt import Pi0NewLineTask, Pi05StatePrompt
from lerobot_fn.process.step import Pipeline
from lerobot_fn.process.text import TokenizeTask

from .architecture import tokenizer_name
from .config import PiConfig

PREPROCESSOR = "policy_preprocessor"
POSTPROCESSOR = "policy_postprocessor"
def tokenizer_step(config: PiConfig, tokenizer: Any = None) -> TokenizeTask:
    """The prompt tokeniser for `config` (PaliGemma's, or the local PaliGemma directory's, unless one is passed)."""
    name = tokenizer_name(config)
    if tokenizer is None:
        from .architecture import _transformers

        try:
            tokenizer = _transformers().AutoTokenizer.from_pretrained(name)
        except OSError as err:
            raise FileNotFoundError(f"{config.type}: cannot load the tokenizer {name!r}: {err}. Make it available "
                                    "in the Hugging Face cache, or use a local PaliGemma directory") from err
    return TokenizeTask(tokenizer=tokenizer, tokenizer_name=name, max_length=config.tokenizer_max_length,
                        padding="max_length", padding_side="right")


def make_processors(config: PiConfig, stats: Mapping[str, Mapping[str, Any]] | None, *,
                    device: str | torch.device = "cpu", tokenizer: Any = None) -> tuple[Pipeline, Pipeline]:
    """(preprocessor, postprocessor) for a new pi0 / pi05 policy; `stats` in `meta/stats.json` form."""
    features = {**config.input_features, **config.output_features}
    normalize = Normalize.from_stats(features, config.normalization_mapping, stats or {})
    relative = RelativeActions(enabled=config.use_relative_actions, exclude_joints=config.relative_exclude_joints,
                               action_names=config.action_feature_names)
    tokenize = tokenizer_step(config, tokenizer)
    to_device = DeviceMove(device=str(device))
    if config.state_in_prompt:
        middle = (relative, normalize, Pi05StatePrompt(max_state_dim=config.max_state_dim), tokenize, to_device)
    else:
        middle = (Pi0NewLineTask(), tokenize, to_device, relative, normalize)
    pre = Pipeline((RenameObservations({}), AddBatchDim(), *middle), PREPROCESSOR)
    post = Pipeline((
        Unnormalize.from_stats(config.output_features, config.normalization_mapping, stats or {}),
        AbsoluteActions(enabled=config.use_relative_actions).pair_with(relative),
        DeviceMove(device="cpu"),
    ), POSTPROCESSOR)
    return pre, post
