"""Image steps (`process/image.py`): crop-then-resize, center and random crops."""

import pytest
import torch
import torchvision.transforms.v2.functional as F
from tensordict import TensorDict

from lerobot_fn.process import CenterCrop, ImageCropResize, random_crop


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
