"""Gym observations -> LeRobot observation keys, and the uint8 image fast path."""

import pytest
import torch
from tensordict import TensorDict

from lerobot_fn.process import GymObservation, ImagesToFloat, pipeline_from_config


def test_gym_observation_maps_keys_and_converts_pixels():
    pixels = torch.randint(0, 256, (6, 8, 3), dtype=torch.uint8)
    td = TensorDict({"pixels": pixels, "agent_pos": torch.tensor([1.0, 2.0], dtype=torch.float64)}, batch_size=[])
    out = GymObservation()(td)
    image = out["observation", "image"]
    assert image.shape == (1, 3, 6, 8) and image.dtype == torch.float32
    torch.testing.assert_close(image[0], pixels.permute(2, 0, 1).float() / 255.0)
    assert out["observation", "state"].tolist() == [[1.0, 2.0]]
    assert out.batch_size == (1,)


def test_gym_observation_per_camera_pixels_and_env_state():
    td = TensorDict({"pixels": {"top": torch.zeros(2, 6, 8, 3, dtype=torch.uint8)},
                     "environment_state": torch.zeros(2, 5)}, batch_size=[])
    out = GymObservation()(td)
    assert out["observation", "images", "top"].shape == (2, 3, 6, 8)
    assert out["observation", "environment_state"].shape == (2, 5)


def test_gym_observation_rejects_bad_pixels():
    with pytest.raises(ValueError, match="'pixels' is not channel-last"):
        GymObservation()(TensorDict({"pixels": torch.zeros(3, 6, 8, dtype=torch.uint8)}, batch_size=[]))
    with pytest.raises(ValueError, match="'pixels' must be uint8"):
        GymObservation()(TensorDict({"pixels": torch.zeros(6, 8, 3)}, batch_size=[]))


def test_observation_processor_loads_from_lerobot_config():
    p = pipeline_from_config({"name": "env", "steps": [{"registry_name": "observation_processor", "config": {}}]}, {})
    assert isinstance(p[0], GymObservation)


def test_images_to_float():
    img = torch.full((1, 3, 2, 2), 255, dtype=torch.uint8)
    td = TensorDict({"observation": {"images": {"top": img}, "state": torch.zeros(1, 2)}}, batch_size=[1])
    out = ImagesToFloat()(td)
    assert out["observation", "images", "top"].dtype == torch.float32
    assert out["observation", "images", "top"].max().item() == 1.0
    assert torch.equal(out["observation", "state"], td["observation", "state"])
