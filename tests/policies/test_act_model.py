"""ACT parity with LeRobot 0.6.1 on its own checkpoint (no API layer): the LeRobot-written
`act_aloha_mini` fixture loads strictly and reproduces `predict_action_chunk` and 12 consecutive
`select_action` calls (max abs difference <= 1e-4)."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

from lerobot_fn.policies import act

EPS = 1e-8  # LeRobot's NormalizerProcessorStep default (also written in policy_preprocessor.json)


@pytest.fixture(scope="module")
def fixture_dir(policy_fixtures):
    return policy_fixtures / "act_aloha_mini"


@pytest.fixture(scope="module")
def config(fixture_dir):
    return act.Config.from_dict(json.loads((fixture_dir / "pretrained_model" / "config.json").read_text()))


@pytest.fixture(scope="module")
def model(config, fixture_dir):
    m = act.build_model(config)
    m.load_state_dict(load_file(fixture_dir / "pretrained_model" / "model.safetensors"), strict=True)
    return m.eval()


@pytest.fixture(scope="module")
def io(fixture_dir):
    return load_file(fixture_dir / "io.safetensors")


@pytest.fixture(scope="module")
def stats(fixture_dir):
    pre = json.loads((fixture_dir / "pretrained_model" / "policy_preprocessor.json").read_text())
    normalizer = next(s for s in pre["steps"] if s["registry_name"] == "normalizer_processor")
    assert normalizer["config"]["eps"] == EPS
    assert all(mode == "MEAN_STD" for mode in normalizer["config"]["norm_map"].values())
    return load_file(fixture_dir / "pretrained_model" / normalizer["state_file"])


def _normalize(stats, key, x):
    return (x - stats[f"{key}.mean"]) / (stats[f"{key}.std"] + EPS)


def _unnormalize_action(stats, a):
    return a * stats["action.std"] + stats["action.mean"]


def _obs_keys(config):
    return list(config.input_features)


def test_checkpoint_loads_strictly_and_keys_match(model, fixture_dir):
    saved = load_file(fixture_dir / "pretrained_model" / "model.safetensors")
    assert set(model.state_dict()) == set(saved)
    for k, v in model.state_dict().items():
        assert v.shape == saved[k].shape, k


def test_predict_chunk_matches_lerobot(model, config, io, stats):
    batch = {k: _normalize(stats, k, io[f"predict_chunk/{k}"]) for k in _obs_keys(config)}
    with torch.inference_mode():
        chunk = act.predict_chunk(model, config, batch)
    expected = io["predict_chunk/action_normalized"]
    assert chunk.shape == expected.shape == (2, config.chunk_size, 14)
    assert (chunk - expected).abs().max() <= 1e-4
    raw = _unnormalize_action(stats, chunk)
    assert (raw - io["predict_chunk/action"]).abs().max() <= 1e-4


def test_select_action_steps_match_lerobot(model, config, io, stats):
    state = act.initial_state(config)
    for t in range(12):
        batch = {k: _normalize(stats, k, io[f"select_action/{t}/{k}"]) for k in _obs_keys(config)}
        with torch.inference_mode():
            action, state = act.select_action(model, config, batch, state)
        assert action.shape == (1, 14)
        assert (action - io[f"select_action/{t}/action_normalized"]).abs().max() <= 1e-4, t
        raw = _unnormalize_action(stats, action)
        assert (raw - io[f"select_action/{t}/action"]).abs().max() <= 1e-4, t


def test_select_action_does_not_mutate_its_state(model, config, io, stats):
    """A state value can be replayed: the same state and frame give the same action twice."""
    batch0 = {k: _normalize(stats, k, io[f"select_action/0/{k}"]) for k in _obs_keys(config)}
    batch1 = {k: _normalize(stats, k, io[f"select_action/1/{k}"]) for k in _obs_keys(config)}
    with torch.inference_mode():
        _, s1 = act.select_action(model, config, batch0, act.initial_state(config))
        a_first, s2 = act.select_action(model, config, batch1, s1)
        a_again, s2_again = act.select_action(model, config, batch1, s1)
    assert torch.equal(a_first, a_again)
    assert s1.action_queue.shape[1] == config.n_action_steps - 1
    assert s2.action_queue.shape[1] == config.n_action_steps - 2
    assert torch.equal(s2.action_queue, s2_again.action_queue)


def test_predict_chunk_rejects_noise_missing_keys_and_train_mode(model, config, io, stats):
    batch = {k: _normalize(stats, k, io[f"predict_chunk/{k}"]) for k in _obs_keys(config)}
    with pytest.raises(ValueError, match="noise"):
        act.predict_chunk(model, config, batch, noise=torch.zeros(2, 20, 14))
    partial = {k: v for k, v in batch.items() if k != "observation.images.left_wrist"}
    with pytest.raises(KeyError, match="observation.images.left_wrist"):
        act.predict_chunk(model, config, partial)
    model.train()
    try:
        with pytest.raises(RuntimeError, match="eval mode"):
            act.predict_chunk(model, config, batch)
    finally:
        model.eval()
