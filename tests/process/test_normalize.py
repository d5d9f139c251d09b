"""Normalize / Unnormalize: LeRobot's formulas, epsilons, key selection and the fixtures' stats."""

import json

import pytest
import torch
from safetensors.torch import load_file
from tensordict import TensorDict

from lerobot_fn.policies.features import FeatureType, NormalizationMode, PolicyFeature
from lerobot_fn.process import Normalize, Unnormalize, normalize_tensor, pipeline_from_config

STATE = PolicyFeature(FeatureType.STATE, (3,))
ACTION = PolicyFeature(FeatureType.ACTION, (3,))
IMAGE = PolicyFeature(FeatureType.VISUAL, (3, 2, 2))

STATS = {
    "observation.state": {
        "mean": [1.0, 2.0, 3.0], "std": [2.0, 0.0, 4.0], "min": [0.0, 5.0, -1.0], "max": [2.0, 5.0, 3.0],
        "q01": [0.5, 1.0, 1.0], "q99": [1.5, 3.0, 1.0], "q10": [0.0, 1.0, 2.0], "q90": [4.0, 2.0, 6.0],
    },
    "action": {"mean": [0.5, 0.5, 0.5], "std": [0.25, 0.5, 1.0], "min": [-1.0, 0.0, 1.0], "max": [1.0, 2.0, 1.0]},
    "observation.image": {"mean": [0.5, 0.4, 0.3], "std": [0.1, 0.2, 0.3]},
}
X = torch.tensor([[1.5, 5.0, 2.0], [0.0, -1.0, 7.0]])


def _norm(mode, features=None, **kw):
    features = features or {"observation.state": STATE, "action": ACTION}
    norm_map = {FeatureType.STATE: mode, FeatureType.ACTION: mode, FeatureType.VISUAL: NormalizationMode.MEAN_STD}
    return Normalize.from_stats(features, norm_map, STATS, **kw)


def _state_td(x=X):
    return TensorDict({"observation": {"state": x.clone()}}, batch_size=[x.shape[0]])


def test_mean_std_adds_eps_to_std_forward_only():
    out = _norm(NormalizationMode.MEAN_STD)(_state_td())["observation", "state"]
    mean, std = torch.tensor([1.0, 2.0, 3.0]), torch.tensor([2.0, 0.0, 4.0])
    torch.testing.assert_close(out, (X - mean) / (std + 1e-8), rtol=0, atol=0)
    # zero std: eps keeps it finite (3 / 1e-8)
    assert out[0, 1].item() == pytest.approx(3.0 / 1e-8)
    back = normalize_tensor(out, NormalizationMode.MEAN_STD, {"mean": mean, "std": std}, inverse=True)
    torch.testing.assert_close(back, out * std + mean, rtol=0, atol=0)


def test_min_max_maps_range_to_minus_one_one_and_zero_range_uses_eps():
    out = _norm(NormalizationMode.MIN_MAX)(_state_td())["observation", "state"]
    low = torch.tensor([0.0, 5.0, -1.0])
    denom = torch.tensor([2.0, 1e-8, 4.0])
    torch.testing.assert_close(out, 2 * (X - low) / denom - 1, rtol=0, atol=0)
    assert out[0, 1].item() == -1.0  # x == min with a zero range maps to -1
    assert out[0, 0].item() == pytest.approx(0.5)
    back = Unnormalize.from_stats({"observation.state": STATE}, {FeatureType.STATE: "MIN_MAX"}, STATS)(
        TensorDict({"observation": {"state": out}}, batch_size=[2])
    )["observation", "state"]
    torch.testing.assert_close(back[:, [0, 2]], X[:, [0, 2]])


@pytest.mark.parametrize(("mode", "lo", "hi"), [("QUANTILES", "q01", "q99"), ("QUANTILE10", "q10", "q90")])
def test_quantile_modes(mode, lo, hi):
    out = _norm(NormalizationMode(mode))(_state_td())["observation", "state"]
    low, high = torch.tensor(STATS["observation.state"][lo]), torch.tensor(STATS["observation.state"][hi])
    denom = torch.where(high - low == 0, torch.tensor(1e-8), high - low)
    torch.testing.assert_close(out, 2.0 * (X - low) / denom - 1.0, rtol=0, atol=0)
    back = normalize_tensor(out, NormalizationMode(mode), {lo: low, hi: high}, inverse=True)
    torch.testing.assert_close(back, (out + 1.0) * denom / 2.0 + low, rtol=0, atol=0)


def test_identity_and_features_without_stats_pass_through():
    td = _state_td()
    out = _norm(NormalizationMode.IDENTITY)(td)
    assert torch.equal(out["observation", "state"], X)
    no_stats = Normalize({"observation.state": STATE}, {FeatureType.STATE: "MEAN_STD"}, {})
    assert torch.equal(no_stats(td)["observation", "state"], X)


def test_action_is_normalized_and_input_is_not_mutated():
    td = TensorDict({"observation": {"state": X.clone()}, "action": X.clone()}, batch_size=[2])
    out = _norm(NormalizationMode.MEAN_STD)(td)
    expected = (X - torch.tensor([0.5, 0.5, 0.5])) / (torch.tensor([0.25, 0.5, 1.0]) + 1e-8)
    torch.testing.assert_close(out["action"], expected, rtol=0, atol=0)
    assert torch.equal(td["action"], X) and torch.equal(td["observation", "state"], X)


def test_visual_stats_broadcast_over_height_and_width():
    img = torch.rand(2, 3, 2, 2)
    step = _norm(NormalizationMode.MEAN_STD, {"observation.image": IMAGE})
    assert step.stats["observation.image"]["mean"].shape == (3, 1, 1)
    out = step(TensorDict({"observation": {"image": img}}, batch_size=[2]))["observation", "image"]
    mean = torch.tensor([0.5, 0.4, 0.3]).view(3, 1, 1)
    std = torch.tensor([0.1, 0.2, 0.3]).view(3, 1, 1)
    torch.testing.assert_close(out, (img - mean) / (std + 1e-8), rtol=0, atol=0)


def test_stats_follow_input_dtype():
    out = _norm(NormalizationMode.MEAN_STD)(_state_td(X.double()))["observation", "state"]
    assert out.dtype == torch.float64


def test_normalize_observation_keys_limits_what_is_normalized():
    step = _norm(NormalizationMode.MEAN_STD, normalize_observation_keys={"observation.image"})
    assert torch.equal(step(_state_td())["observation", "state"], X)
    assert step.get_config()["normalize_observation_keys"] == ["observation.image"]


def test_missing_stat_names_feature_and_mode():
    step = Normalize({"action": ACTION}, {FeatureType.ACTION: "MIN_MAX"}, {"action": {"mean": torch.zeros(3)}})
    with pytest.raises(ValueError, match=r"MIN_MAX normalization of 'action' needs the min and max"):
        step(TensorDict({"action": X}, batch_size=[2]))


def test_fixture_unnormalizer_reproduces_lerobot_postprocessor(policy_fixtures):
    """LeRobot recorded actions before and after its postprocessor: our Unnormalize maps one to the other."""
    for name in ("act_aloha_mini", "diffusion_pusht_mini"):
        root = policy_fixtures / name / "pretrained_model"
        config = json.loads((root / "policy_postprocessor.json").read_text())
        states = {s["state_file"]: load_file(root / s["state_file"]) for s in config["steps"] if "state_file" in s}
        post = pipeline_from_config(config, states)
        io = load_file(policy_fixtures / name / "io.safetensors")
        for prefix in ["predict_chunk"] + [f"select_action/{t}" for t in range(12)]:
            normalized = io[f"{prefix}/action_normalized"]
            out = post(TensorDict({"action": normalized}, batch_size=normalized.shape[:1]))["action"]
            torch.testing.assert_close(out, io[f"{prefix}/action"], rtol=0, atol=1e-6)


def test_shape_that_does_not_fit_the_stats_is_named():
    step = _norm(NormalizationMode.MEAN_STD)
    with pytest.raises(ValueError, match=r"'observation.state' has shape \(2, 4\), which does not fit"):
        step(_state_td(torch.zeros(2, 4)))
