"""Benchmark env configs: one frozen attrs class per benchmark, registered by its LeRobot `type` name.

Adding a benchmark is adding a class decorated with `@register`: nothing else dispatches on the
name. A config is a value (cheap to build, importing no simulator); `make_gym(task)` is the one
method that imports the benchmark's gym package and builds the simulator, and it is only called
inside an env worker, on that worker's first reset.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import attrs

from lerobot_fn.policies.features import FeatureType, PolicyFeature

ENV_TYPES: dict[str, type[EnvConfig]] = {}


class MissingExtraError(ImportError):
    """A benchmark's simulator package is not installed; says which extra brings it."""


def register(name: str) -> Callable[[type], type]:
    """Class decorator: make `cls` the config of env type `name` (`[env] type = "<name>"`)."""

    def wrap(cls: type) -> type:
        cls.type = name
        ENV_TYPES[name] = cls
        return cls

    return wrap


def require(module: str, extra: str) -> Any:
    """Import `module` or say which extra to install (called inside env workers, never at import)."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise MissingExtraError(
            f"the simulator package {module!r} is not installed ({err}); install it with "
            f'pip install "lerobot-fn[{extra}]"'
        ) from err


@attrs.frozen
class Task:
    """One task of a suite: `group` and `task_id` as LeRobot names them, and the natural-language
    `description` the policy gets as its `task`."""

    group: str
    task_id: int
    name: str
    description: str


@attrs.frozen
class ObsKey:
    """Where one LeRobot feature comes from in the gym observation dict.

    `source` is a path into the observation (`("pixels", "top")`), `feature` the LeRobot name
    (`observation.images.top`), `shape` as the gym env gives it (images HWC), `camera` whether it is
    an uint8 image (the env gives it as float32 CHW in [0, 1], as LeRobot's `preprocess_observation`)."""

    source: tuple[str, ...]
    feature: str
    shape: tuple[int, ...]
    camera: bool = False

    @property
    def key(self) -> tuple[str, ...]:
        return tuple(self.feature.split("."))


@attrs.frozen
class EnvConfig:
    """Base of every benchmark config. Subclasses set `type` (via `@register`), `extra`, and fields
    `task`, `fps`, `episode_length`, `obs_type`; they implement `tasks`, `observation_keys`,
    `action_shape` and `make_gym`."""

    type: ClassVar[str] = ""
    extra: ClassVar[str] = "sim"

    def tasks(self) -> list[Task]:
        raise NotImplementedError

    def observation_keys(self) -> list[ObsKey]:
        raise NotImplementedError

    @property
    def action_shape(self) -> tuple[int, ...]:
        raise NotImplementedError

    def make_gym(self, task: Task) -> Any:
        """Build the gymnasium env for `task` (imports the simulator). Runs inside a worker."""
        raise NotImplementedError

    def render_size(self) -> tuple[int, int]:
        """(height, width) of `render()` frames (the videos)."""
        raise NotImplementedError

    def action_bounds(self) -> tuple[float, float]:
        """(low, high) of every action dimension (a random policy draws uniformly between them)."""
        return -1.0, 1.0

    def setup_worker(self) -> None:
        """Process-wide setup before the simulator is imported (e.g. the MuJoCo GL backend)."""

    def features(self) -> dict[str, PolicyFeature]:
        """LeRobot policy features of the env's observations and action (images CHW)."""
        out: dict[str, PolicyFeature] = {}
        for k in self.observation_keys():
            if k.camera:
                h, w, c = k.shape
                out[k.feature] = PolicyFeature(FeatureType.VISUAL, (c, h, w))
            elif k.feature == "observation.environment_state":
                out[k.feature] = PolicyFeature(FeatureType.ENV, k.shape)
            else:
                out[k.feature] = PolicyFeature(FeatureType.STATE, k.shape)
        out["action"] = PolicyFeature(FeatureType.ACTION, self.action_shape)
        return out


class HeadlessGL:
    """Mixin of the MuJoCo benchmarks: choose EGL / OSMesa in the worker before the simulator loads."""

    def setup_worker(self) -> None:
        from .gl import select_backend

        select_backend()


def config_fields(cls: type) -> list[str]:
    return [f.name for f in attrs.fields(cls)]


def make_config(type: str, **options: Any) -> EnvConfig:
    """`make_config("pusht", task="PushT-v0")`: the registered config of `type` with `options`.

    Unknown types and unknown options raise ValueError naming what is known."""
    from lerobot_fn.envs import _load_all

    _load_all()
    cls = ENV_TYPES.get(type)
    if cls is None:
        raise ValueError(f"unknown env type {type!r}; known: {', '.join(sorted(ENV_TYPES))}")
    unknown = sorted(set(options) - set(config_fields(cls)))
    if unknown:
        raise ValueError(
            f"env type {type!r} has no option(s) {', '.join(unknown)}; its options: "
            f"{', '.join(config_fields(cls))}"
        )
    return cls(**options)


def config_from_table(table: Any, source: str, key: str = "env") -> EnvConfig:
    """The config a spec's env table describes (`specs.eval.EnvTable`: `type`, `task`, `options`).

    An unknown type or option is a `SpecError` in `source` (the spec file) at `<key>.type` /
    `<key>.options`, naming what is known: the spec describes, the job resolves it here."""
    # imported here, not at module import: a worker process imports this module and stays light
    from lerobot_fn.envs import _load_all
    from lerobot_fn.specs.errors import SpecError, SpecIssue, did_you_mean

    _load_all()
    if table.type not in ENV_TYPES:
        known = ", ".join(repr(t) for t in sorted(ENV_TYPES))
        raise SpecError(source, [SpecIssue(f"{key}.type", f"expected one of {known}, found {table.type!r}"
                                                          f"{did_you_mean(table.type, ENV_TYPES)}")])
    options = dict(table.options)
    if table.task is not None:
        options["task"] = table.task
    try:
        return make_config(table.type, **options)
    except (ValueError, TypeError) as err:
        raise SpecError(source, [SpecIssue(f"{key}.options", str(err))]) from None


def nested_get(obs: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = obs
    for part in path:
        value = value[part]
    return value
