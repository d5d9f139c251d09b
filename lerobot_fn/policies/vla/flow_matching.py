"""Flow-matching pieces the VLA families share (openpi's conventions, as LeRobot 0.6.1 has them):

- x_t = t * noise + (1 - t) * actions, the target velocity u_t = noise - actions;
- t ~ Beta(alpha, beta) * scale + offset, drawn on the CPU as `torch.distributions.Beta` draws it
  (so torch's default RNG gives LeRobot's stream), or from an explicit `torch.Generator`;
- sampling integrates x from t=1 (noise) to t=0 with Euler steps of dt = -1/num_steps;
- `select_action` queues the first `n_action_steps` actions of a chunk in an explicit `State`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import attrs
import torch
from torch import Tensor


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


def sample_time(batch_size: int, device: torch.device, generator: torch.Generator | None = None, *,
                alpha: float = 1.5, beta: float = 1.0, scale: float = 0.999, offset: float = 0.001,
                label: str = "flow matching") -> Tensor:
    """(B,) float32 times Beta(alpha, beta) * scale + offset, drawn on the CPU (`torch.distributions.Beta`'s
    draw, so the default-RNG stream equals LeRobot's)."""
    if generator is not None and generator.device.type != "cpu":
        raise ValueError(f"{label}: the time sample is drawn on the CPU; pass a CPU torch.Generator")
    concentration = torch.tensor([alpha, beta], dtype=torch.float32).expand(batch_size, 2)
    draw = torch._sample_dirichlet(concentration, generator=generator)[:, 0]
    return to_device((draw * scale + offset).to(torch.float32), device)


def sinusoidal_time_embedding(time: Tensor, dimension: int, min_period: float, max_period: float) -> Tensor:
    """(B,) times in [0, 1] -> (B, dimension) [sin, cos] features, periods from min to max (float64 off MPS)."""
    if dimension % 2:
        raise ValueError(f"time embedding: dimension ({dimension}) must be even")
    dtype = torch.float32 if time.device.type == "mps" else torch.float64
    fraction = torch.linspace(0.0, 1.0, dimension // 2, dtype=dtype, device=time.device)
    period = min_period * (max_period / min_period) ** fraction
    sin_input = (1.0 / period * 2 * math.pi)[None, :] * time[:, None]
    return torch.cat([torch.sin(sin_input), torch.cos(sin_input)], dim=1)


def euler_sample(velocity: Callable[[Tensor, Tensor], Tensor], noise: Tensor, num_steps: int) -> Tensor:
    """Integrate dx/dt = velocity(x, t) from x_1 = noise at t=1 to t=0 in `num_steps` Euler steps."""
    b = noise.shape[0]
    x_t = noise.to(torch.float32)
    dt = -1.0 / num_steps
    for step in range(num_steps):
        time = torch.tensor(1.0 + step * dt, dtype=torch.float32, device=noise.device).expand(b)
        x_t = x_t + dt * velocity(x_t, time)
    return x_t


def check_noise(noise: Tensor | None, shape: tuple[int, ...], device: torch.device,
                generator: torch.Generator | None, label: str) -> Tensor:
    """`noise` (B, chunk_size, max_action_dim) checked and on `device`, or drawn when None."""
    if noise is None:
        return draw_noise(shape, device, generator)
    if tuple(noise.shape) != shape:
        raise ValueError(f"{label} noise: shape {tuple(noise.shape)}, expected {shape} (B, chunk_size, max_action_dim)")
    return noise.to(device=device, dtype=torch.float32)


@attrs.frozen
class State:
    """One episode's rollout state: the queued (B, action_dim) actions, next first."""

    actions: tuple[Tensor, ...] = ()


def initial_state(config: object) -> State:
    """The state after LeRobot's `policy.reset()`: an empty action queue."""
    return State()


def queue_step(state: State, n_action_steps: int, chunk: Callable[[], Tensor]) -> tuple[Tensor, State]:
    """Pop the next queued action; when the queue is empty, `chunk()` (B, T, A) refills it with its
    first `n_action_steps` actions."""
    actions = state.actions
    if not actions:
        actions = tuple(chunk()[:, :n_action_steps].transpose(0, 1))
    return actions[0], State(actions=actions[1:])
