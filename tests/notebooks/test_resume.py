"""The monitor's resume button: `runs.start_resume` continues a finished sample run to more steps
in a background `lerobot-run --resume` process."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from notebook_harness import group_alive, kill_group

from lerobot_fn import runs


@pytest.mark.slow  # a second training process (~10 s on the 2-core CI); TRAIN's tests cover resume itself
@pytest.mark.timeout(300)
def test_start_resume_trains_further(notebook_env, tmp_path, monkeypatch):
    for key in ("HF_LEROBOT_HOME", "HF_HUB_OFFLINE", "OMP_NUM_THREADS"):
        monkeypatch.setenv(key, notebook_env[key])
    run_dir = tmp_path / "run"
    shutil.copytree(runs.sample_run(), run_dir, symlinks=True)
    done = runs.MetricsTail(run_dir).read()[-1]["step"]
    proc = runs.start_resume(run_dir, steps=done + 2)
    try:
        rc = proc.wait(timeout=240)
    except subprocess.TimeoutExpired:
        pytest.fail(f"resume did not finish in 240 s:\n{(run_dir / runs.RESUME_OUTPUT).read_text()[-2000:]}")
    finally:
        kill_group(proc, grace_s=5)
    assert not group_alive(proc.pid)
    assert rc == 0, (run_dir / runs.RESUME_OUTPUT).read_text()[-2000:]
    steps = [r["step"] for r in runs.MetricsTail(run_dir).read()]
    assert steps == list(range(1, done + 3))  # one line per step, nothing repeated
    last = runs.checkpoints(run_dir)[-1]
    assert last.step == done + 2 and last.is_last
    assert runs.run_summary(run_dir, runs.MetricsTail(run_dir).read())["finished"]
