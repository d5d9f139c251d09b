"""specs/toml_io.py: TOML files -> typed specs and back (lossless), `--set` overrides, job resolution,
and the errors for a missing file or bad TOML."""

from __future__ import annotations

import attrs
import pytest

from lerobot_fn.specs import (
    RunOptions,
    SpecError,
    apply_overrides,
    dump_spec,
    load_spec,
    parse_override,
    resolve,
    spec_field,
    structure,
)
from lerobot_fn.specs.dataset import SplitSpec


@attrs.frozen
class Optim:
    lr: float = spec_field(1e-4, doc="learning rate")


@attrs.frozen
class Policy:
    chunk_size: int = spec_field(doc="actions per chunk")


@attrs.frozen
class TrainLike:
    policy: Policy = spec_field(doc="policy table")
    optim: Optim = spec_field(attrs.Factory(Optim), doc="optimizer table")
    run: RunOptions = spec_field(attrs.Factory(RunOptions), doc="run options")


def test_toml_round_trip_is_lossless(tmp_path):
    text = """
job = "dataset.split"
dataset = "data/in"
episodes = { train = [0, 1], val = [2] }
output_dir = "splits"

[run]
seed = 7
output_dir = "out/here"
"""
    path = tmp_path / "spec.toml"
    path.write_text(text)
    first = load_spec(path)
    assert first.job == "dataset.split" and isinstance(first.spec, SplitSpec)
    assert first.spec.episodes == {"train": [0, 1], "val": [2]} and first.spec.run.seed == 7
    dumped = dump_spec(first.job, first.spec)
    (tmp_path / "again.toml").write_text(dumped)
    second = load_spec(tmp_path / "again.toml")
    assert second.spec == first.spec
    assert dump_spec(second.job, second.spec) == dumped


@pytest.mark.parametrize(
    ("text", "key", "value"),
    [
        ("policy.chunk_size=50", ["policy", "chunk_size"], 50),
        ("optim.lr=3e-4", ["optim", "lr"], 3e-4),
        ("policy.cameras=['top', 'wrist']", ["policy", "cameras"], ["top", "wrist"]),
        ('policy.name="act"', ["policy", "name"], "act"),
        ("dataset.repo_id=lerobot/pusht", ["dataset", "repo_id"], "lerobot/pusht"),
        ("run.debug=true", ["run", "debug"], True),
    ],
)
def test_override_values_are_parsed_as_toml(text, key, value):
    assert parse_override(text) == (key, value)


def test_overrides_apply_to_nested_tables_without_touching_the_input():
    raw = {"policy": {"chunk_size": 10}}
    out = apply_overrides(raw, ["policy.chunk_size=20", "optim.lr=0.5"])
    assert out == {"policy": {"chunk_size": 20}, "optim": {"lr": 0.5}}
    assert raw == {"policy": {"chunk_size": 10}}
    assert structure(out, TrainLike, "t").optim.lr == 0.5


@pytest.mark.parametrize("bad", ["novalue", "=3", "a..b=1"])
def test_malformed_override_is_a_spec_error(bad):
    with pytest.raises(SpecError, match="KEY=VALUE"):
        parse_override(bad)


def test_override_through_a_scalar_is_refused():
    with pytest.raises(SpecError, match="not a table"):
        apply_overrides({"policy": 3}, ["policy.chunk_size=1"])


def test_unknown_job_suggests_the_closest():
    with pytest.raises(SpecError, match="unknown job 'quickstrat'; did you mean 'quickstart'"):
        resolve({"job": "quickstrat"}, "x.toml")


def test_missing_job_key():
    with pytest.raises(SpecError, match="x.toml at job: missing required key"):
        resolve({"train": {}}, "x.toml")


def test_missing_file_and_bad_toml_name_the_file(tmp_path):
    with pytest.raises(SpecError, match=f"{tmp_path / 'nope.toml'}: spec file not found"):
        load_spec(tmp_path / "nope.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("job = \n")
    with pytest.raises(SpecError, match="broken.toml: not valid TOML"):
        load_spec(broken)
