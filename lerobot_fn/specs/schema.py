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


def available_devices() -> list[str]:
    """The torch devices this machine can run on: cpu, then cuda, cuda:0.. and mps when present."""
    found = ["cpu"]
    try:
        import torch
    except ImportError:
        return found
    if torch.cuda.is_available():
        found += ["cuda"] + [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        found.append("mps")
    return found


def device_problem(value: str, *, allow_auto: bool = False) -> str | None:
    """Why `value` is not a usable device here (None when it is): a typo ("tpu", "gpu") or a device
    this machine lacks ("cuda" without a GPU)."""
    if allow_auto and value == "auto":
        return None
    if value == "cpu":  # no torch import for the common case
        return None
    available = available_devices()
    if value in available:
        return None
    kind, _, index = value.partition(":")
    choices = (["auto"] if allow_auto else []) + available
    if kind not in ("cpu", "cuda", "mps") or (index and not index.isdigit()):
        return f"a torch device ({', '.join(choices)} here)"
    return f"a device this machine has ({', '.join(choices)}; no {value} is visible here)"


def device_validator(*, allow_auto: bool = False):
    """An attrs validator for a `device` spec field, checked when the spec is loaded (exit 2 naming
    the key), not ten seconds into the run: `device: str = spec_field("cpu", doc=..., validator=
    device_validator())`. With `allow_auto`, "auto" (cuda when available, else cpu) is accepted."""

    def validator(_instance: Any, attribute: attrs.Attribute, value: Any) -> None:
        if (expected := device_problem(value, allow_auto=allow_auto)) is not None:
            raise SpecValueError(attribute.name, expected, value)

    return validator


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
    device: str = spec_field("cpu", doc="torch device for the job's computation (cpu, cuda, cuda:1, mps)",
                             validator=device_validator())
