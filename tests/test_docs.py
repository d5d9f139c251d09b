"""Every ```python block of every docs/*.md page runs as written.

The blocks of one page run in order in one fresh namespace (nothing injected), with the working
directory a fresh temporary directory, HF_HUB_OFFLINE=1 and HF_LEROBOT_HOME a temporary cache (the
sample dataset already in it, as after a first `data.sample_dataset()`). A block that cannot run
here (Hub download, GPU, real hardware) is fenced ```python no-run, and its page says why.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
FENCE = re.compile(r"^```python(?P<flags>[^\n]*)\n(?P<code>.*?)^```", re.MULTILINE | re.DOTALL)


def python_blocks(page: Path) -> list[tuple[int, str, bool]]:
    """(line of the first code line, code, runs) for each ```python block of a page."""
    text = page.read_text(encoding="utf-8")
    return [
        (text.count("\n", 0, m.start("code")) + 1, m.group("code"), "no-run" not in m.group("flags").split())
        for m in FENCE.finditer(text)
    ]


@pytest.mark.parametrize("page", sorted(DOCS.glob("*.md")), ids=lambda p: p.name)
def test_every_python_block_of_the_page_runs_as_written(page, tmp_path, monkeypatch, sample_lerobot_home):
    home = tmp_path / "lerobot_home"
    shutil.copytree(sample_lerobot_home, home)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_LEROBOT_HOME", str(home))
    namespace: dict = {"__name__": f"docs.{page.stem}"}
    for line, code, runs in python_blocks(page):
        if runs:  # line numbers in a traceback are the page's own
            exec(compile("\n" * (line - 1) + code, str(page), "exec"), namespace)  # noqa: S102


def test_the_block_finder_sees_runnable_and_no_run_blocks(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("text\n```python\nx = 1\n```\nmore\n```python no-run\nhub()\n```\n```\nshell\n```\n")
    assert python_blocks(page) == [(3, "x = 1\n", True), (7, "hub()\n", False)]
