"""Training checkpoints on disk, in LeRobot's layout, written so that a kill never leaves a bad one.

    <run>/checkpoints/000500/pretrained_model/   config.json, model.safetensors, processors, train_config.json
    <run>/checkpoints/000500/training_state/     optimizer_state.safetensors, optimizer_param_groups.json,
                                                 scheduler_state.json, rng_state.safetensors, training_step.json
    <run>/checkpoints/last -> 000500

A checkpoint is written into a hidden `.000500.tmp-<pid>` folder (every file fsynced), renamed into
place in one step, and only then does `last` move (a symlink replaced atomically). A kill -9 at
any moment leaves `last` on a complete checkpoint; the hidden folder it may leave is removed on
the next start. Ctrl-C / SIGTERM during a save removes it at once.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from lerobot_fn import policies
from lerobot_fn.data.atomic import atomic_path, fsync_dir
from lerobot_fn.train import checkpoint as state_io
from lerobot_fn.train.state import TrainState

CHECKPOINTS_DIR = "checkpoints"
LAST = "last"
PRETRAINED_MODEL_DIR = "pretrained_model"
TRAINING_STATE_DIR = "training_state"
OPTIMIZER_STATE = "optimizer_state.safetensors"
OPTIMIZER_PARAM_GROUPS = "optimizer_param_groups.json"
SCHEDULER_STATE = "scheduler_state.json"
RNG_STATE = "rng_state.safetensors"
EMA_STATE = "ema_state.safetensors"
MODEL_STATE = "model.safetensors"  # raw weights when pretrained_model/ holds the EMA's
TRAINING_STEP = "training_step.json"
TMP_MARK = ".tmp-"


def step_name(step: int, total_steps: int) -> str:
    """LeRobot's `get_step_identifier`: at least 6 digits, more when the run is longer."""
    return f"{step:0{max(6, len(str(total_steps)))}d}"


def _write_json(path: Path, value: Any) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(value, indent=4) + "\n", encoding="utf-8")


def _write_tensors(path: Path, tensors: dict[str, torch.Tensor]) -> None:
    with atomic_path(path) as tmp:
        save_file({k: v.contiguous() for k, v in tensors.items()}, str(tmp))


def save(run_dir: Path, state: TrainState, *, total_steps: int, train_config: dict[str, Any],
         rng_by_rank: list[dict[str, torch.Tensor]] | None = None, num_processes: int = 1,
         batch_size: int | None = None) -> Path:
    """Write `state` as checkpoint `<run_dir>/checkpoints/<step>` and point `last` at it."""
    root = Path(run_dir) / CHECKPOINTS_DIR
    name = step_name(state.step, total_steps)
    final = root / name
    tmp = root / f".{name}{TMP_MARK}{os.getpid()}"
    root.mkdir(parents=True, exist_ok=True)
    try:
        _write(tmp, state, train_config, rng_by_rank, num_processes, batch_size)
        if final.exists():  # saved before (a resumed run reaching the same step): replace it
            old = root / f".{name}.old{TMP_MARK}{os.getpid()}"
            os.replace(final, old)
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, final)
        fsync_dir(root)
        link = root / f".{LAST}{TMP_MARK}{os.getpid()}"
        link.unlink(missing_ok=True)
        link.symlink_to(name)
        os.replace(link, root / LAST)
        fsync_dir(root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        (root / f".{LAST}{TMP_MARK}{os.getpid()}").unlink(missing_ok=True)
        raise
    return final


def _write(directory: Path, state: TrainState, train_config: dict[str, Any], rng_by_rank, num_processes: int,
           batch_size: int | None) -> None:
    saved = state_io.training_state(state)
    pretrained = directory / PRETRAINED_MODEL_DIR
    training = directory / TRAINING_STATE_DIR
    training.mkdir(parents=True)
    policy = state.policy
    if state.ema is not None:  # pretrained_model/ gets the EMA weights, training_state/ the raw ones
        _write_tensors(training / MODEL_STATE, {k: v.detach().cpu() for k, v in policy.model.state_dict().items()})
        _write_tensors(training / EMA_STATE, saved["ema"])
        policy = with_weights(policy, state.ema)
    pretrained.mkdir(parents=True)
    _write_json(pretrained / "train_config.json", train_config)
    policies.save(policy, pretrained)  # config.json last
    flat, groups = saved["optimizer"]
    _write_tensors(training / OPTIMIZER_STATE, flat)
    _write_json(training / OPTIMIZER_PARAM_GROUPS, groups)
    if saved["scheduler"] is not None:
        _write_json(training / SCHEDULER_STATE, saved["scheduler"])
    ranks = rng_by_rank or [saved["rng"]]
    _write_tensors(training / RNG_STATE, {f"rank{r}/{k}": v for r, rng in enumerate(ranks) for k, v in rng.items()})
    _write_json(training / TRAINING_STEP, {"step": state.step, "num_processes": num_processes,
                                           "batch_size": batch_size})
    for sub in (pretrained, training, directory):
        fsync_dir(sub)


def with_weights(policy, weights: dict[str, torch.Tensor]):
    """A copy of `policy` whose model holds `weights` (the live model is left as it is)."""
    import copy

    import attrs

    model = copy.deepcopy(policy.model)
    model.load_state_dict({**model.state_dict(), **weights})
    return attrs.evolve(policy, model=model)


def remove_partial(run_dir: Path) -> list[Path]:
    """Delete hidden half-written checkpoints a killed run left (never a complete one)."""
    root = Path(run_dir) / CHECKPOINTS_DIR
    removed = []
    for path in root.glob(f".*{TMP_MARK}*") if root.is_dir() else ():
        if path.is_symlink() or path.is_file():
            path.unlink(missing_ok=True)
        else:
            shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def last_checkpoint(run_dir: Path) -> Path | None:
    """The checkpoint `last` points to, or None when the run has none."""
    link = Path(run_dir) / CHECKPOINTS_DIR / LAST
    return link.resolve() if link.exists() else None


def load_training_state(checkpoint: Path, rank: int = 0) -> dict[str, Any]:
    """`training_state/` as the values `train.checkpoint.restore` takes (this process's generators)."""
    directory = Path(checkpoint) / TRAINING_STATE_DIR
    step = json.loads((directory / TRAINING_STEP).read_text(encoding="utf-8"))
    rng_all = load_file(str(directory / RNG_STATE))
    prefix = f"rank{rank}/"
    rng = {k[len(prefix):]: v for k, v in rng_all.items() if k.startswith(prefix)}
    if not rng:
        raise ValueError(f"{directory / RNG_STATE} has no generator state for process {rank} "
                         f"(the checkpoint was written by {step.get('num_processes', 1)} process(es))")
    scheduler = directory / SCHEDULER_STATE
    ema = directory / EMA_STATE
    return {
        "optimizer": (load_file(str(directory / OPTIMIZER_STATE)),
                      json.loads((directory / OPTIMIZER_PARAM_GROUPS).read_text(encoding="utf-8"))),
        "scheduler": json.loads(scheduler.read_text(encoding="utf-8")) if scheduler.is_file() else None,
        "rng": rng,
        "ema": load_file(str(ema)) if ema.is_file() else None,
        "raw_model": load_file(str(directory / MODEL_STATE)) if (directory / MODEL_STATE).is_file() else None,
        "step": step["step"],
        "num_processes": step.get("num_processes", 1),
        "batch_size": step.get("batch_size"),
    }
