"""The dataset tools as `lerobot-run` jobs: every shipped spec runs as is, from any working
directory of a fresh clone (no ../shared), on the sample dataset generated into the cache; results
and errors come back as the CLI promises (exit 0 with result.json; exit 1 with one paragraph)."""

import json
from pathlib import Path

import pytest

from lerobot_fn import data
from lerobot_fn.cli import main

SPECS = Path(__file__).resolve().parents[2] / "specs"


@pytest.fixture(autouse=True)
def _user(tmp_path, monkeypatch, sample_lerobot_home):
    monkeypatch.chdir(tmp_path)  # not the repository: the specs must not depend on the working directory
    monkeypatch.setenv("HF_LEROBOT_HOME", str(sample_lerobot_home))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def _run(spec, tmp_path, *overrides):
    run = tmp_path / "run"
    code = main([str(SPECS / spec), *(a for o in overrides for a in ("--set", o)), "--set", f"run.output_dir={run}"])
    return code, run


def test_dataset_jobs_are_listed_and_explained(capsys):
    assert main(["--list"]) == 0
    out = capsys.readouterr().out
    for job in ("info", "delete_episodes", "split", "merge", "add_feature", "remove_feature",
                "images_to_video", "recompute_stats", "convert_v21", "push"):
        assert f"dataset.{job}" in out
    assert main(["--explain", "dataset.split"]) == 0
    assert "fraction of the episodes" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("spec", "check"),
    [
        ("dataset_info.toml", lambda r, run: r["episodes"] == 6 and r["checked"]),
        ("dataset_delete_episodes.toml", lambda r, run: (r["episodes"], r["frames"]) == (5, 200)),
        ("dataset_split.toml", lambda r, run: r["train"]["episodes"] == 3 == data.open(run / "val").num_episodes),
        ("dataset_merge.toml", lambda r, run: (r["episodes"], r["frames"]) == (12, 480)),
        ("dataset_remove_feature.toml", lambda r, run: "next.success" not in data.open(run / "dataset").features),
        ("dataset_recompute_stats.toml", lambda r, run: r["frames"] == 240),
        ("dataset_images_to_video.toml",
         lambda r, run: data.open(run / "dataset").meta.video_keys == ["observation.image"]),
    ],
)
def test_shipped_spec_runs_as_is_on_the_sample_dataset(spec, check, tmp_path):
    code, run = _run(spec, tmp_path)
    assert code == 0, (run / "log.txt").read_text()
    assert check(json.loads((run / "result.json").read_text()), run)


@pytest.mark.parametrize(
    ("spec", "overrides", "missing"),
    [
        ("dataset_convert_v21.toml", [], SPECS / "path" / "to" / "v21_dataset"),  # the placeholder, beside the spec
        ("dataset_info.toml", ["dataset=pusht_mnii"], "pusht_mnii"),             # a --set path: the working directory
        ("dataset_split.toml", ["dataset=my/pusht"], "my/pusht"),
    ],
)
def test_a_missing_dataset_fails_naming_its_absolute_path_in_the_terminal_and_the_log(
        spec, overrides, missing, tmp_path, capsys):
    missing = tmp_path / missing
    code, run = _run(spec, tmp_path, *overrides)
    err = capsys.readouterr().err
    assert code == 1 and str(missing) in err and "Traceback" not in err and "log.txt" in err
    assert str(missing) in (run / "log.txt").read_text()


def test_job_failure_is_one_paragraph_in_the_terminal_and_the_log(tmp_path, capsys):
    code, run = _run("dataset_delete_episodes.toml", tmp_path, "episodes=[9]")
    assert code == 1
    err = capsys.readouterr().err
    assert "episodes [9] not in" in err and "Traceback" not in err and "log.txt" in err
    log = (run / "log.txt").read_text()
    assert "episodes [9] not in" in log and "Traceback" in log  # the log keeps the traceback for a bug report


def test_the_encoders_own_output_goes_to_the_log_not_the_terminal(tmp_path, capfd):
    code, run = _run("dataset_images_to_video.toml", tmp_path)
    assert code == 0
    terminal = capfd.readouterr()
    assert "Svt[" not in terminal.err + terminal.out
    assert "Svt[info]" in (run / "log.txt").read_text()  # SVT-AV1's banner, kept for a bug report
