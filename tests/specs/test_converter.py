"""specs/converter.py: raw TOML data -> frozen attrs job schemas and back, and the errors users see
(path, expected vs found, did-you-mean, every problem at once)."""

from __future__ import annotations

import attrs
import pytest

from lerobot_fn.specs import RunOptions, SpecError, spec_field, structure, unstructure
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


def test_none_values_are_left_out_of_toml_and_come_back_as_defaults():
    spec = structure({"policy": {"chunk_size": 4}}, TrainLike, "t")
    data = unstructure(spec)
    assert "pretrained" not in data["policy"] and "output_dir" not in data["run"]
    assert structure(data, TrainLike, "t") == spec


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
