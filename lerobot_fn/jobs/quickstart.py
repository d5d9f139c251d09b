"""The `quickstart` job: record -> train -> evaluate, the whole loop once, offline.

A scripted expert (Meta-World's) records demonstrations in simulation through the dataset writer
(LeRobotDataset v3.0); a small ACT policy is trained on them with `train.init` / `train.step`,
saved in LeRobot's checkpoint layout, and evaluated in the same env next to a random policy on the
same seeds.
"""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

import torch

from lerobot_fn import data, envs, policies, train
from lerobot_fn.envs.experts import MetaworldExpert
from lerobot_fn.envs.rollout import rollout
from lerobot_fn.policies.family import OptimizerPreset
from lerobot_fn.policies.registry import family as policy_family
from lerobot_fn.specs import JobError, RunContext
from lerobot_fn.specs.quickstart import QuickstartSpec, QuickTrain

DEMO_SEED = 0  # demonstrations use seeds 0, 1, ...; evaluations start at the run seed + 1000


def dataset_features(config: envs.EnvConfig) -> dict[str, dict]:
    """LeRobot-form features of the demonstrations: the env's observations, action, reward, success."""
    features: dict[str, dict] = {}
    for key in config.observation_keys():
        features[key.feature] = {"dtype": "float32", "shape": list(key.shape), "names": None}
    features["action"] = {"dtype": "float32", "shape": list(config.action_shape), "names": None}
    features["next.reward"] = {"dtype": "float32", "shape": [1], "names": None}
    features["next.success"] = {"dtype": "bool", "shape": [1], "names": None}
    return features


def record_demos(config: envs.EnvConfig, task: envs.Task, root: Path, episodes: int, ctx: RunContext) -> Path:
    """Run the expert until `episodes` successful episodes are saved (failed ones are dropped)."""
    num_envs = envs.auto_num_envs(episodes)
    expert = MetaworldExpert(task.name)
    if ctx.resume and (root / "meta" / "info.json").is_file():
        writer = data.resume(root)  # `lerobot-run --resume`: keep the saved episodes, record the rest
    else:
        writer = data.create(root, fps=config.fps, features=dataset_features(config), robot_type="sawyer",
                             use_videos=False)
    seed = DEMO_SEED + writer.total_episodes
    with writer, closing(envs.make_env(config, task, num_envs)) as env:
        bar = ctx.progress(range(episodes), desc="record", total=episodes)
        while writer.total_episodes < episodes:
            seeds = list(range(seed, seed + num_envs))
            seed += num_envs
            frames: list[list[dict]] = [[] for _ in seeds]

            def keep(obs, action, nxt, alive, frames=frames):
                for i in alive.nonzero().flatten().tolist():
                    frame = {k.feature: obs.get(k.key)[i] for k in config.observation_keys()}
                    frames[i].append({**frame, "action": action[i], "next.reward": nxt["reward"][i],
                                      "next.success": nxt["success"][i], "task": task.description})

            results, _ = rollout(env, expert, seeds, task=task.description, max_steps=config.episode_length,
                                 on_step=keep)
            for result, episode in zip(results, frames, strict=True):
                if result.success and writer.total_episodes < episodes:
                    for frame in episode:
                        writer.add_frame(frame)
                    writer.save_episode()
                    next(bar, None)
    return root


def small_act(options: QuickTrain, meta: data.DatasetMeta):
    """A CPU-sized ACT for the demonstrations' features (no images: no backbone)."""
    inputs, outputs = train.split_features(train.policy_features(meta.features))
    inputs = {k: f for k, f in inputs.items() if k.startswith("observation.")}
    return policy_family("act").Config(
        input_features=inputs, output_features=outputs, device="cpu", chunk_size=options.chunk_size,
        n_action_steps=options.n_action_steps, dim_model=64, n_heads=4, dim_feedforward=256,
        n_encoder_layers=2, n_decoder_layers=1, use_vae=False, dropout=0.0, pretrained_backbone_weights=None,
    )


def train_policy(spec: QuickstartSpec, root: Path, ctx: RunContext):
    meta = data.DatasetMeta.load(root)
    config = small_act(spec.train, meta)
    dataset = data.open(root, delta_timestamps=train.delta_timestamps(config, meta.fps))
    ctx.log.info("read back %d frames in %d episodes at %d fps; features: %s",
                 len(dataset), meta.total_episodes, meta.fps, ", ".join(meta.features))
    policy = policies.from_config(config, stats=meta.stats, device=spec.run.device)
    preset = OptimizerPreset("adamw", lr=spec.train.learning_rate, weight_decay=1e-4)
    state = train.init(policy, train.OptimSpec(total_steps=spec.train.steps, optimizer=preset, use_scheduler=False),
                       torch.Generator().manual_seed(ctx.seed))
    batches = data.loader(dataset, batch_size=spec.train.batch_size, shuffle=True, drop_last=True,
                          generator=torch.Generator().manual_seed(ctx.seed))
    losses: list[float] = []
    report = max(1, spec.train.steps // 10)
    while state.step < spec.train.steps:
        for batch in batches:
            state, metrics = train.step(state, batch)
            losses.append(float(metrics["loss"]))
            if state.step % report == 0 or state.step == spec.train.steps:
                ctx.log.info("train step %d/%d loss %.4f", state.step, spec.train.steps, losses[-1])
            if state.step == spec.train.steps:
                break
    checkpoint = policies.save(state.policy, ctx.out_dir / "checkpoints" / "last" / "pretrained_model")
    return checkpoint, losses


def quickstart(spec: QuickstartSpec, ctx: RunContext) -> dict:
    torch.manual_seed(ctx.seed)
    config = envs.config_from_table(spec.env, str(ctx.out_dir / "spec.toml"))
    task = config.tasks()[0]
    root = ctx.out_dir / "dataset"
    try:
        ctx.log.info("recording %d expert demonstrations of %s (%s) into %s", spec.demos.episodes,
                     task.name, task.description, root)
        record_demos(config, task, root, spec.demos.episodes, ctx)
    except envs.MissingExtraError as err:
        raise JobError(f"the quickstart's simulator is missing: {err} (`make quickstart` installs it)") from err
    checkpoint, losses = train_policy(spec, root, ctx)
    ctx.log.info("saved the trained policy to %s", checkpoint)

    rendered = spec.eval.max_episodes_rendered if _can_render(config, ctx) else 0
    results = {}
    for name, policy in (("trained", checkpoint), ("random", "random")):
        info = envs.evaluate(policy, config, n_episodes=spec.eval.n_episodes, batch_size=spec.eval.batch_size,
                             seed=ctx.seed + 1000, output_dir=ctx.out_dir / "eval" / name,
                             max_episodes_rendered=rendered, device=spec.run.device, tasks=[task])
        results[name] = info["overall"]
    trained, random = results["trained"], results["random"]
    summary = (f"success rate on {task.name} over {spec.eval.n_episodes} episodes (same seeds): "
               f"trained ACT {trained['pc_success']:.0f}%  vs  random {random['pc_success']:.0f}%")
    ctx.log.info(summary)
    for name in ("trained", "random"):
        for path in results[name]["video_paths"]:
            ctx.log.info("video (%s): %s", name, path)
    ctx.log.info("eval_info.json: %s; explore it in the notebooks (docs/notebooks.md)",
                 ctx.out_dir / "eval" / "trained" / "eval_info.json")
    return {
        "dataset": str(root.resolve()),
        "episodes": data.DatasetMeta.load(root).total_episodes,
        "first_loss": losses[0],
        "last_loss": losses[-1],
        "checkpoint": str(checkpoint.resolve()),
        "trained_pc_success": trained["pc_success"],
        "random_pc_success": random["pc_success"],
        "trained_avg_max_reward": trained["avg_max_reward"],
        "random_avg_max_reward": random["avg_max_reward"],
        "eval_info": {n: str((ctx.out_dir / "eval" / n / "eval_info.json").resolve()) for n in results},
        "videos": {n: results[n]["video_paths"] for n in results},
    }


def _can_render(config: envs.EnvConfig, ctx: RunContext) -> bool:
    """Videos need headless OpenGL for MuJoCo benchmarks; without it the quickstart runs on, saying why."""
    if config.type not in ("metaworld", "aloha", "libero"):
        return True
    from lerobot_fn.envs.gl import HeadlessGLError, choose_backend

    try:
        choose_backend()
    except HeadlessGLError as err:
        ctx.log.warning("no videos: %s", err)
        return False
    return True
