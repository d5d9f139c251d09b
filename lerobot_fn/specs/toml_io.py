"""Spec files: read TOML, apply `--set` overrides, resolve the job's schema, write TOML back."""

from __future__ import annotations

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


def parse_override(text: str) -> tuple[list[str], Any]:
    """`"policy.chunk_size=50"` -> (["policy", "chunk_size"], 50). The value is parsed as TOML;
    a bare word that is not valid TOML (`lerobot/pusht`) is taken as a string."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key or any(not part for part in key.split(".")):
        raise SpecError(f"--set {text}", [SpecIssue("", "expected KEY=VALUE with a dotted key, e.g. policy.chunk_size=50")])
    try:
        parsed = tomllib.loads(f"v = {value}")["v"]
    except tomllib.TOMLDecodeError:
        parsed = value
    return key.split("."), parsed


def apply_overrides(raw: dict[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """A copy of `raw` with each `a.b=VALUE` set, creating tables as needed."""
    result = _deep_copy(raw)
    for text in overrides:
        parts, value = parse_override(text)
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


def resolve(raw: dict[str, Any], source: str) -> LoadedSpec:
    """Raw spec data (with `job = "..."`) -> a `LoadedSpec` of the job's typed schema."""
    if "job" not in raw:
        raise SpecError(source, [SpecIssue("job", "missing required key (expected the job's name, e.g. \"train\")")])
    job_name = raw["job"]
    if not isinstance(job_name, str):
        raise SpecError(source, [SpecIssue("job", f"expected a string, found {job_name!r}")])
    job = get_job(job_name, source)
    body = {k: v for k, v in raw.items() if k != "job"}
    return LoadedSpec(job=job_name, spec=structure(body, job.schema_class(), source), source=source)


def load_raw(path: str | Path, overrides: Iterable[str] = ()) -> dict[str, Any]:
    """A spec file's data with `overrides` applied and its paths absolute: the file's against the
    file's directory, the overrides' against the working directory."""
    raw = read_toml(path)
    overrides = list(overrides)
    merged = apply_overrides(raw, overrides)
    job = JOBS.get(merged.get("job")) if isinstance(merged.get("job"), str) else None
    if job is None:  # `resolve` reports the missing or unknown job
        return merged
    schema = job.schema_class()
    from_file = absolute_paths(raw, schema, Path(path).resolve().parent)
    from_cli = absolute_paths(apply_overrides({}, overrides), schema, Path.cwd())
    return merge(apply_overrides(from_file, overrides), from_cli)


def load_spec(path: str | Path, overrides: Iterable[str] = ()) -> LoadedSpec:
    """Read, override and validate a spec file in one step (paths resolved as `load_raw` says)."""
    return resolve(load_raw(path, overrides), str(path))


def dump_spec(job: str, spec: Any) -> str:
    """The TOML text of a resolved spec; `load_spec` of it gives back an equal spec."""
    return tomli_w.dumps({"job": job, **unstructure(spec)})
