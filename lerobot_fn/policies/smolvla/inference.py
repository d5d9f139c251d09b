"""SmolVLA inference as pure functions: sample an action chunk by Euler integration of the learned flow,
or step an episode with an explicit action-queue state.

The sampler is openpi's (`VLAFlowMatching.forward`): x_1 = noise, t from 1 to 0 in `num_steps`
steps of dt = -1/num_steps, x <- x + dt * v(x, t); the prefix (images, task, state) goes through the
VLM once per chunk and its keys/values serve every step. `noise` is x_1, (B, chunk_size, max_action_dim); when not given it is
drawn from `generator` (or torch's default RNG, as LeRobot does).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from tensordict import TensorDictBase
from torch import Tensor

from lerobot_fn.policies.vla.batch import refuse_rtc
from lerobot_fn.policies.vla.flow_matching import State, check_noise, initial_state, queue_step

from .config import Config
from .model import SmolVLAPolicy, model_inputs

__all__ = ["State", "initial_state", "predict_chunk", "sample_actions", "select_action"]


def sample_actions(model: SmolVLAPolicy, config: Config, batch: TensorDictBase | Mapping[str, Tensor], *,
                   noise: Tensor | None = None, generator: torch.Generator | None = None) -> Tensor:
    """(B, chunk_size, max_action_dim) normalised, padded actions for a preprocessed batch."""
    inputs = model_inputs(config, batch)
    state = inputs[-1]
    shape = (state.shape[0], config.chunk_size, config.max_action_dim)
    return model.model(*inputs, check_noise(noise, shape, state.device, generator, "smolvla"))


def predict_chunk(model: SmolVLAPolicy, config: Config, batch: TensorDictBase | Mapping[str, Tensor], *,
                  noise: Tensor | None = None, generator: torch.Generator | None = None) -> Tensor:
    """(B, chunk_size, action_dim) normalised actions (LeRobot's `predict_action_chunk`)."""
    refuse_rtc(config)
    actions = sample_actions(model, config, batch, noise=noise, generator=generator)
    return actions[:, :, : config.action_feature.shape[0]]


def select_action(model: SmolVLAPolicy, config: Config, batch: TensorDictBase | Mapping[str, Tensor], state: State, *,
                  noise: Tensor | None = None, generator: torch.Generator | None = None) -> tuple[Tensor, State]:
    """One control step: (B, action_dim) normalised action. A new chunk is sampled only when the queue
    is empty (`noise` / `generator` are used only then); its first `n_action_steps` actions are queued."""
    return queue_step(state, config.n_action_steps,
                      lambda: predict_chunk(model, config, batch, noise=noise, generator=generator))
