"""`lerobot-run` as a user runs it: a real subprocess, its exit status and what it prints."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def lerobot_run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "lerobot_fn.cli", *args],
        capture_output=True, text=True, cwd=cwd or REPO, env=env, timeout=300, check=False, start_new_session=True,
    )


def test_list_names_every_job_with_a_summary():
    out = lerobot_run("--list")
    assert out.returncode == 0, out.stderr
    lines = dict(line.split(None, 1) for line in out.stdout.strip().splitlines())
    assert "quickstart" in lines and lines["quickstart"].strip()


def test_explain_prints_keys_types_defaults_and_docs():
    out = lerobot_run("--explain", "dataset.split")
    assert out.returncode == 0, out.stderr
    assert "run.seed: int, default 0" in out.stdout
    assert "fraction of the episodes" in out.stdout
    assert "[run]" in out.stdout


def test_explain_unknown_job_exits_2_with_suggestion():
    out = lerobot_run("--explain", "quickstrat")
    assert out.returncode == 2
    assert "did you mean 'quickstart'" in out.stderr and "Traceback" not in out.stderr


def test_dry_run_prints_resolved_spec_with_overrides(tmp_path):
    spec = str(REPO / "specs" / "quickstart.toml")
    out = lerobot_run(spec, "--set", "train.steps=3", "--set", "run.seed=11", "--dry-run", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert 'job = "quickstart"' in out.stdout and "steps = 3" in out.stdout and "seed = 11" in out.stdout
    assert list(tmp_path.iterdir()) == [], "a dry run must write nothing"


def test_misspelled_key_exits_2_naming_file_path_and_suggestion(tmp_path):
    spec = tmp_path / "typo.toml"
    spec.write_text('job = "quickstart"\n[train]\nstpes = 3\n')
    out = lerobot_run(str(spec), "--dry-run")
    assert out.returncode == 2
    assert f"{spec} at train.stpes: unknown key 'stpes'; did you mean 'steps'?" in out.stderr
    assert "Traceback" not in out.stderr


def test_wrong_type_exits_2_with_expected_and_found(tmp_path):
    spec = tmp_path / "wrong.toml"
    spec.write_text('job = "quickstart"\n[train]\nsteps = "many"\n')
    out = lerobot_run(str(spec))
    assert out.returncode == 2
    assert f"{spec} at train.steps: expected an integer, found a string 'many'" in out.stderr
    assert "Traceback" not in out.stderr


def test_wrong_type_from_set_override_exits_2():
    out = lerobot_run("specs/quickstart.toml", "--set", "train.batch_size=[1]", "--dry-run")
    assert out.returncode == 2
    assert "--set train.batch_size=[1] at train.batch_size: expected an integer, found an array of 1 items" in out.stderr


def test_missing_spec_file_exits_2_with_its_path(tmp_path):
    missing = tmp_path / "absent.toml"
    out = lerobot_run(str(missing))
    assert out.returncode == 2
    assert f"{missing}: spec file not found" in out.stderr and "Traceback" not in out.stderr


def test_no_arguments_is_a_usage_error():
    out = lerobot_run()
    assert out.returncode == 2 and "give a spec file" in out.stderr


@pytest.mark.parametrize("spec", sorted(p.name for p in (REPO / "specs").glob("*.toml")))
def test_every_shipped_spec_validates(spec):
    out = lerobot_run(f"specs/{spec}", "--dry-run")
    assert out.returncode == 0, out.stderr


def test_job_whose_extra_is_missing_exits_1_saying_what_to_install(tmp_path):
    spec = tmp_path / "needs_extra.toml"
    spec.write_text('job = "needs_extra"\n')
    code = (
        "import sys\n"
        "from lerobot_fn.specs import registry\n"
        "registry.JOBS['needs_extra'] = registry.Job('needs_extra', 'lerobot_fn.specs.quickstart:QuickstartSpec',"
        " 'an_extra_that_is_not_installed:run', 'needs an optional extra')\n"
        "from lerobot_fn.cli import main\n"
        f"sys.exit(main([{str(spec)!r}]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                         env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=300, check=False)
    assert out.returncode == 1
    assert "job 'needs_extra' cannot start" in out.stderr and "an_extra_that_is_not_installed" in out.stderr
    assert "Traceback" not in out.stderr and not (tmp_path / "outputs").exists()


@pytest.mark.parametrize("args", [["--list"], ["--explain", "dataset.split"], ["specs/quickstart.toml", "--dry-run"]])
def test_output_into_a_closed_pipe_ends_quietly(args):
    """`lerobot-run --list | head -1`: the reader is gone before we write; no BrokenPipe traceback."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        out = subprocess.run([sys.executable, "-m", "lerobot_fn.cli", *args], stdout=write_end,
                             stderr=subprocess.PIPE, text=True, cwd=REPO, timeout=120, check=False,
                             start_new_session=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    finally:
        os.close(write_end)
    assert out.returncode == 1 and out.stderr == ""
