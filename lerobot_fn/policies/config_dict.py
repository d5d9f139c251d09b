"""LeRobot config.json <-> a family's attrs Config: the checks `from_dict` starts with (the right "type",
no unknown key), the feature/normalisation conversions both ways, and the dict `to_dict` writes."""

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


def parse_features(fields: dict[str, Any]) -> dict[str, Any]:
    """`fields` with `input_features` / `output_features` / `normalization_mapping` as typed values."""
    from lerobot_fn.policies.features import features_from_dict, norm_map_from_dict

    out = dict(fields)
    for key in ("input_features", "output_features"):
        if key in out:
            out[key] = features_from_dict(out[key])
    if "normalization_mapping" in out:
        out["normalization_mapping"] = norm_map_from_dict(out["normalization_mapping"])
    return out


def config_to_dict(config: Any, config_type: str) -> dict[str, Any]:
    """LeRobot's config.json form of an attrs Config: "type" first, then every field in order,
    features and the normalisation mapping in JSON form, tuples as lists."""
    from lerobot_fn.policies.features import features_to_dict, norm_map_to_dict

    out: dict[str, Any] = {"type": config_type}
    for f in attrs.fields(type(config)):
        value = getattr(config, f.name)
        if f.name in ("input_features", "output_features"):
            value = features_to_dict(value)
        elif f.name == "normalization_mapping":
            value = norm_map_to_dict(value)
        elif isinstance(value, (tuple, list)):
            value = list(value)
        out[f.name] = value
    return out
