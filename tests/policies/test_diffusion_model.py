"""Diffusion Policy parity with LeRobot 0.6.1 on its own checkpoint (no API layer).

The LeRobot-written `diffusion_pusht_mini` fixture loads strictly, and with the recorded noise
(initial sample + DDPM per-step draws) reproduces `predict_action_chunk` and 12 consecutive
`select_action` calls within 1e-4. Normalisation is done here from the preprocessor's stats and
the modes in config.json, with LeRobot's formulas.
"""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

from lerobot_fn.policies import diffusion as dp

TOL = 1e-4


@pytest.fixture(scope="module")
def fixture_dir(policy_fixtures):
    return policy_fixtures / "diffusion_pusht_mini"


@pytest.fixture(scope="module")
def config(fixture_dir):
    return dp.Config.from_dict(json.loads((fixture_dir / "pretrained_model" / "config.json").read_text()))


@pytest.fixture(scope="module")
def model(config, fixture_dir):
    m = dp.build_model(config)
    m.load_state_dict(load_file(fixture_dir / "pretrained_model" / "model.safetensors"), strict=True)
    return m.eval()


@pytest.fixture(scope="module")
def io(fixture_dir):
    return load_file(fixture_dir / "io.safetensors")


@pytest.fixture(scope="module")
def io_meta(fixture_dir):
    return json.loads((fixture_dir / "io.json").read_text())


@pytest.fixture(scope="module")
def normalizer(fixture_dir):
    pre = json.loads((fixture_dir / "pretrained_model" / "policy_preprocessor.json").read_text())
    step = next(s for s in pre["steps"] if s["registry_name"] == "normalizer_processor")
    stats = load_file(fixture_dir / "pretrained_model" / step["state_file"])
    return step["config"], stats


def _apply(mode: str, stats, key: str, x: torch.Tensor, eps: float, inverse: bool = False) -> torch.Tensor:
    """LeRobot's normaliser formulas for the two modes this checkpoint uses."""
    if mode == "MEAN_STD":
        mean, std = stats[f"{key}.mean"], stats[f"{key}.std"]
        return x * std + mean if inverse else (x - mean) / (std + eps)
    if mode == "MIN_MAX":
        lo, hi = stats[f"{key}.min"], stats[f"{key}.max"]
        denom = torch.where(hi - lo == 0, torch.tensor(eps), hi - lo)
        return (x + 1) / 2 * denom + lo if inverse else 2 * (x - lo) / denom - 1
    raise AssertionError(f"fixture uses unexpected mode {mode}")


def _normalize(config, normalizer, raw: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    cfg, stats = normalizer
    out = {}
    for key, x in raw.items():
        mode = cfg["norm_map"][cfg["features"][key]["type"]]
        out[key] = _apply(mode, stats, key, x, cfg["eps"])
    return out


def _unnormalize_action(normalizer, a: torch.Tensor) -> torch.Tensor:
    cfg, stats = normalizer
    return _apply(cfg["norm_map"]["ACTION"], stats, "action", a, cfg["eps"], inverse=True)


def test_checkpoint_loads_strictly_with_lerobot_keys(config, fixture_dir):
    keys = set(load_file(fixture_dir / "pretrained_model" / "model.safetensors"))
    assert set(dp.build_model(config).state_dict()) == keys


def test_predict_chunk_matches_lerobot(config, model, io, io_meta, normalizer):
    obs_keys = io_meta["obs_keys"]
    batch = _normalize(config, normalizer, {k: io[f"predict_chunk/{k}"] for k in obs_keys})
    n_steps = sum(1 for k in io if k.startswith("predict_chunk/step_noise/"))
    noise = {
        "initial": io["predict_chunk/noise"],
        "steps": [io[f"predict_chunk/step_noise/{j}"] for j in range(n_steps)],
    }
    with torch.no_grad():
        chunk = dp.predict_chunk(model, config, batch, noise=noise)
    expected = io["predict_chunk/action_normalized"]
    assert chunk.shape == expected.shape == (2, config.n_action_steps, 2)
    assert (chunk - expected).abs().max() <= TOL
    assert (_unnormalize_action(normalizer, chunk) - io["predict_chunk/action"]).abs().max() <= TOL


def _select_action_noise(io, io_meta, t: int):
    """The recorded noise for the chunk generated at call t (None when no chunk is generated)."""
    meta = io_meta["select_action_noise_meta"]
    if t not in meta["select_action_init_noise_steps"]:
        return None
    gen = meta["select_action_init_noise_steps"].index(t)
    steps = [
        io[f"select_action/step_noise/{j}"]
        for j, m in enumerate(meta["select_action"])
        if m["generation"] == gen
    ]
    return {"initial": io[f"select_action/noise/{gen}"], "steps": steps}


def test_select_action_sequence_matches_lerobot(config, model, io, io_meta, normalizer):
    state = dp.initial_state(config)
    for t in range(12):
        frame = _normalize(config, normalizer, {k: io[f"select_action/{t}/{k}"] for k in io_meta["obs_keys"]})
        with torch.no_grad():
            action, state = dp.select_action(
                model, config, frame, state, noise=_select_action_noise(io, io_meta, t)
            )
        assert action.shape == (1, 2)
        assert (action - io[f"select_action/{t}/action_normalized"]).abs().max() <= TOL, f"step {t}"
        assert (
            _unnormalize_action(normalizer, action) - io[f"select_action/{t}/action"]
        ).abs().max() <= TOL, f"step {t}"


def test_select_action_state_is_a_value(config, model, io, io_meta, normalizer):
    """Replaying from a saved state gives the same action; the saved state is not changed."""
    frames = [
        _normalize(config, normalizer, {k: io[f"select_action/{t}/{k}"] for k in io_meta["obs_keys"]})
        for t in range(2)
    ]
    s0 = dp.initial_state(config)
    with torch.no_grad():
        _, s1 = dp.select_action(model, config, frames[0], s0, noise=_select_action_noise(io, io_meta, 0))
        before = (s1.actions, dict(s1.observations))
        a_first, s2 = dp.select_action(model, config, frames[1], s1)
        a_again, _ = dp.select_action(model, config, frames[1], s1)
    assert s0.actions == () and not s0.observations
    assert s1.actions == before[0] and dict(s1.observations) == before[1]
    assert len(s1.actions) == config.n_action_steps - 1 and len(s2.actions) == config.n_action_steps - 2
    assert torch.equal(a_first, a_again)
    assert all(len(h) == config.n_obs_steps for h in s2.observations.values())
    # the newest frame is last in the history; the first frame filled the history on reset
    assert torch.equal(s2.observations["observation.state"][-1], frames[1]["observation.state"])
    assert torch.equal(s1.observations["observation.state"][0], frames[0]["observation.state"])


def test_predict_chunk_from_generator_is_reproducible(config, model, io, io_meta, normalizer):
    batch = _normalize(config, normalizer, {k: io[f"predict_chunk/{k}"] for k in io_meta["obs_keys"]})
    with torch.no_grad():
        a = dp.predict_chunk(model, config, batch, generator=torch.Generator().manual_seed(3))
        b = dp.predict_chunk(model, config, batch, generator=torch.Generator().manual_seed(3))
        c = dp.predict_chunk(model, config, batch, generator=torch.Generator().manual_seed(4))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_bad_noise_and_batches_are_named(config, model, io, io_meta, normalizer):
    batch = _normalize(config, normalizer, {k: io[f"predict_chunk/{k}"] for k in io_meta["obs_keys"]})
    with torch.no_grad():
        with pytest.raises(ValueError, match=r"initial sample has shape \(2, 8, 2\)"):
            dp.predict_chunk(model, config, batch, noise=torch.zeros(2, 8, 2))
        with pytest.raises(ValueError, match="'steps' has 2 tensors.*draws 9"):
            dp.predict_chunk(
                model,
                config,
                batch,
                noise={"initial": io["predict_chunk/noise"], "steps": [io["predict_chunk/noise"]] * 2},
            )
        with pytest.raises(ValueError, match="unknown key"):
            dp.predict_chunk(model, config, batch, noise={"init": io["predict_chunk/noise"]})
        with pytest.raises(KeyError, match="observation.image"):
            dp.predict_chunk(model, config, {"observation.state": batch["observation.state"]})
        with pytest.raises(
            ValueError, match=r"images have \(batch, steps\) \(2, 1\) but 'observation.state' has \(2, 2\)"
        ):
            dp.predict_chunk(
                model, config, dict(batch, **{"observation.image": batch["observation.image"][:, 0]})
            )
        with pytest.raises(ValueError, match="holds 1 observation steps, config n_obs_steps is 2"):
            dp.predict_chunk(model, config, {k: v[:, :1] for k, v in batch.items()})
        with pytest.raises(
            ValueError, match=r"'observation.state' has shape \(1, 2, 2\), expected \(B, state_dim\)"
        ):
            dp.select_action(model, config, {k: v[:1] for k, v in batch.items()}, dp.initial_state(config))
        frame = {k: v[:1, 0] for k, v in batch.items()}
        _, state = dp.select_action(model, config, frame, dp.initial_state(config))
        with pytest.raises(ValueError, match="'observation.state' changed shape within the episode"):
            dp.select_action(model, config, {k: v[:, 0] for k, v in batch.items()}, state)
