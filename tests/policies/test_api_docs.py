"""The runnable examples in docs/policies.md (those using the shared fixtures) run as written."""

import os
import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "policies.md"


def test_policies_doc_examples_run(policy_fixtures, tmp_path):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    runnable = [b for b in blocks if "../shared/fixtures" in b]
    assert len(runnable) >= 3, "docs/policies.md lost its runnable examples"
    namespace: dict = {}
    cwd = os.getcwd()
    os.chdir(DOC.parents[1])  # the examples use paths relative to the repository root
    try:
        for block in runnable:
            exec(compile(block.replace("/tmp/my_processors", str(tmp_path)), str(DOC), "exec"), namespace)
    finally:
        os.chdir(cwd)
    assert len(namespace["actions"]) == 12
    assert (tmp_path / "policy_preprocessor.json").is_file()
