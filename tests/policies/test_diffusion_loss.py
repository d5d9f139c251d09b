"""Diffusion training loss on a small config shaped like the fixture's: finite, trainable, seeded, masked.

Equality with LeRobot's own `forward` (same RNG draws) is in test_diffusion_lerobot_reference.py.
"""

from __future__ import annotations

import json

import attrs
import pytest
import torch

from lerobot_fn.policies import diffusion as dp
from lerobot_fn.policies.features import FeatureType, PolicyFeature


@pytest.fixture(scope="module")
def config(policy_fixtures):
    """The fixture's config (group norm, shared encoder, crop) on 40x40 images to stay cheap."""
    path = policy_fixtures / "diffusion_pusht_mini" / "pretrained_model" / "config.json"
    base = dp.Config.from_dict(json.loads(path.read_text()))
    features = dict(
        base.input_features, **{"observation.image": PolicyFeature(FeatureType.VISUAL, (3, 40, 40))}
    )
    return attrs.evolve(base, input_features=features, crop_shape=(32, 32))


@pytest.fixture(scope="module")
def model(config):
    torch.manual_seed(0)
    return dp.build_model(config)


def _batch(config, b: int = 2, seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    s, h = config.n_obs_steps, config.horizon
    return {
        "observation.image": torch.randn(b, s, 3, 40, 40, generator=g),
        "observation.state": torch.randn(b, s, 2, generator=g),
        "action": torch.rand(b, h, 2, generator=g) * 2 - 1,
        "action_is_pad": torch.zeros(b, h, dtype=torch.bool),
    }


def _loss(model, config, batch, seed, train=True):
    model.train(train)
    try:
        return dp.loss(model, config, batch, generator=torch.Generator().manual_seed(seed))
    finally:
        model.eval()


def test_loss_is_finite_and_gradients_reach_every_part(config, model):
    model.zero_grad()
    value, metrics = _loss(model, config, _batch(config), seed=0)
    assert value.ndim == 0 and torch.isfinite(value) and value > 0
    assert metrics == {"loss": pytest.approx(value.item())}
    value.backward()
    for part in (model.diffusion.unet, model.diffusion.rgb_encoder):
        grads = [p.grad for p in part.parameters()]
        assert all(g is not None for g in grads)
        assert any(g.abs().sum() > 0 for g in grads)
    model.zero_grad()


def test_loss_is_deterministic_given_a_generator(config, model):
    batch = _batch(config)
    with torch.no_grad():
        a, _ = _loss(model, config, batch, seed=7)
        b, _ = _loss(model, config, batch, seed=7)
        c, _ = _loss(model, config, batch, seed=8)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_padding_mask(config, model):
    batch = _batch(config)
    padded = dict(batch, action_is_pad=torch.zeros_like(batch["action_is_pad"]))
    padded["action_is_pad"][0, -5:] = True
    all_padded = dict(batch, action_is_pad=torch.ones_like(batch["action_is_pad"]))
    masked_config = attrs.evolve(config, do_mask_loss_for_padding=True)
    with torch.no_grad():
        plain, _ = _loss(model, config, batch, seed=1, train=False)
        plain_with_pads, _ = _loss(model, config, padded, seed=1, train=False)
        masked_no_pads, _ = _loss(model, masked_config, batch, seed=1, train=False)
        masked, _ = _loss(model, masked_config, padded, seed=1, train=False)
        masked_all, _ = _loss(model, masked_config, all_padded, seed=1, train=False)
    assert torch.equal(plain, plain_with_pads)  # mask off: pad flags are ignored (LeRobot's default)
    assert torch.allclose(masked_no_pads, plain)  # nothing padded: same mean
    assert not torch.allclose(masked, plain)
    assert masked_all.item() == 0.0  # nothing valid: 0 / max(count, 1)


def test_sample_prediction_targets_the_actions(config, model):
    sample_config = attrs.evolve(config, prediction_type="sample")
    batch = _batch(config)
    with torch.no_grad():
        eps_loss, _ = _loss(model, config, batch, seed=2, train=False)
        sample_loss, _ = _loss(model, sample_config, batch, seed=2, train=False)
    assert torch.isfinite(sample_loss) and not torch.equal(eps_loss, sample_loss)


def test_bad_training_batches_are_named(config, model):
    batch = _batch(config)
    with pytest.raises(KeyError, match="missing 'action_is_pad'"):
        dp.loss(model, config, {k: v for k, v in batch.items() if k != "action_is_pad"})
    with pytest.raises(ValueError, match=r"'action' has shape \(2, 8, 2\), expected \(B, horizon=16, 2\)"):
        dp.loss(
            model,
            config,
            dict(batch, action=batch["action"][:, :8], action_is_pad=batch["action_is_pad"][:, :8]),
        )
    with pytest.raises(ValueError, match="1 observation steps in the batch, config n_obs_steps is 2"):
        dp.loss(model, config, dict(batch, **{"observation.state": batch["observation.state"][:, :1]}))


def _counting(fn, count):
    def wrapper(*args, **kwargs):
        count[0] += 1
        return fn(*args, **kwargs)

    return wrapper


def test_gradient_checkpointing_gives_the_same_loss_and_gradients(config, model):
    batch = _batch(config)
    ckpt_config = attrs.evolve(config, gradient_checkpointing=True)
    ckpt_model = dp.build_model(ckpt_config)
    ckpt_model.load_state_dict(model.state_dict())
    results, calls = [], []
    for cfg, m in ((config, model), (ckpt_config, ckpt_model)):
        count, block = [0], m.diffusion.unet.mid_modules[0]
        block.forward = _counting(block.forward, count)  # instance attribute: counts recomputation too
        m.zero_grad()
        m.train()  # checkpointing is active in training mode only (as LeRobot)
        value, _ = dp.loss(m, cfg, batch, generator=torch.Generator().manual_seed(5))
        value.backward()
        m.eval()
        del block.forward
        calls.append(count[0])
        results.append((value.detach(), m.diffusion.unet.final_conv[1].weight.grad.clone()))
    model.zero_grad()
    assert calls == [1, 2]  # checkpointed blocks are recomputed in the backward pass
    assert torch.allclose(results[0][0], results[1][0])
    assert torch.allclose(results[0][1], results[1][1], atol=1e-6)
