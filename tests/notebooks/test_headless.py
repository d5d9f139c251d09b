"""Every notebook runs headless with no arguments, both as `marimo export html` (with its
defaults) and as a plain script, and a failing cell fails the run."""

from __future__ import annotations

import pytest
from notebook_harness import NOTEBOOKS, run_notebook_process, staged, tail

ALL = sorted(p for p in NOTEBOOKS.glob("*.py") if not p.name.startswith("_"))
CELL_ERROR = "MarimoExceptionRaisedError"


def test_there_are_notebooks():
    assert {p.name for p in ALL} == {
        "explore_dataset.py",
        "monitor_training.py",
        "review_eval.py",
        "robot_console.py",
    }


@pytest.mark.timeout(240)
@pytest.mark.parametrize("notebook", ALL, ids=lambda p: p.stem)
def test_export_html_runs_every_cell(notebook, notebook_env, tmp_path):
    out, log = tmp_path / f"{notebook.stem}.html", tmp_path / "export.log"
    rc = run_notebook_process(
        ["-m", "marimo", "export", "html", str(staged(notebook, tmp_path)), "-o", str(out)],
        cwd=tmp_path, env=notebook_env, log=log, timeout_s=200,
    )  # fmt: skip
    assert rc == 0, f"marimo export html {notebook.name} failed ({rc}):\n{tail(log)}"
    html = out.read_text()
    assert CELL_ERROR not in html, f"{notebook.name}: a cell raised (see {out})"


@pytest.mark.timeout(240)
@pytest.mark.parametrize("notebook", ALL, ids=lambda p: p.stem)
def test_runs_as_a_script(notebook, notebook_env, tmp_path):
    log = tmp_path / "script.log"
    rc = run_notebook_process(
        [str(staged(notebook, tmp_path))], cwd=tmp_path, env=notebook_env, log=log, timeout_s=200
    )
    assert rc == 0, f"python {notebook.name} failed ({rc}):\n{tail(log)}"


BROKEN = """
import marimo

app = marimo.App()


@app.cell
def _():
    x = 1
    return (x,)


@app.cell
def _(x):
    raise ValueError(f"cell failed on purpose with x={x}")


if __name__ == "__main__":
    app.run()
"""


@pytest.mark.parametrize("how", ["export", "script"])
def test_a_failing_cell_fails_the_run(notebook_env, tmp_path, how):
    notebook = tmp_path / "broken.py"
    notebook.write_text(BROKEN)
    log = tmp_path / "run.log"
    args = ["-m", "marimo", "export", "html", str(notebook), "-o", str(tmp_path / "x.html")]
    rc = run_notebook_process(
        args if how == "export" else [str(notebook)], cwd=tmp_path, env=notebook_env, log=log, timeout_s=60
    )
    assert rc != 0
    shown = (tmp_path / "x.html").read_text() if how == "export" else log.read_text()
    assert "cell failed on purpose with x=1" in shown
