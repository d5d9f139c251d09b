"""The examples in docs/datasets.md's "Reading" section run as written (Hub ones excepted)."""

import re
from pathlib import Path

import torch

DOC = Path(__file__).resolve().parents[2] / "docs" / "datasets.md"


def _reading_blocks() -> list[str]:
    text = DOC.read_text()
    start = text.index("## Reading")
    nxt = re.search(r"^## ", text[start + 3 :], flags=re.MULTILINE)
    section = text[start : start + 3 + nxt.start()] if nxt else text[start:]
    return re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)


def test_reading_examples_run(dataset_fixtures):
    blocks = _reading_blocks()
    assert len(blocks) >= 6
    ns = {"FIXTURES": dataset_fixtures, "torch": torch}
    ran = 0
    for block in blocks:
        if '"lerobot/' in block:  # needs the real Hub; covered by tests/data/test_hub.py
            continue
        exec(compile(block, str(DOC), "exec"), ns)
        ran += 1
    assert ran >= 6
