"""The spec machinery: TOML -> attrs -> TOML round trips, overrides, and the errors users see."""

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
    unstructure,
)
from lerobot_fn.specs.dataset import SplitSpec
from lerobot_fn.specs.schema import check


@attrs.frozen
class Optim:
    lr: float = spec_field(1e-4, doc="learning rate", validator=check(lambda v: v > 0, "a number > 0"))
    betas: tuple[float, float] = spec_field((0.9, 0.999), doc="Adam betas")


@attrs.frozen
class Policy:
    chunk_size: int = spec_field(doc="actions per chunk")
    name: str = spec_field("act", doc="policy family")
    cameras: list[str] = spec_field(attrs.Factory(list), doc="camera keys")
    pretrained: str | None = spec_field(None, doc="checkpoint to start from")


@attrs.frozen
class TrainLike:
    policy: Policy = spec_field(doc="policy table")
    optim: Optim = spec_field(attrs.Factory(Optim), doc="optimizer table")
    run: RunOptions = spec_field(attrs.Factory(RunOptions), doc="run options")


def _errors(raw, cls=TrainLike):
    with pytest.raises(SpecError) as info:
        structure(raw, cls, "train.toml")
    return info.value.render()


def test_structure_builds_typed_frozen_objects():
    spec = structure({"policy": {"chunk_size": 50, "cameras": ["top"]}, "optim": {"lr": 1}}, TrainLike, "t")
    assert spec.policy == Policy(chunk_size=50, cameras=["top"])
    assert isinstance(spec.optim.lr, float) and spec.optim.lr == 1.0
    assert spec.optim.betas == (0.9, 0.999)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        spec.policy.chunk_size = 3


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


def test_none_values_are_left_out_of_toml_and_come_back_as_defaults():
    spec = structure({"policy": {"chunk_size": 4}}, TrainLike, "t")
    data = unstructure(spec)
    assert "pretrained" not in data["policy"] and "output_dir" not in data["run"]
    assert structure(data, TrainLike, "t") == spec


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


def test_misspelled_key_names_path_and_suggests():
    message = _errors({"policy": {"chunk_sise": 10}})
    assert "train.toml at policy.chunk_sise: unknown key 'chunk_sise'; did you mean 'chunk_size'?" in message


def test_wrong_type_names_expected_and_found():
    message = _errors({"policy": {"chunk_size": "ten"}})
    assert message == "spec error in train.toml at policy.chunk_size: expected an integer, found a string 'ten'"


def test_float_is_not_truncated_into_int_nor_bool_taken_as_int():
    assert "expected an integer, found a number 1.5" in _errors({"policy": {"chunk_size": 1.5}})
    assert "expected an integer, found a boolean True" in _errors({"policy": {"chunk_size": True}})


def test_missing_required_key():
    assert "at policy: missing required key (expected a table)" in _errors({})
    assert "at policy.chunk_size: missing required key (expected an integer)" in _errors({"policy": {}})


def test_validator_refusal_points_at_the_field():
    message = _errors({"policy": {"chunk_size": 3}, "optim": {"lr": -1.0}})
    assert message == "spec error in train.toml at optim.lr: expected a number > 0, found -1.0"


def test_list_element_error_has_index():
    message = _errors({"policy": {"chunk_size": 3, "cameras": ["top", 4]}})
    assert "at policy.cameras[1]: expected a string, found an integer 4" in message


def test_every_problem_is_reported_at_once():
    message = _errors({"policy": {"chunk_size": "x", "nmae": "a"}, "optim": {"betas": [1, 2, 3]}})
    assert message.startswith("spec errors:")
    assert "policy.chunk_size" in message and "policy.nmae" in message and "did you mean 'name'" in message
    assert "optim.betas: expected an array of 2 items, found an array of 3 items" in message


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
