"""The `train` job: a TrainSpec -> dataset, policy, `train.init`, the loop of `train.step`, checkpoints.

What `lerobot-train` does, with: LeRobot's checkpoint layout written atomically, `--resume RUN_DIR`
continuing bit for bit (data order, dropout, noise and augmentation generators restored), DDP under
`torchrun` (rank 0 alone writes), and metrics in `metrics.jsonl`. SIGINT / SIGTERM stop it between
two steps' operations: loader workers are shut down and a half-written checkpoint is removed (the
CLI turns them into exit 130 / 143).
"""

from __future__ import annotations

import contextlib
import functools
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import torch

from lerobot_fn import data, policies
from lerobot_fn import train as core
from lerobot_fn.jobs import train_checkpoint as ckpt
from lerobot_fn.jobs.train_log import TrainLogger, truncate_metrics
from lerobot_fn.policies.api import untrained_model
from lerobot_fn.policies.family import OptimizerPreset, SchedulerPreset
from lerobot_fn.policies.registry import family as policy_family
from lerobot_fn.specs import JobError, RunContext, SpecError, SpecIssue, unstructure
from lerobot_fn.specs.train import TrainSpec


@attrs.frozen
class Processes:
    """This process's place in a (torchrun) group: rank, world size, device."""

    rank: int
    world_size: int
    device: torch.device

    @property
    def main(self) -> bool:
        return self.rank == 0


def resolve_device(name: str, local_rank: int = 0) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(name)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise JobError(f'train.device = "{name}" but CUDA is not available here; set train.device = "cpu"')
        if device.index is None:
            device = torch.device("cuda", local_rank)
    return device


@contextlib.contextmanager
def processes(device_name: str) -> Iterator[Processes]:
    """One process, or the torchrun group (WORLD_SIZE > 1): NCCL on GPUs, gloo on CPU; torn down on exit."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = resolve_device(device_name, local_rank)
    if world == 1:
        yield Processes(0, 1, device)
        return
    import torch.distributed as dist

    if device.type == "cuda":
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    try:
        yield Processes(dist.get_rank(), world, device)
    finally:
        dist.destroy_process_group()


def _spec_error(ctx: RunContext, key: str, message: str) -> SpecError:
    return SpecError(str(ctx.out_dir / "spec.toml"), [SpecIssue(key, message)])


def dataset_root(spec: TrainSpec, ctx: RunContext) -> Path:
    """The local dataset directory: `dataset.root` when it holds a dataset, else `dataset.repo_id` fetched."""
    options = spec.dataset
    local = data.sample.resolve_source(options.root) if options.root else ""
    if local and (Path(local) / "meta" / "info.json").is_file():
        return Path(local)
    if options.repo_id:
        return data.download(options.repo_id, root=options.root or None, revision=options.revision or None)
    if options.root:
        raise JobError(f"dataset.root {options.root!r} holds no LeRobotDataset (no meta/info.json there) "
                       "and no dataset.repo_id is set to fetch")
    raise _spec_error(ctx, "dataset", "set dataset.root (a local dataset) or dataset.repo_id (a Hub id)")


def _overrides(raw: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if v == "" else v) for k, v in raw.items()}


def make_config(spec: TrainSpec, meta: data.DatasetMeta, ctx: RunContext, pretrained: Any = None) -> Any:
    """The policy config: the pretrained one, or a new `policy.type` for the dataset's features, with overrides."""
    if pretrained is not None:
        base, family = pretrained.config.to_dict(), pretrained.family
    else:
        if not spec.policy.type:
            raise _spec_error(ctx, "policy", 'set policy.type ("act" or "diffusion") or policy.path')
        try:
            family = policy_family(spec.policy.type, source="policy.type")
        except ValueError as err:
            raise _spec_error(ctx, "policy.type", str(err).removeprefix("policy.type: ")) from None
        inputs, outputs = core.split_features(core.policy_features(meta.features))
        try:
            base = family.Config(input_features=inputs, output_features=outputs).to_dict()
        except ValueError as err:
            raise JobError(f"{meta.root}: this dataset does not fit a {spec.policy.type} policy: {err}") from err
    try:
        return family.Config.from_dict({**base, **_overrides(spec.policy.overrides)})
    except (TypeError, ValueError) as err:
        raise _spec_error(ctx, "policy.overrides", str(err)) from None


def _check_features(config: Any, meta: data.DatasetMeta, path: str) -> None:
    if missing := sorted((set(config.input_features) | set(config.output_features)) - set(meta.features)):
        raise JobError(f"policy {path} needs features {missing} that dataset {meta.root} does not have "
                       f"(it has {sorted(meta.features)})")


def optim_spec(spec: TrainSpec, policy: Any) -> core.OptimSpec:
    """The family's presets with the spec's `[optimizer]` / `[scheduler]` / clip values laid over them."""
    o, s = spec.optimizer, spec.scheduler
    preset: OptimizerPreset = policy.family.optimizer_preset(policy.config)
    changes = {k: v for k, v in {"type": o.type, "lr": o.lr, "eps": o.eps}.items() if v}
    if o.betas:
        changes["betas"] = tuple(o.betas)
    if o.weight_decay >= 0:
        changes["weight_decay"] = o.weight_decay
    schedule: SchedulerPreset | None = policy.family.scheduler_preset(policy.config)
    if s.name and s.name != "none":
        schedule = SchedulerPreset(s.name, num_warmup_steps=max(s.num_warmup_steps, 0))
    elif schedule is not None and s.num_warmup_steps >= 0:
        schedule = attrs.evolve(schedule, num_warmup_steps=s.num_warmup_steps)
    clip = None if spec.train.grad_clip_norm < 0 else spec.train.grad_clip_norm
    return core.OptimSpec(total_steps=spec.train.steps, optimizer=attrs.evolve(preset, **changes),
                           scheduler=schedule, use_scheduler=s.name != "none", grad_clip_norm=clip)


def _image_transforms(spec: TrainSpec):
    options = spec.dataset.image_transforms
    if not options.enable:
        return None
    from lerobot_fn.data import ImageTransformsConfig, random_transform

    config = ImageTransformsConfig(max_num_transforms=options.max_num_transforms, random_order=options.random_order)
    return functools.partial(_augment_one, transform=random_transform, config=config)


def _augment_one(image: torch.Tensor, generator: torch.Generator, *, transform, config) -> torch.Tensor:
    return transform(image, config, generator)


def _load_policy(spec: TrainSpec, meta: data.DatasetMeta, ctx: RunContext, device: torch.device, seed: int):
    """A new policy (weights from `seed`) or the pretrained one re-normalised with this dataset's statistics."""
    pretrained = None
    if spec.policy.path:
        try:
            pretrained = policies.load(spec.policy.path, device=device)
        except (FileNotFoundError, NotADirectoryError, ValueError) as err:
            raise JobError(f"policy.path: {err}") from err
    config = make_config(spec, meta, ctx, pretrained)
    _check_features(config, meta, spec.policy.path or spec.policy.type)
    torch.manual_seed(seed)
    model = None
    if pretrained is not None:
        model = pretrained.model
        if config != pretrained.config:  # overrides that change the architecture fail here, clearly
            model = config_model(config, pretrained)
    try:
        return policies.from_config(config, stats=meta.stats, device=device, model=model)
    except FileNotFoundError as err:  # backbone weights not on this machine
        raise JobError(f"{err} (in the spec: policy.overrides.pretrained_backbone_weights)") from err


def config_model(config: Any, pretrained: Any) -> torch.nn.Module:
    model = untrained_model(pretrained.family, config)
    try:
        model.load_state_dict(pretrained.model.state_dict(), strict=True)
    except RuntimeError as err:
        raise JobError(f"policy.overrides change the architecture of the pretrained policy: {err}") from err
    return model.to(pretrained.device)


def train(spec: TrainSpec, ctx: RunContext) -> dict[str, Any] | None:
    """Run the training described by `spec` in `ctx.out_dir`; returns a summary (rank 0)."""
    with processes(spec.train.device) as group, cuda_settings(group.device, spec.train.tf32):
        return _train(spec, ctx, group)


@contextlib.contextmanager
def cuda_settings(device: torch.device, tf32: bool) -> Iterator[None]:
    """lerobot-train's CUDA settings (TF32 matmuls, cuDNN picking the fastest convolution algorithm
    by timing) for the run, restored afterwards (a notebook's later cells keep theirs)."""
    if device.type != "cuda" or not tf32:
        yield
        return
    before = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.benchmark
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.benchmark = True, True
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.benchmark = before


def _train(spec: TrainSpec, ctx: RunContext, group: Processes) -> dict[str, Any] | None:
    opts, log = spec.train, ctx.log
    run_dir = ctx.out_dir
    if group.main:
        for path in ckpt.remove_partial(run_dir):
            log.warning("removed %s, a checkpoint a killed run had not finished writing", path)
    resume_from = ckpt.last_checkpoint(run_dir) if ctx.resume else None
    if ctx.resume and resume_from is None and group.main:
        log.warning("--resume: %s has no checkpoint yet; starting from step 0", run_dir)

    root = dataset_root(spec, ctx)
    meta = data.DatasetMeta.load(root)
    if resume_from is not None:
        policy = policies.load(resume_from / ckpt.PRETRAINED_MODEL_DIR, device=group.device)
    else:
        policy = _load_policy(spec, meta, ctx, group.device, opts.seed)
    if opts.eval_every:
        _check_eval_env(spec, policy.config, ctx)
    generator = torch.Generator().manual_seed(opts.seed + group.rank)
    state = core.init(policy, optim_spec(spec, policy), generator, grad_accumulation=opts.grad_accumulation,
                       mixed_precision=opts.mixed_precision, compile=opts.compile,
                       compile_mode=opts.compile_mode if opts.compile_mode not in ("", "default") else None, ema_decay=opts.ema or None,
                       image_transforms=_image_transforms(spec), distributed=group.world_size > 1)
    if resume_from is not None:
        state = _restore(state, resume_from, group, opts.batch_size, log)

    dataset = data.open(root, delta_timestamps=core.delta_timestamps(policy.config, meta.fps),
                        episodes=spec.dataset.episodes or None, return_uint8=True)  # float on the device
    frames = data.EpisodeAwareSampler(dataset, drop_n_last_frames=getattr(policy.config, "drop_n_last_frames", 0))
    try:
        order = core.BatchOrder(frames.indices, opts.batch_size, seed=opts.seed, start_step=state.step,
                                 rank=group.rank, world_size=group.world_size)
    except ValueError as err:
        raise JobError(f"dataset {root}: {err}") from None
    if group.main:
        log.info("training %s (%d parameters) on %s: %d usable frames in %d episodes, batch %d x %d process(es), "
                 "steps %d -> %d, device %s", policy.type, sum(p.numel() for p in policy.model.parameters()),
                 root, len(frames.indices), len(spec.dataset.episodes) or meta.total_episodes, opts.batch_size, group.world_size, state.step, opts.steps, group.device)
        truncate_metrics(run_dir, state.step)
    if state.step >= opts.steps:
        log.info("already at step %d of %d: nothing to train (raise train.steps to continue)", state.step, opts.steps)
        return _summary(run_dir, state, None) if group.main else None

    loader = data.loader(dataset, batch_size=opts.batch_size, sampler=order, num_workers=opts.num_workers,
                         drop_last=True, pin_memory=group.device.type == "cuda",
                         generator=torch.Generator().manual_seed(opts.seed))
    train_config = {"job": "train", "spec": unstructure(spec), "world_size": group.world_size}
    with TrainLogger(run_dir, log=log, total_steps=opts.steps, start_step=state.step, options=spec.log,
                     enabled=group.main, config=train_config) as logger:
        state, last = _loop(state, loader, spec, group, logger, train_config)
    return _summary(run_dir, state, last) if group.main else None


def _restore(state: core.TrainState, checkpoint: Path, group: Processes, batch_size: int, log) -> core.TrainState:
    saved = ckpt.load_training_state(checkpoint, rank=group.rank)
    if (saved["num_processes"], saved["batch_size"]) != (group.world_size, batch_size) and group.main:
        log.warning("resuming with %d process(es) x batch %d where the checkpoint had %s x %s: the data order "
                    "continues but differs from an uninterrupted run", group.world_size, batch_size,
                    saved["num_processes"], saved["batch_size"])
    if saved["raw_model"] is not None:  # EMA runs keep the raw weights in training_state/
        state.policy.model.load_state_dict(saved["raw_model"])
    state = core.checkpoint.restore(state, saved)
    if group.main:
        log.info("resumed from %s at step %d", checkpoint, state.step)
    return state


def _loop(state, loader, spec: TrainSpec, group: Processes, logger: TrainLogger, train_config):
    opts = spec.train
    batches = iter(loader)
    last_checkpoint = None
    window = _Window(state.step)
    try:
        while state.step < opts.steps:
            waited = time.perf_counter()
            batch = core.to_device(next(batches), group.device, state.policy.config.image_features)
            window.wait += time.perf_counter() - waited
            state, metrics = core.step(state, batch)
            window.add(metrics)
            logger.step(state.step)
            final = state.step == opts.steps
            if state.step % opts.log_every == 0 or final:
                logger.write(
                    window.record(state.step, metrics["lr"], opts.batch_size * group.world_size, group.device)
                )
            if final or (opts.save_every and state.step % opts.save_every == 0):
                last_checkpoint = _save(state, spec, group, train_config, logger)
            if opts.eval_every and (final or state.step % opts.eval_every == 0) and group.main:
                logger.write({"step": state.step, "eval": _evaluate(state, spec, logger.run_dir, logger.log)})
    finally:
        shutdown = getattr(batches, "_shutdown_workers", None)
        if shutdown is not None:
            shutdown()  # worker processes gone on every exit path (Ctrl-C included)
    return state, last_checkpoint


def _save(state, spec: TrainSpec, group: Processes, train_config, logger) -> Path | None:
    rngs = [core.checkpoint.rng_state(state)]
    if group.world_size > 1:
        import torch.distributed as dist

        rngs = [None] * group.world_size
        dist.all_gather_object(rngs, core.checkpoint.rng_state(state))
    if not group.main:
        return None
    path = ckpt.save(logger.run_dir, state, total_steps=spec.train.steps, train_config=train_config,
                     rng_by_rank=rngs, num_processes=group.world_size, batch_size=spec.train.batch_size)
    logger.log.info("saved checkpoint %s", path)
    return path


def _check_eval_env(spec: TrainSpec, config: Any, ctx: RunContext) -> None:
    """Before training: the [eval] env must give every observation the policy reads."""
    from lerobot_fn import envs

    env = envs.config_from_table(spec.eval.env, str(ctx.out_dir / "spec.toml"), "eval.env")
    provided = {key.feature for key in env.observation_keys()}
    if missing := sorted(set(config.input_features) - provided):
        raise _spec_error(ctx, "eval.env", f"the {env.type} env gives {sorted(provided)}, not {missing} that "
                                           "the policy reads (choose its obs_type in [eval.env.options], or "
                                           "the policy's input_features)")


def _evaluate(state, spec: TrainSpec, run_dir: Path, log) -> dict[str, Any]:
    """`envs.evaluate` of the policy being trained (the EMA weights when on); its overall results."""
    from lerobot_fn import envs

    policy = ckpt.with_weights(state.policy, state.ema) if state.ema is not None else state.policy
    options = spec.eval
    env = envs.config_from_table(options.env, "spec.toml", "eval.env")  # checked before training began
    info = envs.evaluate(policy, env, n_episodes=options.n_episodes, batch_size=options.batch_size,
                         seed=options.seed, output_dir=run_dir / "eval" / f"{state.step:06d}", max_episodes_rendered=0,
                         device=str(policy.device), log=log.info)
    state.policy.model.train()
    return info["overall"]


@attrs.define
class _Window:
    """The steps since the last log line: summed metrics (on the device: no sync until the line is
    written), samples/s and the fraction of time spent waiting for data."""

    step: int
    start: float = attrs.field(factory=time.perf_counter)
    wait: float = 0.0
    began: float = attrs.field(factory=time.perf_counter)
    sums: dict[str, torch.Tensor] = attrs.field(factory=dict)

    def add(self, metrics: dict[str, Any]) -> None:
        for k, v in metrics.items():
            if isinstance(v, torch.Tensor):
                self.sums[k] = self.sums[k] + v if k in self.sums else v.clone()

    def record(self, step: int, lr: float, global_batch: int, device: torch.device) -> dict[str, Any]:
        steps = step - self.step
        values = {k: float(v) / steps for k, v in self.sums.items()}  # the one device sync per log step
        now = time.perf_counter()
        elapsed = max(now - self.start, 1e-9)
        record = {
            "step": step,
            "loss": values.pop("loss"),
            "grad_norm": values.pop("grad_norm"),
            "lr": lr,
            "samples_per_s": steps * global_batch / elapsed,
            "data_wait_fraction": min(1.0, self.wait / elapsed),
            "time_s": now - self.began,
            **values,
        }
        if device.type == "cuda":
            record["gpu_mem_gb"] = torch.cuda.max_memory_allocated(device) / 1e9
            torch.cuda.reset_peak_memory_stats(device)
        self.step, self.start, self.wait, self.sums = step, now, 0.0, {}
        return record


def _summary(run_dir: Path, state: core.TrainState, last: Path | None) -> dict[str, Any]:
    checkpoint = last or ckpt.last_checkpoint(run_dir)
    return {"step": state.step, "policy": state.policy.type,
            "checkpoint": str(checkpoint / ckpt.PRETRAINED_MODEL_DIR) if checkpoint else None,
            "metrics": str(run_dir / "metrics.jsonl")}
