"""Task text steps: newline termination and tokenisation (tokenizer injected; `transformers` optional).

Outputs follow LeRobot's names: `observation.language.tokens` (input ids) and
`observation.language.attention_mask` (bool).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import attrs
import torch
from tensordict import TensorDictBase

from lerobot_fn.process.step import ProcessorStep


def _tasks(td: TensorDictBase, key: str) -> list[str]:
    if key not in td:
        raise ValueError(f"task tokenisation: the batch has no {key!r} entry (keys: {sorted(map(str, td.keys()))})")
    value = td[key]
    if isinstance(value, str):
        return [value]
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, (list, tuple)) and all(isinstance(t, str) for t in value):
        return list(value)
    raise ValueError(f"task tokenisation: {key!r} must be a string or a list of strings, got {type(value).__name__}")


@attrs.frozen
class NewLineTask(ProcessorStep):
    """End every task string with a newline (some tokenizers, e.g. PaliGemma's, expect it)."""

    registry_name: ClassVar[str] = "smolvla_new_line_processor"

    def __call__(self, td: TensorDictBase) -> TensorDictBase:
        if "task" not in td:
            return td
        value = td["task"]
        out = td.copy()
        if isinstance(value, str):
            out.set("task", value if value.endswith("\n") else value + "\n")
            return out
        tasks = _tasks(td, "task")
        out.set("task", [t if t.endswith("\n") else t + "\n" for t in tasks])
        return out


@attrs.frozen
class TokenizeTask(ProcessorStep):
    """Tokenise `task` with an injected tokenizer (a `transformers` tokenizer or any callable with its
    signature) into `observation.language.tokens` / `.attention_mask`."""

    registry_name: ClassVar[str] = "tokenizer_processor"
    tokenizer: Callable[..., Mapping[str, torch.Tensor]] = attrs.field(eq=False, repr=False)
    tokenizer_name: str | None = None
    max_length: int = 512
    task_key: str = "task"
    padding_side: str = "right"
    padding: str = "max_length"
    truncation: bool = True

    def __call__(self, td: TensorDictBase) -> TensorDictBase:
        tasks = _tasks(td, self.task_key)
        encoded = self.tokenizer(
            tasks,
            max_length=self.max_length,
            truncation=self.truncation,
            padding=self.padding,
            padding_side=self.padding_side,
            return_tensors="pt",
        )
        device = next((t.device for t in td.values(True, True) if isinstance(t, torch.Tensor)), None)
        ids = torch.as_tensor(encoded["input_ids"])
        mask = torch.as_tensor(encoded["attention_mask"]).to(torch.bool)
        if device is not None:
            ids, mask = ids.to(device), mask.to(device)
        out = td.copy()
        out.set(("observation", "language", "tokens"), ids)
        out.set(("observation", "language", "attention_mask"), mask)
        return out

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "max_length": self.max_length,
            "task_key": self.task_key,
            "padding_side": self.padding_side,
            "padding": self.padding,
            "truncation": self.truncation,
        }
        if self.tokenizer_name is not None:
            config["tokenizer_name"] = self.tokenizer_name
        return config

    @classmethod
    def from_config(cls, config: Mapping[str, Any], state=None, *, tokenizer=None):
        """Needs the tokenizer object: pass `tokenizer=`, or have `transformers` load `tokenizer_name`."""
        config = dict(config)
        if tokenizer is None:
            name = config.get("tokenizer_name")
            if name is None:
                raise ValueError("tokenizer_processor: no tokenizer given and no 'tokenizer_name' in its config")
            try:
                from transformers import AutoTokenizer
            except ImportError as err:
                raise ImportError(
                    "tokenizer_processor needs the tokenizer object or the optional 'transformers' package "
                    "(pip install 'lerobot-fn[vla]')"
                ) from err
            tokenizer = AutoTokenizer.from_pretrained(name)
        return cls(tokenizer=tokenizer, **config)
