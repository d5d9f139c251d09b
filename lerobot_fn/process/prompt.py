"""The prompt steps of LeRobot's pi0 / pi05 processors (openpi's PaliGemma prompts).

- `Pi0NewLineTask`: every task ends with a newline (`pi0_new_line_processor`);
- `Pi05StatePrompt`: each task becomes "Task: <task>, State: <bins>;\\nAction: ", the normalised
  state cut into 256 bins over [-1, 1] (`pi05_prepare_state_tokenizer_processor_step`; it runs
  after normalisation, before the tokenizer).
"""

from __future__ import annotations

from typing import ClassVar

import attrs
import numpy as np
import torch
from tensordict import TensorDictBase

from lerobot_fn.process.step import ProcessorStep
from lerobot_fn.process.text import NewLineTask, _tasks

STATE_BINS = 256


@attrs.frozen
class Pi0NewLineTask(NewLineTask):
    """End every task with a newline, as PaliGemma's prompts do (LeRobot's `pi0_new_line_processor`)."""

    registry_name: ClassVar[str] = "pi0_new_line_processor"


def discretize_state(state: torch.Tensor) -> np.ndarray:
    """(B, D) normalised state -> (B, D) bin indices 0..255: 256 bins of [-1, 1] (openpi's
    `np.digitize(...) - 1`; as there, values above 1 fall in bin 255 and values below -1 give -1)."""
    return np.digitize(state.detach().cpu().numpy(), bins=np.linspace(-1, 1, STATE_BINS + 1)[:-1]) - 1


def state_prompt(task: str, bins: np.ndarray) -> str:
    """openpi's pi05 prompt for one sample."""
    cleaned = task.strip().replace("_", " ").replace("\n", " ")
    return f"Task: {cleaned}, State: {' '.join(map(str, bins))};\nAction: "


@attrs.frozen
class Pi05StatePrompt(ProcessorStep):
    """Rewrite each task as pi05's prompt with the discretised normalised state (LeRobot's
    `pi05_prepare_state_tokenizer_processor_step`; its config is saved empty, as LeRobot's)."""

    registry_name: ClassVar[str] = "pi05_prepare_state_tokenizer_processor_step"
    max_state_dim: int = 32
    task_key: str = "task"

    def __call__(self, td: TensorDictBase) -> TensorDictBase:
        state = td.get(("observation", "state"), None)
        if state is None:
            raise ValueError(f"{self.registry_name}: pi05 needs 'observation.state' (it goes into the prompt)")
        tasks = _tasks(td, self.task_key)
        bins = discretize_state(state.reshape(state.shape[0], -1))
        if len(tasks) != bins.shape[0]:
            raise ValueError(f"{self.registry_name}: {len(tasks)} task(s) for a batch of {bins.shape[0]} states")
        out = td.copy()
        out.set(self.task_key, [state_prompt(t, b) for t, b in zip(tasks, bins, strict=True)])
        return out
