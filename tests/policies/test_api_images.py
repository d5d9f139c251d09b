"""Camera images into the policy API: uint8 (0-255) and float in [0, 1] give the same actions;
every other image (float 0-255, already normalised, HWC, another dtype) is refused naming the camera,
in predict_chunk, select_action and loss alike. Never a silently wrong action."""

import pytest
import torch

from lerobot_fn import data, policies

TOP = ("observation", "images", "top")


@pytest.fixture(scope="module")
def act(policy_fixtures):
    return policies.load(policy_fixtures / "act_aloha_mini" / "pretrained_model", device="cpu")


@pytest.fixture(scope="module")
def diffusion(policy_fixtures):
    return policies.load(policy_fixtures / "diffusion_pusht_mini" / "pretrained_model", device="cpu")


@pytest.fixture(scope="module")
def aloha(dataset_fixtures):
    deltas = {"action": [i / 50 for i in range(20)]}
    return (data.open(dataset_fixtures / "aloha_sim_mini", delta_timestamps=deltas),
            data.open(dataset_fixtures / "aloha_sim_mini", delta_timestamps=deltas, return_uint8=True))


def _calls(policy, batch):
    """The three entry points, each as a function of the batch."""
    obs = batch.select("observation")
    return {
        "predict_chunk": lambda b=obs: policies.predict_chunk(policy, b),
        "select_action": lambda b=obs: policies.select_action(policy, b, policies.initial_state(policy))[0],
        "loss": lambda b=batch: policies.loss(policy, b, generator=torch.Generator().manual_seed(0))[0].detach(),
    }


def test_uint8_images_give_the_same_actions_and_loss_as_float_images(act, aloha):
    floats, uint8s = aloha[0][0:2], aloha[1][0:2]
    assert uint8s[TOP].dtype == torch.uint8
    before = uint8s[TOP].clone()
    for name, call in _calls(act, floats).items():
        torch.testing.assert_close(_calls(act, uint8s)[name](), call(), rtol=0, atol=1e-5, msg=name)
    assert torch.equal(uint8s[TOP], before)  # the caller's batch is not converted in place


def test_uint8_history_for_diffusion_gives_the_same_chunk(diffusion, dataset_fixtures):
    deltas = {"observation.image": [-0.1, 0.0], "observation.state": [-0.1, 0.0]}
    f = data.open(dataset_fixtures / "pusht_mini", delta_timestamps=deltas)[0:2].select("observation")
    u = data.open(dataset_fixtures / "pusht_mini", delta_timestamps=deltas, return_uint8=True)[0:2].select("observation")
    chunks = []
    for obs in (u, f):
        torch.manual_seed(0)  # the same DDPM draws for both
        chunks.append(policies.predict_chunk(diffusion, obs))
    torch.testing.assert_close(*chunks, rtol=0, atol=1e-4)


MISTAKES = {
    "float 0-255": (lambda img: img.float() * 1.0, ValueError, r"float images must be in \[0, 1\].*divide by 255"),
    "normalised": (lambda img: img.float() / 255 * 4 - 2, ValueError, r"already normalised"),
    "HWC uint8": (lambda img: img.permute(0, 2, 3, 1).contiguous(), ValueError, r"looks HWC"),
    "int64": (lambda img: img.long(), TypeError, r"uint8 \(0-255\) or float in \[0, 1\], got torch.int64"),
}


@pytest.mark.parametrize("mistake", MISTAKES, ids=list(MISTAKES))
@pytest.mark.parametrize("entry", ["predict_chunk", "select_action", "loss"])
def test_an_image_of_the_wrong_kind_is_refused_naming_the_camera(act, aloha, mistake, entry):
    make, error, message = MISTAKES[mistake]
    batch = aloha[1][0:2].clone()
    batch.set(TOP, make(batch[TOP]))
    with pytest.raises(error, match=f"camera 'observation.images.top': .*{message}"):
        _calls(act, batch)[entry]()
