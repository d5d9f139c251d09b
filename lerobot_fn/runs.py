"""Training run directories, read for people: metrics as columns (tailed as the run writes them),
the checkpoints, the resolved spec, a summary; `start_resume` continues a run in the background
and `sample_run` generates a small finished run to look at (`generate_run`: any spec, once). `notebooks/monitor_training.py` is the
main user; the layout is the train job's (docs/training.md).
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from attrs import frozen

METRICS_FILE = "metrics.jsonl"
CHECKPOINTS_DIR = "checkpoints"
LAST = "last"
#: the curves a monitor shows first, in this order (docs/training.md, "metrics.jsonl")
TRAIN_METRICS = ("loss", "lr", "grad_norm", "samples_per_s", "data_wait_fraction")
RESUME_OUTPUT = "resume.out"


class MetricsTail:
    """Reads `metrics.jsonl` incrementally: each `read()` parses only the lines appended since the
    last call and returns every record so far. A torn last line (a line still being written, or
    cut by a kill) waits for its newline; a file that shrank (a resumed run drops the lines after
    its checkpoint) is read again from the start."""

    def __init__(self, run_dir: str | os.PathLike):
        self.path = Path(run_dir) / METRICS_FILE
        self.records: list[dict[str, Any]] = []
        self._offset = 0

    def read(self) -> list[dict[str, Any]]:
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            self.records, self._offset = [], 0
            return self.records
        if size < self._offset:
            self.records, self._offset = [], 0
        with self.path.open("rb") as f:
            f.seek(self._offset)
            chunk = f.read()
        end = chunk.rfind(b"\n") + 1  # complete lines only
        for line in chunk[:end].splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line torn by a kill and then appended to: skipped, as read_metrics does
            if isinstance(record, dict) and "step" in record:
                self.records.append(record)
        self._offset += end
        return self.records


def _number(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else math.nan


def metric_columns(records: Sequence[dict[str, Any]]) -> dict[str, np.ndarray]:
    """{"step": (N,), key: (N,) float with NaN where a line lacks it} for every numeric key of the
    records (`eval` excluded), `TRAIN_METRICS` first."""
    keys = [k for k in TRAIN_METRICS if any(k in r for r in records)]
    for r in records:
        keys += [k for k, v in r.items() if k not in keys and k != "step" and isinstance(v, (int, float))]
    out = {"step": np.array([int(r["step"]) for r in records], dtype=np.int64)}
    for k in keys:
        out[k] = np.array([_number(r.get(k)) for r in records], dtype=np.float64)
    return out


def eval_columns(records: Sequence[dict[str, Any]]) -> dict[str, np.ndarray]:
    """The evaluation lines (those with an `eval` table): {"step": (M,), key: (M,)} for each numeric
    key of `eval` (e.g. LeRobot's `pc_success`, `avg_sum_reward`); empty when no eval ran."""
    lines = [r for r in records if isinstance(r.get("eval"), dict)]
    if not lines:
        return {}
    keys: list[str] = []
    for r in lines:
        keys += [k for k, v in r["eval"].items() if k not in keys and isinstance(v, (int, float))]
    out = {"step": np.array([int(r["step"]) for r in lines], dtype=np.int64)}
    for k in keys:
        out[k] = np.array([_number(r["eval"].get(k)) for r in lines], dtype=np.float64)
    return out


def train_panels(
    records: Sequence[dict[str, Any]],
) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], dict[str, list[str]]]:
    """Plot panels over steps for `viz.curves`: one per `TRAIN_METRICS` key present, then the
    family's loss parts (keys ending in `_loss`, e.g. ACT's l1 and kld) together in "loss parts".
    Returns (panels {title: (steps, values)}, labels)."""
    cols = metric_columns(records)
    steps = cols.pop("step")
    panels = {k: (steps, cols[k]) for k in TRAIN_METRICS if k in cols}
    parts = [k for k in cols if k.endswith("_loss")]
    labels = {}
    if parts:
        panels["loss parts"] = (steps, np.stack([cols[k] for k in parts], axis=1))
        labels["loss parts"] = parts
    return panels, labels


@frozen
class Checkpoint:
    """One saved checkpoint: its step, folder, whether `last` points at it, size and save time."""

    step: int
    path: Path
    is_last: bool
    size_mb: float
    saved: str  # ISO time (UTC) of the folder's last change

    @property
    def pretrained_model(self) -> Path:
        return self.path / "pretrained_model"


def checkpoints(run_dir: str | os.PathLike) -> list[Checkpoint]:
    """The run's complete checkpoints by step (hidden temporary folders of a save in progress
    or of a kill are left out)."""
    root = Path(run_dir) / CHECKPOINTS_DIR
    if not root.is_dir():
        return []
    last = root / LAST
    last_target = last.resolve() if last.exists() else None
    out = []
    for entry in root.iterdir():
        if entry.name.startswith(".") or entry.name == LAST or not entry.name.isdigit() or not entry.is_dir():
            continue
        files = [p for p in entry.rglob("*") if p.is_file()]
        mtime = max((p.stat().st_mtime for p in files), default=entry.stat().st_mtime)
        out.append(
            Checkpoint(
                step=int(entry.name),
                path=entry,
                is_last=last_target == entry.resolve(),
                size_mb=round(sum(p.stat().st_size for p in files) / 1024**2, 2),
                saved=_dt.datetime.fromtimestamp(mtime, _dt.UTC).isoformat(timespec="seconds"),
            )
        )
    return sorted(out, key=lambda c: c.step)


def read_spec(run_dir: str | os.PathLike) -> tuple[str, dict[str, Any]]:
    """The resolved spec the run recorded (`spec.toml`): its text and its parsed tables."""
    path = Path(run_dir) / "spec.toml"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: not a run directory of lerobot-run (no spec.toml)")
    text = path.read_text(encoding="utf-8")
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"{path}: not valid TOML ({e})") from e


def run_summary(run_dir: str | os.PathLike, records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """What the run is and how far it got: job, policy, dataset, started, target and done steps,
    last loss, seconds since metrics.jsonl last changed, and the final result when finished."""
    run_dir = Path(run_dir)
    _, spec = read_spec(run_dir)
    info = json.loads((run_dir / "run.json").read_text()) if (run_dir / "run.json").is_file() else {}
    result_path = run_dir / "result.json"
    result = json.loads(result_path.read_text()) if result_path.is_file() else None
    metrics = run_dir / METRICS_FILE
    target = int(spec.get("train", {}).get("steps", 0))
    done = int(records[-1]["step"]) if records else 0
    dataset = spec.get("dataset", {})
    return {
        "run_dir": str(run_dir),
        "job": spec.get("job"),
        "policy": spec.get("policy", {}).get("type") or spec.get("policy", {}).get("path"),
        "dataset": dataset.get("root") or dataset.get("repo_id"),
        "started": info.get("started"),
        "steps": target,
        "step": done,
        "loss": records[-1].get("loss") if records else None,
        "finished": result is not None and int(result.get("step", -1)) >= target,
        "idle_s": round(_dt.datetime.now().timestamp() - metrics.stat().st_mtime, 1)
        if metrics.is_file()
        else None,
        "result": result,
    }


def resume_command(run_dir: str | os.PathLike, steps: int | None = None) -> list[str]:
    """`lerobot-run --resume RUN_DIR [--set train.steps=N]` as an argument list (this Python)."""
    cmd = [sys.executable, "-m", "lerobot_fn.cli", "--resume", str(run_dir)]
    if steps is not None:
        cmd += ["--set", f"train.steps={int(steps)}"]
    return cmd


def start_resume(run_dir: str | os.PathLike, steps: int | None = None) -> subprocess.Popen:
    """Continue a run in the background (its own session, so it outlives a notebook kernel and
    a Ctrl-C in the terminal that serves it); its terminal output goes to `RUN_DIR/resume.out`,
    its log to `log.txt` as always. Stop it with SIGINT or SIGTERM to the returned process."""
    run_dir = Path(run_dir)
    read_spec(run_dir)  # fails now, clearly, when this is not a run directory
    with open(run_dir / RESUME_OUTPUT, "ab") as out:
        return subprocess.Popen(
            resume_command(run_dir, steps),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")},
        )


#: the tiny ACT `sample_run` trains: a few CPU-seconds on the sample dataset
SAMPLE_RUN_VERSION = 1
SAMPLE_RUN_SPEC = """\
job = "train"

[dataset]
root = "{dataset}"

[policy]
type = "act"

[policy.overrides]
dim_model = 32
n_heads = 2
dim_feedforward = 64
n_encoder_layers = 1
n_decoder_layers = 1
n_vae_encoder_layers = 1
latent_dim = 4
chunk_size = 4
n_action_steps = 4
pretrained_backbone_weights = ""

[train]
steps = 12
batch_size = 2
num_workers = 0
device = "cpu"
save_every = 6
log_every = 1

[log]
progress = false
"""


def sample_run(root: str | os.PathLike | None = None, timeout_s: float = 600) -> Path:
    """A small finished training run (tiny ACT, 12 steps on `data.sample_dataset()`, checkpoints
    at 6 and 12), generated on first use with `lerobot-run` into
    `$HF_LEROBOT_HOME/lerobot_fn_samples/train_act_v<N>` (or `root`)."""
    from lerobot_fn.data import sample_dataset

    spec = SAMPLE_RUN_SPEC.format(dataset=sample_dataset())
    return generate_run(spec, root or samples_dir() / f"train_act_v{SAMPLE_RUN_VERSION}", timeout_s=timeout_s)


def samples_dir() -> Path:
    """Where generated samples live: `$HF_LEROBOT_HOME/lerobot_fn_samples`."""
    from lerobot_fn.data import lerobot_home

    return lerobot_home() / "lerobot_fn_samples"


def generate_run(spec_toml: str, target: str | os.PathLike, *, timeout_s: float = 600) -> Path:
    """Run `lerobot-run` on `spec_toml` once into the run directory `target`, unless it already
    holds a finished run (`result.json`). The run is made in a temporary folder beside `target`
    and renamed into place, so `target` is complete or absent, also when processes race."""
    target = Path(target)
    if (target / "result.json").is_file():
        return target
    if target.exists() and any(target.iterdir()):
        raise FileExistsError(f"{target} exists but holds no finished run (no result.json); remove it")
    target.parent.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(prefix=f".{target.name}.building-", dir=target.parent))
    try:
        spec = build / "spec_source.toml"
        spec.write_text(spec_toml)
        run_dir = build / "run"
        cmd = [sys.executable, "-m", "lerobot_fn.cli", str(spec), "--set", f"run.output_dir={run_dir}"]
        with open(build / "run.out", "wb") as out:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True)  # fmt: skip
            try:
                rc = proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                rc = None
        if rc != 0:
            tail = (build / "run.out").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{' '.join(cmd)} {'timed out' if rc is None else f'exited {rc}'}:\n{tail}")
        try:
            run_dir.rename(target)  # atomic; fails when another process put its copy there first
        except OSError:
            if not (target / "result.json").is_file():
                raise
    finally:
        shutil.rmtree(build, ignore_errors=True)
    return target
