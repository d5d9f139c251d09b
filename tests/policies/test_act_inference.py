"""ACT control-step semantics on a tiny random model: the action queue (n_action_steps) and
temporal ensembling (ACTTemporalEnsembler's online weighted mean) against hand-computed results."""

from __future__ import annotations

import math

import pytest
import torch

from lerobot_fn.policies import act


def _config(**overrides):
    base = {
        "input_features": {
            "observation.state": {"type": "STATE", "shape": [3]},
            "observation.environment_state": {"type": "ENV", "shape": [5]},
        },
        "output_features": {"action": {"type": "ACTION", "shape": [2]}},
        "chunk_size": 4,
        "n_action_steps": 4,
        "dim_model": 16,
        "n_heads": 2,
        "dim_feedforward": 32,
        "latent_dim": 4,
        "n_encoder_layers": 1,
        "n_vae_encoder_layers": 1,
        "pretrained_backbone_weights": None,
    }
    base.update(overrides)
    return act.Config(**base)


def _frames(n, batch_size=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [
        {
            "observation.state": torch.randn(batch_size, 3, generator=g),
            "observation.environment_state": torch.randn(batch_size, 5, generator=g),
        }
        for _ in range(n)
    ]


@pytest.fixture
def tiny():
    torch.manual_seed(0)

    def make(**overrides):
        config = _config(**overrides)
        return config, act.build_model(config).eval()

    return make


@torch.inference_mode()
def test_action_queue_runs_n_action_steps_then_replans(tiny):
    config, model = tiny(chunk_size=5, n_action_steps=3)
    frames = _frames(7)
    state = act.initial_state(config)
    actions = []
    for frame in frames:
        a, state = act.select_action(model, config, frame, state)
        actions.append(a)
    chunk0 = act.predict_chunk(model, config, frames[0])
    chunk3 = act.predict_chunk(model, config, frames[3])
    chunk6 = act.predict_chunk(model, config, frames[6])
    expected = [
        chunk0[:, 0],
        chunk0[:, 1],
        chunk0[:, 2],
        chunk3[:, 0],
        chunk3[:, 1],
        chunk3[:, 2],
        chunk6[:, 0],
    ]
    for t, (a, e) in enumerate(zip(actions, expected, strict=True)):
        assert torch.equal(a, e), t
    # Frames 1, 2, 4, 5 were never looked at: the queue served them.
    assert not torch.allclose(chunk0, chunk3)


@torch.inference_mode()
def test_temporal_ensembling_is_exponentially_weighted_mean_of_overlapping_chunks(tiny):
    coeff = 0.5
    config, model = tiny(chunk_size=4, n_action_steps=1, temporal_ensemble_coeff=coeff)
    frames = _frames(7)
    chunks = [act.predict_chunk(model, config, f) for f in frames]
    state = act.initial_state(config)
    for t, frame in enumerate(frames):
        action, state = act.select_action(model, config, frame, state)
        # Predictions for step t come from chunks j = t-3..t (oldest first), chunk j's entry t - j;
        # the oldest gets weight exp(0), the next exp(-coeff), ...
        sources = [j for j in range(t + 1) if t - j < config.chunk_size]
        weights = [math.exp(-coeff * i) for i in range(len(sources))]
        expected = sum(w * chunks[j][:, t - j] for w, j in zip(weights, sources, strict=True)) / sum(weights)
        assert torch.allclose(action, expected, atol=1e-6, rtol=0), t
    assert state.ensembled_actions.shape == (2, config.chunk_size - 1, 2)


@torch.inference_mode()
def test_ensemble_step_first_call_returns_first_action(tiny):
    config, _ = tiny(chunk_size=4, n_action_steps=1, temporal_ensemble_coeff=0.01)
    chunk = torch.arange(2 * 4 * 2, dtype=torch.float32).reshape(2, 4, 2)
    action, state = act.ensemble_step(config, chunk, act.initial_state(config))
    assert torch.equal(action, chunk[:, 0])
    assert torch.equal(state.ensembled_actions, chunk[:, 1:])
    assert state.ensembled_count.flatten().tolist() == [1, 1, 1]
    chunk.add_(100.0)  # the caller reusing its buffer does not change the state
    assert state.ensembled_actions.max() < 100.0


def test_initial_state_is_empty_and_immutable(tiny):
    config, _ = tiny()
    state = act.initial_state(config)
    assert state.action_queue is None and state.ensembled_actions is None
    with pytest.raises(AttributeError):
        state.action_queue = torch.zeros(1)  # type: ignore[misc]


@torch.inference_mode()
def test_images_only_and_multi_camera_models_run(tiny):
    """Cameras of equal shape share one backbone call; different shapes go one by one."""
    features = {
        "observation.images.a": {"type": "VISUAL", "shape": [3, 64, 64]},
        "observation.images.b": {"type": "VISUAL", "shape": [3, 32, 128]},
    }
    config, model = tiny(input_features=features, vision_backbone="resnet18")
    g = torch.Generator().manual_seed(1)
    batch = {k: torch.randn(2, *f["shape"], generator=g) for k, f in features.items()}
    chunk = act.predict_chunk(model, config, batch)
    assert chunk.shape == (2, 4, 2)
    # Batched and one-by-one backbone passes agree.
    feats = model.model._camera_features([batch["observation.images.a"], batch["observation.images.a"]])
    single = model.model.backbone(batch["observation.images.a"])
    assert torch.allclose(feats[1], single, atol=1e-5)


class _ReusedOutputBuffer(torch.nn.Module):
    """Like a CUDA-graph-compiled model: every call returns the same output tensor, overwritten."""

    def __init__(self, inner, shape):
        super().__init__()
        self.inner = inner
        self.out = torch.zeros(shape)

    def forward(self, batch, latent_noise=None):
        actions, aux = self.inner(batch, latent_noise)
        self.out.copy_(actions)
        return self.out, aux


@pytest.mark.parametrize(
    "overrides", [{"n_action_steps": 3}, {"n_action_steps": 1, "temporal_ensemble_coeff": 0.1}]
)
@torch.inference_mode()
def test_actions_and_state_do_not_alias_the_models_output_buffer(tiny, overrides):
    config, model = tiny(**overrides)
    reusing = _ReusedOutputBuffer(model, (2, config.chunk_size, 2)).eval()
    frames = _frames(7)
    plain_state, reused_state = act.initial_state(config), act.initial_state(config)
    expected, got = [], []  # kept, as a recorder would: earlier actions must stay valid
    for frame in frames:
        action, plain_state = act.select_action(model, config, frame, plain_state)
        expected.append(action)
        action, reused_state = act.select_action(reusing, config, frame, reused_state)
        got.append(action)
    for t, (g, e) in enumerate(zip(got, expected, strict=True)):
        assert torch.equal(g, e), t
