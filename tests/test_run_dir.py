"""The run directory shell (`lerobot_fn.run_dir`): unique, never overwritten; run.json records how to
repeat the run; log.txt holds everything the run said on the terminal, the library's own messages
included; the log files are released on every exit."""

import json
import logging
import subprocess
from pathlib import Path

import numpy as np
import pytest

from lerobot_fn import data
from lerobot_fn.cli import main
from lerobot_fn.run_dir import FILE_ONLY, PACKAGE_LOG, default_run_dir, open_run, write_result


def _open(out_dir, **kwargs):
    return open_run(out_dir, job="dataset.info", spec_toml=f"# {out_dir}\n", seed=0, **kwargs)


def _file_handlers():
    return [h for h in PACKAGE_LOG.handlers if isinstance(h, logging.FileHandler)]


def test_runs_started_in_the_same_second_get_their_own_directories(tmp_path):
    default = tmp_path / default_run_dir("dataset.info")
    with _open(default, unique=True) as first, _open(default, unique=True) as second, \
            _open(default, unique=True) as third:
        dirs = [c.out_dir for c in (first, second, third)]
    assert dirs == [default, default.with_name(default.name + "_2"), default.with_name(default.name + "_3")]
    assert (default / "spec.toml").read_text() == f"# {default}\n"  # the first run's files are untouched


def test_run_json_records_how_to_repeat_the_run(tmp_path):
    with _open(tmp_path / "run") as ctx:
        write_result(ctx, {"answer": 1})
    record = json.loads((tmp_path / "run" / "run.json").read_text())
    assert record["job"] == "dataset.info" and record["seed"] == 0 and record["resume"] is False
    assert record["repeat"] == f"lerobot-run {tmp_path / 'run' / 'spec.toml'}"
    assert {"python", "torch", "attrs", "cattrs"} <= set(record["versions"])
    checkout = Path(__file__).resolve().parents[1]
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=checkout, capture_output=True, text=True, timeout=10,
                          check=False)
    if head.returncode == 0:  # a git checkout (CI's clean clone)
        assert record["git"]["commit"] == head.stdout.strip() and isinstance(record["git"]["dirty"], bool)
    else:  # an unpacked archive: no revision, and no failure
        assert record["git"] == {}
    assert json.loads((tmp_path / "run" / "result.json").read_text()) == {"answer": 1}


def test_log_files_are_released_when_the_job_fails(tmp_path):
    with pytest.raises(RuntimeError, match="job broke"), _open(tmp_path / "run") as ctx:
        ctx.log.error("about to fail")
        assert len(_file_handlers()) == 1
        raise RuntimeError("job broke")
    assert _file_handlers() == [] and not ctx.log.handlers
    assert "about to fail" in (tmp_path / "run" / "log.txt").read_text()
    assert not (tmp_path / "run" / "result.json").exists()


def test_an_explicit_directory_holding_a_run_is_refused_and_left_as_it_was(tmp_path, capsys):
    run = tmp_path / "run"
    with _open(run) as ctx:
        write_result(ctx, {"answer": 1})
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    with pytest.raises(FileExistsError, match="already holds a run"), _open(run):
        pass
    spec = tmp_path / "info.toml"
    spec.write_text('job = "dataset.info"\ndataset = "sample:pusht"\n')
    assert main([str(spec), "--set", f"run.output_dir={run}"]) == 1
    assert f"--resume {run}" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before
    empty = tmp_path / "empty"
    empty.mkdir()
    with _open(empty):  # an empty directory is fine
        pass


def test_log_txt_holds_what_the_terminal_shows_and_the_library_messages(tmp_path, capsys):
    with _open(tmp_path / "run") as ctx:
        ctx.log.info("job message %d", 1)
        logging.getLogger("lerobot_fn.data.write.writer").warning("library message %s", "two")
        ctx.log.info("details for the log only", extra=FILE_ONLY)
        with data.create(tmp_path / "ds", fps=10, use_videos=False,
                         features={"action": {"dtype": "float32", "shape": (2,), "names": None}}) as writer:
            writer.add_frame({"action": np.zeros(2, np.float32), "task": "t"})  # never saved
    err = capsys.readouterr().err
    log = (tmp_path / "run" / "log.txt").read_text()
    discarded = f"{tmp_path / 'ds'}: discarding unsaved episode 0 (1 frames; save_episode() was not called for it)"
    for text in ("job message 1", "library message two", discarded):
        assert text in log and text in err
    assert "details for the log only" in log and "details for the log only" not in err
    assert _file_handlers() == []  # released
