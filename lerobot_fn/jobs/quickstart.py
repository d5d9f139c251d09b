"""The `quickstart` job: every stage of the library once, offline, on a synthetic task.

record (write a dataset) -> read it back -> train a small policy -> save it in LeRobot's format ->
load it again and predict an action chunk.
"""

from __future__ import annotations

import torch

from lerobot_fn import data, policies, train
from lerobot_fn.data.synthetic import sample_episode, sample_features
from lerobot_fn.policies.registry import family as policy_family
from lerobot_fn.specs import RunContext
from lerobot_fn.specs.quickstart import QuickstartSpec, QuickTrain


def _small_config(options: QuickTrain, meta: data.DatasetMeta):
    """A small ACT or Diffusion config for the dataset's features (CPU-friendly sizes)."""
    inputs, outputs = train.split_features(train.policy_features(meta.features))
    family = policy_family(options.policy)
    common = {"input_features": inputs, "output_features": outputs, "device": "cpu"}
    if options.policy == "act":
        return family.Config(
            **common, chunk_size=options.chunk_size, n_action_steps=options.chunk_size, dim_model=64,
            n_heads=4, dim_feedforward=128, n_encoder_layers=2, n_decoder_layers=1, latent_dim=8,
            n_vae_encoder_layers=2, pretrained_backbone_weights=None,
        )
    horizon = max(4, options.chunk_size - options.chunk_size % 4)
    return family.Config(
        **common, horizon=horizon, n_action_steps=min(horizon - 1, 4), down_dims=(16, 32),
        num_inference_steps=5, num_train_timesteps=10, crop_shape=None, pretrained_backbone_weights=None,
        use_group_norm=True, diffusion_step_embed_dim=32, spatial_softmax_num_keypoints=8,
    )


def quickstart(spec: QuickstartSpec, ctx: RunContext) -> dict:
    torch.manual_seed(ctx.seed)
    generator = torch.Generator().manual_seed(ctx.seed)
    opts = spec.dataset
    height, width = opts.image_size
    root = ctx.out_dir / "dataset"

    if ctx.resume and (root / "meta" / "info.json").is_file():
        writer = data.resume(root)  # `lerobot-run --resume`: keep the saved episodes, record the rest
    else:
        features = sample_features(height, width, use_videos=opts.use_videos)
        writer = data.create(root, fps=opts.fps, features=features, robot_type="synthetic",
                             use_videos=opts.use_videos)
    with writer:
        missing = opts.episodes - writer.total_episodes
        ctx.log.info("recording %d synthetic episodes into %s", missing, root)
        for _ in ctx.progress(range(missing), desc="record"):
            for frame in sample_episode(generator, frames=opts.frames_per_episode, height=height, width=width):
                writer.add_frame(frame)
            writer.save_episode()

    meta = data.DatasetMeta.load(root)
    config = _small_config(spec.train, meta)
    deltas = train.delta_timestamps(config, meta.fps)
    dataset = data.open(root, delta_timestamps=deltas)
    ctx.log.info("read back %d frames in %d episodes at %d fps; features: %s",
                 len(dataset), meta.total_episodes, meta.fps, ", ".join(meta.features))

    policy = policies.from_config(config, stats=meta.stats, device=spec.run.device)
    optimizer = train.make_optimizer(policy, lr=spec.train.learning_rate)
    batches = data.loader(dataset, batch_size=spec.train.batch_size, shuffle=True, drop_last=True,
                          generator=torch.Generator().manual_seed(ctx.seed))
    losses = []
    step = 0
    while step < spec.train.steps:
        for batch in batches:
            metrics = train.train_step(policy, optimizer, batch, generator=generator)
            losses.append(metrics["loss"])
            step += 1
            if step % max(1, spec.train.steps // 5) == 0 or step == spec.train.steps:
                ctx.log.info("train step %d/%d loss %.4f", step, spec.train.steps, metrics["loss"])
            if step == spec.train.steps:
                break

    checkpoint = policies.save(policy, ctx.out_dir / "checkpoints" / "last" / "pretrained_model")
    reloaded = policies.load(checkpoint, device=spec.run.device)
    observation = dataset[0].select("observation").unsqueeze(0)  # a batch of one
    chunk = policies.predict_chunk(reloaded, observation)
    ctx.log.info("saved %s; reloaded it and predicted an action chunk of shape %s",
                 checkpoint, tuple(chunk.shape))
    return {
        "dataset": str(root.resolve()),
        "frames": len(dataset),
        "episodes": meta.total_episodes,
        "policy": spec.train.policy,
        "first_loss": losses[0],
        "last_loss": losses[-1],
        "checkpoint": str(checkpoint.resolve()),
        "action_chunk_shape": list(chunk.shape),
    }
