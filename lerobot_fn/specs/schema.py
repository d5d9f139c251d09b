"""Building blocks for job schemas: documented fields and the common `[run]` table."""

from __future__ import annotations

from typing import Any

import attrs

from .paths import KINDS, PATH

_NOTHING = attrs.NOTHING


def spec_field(
    default: Any = _NOTHING, *, doc: str, validator=None, converter=None, path: str | None = None
) -> Any:
    """An attrs field whose `doc` is shown by `lerobot-run --explain` (no default: required key).

    `path` (one of `specs.paths.KINDS`): the field holds a path (or a list of them), made absolute
    against the spec file's directory when the spec is loaded (`--set` values: the working directory).
    """
    if path is not None and path not in KINDS:
        raise ValueError(f"spec_field: path must be one of {KINDS}, got {path!r}")
    kwargs: dict[str, Any] = {"metadata": {"doc": doc, "path": path}}
    if validator is not None:
        kwargs["validator"] = validator
    if converter is not None:
        kwargs["converter"] = converter
    if isinstance(default, attrs.Factory):
        return attrs.field(default=default, **kwargs)
    if default is _NOTHING:
        return attrs.field(**kwargs)
    return attrs.field(default=default, **kwargs)


class SpecValueError(ValueError):
    """A value of the right type that a validator refuses; reported at `<table>.<field>`."""

    def __init__(self, field: str, expected: str, found: Any):
        self.field, self.expected, self.found = field, expected, found
        super().__init__(f"{field}: expected {expected}, found {found!r}")


def check(predicate, expected: str):
    """An attrs validator: `check(lambda v: v > 0, "a number > 0")`."""

    def validator(_instance: Any, attribute: attrs.Attribute, value: Any) -> None:
        if not predicate(value):
            raise SpecValueError(attribute.name, expected, value)

    return validator


positive = check(lambda v: v > 0, "a number > 0")


def field_doc(field: attrs.Attribute) -> str:
    return field.metadata.get("doc", "")


@attrs.frozen
class RunOptions:
    """Options every job shares: where its run directory goes, its seed, its device."""

    output_dir: str | None = spec_field(
        None, doc="run directory; default outputs/<job>/<YYYY-MM-DD_HH-MM-SS> under the working directory",
        path=PATH,
    )
    seed: int = spec_field(0, doc="seed for every random generator the job creates")
    device: str = spec_field("cpu", doc="torch device for the job's computation (cpu, cuda, cuda:1, mps)")
