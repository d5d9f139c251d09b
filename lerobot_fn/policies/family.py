"""The policy-family contract: what ACT, Diffusion and every later family provide.

A family is one package under `lerobot_fn/policies/<name>/` plus one line in `policies.registry`.
The API (`policies.load`, `predict_chunk`, `loss`, ...) and training (`train.init`, `train.step`)
only ever go through these names. Optimisation presets are LeRobot's
(`PreTrainedConfig.get_optimizer_preset()` / `get_scheduler_preset()`), as plain values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

import attrs
import torch
from tensordict import TensorDictBase


@attrs.frozen
class OptimizerPreset:
    """An optimizer as LeRobot's `OptimizerConfig` describes it: `type` ("adam" or "adamw"), its
    hyper-parameters, and the gradient-norm clip LeRobot applies before every step."""

    type: str
    lr: float
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    weight_decay: float = 0.0
    grad_clip_norm: float = 10.0


@attrs.frozen
class SchedulerPreset:
    """A learning-rate schedule as diffusers' `get_scheduler(name, num_warmup_steps, ...)` builds it
    (LeRobot's `DiffuserSchedulerConfig`): `name` is "cosine", "linear", "constant" or
    "constant_with_warmup"; or LeRobot's `CosineDecayWithWarmupSchedulerConfig` (SmolVLA, pi0):
    "cosine_decay_with_warmup" with `num_decay_steps`, `peak_lr` and `decay_lr`."""

    name: str
    num_warmup_steps: int = 0
    num_decay_steps: int | None = None
    peak_lr: float | None = None
    decay_lr: float | None = None


@runtime_checkable
class PolicyFamily(Protocol):
    """What a family module exports (checked by `check_family`).

    Batches are nested TensorDicts (`("observation", "state")`, `"action"`), the model a module
    declaring the keys it reads (`in_keys`) and writes (`out_keys`).
    `BACKBONE_WEIGHTS_PASSED_IN = True` marks a family whose `build_model` reads no file: pretrained
    backbone weights come in as a state dict, read by the shell (`data.pretrained`)."""

    CONFIG_TYPE: str
    Config: type

    def build_model(self, config: Any, *, backbone_weights: Mapping[str, torch.Tensor] | None = None
                    ) -> torch.nn.Module:
        """The network for `config` (pure); `backbone_weights` (a state dict) loaded into its backbone,
        None for a random one (a checkpoint's weights follow)."""

    def loss(self, model: torch.nn.Module, config: Any, batch: TensorDictBase, *,
             generator: torch.Generator | None = None) -> tuple[torch.Tensor, dict[str, Any]]:
        """(scalar loss, metrics as 0-d tensors) for a preprocessed training batch."""

    def predict_chunk(self, model: torch.nn.Module, config: Any, batch: TensorDictBase, *,
                      noise: Any = None) -> torch.Tensor:
        """Normalised action chunk (B, T, action_dim) for a preprocessed observation batch."""

    def initial_state(self, config: Any) -> Any:
        """Per-episode inference state (action queues) at the start of an episode."""

    def select_action(self, model: torch.nn.Module, config: Any, batch: TensorDictBase,
                      state: Any, *, noise: Any = None) -> tuple[torch.Tensor, Any]:
        """One control step: (normalised action (B, action_dim), next state)."""

    def optimizer_preset(self, config: Any) -> OptimizerPreset:
        """LeRobot's optimizer preset for this family."""

    def scheduler_preset(self, config: Any) -> SchedulerPreset | None:
        """LeRobot's learning-rate schedule for this family (None: constant learning rate)."""

    def param_groups(self, model: torch.nn.Module, config: Any) -> list[dict[str, Any]]:
        """The optimizer's parameter groups (LeRobot's `get_optim_params()`)."""


CONTRACT = ("CONFIG_TYPE", "Config", "build_model", "loss", "predict_chunk", "initial_state",
            "select_action", "optimizer_preset", "scheduler_preset", "param_groups")


def check_family(module: Any) -> None:
    """Raise naming every contract entry a family module lacks."""
    missing = [name for name in CONTRACT if not hasattr(module, name)]
    if missing:
        raise TypeError(f"policy family {getattr(module, '__name__', module)!r} lacks {', '.join(missing)}")
