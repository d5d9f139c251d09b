"""Where a training run's metrics go: `metrics.jsonl` (always), the log, a tqdm bar, and opt-in
TensorBoard and Weights & Biases. Rank 0 only; one `TrainLogger` per run, used as a context manager.

`metrics.jsonl` (in the run directory) holds one JSON object per line, appended and flushed at
every log step, a stable format a monitor can tail:

    {"step": 200, "loss": 0.51, "grad_norm": 3.2, "lr": 1e-05, "samples_per_s": 410.3,
     "data_wait_fraction": 0.04, "epoch": 1.6, "time_s": 12.5, "gpu_mem_gb": 3.1, ...family losses}

`loss`, `grad_norm` and the family's loss parts are means over the steps since the last line;
`gpu_mem_gb` (peak since the last line) appears on CUDA only; eval lines add `"eval": {...}`.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any, Self

METRICS_FILE = "metrics.jsonl"


class TrainLogger:
    """Writes metrics lines and drives the progress bar; closes every sink on exit."""

    def __init__(self, run_dir: Path, *, log: Any, total_steps: int, start_step: int, options: Any,
                 enabled: bool = True, config: dict[str, Any] | None = None):
        self.run_dir, self.log, self.total, self.enabled = Path(run_dir), log, total_steps, enabled
        self.options, self.config = options, config or {}
        self._bar = self._tb = self._wandb = self._file = None
        self._start = start_step

    def __enter__(self) -> Self:
        if not self.enabled:
            return self
        self._file = open(self.run_dir / METRICS_FILE, "a", encoding="utf-8")  # closed in __exit__
        if self.options.progress and sys.stderr.isatty():
            from tqdm import tqdm

            self._bar = tqdm(total=self.total, initial=self._start, desc="train", unit="step", dynamic_ncols=True)
        if self.options.tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError as err:
                raise ImportError("[log] tensorboard = true needs the tensorboard package: "
                                  "pip install 'lerobot-fn[train]'") from err
            self._tb = SummaryWriter(log_dir=str(self.run_dir / "tensorboard"), purge_step=self._start or None)
        if self.options.wandb:
            try:
                import wandb
            except ImportError as err:
                raise ImportError("[log] wandb = true needs the wandb package: pip install 'lerobot-fn[train]'") from err
            self._wandb = wandb.init(project=self.options.wandb_project, mode=self.options.wandb_mode,
                                     dir=str(self.run_dir), config=self.config, resume="allow",
                                     id=_wandb_id(self.run_dir))
        return self

    def step(self, step: int) -> None:
        """Advance the bar by one step (cheap: no device sync)."""
        if self._bar is not None:
            self._bar.update(1)

    def write(self, record: dict[str, Any]) -> None:
        """One log step: a metrics.jsonl line, a log line, the bar's postfix, TensorBoard, W&B."""
        if not self.enabled:
            return
        self._file.write(json.dumps(record, allow_nan=True) + "\n")
        self._file.flush()
        step = record["step"]
        scalars = {k: v for k, v in record.items() if isinstance(v, float | int) and k != "step"}
        if "eval" in record:
            scalars.update({f"eval/{k}": v for k, v in record["eval"].items() if isinstance(v, float | int)})
        self.log.info("step %d/%d %s", step, self.total,
                      " ".join(f"{k} {_short(v)}" for k, v in scalars.items() if k not in ("time_s",)))
        if self._bar is not None:
            self._bar.set_postfix(loss=_short(record.get("loss")), lr=_short(record.get("lr")),
                                  sps=_short(record.get("samples_per_s")), refresh=False)
        if self._tb is not None:
            for k, v in scalars.items():
                self._tb.add_scalar(k if "/" in k else f"train/{k}", v, step)
            self._tb.flush()
        if self._wandb is not None:
            self._wandb.log(scalars, step=step)

    def __exit__(self, *exc) -> None:
        for closer in (self._bar and self._bar.close, self._tb and self._tb.close,
                       self._wandb and self._wandb.finish, self._file and self._file.close):
            if closer:
                closer()


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}" if math.isfinite(value) else str(value)
    return str(value)


def _wandb_id(run_dir: Path) -> str:
    """A stable W&B run id per run directory, so --resume continues the same W&B run."""
    import hashlib

    return hashlib.sha1(str(Path(run_dir).resolve()).encode()).hexdigest()[:16]


def read_metrics(run_dir: Path) -> list[dict[str, Any]]:
    """Every line of a run's metrics.jsonl (a torn last line from a kill is skipped)."""
    path = Path(run_dir) / METRICS_FILE
    lines = []
    for text in path.read_text(encoding="utf-8").splitlines() if path.is_file() else ():
        try:
            lines.append(json.loads(text))
        except json.JSONDecodeError:
            continue
    return lines


def truncate_metrics(run_dir: Path, step: int) -> None:
    """Drop lines after `step` (logged after the checkpoint a resumed run continues from), atomically."""
    path = Path(run_dir) / METRICS_FILE
    if not path.is_file():
        return
    kept = [r for r in read_metrics(run_dir) if r.get("step", 0) <= step]
    from lerobot_fn.data.atomic import write_bytes

    write_bytes(path, "".join(json.dumps(r) + "\n" for r in kept).encode("utf-8"))
