"""The one cattrs converter (`lerobot_fn/converter.py`), shared by job specs and policy configs: strict
values (no string -> number, no float -> int, no bool as an int), str-valued enums by member, and
`failures` giving the key path of every refused value. (Not test_converter.py: tests/specs has that
basename, and pytest needs them unique.)"""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest
from cattrs.errors import ClassValidationError

from lerobot_fn.converter import converter, failures
from lerobot_fn.types import FeatureType, PolicyFeature


@attrs.frozen
class Inner:
    feature: PolicyFeature
    sizes: tuple[int, ...] = ()


@attrs.frozen
class Outer:
    steps: int = 1
    rate: float = 0.5
    name: str = "x"
    on: bool = False
    where: Path = Path(".")
    flag: bool | int = False
    inner: dict[str, Inner] = attrs.field(factory=dict)

    def __attrs_post_init__(self):
        if self.steps > 100:
            raise ValueError("steps must be <= 100")


def test_values_of_the_annotated_types_are_structured():
    out = converter.structure({"steps": 3, "rate": 2, "name": "n", "on": True, "where": "a/b",
                               "inner": {"cam": {"feature": {"type": "VISUAL", "shape": [3, 4, 4]}, "sizes": [1]}}},
                              Outer)
    assert out.rate == 2.0 and isinstance(out.rate, float) and out.where == Path("a/b")
    assert out.inner["cam"].feature == PolicyFeature(FeatureType.VISUAL, (3, 4, 4))
    assert out.inner["cam"].feature.type is FeatureType.VISUAL  # an enum member, not the string
    assert converter.unstructure(Path("a")) == "a"
    for written in (False, 0, 1, True):  # LeRobot's int-typed flags: kept as the file wrote them
        flag = converter.structure({"flag": written}, Outer).flag
        assert flag == written and type(flag) is type(written)


def _paths(raw):
    with pytest.raises(ClassValidationError) as err:
        converter.structure(raw, Outer)
    return [(path, str(leaf)) for path, leaf in failures(err.value)]


@pytest.mark.parametrize(("raw", "path"), [
    ({"steps": "3"}, ("steps",)),
    ({"steps": 3.0}, ("steps",)),
    ({"steps": True}, ("steps",)),
    ({"rate": "0.5"}, ("rate",)),
    ({"on": 1}, ("on",)),
    ({"where": 3}, ("where",)),
    ({"flag": "0"}, ("flag",)),
    ({"flag": 0.0}, ("flag",)),
    ({"inner": {"cam": {"feature": {"type": "PIXELS", "shape": [3]}}}}, ("inner", "cam", "feature", "type")),
    ({"inner": {"cam": {"feature": {"type": "STATE", "shape": [3]}, "sizes": [1, "2"]}}}, ("inner", "cam", "sizes", 1)),
])
def test_a_wrong_value_is_refused_with_its_key_path(raw, path):
    assert [p for p, _ in _paths(raw)] == [path]


def test_a_missing_key_and_the_class_own_check_are_told_apart():
    [(path, leaf)] = _paths({"inner": {"cam": {"feature": {"type": "STATE"}}}})
    assert path == ("inner", "cam", "feature", "shape") and "shape" in leaf
    assert _paths({"steps": 101}) == [((), "steps must be <= 100")]  # empty path: the class refused
