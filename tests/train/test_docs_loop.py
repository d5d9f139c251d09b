"""The custom training loop in docs/training.md runs as written (in a fresh directory, offline)."""

from __future__ import annotations

import re
from pathlib import Path

from lerobot_fn import policies

DOC = Path(__file__).resolve().parents[2] / "docs" / "training.md"


def test_custom_loop_example_trains_and_saves(tmp_path, monkeypatch, capsys):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    loop = [b for b in blocks if "train.step(state, batch)" in b]
    assert len(loop) == 1, "docs/training.md should hold one custom-loop example"
    assert len(loop[0].strip().splitlines()) <= 25
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HF_LEROBOT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    exec(compile(loop[0], str(DOC), "exec"), {"__name__": "docs_training"})  # noqa: S102 - the doc example is the code under test
    printed = capsys.readouterr().out.splitlines()
    assert printed and printed[-1].startswith("step 6 loss ")  # 60 frames, batches of 8, one epoch
    assert policies.load(tmp_path / "my_diffusion" / "pretrained_model").type == "diffusion"
