"""Spec files: read TOML, apply `--set` overrides, resolve the job's schema, write TOML back."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import attrs
import tomli_w

from .converter import structure, unstructure
from .errors import SpecError, SpecIssue
from .paths import absolute_paths, merge
from .registry import JOBS, get_job

BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


@attrs.frozen
class LoadedSpec:
    """A validated spec: the job's name, its typed schema instance, and where it came from."""

    job: str
    spec: Any
    source: str


def read_toml(path: str | Path) -> dict[str, Any]:
    """Parse a TOML file; a missing or malformed file is a `SpecError` naming it."""
    path = Path(path)
    if not path.is_file():
        what = "is a directory, not a spec file" if path.is_dir() else "not found"
        raise SpecError(str(path), [SpecIssue("", f"spec file {what}")])
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(str(path), [SpecIssue("", f"not valid TOML: {exc}")]) from None
    except UnicodeDecodeError as exc:
        raise SpecError(str(path), [SpecIssue("", f"not UTF-8 text: {exc}")]) from None


def parse_override(text: str, example: str | None = None) -> tuple[list[str], Any]:
    """`"train.steps=50"` -> (["train", "steps"], 50). The value is parsed as TOML; a bare word
    that is not valid TOML (`lerobot/pusht`) is taken as a string. `example`: a real `KEY=VALUE` of
    the job, shown when `text` is malformed."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key or any(not part for part in key.split(".")):
        hint = f"e.g. {example}" if example else "`lerobot-run --explain JOB` lists a job's keys"
        raise SpecError(f"--set {text}", [SpecIssue("", f"expected KEY=VALUE with a dotted key ({hint})")])
    try:
        parsed = tomllib.loads(f"v = {value}")["v"]
    except tomllib.TOMLDecodeError:
        parsed = value
    return key.split("."), parsed


def apply_overrides(raw: dict[str, Any], overrides: Iterable[str], example: str | None = None) -> dict[str, Any]:
    """A copy of `raw` with each `a.b=VALUE` set, creating tables as needed."""
    result = _deep_copy(raw)
    for text in overrides:
        parts, value = parse_override(text, example)
        table = result
        for depth, part in enumerate(parts[:-1]):
            node = table.setdefault(part, {})
            if not isinstance(node, dict):
                where = ".".join(parts[: depth + 1])
                raise SpecError(f"--set {text}", [SpecIssue(where, f"is {type(node).__name__}, not a table")])
            table = node
        table[parts[-1]] = value
    return result


def _deep_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value


def resolve(raw: dict[str, Any], source: str, overrides: Iterable[str] = ()) -> LoadedSpec:
    """Raw spec data (with `job = "..."`) -> a `LoadedSpec` of the job's typed schema. A problem with
    a value set by one of `overrides` is reported at that `--set` argument, not at the file."""
    if "job" not in raw:
        jobs = ", ".join(sorted(JOBS))
        raise SpecError(source, [SpecIssue("job", f"missing required key: the job to run, one of {jobs}")])
    job_name = raw["job"]
    if not isinstance(job_name, str):
        raise SpecError(source, [SpecIssue("job", f"expected a string, found {job_name!r}")])
    job = get_job(job_name, source)
    body = {k: v for k, v in raw.items() if k != "job"}
    try:
        spec = structure(body, job.schema_class(), source)
    except SpecError as exc:
        raise SpecError(source, [_blame(issue, list(overrides)) for issue in exc.issues]) from None
    return LoadedSpec(job=job_name, spec=spec, source=source)


def _blame(issue: SpecIssue, overrides: list[str]) -> SpecIssue:
    """The issue, attributed to the last `--set` that wrote its key (or a table above it)."""
    for text in reversed(overrides):
        key = text.partition("=")[0].strip()
        if issue.path == key or issue.path.startswith((key + ".", key + "[")):
            return attrs.evolve(issue, source=f"--set {text}")
    return issue


def _job_schema(raw: dict[str, Any]) -> type | None:
    job = JOBS.get(raw.get("job")) if isinstance(raw.get("job"), str) else None
    return job.schema_class() if job is not None else None


def example_override(schema: type) -> str | None:
    """A real `KEY=VALUE` of a schema (a key inside a table preferred), for usage hints."""
    attrs.resolve_types(schema)
    scalars = [f for f in attrs.fields(schema) if isinstance(f.default, (bool, int, float, str)) and f.default != ""]
    for field in attrs.fields(schema):
        table = isinstance(field.type, type) and attrs.has(field.type)
        if table and (inner := example_override(field.type)) and "." not in inner:
            return f"{field.name}.{inner}"
    if scalars:
        return f"{scalars[0].name}={_toml_value(scalars[0].default)}"
    return None


def load_raw(path: str | Path, overrides: Iterable[str] = ()) -> dict[str, Any]:
    """A spec file's data with `overrides` applied and its paths absolute: the file's against the
    file's directory, the overrides' against the working directory."""
    raw = read_toml(path)
    overrides = list(overrides)
    file_schema = _job_schema(raw)
    merged = apply_overrides(raw, overrides, example_override(file_schema) if file_schema else None)
    schema = _job_schema(merged)
    if schema is None:  # `resolve` reports the missing or unknown job
        return merged
    from_file = absolute_paths(raw, schema, Path(path).resolve().parent)
    from_cli = absolute_paths(apply_overrides({}, overrides), schema, Path.cwd())
    return merge(apply_overrides(from_file, overrides), from_cli)


def load_spec(path: str | Path, overrides: Iterable[str] = ()) -> LoadedSpec:
    """Read, override and validate a spec file in one step (paths resolved as `load_raw` says)."""
    overrides = list(overrides)
    return resolve(load_raw(path, overrides), str(path), overrides)


def dump_spec(job: str, spec: Any) -> str:
    """The TOML text of a resolved spec; `load_spec` of it gives back an equal spec. Arrays are
    written on one line (`image_size = [64, 64]`), tables as `[table]` sections."""
    return "\n".join(_toml_lines({"job": job, **unstructure(spec)}, ())) + "\n"


def _toml_key(key: str) -> str:
    return key if BARE_KEY.fullmatch(key) else _toml_value(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + " }" if value else "{}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return tomli_w.dumps({"v": value}).partition(" = ")[2].rstrip("\n")


def _toml_lines(table: dict[str, Any], prefix: tuple[str, ...]) -> list[str]:
    lines = [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in table.items() if not isinstance(v, dict)]
    for key, value in table.items():
        if isinstance(value, dict):
            lines += ["", "[" + ".".join(_toml_key(k) for k in (*prefix, key)) + "]"]
            lines += _toml_lines(value, (*prefix, key))
    return lines
