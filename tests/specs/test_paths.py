"""Paths in a spec resolve against the spec file's directory; `--set` paths against the working
directory; dataset names (`sample:pusht`, Hub ids) and "" (the default) stay as written."""

import pytest

from lerobot_fn.specs import dump_spec, load_spec
from lerobot_fn.specs.paths import DATASET_OR_HUB, absolute


@pytest.fixture
def layout(tmp_path, monkeypatch):
    (tmp_path / "project" / "specs").mkdir(parents=True)
    (tmp_path / "project" / "data" / "mine").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    return tmp_path


def _spec(layout, text):
    path = layout / "project" / "specs" / "job.toml"
    path.write_text(text)
    return path


def test_paths_in_the_file_resolve_against_its_directory_from_any_working_directory(layout):
    spec = _spec(layout, 'job = "dataset.delete_episodes"\ndataset = "../data/mine"\nepisodes = [0]\n'
                         'output = "out/trimmed"\n[run]\noutput_dir = "../runs/a"\n')
    loaded = load_spec(spec).spec
    project = layout / "project"
    assert loaded.dataset == str(project / "data" / "mine")
    assert loaded.output == str(project / "specs" / "out" / "trimmed")
    assert loaded.run.output_dir == str(project / "runs" / "a")
    # the resolved spec (what the run directory records) runs the same from anywhere
    again = layout / "resolved.toml"
    again.write_text(dump_spec("dataset.delete_episodes", loaded))
    assert load_spec(again).spec == loaded


def test_set_paths_resolve_against_the_working_directory(layout):
    spec = _spec(layout, 'job = "dataset.merge"\ndatasets = ["../data/mine"]\n')
    loaded = load_spec(spec, ['datasets=["a", "../b"]', "output=merged", "run.output_dir=runs/x"]).spec
    assert loaded.datasets == [str(layout / "elsewhere" / "a"), str(layout / "b")]
    assert loaded.output == str(layout / "elsewhere" / "merged")
    assert loaded.run.output_dir == str(layout / "elsewhere" / "runs" / "x")


def test_dataset_names_defaults_and_absolute_paths_stay_as_written(layout):
    spec = _spec(layout, 'job = "dataset.split"\ndataset = "sample:pusht"\nfractions = {a = 1.0}\n')
    loaded = load_spec(spec, [f"output_dir={layout}"]).spec
    assert loaded.dataset == "sample:pusht" and loaded.output_dir == str(layout)
    assert load_spec(spec).spec.output_dir == ""  # empty: the run directory


def test_a_hub_id_stays_unless_that_local_directory_exists(layout):
    base = layout / "project"
    assert absolute("lerobot/pusht", base, DATASET_OR_HUB) == "lerobot/pusht"
    assert absolute("data/mine", base, DATASET_OR_HUB) == str(base / "data" / "mine")
    assert absolute("~/x", base, DATASET_OR_HUB).startswith("/")
