"""`data.verify(root)` and `dataset.info` with `check = true`: every broken data or video file is
reported by path, whatever the damage (truncated, empty, missing), and the job exits 1."""

import shutil

import pytest

from lerobot_fn import data
from lerobot_fn.cli import main


@pytest.fixture
def copy(tmp_path, sample_dataset_root):
    root = tmp_path / "pusht copy"
    shutil.copytree(sample_dataset_root, root)
    return root


def _truncate(path, keep):
    raw = path.read_bytes()
    path.write_bytes(raw[: int(len(raw) * keep)])


def _files(root, pattern):
    return sorted(root.rglob(pattern))


def test_an_intact_dataset_has_no_problems(sample_dataset_root, dataset_fixtures):
    assert data.verify(sample_dataset_root) == []
    assert data.verify(dataset_fixtures / "aloha_sim_mini") == []  # written by LeRobot


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda p: _truncate(p, 0.5), "truncated"),
        (lambda p: _truncate(p, 0.995), "truncated"),
        (lambda p: p.write_bytes(b""), ""),
        (lambda p: p.unlink(), "missing"),
    ],
    ids=["half", "tail", "empty", "missing"],
)
def test_each_broken_data_and_video_file_is_named(copy, damage, expected):
    parquet, mp4 = _files(copy, "data/*/*.parquet")[0], _files(copy, "videos/*/*/*.mp4")[0]
    damage(parquet)
    damage(mp4)
    problems = data.verify(copy)
    assert [p.path for p in problems] == [parquet, mp4]
    assert all(expected in p.message for p in problems)


def test_dataset_info_job_checks_by_default_and_exits_1_naming_each_file(copy, tmp_path, capsys):
    parquet, mp4 = _files(copy, "data/*/*.parquet")[0], _files(copy, "videos/*/*/*.mp4")[0]
    _truncate(parquet, 0.5)
    mp4.write_bytes(b"")
    spec = tmp_path / "info.toml"
    spec.write_text(f'job = "dataset.info"\ndataset = "{copy.name}"\n')  # relative to the spec file
    run = tmp_path / "run"
    assert main([str(spec), "--set", f"run.output_dir={run}"]) == 1
    err = capsys.readouterr().err
    log = (run / "log.txt").read_text()
    for text in (err, log):
        assert "2 broken file(s)" in text and str(parquet) in text and f"{mp4}: empty (0 bytes)" in text
    # the summary alone (check = false) still works on the damaged copy
    assert main([str(spec), "--set", "check=false", "--set", f"run.output_dir={tmp_path / 'run2'}"]) == 0
