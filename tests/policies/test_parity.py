"""LeRobot checkpoint parity: `policies.load` + the functional API reproduce what LeRobot 0.6.1
returned for the fixtures' checkpoints (raw observations in, raw actions out), max abs diff <= 1e-4."""

import json

import pytest
import torch
from safetensors.torch import load_file

from lerobot_fn import policies
from lerobot_fn.process import from_flat_dict

FIXTURES = ("act_aloha_mini", "diffusion_pusht_mini")
TOL = 1e-4


def _obs(io: dict, prefix: str, batch: int):
    """The raw observations stored under `prefix/observation...` as a nested TensorDict."""
    flat = {k[len(prefix) + 1 :]: v for k, v in io.items() if k.startswith(prefix + "/observation")}
    assert flat, f"no observations under {prefix}"
    return from_flat_dict(flat, batch_size=[batch])


def _predict_noise(io: dict):
    if "predict_chunk/noise" not in io:
        return None
    steps = [io[f"predict_chunk/step_noise/{j}"] for j in range(len(io)) if f"predict_chunk/step_noise/{j}" in io]
    return {"initial": io["predict_chunk/noise"], "steps": steps}


def _select_noises(io: dict, meta: dict) -> dict[int, object]:
    """Noise to pass at each select_action step t where LeRobot generated a new chunk."""
    noise_meta = meta.get("select_action_noise_meta")
    if noise_meta is None:
        return {}
    step_meta = noise_meta["select_action"]
    out = {}
    for k, t in enumerate(noise_meta["select_action_init_noise_steps"]):
        steps = [io[f"select_action/step_noise/{j}"] for j, m in enumerate(step_meta) if m["generation"] == k]
        out[t] = {"initial": io[f"select_action/noise/{k}"], "steps": steps}
    return out


@pytest.fixture(scope="module", params=FIXTURES)
def fixture(request, policy_fixtures):
    root = policy_fixtures / request.param
    io = load_file(root / "io.safetensors")
    meta = json.loads((root / "io.json").read_text())
    return policies.load(root / "pretrained_model", device="cpu"), io, meta


def test_predict_chunk_matches_lerobot(fixture):
    policy, io, _ = fixture
    expected = io["predict_chunk/action"]
    got = policy_out = policies.predict_chunk(policy, _obs(io, "predict_chunk", expected.shape[0]), noise=_predict_noise(io))
    assert got.shape == expected.shape and got.dtype == torch.float32
    assert (policy_out - expected).abs().max().item() <= TOL


def test_select_action_sequence_matches_lerobot(fixture):
    policy, io, meta = fixture
    noises = _select_noises(io, meta)
    state = policies.initial_state(policy)
    for t in range(12):
        action, state = policies.select_action(policy, _obs(io, f"select_action/{t}", 1), state, noise=noises.get(t))
        expected = io[f"select_action/{t}/action"]
        assert action.shape == expected.shape
        diff = (action - expected).abs().max().item()
        assert diff <= TOL, f"step {t}: max abs diff {diff}"
