"""The one cattrs converter: plain data (a TOML table, a JSON dict) <-> frozen attrs classes.

Job specs (`lerobot_fn.specs`) and policy configs (`lerobot_fn.policies`, LeRobot's config.json)
both go through it. Strict on purpose: a string is never coerced into a number, a float never
truncated into an int, a bool is not an int, an enum value must name a member, unknown keys are
errors. A neutral core module like `lerobot_fn.types`: it imports no other lerobot_fn package, so
`specs` and `policies` share it without importing each other.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cattrs
from cattrs.errors import ClassValidationError, IterableValidationError

converter = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True, omit_if_default=False)


def _strict(kind: Any, accepted: tuple[type, ...], name: str | None = None):
    def hook(value: Any, type_: Any) -> Any:
        if (isinstance(value, bool) and bool not in accepted) or not isinstance(value, accepted):
            raise TypeError(f"expected {name or kind.__name__}")
        if isinstance(type_, type) and issubclass(type_, enum.Enum):
            return type_(value)  # a str-valued enum (FeatureType) dispatches here as a subclass of str
        return kind(value)

    return hook


converter.register_structure_hook(int, _strict(int, (int,)))
converter.register_structure_hook(float, _strict(float, (int, float)))
converter.register_structure_hook(str, _strict(str, (str,)))
converter.register_structure_hook(bool, _strict(bool, (bool,)))
converter.register_structure_hook(Path, lambda v, _: Path(_strict(str, (str,))(v, str)))
# `bool | int`: a LeRobot field typed int with default False (ACT's replace_final_stride_with_dilation);
# its config.json holds false or 0 depending on who wrote it, and the value is kept as written.
converter.register_structure_hook(bool | int, _strict(lambda v: v, (bool, int), "bool or int"))
converter.register_unstructure_hook(Path, str)


def failures(exc: BaseException, path: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], BaseException]]:
    """Every leaf failure inside a cattrs validation error, with the key path of the value it is about
    (an empty path: the class itself refused the values, e.g. a check in `__attrs_post_init__`)."""
    if isinstance(exc, (ClassValidationError, IterableValidationError)):
        with_notes, without = exc.group_exceptions()
        for sub, note in with_notes:
            yield from failures(sub, (*path, note.name if hasattr(note, "name") else note.index))
        for sub in without:
            yield from failures(sub, path)
    else:
        yield path, exc
