"""Runs one of tests/policies/data's generator scripts under LeRobot 0.6.1's venv (.lerobot-venv beside
the repository root) for the opt-in `slow` checks: its own process group, a deadline, nothing left behind."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from pathlib import Path

import pytest

LEROBOT_PYTHON = Path(__file__).resolve().parents[2] / ".lerobot-venv" / "bin" / "python"


def run_under_lerobot(script: Path, *args: str, timeout: float = 300) -> None:
    """Run `script args...` with LeRobot's Python; fail the test with its stderr if it fails."""
    if not LEROBOT_PYTHON.exists():
        pytest.fail(f"LeRobot 0.6.1 venv not found at {LEROBOT_PYTHON} (needed by this opt-in check)")
    proc = subprocess.Popen(
        [str(LEROBOT_PYTHON), str(script), *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # noqa: PLW1509 (SIGINT at its default)
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"LeRobot check timed out after {timeout} s")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 0)  # raises when the group is gone
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail("the LeRobot check left a process behind")
    assert proc.returncode == 0, err[-4000:]
