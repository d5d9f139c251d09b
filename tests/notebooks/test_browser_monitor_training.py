"""monitor_training.py in a real browser: a line appended to metrics.jsonl shows up."""

from __future__ import annotations

import json
import shutil

import pytest
from notebook_harness import image_bytes, page_text, save_screenshot, serve, wait_for

from lerobot_fn import runs


@pytest.mark.timeout(240)
def test_appended_metrics_line_shows_up(chromium, notebook_env, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_LEROBOT_HOME", notebook_env["HF_LEROBOT_HOME"])  # the session's sample run
    run_dir = tmp_path / "run"
    shutil.copytree(runs.sample_run(), run_dir, symlinks=True)
    records = runs.MetricsTail(run_dir).read()
    last = records[-1]["step"]
    with serve(
        "monitor_training.py", ["--run", str(run_dir), "--refresh", "1s"], tmp_path, notebook_env
    ) as url:
        chromium.get(url)

        def text():
            return page_text(chromium)

        wait_for(lambda: f"step {last} / {last}" in text(), f"the summary at step {last}")
        before = wait_for(lambda: image_bytes(chromium, "training curves"), "the training curves")
        assert "No evaluation in this run yet" in text()
        # the checkpoint list renders apart from the summary: waited for, not read at once
        wait_for(
            lambda: all(
                f"checkpoints/{c.path.name}/pretrained_model" in text() for c in runs.checkpoints(run_dir)
            ),
            "every checkpoint listed",
        )

        line = {
            **records[-1],
            "step": last + 1,
            "loss": 0.25,
            "eval": {"pc_success": 40.0, "avg_sum_reward": 3.5},
        }
        with open(run_dir / runs.METRICS_FILE, "a") as f:
            f.write(json.dumps(line) + "\n")
        wait_for(lambda: f"step {last + 1} / {last}" in text() and "loss 0.25" in text(), "the appended line")
        wait_for(lambda: image_bytes(chromium, "training curves") != before, "the curves to redraw")
        wait_for(lambda: image_bytes(chromium, "evaluation curves"), "the evaluation curves")
        save_screenshot(chromium, tmp_path, "monitor_training")
