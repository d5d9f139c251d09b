"""Image crop/resize, relative/absolute actions and task text steps."""

import pytest
import torch
import torchvision.transforms.v2.functional as F
from tensordict import TensorDict

from lerobot_fn.process import (
    AbsoluteActions,
    CenterCrop,
    ImageCropResize,
    NewLineTask,
    Pipeline,
    RelativeActions,
    TokenizeTask,
    pipeline_from_config,
    pipeline_to_config,
    random_crop,
)


def _images():
    g = torch.Generator().manual_seed(0)
    return TensorDict(
        {"observation": {"images": {"top": torch.rand(2, 3, 12, 16, generator=g)}, "state": torch.zeros(2, 2)}},
        batch_size=[2],
    )


def test_crop_then_resize_only_touches_images():
    td = _images()
    step = ImageCropResize({"observation.images.top": (2, 4, 8, 8)}, (4, 4))
    out = step(td)
    expected = F.resize(td["observation", "images", "top"][..., 2:10, 4:12], [4, 4]).clamp(0, 1)
    torch.testing.assert_close(out["observation", "images", "top"], expected)
    assert torch.equal(out["observation", "state"], td["observation", "state"])
    assert step.get_config() == {"crop_params_dict": {"observation.images.top": [2, 4, 8, 8]}, "resize_size": [4, 4]}


def test_center_and_random_crop():
    td = _images()
    out = CenterCrop((8, 8))(td)["observation", "images", "top"]
    assert torch.equal(out, td["observation", "images", "top"][..., 2:10, 4:12])
    img = td["observation", "images", "top"]
    a = random_crop(img, (8, 8), torch.Generator().manual_seed(3))
    b = random_crop(img, (8, 8), torch.Generator().manual_seed(3))
    assert a.shape == (2, 3, 8, 8) and torch.equal(a, b)
    with pytest.raises(ValueError, match="larger than the image"):
        random_crop(img, (13, 4))


def test_relative_then_absolute_actions_round_trip_with_mask():
    state = torch.tensor([[1.0, 2.0, 3.0]])
    action = torch.tensor([[[2.0, 2.0, 2.0], [4.0, 4.0, 4.0]]])  # (B, T, A)
    rel = RelativeActions(enabled=True, exclude_joints=("gripper",), action_names=("shoulder", "elbow", "gripper"))
    td = TensorDict({"observation": {"state": state}, "action": action}, batch_size=[1])
    out = rel(td)
    torch.testing.assert_close(out["action"], torch.tensor([[[1.0, 0.0, 2.0], [3.0, 2.0, 4.0]]]))
    back = AbsoluteActions(enabled=True).pair_with(rel)(out)
    torch.testing.assert_close(back["action"], action)
    assert RelativeActions()(td) is td  # disabled by default, like LeRobot


def test_absolute_actions_needs_state():
    with pytest.raises(ValueError, match="needs 'observation.state'"):
        AbsoluteActions(enabled=True)(TensorDict({"action": torch.zeros(1, 2)}, batch_size=[1]))


def test_relative_pair_loads_from_lerobot_config():
    config = {"name": "p", "steps": [
        {"registry_name": "relative_actions_processor",
         "config": {"enabled": True, "exclude_joints": ["grip"], "action_names": ["a", "grip"]}},
        {"registry_name": "absolute_actions_processor", "config": {"enabled": True}},
    ]}
    p = pipeline_from_config(config, {})
    assert p[1].action_names == ("a", "grip")
    assert pipeline_to_config(p)[0] == config


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
