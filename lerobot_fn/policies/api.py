"""The functional policy API: build policies and run them on raw TensorDict batches (pure).

A `Policy` is a value holding a family's config, its model, and the pre- and post-processor
pipelines. Every function takes raw observations (a TensorDict with nested keys from LeRobot's
dotted names, optionally `task`) and returns raw actions, matching LeRobot's
`postprocessor(policy.<method>(preprocessor(obs)))`. Per-episode inference state is an explicit
value: `state = initial_state(policy)`, then `action, state = select_action(policy, obs, state)`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from types import ModuleType
from typing import Any

import attrs
import torch
from safetensors.torch import _remove_duplicate_names
from tensordict import TensorDict, TensorDictBase

from lerobot_fn.policies import legacy
from lerobot_fn.policies.registry import family as family_module
from lerobot_fn.process.actions import RelativeActions
from lerobot_fn.process.basic import AddBatchDim, DeviceMove, RenameObservations
from lerobot_fn.process.keys import as_batch, nested_key
from lerobot_fn.process.normalize import Normalize, Unnormalize, _NormalizeBase
from lerobot_fn.process.step import Pipeline

PREPROCESSOR = "policy_preprocessor"
POSTPROCESSOR = "policy_postprocessor"


@attrs.frozen(eq=False)
class Policy:
    """config (family Config), model (nn.Module, eval mode after load), preprocessor, postprocessor."""

    config: Any
    model: torch.nn.Module = attrs.field(repr=False)
    preprocessor: Pipeline
    postprocessor: Pipeline
    family: ModuleType = attrs.field(repr=False)
    autocast: torch.dtype | None = None
    """Inference runs under `torch.autocast(<device type>, dtype=autocast)` when set (see `optimize`)."""

    @property
    def type(self) -> str:
        return self.family.CONFIG_TYPE

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device


def _pick_device(device: str | torch.device | None, config: Any) -> torch.device:
    if device is not None:
        return torch.device(device)
    wanted = getattr(config, "device", None) or "cpu"
    if str(wanted).startswith("cuda") and not torch.cuda.is_available():
        return torch.device("cpu")
    if str(wanted) == "mps" and not torch.backends.mps.is_available():
        return torch.device("cpu")
    return torch.device(wanted)


def untrained_model(family: ModuleType, config: Any) -> torch.nn.Module:
    """The family's model with no pretrained backbone loaded, for when a checkpoint provides every
    weight next. A family that still reads its backbone itself (`BACKBONE_WEIGHTS_PASSED_IN` unset:
    SmolVLA's VLM) is told not to."""
    if getattr(family, "BACKBONE_WEIGHTS_PASSED_IN", False):
        return family.build_model(config)
    return family.build_model(config, load_backbone_weights=False)


def load_weights(model: torch.nn.Module, state: Mapping[str, torch.Tensor], *, source: str) -> None:
    """Load a `model.safetensors` state strictly, as `safetensors.torch.load_model` does: a tensor the
    model shares under several names is stored once. Missing / unexpected keys are named."""
    duplicates = _remove_duplicate_names(model.state_dict(), preferred_names=state.keys())
    try:
        missing, unexpected = model.load_state_dict(dict(state), strict=False)
    except RuntimeError as err:
        raise ValueError(f"{source} does not fit the model built from its config.json: {err}") from err
    missing, unexpected = set(missing), set(unexpected)
    for name in (name for group in duplicates.values() for name in group):
        if name in missing:
            missing.remove(name)  # stored once, under the name kept
        else:
            unexpected.add(name)  # the file holds a shared tensor twice
    missing, unexpected = sorted(missing), sorted(unexpected)
    if missing or unexpected:
        raise ValueError(
            f"{source} does not match the model built from its config.json: "
            f"missing keys {missing[:8]}{' ...' if len(missing) > 8 else ''}, "
            f"unexpected keys {unexpected[:8]}{' ...' if len(unexpected) > 8 else ''}"
        )


def _new_model(family: ModuleType, config: Any, backbone_weights: Mapping[str, torch.Tensor] | None):
    if not getattr(family, "BACKBONE_WEIGHTS_PASSED_IN", False):
        return family.build_model(config)
    named = getattr(config, "pretrained_backbone_weights", None)
    if named and backbone_weights is None:
        raise ValueError(
            f"the config names pretrained_backbone_weights {named!r} but no backbone weights were passed: "
            "read them with lerobot_fn.data.pretrained.read_backbone_weights(that name) (policies.from_config "
            "does), or set pretrained_backbone_weights=None for a randomly initialised backbone"
        )
    return family.build_model(config, backbone_weights=backbone_weights)


def _on_device(pipeline: Pipeline, device: torch.device, *, move_device_steps: bool) -> Pipeline:
    steps = []
    for step in pipeline.steps:
        if isinstance(step, _NormalizeBase):
            step = step.to(device)
        elif move_device_steps and isinstance(step, DeviceMove):
            step = attrs.evolve(step, device=str(device))
        steps.append(step)
    return attrs.evolve(pipeline, steps=tuple(steps))


def is_legacy(state: Mapping[str, torch.Tensor]) -> bool:
    """Whether a `model.safetensors` state is LeRobot < 0.4's (normalisation statistics inside)."""
    return legacy.is_legacy(state)


def from_files(
    raw_config: Mapping[str, Any],
    model_state: Mapping[str, torch.Tensor],
    pipelines: tuple[Pipeline, Pipeline] | None,
    *,
    device: str | torch.device | None = None,
    source: str = "<checkpoint>",
) -> Policy:
    """A Policy from the contents of a `pretrained_model/` directory (read by `data.pretrained.load`):
    the config.json dict, the model.safetensors state and the (pre, post) processor pipelines, or
    None for a LeRobot < 0.4 checkpoint, whose processors are built from the statistics in its
    weights. `source` (the directory) names the files in error messages."""
    config_path = f"{source}/config.json"
    if "type" not in raw_config:
        raise ValueError(f"{config_path} has no 'type' (expected e.g. \"act\" or \"diffusion\")")
    family = family_module(raw_config["type"], source=config_path)
    try:
        config = family.Config.from_dict(raw_config)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{config_path}: {err}") from err
    target = _pick_device(device, config)
    model = untrained_model(family, config)
    weights = f"{source}/model.safetensors"
    if pipelines is not None:
        load_weights(model, model_state, source=weights)
        pre, post = pipelines
    else:
        pre, post = _load_legacy(model, config, model_state, weights, target)
    model = model.to(target).eval()
    return Policy(
        config=config,
        model=model,
        preprocessor=_on_device(pre, target, move_device_steps=True),
        postprocessor=_on_device(post, target, move_device_steps=False),
        family=family,
    )


def _load_legacy(model: torch.nn.Module, config: Any, state: Mapping[str, torch.Tensor], path: str,
                 device: torch.device):
    features = {**config.input_features, **config.output_features}
    try:
        weights, stats = legacy.split_legacy_state(state, features)
        model.load_state_dict(weights, strict=True)
    except (RuntimeError, ValueError) as err:
        raise ValueError(f"{path} (a LeRobot < 0.4 checkpoint) does not fit its config.json: {err}") from err
    return make_processors(config, stats, device=device)


def make_processors(
    config: Any, stats: Mapping[str, Mapping[str, Any]] | None, *, device: str | torch.device = "cpu"
) -> tuple[Pipeline, Pipeline]:
    """LeRobot's default policy pipelines for a new policy: rename -> batch -> device -> normalize,
    and unnormalize -> cpu. `stats` are a dataset's statistics (`meta/stats.json` form). A family
    with its own pipelines (SmolVLA: task tokeniser) provides `make_processors`."""
    family = family_module(config.to_dict()["type"], source=type(config).__qualname__)
    if hasattr(family, "make_processors"):
        return family.make_processors(config, stats, device=device)
    features = {**config.input_features, **config.output_features}
    norm_map = config.normalization_mapping
    pre = Pipeline(
        (
            RenameObservations({}),
            AddBatchDim(),
            DeviceMove(device=str(device)),
            Normalize.from_stats(features, norm_map, stats or {}),
        ),
        PREPROCESSOR,
    )
    post = Pipeline(
        (Unnormalize.from_stats(config.output_features, norm_map, stats or {}), DeviceMove(device="cpu")),
        POSTPROCESSOR,
    )
    return pre, post


def from_config(
    config: Any,
    *,
    stats: Mapping[str, Mapping[str, Any]] | None = None,
    device: str | torch.device | None = None,
    model: torch.nn.Module | None = None,
    backbone_weights: Mapping[str, torch.Tensor] | None = None,
) -> Policy:
    """A new (untrained) Policy from a family Config and dataset statistics, for training.

    `backbone_weights` is the state dict `config.pretrained_backbone_weights` names, read by the
    shell: `policies.from_config` (`data.pretrained.from_config`) reads it and calls this. Without
    them a config that names pretrained weights is an error here, not a silent random backbone."""
    family = family_module(config.to_dict()["type"], source=type(config).__qualname__)
    target = _pick_device(device, config)
    if model is None:
        model = _new_model(family, config, backbone_weights)
    model = model.to(target)
    pre, post = make_processors(config, stats, device=target)
    return Policy(config, model, _on_device(pre, target, move_device_steps=False),
                  _on_device(post, target, move_device_steps=False), family)


def _prepare(policy: Policy, obs: TensorDictBase | Mapping[str, Any]) -> tuple[Any, torch.Tensor | None]:
    """(the batch the family takes, the state relative actions are taken against or None), in one
    pass over the preprocessor: the batch stays one nested TensorDict, and the state is recorded as
    `RelativeActions` sees it, for the postprocessor's inverse (nothing runs twice)."""
    td = as_batch(obs)
    steps = policy.preprocessor.steps
    images_at = _after_device_move(steps)
    reference = None
    for i, step in enumerate(steps):
        if i == images_at:
            td = _camera_images(policy.config, td)
        if isinstance(step, RelativeActions):
            reference = td.get(("observation", "state"), None)
        td = step(td)
    if images_at == len(steps):
        td = _camera_images(policy.config, td)
    return td, reference


def preprocess(policy: Policy, obs: TensorDictBase | Mapping[str, Any]) -> Any:
    """Raw observations -> the normalised, batched batch the family functions take (a nested
    TensorDict for ACT and Diffusion).

    Camera images may be uint8 (0-255, as `data.open(..., return_uint8=True)` and cameras give them)
    or float in [0, 1]: uint8 ones become float32 on the policy's device, just before normalisation.
    Anything else (a float image in 0-255, HWC layout, another dtype) is refused naming the camera."""
    return _prepare(policy, obs)[0]


def _after_device_move(steps: tuple) -> int:
    """Where camera images are converted: right after the move to the device, and in any case
    before normalisation."""
    for i, step in enumerate(steps):
        if isinstance(step, DeviceMove):
            return i + 1
        if isinstance(step, _NormalizeBase):
            return i
    return len(steps)


def _camera_images(config: Any, td: TensorDictBase) -> TensorDictBase:
    """Check the policy's camera inputs and turn uint8 ones into float32 in [0, 1] (same device)."""
    cameras = getattr(config, "image_features", {})
    if not cameras:
        return td
    td = td.copy()  # never write into the caller's TensorDict
    for name, feature in cameras.items():
        value = td.get(nested_key(name), None)
        if value is None:
            continue
        chw = tuple(feature.shape)
        if value.dtype == torch.uint8:
            found = tuple(value.shape[-3:])
            if found != chw:
                hwc = " (it looks HWC: permute it to CHW)" if found == (chw[1], chw[2], chw[0]) else ""
                raise ValueError(f"camera {name!r}: uint8 image of shape {tuple(value.shape)}, expected "
                                 f"(..., {chw[0]}, {chw[1]}, {chw[2]}){hwc}")
            td.set(nested_key(name), value.to(torch.float32).div_(255))
        elif value.is_floating_point():
            low, high = (float(v) for v in value.aminmax()) if value.numel() else (0.0, 0.0)
            if low < -1e-3 or high > 1 + 1e-3:
                raise ValueError(
                    f"camera {name!r}: float images must be in [0, 1], this one spans [{low:.3g}, {high:.3g}]"
                    + (" (0-255 values: divide by 255, or pass the uint8 image)" if high > 2 else
                       " (already normalised? pass raw images: the policy normalises them)")
                )
        else:
            raise TypeError(f"camera {name!r}: images must be uint8 (0-255) or float in [0, 1], got {value.dtype}")
    return td


def postprocess(policy: Policy, action: torch.Tensor, relative_to: torch.Tensor | None = None) -> torch.Tensor:
    """Normalised actions -> raw actions. `relative_to`: the state relative actions are taken
    against (as the preprocessor's `RelativeActions` saw it); the postprocessor's inverse step
    (`AbsoluteActions`) adds it back."""
    td = TensorDict({"action": action}, batch_size=action.shape[:1])
    if relative_to is not None:
        td.set(("observation", "state"), relative_to.to(action.device))
    return policy.postprocessor(td)["action"]


def _eval(policy: Policy) -> None:
    if policy.model.training:
        policy.model.eval()


def _forward_owner(module: torch.nn.Module) -> bool:
    return type(module).forward is not torch.nn.Module.forward


def _compile_targets(module: torch.nn.Module) -> list[torch.nn.Module]:
    """The outermost modules with their own `forward` (a container without one is searched inside)."""
    if _forward_owner(module):
        return [module]
    return [m for child in module.children() for m in _compile_targets(child)]


def optimize(
    policy: Policy,
    *,
    compile: bool = False,
    compile_mode: str | None = None,
    autocast: torch.dtype | str | None = None,
    channels_last: bool = False,
) -> Policy:
    """The same policy set up for fast inference (weights unchanged, results within numerical noise).

    compile: `torch.compile` the model's outermost forward-owning modules (in place, so the model
    object stays the same); autocast: run inference under autocast with this dtype (e.g.
    torch.bfloat16); channels_last: NHWC weights for the convolutions.
    """
    model = policy.model
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    if compile and hasattr(policy.family, "compile_model"):  # a family that knows its hot functions
        policy.family.compile_model(model, mode=compile_mode)
    elif compile:
        for target in _compile_targets(model):
            target.compile(mode=compile_mode, dynamic=False)
    if isinstance(autocast, str):
        autocast = getattr(torch, autocast)
    return attrs.evolve(policy, model=model, autocast=autocast)


def _amp(policy: Policy):
    if policy.autocast is None:
        return contextlib.nullcontext()
    return torch.autocast(policy.device.type, dtype=policy.autocast)


def _f32(policy: Policy, x: torch.Tensor) -> torch.Tensor:
    """Autocast outputs (bf16/fp16) back to float32 before the postprocessor."""
    return x if policy.autocast is None else x.float()


def predict_chunk(policy: Policy, obs: TensorDictBase | Mapping[str, Any], *, noise: Any = None) -> torch.Tensor:
    """Raw observations (Diffusion: with the n_obs_steps history) -> raw action chunk (B, T, action_dim),
    as LeRobot's `postprocessor(policy.predict_action_chunk(preprocessor(obs), noise=noise))`."""
    _eval(policy)
    with torch.inference_mode():
        batch, reference = _prepare(policy, obs)
        with _amp(policy):
            chunk = policy.family.predict_chunk(policy.model, policy.config, batch, noise=noise)
        return postprocess(policy, _f32(policy, chunk), reference)


def initial_state(policy: Policy) -> Any:
    """The inference state at the start of an episode (LeRobot's `policy.reset()`)."""
    return policy.family.initial_state(policy.config)


def select_action(
    policy: Policy, obs: TensorDictBase | Mapping[str, Any], state: Any, *, noise: Any = None
) -> tuple[torch.Tensor, Any]:
    """One control step: raw (B, action_dim) action and the next state (inputs are not mutated)."""
    _eval(policy)
    with torch.inference_mode():
        batch, reference = _prepare(policy, obs)
        with _amp(policy):
            action, state = policy.family.select_action(policy.model, policy.config, batch, state, noise=noise)
        return postprocess(policy, _f32(policy, action), reference), state


def loss(
    policy: Policy, batch: TensorDictBase | Mapping[str, Any], *, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, dict[str, float]]:
    """Training loss and metrics for a raw training batch (observations, `action`, `action_is_pad`).

    Puts the model in train mode (dropout on), as LeRobot's training loop does before `forward`.
    """
    if not policy.model.training:
        policy.model.train()
    return policy.family.loss(policy.model, policy.config, preprocess(policy, batch), generator=generator)
