"""SmolVLA inference as pure functions: sample an action chunk by Euler integration of the learned flow,
or step an episode with an explicit action-queue state.

The sampler is openpi's (`VLAFlowMatching.forward`): x_1 = noise, t from 1 to 0 in `num_steps`
steps of dt = -1/num_steps, x <- x + dt * v(x, t); the prefix (images, task, state) goes through the
VLM once per chunk and its keys/values serve every step. `noise` is x_1, (B, chunk_size, max_action_dim); when not given it is
drawn from `generator` (or torch's default RNG, as LeRobot does).
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs
import torch
from torch import Tensor

from .config import Config
from .model import SmolVLAPolicy, model_inputs


def _rtc_check(config: Config) -> None:
    if config.rtc_config and config.rtc_config.get("enabled", True):
        raise NotImplementedError("smolvla: real-time chunking (rtc_config) is not implemented; set rtc_config to null")


def to_device(x: Tensor, device: torch.device) -> Tensor:
    """A tensor drawn on a CPU generator, on `device`: to a GPU through pinned memory, without blocking
    the host (a pageable copy would wait for the GPU's queue every training step)."""
    if torch.device(device).type == "cuda" and x.device.type == "cpu":
        return x.pin_memory().to(device, non_blocking=True)
    return x.to(device)


def draw_noise(shape: tuple[int, ...], device: torch.device, generator: torch.Generator | None) -> Tensor:
    """Standard-normal float32 noise (LeRobot's `sample_noise`), from `generator` when given."""
    gen_device = generator.device if generator is not None else device
    x = torch.normal(0.0, 1.0, size=shape, dtype=torch.float32, device=gen_device, generator=generator)
    return to_device(x, device)


def sample_actions(model: SmolVLAPolicy, config: Config, batch: Mapping[str, Tensor], *,
                   noise: Tensor | None = None, generator: torch.Generator | None = None) -> Tensor:
    """(B, chunk_size, max_action_dim) normalised, padded actions for a preprocessed batch."""
    inputs = model_inputs(config, batch)
    state = inputs[-1]
    shape = (state.shape[0], config.chunk_size, config.max_action_dim)
    if noise is None:
        noise = draw_noise(shape, state.device, generator)
    elif tuple(noise.shape) != shape:
        raise ValueError(f"smolvla noise: shape {tuple(noise.shape)}, expected {shape} (B, chunk_size, max_action_dim)")
    return model.model(*inputs, noise.to(device=state.device, dtype=torch.float32))


def predict_chunk(model: SmolVLAPolicy, config: Config, batch: Mapping[str, Tensor], *,
                  noise: Tensor | None = None, generator: torch.Generator | None = None) -> Tensor:
    """(B, chunk_size, action_dim) normalised actions (LeRobot's `predict_action_chunk`)."""
    _rtc_check(config)
    actions = sample_actions(model, config, batch, noise=noise, generator=generator)
    return actions[:, :, : config.action_feature.shape[0]]


@attrs.frozen
class State:
    """One episode's rollout state: the queued (B, action_dim) actions, next first."""

    actions: tuple[Tensor, ...] = ()


def initial_state(config: Config) -> State:
    """The state after LeRobot's `policy.reset()`: an empty action queue."""
    return State()


def select_action(model: SmolVLAPolicy, config: Config, batch: Mapping[str, Tensor], state: State, *,
                  noise: Tensor | None = None, generator: torch.Generator | None = None) -> tuple[Tensor, State]:
    """One control step: (B, action_dim) normalised action. A new chunk is sampled only when the queue
    is empty (`noise` / `generator` are used only then); its first `n_action_steps` actions are queued."""
    actions = state.actions
    if not actions:
        chunk = predict_chunk(model, config, batch, noise=noise, generator=generator)
        actions = tuple(chunk[:, : config.n_action_steps].transpose(0, 1))
    return actions[0], State(actions=actions[1:])
