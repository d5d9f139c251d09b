"""The dataset tools as `lerobot-run` jobs: the spec files in specs/ run as they are, results and
errors come back as the CLI promises (exit 0 with result.json; exit 1 with a one-paragraph error)."""

import json
from pathlib import Path

import pytest

from lerobot_fn import data
from lerobot_fn.cli import main

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch):
    monkeypatch.chdir(REPO)  # the specs point at ../shared/fixtures relative to the repository


def test_dataset_jobs_are_listed_and_explained(capsys):
    assert main(["--list"]) == 0
    out = capsys.readouterr().out
    for job in (
        "dataset.info",
        "dataset.delete_episodes",
        "dataset.split",
        "dataset.merge",
        "dataset.add_feature",
        "dataset.remove_feature",
        "dataset.images_to_video",
        "dataset.recompute_stats",
        "dataset.convert_v21",
        "dataset.push",
    ):
        assert job in out
    assert main(["--explain", "dataset.split"]) == 0
    assert "fraction of the episodes" in capsys.readouterr().out


def test_delete_episodes_spec_runs_as_is(tmp_path):
    run = tmp_path / "run"
    assert main(["specs/dataset_delete_episodes.toml", "--set", f"run.output_dir={run}"]) == 0
    result = json.loads((run / "result.json").read_text())
    assert result["episodes"] == 2 and result["frames"] == 73
    assert len(data.open(run / "dataset")) == 73


def test_split_spec_and_info_spec(tmp_path):
    run = tmp_path / "split"
    assert main(["specs/dataset_split.toml", "--set", f"run.output_dir={run}"]) == 0
    assert data.open(run / "train").num_episodes == 3 and data.open(run / "val").num_episodes == 1
    info_run = tmp_path / "info"
    assert (
        main(
            [
                "specs/dataset_info.toml",
                "--set",
                f"dataset={run / 'val'}",
                "--set",
                f"run.output_dir={info_run}",
            ]
        )
        == 0
    )
    assert json.loads((info_run / "result.json").read_text())["episodes"] == 1


def test_job_failure_is_one_paragraph(tmp_path, capsys):
    code = main(
        [
            "specs/dataset_delete_episodes.toml",
            "--set",
            "episodes=[9]",
            "--set",
            f"run.output_dir={tmp_path / 'r'}",
        ]
    )
    assert code == 1
    err = capsys.readouterr().err
    assert "episodes [9] not in" in err and "Traceback" not in err
