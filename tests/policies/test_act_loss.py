"""ACT training loss: LeRobot's masked L1 + kl_weight * KL, gradients, reproducibility from a generator."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from lerobot_fn import train
from lerobot_fn.policies import act

CHUNK, A = 4, 2


def _config(**overrides):
    base = {
        "input_features": {
            "observation.images.top": {"type": "VISUAL", "shape": [3, 32, 32]},
            "observation.state": {"type": "STATE", "shape": [3]},
        },
        "output_features": {"action": {"type": "ACTION", "shape": [A]}},
        "chunk_size": CHUNK,
        "n_action_steps": CHUNK,
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


def _batch(seed=0, batch_size=3):
    g = torch.Generator().manual_seed(seed)
    is_pad = torch.zeros(batch_size, CHUNK, dtype=torch.bool)
    is_pad[0, -2:] = True  # the first episode ends two steps before the chunk does
    return {
        "observation.images.top": torch.randn(batch_size, 3, 32, 32, generator=g),
        "observation.state": torch.randn(batch_size, 3, generator=g),
        "action": torch.randn(batch_size, CHUNK, A, generator=g),
        "action_is_pad": is_pad,
    }


@pytest.fixture
def model_for():
    def make(**overrides):
        torch.manual_seed(0)
        config = _config(**overrides)
        return config, act.build_model(config)

    return make


def test_training_loss_is_l1_plus_weighted_kl_and_finite(model_for):
    config, model = model_for()
    model.train()
    loss, metrics = act.loss(model, config, _batch(), generator=torch.Generator().manual_seed(1))
    assert loss.ndim == 0 and torch.isfinite(loss)
    assert set(metrics) == {"l1_loss", "kld_loss"}
    assert metrics["kld_loss"] > 0
    assert loss.item() == pytest.approx(float(metrics["l1_loss"] + config.kl_weight * metrics["kld_loss"]), rel=1e-5)


def test_eval_loss_is_masked_l1_of_the_predicted_chunk(model_for):
    """Without the VAE path (eval mode) the loss is the mean |a - a_hat| over non-padded steps."""
    config, model = model_for()
    model.eval()
    batch = _batch()
    with torch.no_grad():
        loss, metrics = act.loss(model, config, batch)
        predicted = act.predict_chunk(model, config, batch)
    valid = ~batch["action_is_pad"]
    expected = (predicted - batch["action"]).abs()[valid].mean()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
    assert set(metrics) == {"l1_loss"}


def test_padded_steps_do_not_change_the_loss(model_for):
    config, model = model_for()
    model.train()
    batch = _batch()
    changed = dict(batch, action=batch["action"].clone())
    changed["action"][0, -2:] += 100.0  # only padded entries
    loss_a, _ = act.loss(model, config, batch, generator=torch.Generator().manual_seed(3))
    loss_b, _ = act.loss(model, config, changed, generator=torch.Generator().manual_seed(3))
    assert loss_a.item() == pytest.approx(loss_b.item(), rel=1e-6)


def test_no_kl_term_without_vae(model_for):
    config, model = model_for(use_vae=False)
    model.train()
    loss, metrics = act.loss(model, config, _batch(), generator=torch.Generator().manual_seed(1))
    assert set(metrics) == {"l1_loss"}
    assert loss.item() == pytest.approx(float(metrics["l1_loss"]), rel=1e-6)
    assert not any(name.startswith("model.vae_encoder") for name in model.state_dict())


def test_gradients_reach_backbone_transformer_and_vae_encoder(model_for):
    config, model = model_for()
    model.train()
    loss, _ = act.loss(model, config, _batch(), generator=torch.Generator().manual_seed(1))
    loss.backward()
    params = dict(model.named_parameters())
    for name in (
        "model.backbone.conv1.weight",
        "model.encoder.layers.0.self_attn.in_proj_weight",
        "model.decoder.layers.0.linear1.weight",
        "model.vae_encoder.layers.0.linear2.weight",
        "model.vae_encoder_latent_output_proj.weight",
        "model.action_head.weight",
    ):
        grad = params[name].grad
        assert grad is not None and torch.isfinite(grad).all() and grad.abs().sum() > 0, name
    # Frozen batch norm has buffers, not parameters: nothing to train there.
    assert "model.backbone.bn1.weight" not in params


def test_loss_is_reproducible_from_the_generator_and_leaves_global_rng_alone(model_for):
    config, model = model_for(dropout=0.3)
    model.train()
    batch = _batch()
    before = torch.get_rng_state()
    a, _ = act.loss(model, config, batch, generator=torch.Generator().manual_seed(7))
    b, _ = act.loss(model, config, batch, generator=torch.Generator().manual_seed(7))
    c, _ = act.loss(model, config, batch, generator=torch.Generator().manual_seed(8))
    assert torch.equal(torch.get_rng_state(), before)
    assert a.item() == b.item()
    assert a.item() != c.item()


def test_loss_reports_missing_or_misshapen_targets(model_for):
    config, model = model_for()
    batch = _batch()
    with pytest.raises(KeyError, match="action_is_pad"):
        act.loss(model, config, {k: v for k, v in batch.items() if k != "action_is_pad"})
    with pytest.raises(ValueError, match="chunk_size=4"):
        act.loss(model, config, dict(batch, action=batch["action"][:, :2]))


def test_param_groups_give_the_backbone_its_own_learning_rate(model_for):
    config, model = model_for(optimizer_lr_backbone=1e-6)
    groups = act.param_groups(model, config)
    names = {id(p): n for n, p in model.named_parameters()}
    assert all(names[id(p)].startswith("model.backbone") for p in groups[1]["params"])
    assert groups[1]["lr"] == 1e-6
    assert len(groups[0]["params"]) + len(groups[1]["params"]) == len(list(model.parameters()))


def test_optimizer_step_reduces_the_loss_on_a_fixed_batch(model_for):
    env_only = {
        "observation.environment_state": {"type": "ENV", "shape": [5]},
        "observation.state": {"type": "STATE", "shape": [3]},
    }
    config, model = model_for(
        input_features=env_only, optimizer_lr=1e-3, optimizer_lr_backbone=1e-4, dropout=0.0
    )
    model.train()
    optimizer = train.make_optimizer(SimpleNamespace(family=act, config=config, model=model))
    assert [g["lr"] for g in optimizer.param_groups] == [1e-3, 1e-4]
    assert optimizer.param_groups[0]["weight_decay"] == config.optimizer_weight_decay
    g = torch.Generator().manual_seed(4)
    batch = {k: v for k, v in _batch().items() if k != "observation.images.top"}
    batch["observation.environment_state"] = torch.randn(3, 5, generator=g)
    losses = []
    for _ in range(5):
        loss, _ = act.loss(model, config, batch, generator=torch.Generator().manual_seed(0))
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), act.optimizer_preset(config).grad_clip_norm)
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
