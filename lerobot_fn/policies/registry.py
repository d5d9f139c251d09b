"""Policy families by LeRobot's config "type", imported lazily (`import lerobot_fn.policies` stays cheap)."""

from __future__ import annotations

import importlib
from types import ModuleType

FAMILIES: dict[str, str] = {
    "act": "lerobot_fn.policies.act",
    "diffusion": "lerobot_fn.policies.diffusion",
    "smolvla": "lerobot_fn.policies.smolvla",
    "pi0": "lerobot_fn.policies.pi0",
    "pi05": "lerobot_fn.policies.pi05",
}


def family(policy_type: str, *, source: str = "config.json") -> ModuleType:
    """The family module for `policy_type` ("act", "diffusion"); unknown types are a clear error."""
    module = FAMILIES.get(policy_type)
    if module is None:
        raise ValueError(
            f"{source}: policy type {policy_type!r} is not supported; known types: {', '.join(sorted(FAMILIES))}"
        )
    return importlib.import_module(module)


def register(policy_type: str, module: str) -> None:
    """Add a family (`module` exports CONFIG_TYPE, Config, build_model, predict_chunk, ...)."""
    FAMILIES[policy_type] = module
