"""The checks every family's `Config.from_dict` starts with: the right "type", no unknown key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs


def config_fields(cls: type, raw: Mapping[str, Any], config_type: str, label: str) -> dict[str, Any]:
    """LeRobot's config.json dict without "type", after checking "type" and the keys against `cls`."""
    fields = dict(raw)
    kind = fields.pop("type", config_type)
    if kind != config_type:
        raise ValueError(f'{label} config: "type" is {kind!r}, expected {config_type!r}')
    known = {a.name for a in attrs.fields(cls)}
    unknown = sorted(set(fields) - known)
    if unknown:
        raise ValueError(f"{label} config: unknown key(s) {unknown}; known keys: {sorted(known)}")
    return fields
