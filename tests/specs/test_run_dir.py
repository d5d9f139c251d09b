"""Run directories: unique, never overwritten; log.txt holds everything the run said on the
terminal, the library's own messages included."""

import logging

import numpy as np
import pytest

from lerobot_fn import data
from lerobot_fn.cli import main
from lerobot_fn.specs.context import FILE_ONLY, PACKAGE_LOG, close_run, default_run_dir, open_run


def _open(out_dir, **kwargs):
    return open_run(out_dir, job="dataset.info", spec_toml=f"# {out_dir}\n", seed=0, **kwargs)


def test_runs_started_in_the_same_second_get_their_own_directories(tmp_path):
    default = tmp_path / default_run_dir("dataset.info")
    first = _open(default, unique=True)
    second = _open(default, unique=True)
    third = _open(default, unique=True)
    dirs = [c.out_dir for c in (first, second, third)]
    assert dirs == [default, default.with_name(default.name + "_2"), default.with_name(default.name + "_3")]
    assert (default / "spec.toml").read_text() == f"# {default}\n"  # the first run's files are untouched
    for ctx in (first, second, third):
        close_run(ctx, None)


def test_an_explicit_directory_holding_a_run_is_refused_and_left_as_it_was(tmp_path, capsys):
    run = tmp_path / "run"
    close_run(_open(run), {"answer": 1})
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    with pytest.raises(FileExistsError, match="already holds a run"):
        _open(run)
    spec = tmp_path / "info.toml"
    spec.write_text('job = "dataset.info"\ndataset = "sample:pusht"\n')
    assert main([str(spec), "--set", f"run.output_dir={run}"]) == 1
    assert f"--resume {run}" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before
    empty = tmp_path / "empty"
    empty.mkdir()
    close_run(_open(empty), None)  # an empty directory is fine


def test_log_txt_holds_what_the_terminal_shows_and_the_library_messages(tmp_path, capsys):
    ctx = _open(tmp_path / "run")
    ctx.log.info("job message %d", 1)
    logging.getLogger("lerobot_fn.data.write.writer").warning("library message %s", "two")
    ctx.log.info("details for the log only", extra=FILE_ONLY)
    with data.create(tmp_path / "ds", fps=10, use_videos=False,
                     features={"action": {"dtype": "float32", "shape": (2,), "names": None}}) as writer:
        writer.add_frame({"action": np.zeros(2, np.float32), "task": "t"})  # never saved
    close_run(ctx, None)
    err = capsys.readouterr().err
    log = (tmp_path / "run" / "log.txt").read_text()
    discarded = f"{tmp_path / 'ds'}: discarding unsaved episode 0 (1 frames; save_episode() was not called for it)"
    for text in ("job message 1", "library message two", discarded):
        assert text in log and text in err
    assert "details for the log only" in log and "details for the log only" not in err
    assert not [h for h in PACKAGE_LOG.handlers if isinstance(h, logging.FileHandler)]  # released
