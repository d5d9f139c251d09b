"""The examples in docs/datasets.md's "Writing" and "Tools" sections run as written."""

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "datasets.md"


def _blocks(title: str) -> list[str]:
    text = DOC.read_text()
    start = text.index(f"## {title}\n")
    nxt = re.search(r"^## ", text[start + 3 :], flags=re.M)
    section = text[start : start + 3 + nxt.start()] if nxt else text[start:]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_writing_and_tools_examples_run(dataset_fixtures, tmp_path):
    blocks = _blocks("Writing") + _blocks("Tools")
    assert len(blocks) >= 4
    ns = {"FIXTURES": dataset_fixtures, "TMP": tmp_path}
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), ns)
