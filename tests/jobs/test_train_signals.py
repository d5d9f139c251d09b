"""Stopping a training run from outside: Ctrl-C, SIGTERM and kill -9, with real subprocesses.

Each child runs in its own process group with SIGINT at its default, is read with a deadline and
killed (group-wide) on failure; every test checks that no child process outlives the run.
"""

from __future__ import annotations

import json
import signal

import pytest
from train_specs import assert_group_gone, finish, kill_group, start, wait_for, write_spec

from lerobot_fn import policies
from lerobot_fn.cli import main

pytestmark = pytest.mark.timeout(180)


def _partial(run_dir):
    root = run_dir / "checkpoints"
    return list(root.glob(".*")) if root.is_dir() else []


def _complete_last(run_dir) -> int:
    """`last` points to a whole checkpoint that loads; returns its step."""
    last = (run_dir / "checkpoints" / "last").resolve()
    step = json.loads((last / "training_state" / "training_step.json").read_text())["step"]
    assert last.name == f"{step:06d}"
    assert policies.load(last).type == "act"
    return step


def _spec(tmp_path, **train):
    spec = write_spec(tmp_path, "act", steps=100_000, extra="")
    text = spec.read_text().replace("num_workers = 0", f"num_workers = {train.get('num_workers', 0)}")
    spec.write_text(text.replace("save_every = 0", f"save_every = {train.get('save_every', 0)}"))
    return spec


def test_sigterm_with_loader_workers_exits_143_cleanly(tmp_path):
    log = tmp_path / "out.txt"
    proc = start([str(_spec(tmp_path, num_workers=2)), "--set", "run.output_dir='run'"], tmp_path, log)
    try:

        wait_for(proc, lambda: "step 2/" in log.read_text(), "a training step", log)
        proc.send_signal(signal.SIGTERM)  # to the main process only, as a scheduler does
        assert finish(proc, timeout=60) == 143, log.read_text()
    finally:
        kill_group(proc)
    out = log.read_text()
    assert "terminated (SIGTERM)" in out and "Traceback" not in out
    assert_group_gone(proc)  # the loader's worker processes are gone too
    assert not _partial(tmp_path / "run")


def _signal_during_a_save(tmp_path, sig: int) -> tuple[int, str]:
    """Train with a checkpoint every step; send `sig` while one is being written after a complete one;
    returns (exit code, output) once the process group is gone."""
    log = tmp_path / "out.txt"
    run_dir = tmp_path / "run"
    proc = start([str(_spec(tmp_path, save_every=1)), "--set", "run.output_dir='run'"], tmp_path, log)
    try:
        wait_for(proc, lambda: (run_dir / "checkpoints" / "last").exists() and _partial(run_dir),
                 "a checkpoint being written after a complete one", log)
        proc.send_signal(sig)
        code = finish(proc, timeout=60)
    finally:
        kill_group(proc)
    assert_group_gone(proc)
    return code, log.read_text()


def _resume_one_more_step(run_dir) -> None:
    step = _complete_last(run_dir)
    assert main(["--resume", str(run_dir), "--set", f"train.steps={step + 1}"]) == 0
    assert not _partial(run_dir), "the resumed run left a partial checkpoint behind"
    assert _complete_last(run_dir) == step + 1


def test_ctrl_c_during_a_save_exits_130_and_resume_continues(tmp_path):
    code, out = _signal_during_a_save(tmp_path, signal.SIGINT)
    assert code == 130, out
    assert "interrupted" in out and "Traceback" not in out
    assert not _partial(tmp_path / "run"), "Ctrl-C during a save left a half-written checkpoint"
    _resume_one_more_step(tmp_path / "run")


def test_kill_9_during_a_save_leaves_last_on_a_complete_checkpoint(tmp_path):
    code, _ = _signal_during_a_save(tmp_path, signal.SIGKILL)
    assert code == -signal.SIGKILL
    _resume_one_more_step(tmp_path / "run")  # last is complete; the killed save's leftover is removed
