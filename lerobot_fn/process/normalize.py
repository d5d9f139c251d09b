"""Normalize / unnormalize steps with LeRobot 0.6.1's modes, formulas and epsilons.

Formulas (x: value, s: the feature's statistics, eps default 1e-8):
- MEAN_STD:   (x - mean) / (std + eps);              inverse  x * std + mean
- MIN_MAX:    2 * (x - min) / d - 1, d = max - min;  inverse  (x + 1) / 2 * d + min
- QUANTILES:  2 * (x - q01) / d - 1, d = q99 - q01;  inverse  (x + 1) * d / 2 + q01
- QUANTILE10: 2 * (x - q10) / d - 1, d = q90 - q10;  inverse  (x + 1) * d / 2 + q10
- IDENTITY, or a feature without statistics: unchanged.
A zero range `d` is replaced by eps. Statistics follow the input's device and dtype. The operation
order matches LeRobot's so results are bitwise equal.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import attrs
import numpy as np
import torch
from tensordict import TensorDictBase

from lerobot_fn.process.keys import nested_key
from lerobot_fn.process.step import ProcessorStep
from lerobot_fn.types import (
    FeatureType,
    NormalizationMode,
    PolicyFeature,
    features_from_dict,
    features_to_dict,
    norm_map_from_dict,
    norm_map_to_dict,
)

Stats = dict[str, dict[str, torch.Tensor]]

_REQUIRED = {
    NormalizationMode.MEAN_STD: ("mean", "std"),
    NormalizationMode.MIN_MAX: ("min", "max"),
    NormalizationMode.QUANTILES: ("q01", "q99"),
    NormalizationMode.QUANTILE10: ("q10", "q90"),
}


def _stat(stats: Mapping[str, torch.Tensor], name: str, key: str, mode: NormalizationMode, like: torch.Tensor):
    value = stats.get(name)
    if value is None:
        need = " and ".join(_REQUIRED[mode])
        raise ValueError(
            f"{mode.value} normalization of {key!r} needs the {need} statistics, but {name!r} is missing "
            f"(present: {sorted(n for n in stats if n != '_fast')}); recompute the dataset stats with these entries"
        )
    return value.to(device=like.device, dtype=like.dtype)


def _range(low: torch.Tensor, high: torch.Tensor, eps: float, like: torch.Tensor) -> torch.Tensor:
    denom = high - low
    return torch.where(denom == 0, torch.tensor(eps, device=like.device, dtype=like.dtype), denom)


def _precomputed(x: torch.Tensor, mode: NormalizationMode, stats: Mapping[str, torch.Tensor], inverse: bool):
    """The transform from cached (offset, denominator) when they already match x's dtype and device.

    The cache holds exactly the tensors the formulas below compute first (std + eps, the eps-guarded
    range), so results stay bitwise equal to LeRobot's."""
    cache = stats.get("_fast")
    if cache is None:
        return None
    offset, denom = cache
    if offset.dtype != x.dtype or offset.device != x.device:
        return None
    if mode == NormalizationMode.MEAN_STD:
        return x * stats["std"] + offset if inverse else (x - offset) / denom
    if mode == NormalizationMode.MIN_MAX:
        return (x + 1) / 2 * denom + offset if inverse else 2 * (x - offset) / denom - 1
    return (x + 1.0) * denom / 2.0 + offset if inverse else 2.0 * (x - offset) / denom - 1.0


def fast_stats(stats: Mapping[str, torch.Tensor], mode: NormalizationMode, eps: float) -> dict[str, torch.Tensor]:
    """`stats` plus a cached (offset, denominator) pair for `mode` (when the needed entries exist)."""
    out = dict(stats)
    out.pop("_fast", None)
    mode = NormalizationMode(mode)
    if mode == NormalizationMode.IDENTITY or any(n not in stats for n in _REQUIRED[mode]):
        return out
    lo, hi = _REQUIRED[mode]
    if mode == NormalizationMode.MEAN_STD:
        offset, denom = stats["mean"], stats["std"] + eps
    else:
        offset, denom = stats[lo], _range(stats[lo], stats[hi], eps, stats[lo])
    if offset.dtype != torch.float32 or offset.shape != denom.shape:
        return out
    out["_fast"] = (offset, denom)
    return out


def normalize_tensor(
    x: torch.Tensor,
    mode: NormalizationMode,
    stats: Mapping[str, torch.Tensor] | None,
    *,
    eps: float = 1e-8,
    inverse: bool = False,
    key: str = "<tensor>",
) -> torch.Tensor:
    """Apply one LeRobot normalisation mode (or its inverse) to `x`; see the module docstring."""
    mode = NormalizationMode(mode)
    if mode == NormalizationMode.IDENTITY or stats is None:
        return x
    if not x.is_floating_point():
        x = x.to(torch.float32)
    fast = _precomputed(x, mode, stats, inverse)
    if fast is not None:
        return fast
    if mode == NormalizationMode.MEAN_STD:
        mean = _stat(stats, "mean", key, mode, x)
        std = _stat(stats, "std", key, mode, x)
        if inverse:
            return x * std + mean
        return (x - mean) / (std + eps)
    if mode == NormalizationMode.MIN_MAX:
        low = _stat(stats, "min", key, mode, x)
        high = _stat(stats, "max", key, mode, x)
        denom = _range(low, high, eps, x)
        if inverse:
            return (x + 1) / 2 * denom + low
        return 2 * (x - low) / denom - 1
    lo_name, hi_name = _REQUIRED[mode]
    low = _stat(stats, lo_name, key, mode, x)
    high = _stat(stats, hi_name, key, mode, x)
    denom = _range(low, high, eps, x)
    if inverse:
        return (x + 1.0) * denom / 2.0 + low
    return 2.0 * (x - low) / denom - 1.0


def stats_to_tensors(stats: Mapping[str, Mapping[str, Any]] | None) -> Stats:
    """Nested stats (numbers, lists, numpy arrays or tensors, e.g. meta/stats.json) -> float32 tensors."""
    out: Stats = {}
    for key, sub in (stats or {}).items():
        out[key] = {}
        for name, value in sub.items():
            if name == "_fast":  # derived cache, rebuilt by the step
                continue
            if isinstance(value, torch.Tensor):
                tensor = value.detach().to(torch.float32)
            else:
                tensor = torch.as_tensor(np.asarray(value, dtype=np.float32))
            out[key][name] = tensor
    return out


def stats_from_state_dict(state: Mapping[str, torch.Tensor]) -> Stats:
    """`{"observation.state.mean": t}` (LeRobot's step state) -> `{"observation.state": {"mean": t}}`."""
    out: Stats = {}
    for flat_key, tensor in state.items():
        if "." not in flat_key:
            raise ValueError(f"normalizer state key {flat_key!r} is not of the form '<feature>.<stat>'")
        key, name = flat_key.rsplit(".", 1)
        out.setdefault(key, {})[name] = tensor.to(torch.float32)
    return out


def _reshape_visual(stats: Stats, features: Mapping[str, PolicyFeature]) -> Stats:
    """Flat (C,) image statistics -> (C, 1, 1) so they broadcast over H and W (as LeRobot does)."""
    out = {k: dict(v) for k, v in stats.items()}
    for key, feature in features.items():
        if feature.type != FeatureType.VISUAL or key not in out:
            continue
        for name, tensor in out[key].items():
            if tensor.ndim == 1:
                out[key][name] = tensor.reshape(-1, 1, 1)
    return out


@attrs.frozen(eq=False)
class _NormalizeBase(ProcessorStep):
    features: dict[str, PolicyFeature] = attrs.field(converter=lambda f: dict(f))
    norm_map: dict[FeatureType, NormalizationMode] = attrs.field(
        converter=lambda m: {FeatureType(k): NormalizationMode(v) for k, v in dict(m).items()}
    )
    stats: Stats = attrs.field(factory=dict)
    eps: float = 1e-8
    normalize_observation_keys: frozenset[str] | None = attrs.field(
        default=None, converter=lambda k: None if k is None else frozenset(k)
    )

    inverts: ClassVar[bool] = False  # True: the step maps normalised values back to raw units

    def __attrs_post_init__(self) -> None:
        stats = _reshape_visual(stats_to_tensors(self.stats), self.features)
        modes = {key: self.norm_map.get(f.type, NormalizationMode.IDENTITY) for key, f in self.features.items()}
        modes.setdefault("action", self.norm_map.get(FeatureType.ACTION, NormalizationMode.IDENTITY))
        cached = {k: fast_stats(v, modes[k], self.eps) if k in modes else v for k, v in stats.items()}
        object.__setattr__(self, "stats", cached)

    @classmethod
    def from_stats(cls, features, norm_map, stats, *, eps: float = 1e-8, normalize_observation_keys=None):
        """From `{feature: {stat: array}}` statistics such as a dataset's `meta/stats.json`."""
        return cls(features, norm_map, stats_to_tensors(stats), eps, normalize_observation_keys)

    @classmethod
    def from_config(cls, config: Mapping[str, Any], state: Mapping[str, torch.Tensor] | None = None):
        unknown = set(config) - {"eps", "features", "norm_map", "normalize_observation_keys"}
        if unknown:
            raise ValueError(f"{cls.registry_name}: unknown config keys {sorted(unknown)}")
        return cls(
            features=features_from_dict(config.get("features")),
            norm_map=norm_map_from_dict(config.get("norm_map")),
            stats=stats_from_state_dict(state or {}),
            eps=float(config.get("eps", 1e-8)),
            normalize_observation_keys=config.get("normalize_observation_keys"),
        )

    def to(self, device: torch.device | str) -> _NormalizeBase:
        """The same step with its statistics on `device` (so no copy happens per call)."""
        moved = {k: {n: t.to(device) for n, t in sub.items() if n != "_fast"} for k, sub in self.stats.items()}
        return attrs.evolve(self, stats=moved)

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "eps": self.eps,
            "features": features_to_dict(self.features),
            "norm_map": norm_map_to_dict(self.norm_map),
        }
        if self.normalize_observation_keys is not None:
            config["normalize_observation_keys"] = sorted(self.normalize_observation_keys)
        return config

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {
            f"{key}.{name}": t.cpu() for key, sub in self.stats.items() for name, t in sub.items() if name != "_fast"
        }

    def _targets(self) -> list[tuple[str, FeatureType]]:
        """(dotted name, feature type) pairs this step transforms, in LeRobot's order."""
        targets = []
        for key, feature in self.features.items():
            if feature.type == FeatureType.ACTION or not key.startswith("observation."):
                continue
            if self.normalize_observation_keys is not None and key not in self.normalize_observation_keys:
                continue
            targets.append((key, feature.type))
        targets.append(("action", FeatureType.ACTION))
        return targets

    def transform(self, key: str, feature_type: FeatureType, x: torch.Tensor) -> torch.Tensor:
        """The (un)normalised value of feature `key` (identity when it has no statistics)."""
        mode = self.norm_map.get(feature_type, NormalizationMode.IDENTITY)
        stats = self.stats.get(key)
        try:
            return normalize_tensor(x, mode, stats, eps=self.eps, inverse=self.inverts, key=key)
        except RuntimeError as err:
            shapes = {n: tuple(t.shape) for n, t in (stats or {}).items() if n != "_fast"}
            raise ValueError(
                f"{self.registry_name}: {key!r} has shape {tuple(x.shape)}, which does not fit its "
                f"statistics {shapes} (feature shape {self.features.get(key, None) and self.features[key].shape})"
            ) from err

    def __call__(self, td: TensorDictBase) -> TensorDictBase:
        out = td.copy()
        for key, feature_type in self._targets():
            value = td.get(nested_key(key), None)
            if isinstance(value, torch.Tensor):
                out.set(nested_key(key), self.transform(key, feature_type, value))
        return out

    def __repr__(self) -> str:
        modes = {t.value: m.value for t, m in self.norm_map.items()}
        return f"{type(self).__name__}(features={list(self.features)}, norm_map={modes}, eps={self.eps})"


@attrs.frozen(eq=False, repr=False)
class Normalize(_NormalizeBase):
    """Map raw observations and `action` into the policy's normalised space (LeRobot's normalizer)."""

    registry_name: ClassVar[str] = "normalizer_processor"
    inverts: ClassVar[bool] = False

    @property
    def inverse(self) -> Unnormalize:
        return Unnormalize(self.features, self.norm_map, self.stats, self.eps, self.normalize_observation_keys)


@attrs.frozen(eq=False, repr=False)
class Unnormalize(_NormalizeBase):
    """Map normalised policy outputs back to raw units (LeRobot's unnormalizer)."""

    registry_name: ClassVar[str] = "unnormalizer_processor"
    inverts: ClassVar[bool] = True

    @property
    def inverse(self) -> Normalize:
        return Normalize(self.features, self.norm_map, self.stats, self.eps, self.normalize_observation_keys)
