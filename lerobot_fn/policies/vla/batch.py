"""Reading a preprocessed VLA batch: the tokenised prompt, and the options sampling refuses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import Tensor

OBS_LANGUAGE_TOKENS = "observation.language.tokens"
OBS_LANGUAGE_ATTENTION_MASK = "observation.language.attention_mask"


def language(label: str, batch: Mapping[str, Tensor]) -> tuple[Tensor, Tensor]:
    """(token ids, bool attention mask) the tokenizer step wrote."""
    for key in (OBS_LANGUAGE_TOKENS, OBS_LANGUAGE_ATTENTION_MASK):
        if key not in batch:
            raise KeyError(f"{label} batch: missing {key!r}; the preprocessor's tokenizer_processor writes it "
                           f"from the batch's 'task' (have {sorted(batch)})")
    return batch[OBS_LANGUAGE_TOKENS], batch[OBS_LANGUAGE_ATTENTION_MASK].bool()


def refuse_rtc(config: Any) -> None:
    """Real-time chunking is kept in the config for LeRobot but not implemented: refuse it when enabled."""
    if config.rtc_config and config.rtc_config.get("enabled", True):
        raise NotImplementedError(f"{config.type}: real-time chunking (rtc_config) is not implemented; "
                                  "set rtc_config to null")
