"""The training state as one explicit value, and `init`, which makes it.

    state = train.init(policy, train.OptimSpec(total_steps=1000), torch.Generator().manual_seed(0))
    state, metrics = train.step(state, batch)

A `TrainState` holds everything a step reads or changes: the policy (parameters), optimizer and
scheduler state, the step count, EMA weights, and the generators for the model's randomness
(dropout, noise, crops) and for image augmentation. The torch objects inside are updated in place,
as torch optimizers are; `step` returns the state to use next. Saving this value (see
`train.checkpoint`) and loading it back continues a run bit for bit.
"""

from __future__ import annotations

from typing import Any, Literal

import attrs
import torch

from lerobot_fn.policies.family import OptimizerPreset, SchedulerPreset
from lerobot_fn.train.compile import compile_for_training
from lerobot_fn.train.optim import make_optimizer, make_scheduler

MixedPrecision = Literal["no", "bf16"]


@attrs.frozen
class OptimSpec:
    """What to optimise with: `optimizer` / `scheduler` None take the family's LeRobot presets
    (`use_scheduler=False` turns any schedule off); `total_steps` sizes the schedule;
    `grad_clip_norm` None takes the preset's (LeRobot: 10), 0 disables clipping."""

    total_steps: int = 100_000
    optimizer: OptimizerPreset | None = None
    scheduler: SchedulerPreset | None = None
    use_scheduler: bool = True
    grad_clip_norm: float | None = None


@attrs.frozen
class StepOptions:
    """How each step runs: gradient clip norm (0: off), micro-batches accumulated per optimizer
    step, bf16 autocast, EMA decay (None: no EMA), image augmentation config, DDP gradient averaging."""

    grad_clip_norm: float = 10.0
    grad_accumulation: int = 1
    mixed_precision: MixedPrecision = "no"
    ema_decay: float | None = None
    image_transforms: Any = None
    distributed: bool = False


@attrs.frozen(eq=False)
class TrainState:
    """policy, optimizer, scheduler (or None), step, generator (model randomness), data_generator
    (augmentation), ema (name -> tensor, or None), options."""

    policy: Any
    optimizer: torch.optim.Optimizer = attrs.field(repr=False)
    scheduler: Any = attrs.field(repr=False)
    step: int
    generator: torch.Generator = attrs.field(repr=False)
    data_generator: torch.Generator = attrs.field(repr=False)
    options: StepOptions
    ema: dict[str, torch.Tensor] | None = attrs.field(default=None, repr=False)

    @property
    def lr(self) -> float:
        """The learning rate of the first parameter group for the next step."""
        return float(self.optimizer.param_groups[0]["lr"])


def init(
    policy: Any,
    optim_spec: OptimSpec | None = None,
    generator: torch.Generator | None = None,
    *,
    grad_accumulation: int = 1,
    mixed_precision: MixedPrecision = "no",
    compile: bool = False,
    compile_mode: str | None = None,
    ema_decay: float | None = None,
    image_transforms: Any = None,
    distributed: bool = False,
) -> TrainState:
    """A fresh training state for `policy` (a `policies.Policy`, trained in place).

    `generator` drives the model's randomness (default: a CPU generator seeded 0; a CPU generator
    keeps runs identical across devices and never syncs a GPU); augmentation draws from a
    generator seeded from it. `compile` compiles the model's static parts in place
    (`train.compile_for_training`; `compile_mode` as torch.compile's `mode`, e.g. "reduce-overhead"
    for CUDA graphs); on CUDA the optimizer is the fused kernel (`fused=True`).
    """
    spec = optim_spec or OptimSpec()
    if grad_accumulation < 1:
        raise ValueError(f"grad_accumulation must be >= 1, got {grad_accumulation}")
    if mixed_precision not in ("no", "bf16"):
        raise ValueError(f'mixed_precision must be "no" or "bf16", got {mixed_precision!r}')
    preset = spec.optimizer or policy.family.optimizer_preset(policy.config)
    optimizer = make_optimizer(policy, preset)
    schedule = spec.scheduler or policy.family.scheduler_preset(policy.config)
    scheduler = make_scheduler(schedule, optimizer, spec.total_steps) if spec.use_scheduler else None
    generator = generator if generator is not None else torch.Generator().manual_seed(0)
    data_generator = torch.Generator().manual_seed(int(torch.randint(0, 2**62, (1,), generator=generator)))
    if compile:
        compile_for_training(policy, compile_mode)
    clip = preset.grad_clip_norm if spec.grad_clip_norm is None else spec.grad_clip_norm
    options = StepOptions(grad_clip_norm=clip, grad_accumulation=grad_accumulation, mixed_precision=mixed_precision,
                          ema_decay=ema_decay, image_transforms=image_transforms, distributed=distributed)
    ema = ema_weights(policy.model) if ema_decay is not None else None
    if distributed:
        broadcast_parameters(policy.model)
    return TrainState(policy, optimizer, scheduler, 0, generator, data_generator, options, ema)


def ema_weights(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A detached copy of the model's floating-point state (the EMA starts at the weights)."""
    return {k: v.detach().clone() for k, v in model.state_dict().items() if v.is_floating_point()}


def broadcast_parameters(model: torch.nn.Module) -> None:
    """Every process starts from rank 0's weights (as DDP does when it wraps a model)."""
    import torch.distributed as dist

    for tensor in model.state_dict().values():
        dist.broadcast(tensor, src=0)
