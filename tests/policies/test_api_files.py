"""A damaged checkpoint file is an error naming that file: model weights or processor state,
truncated to any length, emptied, or not safetensors at all."""

import shutil

import pytest

from lerobot_fn import policies


@pytest.fixture
def checkpoint(policy_fixtures, tmp_path):
    root = tmp_path / "pretrained_model"
    shutil.copytree(policy_fixtures / "act_aloha_mini" / "pretrained_model", root)
    return root


@pytest.mark.parametrize("keep", [0.5, 0.999, 4 / 10**9, 0.0], ids=["half", "tail", "4 bytes", "empty"])
@pytest.mark.parametrize("name", ["model.safetensors", "policy_preprocessor_step_3_normalizer_processor.safetensors"])
def test_a_truncated_safetensors_file_is_named(checkpoint, name, keep):
    path = checkpoint / name
    raw = path.read_bytes()
    path.write_bytes(raw[: max(int(len(raw) * keep), 4 if keep else 0)])
    with pytest.raises(ValueError, match=f"{path} is not a readable safetensors file"):
        policies.load(checkpoint, device="cpu")


def test_a_file_that_is_not_safetensors_is_named(checkpoint):
    path = checkpoint / "model.safetensors"
    path.write_text("<html>404 Not Found</html>")  # what a broken download leaves
    with pytest.raises(ValueError, match=f"{path} is not a readable safetensors file"):
        policies.load(checkpoint, device="cpu")
