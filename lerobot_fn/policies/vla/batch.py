"""Reading a preprocessed VLA batch: a nested TensorDict (a flat `{dotted_name: Tensor}` mapping is
nested once, `process.keys.as_batch`), its tensors named by LeRobot's dotted feature names; the
tokenised prompt; and the options sampling refuses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tensordict import TensorDictBase
from torch import Tensor

from lerobot_fn.process.keys import as_batch, leaf_names, nested_key

OBS_LANGUAGE_TOKENS = "observation.language.tokens"
OBS_LANGUAGE_ATTENTION_MASK = "observation.language.attention_mask"

__all__ = ["OBS_LANGUAGE_ATTENTION_MASK", "OBS_LANGUAGE_TOKENS", "as_batch", "field", "is_empty_camera", "language", "optional",
           "refuse_rtc"]


def is_empty_camera(name: str) -> bool:
    """A camera the config adds (`empty_cameras`, pi's missing views): never in the data, filled with -1."""
    return name.rsplit(".", 1)[-1].startswith("empty_camera_")


def optional(batch: TensorDictBase, name: str) -> Tensor | None:
    """The tensor under the dotted `name` ("observation.images.top"), or None."""
    return batch.get(nested_key(name), None)


def field(label: str, batch: TensorDictBase, name: str, why: str = "") -> Tensor:
    """The tensor under the dotted `name`; a KeyError naming it (and the batch's leaves) if missing."""
    value = optional(batch, name)
    if value is None:
        raise KeyError(f"{label} batch: missing {name!r}{why} (have {leaf_names(batch)})")
    return value


def language(label: str, batch: TensorDictBase | Mapping[str, Tensor]) -> tuple[Tensor, Tensor]:
    """(token ids, bool attention mask) the tokenizer step wrote."""
    batch = as_batch(batch)
    why = "; the preprocessor's tokenizer_processor writes it from the batch's 'task'"
    return (field(label, batch, OBS_LANGUAGE_TOKENS, why),
            field(label, batch, OBS_LANGUAGE_ATTENTION_MASK, why).bool())


def refuse_rtc(config: Any) -> None:
    """Real-time chunking is kept in the config for LeRobot but not implemented: refuse it when enabled."""
    if config.rtc_config and config.rtc_config.get("enabled", True):
        raise NotImplementedError(f"{config.type}: real-time chunking (rtc_config) is not implemented; "
                                  "set rtc_config to null")
