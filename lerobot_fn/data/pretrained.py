"""Reading and writing LeRobot's `pretrained_model/` directory: the file and Hub shell of the policy API.

`load(path_or_repo_id)` reads the files and hands their contents to the pure core
(`policies.api.from_files`: family, model, weights, processors); `save(policy, path)` writes a
policy value out. `policies.load` / `policies.save` are these functions (re-exported by name).

Layout, as LeRobot 0.6.1 writes it: `config.json` (the policy config, "type" first, indent 4),
`model.safetensors` (the policy state_dict, shared tensors written once), `policy_preprocessor.json`
and `policy_postprocessor.json` with their step-state `*.safetensors` files. Hub ids resolve
through the real `huggingface_hub.snapshot_download`.

Every file is written crash-safely (`data.atomic`: temporary name, fsync, rename), weights and
processor state before their JSON and `config.json` last, so a kill mid-save leaves the old
checkpoint or the new one, and a directory with a `config.json` is complete.
"""

from __future__ import annotations

import json
import os
import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file, save_model

from lerobot_fn.data.atomic import atomic_path
from lerobot_fn.policies import api
from lerobot_fn.process.serialize import pipeline_from_config, pipeline_to_config
from lerobot_fn.process.step import Pipeline

CONFIG_NAME = "config.json"
MODEL_NAME = "model.safetensors"
PREPROCESSOR_NAME = "policy_preprocessor.json"
POSTPROCESSOR_NAME = "policy_postprocessor.json"


def resolve_checkpoint(path_or_repo_id: str | os.PathLike, *, revision: str | None = None) -> Path:
    """A local `pretrained_model/` directory for a path (a training checkpoint directory holding
    `pretrained_model/` works too) or a Hub repo id (downloaded or taken from the HF cache)."""
    path = Path(path_or_repo_id).expanduser()
    if path.exists():
        if not path.is_dir():
            raise NotADirectoryError(f"policy checkpoint {path} is a file; expected a pretrained_model/ directory")
        if not (path / CONFIG_NAME).is_file() and (path / "pretrained_model" / CONFIG_NAME).is_file():
            path = path / "pretrained_model"
        if not (path / CONFIG_NAME).is_file():
            raise FileNotFoundError(f"policy checkpoint {path} has no {CONFIG_NAME}")
        return path
    repo_id = str(path_or_repo_id)
    if repo_id.count("/") != 1 or repo_id.startswith((".", "/", "~")):
        raise FileNotFoundError(f"policy checkpoint {repo_id!r} is neither an existing directory nor a Hub repo id")
    from huggingface_hub import snapshot_download

    try:
        local = snapshot_download(repo_id=repo_id, revision=revision, repo_type="model")
    except Exception as err:  # the hub client raises many types; name the repo in every case
        raise FileNotFoundError(
            f"could not fetch policy {repo_id!r} (revision {revision or 'main'}) from the Hugging Face Hub "
            f"or its local cache: {err}"
        ) from err
    return resolve_checkpoint(local)


def read_json(path: Path) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: invalid JSON at line {err.lineno} column {err.colno}: {err.msg}") from err


def load_pipeline(
    directory: str | os.PathLike,
    config_filename: str,
    *,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    step_kwargs: Mapping[str, Mapping[str, Any]] | None = None,
) -> Pipeline:
    """A LeRobot processor JSON (+ its state files) in `directory` as a Pipeline."""
    directory = Path(directory)
    path = directory / config_filename
    if not path.is_file():
        raise FileNotFoundError(
            f"processor config {path} is missing (a LeRobot < 0.4 checkpoint has none but keeps its "
            "normalisation statistics in model.safetensors, and loads; this one has neither)"
        )
    config = read_json(path)
    states = {}
    for index, entry in enumerate(config.get("steps") or []):
        state_file = entry.get("state_file") if isinstance(entry, dict) else None
        if state_file:
            state_path = directory / state_file
            if not state_path.is_file():
                raise FileNotFoundError(f"{path}: step {index} ({entry.get('registry_name')}) state file {state_path} is missing")
            states[state_file] = read_safetensors(state_path)
    return pipeline_from_config(config, states, source=str(path), overrides=overrides, step_kwargs=step_kwargs)


def save_pipeline(pipeline: Pipeline, directory: str | os.PathLike, config_filename: str | None = None) -> Path:
    """Write `pipeline` as LeRobot does: `<name>.json` (indent 2) plus one safetensors per stateful step."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    config, states = pipeline_to_config(pipeline)
    for filename, tensors in states.items():
        with atomic_path(directory / filename) as tmp:
            save_file(tensors, str(tmp))
    path = directory / (config_filename or f"{pipeline.name}.json")
    _write_json(path, config, indent=2)
    return path


def unreadable(path: str | os.PathLike, err: Exception) -> ValueError:
    return ValueError(f"{path} is not a readable safetensors file (truncated or corrupt? {err}); "
                      "copy or download the checkpoint again")


def read_safetensors(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """The tensors of a safetensors file; a truncated or corrupt file is a ValueError naming it."""
    try:
        return load_file(str(path))
    except SafetensorError as err:
        raise unreadable(path, err) from err


def read_model_state(directory: Path) -> dict[str, torch.Tensor]:
    path = Path(directory) / MODEL_NAME
    if not path.is_file():
        raise FileNotFoundError(f"policy checkpoint {directory} has no {MODEL_NAME}")
    return read_safetensors(path)


def write_config(config_dict: Mapping[str, Any], directory: Path) -> Path:
    return _write_json(Path(directory) / CONFIG_NAME, config_dict, indent=4)


def write_model(model: torch.nn.Module, directory: Path) -> Path:
    """model.safetensors as LeRobot writes it (`safetensors.torch.save_model`: shared tensors once)."""
    path = Path(directory) / MODEL_NAME
    with atomic_path(path) as tmp:
        save_model(model, str(tmp))
    return path


def _write_json(path: Path, data: Any, *, indent: int) -> Path:
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=indent)
    return path


def load(
    path_or_repo_id: str | os.PathLike,
    *,
    device: str | torch.device | None = None,
    revision: str | None = None,
    processor_overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> api.Policy:
    """A LeRobot (or lerobot-fn) `pretrained_model/` directory or Hub repo id -> Policy.

    `device` defaults to the config's device when available, else CPU; the preprocessor's
    device step and the normalisation statistics follow it. `processor_overrides` replace step
    configs by registry name, e.g. `{"normalizer_processor": {...}}`. A LeRobot < 0.4 checkpoint
    (no processor files, statistics inside model.safetensors) loads too."""
    directory = resolve_checkpoint(path_or_repo_id, revision=revision)
    config_path = directory / CONFIG_NAME
    raw = read_json(config_path)
    state = read_model_state(directory)
    pipelines = None
    if (directory / PREPROCESSOR_NAME).is_file() or not api.is_legacy(state):
        pipelines = tuple(load_pipeline(directory, name, overrides=processor_overrides)
                          for name in (PREPROCESSOR_NAME, POSTPROCESSOR_NAME))
    return api.from_files(raw, state, pipelines, device=device, source=str(directory))


def save(policy: api.Policy, path: str | os.PathLike) -> Path:
    """Write `policy` in LeRobot's `pretrained_model/` layout (LeRobot 0.6.1 loads it): weights and
    processors first, `config.json` (what makes the directory loadable) last."""
    directory = Path(path)
    directory.mkdir(parents=True, exist_ok=True)
    write_model(policy.model, directory)
    save_pipeline(attrs.evolve(policy.preprocessor, name=api.PREPROCESSOR), directory, PREPROCESSOR_NAME)
    save_pipeline(attrs.evolve(policy.postprocessor, name=api.POSTPROCESSOR), directory, POSTPROCESSOR_NAME)
    write_config(policy.config.to_dict(), directory)
    return directory


def from_config(
    config: Any,
    *,
    stats: Mapping[str, Mapping[str, Any]] | None = None,
    device: str | torch.device | None = None,
    model: torch.nn.Module | None = None,
) -> api.Policy:
    """A new (untrained) Policy for training (`policies.from_config`): reads the backbone weights
    `config.pretrained_backbone_weights` names (`read_backbone_weights`) and hands them to the pure
    `policies.api.from_config` with the config and the dataset statistics."""
    weights = None
    named = getattr(config, "pretrained_backbone_weights", None)
    if model is None and named:
        weights = read_backbone_weights(named)
    return api.from_config(config, stats=stats, device=device, model=model, backbone_weights=weights)


def torchvision_cache_file(weights: str) -> Path:
    """Where torchvision keeps the file of weights enum `weights` (it may not exist)."""
    import torchvision

    try:
        enum_value = torchvision.models.get_weight(weights)
    except (ValueError, KeyError, AttributeError) as err:
        raise FileNotFoundError(
            f"pretrained_backbone_weights {weights!r} is neither an existing file nor a torchvision "
            "weights name like 'ResNet18_Weights.IMAGENET1K_V1'"
        ) from err
    return Path(torch.hub.get_dir()) / "checkpoints" / enum_value.url.rsplit("/", 1)[-1]


def read_backbone_weights(weights: str | os.PathLike) -> dict[str, torch.Tensor]:
    """The backbone state dict `pretrained_backbone_weights` names: a local `.pth`/`.pt` state dict or
    `.safetensors` file, or a torchvision weights name whose file is already in the torchvision cache
    (`torch.hub.get_dir()/checkpoints`). Nothing is downloaded; a missing file names where it looked."""
    path = Path(weights).expanduser()
    if not path.is_file():
        path = torchvision_cache_file(str(weights))
        if not path.is_file():
            raise FileNotFoundError(
                f"backbone weights {str(weights)!r} are not in the torchvision cache (looked for {path}) and "
                "downloads are disabled: copy the file there, point pretrained_backbone_weights at a local "
                "file, or set it to null for random initialisation"
            )
    if path.suffix == ".safetensors":
        return read_safetensors(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, OSError, pickle.UnpicklingError) as err:  # truncated, or not a torch file
        raise ValueError(f"backbone weights file {path} cannot be read ({err}); copy it again") from err
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise ValueError(f"backbone weights file {path} does not hold a state dict")  # noqa: TRY004
    return state
