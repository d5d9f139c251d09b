"""`train.compile_for_training`: what is compiled, and that compiled training steps neither
recompile per step (random crops, latent draws stay eager) nor change the losses."""

from __future__ import annotations

import pytest
import torch

from lerobot_fn import data, policies, train
from lerobot_fn.policies import act, diffusion

DIFFUSION = {"n_obs_steps": 2, "horizon": 16, "n_action_steps": 8, "crop_shape": (84, 84), "down_dims": (16, 32, 64),
             "diffusion_step_embed_dim": 32, "spatial_softmax_num_keypoints": 8, "use_group_norm": True,
             "pretrained_backbone_weights": None}
ACT = {"dim_model": 32, "n_heads": 2, "dim_feedforward": 64, "n_encoder_layers": 1, "n_decoder_layers": 1,
       "n_vae_encoder_layers": 1, "latent_dim": 4, "chunk_size": 4, "n_action_steps": 4, "pretrained_backbone_weights": None}


@pytest.fixture(scope="module")
def pusht(dataset_fixtures):
    root = dataset_fixtures / "pusht_mini"
    meta = data.DatasetMeta.load(root)
    return root, meta, train.split_features(train.policy_features(meta.features))


def _policy(pusht, family, overrides):
    root, meta, (inputs, outputs) = pusht
    config = family.Config(input_features=inputs, output_features=outputs, **overrides)
    torch.manual_seed(0)
    policy = policies.from_config(config, stats=meta.stats)
    dataset = data.open(root, delta_timestamps=train.delta_timestamps(config, meta.fps), return_uint8=True)
    batches = data.loader(dataset, batch_size=4, shuffle=True, generator=torch.Generator().manual_seed(1))
    return policy, [train.to_device(b, torch.device("cpu"), config.image_features) for b, _ in zip(batches, range(2))]


def test_diffusion_compiles_its_trunk_and_unet_not_the_random_crop(pusht):
    policy, _ = _policy(pusht, diffusion, DIFFUSION)
    names = {n for n, m in policy.model.named_modules() if m in train.compile_targets(policy.model)}
    assert "diffusion.unet" in names and "diffusion.rgb_encoder.0.backbone" in names
    assert "diffusion.rgb_encoder.0" not in names  # its forward draws the crop offsets from a generator


def test_act_compiles_the_whole_network(pusht):
    policy, _ = _policy(pusht, act, ACT)
    assert train.compile_targets(policy.model) == [policy.model]


@pytest.mark.parametrize(("family", "overrides"), [(diffusion, DIFFUSION), pytest.param(act, ACT, marks=pytest.mark.slow)],
                         ids=["diffusion", "act"])
def test_compiled_steps_compile_once_and_give_the_eager_losses(pusht, family, overrides):
    graphs = []

    def counting_backend(gm, example_inputs):
        graphs.append(gm)
        return gm.forward

    losses = {}
    for compiled in (False, True):
        policy, batches = _policy(pusht, family, overrides)
        if compiled:
            train.compile_for_training(policy, backend=counting_backend)
        state = train.init(policy, train.OptimSpec(total_steps=10), torch.Generator().manual_seed(0))
        losses[compiled] = []
        for batch in batches:
            state, metrics = train.step(state, batch)
            losses[compiled].append(float(metrics["loss"]))
        after_first = len(graphs)
        if compiled:
            state, _ = train.step(state, batches[0])
            assert len(graphs) == after_first, "a later step recompiled"
    assert graphs, "nothing was compiled"
    torch.testing.assert_close(losses[True], losses[False], rtol=1e-5, atol=1e-6)
