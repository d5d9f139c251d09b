"""Paths in a spec resolve against the spec file's directory, values given with `--set` against
the working directory, so a spec runs the same from anywhere. Done once, when the spec is loaded:
the resolved spec (`spec.toml` in the run directory) holds absolute paths.

A schema field says it holds a path with `spec_field(..., path=PATH | DATASET | DATASET_OR_HUB)`.
"""

from __future__ import annotations

import os
import re
import types
import typing
from pathlib import Path
from typing import Any

import attrs

PATH = "path"  # a file or directory
DATASET = "dataset"  # a dataset directory, or `sample:<name>` (see lerobot_fn.data.sample_dataset)
DATASET_OR_HUB = "dataset_or_hub"  # also a Hub repo id (`user/name`) when no such local directory exists
KINDS = (PATH, DATASET, DATASET_OR_HUB)
NOTES = {  # shown by `lerobot-run --explain` after the field's doc
    PATH: "a path, relative to the spec file",
    DATASET: "a dataset directory relative to the spec file, or sample:<name>, e.g. sample:pusht",
    DATASET_OR_HUB: "a dataset directory relative to the spec file, a Hub repo id, or sample:<name>",
}
SAMPLE_PREFIX = "sample:"
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*/[\w.\-]+$")


def absolute(value: str, base: Path, kind: str) -> str:
    """`value` made absolute against `base`; "" (meaning "the default") and dataset names stay."""
    if not value:
        return value
    if kind != PATH and value.startswith(SAMPLE_PREFIX):
        return value
    path = Path(value).expanduser()
    if path.is_absolute():
        return str(path)
    if kind == DATASET_OR_HUB and HUB_ID.match(value) and not (base / path).exists():
        return value
    return os.path.normpath(base / path)


def _table_class(tp: Any) -> type | None:
    if isinstance(tp, type) and attrs.has(tp):
        return tp
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return next((a for a in typing.get_args(tp) if isinstance(a, type) and attrs.has(a)), None)
    return None


def absolute_paths(raw: dict[str, Any], schema: type, base: Path) -> dict[str, Any]:
    """A copy of raw spec data with the path fields of `schema` made absolute against `base`."""
    attrs.resolve_types(schema)
    out = dict(raw)
    for field in attrs.fields(schema):
        if field.name not in out:
            continue
        value, kind = out[field.name], field.metadata.get("path")
        if kind and isinstance(value, str):
            out[field.name] = absolute(value, base, kind)
        elif kind and isinstance(value, list):
            out[field.name] = [absolute(v, base, kind) if isinstance(v, str) else v for v in value]
        elif (table := _table_class(field.type)) is not None and isinstance(value, dict):
            out[field.name] = absolute_paths(value, table, base)
    return out


def merge(into: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """`into` with every leaf of `values` set in it (tables merged, everything else replaced)."""
    out = dict(into)
    for key, value in values.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out
