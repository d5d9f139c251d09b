"""Image augmentations: LeRobot's set, as pure functions of (image, params) drawn from a generator."""

import pytest
import torch

from lerobot_fn import data
from lerobot_fn.data.read.transforms import (
    ImageTransforms,
    ImageTransformsConfig,
    TransformSpec,
    apply_params,
    random_transform,
    sample_params,
)


def _image():
    g = torch.Generator().manual_seed(0)
    return torch.rand(3, 32, 40, generator=g)


def test_same_generator_state_gives_same_output_and_k_transforms():
    cfg = ImageTransformsConfig(max_num_transforms=2)
    a = random_transform(_image(), cfg, torch.Generator().manual_seed(5))
    b = random_transform(_image(), cfg, torch.Generator().manual_seed(5))
    c = random_transform(_image(), cfg, torch.Generator().manual_seed(6))
    assert torch.equal(a, b) and not torch.equal(a, c)
    params = sample_params(cfg, torch.Generator().manual_seed(5), (32, 40))
    assert len(params) == 2
    kinds = [k for k, _ in params]
    order = list(cfg.tfs)
    assert kinds == sorted(kinds, key=order.index)  # LeRobot's listed order unless random_order


def test_parameters_stay_in_lerobot_ranges():
    cfg = ImageTransformsConfig(max_num_transforms=6)
    g = torch.Generator().manual_seed(0)
    for _ in range(50):
        for kind, value in sample_params(cfg, g, (100, 200)):
            if kind in ("brightness", "contrast"):
                assert 0.8 <= value <= 1.2
            elif kind in ("saturation", "sharpness"):
                assert 0.5 <= value <= 1.5
            elif kind == "hue":
                assert -0.05 <= value <= 0.05
            else:
                angle, (tx, ty) = value
                assert -5 <= angle <= 5 and abs(tx) <= 10 and abs(ty) <= 5


def test_each_transform_changes_the_image_as_named():
    img = _image()
    brighter = apply_params(img, [("brightness", 1.2)])
    assert brighter.mean() > img.mean()
    flat = apply_params(img, [("contrast", 0.5)])
    assert flat.std() < img.std()
    gray = apply_params(img, [("saturation", 0.0)])
    assert torch.allclose(gray[0], gray[1], atol=1e-6)
    shifted = apply_params(img, [("affine", (0.0, (3, 0)))])
    assert torch.allclose(shifted[:, :, 3:], img[:, :, :-3])
    assert not torch.equal(apply_params(img, [("hue", 0.05)]), img)
    assert not torch.equal(apply_params(img, [("sharpness", 1.5)]), img)


def test_frame_stack_gets_the_same_parameters():
    img = _image()
    stack = torch.stack([img, img])
    out = random_transform(stack, ImageTransformsConfig(), torch.Generator().manual_seed(2))
    assert torch.equal(out[0], out[1])


def test_unknown_kind_is_rejected():
    with pytest.raises(ValueError, match="unknown transform kind 'blur'"):
        TransformSpec("blur")


def test_dataset_applies_transforms_to_cameras_only(dataset_fixtures):
    plain = data.open(dataset_fixtures / "images_inline_mini")
    aug = data.open(dataset_fixtures / "images_inline_mini", image_transforms=ImageTransforms(seed=1))
    a, b = plain[3], aug[3]
    assert not torch.equal(a["observation", "images", "cam"], b["observation", "images", "cam"])
    assert torch.equal(a["observation", "state"], b["observation", "state"])
    assert data.ImageTransforms is ImageTransforms
