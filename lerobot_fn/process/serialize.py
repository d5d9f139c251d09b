"""Pipelines <-> LeRobot's processor JSON + step-state form (pure: dicts and tensors, no files).

LeRobot writes `{"name": ..., "steps": [{"registry_name": ..., "config": {...},
"state_file": "<name>_step_<i>_<registry_name>.safetensors"}, ...]}`; the state file holds the
step's `state_dict()`. `data.pretrained` does the file reading and writing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import torch

from lerobot_fn.process.actions import AbsoluteActions, RelativeActions
from lerobot_fn.process.basic import AddBatchDim, DeviceMove, RenameObservations
from lerobot_fn.process.image import ImageCropResize
from lerobot_fn.process.normalize import Normalize, Unnormalize
from lerobot_fn.process.observation import GymObservation
from lerobot_fn.process.prompt import Pi0NewLineTask, Pi05StatePrompt
from lerobot_fn.process.step import Pipeline
from lerobot_fn.process.text import NewLineTask, TokenizeTask

STEP_REGISTRY: dict[str, type] = {
    cls.registry_name: cls
    for cls in (
        Normalize,
        Unnormalize,
        RenameObservations,
        AddBatchDim,
        DeviceMove,
        ImageCropResize,
        GymObservation,
        RelativeActions,
        AbsoluteActions,
        NewLineTask,
        TokenizeTask,
        Pi0NewLineTask,
        Pi05StatePrompt,
    )
}


def sanitized_name(name: str) -> str:
    """LeRobot's file-name form of a pipeline name ("policy_preprocessor")."""
    return re.sub(r"[^a-zA-Z0-9_]", "_", name.lower())


def state_filename(pipeline_name: str, index: int, registry_name: str | None) -> str:
    base = f"{sanitized_name(pipeline_name)}_step_{index}"
    return f"{base}_{registry_name}.safetensors" if registry_name else f"{base}.safetensors"


def pipeline_from_config(
    config: Mapping[str, Any],
    states: Mapping[str, Mapping[str, torch.Tensor]],
    *,
    source: str = "<processor config>",
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    step_kwargs: Mapping[str, Mapping[str, Any]] | None = None,
) -> Pipeline:
    """Build a Pipeline from LeRobot's processor JSON (`config`) and `{state_file: tensors}`.

    `overrides` replace config entries per registry name (`{"device_processor": {"device": "cuda"}}`);
    `step_kwargs` pass extra constructor arguments (e.g. `{"tokenizer_processor": {"tokenizer": tok}}`).
    """
    if not isinstance(config, Mapping) or not isinstance(config.get("steps"), list):
        raise ValueError(f"{source}: not a LeRobot processor config (expected an object with a 'steps' list)")
    steps = []
    relative: RelativeActions | None = None
    for index, entry in enumerate(config["steps"]):
        name = entry.get("registry_name")
        where = f"{source}: step {index}"
        if name is None:
            raise ValueError(
                f"{where} names a Python class {entry.get('class')!r} instead of a registry name; "
                f"only registered steps can be loaded ({', '.join(sorted(STEP_REGISTRY))})"
            )
        cls = STEP_REGISTRY.get(name)
        if cls is None:
            raise ValueError(
                f"{where} has unknown registry_name {name!r}; known steps: {', '.join(sorted(STEP_REGISTRY))}"
            )
        step_config = dict(entry.get("config") or {})
        step_config.update((overrides or {}).get(name, {}))
        state = None
        if entry.get("state_file"):
            if entry["state_file"] not in states:
                raise ValueError(f"{where} ({name}) needs state file {entry['state_file']!r}, which is missing")
            state = states[entry["state_file"]]
        extra = dict((step_kwargs or {}).get(name, {}))
        try:
            step = cls.from_config(step_config, state, **extra)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{where} ({name}): bad config {step_config!r}: {err}") from err
        if isinstance(step, AbsoluteActions) and relative is not None:
            step = step.pair_with(relative)
        elif isinstance(step, RelativeActions):
            relative = step
        steps.append(step)
    return Pipeline(tuple(steps), str(config.get("name", "pipeline")))


def pipeline_to_config(pipeline: Pipeline) -> tuple[dict[str, Any], dict[str, dict[str, torch.Tensor]]]:
    """(LeRobot's processor JSON dict, `{state_file: tensors}`) for `pipeline`."""
    entries = []
    states: dict[str, dict[str, torch.Tensor]] = {}
    for index, step in enumerate(pipeline.steps):
        name = getattr(step, "registry_name", None)
        if name is None or name not in STEP_REGISTRY:
            raise ValueError(
                f"pipeline {pipeline.name!r} step {index} ({type(step).__name__}) has no LeRobot registry name "
                "and cannot be saved in LeRobot's processor format"
            )
        entry: dict[str, Any] = {"registry_name": name, "config": step.get_config()}
        state = step.state_dict()
        if state:
            filename = state_filename(pipeline.name, index, name)
            entry["state_file"] = filename
            states[filename] = {k: v.detach().cpu().contiguous() for k, v in state.items()}
        entries.append(entry)
    return {"name": pipeline.name, "steps": entries}, states
