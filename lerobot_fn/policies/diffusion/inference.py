"""Diffusion Policy inference as pure functions: denoise a chunk, or step an episode with explicit state.

`predict_chunk` is LeRobot's `predict_action_chunk` on a preprocessed batch that already holds the
`n_obs_steps` history; `select_action` is LeRobot's `select_action` after `reset()`, with the
observation history and the action queue carried in an immutable `State` instead of deques.

Noise: `noise` is the initial sample x_T (B, horizon, action_dim), or a mapping
`{"initial": x_T, "steps": [z_0, ..., z_{k-1}]}` with DDPM's per-step draws in order (one for
every denoising step with t > 0). What is not given is drawn, in LeRobot's order, from `generator`
or torch's default RNG.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import torch
from tensordict import TensorDictBase
from torch import Tensor

from lerobot_fn.process.keys import as_batch

from .config import OBS_ENV_STATE, OBS_IMAGES, OBS_STATE, Config
from .model import DiffusionPolicyModel, env_state, require_state, stack_images
from .scheduler import NoiseScheduler, make_scheduler, step


def scheduler_for(config: Config) -> NoiseScheduler:
    """The (cached) noise scheduler LeRobot would build for this config."""
    return make_scheduler(
        config.noise_scheduler_type,
        num_train_timesteps=config.num_train_timesteps,
        beta_schedule=config.beta_schedule,
        beta_start=config.beta_start,
        beta_end=config.beta_end,
        prediction_type=config.prediction_type,
        clip_sample=config.clip_sample,
        clip_sample_range=config.clip_sample_range,
    )


def randn(
    shape: tuple[int, ...], generator: torch.Generator | None, device: torch.device, dtype: torch.dtype
) -> Tensor:
    """torch.randn on `device`, drawn on the generator's device when that differs (CPU generator, GPU model)."""
    if generator is not None and generator.device.type != torch.device(device).type:
        return host_to_device(torch.randn(shape, generator=generator, device=generator.device, dtype=dtype), device)
    return torch.randn(shape, generator=generator, device=device, dtype=dtype)


def host_to_device(tensor: Tensor, device: torch.device | str) -> Tensor:
    """A CPU tensor on `device`; to a GPU through pinned memory without blocking, so drawing noise
    on a CPU generator never makes the host wait for the GPU's queue."""
    device = torch.device(device)
    if device.type != "cuda" or tensor.device.type != "cpu":
        return tensor.to(device)
    return tensor.pin_memory().to(device, non_blocking=True)


def _split_noise(noise: Tensor | Mapping[str, Any] | None) -> tuple[Tensor | None, Sequence[Tensor] | None]:
    if noise is None or isinstance(noise, Tensor):
        return noise, None
    if isinstance(noise, Mapping):
        unknown = set(noise) - {"initial", "steps"}
        if unknown:
            raise ValueError(
                f"diffusion noise: unknown key(s) {sorted(unknown)}; expected 'initial' and/or 'steps'"
            )
        return noise.get("initial"), noise.get("steps")
    raise TypeError(
        f"diffusion noise: expected a Tensor or {{'initial': ..., 'steps': [...]}}, got {type(noise).__name__}"
    )


def _check_noise(name: str, x: Tensor, shape: tuple[int, ...]) -> None:
    if tuple(x.shape) != shape:
        raise ValueError(
            f"diffusion noise: {name} has shape {tuple(x.shape)}, expected {shape} (B, horizon, action_dim)"
        )


def conditional_sample(
    model: DiffusionPolicyModel,
    config: Config,
    global_cond: Tensor,
    *,
    noise: Tensor | Mapping[str, Any] | None = None,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Run the reverse diffusion from x_T to x_0: (B, G) conditioning -> (B, horizon, action_dim)."""
    sched = scheduler_for(config)
    plan = sched.plan(config.inference_steps)
    unet = model.diffusion.unet
    b = global_cond.shape[0]
    shape = (b, config.horizon, config.action_feature.shape[0])
    dtype = next(unet.parameters()).dtype
    device = global_cond.device
    initial, steps = _split_noise(noise)
    n_draws = sched.step_count_with_noise(config.inference_steps)
    if steps is not None:
        steps = list(steps)
        if len(steps) != n_draws:
            raise ValueError(
                f"diffusion noise: 'steps' has {len(steps)} tensors, but {config.noise_scheduler_type} with "
                f"num_inference_steps={config.inference_steps} draws {n_draws}"
            )
        for j, z in enumerate(steps):
            _check_noise(f"steps[{j}]", z, shape)
    if initial is None:
        sample = randn(shape, generator, device, dtype)
    else:
        _check_noise("initial sample", initial, shape)
        sample = initial.to(device=device, dtype=dtype)
    draw = 0
    for st in plan:
        t = torch.full((b,), st.timestep, dtype=torch.long, device=device)
        out = unet(sample, t, global_cond=global_cond)
        z = None
        if st.noise_std is not None:
            # drawn in the sample's dtype (diffusers uses the model output's: equal in float32,
            # but under bf16 autocast that would quantise the noise)
            if steps is not None:
                z = steps[draw].to(device=device, dtype=sample.dtype)
            else:
                z = randn(sample.shape, generator, device, sample.dtype)
            draw += 1
        sample = step(sched, st, out, sample, z)
    return sample


def _generate(
    model: DiffusionPolicyModel,
    config: Config,
    state: Tensor,
    images: Tensor | None,
    env_state: Tensor | None,
    noise: Tensor | Mapping[str, Any] | None,
    generator: torch.Generator | None,
) -> Tensor:
    """History -> the `n_action_steps` actions starting at the current step: (B, n_action_steps, A)."""
    if state.shape[1] != config.n_obs_steps:
        raise ValueError(
            f"diffusion batch: {OBS_STATE!r} holds {state.shape[1]} observation steps, config n_obs_steps is "
            f"{config.n_obs_steps}"
        )
    for what, x in (("images", images), ("environment state", env_state)):
        if x is not None and tuple(x.shape[:2]) != tuple(state.shape[:2]):
            raise ValueError(
                f"diffusion batch: {what} have (batch, steps) {tuple(x.shape[:2])} but {OBS_STATE!r} has "
                f"{tuple(state.shape[:2])}"
            )
    cond = model.diffusion.global_conditioning(state, images, env_state)
    actions = conditional_sample(model, config, cond, noise=noise, generator=generator)
    start = config.n_obs_steps - 1
    return actions[:, start : start + config.n_action_steps]


def predict_chunk(
    model: DiffusionPolicyModel,
    config: Config,
    batch: TensorDictBase,
    *,
    noise: Tensor | Mapping[str, Any] | None = None,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Normalised batch with history (state (B, S, D), images (B, S, C, H, W)) -> (B, n_action_steps, A).

    `batch` is a nested TensorDict (or a `{dotted_name: Tensor}` mapping, nested once here)."""
    batch = as_batch(batch)
    state = require_state(batch, 3, "(B, n_obs_steps, state_dim)")
    images = stack_images(config, batch, history=True, lift_frames=True)  # as LeRobot: one frame per camera
    return _generate(model, config, state, images, env_state(config, batch), noise, generator)


@attrs.frozen
class State:
    """One episode's rollout state: the last n_obs_steps observations and the queued actions.

    `observations` maps a queue key ("observation.state", "observation.images",
    "observation.environment_state") to a tuple of per-step tensors (oldest first); `actions` is
    the tuple of queued (B, action_dim) actions, next first.
    """

    observations: Mapping[str, tuple[Tensor, ...]] = attrs.field(factory=dict)
    actions: tuple[Tensor, ...] = ()


def initial_state(config: Config) -> State:
    """The state after LeRobot's `policy.reset()`: empty history and action queue."""
    return State()


def _push(key: str, history: tuple[Tensor, ...], x: Tensor, n: int) -> tuple[Tensor, ...]:
    """LeRobot's populate_queues: fill an empty history with copies of x, else append and keep n."""
    if history and history[-1].shape != x.shape:
        raise ValueError(
            f"diffusion select_action: {key!r} changed shape within the episode ({tuple(history[-1].shape)} -> "
            f"{tuple(x.shape)}); start a new episode with initial_state()"
        )
    if len(history) < n:
        return history + (x,) * (n - len(history))
    return (history + (x,))[-n:]


def select_action(
    model: DiffusionPolicyModel,
    config: Config,
    batch: TensorDictBase,
    state: State,
    *,
    noise: Tensor | Mapping[str, Any] | None = None,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, State]:
    """One control step: one normalised frame (state (B, D), images (B, C, H, W)) -> (B, A) action.

    Generates a new chunk only when the action queue is empty (`noise` is used only then).
    """
    batch = as_batch(batch)
    current = {OBS_STATE: require_state(batch, 2, "(B, state_dim) for one frame")}
    images = stack_images(config, batch, history=False)
    if images is not None:
        current[OBS_IMAGES] = images  # (B, N, C, H, W)
    env = env_state(config, batch)
    if env is not None:
        current[OBS_ENV_STATE] = env
    n = config.n_obs_steps
    observations = {k: _push(k, state.observations.get(k, ()), x, n) for k, x in current.items()}
    actions = state.actions
    if not actions:
        hist = {k: torch.stack(v, dim=1) for k, v in observations.items()}  # (B, S, ...)
        chunk = _generate(
            model, config, hist[OBS_STATE], hist.get(OBS_IMAGES), hist.get(OBS_ENV_STATE), noise, generator
        )
        actions = tuple(chunk.transpose(0, 1))  # n_action_steps x (B, A)
    return actions[0], State(observations=observations, actions=actions[1:])
