"""Task text steps (`process/text.py`): the newline LeRobot appends, tokenising into language keys."""

import pytest
import torch
from tensordict import TensorDict

from lerobot_fn.process import NewLineTask, Pipeline, TokenizeTask


def test_newline_task():
    td = TensorDict({"task": ["a", "b\n"]}, batch_size=[2])
    assert NewLineTask()(td)["task"] == ["a\n", "b\n"]


def _char_tokenizer(texts, *, max_length, truncation, padding, padding_side, return_tensors):
    """A real (tiny) tokenizer with the transformers call signature: one id per character."""
    ids = torch.zeros(len(texts), max_length, dtype=torch.long)
    mask = torch.zeros(len(texts), max_length, dtype=torch.long)
    for i, text in enumerate(texts):
        codes = [ord(c) for c in text][:max_length]
        start = 0 if padding_side == "right" else max_length - len(codes)
        ids[i, start : start + len(codes)] = torch.tensor(codes)
        mask[i, start : start + len(codes)] = 1
    return {"input_ids": ids, "attention_mask": mask}


def test_tokenize_task_writes_lerobot_language_keys():
    td = TensorDict({"task": ["hi", "abc"], "observation": {"state": torch.zeros(2, 1)}}, batch_size=[2])
    step = TokenizeTask(_char_tokenizer, max_length=4)
    out = Pipeline((NewLineTask(), step))(td)
    tokens = out["observation", "language", "tokens"]
    mask = out["observation", "language", "attention_mask"]
    assert tokens.tolist() == [[104, 105, 10, 0], [97, 98, 99, 10]]
    assert mask.dtype == torch.bool and mask.sum().item() == 7
    assert "tokenizer_name" not in step.get_config() and step.get_config()["max_length"] == 4


def test_tokenize_task_errors_without_task():
    with pytest.raises(ValueError, match="no 'task' entry"):
        TokenizeTask(_char_tokenizer)(TensorDict({}, batch_size=[]))
