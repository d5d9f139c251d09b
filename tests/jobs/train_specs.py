"""Tiny train specs on the LeRobot-written pusht_mini fixture, and the no-hang subprocess runner
the train tests share."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

REPO = Path(__file__).resolve().parents[2]
PUSHT = REPO.parent / "shared" / "fixtures" / "datasets" / "pusht_mini"

ACT = {
    "dim_model": 32, "n_heads": 2, "dim_feedforward": 64, "n_encoder_layers": 1, "n_decoder_layers": 1,
    "n_vae_encoder_layers": 1, "latent_dim": 4, "chunk_size": 4, "n_action_steps": 4,
    "pretrained_backbone_weights": "",
}
DIFFUSION = {
    "down_dims": [16, 32], "diffusion_step_embed_dim": 32, "horizon": 8, "n_action_steps": 4, "n_obs_steps": 2,
    "drop_n_last_frames": 3, "num_train_timesteps": 10, "crop_shape": [84, 84], "use_group_norm": True,
    "spatial_softmax_num_keypoints": 8, "pretrained_backbone_weights": "",
}
TINY = {"act": ACT, "diffusion": DIFFUSION}


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return repr(value)


def write_spec(directory: Path, policy: str, *, steps: int = 4, batch_size: int = 4, extra: str = "",
               overrides: dict | None = None) -> Path:
    """A spec file training a tiny `policy` on pusht_mini on the CPU."""
    if not PUSHT.is_dir():
        pytest.fail(f"fixture dataset missing: {PUSHT} (../shared/fixtures beside the repository)", pytrace=False)
    tiny = {**TINY[policy], **(overrides or {})}
    lines = ['job = "train"', "[dataset]", f'root = "{PUSHT}"', "[policy]", f'type = "{policy}"',
             "[policy.overrides]", *(f"{k} = {_toml(v)}" for k, v in tiny.items()),
             "[train]", f"steps = {steps}", f"batch_size = {batch_size}", "num_workers = 0", 'device = "cpu"',
             "log_every = 1", "save_every = 0", "[log]", "progress = false", extra]
    path = directory / f"{policy}.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def weights(run_dir: Path) -> dict[str, torch.Tensor]:
    return load_file(str(run_dir / "checkpoints" / "last" / "pretrained_model" / "model.safetensors"))


def start(args: list[str], cwd: Path, log: Path, *, nproc: int = 1, **env) -> subprocess.Popen:
    """`python -m lerobot_fn.cli ARGS` (under torchrun when `nproc` > 1) in its own process group
    with SIGINT at its default (a parent's Python handler becomes SIG_DFL across exec), stdout and
    stderr into `log`."""
    launcher = ["-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}"] if nproc > 1 else []
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with log.open("w") as out:
            return subprocess.Popen([sys.executable, *launcher, "-m", "lerobot_fn.cli", *args], cwd=cwd, stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True,
                                    env={**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", **env})
    finally:
        signal.signal(signal.SIGINT, previous)


def wait_for(proc: subprocess.Popen, condition, what: str, log: Path, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert proc.poll() is None, f"exited {proc.returncode} before {what}:\n{log.read_text()}"
        assert time.monotonic() < deadline, f"no {what} within {timeout} s:\n{log.read_text()}"
        time.sleep(0.01)


def finish(proc: subprocess.Popen, timeout: float) -> int:
    """Wait for the process (killing its whole group if it overruns) and check nothing is left behind."""
    try:
        proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=10)
        pytest.fail(f"lerobot-run did not exit within {timeout} s")
    return proc.returncode


def assert_group_gone(proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60  # children exiting on a loaded machine can take a while; a leftover never does
    while True:
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail("a child process (loader worker?) outlived lerobot-run")
        time.sleep(0.05)


def kill_group(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=10)
