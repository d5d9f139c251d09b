"""Schema of the `train` job: LeRobot's `lerobot-train` options as one TOML spec.

    job = "train"
    [dataset]  repo_id = "lerobot/pusht"          # or root = "path/to/dataset"
    [policy]   type = "diffusion"                 # or path = "path/to/pretrained_model"
    [train]    steps = 200_000, batch_size = 64

Optimizer and scheduler default to the policy family's LeRobot presets; any key set in
`[optimizer]` / `[scheduler]` replaces the preset's value. TOML has no null: `""` (strings) and
`0` (numbers) mean "not set" where a doc says so.
"""

from __future__ import annotations

from typing import Any, Literal

import attrs

from .eval import EnvTable
from .paths import DATASET
from .schema import check, positive, spec_field

non_negative = check(lambda v: v >= 0, "a number >= 0")


@attrs.frozen
class ImageTransformsOptions:
    """LeRobot's image augmentation (`ImageTransformsConfig`): brightness, contrast, saturation, hue,
    sharpness, affine, at LeRobot's default ranges; applied per sample and camera at train time."""

    enable: bool = spec_field(False, doc="augment camera images while training")
    max_num_transforms: int = spec_field(3, doc="transforms applied to each image (a random subset)",
                                         validator=positive)
    random_order: bool = spec_field(False, doc="apply the chosen transforms in random order")


@attrs.frozen
class TrainDataset:
    """The training dataset: a local LeRobotDataset v3.0 directory or a Hub repo id."""

    repo_id: str = spec_field("", doc="Hub dataset id, e.g. lerobot/pusht (downloaded to root or "
                                      "$HF_LEROBOT_HOME/<repo_id>)")
    root: str = spec_field("", doc="local dataset directory; when it holds a dataset, repo_id is not fetched",
                           path=DATASET)
    revision: str = spec_field("", doc="Hub revision (branch, tag, commit); empty: the dataset's version tag")
    episodes: list[int] = spec_field(attrs.Factory(list), doc="episode indices to train on; empty: all")
    image_transforms: ImageTransformsOptions = spec_field(attrs.Factory(ImageTransformsOptions),
                                                          doc="image augmentation")


@attrs.frozen
class TrainPolicy:
    """A new policy of `type` (with `overrides` of its config), or a pretrained one to fine-tune."""

    type: str = spec_field("", doc='policy family for a new policy: "act" or "diffusion"')
    path: str = spec_field("", doc="pretrained_model/ directory or Hub id of a policy to fine-tune "
                                   "(its config; the dataset's statistics)")
    overrides: dict[str, Any] = spec_field(
        attrs.Factory(dict), doc='config fields by LeRobot\'s names, e.g. {chunk_size = 50, dim_model = 256}; '
                                 '"" sets an optional field to none (e.g. pretrained_backbone_weights = "")')


@attrs.frozen
class TrainOptimizer:
    """Replaces parts of the family's optimizer preset (ACT: AdamW lr 1e-5, weight_decay 1e-4,
    backbone lr 1e-5; Diffusion: Adam lr 1e-4, betas (0.95, 0.999), eps 1e-8, weight_decay 1e-6)."""

    type: str = spec_field("", doc='"adam" or "adamw"; empty: the preset\'s')
    lr: float = spec_field(0.0, doc="learning rate; 0: the preset's", validator=non_negative)
    betas: list[float] = spec_field(attrs.Factory(list), doc="Adam betas [b1, b2]; empty: the preset's")
    eps: float = spec_field(0.0, doc="Adam epsilon; 0: the preset's", validator=non_negative)
    weight_decay: float = spec_field(-1.0, doc="weight decay; -1: the preset's")


@attrs.frozen
class TrainScheduler:
    """Replaces the family's schedule (ACT: none; Diffusion: cosine with 500 warm-up steps), as
    diffusers' `get_scheduler` computes them."""

    name: str = spec_field("", doc='"cosine", "linear", "constant", "constant_with_warmup", or "none"; '
                                   "empty: the preset's")
    num_warmup_steps: int = spec_field(-1, doc="linear warm-up steps; -1: the preset's")


@attrs.frozen
class TrainLoop:
    """The training loop (LeRobot's `steps`, `batch_size`, `save_freq`, `log_freq`, `eval_freq`)."""

    steps: int = spec_field(100_000, doc="optimizer steps in total (on --resume: the new total)", validator=positive)
    batch_size: int = spec_field(8, doc="frames per optimizer step, per process", validator=positive)
    num_workers: int = spec_field(4, doc="data-loading worker processes (0: load in the main process)",
                                  validator=non_negative)
    device: str = spec_field("auto", doc='torch device: "auto" (cuda when available, else cpu), cpu, cuda, cuda:1, mps')
    seed: int = spec_field(1000, doc="seed of the model's initial weights, the data order, dropout, noise and augmentation")
    grad_clip_norm: float = spec_field(-1.0, doc="clip gradients to this norm; -1: the preset's (10); 0: no clipping")
    grad_accumulation: int = spec_field(1, doc="micro-batches per optimizer step (batch_size must divide by it)",
                                        validator=positive)
    mixed_precision: Literal["no", "bf16"] = spec_field("no", doc='"bf16": forward and loss under bfloat16 autocast')
    compile: bool = spec_field(False, doc="torch.compile the model's static parts (those that draw no randomness)")
    compile_mode: Literal["", "default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs"] = spec_field(
        "", doc='torch.compile mode with compile = true: "" / "default", "reduce-overhead" (CUDA graphs), "max-autotune"')
    tf32: bool = spec_field(True, doc="on CUDA: TF32 matmuls and cuDNN autotuning (cudnn.benchmark), as lerobot-train sets them")
    ema: float = spec_field(0.0, doc="EMA decay of the weights (e.g. 0.999; 0: off); checkpoints then hold the "
                                     "EMA weights in pretrained_model/", validator=check(lambda v: 0 <= v < 1, "0 <= ema < 1"))
    save_every: int = spec_field(20_000, doc="checkpoint every N steps (and always after the last); 0: only the last",
                                 validator=non_negative)
    log_every: int = spec_field(200, doc="a metrics.jsonl line and log line every N steps", validator=positive)
    eval_every: int = spec_field(0, doc="evaluate in simulation ([eval]) every N steps and after the last; 0: off",
                                 validator=non_negative)


@attrs.frozen
class TrainEval:
    """Evaluation during training (`train.eval_every`), as the `eval` job runs it; results go to
    metrics.jsonl ("eval") and <run dir>/eval/<step>/eval_info.json."""

    env: EnvTable = spec_field(attrs.Factory(EnvTable), doc="the benchmark (as the eval job's [env])")
    n_episodes: int = spec_field(10, doc="episodes per task at each evaluation", validator=positive)
    batch_size: int = spec_field(0, doc="parallel envs (0: auto)", validator=non_negative)
    seed: int = spec_field(1000, doc="episode i uses seed + i")


@attrs.frozen
class TrainLog:
    """Where metrics go besides `metrics.jsonl` and the log."""

    tensorboard: bool = spec_field(False, doc="write TensorBoard events to <run dir>/tensorboard")
    wandb: bool = spec_field(False, doc="log to Weights & Biases")
    wandb_project: str = spec_field("lerobot-fn", doc="W&B project")
    wandb_mode: Literal["offline", "online"] = spec_field(
        "offline", doc='"offline" writes <run dir>/wandb without network (wandb sync later); "online" uploads')
    progress: bool = spec_field(True, doc="tqdm progress bar on a terminal (step, loss, lr, samples/s, ETA)")


@attrs.frozen
class TrainRun:
    """The run directory (checkpoints/, metrics.jsonl, log.txt, spec.toml, run.json)."""

    output_dir: str | None = spec_field(
        None, doc="run directory; default outputs/train/<YYYY-MM-DD_HH-MM-SS> under the working directory")


@attrs.frozen
class TrainSpec:
    """Train an ACT or Diffusion policy on a LeRobotDataset, with checkpoints in LeRobot's layout
    (checkpoints/<step>/pretrained_model + training_state, checkpoints/last), exact --resume, and DDP under
    torchrun."""

    dataset: TrainDataset = spec_field(attrs.Factory(TrainDataset), doc="the training dataset")
    policy: TrainPolicy = spec_field(attrs.Factory(TrainPolicy), doc="the policy to train")
    optimizer: TrainOptimizer = spec_field(attrs.Factory(TrainOptimizer), doc="optimizer (family preset by default)")
    scheduler: TrainScheduler = spec_field(attrs.Factory(TrainScheduler), doc="learning-rate schedule (family preset by default)")
    train: TrainLoop = spec_field(attrs.Factory(TrainLoop), doc="the training loop")
    eval: TrainEval = spec_field(attrs.Factory(TrainEval), doc="evaluation during training (train.eval_every)")
    log: TrainLog = spec_field(attrs.Factory(TrainLog), doc="metrics outputs")
    run: TrainRun = spec_field(attrs.Factory(TrainRun), doc="run directory")
