"""`train.init` / `train.step` on a tiny ACT policy and real batches of the pusht_mini fixture."""

from __future__ import annotations

import copy

import pytest
import torch

from lerobot_fn import data, policies, train
from lerobot_fn.data import ImageTransformsConfig, random_transform
from lerobot_fn.policies import act
from lerobot_fn.policies.family import OptimizerPreset

TINY = {"dim_model": 32, "n_heads": 2, "dim_feedforward": 64, "n_encoder_layers": 1, "n_decoder_layers": 1,
        "n_vae_encoder_layers": 1, "latent_dim": 4, "pretrained_backbone_weights": None}


@pytest.fixture(scope="module")
def setting(dataset_fixtures):
    root = dataset_fixtures / "pusht_mini"
    meta = data.DatasetMeta.load(root)
    inputs, outputs = train.split_features(train.policy_features(meta.features))

    def make(**overrides):
        config = act.Config(input_features=inputs, output_features=outputs, **{**TINY, "chunk_size": 4,
                                                                               "n_action_steps": 4, **overrides})
        torch.manual_seed(0)
        policy = policies.from_config(config, stats=meta.stats)
        dataset = data.open(root, delta_timestamps=train.delta_timestamps(config, meta.fps))
        batch = next(iter(data.loader(dataset, batch_size=4, shuffle=True, generator=torch.Generator().manual_seed(1))))
        return policy, batch

    return make


def test_step_updates_the_weights_and_returns_device_tensors(setting):
    policy, batch = setting()
    before = copy.deepcopy(policy.model.state_dict())
    state = train.init(policy, train.OptimSpec(total_steps=10), torch.Generator().manual_seed(0))
    assert state.step == 0 and state.lr == 1e-5
    new, metrics = train.step(state, batch)
    assert new.step == 1 and state.step == 0, "step returns the next state"
    assert {"loss", "grad_norm", "l1_loss", "kld_loss", "lr"} <= set(metrics)
    assert all(isinstance(metrics[k], torch.Tensor) and metrics[k].ndim == 0 for k in ("loss", "grad_norm", "l1_loss"))
    after = policy.model.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before)

    fast = train.OptimSpec(optimizer=OptimizerPreset("adamw", lr=1e-3))
    state = train.init(policy, fast, torch.Generator().manual_seed(0))
    losses = []
    for _ in range(6):  # a fixed batch is learned
        state, metrics = train.step(state, batch)
        losses.append(float(metrics["loss"]))
    assert min(losses[-2:]) < losses[0]


def test_grad_accumulation_equals_the_whole_batch(setting):
    deterministic = {"use_vae": False, "dropout": 0.0, "chunk_size": 1, "n_action_steps": 1}
    results = []
    for parts in (1, 2):
        policy, batch = setting(**deterministic)
        state = train.init(policy, train.OptimSpec(optimizer=act.optimizer_preset(policy.config)),
                           grad_accumulation=parts)
        _, metrics = train.step(state, batch)
        results.append((float(metrics["loss"]), float(metrics["grad_norm"])))
    (l1, g1), (l2, g2) = results
    assert l2 == pytest.approx(l1, rel=1e-6) and g2 == pytest.approx(g1, rel=1e-4)
    with pytest.raises(ValueError, match="batch_size 4 is not divisible by grad_accumulation 3"):
        policy, batch = setting(**deterministic)
        train.step(train.init(policy, grad_accumulation=3), batch)


def test_bf16_autocast_and_ema(setting):
    policy, batch = setting()
    start = {k: v.clone() for k, v in policy.model.state_dict().items() if v.is_floating_point()}
    state = train.init(policy, mixed_precision="bf16", ema_decay=0.9)
    state, metrics = train.step(state, batch)
    assert torch.isfinite(metrics["loss"]) and metrics["loss"].dtype == torch.float32
    weights = policy.model.state_dict()
    name = "model.action_head.weight"
    assert torch.allclose(state.ema[name], 0.9 * start[name] + 0.1 * weights[name], atol=1e-7)
    assert not torch.equal(state.ema[name], weights[name])


def test_a_restored_state_continues_exactly(setting):
    policy, batch = setting()
    state = train.init(policy, train.OptimSpec(total_steps=10), torch.Generator().manual_seed(5))
    state, _ = train.step(state, batch)
    saved = train.checkpoint.training_state(state)
    weights = copy.deepcopy(policy.model.state_dict())
    _, expected = train.step(state, batch)

    other, _ = setting()
    other.model.load_state_dict(weights)
    fresh = train.init(other, train.OptimSpec(total_steps=10), torch.Generator().manual_seed(99))
    restored = train.checkpoint.restore(fresh, saved)
    assert restored.step == 1
    _, got = train.step(restored, batch)
    assert torch.equal(got["loss"], expected["loss"])
    assert all(torch.equal(a, b) for a, b in zip(other.model.state_dict().values(), policy.model.state_dict().values()))


def test_augment_draws_from_the_generator_and_leaves_the_batch_alone(setting):
    policy, batch = setting()
    image = batch["observation", "image"].clone()
    config = ImageTransformsConfig()

    def transform(x, g):
        return random_transform(x, config, g)

    a = train.augment(batch, policy.config, transform, torch.Generator().manual_seed(0))
    b = train.augment(batch, policy.config, transform, torch.Generator().manual_seed(0))
    assert torch.equal(a["observation", "image"], b["observation", "image"])
    assert not torch.equal(a["observation", "image"], image)
    assert torch.equal(batch["observation", "image"], image)
