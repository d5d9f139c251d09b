"""LeRobot config.json <-> a family's attrs Config: the `PreTrainedConfig` fields every family starts
with (`PreTrainedFields`), the checks `from_dict` starts with (the right "type", no unknown key),
structuring through the one cattrs converter (`lerobot_fn.converter`: the value types come from the
Config's annotations, no per-family type table), the feature/normalisation conversions both ways,
and the dict `to_dict` writes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

import attrs
from cattrs.errors import ClassValidationError, IterableValidationError

from lerobot_fn.converter import converter, failures
from lerobot_fn.policies.features import (
    FeatureViews,
    features_from_dict,
    features_to_dict,
    norm_map_from_dict,
    norm_map_to_dict,
)
from lerobot_fn.types import FeatureType, NormalizationMode, PolicyFeature

C = TypeVar("C")


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


def opt_list(value: Any) -> list[str] | None:
    return None if value is None else list(value)


def opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def as_features(value: Any) -> dict[str, PolicyFeature]:
    """`input_features` / `output_features` given as PolicyFeatures or in config.json's dict form."""
    return {name: f if isinstance(f, PolicyFeature) else PolicyFeature(type=f["type"], shape=f["shape"])
            for name, f in (value or {}).items()}


def as_norm_map(value: Any) -> dict[FeatureType, NormalizationMode]:
    """`normalization_mapping` with enum keys and values (strings such as "VISUAL" accepted)."""
    return {FeatureType(k): NormalizationMode(v) for k, v in value.items()}


@attrs.frozen
class PreTrainedFields(FeatureViews):
    """LeRobot's `PreTrainedConfig` fields (n_obs_steps ... pretrained_revision), which every family's
    attrs Config subclasses. attrs puts them first, as LeRobot's dataclasses do; a family that
    redeclares one for another default (Diffusion's `n_obs_steps = 2`) keeps its place in
    config.json all the same (`config_to_dict` writes these fields first)."""

    n_obs_steps: int = 1
    input_features: dict[str, PolicyFeature] = attrs.field(factory=dict, converter=as_features)
    output_features: dict[str, PolicyFeature] = attrs.field(factory=dict, converter=as_features)
    device: str | None = None
    use_amp: bool = False
    use_peft: bool = False
    push_to_hub: bool = True
    repo_id: str | None = None
    private: bool | None = None
    tags: list[str] | None = attrs.field(default=None, converter=opt_list)
    license: str | None = None
    pretrained_path: str | None = attrs.field(default=None, converter=opt_str)
    pretrained_revision: str | None = None

    CONFIG_TYPE: ClassVar[str]
    """LeRobot's config.json "type" (set by each family's Config)."""
    LABEL: ClassVar[str]
    """How error messages name the family ("ACT config: ...")."""

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Any:
        """Parse LeRobot's `config.json` dict; unknown keys, a wrong "type" or value raise ValueError."""
        return structure_config(cls, d, cls.CONFIG_TYPE, cls.LABEL)

    def to_dict(self) -> dict[str, Any]:
        """LeRobot's `config.json` form: "type" first, then every field in LeRobot's order."""
        return config_to_dict(self, self.CONFIG_TYPE)

    @property
    def action_delta_indices(self) -> list[int]:
        """Frame offsets of the action targets a training item needs: the whole chunk."""
        return list(range(self.chunk_size))

    @property
    def reward_delta_indices(self) -> None:
        return None


_COMMON = tuple(a.name for a in attrs.fields(PreTrainedFields))


def structure_config(cls: type[C], raw: Mapping[str, Any], config_type: str, label: str) -> C:
    """LeRobot's config.json dict -> `cls`, every value checked against the field's annotation.

    A wrongly typed value raises ValueError naming the key ("act config: key 'chunk_size' has invalid
    value '20' (expected int)"); the Config's own checks (`__attrs_post_init__`) raise theirs."""
    fields = config_fields(cls, raw, config_type, label)
    try:
        return converter.structure(fields, cls)
    except (ClassValidationError, IterableValidationError) as exc:
        path, leaf = next(failures(exc))
        if not path:  # the Config refused the values in its own words
            raise leaf from None
        key = ".".join(str(p) for p in path)
        if isinstance(leaf, KeyError):
            raise ValueError(f"{label} config: key {key!r} is missing") from None  # noqa: TRY004
        value: Any = fields
        for part in path:
            value = value[part]
        raise ValueError(f"{label} config: key {key!r} has invalid value {value!r} ({leaf})") from None


def parse_features(fields: dict[str, Any]) -> dict[str, Any]:
    """`fields` with `input_features` / `output_features` / `normalization_mapping` as typed values."""
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
    out: dict[str, Any] = {"type": config_type}
    names = [a.name for a in attrs.fields(type(config))]
    if isinstance(config, PreTrainedFields):
        names = [*_COMMON, *(n for n in names if n not in _COMMON)]
    for name in names:
        value = getattr(config, name)
        if name in ("input_features", "output_features"):
            value = features_to_dict(value)
        elif name == "normalization_mapping":
            value = norm_map_to_dict(value)
        elif isinstance(value, (tuple, list)):
            value = list(value)
        out[name] = value
    return out
