"""Raw TOML data <-> frozen attrs job schemas, through the one cattrs converter (`lerobot_fn.converter`).

Strict on purpose: a TOML string is never coerced into a number, a float never truncated into an
int, unknown keys are errors. Failures become a `SpecError` listing every problem with its TOML
path, what was expected and what was found, plus a did-you-mean for misspelled keys.
"""

from __future__ import annotations

import enum
import typing
from collections.abc import Mapping
from typing import Any

import attrs
from cattrs.errors import ClassValidationError, ForbiddenExtraKeysError, IterableValidationError

from lerobot_fn.converter import converter

from .errors import SpecError, SpecIssue, did_you_mean
from .schema import SpecValueError

__all__ = ["converter", "structure", "unstructure"]


def _type_name(tp: Any) -> str:
    if tp is None or tp is type(None):
        return "nothing"
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return "one of " + ", ".join(repr(m.value) for m in tp)
    if isinstance(tp, type) and attrs.has(tp):
        return "a table"
    origin = typing.get_origin(tp)
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(tp))
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return " or ".join(_type_name(a) for a in args)
    if origin is tuple and typing.get_args(tp) and Ellipsis not in typing.get_args(tp):
        return f"an array of {len(typing.get_args(tp))} items"
    if origin in (list, tuple, set, frozenset):
        return "an array"
    if origin in (dict, Mapping):
        return "a table"
    if isinstance(tp, type):
        return {"str": "a string", "int": "an integer", "float": "a number", "bool": "true or false"}.get(
            tp.__name__, tp.__name__
        )
    return str(tp)


def _found(value: Any) -> str:
    kind = {
        str: "a string",
        int: "an integer",
        float: "a number",
        bool: "a boolean",
        list: "an array",
        dict: "a table",
    }.get(type(value), type(value).__name__)
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    if isinstance(value, list):
        return f"an array of {len(value)} items"
    return f"{kind} {text}" if not isinstance(value, dict) else kind


def _join(path: str, part: str | int) -> str:
    if isinstance(part, int):
        return f"{path}[{part}]"
    return f"{path}.{part}" if path else part


def _lookup(data: Any, path_parts: list[str | int]) -> Any:
    for part in path_parts:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _issues(exc: BaseException, cls: Any, raw: Any, parts: list[str | int]) -> list[SpecIssue]:
    path = ""
    for p in parts:
        path = _join(path, p)
    if isinstance(exc, ForbiddenExtraKeysError):
        names = [f.name for f in attrs.fields(exc.cl)] if attrs.has(exc.cl) else []
        return [
            SpecIssue(_join(path, key), f"unknown key '{key}'{did_you_mean(key, names)}")
            for key in sorted(exc.extra_fields)
        ]
    if isinstance(exc, (ClassValidationError, IterableValidationError)):
        issues: list[SpecIssue] = []
        with_notes, without = exc.group_exceptions()
        for sub, note in with_notes:
            step = note.name if hasattr(note, "name") else note.index
            sub_cls = getattr(note, "type", None)
            if isinstance(sub, KeyError) and hasattr(note, "name"):
                issues.append(
                    SpecIssue(_join(path, step), f"missing required key (expected {_type_name(sub_cls)})")
                )
            else:
                issues.extend(_issues(sub, sub_cls, raw, [*parts, step]))
        for sub in without:
            issues.extend(_issues(sub, cls, raw, parts))
        return issues
    if isinstance(exc, SpecValueError):
        return [SpecIssue(_join(path, exc.field), f"expected {exc.expected}, found {exc.found!r}")]
    value = _lookup(raw, parts)
    if not isinstance(exc, (TypeError, ValueError)):  # not a wrong value: a failure while checking it
        return [SpecIssue(path, f"could not be checked: {type(exc).__name__}: {exc}")]
    expected = _type_name(cls) if cls is not None else "a valid value"
    message = f"expected {expected}, found {_found(value)}"
    return [SpecIssue(path, message)]


def structure(raw: Mapping[str, Any], cls: type, source: str) -> Any:
    """Raw TOML data -> an instance of `cls`, or a `SpecError` naming every problem in `source`."""
    try:
        return converter.structure(dict(raw), cls)
    except (ClassValidationError, IterableValidationError, ForbiddenExtraKeysError) as exc:
        raise SpecError(source, _issues(exc, cls, raw, [])) from None
    except SpecValueError as exc:  # a validator of the top-level schema
        raise SpecError(source, [SpecIssue(exc.field, f"expected {exc.expected}, found {exc.found!r}")]) from None


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_drop_none(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    return value


def unstructure(spec: Any) -> dict[str, Any]:
    """A schema instance -> plain TOML-ready data (None values are left out: TOML has no null)."""
    return _drop_none(converter.unstructure(spec))
